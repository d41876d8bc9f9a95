package matomo

import (
	"context"
	"sort"
	"strings"

	"hearth/internal/report"
)

// Metric names as API.getReportMetadata documents them.
var (
	visitMetrics = [][2]string{{"nb_uniq_visitors", "Unique visitors"}, {"nb_visits", "Visits"}, {"nb_actions", "Actions"},
		{"nb_users", "Users"}, {"max_actions", "Maximum actions in one visit"}, {"sum_visit_length", "Total time spent by visitors (in seconds)"},
		{"bounce_count", "Bounces"}, {"nb_visits_converted", "Visits with a conversion"}}
	summaryProcessed = [][2]string{{"bounce_rate", "Bounce Rate"}, {"nb_actions_per_visit", "Actions per Visit"}, {"avg_time_on_site", "Avg. Time on Website"}}
	pageMetrics      = [][2]string{{"nb_visits", "Unique Pageviews"}, {"nb_uniq_visitors", "Unique visitors"}, {"nb_hits", "Pageviews"},
		{"sum_time_spent", "Total time spent (in seconds)"}, {"entry_nb_visits", "Entrances"}, {"entry_nb_actions", "Actions by entrances"},
		{"entry_sum_visit_length", "Total time of visits that started here"}, {"entry_bounce_count", "Bounces"}, {"exit_nb_visits", "Exits"}}
	pageProcessed  = [][2]string{{"avg_time_on_page", "Avg. time on page"}, {"bounce_rate", "Bounce Rate"}, {"exit_rate", "Exit rate"}}
	entryMetrics   = [][2]string{{"entry_nb_visits", "Entrances"}, {"entry_nb_actions", "Actions by entrances"}, {"entry_sum_visit_length", "Total time of visits that started here"}, {"entry_bounce_count", "Bounces"}}
	exitMetrics    = [][2]string{{"exit_nb_visits", "Exits"}, {"nb_visits", "Unique Pageviews"}}
	hitMetrics     = [][2]string{{"nb_visits", "Visits"}, {"nb_uniq_visitors", "Unique visitors"}, {"nb_hits", "Hits"}}
	eventMetrics   = [][2]string{{"nb_events", "Events"}, {"nb_visits", "Visits"}, {"nb_uniq_visitors", "Unique visitors"}, {"nb_events_with_value", "Events with a value"}, {"sum_event_value", "Total event value"}, {"min_event_value", "Minimum event value"}, {"max_event_value", "Maximum event value"}}
	contentMetrics = [][2]string{{"nb_impressions", "Impressions"}, {"nb_interactions", "Interactions"}, {"nb_visits", "Visits"}}
)

// reportMeta is one report of API.getReportMetadata.
type reportMeta struct {
	category, name, module, action, dimension string
	metrics, processed                        [][2]string
}

func pairs(ps [][2]string) *Row {
	r := NewRow()
	for _, p := range ps {
		r.Set(p[0], p[1])
	}
	return r
}

// reportMetas lists every report the API serves.
func reportMetas() []reportMeta {
	out := []reportMeta{
		{"Visits", "Visits Summary", "VisitsSummary", "get", "", visitMetrics, summaryProcessed},
		{"Visitors", "Returning Visits", "VisitFrequency", "get", "", [][2]string{{"nb_visits_new", "New visits"}, {"nb_visits_returning", "Returning visits"},
			{"nb_actions_new", "Actions by new visits"}, {"nb_actions_returning", "Actions by returning visits"}}, nil},
		{"Actions", "Actions - Main metrics", "Actions", "get", "", [][2]string{{"nb_pageviews", "Pageviews"}, {"nb_uniq_pageviews", "Unique Pageviews"},
			{"nb_downloads", "Downloads"}, {"nb_uniq_downloads", "Unique Downloads"}, {"nb_outlinks", "Outlinks"}, {"nb_uniq_outlinks", "Unique Outlinks"},
			{"nb_searches", "Searches"}, {"nb_keywords", "Unique Keywords"}}, nil},
		{"Goals", "Goals", "Goals", "get", "", [][2]string{{"nb_conversions", "Conversions"}, {"nb_visits_converted", "Visits converted"},
			{"revenue", "Revenue"}}, [][2]string{{"conversion_rate", "Conversion Rate"}}},
		{"Visits", "Bot requests", "Hearth", "getBotCounts", "", [][2]string{{"nb_bot_requests", "Requests from bots (filtered at ingest, not counted as visits)"}}, nil},
	}
	itemMetrics := [][2]string{{"revenue", "Product Revenue"}, {"quantity", "Quantity"}, {"orders", "Unique Purchases"}, {"nb_visits", "Visits"}}
	itemProcessed := [][2]string{{"avg_price", "Average Price"}, {"avg_quantity", "Average Quantity"}}
	for _, it := range [][3]string{{"getItemsSku", "Product SKU", "Product SKU"}, {"getItemsName", "Product Name", "Product Name"}, {"getItemsCategory", "Product Category", "Product Category"}} {
		out = append(out, reportMeta{"Goals", it[1], "Goals", it[0], it[2], itemMetrics, itemProcessed})
	}
	for _, d := range report.VisitReports {
		m := visitMetrics
		if strings.HasPrefix(d.Module, "VisitorInterest") {
			m = [][2]string{{"nb_visits", "Visits"}}
		}
		out = append(out, reportMeta{d.Category, d.Name, d.Module, d.Action, d.Dimension, m, nil})
	}
	for _, d := range report.ActionReports {
		m, p := hitMetrics, [][2]string(nil)
		switch d.Kind {
		case report.PageURLs, report.PageTitles:
			m, p = pageMetrics, pageProcessed
		case report.EntryPageURLs, report.EntryPageTitles:
			m, p = entryMetrics, [][2]string{{"bounce_rate", "Bounce Rate"}}
		case report.ExitPageURLs, report.ExitPageTitles:
			m, p = exitMetrics, [][2]string{{"exit_rate", "Exit rate"}}
		}
		out = append(out, reportMeta{d.Category, d.Name, d.Module, d.Action, d.Dimension, m, p})
	}
	for _, d := range report.EventReports {
		m, p := eventMetrics, [][2]string{{"avg_event_value", "Average event value"}}
		if d.Module == "Contents" {
			m, p = contentMetrics, [][2]string{{"interaction_rate", "Interaction rate"}}
		}
		out = append(out, reportMeta{d.Category, d.Name, d.Module, d.Action, d.Dimension, m, p})
	}
	return out
}

