package matomo

import (
	"context"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"hearth/internal/event"
	"hearth/internal/report"
	"hearth/internal/store"
)

// visitReport serves a report of visits grouped by a dimension: one table per site and
// period, with Matomo's generic parameters (idSubtable, expanded, flat, filters, columns).
func (a *API) visitReport(d *report.VisitReport) func(context.Context, *call) (any, error) {
	return func(ctx context.Context, c *call) (any, error) {
		opts, err := readTableOptions(c)
		if err != nil {
			return nil, err
		}
		return a.tableReport(ctx, c, opts, func(ctx context.Context, sd siteDates) ([]*report.Table, error) {
			groups, err := a.opts.Events.VisitGroups(ctx, d.Query(sd.query()))
			if err != nil {
				return nil, err
			}
			return d.Tables(groups, len(sd.dates.Periods), a.opts.Names), nil
		})
	}
}

// tableReport answers a report made of tables: tables gives each period's table of a site,
// and the answer renders them with the request's generic parameters.
func (a *API) tableReport(ctx context.Context, c *call, opts tableOptions, tables func(context.Context, siteDates) ([]*report.Table, error)) (any, error) {
	result, err := a.perSitePeriod(ctx, c, func(ctx context.Context, sd siteDates) ([]any, error) {
		ts, err := tables(ctx, sd)
		if err != nil {
			return nil, err
		}
		out := make([]any, len(ts))
		for i, t := range ts {
			if out[i], err = opts.render(t); err != nil {
				return nil, err
			}
		}
		return out, nil
	})
	if err != nil {
		return nil, err
	}
	if p := c.params.Get("period"); p == string(report.Year) || p == string(report.Range) {
		// Rows of years and ranges carry no unique visitors or users, as Matomo's do (the
		// store spared counting them); VisitsSummary has them exact for every period.
		result = filterColumns(result, nil, map[string]bool{"nb_uniq_visitors": true, "nb_users": true})
	}
	return selectColumns(result, c), nil
}

// tableOptions are the generic parameters of a report request.
type tableOptions struct {
	idSubtable         int
	expanded, flat     bool
	limit, offset      int
	truncate           int
	sortColumn         string
	sortAsc, sortGiven bool
	pattern            *regexp.Regexp
	patternColumn      string
	labels             map[string]bool
}

