package report

import (
	"net/url"
	"sort"
	"strings"

	"hearth/internal/event"
	"hearth/internal/store"
)

// ActionMetrics are the metrics of a row of an action report, with Matomo's column names in
// the comments.
type ActionMetrics struct {
	Hits           int64 // nb_hits
	Visits         int64 // nb_visits
	UniqueVisitors int64 // nb_uniq_visitors
	TimeSpent      int64 // sum_time_spent
	ExitVisits     int64 // exit_nb_visits
	EntryVisits    int64 // entry_nb_visits
	EntryActions   int64 // entry_nb_actions
	EntryLength    int64 // entry_sum_visit_length
	EntryBounces   int64 // entry_bounce_count
}

func (m *ActionMetrics) add(o ActionMetrics) {
	m.Hits += o.Hits
	m.Visits += o.Visits
	m.UniqueVisitors += o.UniqueVisitors
	m.TimeSpent += o.TimeSpent
	m.ExitVisits += o.ExitVisits
	m.EntryVisits += o.EntryVisits
	m.EntryActions += o.EntryActions
	m.EntryLength += o.EntryLength
	m.EntryBounces += o.EntryBounces
}

// ActionKind is what an action report lists.
type ActionKind int

// Action report kinds.
const (
	PageURLs ActionKind = iota
	PageTitles
	EntryPageURLs
	EntryPageTitles
	ExitPageURLs
	ExitPageTitles
	Downloads
	Outlinks
	SearchKeywords
	SearchNoResultKeywords
	SearchCategories
)

// ActionReport is a report of actions.
type ActionReport struct {
	Module, Action, Name, Category, Dimension string
	Kind                                      ActionKind
}

// Method is the report's API method name.
func (d *ActionReport) Method() string { return d.Module + "." + d.Action }

// ActionReports are the Actions module's reports of pages, downloads, outlinks and searches.
var ActionReports = []*ActionReport{
	{"Actions", "getPageUrls", "Page URLs", "Actions", "Page URL", PageURLs},
	{"Actions", "getPageTitles", "Page titles", "Actions", "Page Title", PageTitles},
	{"Actions", "getEntryPageUrls", "Entry pages", "Actions", "Entry page URL", EntryPageURLs},
	{"Actions", "getEntryPageTitles", "Entry page titles", "Actions", "Entry page title", EntryPageTitles},
	{"Actions", "getExitPageUrls", "Exit pages", "Actions", "Exit page URL", ExitPageURLs},
	{"Actions", "getExitPageTitles", "Exit page titles", "Actions", "Exit page title", ExitPageTitles},
	{"Actions", "getDownloads", "Downloads", "Actions", "Download URL", Downloads},
	{"Actions", "getOutlinks", "Outlinks", "Actions", "Outlink URL", Outlinks},
	{"Actions", "getSiteSearchKeywords", "Site Search Keywords", "Actions", "Keyword (Site Search)", SearchKeywords},
	{"Actions", "getSiteSearchNoResultKeywords", "Search Keywords with No Results", "Actions", "Keyword (Site Search)", SearchNoResultKeywords},
	{"Actions", "getSiteSearchCategories", "Search Categories", "Actions", "Search Category", SearchCategories},
}

// Titles reports whether the report lists page titles rather than URLs.
// segmentDimension is the dimension a row of the report drills into: the visits that entered
// (entry pages) or left (exit pages) on the row's page, else those that viewed it, as a row's
// own figure counts them.
func (k ActionKind) segmentDimension() string {
	switch k {
	case EntryPageURLs:
		return "entryPageUrl"
	case ExitPageURLs:
		return "exitPageUrl"
	case EntryPageTitles:
		return "entryPageTitle"
	case ExitPageTitles:
		return "exitPageTitle"
	case PageTitles:
		return "pageTitle"
	}
	return "pageUrl"
}

func (k ActionKind) Titles() bool {
	return k == PageTitles || k == EntryPageTitles || k == ExitPageTitles
}