func (m reportMeta) row() *Row {
	r := NewRow().Set("category", m.category).Set("name", m.name).Set("module", m.module).Set("action", m.action)
	if m.dimension != "" {
		r.Set("dimension", m.dimension)
	}
	r.Set("metrics", pairs(m.metrics))
	if len(m.processed) > 0 {
		r.Set("processedMetrics", pairs(m.processed))
	}
	return r.Set("uniqueId", m.module+"_"+m.action)
}

// reportMetadata serves API.getReportMetadata: every report, or those of one module.
func (a *API) reportMetadata(ctx context.Context, c *call) (any, error) {
	if _, err := a.siteIDs(ctx, c); err != nil {
		return nil, err
	}
	module := c.params.Get("apiModule")
	action := c.params.Get("apiAction")
	out := []*Row{}
	for _, m := range reportMetas() {
		if (module == "" || m.module == module) && (action == "" || m.action == action) {
			out = append(out, m.row())
		}
	}
	return out, nil
}

// segmentsMetadata serves API.getSegmentsMetadata: every segment dimension.
func (a *API) segmentsMetadata(ctx context.Context, c *call) (any, error) {
	names := make([]string, 0, len(report.Dimensions))
	for n := range report.Dimensions {
		names = append(names, n)
	}
	sort.Strings(names)
	out := make([]*Row, 0, len(names))
	for _, n := range names {
		d := report.Dimensions[n]
		r := NewRow().Set("type", d.Type).Set("category", d.Category).Set("name", d.Label).Set("segment", d.Name)
		if d.Hint != "" {
			r.Set("acceptValues", d.Hint)
		}
		out = append(out, r)
	}
	return out, nil
}

// processedReport serves API.getProcessedReport for one site and period: the report's
// metadata, its column names, its rows and the totals of their metrics.
func (a *API) processedReport(ctx context.Context, c *call) (any, error) {
	module, action := c.params.Get("apiModule"), c.params.Get("apiAction")
	var meta *reportMeta
	for _, m := range reportMetas() {
		if m.module == module && m.action == action {
			meta = &m
		}
	}
	if meta == nil {
		return nil, errorf(400, "Requested report %s.%s for Website id=%s not found in the list of available reports.",
			truncate(module, 40), truncate(action, 40), truncate(c.params.Get("idSite"), 20))
	}
	sites, multi, err := a.reportSites(ctx, c)
	if err != nil {
		return nil, err
	}
	if multi || len(sites) != 1 || sites[0].dates.Multi {
		return nil, errorf(400, "API.getProcessedReport answers for one site and one period here: use a single idSite and date.")
	}
	sub := &call{params: cloneValues(c.params), principal: c.principal, format: c.format, post: c.post, ip: c.ip}
	sub.params.Set("method", module+"."+action)
	result, status := a.dispatch(ctx, sub, module+"."+action)
	if status != 200 {
		return result, nil
	}
	var rows []*Row
	switch r := result.(type) {
	case []*Row:
		rows = r
	case *Row:
		rows = []*Row{r}
	case value:
		rows = []*Row{NewRow().Set("value", r.V)}
	}
	columns := NewRow()
	if meta.dimension != "" {
		columns.Set("label", meta.dimension)
	}
	for _, p := range append(append([][2]string{}, meta.metrics...), meta.processed...) {
		columns.Set(p[0], p[1])
	}
	total := NewRow()
	for _, p := range meta.metrics {
		var sum float64
		for _, r := range rows {
			if n, ok := number(r.vals[p[0]]); ok {
				sum += n
			}
		}
		total.Set(p[0], sum)
	}
	sd := sites[0]
	return NewRow().Set("website", sd.site.Name).Set("prettyDate", sd.dates.Periods[0].Label()).Set("metadata", meta.row()).
		Set("columns", columns).Set("reportData", rows).Set("reportTotal", total), nil
}

func cloneValues(v map[string][]string) map[string][]string {
	out := make(map[string][]string, len(v))
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

// botCounts serves Hearth.getBotCounts: the requests from bots that ingest filtered out,
// per site and period (counted per UTC day), so what was left out is visible.
func (a *API) botCounts(ctx context.Context, c *call) (any, error) {
	return a.perSitePeriod(ctx, c, func(ctx context.Context, sd siteDates) ([]any, error) {
		out := make([]any, len(sd.dates.Periods))
		for i, p := range sd.dates.Periods {
			n, err := a.opts.Events.BotCount(ctx, sd.site.ID, p.First, p.Last.AddDate(0, 0, 1))
			if err != nil {
				return nil, err
			}
			out[i] = NewRow().Set("nb_bot_requests", n)
		}
		return out, nil
	})
}