func readTableOptions(c *call) (tableOptions, error) {
	o := tableOptions{limit: 100, truncate: -1, patternColumn: "label", sortColumn: "nb_visits"}
	num := func(name string, dst *int, min int) error {
		v := strings.TrimSpace(c.params.Get(name))
		if v == "" {
			return nil
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < min {
			return errorf(400, "The parameter %s must be a whole number of at least %d.", name, min)
		}
		*dst = n
		return nil
	}
	for _, p := range []struct {
		name string
		dst  *int
		min  int
	}{{"idSubtable", &o.idSubtable, 0}, {"filter_limit", &o.limit, -1}, {"filter_offset", &o.offset, 0}, {"filter_truncate", &o.truncate, -1}} {
		if err := num(p.name, p.dst, p.min); err != nil {
			return o, err
		}
	}
	o.expanded, o.flat = isTrue(c.params.Get("expanded")), isTrue(c.params.Get("flat"))
	if col := strings.TrimSpace(c.params.Get("filter_sort_column")); col != "" {
		o.sortColumn, o.sortGiven = col, true
	}
	switch strings.ToLower(c.params.Get("filter_sort_order")) {
	case "asc":
		o.sortAsc, o.sortGiven = true, true
	case "", "desc":
	default:
		return o, errorf(400, "The parameter filter_sort_order must be asc or desc.")
	}
	if p := c.params.Get("filter_pattern"); p != "" {
		re, err := regexp.Compile("(?i)" + p)
		if err != nil || len(p) > 1000 {
			return o, errorf(400, "The parameter filter_pattern is not a valid regular expression.")
		}
		o.pattern = re
		if col := strings.TrimSpace(c.params.Get("filter_column")); col != "" {
			o.patternColumn = col
		}
	}
	if l := c.params["label"]; len(l) > 0 {
		o.labels = map[string]bool{}
		for _, v := range l {
			for part := range strings.SplitSeq(v, ",") {
				o.labels[strings.TrimSpace(part)] = true
			}
		}
	}
	return o, nil
}

// render turns a report table into the answer's rows.
func (o tableOptions) render(t *report.Table) ([]*Row, error) {
	rows := t.Rows
	if o.idSubtable > 0 {
		rows = nil
		var find func(rs []*report.Row)
		find = func(rs []*report.Row) {
			for _, r := range rs {
				if r.Sub != nil {
					if r.SubID == o.idSubtable {
						rows = r.Sub.Rows
						return
					}
					find(r.Sub.Rows)
				}
			}
		}
		find(t.Rows)
		if rows == nil {
			return nil, errorf(400, "The subtable %d does not exist in this report for this period.", o.idSubtable)
		}
	}
	if o.flat {
		// Page trees join folders and pages into a path ("blog/post"); other reports join
		// a row and its subtable row with " - ".
		paths := t.Metrics == "pages" || t.Metrics == "entry" || t.Metrics == "exit"
		var flat []*report.Row
		var walk func(rs []*report.Row, prefix string)
		walk = func(rs []*report.Row, prefix string) {
			for _, r := range rs {
				label := r.Label
				switch {
				case prefix == "":
				case paths && strings.HasPrefix(label, "/"):
					label = prefix + label
				case paths:
					label = prefix + "/" + label
				default:
					label = prefix + " - " + label
				}
				if r.Sub == nil {
					f := *r
					f.Label = label
					flat = append(flat, &f)
					continue
				}
				walk(r.Sub.Rows, label)
			}
		}
		walk(rows, "")
		rows = flat
	}
	out := make([]*Row, 0, len(rows))
	for _, r := range rows {
		row := reportRow(r, t, !o.flat && !o.expanded)
		if o.expanded && r.Sub != nil {
			sub := *r.Sub
			if sub.Metrics == "" {
				sub.Metrics, sub.VisitsOnly = t.Metrics, t.VisitsOnly
			}
			sub2, err := tableOptions{limit: o.limit, truncate: -1, sortColumn: o.sortColumn, sortAsc: o.sortAsc, sortGiven: o.sortGiven}.render(&sub)
			if err != nil {
				return nil, err
			}
			row.Set("subtable", sub2)
		}
		out = append(out, row)
	}
	return o.filter(out, t.Ordered)
}

// reportRow is a report row with Matomo's columns.
func reportRow(r *report.Row, t *report.Table, withSubtableID bool) *Row {
	row := NewRow().Set("label", r.Label)
	if m := r.Action; m != nil {
		actionColumns(row, m, t.Metrics)
	} else if m := r.Event; m != nil {
		eventColumns(row, m, t.Metrics)
	} else if t.VisitsOnly {
		row.Set("nb_visits", r.Totals.Visits)
	} else {
		t := r.Totals
		row.Set("nb_uniq_visitors", t.UniqueVisitors).Set("nb_visits", t.Visits).Set("nb_actions", t.Actions).
			Set("nb_users", t.Users).Set("max_actions", t.MaxActions).Set("sum_visit_length", t.VisitLength).
			Set("bounce_count", t.Bounces).Set("nb_visits_converted", t.Converted)
	}
	for _, c := range r.Columns {
		row.Set(c.Name, c.Value)
	}
	if r.Segment != "" {
		row.Set("segment", r.Segment)
	}
	if withSubtableID && r.Sub != nil {
		row.Set("idsubdatatable", r.SubID)
	}
	return row
}

// filter applies label, filter_pattern, sorting, filter_truncate, filter_offset and
// filter_limit, in Matomo's order.
func (o tableOptions) filter(rows []*Row, ordered bool) ([]*Row, error) {
	if o.labels != nil {
		kept := rows[:0:0]
		for _, r := range rows {
			if o.labels[scalar(r.vals["label"])] {
				kept = append(kept, r)
			}
		}
		rows = kept
	}
	if o.pattern != nil {
		kept := rows[:0:0]
		for _, r := range rows {
			if v, ok := r.vals[o.patternColumn]; ok && o.pattern.MatchString(scalar(v)) {
				kept = append(kept, r)
			}
		}
		rows = kept
	}
	if o.sortGiven || !ordered {
		col, asc := o.sortColumn, o.sortAsc
		sort.SliceStable(rows, func(i, j int) bool {
			c := compareValues(rows[i].vals[col], rows[j].vals[col])
			if asc {
				return c < 0
			}
			return c > 0
		})
	}
	if o.truncate >= 0 && len(rows) > o.truncate {
		others := NewRow().Set("label", "Others")
		for _, r := range rows[o.truncate:] {
			for _, k := range r.keys {
				if n, ok := r.vals[k].(int64); ok {
					prev, _ := others.vals[k].(int64)
					if k == "max_actions" {
						others.Set(k, max(prev, n))
					} else {
						others.Set(k, prev+n)
					}
				}
			}
		}
		rows = append(rows[:o.truncate:o.truncate], others)
	}
	if o.offset > 0 {
		if o.offset >= len(rows) {
			rows = nil
		} else {
			rows = rows[o.offset:]
		}
	}
	if o.limit >= 0 && len(rows) > o.limit {
		rows = rows[:o.limit]
	}
	if rows == nil {
		rows = []*Row{}
	}
	return rows, nil
}

// compareValues orders two column values: numbers by value, anything else as text; a
// missing value comes before any other.
func compareValues(a, b any) int {
	fa, aNum := number(a)
	fb, bNum := number(b)
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil:
		return -1
	case b == nil:
		return 1
	case aNum && bNum:
		switch {
		case fa < fb:
			return -1
		case fa > fb:
			return 1
		}
		return 0
	}
	return strings.Compare(scalar(a), scalar(b))
}

