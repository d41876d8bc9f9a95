package web

import (
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"hearth/internal/auth"
	"hearth/internal/store"
)

// block is one of the overview's top-ten tables: a report, the metric it ranks by, and the full
// report it drills into with the same state.
type block struct {
	Key    string // message key of its title
	Method string
	Metric string
	Flat   bool
}

// overviewBlocks are the overview's reports, in the order shown.
var overviewBlocks = []block{
	{"report.Actions.getPageUrls", "Actions.getPageUrls", "nb_hits", true},
	{"report.Actions.getEntryPageUrls", "Actions.getEntryPageUrls", "entry_nb_visits", true},
	{"report.Actions.getExitPageUrls", "Actions.getExitPageUrls", "exit_nb_visits", true},
	{"report.Actions.getPageTitles", "Actions.getPageTitles", "nb_hits", true},
	{"report.Referrers.getReferrerType", "Referrers.getReferrerType", "nb_visits", false},
	{"report.Referrers.getWebsites", "Referrers.getWebsites", "nb_visits", false},
	{"report.Referrers.getSearchEngines", "Referrers.getSearchEngines", "nb_visits", false},
	{"report.Referrers.getKeywords", "Referrers.getKeywords", "nb_visits", false},
	{"report.Referrers.getSocials", "Referrers.getSocials", "nb_visits", false},
	{"report.Referrers.getCampaigns", "Referrers.getCampaigns", "nb_visits", false},
	{"report.UserCountry.getCountry", "UserCountry.getCountry", "nb_visits", false},
	{"report.DevicesDetection.getType", "DevicesDetection.getType", "nb_visits", false},
	{"report.DevicesDetection.getBrowsers", "DevicesDetection.getBrowsers", "nb_visits", false},
	{"report.DevicesDetection.getOsFamilies", "DevicesDetection.getOsFamilies", "nb_visits", false},
	{"report.Resolution.getResolution", "Resolution.getResolution", "nb_visits", false},
	{"report.Actions.getSiteSearchKeywords", "Actions.getSiteSearchKeywords", "nb_visits", false},
	{"report.Actions.getDownloads", "Actions.getDownloads", "nb_hits", true},
	{"report.Actions.getOutlinks", "Actions.getOutlinks", "nb_hits", true},
	{"report.Events.getCategory", "Events.getCategory", "nb_events", false},
}

// blockRows is how many rows a block shows.
const blockRows = 10

// kpi is one tile: its value now, before, and the change.
type kpi struct {
	Key, Column string
	Value, Prev any
	// Delta is the relative change in percent, and whether there is one (no previous value).
	Delta    float64
	HasDelta bool
}

// newKPI is the tile of column, now against before (records of one period each): an empty
// period's answer has no columns, nothing happened in it, so its figure is 0.
func newKPI(key, column string, now, before map[string]any) kpi {
	k := kpi{Key: key, Column: column, Value: now[column], Prev: before[column]}
	if k.Value == nil {
		k.Value = 0
	}
	if k.Prev == nil {
		k.Prev = 0
	}
	cur, _ := kpiNum(k.Value)
	old, ok := kpiNum(k.Prev)
	if ok && old != 0 {
		k.Delta, k.HasDelta = (cur-old)/old*100, true
	}
	return k
}

// kpiNum reads a number, or an API percentage text ("2.5%") as its number of percent.
func kpiNum(v any) (float64, bool) {
	if s, ok := v.(string); ok && strings.HasSuffix(s, "%") {
		f, err := strconv.ParseFloat(strings.TrimSuffix(s, "%"), 64)
		return f, err == nil
	}
	return toFloat(v)
}

// lowerIsBetter are the metrics whose fall is good news: bounce and exit rates, abandonment.
var lowerIsBetter = map[string]bool{"bounce_rate": true, "exit_rate": true, "funnel_abandoned_rate": true, "funnel_sum_exits": true}

// Trend names the change for its colour: its direction, and whether it is good news.
func (k kpi) Trend() string {
	dir := "up"
	if k.Delta < 0 {
		dir = "down"
	}
	if (k.Delta >= 0) != lowerIsBetter[k.Column] {
		return dir + " good"
	}
	return dir + " bad"
}

type blockView struct {
	block
	Rows []blockRow
	// Prev maps a label to its value in the previous period (compare=previous).
	Compare bool
}

type blockRow struct {
	Label, Segment string
	Value, Prev    any
}

type overviewPage struct {
	frame
	KPIs   []kpi
	Chart  chart
	Blocks []blockView
	// Goals are the goals defined (a link to define one when none), each linking to its page.
	Goals []goalDef
}

var kpiDefs = []struct{ key, method, column string }{
	{"kpi.visits", "VisitsSummary.get", "nb_visits"},
	{"kpi.uniques", "VisitsSummary.get", "nb_uniq_visitors"},
	{"kpi.pageviews", "Actions.get", "nb_pageviews"},
	{"kpi.bounce", "VisitsSummary.get", "bounce_rate"},
	{"kpi.duration", "VisitsSummary.get", "avg_time_on_site"},
	{"kpi.conversions", "Goals.get", "nb_conversions"},
	{"kpi.revenue", "Goals.get", "revenue"},
}