// ActionQuery is the store's action query of a report, or false when it needs none.
func (d *ActionReport) ActionQuery(base store.ReportQuery) (store.ActionQuery, bool) {
	q := store.ActionQuery{ReportQuery: base, Types: []event.ActionType{event.ActionPageview}, By: store.FieldActionURL}
	switch d.Kind {
	case PageURLs:
		q.Entries = true
	case PageTitles:
		q.By, q.Entries = store.FieldActionTitle, true
	case ExitPageTitles:
		q.By = store.FieldActionTitle
	case EntryPageURLs, EntryPageTitles:
		return q, false
	case Downloads:
		q.Types = []event.ActionType{event.ActionDownload}
	case Outlinks:
		q.Types = []event.ActionType{event.ActionOutlink}
	case SearchKeywords, SearchNoResultKeywords:
		q.Types, q.By, q.NoResults = []event.ActionType{event.ActionSearch}, store.FieldSearchKeyword, d.Kind == SearchNoResultKeywords
	case SearchCategories:
		q.Types, q.By = []event.ActionType{event.ActionSearch}, store.FieldSearchCategory
	}
	return q, true
}

// EntryQuery is the store's visit query for the entry (or exit) columns of a report, or false.
func (d *ActionReport) EntryQuery(base store.ReportQuery) (store.GroupQuery, bool) {
	switch d.Kind { // the page reports have their entries from the action query
	case EntryPageURLs:
		return store.GroupQuery{ReportQuery: base, By: []store.Field{store.FieldEntryURL}}, true
	case EntryPageTitles:
		return store.GroupQuery{ReportQuery: base, By: []store.Field{store.FieldEntryTitle}}, true
	}
	return store.GroupQuery{}, false
}

// ActionTables builds the report's table of each of n ranges.
func (d *ActionReport) ActionTables(actions []store.ActionRow, entries []store.GroupRow, n int) []*Table {
	metrics := make([]map[string]*ActionMetrics, n)
	for i := range metrics {
		metrics[i] = map[string]*ActionMetrics{}
	}
	get := func(i int, key string) *ActionMetrics {
		m := metrics[i][key]
		if m == nil {
			m = &ActionMetrics{}
			metrics[i][key] = m
		}
		return m
	}
	for _, a := range actions {
		if a.Range < 0 || a.Range >= n {
			continue
		}
		get(a.Range, a.Key).add(ActionMetrics{Hits: a.Hits, Visits: a.Visits, UniqueVisitors: a.UniqueVisitors, TimeSpent: a.TimeSpent, ExitVisits: a.ExitVisits,
			EntryVisits: a.EntryVisits, EntryActions: a.EntryActions, EntryLength: a.EntryLength, EntryBounces: a.EntryBounces})
	}
	for _, g := range entries {
		if g.Range < 0 || g.Range >= n || len(g.Keys) != 1 || g.Keys[0] == "" {
			continue
		}
		get(g.Range, g.Keys[0]).add(ActionMetrics{EntryVisits: g.Visits, EntryActions: g.Actions, EntryLength: g.VisitLength, EntryBounces: g.Bounces})
	}
	tables := make([]*Table, n)
	for i := range tables {
		keys := make([]string, 0, len(metrics[i]))
		for k, m := range metrics[i] {
			switch d.Kind {
			case EntryPageURLs, EntryPageTitles:
				if m.EntryVisits == 0 {
					continue
				}
			case ExitPageURLs, ExitPageTitles:
				if m.ExitVisits == 0 {
					continue
				}
			case SearchCategories:
				if k == "" {
					continue
				}
			}
			keys = append(keys, k)
		}
		sort.Strings(keys)
		switch d.Kind {
		case PageURLs, EntryPageURLs, ExitPageURLs:
			tables[i] = pageTree(keys, metrics[i], d.Kind.segmentDimension())
		case Downloads, Outlinks:
			tables[i] = byHost(keys, metrics[i], d.Kind == Downloads)
		default:
			t := &Table{}
			for _, k := range keys {
				r := &Row{Key: k, Label: k, Action: metrics[i][k]}
				switch {
				case d.Kind.Titles():
					if k == "" {
						r.Label = "Page Name not defined"
					}
					r.Segment = d.Kind.segmentDimension() + "==" + segmentValue(k)
				case d.Kind == SearchCategories:
				default:
					r.Segment = "siteSearchKeyword==" + segmentValue(k)
				}
				t.Rows = append(t.Rows, r)
			}
			tables[i] = t
		}
		sortTree(tables[i], d.Kind)
		tables[i].Metrics = d.Kind.metrics()
	}
	return tables
}

