package matomo

import (
	"context"
	"errors"
	"math"
	"strconv"
	"strings"
	"time"

	"hearth/internal/event"
	"hearth/internal/report"
	"hearth/internal/store"
)

// keyed is an answer for several periods or sites: values by date label (attr "date") or by
// site id (attr "idSite"), in order. An empty report is an empty []*Row.
type keyed struct {
	attr string
	keys []string
	vals []any
}

// MarshalJSON writes {"key": value, …} in order.
func (k *keyed) MarshalJSON() ([]byte, error) {
	return orderedJSON(k.keys, func(i int) any { return jsonShape(k.vals[i]) })
}

// siteDates is one requested site with its periods, read in the site's timezone, and the
// request's segment.
type siteDates struct {
	site    store.Site
	loc     *time.Location
	dates   report.Dates
	segment store.Filter
}

// query is the store query of one site's periods under the request's segment.
func (sd siteDates) query() store.ReportQuery {
	ps := sd.dates.Periods
	return store.ReportQuery{Site: sd.site.ID, Ranges: ranges(ps), Segment: sd.segment,
		Zone:         report.ZoneSpans(sd.loc, ps[0].From, ps[len(ps)-1].To),
		NoRowUniques: ps[0].Kind == report.Year || ps[0].Kind == report.Range}
}

// segment reads the request's segment parameter.
func (a *API) segment(c *call) (store.Filter, error) {
	seg, err := report.ParseSegment(c.params.Get("segment"))
	if err == nil {
		var f store.Filter
		f, err = report.Compile(seg, a.opts.Pseudonym)
		if err == nil {
			return f, nil
		}
	}
	var se *report.SegmentError
	if errors.As(err, &se) {
		return store.Filter{}, errorf(400, "%s", se.Error())
	}
	return store.Filter{}, err
}

// segmentOn reads the request's segment for reports of sites: a segment that picks out one
// visitor or one user (visitorId, userId) turns any report into that person's history, raw
// data that only view_raw may see, so it needs view_raw on every one of the sites.
func (a *API) segmentOn(c *call, sites []event.SiteID) (store.Filter, error) {
	f, err := a.segment(c)
	if err != nil {
		return f, err
	}
	if seg, err := report.ParseSegment(c.params.Get("segment")); err == nil && seg.Personal() {
		for _, id := range sites {
			if !c.principal.CanViewRaw(id) {
				return store.Filter{}, errorf(401, "A segment on visitorId or userId shows one person's visits: it needs the view_raw capability on the site.")
			}
		}
	}
	return f, nil
}

// reportSites resolves idSite, period and date of a report request: every site the principal
// may view among those asked for, each with the periods in its own timezone.
func (a *API) reportSites(ctx context.Context, c *call) ([]siteDates, bool, error) {
	ids, err := a.siteIDs(ctx, c)
	if err != nil {
		return nil, false, err
	}
	seg, err := a.segmentOn(c, ids)
	if err != nil {
		return nil, false, err
	}
	raw := strings.TrimSpace(c.params.Get("idSite"))
	multiSite := raw == "all" || strings.Contains(raw, ",")
	out := make([]siteDates, 0, len(ids))
	for _, id := range ids {
		site, err := a.opts.Meta.Site(ctx, id)
		if err != nil {
			return nil, false, err
		}
		loc, err := time.LoadLocation(site.Timezone)
		if err != nil {
			loc = time.UTC
		}
		d, err := report.ParseDates(c.params.Get("period"), c.params.Get("date"), loc, a.opts.Now())
		if err != nil {
			var pe *report.ParseError
			if errors.As(err, &pe) {
				return nil, false, errorf(400, "%s", pe.Error())
			}
			return nil, false, err
		}
		out = append(out, siteDates{site: site, loc: loc, dates: d, segment: seg})
	}
	if len(out) == 0 && !multiSite {
		return nil, false, noAccess()
	}
	if len(out) == 0 {
		// Validate period and date even when no site is visible.
		if _, err := report.ParseDates(c.params.Get("period"), c.params.Get("date"), time.UTC, a.opts.Now()); err != nil {
			return nil, false, errorf(400, "%s", err.Error())
		}
	}
	return out, multiSite, nil
}

// ranges are the instants of periods, for a store query.
func ranges(ps []report.Period) []store.TimeRange {
	out := make([]store.TimeRange, len(ps))
	for i, p := range ps {
		out[i] = store.TimeRange{From: p.From, To: p.To}
	}
	return out
}

// perSitePeriod builds a report answer: fn computes the values of one site's periods, and the
// answer is a single value, or keyed by date label, by idSite, or both (as Matomo nests them).
func (a *API) perSitePeriod(ctx context.Context, c *call, fn func(ctx context.Context, sd siteDates) ([]any, error)) (any, error) {
	sites, multiSite, err := a.reportSites(ctx, c)
	if err != nil {
		return nil, err
	}
	bySite := &keyed{attr: "idSite"}
	for _, sd := range sites {
		vals, err := fn(ctx, sd)
		if err != nil {
			return nil, err
		}
		var v any
		if sd.dates.Multi {
			k := &keyed{attr: "date"}
			for i, p := range sd.dates.Periods {
				k.keys = append(k.keys, p.Label())
				k.vals = append(k.vals, vals[i])
			}
			v = k
		} else {
			v = vals[0]
		}
		if !multiSite {
			return v, nil
		}
		bySite.keys = append(bySite.keys, strconv.FormatInt(int64(sd.site.ID), 10))
		bySite.vals = append(bySite.vals, v)
	}
	return bySite, nil
}

// metricFormat is how processed metrics are written (format_metrics): "0" raw ratios, "bc"
// (the default) percentages as "50%", "1" also durations as "0:13:31".
func metricFormat(c *call) string {
	switch f := c.params.Get("format_metrics"); f {
	case "0", "1":
		return f
	}
	return "bc"
}