func number(v any) (float64, bool) {
	switch x := v.(type) {
	case int:
		return float64(x), true
	case int64:
		return float64(x), true
	case float64:
		return x, true
	}
	return 0, false
}

// visitFrequency serves VisitFrequency.get: VisitsSummary's metrics for new and for returning
// visits, suffixed _new and _returning.
func (a *API) visitFrequency(ctx context.Context, c *call) (any, error) {
	mode := metricFormat(c)
	result, err := a.perSitePeriod(ctx, c, func(ctx context.Context, sd siteDates) ([]any, error) {
		groups, err := a.opts.Events.VisitGroups(ctx, store.GroupQuery{ReportQuery: sd.query(), By: []store.Field{store.FieldReturning}})
		if err != nil {
			return nil, err
		}
		split := make([][2]store.VisitTotals, len(sd.dates.Periods))
		for _, g := range groups {
			if g.Range >= 0 && g.Range < len(split) && len(g.Keys) == 1 {
				split[g.Range][atoiKey(g.Keys[0])] = g.VisitTotals
			}
		}
		out := make([]any, len(split))
		for i, s := range split {
			if s[0].Visits == 0 && s[1].Visits == 0 {
				out[i] = []*Row{}
				continue
			}
			row := NewRow()
			for j, suffix := range []string{"_new", "_returning"} {
				r := summaryRow(s[j], mode)
				for _, k := range r.keys {
					row.Set(k+suffix, r.vals[k])
				}
			}
			out[i] = row
		}
		return out, nil
	})
	if err != nil {
		return nil, err
	}
	return selectColumns(result, c), nil
}

func atoiKey(s string) int {
	if s == "1" {
		return 1
	}
	return 0
}

// actionColumns sets the metrics of an action report's row, per Matomo's column sets.
func actionColumns(row *Row, m *report.ActionMetrics, set string) {
	switch set {
	case "pages":
		row.Set("nb_visits", m.Visits).Set("nb_uniq_visitors", m.UniqueVisitors).Set("nb_hits", m.Hits).
			Set("sum_time_spent", m.TimeSpent).Set("entry_nb_visits", m.EntryVisits).Set("entry_nb_actions", m.EntryActions).
			Set("entry_sum_visit_length", m.EntryLength).Set("entry_bounce_count", m.EntryBounces).Set("exit_nb_visits", m.ExitVisits).
			Set("avg_time_on_page", int64(ratio(m.TimeSpent, m.Visits, 0))).
			Set("bounce_rate", percent(m.EntryBounces, m.EntryVisits, "bc")).
			Set("exit_rate", percent(m.ExitVisits, m.Visits, "bc"))
	case "entry":
		row.Set("entry_nb_visits", m.EntryVisits).Set("entry_nb_actions", m.EntryActions).
			Set("entry_sum_visit_length", m.EntryLength).Set("entry_bounce_count", m.EntryBounces).
			Set("bounce_rate", percent(m.EntryBounces, m.EntryVisits, "bc"))
	case "exit":
		row.Set("exit_nb_visits", m.ExitVisits).Set("nb_visits", m.Visits).Set("exit_rate", percent(m.ExitVisits, m.Visits, "bc"))
	default:
		row.Set("nb_visits", m.Visits).Set("nb_uniq_visitors", m.UniqueVisitors).Set("nb_hits", m.Hits)
	}
}

// actionReport serves a report of actions: pages (as a folder tree), titles, entry and exit
// pages, downloads and outlinks by host, site-search keywords and categories.
func (a *API) actionReport(d *report.ActionReport) func(context.Context, *call) (any, error) {
	return func(ctx context.Context, c *call) (any, error) {
		opts, err := readTableOptions(c)
		if err != nil {
			return nil, err
		}
		return a.tableReport(ctx, c, opts, func(ctx context.Context, sd siteDates) ([]*report.Table, error) {
			base := sd.query()
			var actions []store.ActionRow
			var entries []store.GroupRow
			var err error
			if q, ok := d.ActionQuery(base); ok {
				if actions, err = a.opts.Events.ActionGroups(ctx, q); err != nil {
					return nil, err
				}
			}
			if q, ok := d.EntryQuery(base); ok {
				if entries, err = a.opts.Events.VisitGroups(ctx, q); err != nil {
					return nil, err
				}
			}
			return d.ActionTables(actions, entries, len(sd.dates.Periods)), nil
		})
	}
}