func (k ActionKind) metrics() string {
	switch k {
	case PageURLs, PageTitles:
		return "pages"
	case EntryPageURLs, EntryPageTitles:
		return "entry"
	case ExitPageURLs, ExitPageTitles:
		return "exit"
	}
	return "hits"
}

// sortTree orders rows by the report's main metric, most first, then by label: entries for
// entry pages, exits for exit pages, visits otherwise.
func sortTree(t *Table, kind ActionKind) {
	weight := func(r *Row) int64 {
		switch kind {
		case EntryPageURLs, EntryPageTitles:
			return r.Action.EntryVisits
		case ExitPageURLs, ExitPageTitles:
			return r.Action.ExitVisits
		}
		return r.Action.Visits
	}
	sort.SliceStable(t.Rows, func(i, j int) bool {
		if wa, wb := weight(t.Rows[i]), weight(t.Rows[j]); wa != wb {
			return wa > wb
		}
		return t.Rows[i].Label < t.Rows[j].Label
	})
	for _, r := range t.Rows {
		if r.Sub != nil {
			sortTree(r.Sub, kind)
		}
	}
}

// pageSegments splits a page URL into Matomo's hierarchy: folders, then the page
// ("/index" for a folder's own page), the query string kept with the page.
func pageSegments(raw string) []string {
	u, err := url.Parse(raw)
	path, query := raw, ""
	if err == nil && u.Host != "" {
		path, query = u.EscapedPath(), u.RawQuery
	}
	parts := strings.Split(strings.Trim(path, "/"), "/")
	page := parts[len(parts)-1]
	folders := parts[:len(parts)-1]
	if strings.HasSuffix(path, "/") || page == "" {
		if page != "" {
			folders = parts
		}
		page = "index"
	}
	if query != "" {
		page += "?" + query
	}
	out := append([]string{}, folders...)
	return append(out, "/"+page)
}

// pageTree builds the folder hierarchy of page URLs; folder rows sum their pages.
func pageTree(keys []string, metrics map[string]*ActionMetrics, dim string) *Table {
	root := &Table{}
	for _, key := range keys {
		m := metrics[key]
		segs := pageSegments(key)
		t := root
		path := ""
		for i, seg := range segs {
			path += "/" + strings.TrimPrefix(seg, "/")
			var row *Row
			for _, r := range t.Rows {
				if r.Label == seg {
					row = r
				}
			}
			if row == nil {
				row = &Row{Key: path, Label: seg, Action: &ActionMetrics{}}
				t.Rows = append(t.Rows, row)
			}
			row.Action.add(*m)
			if i == len(segs)-1 {
				row.Columns = []Column{{"url", key}}
				row.Segment = dim + "==" + segmentValue(key)
				break
			}
			if row.Sub == nil {
				row.Sub, row.SubID = &Table{}, SubID("folder"+path)
			}
			t = row.Sub
		}
	}
	return root
}

// byHost groups download or outlink URLs by host, each with a subtable of its URLs.
func byHost(keys []string, metrics map[string]*ActionMetrics, downloads bool) *Table {
	root := &Table{}
	hosts := map[string]*Row{}
	for _, key := range keys {
		host := key
		if u, err := url.Parse(key); err == nil && u.Host != "" {
			host = u.Host
		}
		h := hosts[host]
		if h == nil {
			h = &Row{Key: host, Label: host, Action: &ActionMetrics{}, Sub: &Table{}, SubID: SubID("host" + host)}
			hosts[host] = h
			root.Rows = append(root.Rows, h)
		}
		m := metrics[key]
		h.Action.add(*m)
		field := "outlinkUrl"
		if downloads {
			field = "downloadUrl"
		}
		h.Sub.Rows = append(h.Sub.Rows, &Row{Key: key, Label: key, Action: m, Columns: []Column{{"url", key}}, Segment: field + "==" + segmentValue(key)})
	}
	return root
}

// FindActionReport returns the action report of an API method.
func FindActionReport(method string) *ActionReport {
	for _, d := range ActionReports {
		if d.Method() == method {
			return d
		}
	}
	return nil
}