func percent(part, whole int64, mode string) any {
	if whole == 0 {
		if mode == "0" {
			return 0
		}
		return "0%"
	}
	r := float64(part) / float64(whole)
	if mode == "0" {
		return math.Round(r*100) / 100 // Matomo's quotient precision
	}
	return strconv.FormatFloat(math.Round(r*100), 'f', -1, 64) + "%"
}

func ratio(a, b int64, precision int) float64 {
	if b == 0 {
		return 0
	}
	p := math.Pow(10, float64(precision))
	return math.Round(float64(a)/float64(b)*p) / p
}

func duration(secs int64, mode string) any {
	if mode != "1" {
		return secs
	}
	return strconv.FormatInt(secs/3600, 10) + ":" + two(secs/60%60) + ":" + two(secs%60)
}

func two(n int64) string {
	if n < 10 {
		return "0" + strconv.FormatInt(n, 10)
	}
	return strconv.FormatInt(n, 10)
}

// visitTotals answers a VisitsSummary method: the visit aggregates of every requested site
// and period, each turned into its answer by shape.
func (a *API) visitTotals(ctx context.Context, c *call, shape func(store.VisitTotals) any) (any, error) {
	return a.perSitePeriod(ctx, c, func(ctx context.Context, sd siteDates) ([]any, error) {
		totals, err := a.opts.Events.VisitTotals(ctx, sd.query())
		if err != nil {
			return nil, err
		}
		out := make([]any, len(totals))
		for i, t := range totals {
			out[i] = shape(t)
		}
		return out, nil
	})
}

// visitsSummaryRow is VisitsSummary.get's row for one period; an empty period is an empty table.
func visitsSummaryRow(t store.VisitTotals, mode string) any {
	if t.Visits == 0 {
		return []*Row{}
	}
	return summaryRow(t, mode)
}

// summaryRow is VisitsSummary's metrics of some visits (all zero for none).
func summaryRow(t store.VisitTotals, mode string) *Row {
	return NewRow().
		Set("nb_uniq_visitors", t.UniqueVisitors).
		Set("nb_users", t.Users).
		Set("nb_visits", t.Visits).
		Set("nb_actions", t.Actions).
		Set("nb_visits_converted", t.Converted).
		Set("bounce_count", t.Bounces).
		Set("sum_visit_length", t.VisitLength).
		Set("max_actions", t.MaxActions).
		Set("bounce_rate", percent(t.Bounces, t.Visits, mode)).
		Set("nb_actions_per_visit", ratio(t.Actions, t.Visits, 1)).
		Set("avg_time_on_site", duration(int64(ratio(t.VisitLength, t.Visits, 0)), mode))
}

// visitsSummary serves VisitsSummary.get: visits, unique visitors (exact, for every period),
// users, actions, conversions, bounces and time on site, with the processed rates.
func (a *API) visitsSummary(ctx context.Context, c *call) (any, error) {
	mode := metricFormat(c)
	result, err := a.visitTotals(ctx, c, func(t store.VisitTotals) any { return visitsSummaryRow(t, mode) })
	if err != nil {
		return nil, err
	}
	return selectColumns(result, c), nil
}

// visitsSummaryValue serves the single-metric VisitsSummary methods ({"value": N}, or a
// number per period or site).
func (a *API) visitsSummaryValue(pick func(store.VisitTotals) int64) func(context.Context, *call) (any, error) {
	return func(ctx context.Context, c *call) (any, error) {
		result, err := a.visitTotals(ctx, c, func(t store.VisitTotals) any { return pick(t) })
		if v, ok := result.(int64); ok {
			return value{v}, err
		}
		return result, err
	}
}

// selectColumns applies showColumns and hideColumns to every row of an answer.
func selectColumns(result any, c *call) any {
	show := splitList(c.params.Get("showColumns"))
	hide := splitList(c.params.Get("hideColumns"))
	return filterColumns(result, show, hide)
}

// filterColumns keeps the columns of show (every one when empty) that are not in hide, in
// every row and subtable of an answer.
func filterColumns(result any, show, hide map[string]bool) any {
	if len(show) == 0 && len(hide) == 0 {
		return result
	}
	var apply func(v any) any
	apply = func(v any) any {
		switch x := v.(type) {
		case *Row:
			out := NewRow()
			for _, k := range x.keys {
				structural := k == "label" || k == "subtable" || k == "idsubdatatable"
				if (len(show) > 0 && !show[k] && !structural) || hide[k] {
					continue
				}
				if k == "subtable" {
					out.Set(k, apply(x.vals[k]))
					continue
				}
				out.Set(k, x.vals[k])
			}
			return out
		case []*Row:
			out := make([]*Row, len(x))
			for i, r := range x {
				out[i] = apply(r).(*Row)
			}
			return out
		case *keyed:
			out := &keyed{attr: x.attr, keys: x.keys, vals: make([]any, len(x.vals))}
			for i, v := range x.vals {
				out.vals[i] = apply(v)
			}
			return out
		}
		return v
	}
	return apply(result)
}

// wanted reports whether column is in the answer after showColumns and hideColumns, so a
// method may spare the work of a column no one will see.
func wanted(c *call, column string) bool {
	show, hide := splitList(c.params.Get("showColumns")), splitList(c.params.Get("hideColumns"))
	return (len(show) == 0 || show[column]) && !hide[column]
}

func splitList(s string) map[string]bool {
	out := map[string]bool{}
	for part := range strings.SplitSeq(s, ",") {
		if part = strings.TrimSpace(part); part != "" {
			out[part] = true
		}
	}
	return out
}