// overview serves /site/{idSite}: KPI tiles with their change against the previous period,
// visits over time, and the top rows of the main reports, every figure from the Reporting API
// for the same site, period and segment, the calls made at once.
func (w *Web) overview(rw http.ResponseWriter, r *http.Request) error {
	p, site, s, err := w.sitePage(r)
	if err != nil {
		return err
	}
	prev := s.previous()
	calls := []url.Values{
		s.params("VisitsSummary.get"), pageviews(s.params("Actions.get")), s.params("Goals.get"),
		prev.params("VisitsSummary.get"), pageviews(prev.params("Actions.get")), prev.params("Goals.get"),
		s.evolution("VisitsSummary.get"),
		{"method": {"Goals.getGoals"}, "idSite": {fmt.Sprint(site.ID)}},
	}
	if s.Compare {
		calls = append(calls, prev.evolution("VisitsSummary.get"))
	}
	fixed := len(calls)
	for _, b := range overviewBlocks {
		calls = append(calls, b.params(s))
		if s.Compare {
			calls = append(calls, b.params(prev))
		}
	}
	got, err := w.callAll(r, p, calls)
	if err != nil {
		return err
	}
	f, err := w.newFrame(r, p, w.msgs.locale(r).Or("nav.overview", "Overview"), "overview", site, s)
	if err != nil {
		return err
	}
	page := overviewPage{frame: f, Goals: goalDefs(got[7])}
	sort.Slice(page.Goals, func(i, j int) bool { return page.Goals[i].ID < page.Goals[j].ID })
	now := map[string]map[string]any{"VisitsSummary.get": object(got[0]), "Actions.get": object(got[1]), "Goals.get": object(got[2])}
	before := map[string]map[string]any{"VisitsSummary.get": object(got[3]), "Actions.get": object(got[4]), "Goals.get": object(got[5])}
	for _, d := range kpiDefs {
		page.KPIs = append(page.KPIs, newKPI(d.key, d.column, now[d.method], before[d.method]))
	}
	labels, recs := series(got[6])
	l := f.L
	names, values := []string{l.Or("kpi.visits", "Visits")}, [][]float64{visitsOf(recs)}
	if s.Compare {
		// The previous period's days under the current ones, day for day.
		_, before := series(got[8])
		names, values = append(names, l.Or("kpi.previous", "Previous period")), append(values, visitsOf(before))
	}
	page.Chart = lineChart(l.Or("chart.visits", "Visits over time"), labels, names, values, func(v float64) string { return l.Num(v) })
	i := fixed
	for _, b := range overviewBlocks {
		v := blockView{block: b, Compare: s.Compare}
		cur := rows(got[i])
		i++
		var old map[string]any
		if s.Compare {
			old = map[string]any{}
			for _, row := range rows(got[i]) {
				old[fmt.Sprint(row["label"])] = row[b.Metric]
			}
			i++
		}
		for n, row := range cur {
			if n == blockRows {
				break
			}
			br := blockRow{Label: f.L.Label(fmt.Sprint(row["label"])), Value: row[b.Metric]}
			if code, ok := row["code"].(string); ok && b.Method == "UserCountry.getCountry" {
				br.Label = f.L.Country(code, br.Label)
			}
			if seg, ok := row["segment"].(string); ok {
				br.Segment = seg
			}
			if old != nil {
				br.Prev = old[br.Label]
			}
			v.Rows = append(v.Rows, br)
		}
		page.Blocks = append(page.Blocks, v)
	}
	return w.renderPage(rw, http.StatusOK, "overview.html", page)
}

// params are a block's API call: the top rows, sorted by its metric.
func (b block) params(s state) url.Values {
	v := s.params(b.Method)
	v.Set("filter_limit", fmt.Sprint(blockRows))
	v.Set("filter_sort_column", b.Metric)
	v.Set("filter_sort_order", "desc")
	if b.Flat {
		v.Set("flat", "1")
	}
	return v
}

// sitePage is the start of every page of one site: the signed-in user, the site they may
// view (404 otherwise), and the view's state from the query string.
func (w *Web) sitePage(r *http.Request) (*auth.Principal, store.Site, state, error) {
	p, err := w.signedIn(r)
	if err != nil {
		return nil, store.Site{}, state{}, err
	}
	site, err := w.siteOf(r, p)
	if err != nil {
		return nil, store.Site{}, state{}, err
	}
	s, err := readState(r, site, w.now())
	if err != nil {
		return nil, store.Site{}, state{}, err
	}
	return p, site, s, nil
}

func visitsOf(recs []map[string]any) []float64 {
	out := make([]float64, len(recs))
	for i, rec := range recs {
		out[i] = num(rec, "nb_visits")
	}
	return out
}

// pageviews narrows an Actions.get call to the page views the tiles show: the API then spares
// the scans of downloads, outlinks and searches.
func pageviews(v url.Values) url.Values {
	v.Set("showColumns", "nb_pageviews")
	return v
}
