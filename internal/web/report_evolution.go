package web

import (
	"fmt"
	"html/template"
	"net/http"
	"regexp"
	"strings"
	"time"
)

type evolutionPeriod struct {
	Label string
	Cells []reportCell
}

type evolutionPage struct {
	frame
	Report        reportInfo
	Name, Label   string
	Metric        string
	MetricName    string
	Metrics       []metaColumn
	Flat          bool
	Chart         chart
	Cols          []metaColumn
	Periods       []evolutionPeriod
	Back          template.URL
	Found         bool
	DefaultMetric string
	ReportsLink   template.URL
}

const maxLabelLen = 2000

// reportEvolution serves /site/{idSite}/report/{method}/evolution?label=…&metric=…: one row
// of a report (or a record report's metric) over the periods of the state's chart, as a
// line chart of the chosen metric and a table of every metric, from one API call asking for
// the row by its label over those periods.
func (w *Web) reportEvolution(rw http.ResponseWriter, r *http.Request) error {
	p, site, s, err := w.sitePage(r)
	if err != nil {
		return err
	}
	ri, err := w.findReport(r, p, site)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	label, metric, flat := q.Get("label"), strings.TrimSpace(q.Get("metric")), q.Get("flat") == "1"
	if metric == "" {
		metric = ri.main()
	}
	if !ri.has(metric) {
		return pageErrorT(http.StatusBadRequest, "rep.err.metric")
	}
	if ri.Record() {
		label, flat = "", false
	} else if label == "" {
		return pageErrorT(http.StatusBadRequest, "rep.err.row")
	}
	if len(label) > maxLabelLen {
		return pageErrorT(http.StatusBadRequest, "rep.err.label_long")
	}
	params := s.evolution(ri.Method())
	if !ri.Record() {
		if flat {
			params.Set("flat", "1")
		}
		if strings.Contains(label, ",") {
			// The label parameter takes a list separated by commas: a label holding one is
			// asked by its exact text as a pattern, and matched exactly below.
			params.Set("filter_pattern", "^"+regexp.QuoteMeta(label)+"$")
			params.Set("filter_limit", "-1")
		} else {
			params.Set("label", label)
		}
	}
	got, err := w.call(r, p, params)
	if err != nil {
		return err
	}
	l := w.msgs.locale(r)
	name := l.reportName(ri)
	page := evolutionPage{Report: ri, Name: name, Label: label, Metric: metric, Flat: flat, DefaultMetric: ri.main(),
		Back: s.SiteLink("/report/"+ri.Method(), "flat", flatValue(flat)), ReportsLink: s.SiteLink("/reports")}
	for _, c := range ri.Columns {
		named := metaColumn{Key: c.Key, Name: l.columnName(ri, c)}
		page.Metrics = append(page.Metrics, named)
		if c.Key == metric {
			page.MetricName = named.Name
		}
	}
	keys, answers := periods(got)
	recs := make([]map[string]any, len(keys))
	for i := range keys {
		if ri.Record() {
			recs[i] = object(answers[i])
			page.Found = page.Found || len(recs[i]) > 0
			continue
		}
		recs[i] = map[string]any{}
		for _, row := range rows(answers[i]) {
			if fmt.Sprint(row["label"]) == label {
				recs[i] = row
				page.Found = true
				break
			}
		}
	}
	for _, c := range page.Metrics {
		for _, rec := range recs {
			if _, ok := rec[c.Key]; ok {
				page.Cols = append(page.Cols, c)
				break
			}
		}
	}
	labels := make([]string, len(keys))
	values := make([]float64, len(keys))
	for i, k := range keys {
		labels[i] = periodText(l, k)
		values[i] = num(recs[i], metric)
		ep := evolutionPeriod{Label: labels[i]}
		for _, c := range page.Cols {
			ep.Cells = append(ep.Cells, reportCell{Col: c.Key, V: recs[i][c.Key]})
		}
		page.Periods = append(page.Periods, ep)
	}
	title := page.MetricName
	if label != "" {
		title = label + ": " + page.MetricName
	}
	page.Chart = lineChart(title, labels, []string{page.MetricName}, [][]float64{values}, axisFormat(l, metric))
	if page.frame, err = w.newFrame(r, p, name, "report", site, s); err != nil {
		return err
	}
	return w.renderPage(rw, http.StatusOK, "evolution.html", page)
}

// axisFormat formats a chart's axis for a metric: rates (the API's "50%") as percentages,
// durations as times, the rest as numbers.
func axisFormat(l *locale, metric string) func(float64) string {
	switch {
	case strings.HasSuffix(metric, "_rate"):
		return l.pct
	case durationColumns[metric]:
		return func(v float64) string { return l.Duration(v) }
	}
	return func(v float64) string { return l.Num(v) }
}

// periodText is a period label of the API ("2026-05-01", "2026-05", "2026",
// "2026-05-04,2026-05-10") in the user's language.
func periodText(l *locale, key string) string {
	if a, b, ok := strings.Cut(key, ","); ok {
		return periodText(l, a) + " – " + periodText(l, b)
	}
	if t, err := time.Parse(time.DateOnly, key); err == nil {
		return l.Date(t)
	}
	if t, err := time.Parse("2006-01", key); err == nil {
		return l.Or(monthKeys[t.Month()-1], t.Month().String()[:3]) + " " + t.Format("2006")
	}
	return key
}