// actionsSummary serves Actions.get: pageviews, downloads, outlinks (each with the visits
// that had them, "unique") and site searches with their distinct keywords.
func (a *API) actionsSummary(ctx context.Context, c *call) (any, error) {
	result, err := a.perSitePeriod(ctx, c, func(ctx context.Context, sd siteDates) ([]any, error) {
		n := len(sd.dates.Periods)
		type sums struct{ hits, uniq, distinct []int64 }
		count := func(types event.ActionType, by store.Field) (sums, error) {
			rows, err := a.opts.Events.ActionGroups(ctx, store.ActionQuery{ReportQuery: sd.query(), Types: []event.ActionType{types}, By: by})
			s := sums{make([]int64, n), make([]int64, n), make([]int64, n)}
			for _, r := range rows {
				if r.Range >= 0 && r.Range < n {
					s.hits[r.Range] += r.Hits
					s.uniq[r.Range] += r.Visits
					s.distinct[r.Range]++
				}
			}
			return s, err
		}
		var all [4]sums
		for i, q := range []struct {
			t    event.ActionType
			by   store.Field
			cols [2]string
		}{{event.ActionPageview, store.FieldActionURL, [2]string{"nb_pageviews", "nb_uniq_pageviews"}},
			{event.ActionDownload, store.FieldActionURL, [2]string{"nb_downloads", "nb_uniq_downloads"}},
			{event.ActionOutlink, store.FieldActionURL, [2]string{"nb_outlinks", "nb_uniq_outlinks"}},
			{event.ActionSearch, store.FieldSearchKeyword, [2]string{"nb_searches", "nb_keywords"}}} {
			if !wanted(c, q.cols[0]) && !wanted(c, q.cols[1]) {
				// Its columns are not in the answer (showColumns, hideColumns): its scan is spared.
				all[i] = sums{make([]int64, n), make([]int64, n), make([]int64, n)}
				continue
			}
			var err error
			if all[i], err = count(q.t, q.by); err != nil {
				return nil, err
			}
		}
		out := make([]any, n)
		for i := range out {
			out[i] = NewRow().
				Set("nb_pageviews", all[0].hits[i]).Set("nb_uniq_pageviews", all[0].uniq[i]).
				Set("nb_downloads", all[1].hits[i]).Set("nb_uniq_downloads", all[1].uniq[i]).
				Set("nb_outlinks", all[2].hits[i]).Set("nb_uniq_outlinks", all[2].uniq[i]).
				Set("nb_searches", all[3].hits[i]).Set("nb_keywords", all[3].distinct[i])
		}
		return out, nil
	})
	if err != nil {
		return nil, err
	}
	return selectColumns(result, c), nil
}

// eventColumns sets the metrics of an event or content report's row.
func eventColumns(row *Row, m *report.EventMetrics, set string) {
	if set == "contents" {
		row.Set("nb_visits", m.Visits).Set("nb_impressions", m.Hits-m.Interactions).Set("nb_interactions", m.Interactions).
			Set("interaction_rate", percent(m.Interactions, m.Hits-m.Interactions, "bc"))
		return
	}
	avg := 0.0
	if m.WithValue > 0 {
		avg = math.Round(m.Sum/float64(m.WithValue)*100) / 100
	}
	row.Set("nb_uniq_visitors", m.UniqueVisitors).Set("nb_visits", m.Visits).Set("nb_events", m.Hits).
		Set("nb_events_with_value", m.WithValue).Set("sum_event_value", m.Sum).Set("min_event_value", m.Min).
		Set("max_event_value", m.Max).Set("avg_event_value", avg)
}

// eventReport serves an Events or Contents report; secondaryDimension picks the subtables'
// dimension.
func (a *API) eventReport(d *report.EventReport) func(context.Context, *call) (any, error) {
	return func(ctx context.Context, c *call) (any, error) {
		opts, err := readTableOptions(c)
		if err != nil {
			return nil, err
		}
		opts.sortColumn = "nb_events"
		if d.Type == event.ActionContent {
			opts.sortColumn = "nb_impressions"
		}
		if col := strings.TrimSpace(c.params.Get("filter_sort_column")); col != "" {
			opts.sortColumn = col
		}
		return a.tableReport(ctx, c, opts, func(ctx context.Context, sd siteDates) ([]*report.Table, error) {
			q, ok := d.Query(sd.query(), strings.TrimSpace(c.params.Get("secondaryDimension")))
			if !ok {
				return nil, errorf(400, "The secondaryDimension '%s' is not one of this report's.", truncate(c.params.Get("secondaryDimension"), 40))
			}
			groups, err := a.opts.Events.EventGroups(ctx, q)
			if err != nil {
				return nil, err
			}
			return d.Tables(q, groups, len(sd.dates.Periods)), nil
		})
	}
}
