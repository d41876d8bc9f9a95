package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"hearth/internal/auth"
	"hearth/internal/store"
)

// reportInfo is one report of API.getReportMetadata as the pages use it.
type reportInfo struct {
	Category, Name, Module, Action, Dimension string
	// Columns are its metrics, then its processed metrics, in the API's order.
	Columns []metaColumn
}

type metaColumn struct{ Key, Name string }

// Method is the report's API method ("Actions.getPageUrls").
func (ri reportInfo) Method() string { return ri.Module + "." + ri.Action }

// Record tells a report of one record per period (VisitsSummary.get, Goals.get) from a table
// of rows by a dimension.
func (ri reportInfo) Record() bool { return ri.Dimension == "" }

func (ri reportInfo) has(col string) bool {
	return slices.ContainsFunc(ri.Columns, func(c metaColumn) bool { return c.Key == col })
}

// main is the metric a report ranks by: the one compared with the previous period and
// followed over time unless another is chosen.
func (ri reportInfo) main() string {
	for _, c := range []string{"nb_hits", "nb_events", "nb_impressions", "entry_nb_visits", "exit_nb_visits", "nb_visits"} {
		if ri.has(c) {
			return c
		}
	}
	if len(ri.Columns) > 0 {
		return ri.Columns[0].Key
	}
	return "nb_visits"
}

// pairs are a JSON object's members in the order the API wrote them (a map would lose it).
type pairs []metaColumn

func (ps *pairs) UnmarshalJSON(b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil // an empty list or nothing: no columns
	}
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			return err
		}
		var v string
		if err := dec.Decode(&v); err != nil {
			return err
		}
		*ps = append(*ps, metaColumn{Key: fmt.Sprint(k), Name: v})
	}
	return nil
}

// callRaw runs one Reporting API method as p and returns its JSON answer as the API wrote
// it, for answers whose member order matters.
func (w *Web) callRaw(r *http.Request, p *auth.Principal, params url.Values) ([]byte, error) {
	rec, err := w.serveAs(r, p, params, false)
	if err != nil {
		return nil, err
	}
	if rec.status != http.StatusOK {
		return nil, apiFailure(rec.status, rec.body.Bytes())
	}
	if b := bytes.TrimSpace(rec.body.Bytes()); bytes.HasPrefix(b, []byte("{")) && bytes.Contains(b, []byte(`"result":"error"`)) {
		return nil, apiFailure(http.StatusBadRequest, b)
	}
	return rec.body.Bytes(), nil
}

// reportsOf lists the reports of a site from API.getReportMetadata (one call), or those of
// one module and action.
func (w *Web) reportsOf(r *http.Request, p *auth.Principal, site store.Site, module, action string) ([]reportInfo, error) {
	q := url.Values{"method": {"API.getReportMetadata"}, "idSite": {strconv.FormatInt(int64(site.ID), 10)}}
	if module != "" {
		q.Set("apiModule", module)
		q.Set("apiAction", action)
	}
	b, err := w.callRaw(r, p, q)
	if err != nil {
		return nil, err
	}
	var list []struct {
		Category, Name, Module, Action, Dimension string
		Metrics, ProcessedMetrics                 pairs
	}
	if err := json.Unmarshal(b, &list); err != nil {
		return nil, fmt.Errorf("decode API.getReportMetadata: %w", err)
	}
	out := make([]reportInfo, 0, len(list))
	for _, m := range list {
		out = append(out, reportInfo{Category: m.Category, Name: m.Name, Module: m.Module, Action: m.Action, Dimension: m.Dimension,
			Columns: append(m.Metrics, m.ProcessedMetrics...)})
	}
	return out, nil
}

var methodName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9]*\.[A-Za-z][A-Za-z0-9]*$`)

// findReport is the report of the path's {method}, or a 404 for a method that is not one of
// the site's reports.
func (w *Web) findReport(r *http.Request, p *auth.Principal, site store.Site) (reportInfo, error) {
	method := r.PathValue("method")
	missing := pageErrorT(http.StatusNotFound, "rep.err.no_report")
	if !methodName.MatchString(method) {
		return reportInfo{}, missing
	}
	module, action, _ := strings.Cut(method, ".")
	list, err := w.reportsOf(r, p, site, module, action)
	if err != nil {
		return reportInfo{}, err
	}
	for _, ri := range list {
		if ri.Module == module && ri.Action == action {
			return ri, nil
		}
	}
	return reportInfo{}, missing
}

// Report texts: a name, a category or a column in the catalogue, else as the API names it.
func (l *locale) reportName(ri reportInfo) string { return l.Or("report."+ri.Method(), ri.Name) }

func (l *locale) columnName(ri reportInfo, col metaColumn) string {
	return l.Or("col."+ri.Method()+"."+col.Key, l.Or("col."+col.Key, col.Name))
}

type reportCategory struct {
	Name    string
	Reports []reportLink
}

type reportLink struct {
	Name, Dimension string
	Href            template.URL
}

type reportsPage struct {
	frame
	Categories []reportCategory
}

// reportIndex serves /site/{idSite}/reports: every report of the site by category, each a link
// to the full report with the state kept.
func (w *Web) reportIndex(rw http.ResponseWriter, r *http.Request) error {
	p, site, s, err := w.sitePage(r)
	if err != nil {
		return err
	}
	list, err := w.reportsOf(r, p, site, "", "")
	if err != nil {
		return err
	}
	l := w.msgs.locale(r)
	f, err := w.newFrame(r, p, l.Or("nav.reports", "Reports"), "report", site, s)
	if err != nil {
		return err
	}
	page := reportsPage{frame: f}
	at := map[string]int{}
	for _, ri := range list {
		i, ok := at[ri.Category]
		if !ok {
			i = len(page.Categories)
			at[ri.Category] = i
			page.Categories = append(page.Categories, reportCategory{Name: l.Or("cat."+ri.Category, ri.Category)})
		}
		page.Categories[i].Reports = append(page.Categories[i].Reports, reportLink{Name: l.reportName(ri),
			Dimension: l.Or("dim."+ri.Method(), ri.Dimension), Href: s.SiteLink("/report/" + ri.Method())})
	}
	return w.renderPage(rw, http.StatusOK, "reports.html", page)
}

// Rows per page a report offers; the first page size is the API's own default.
var pageSizes = []int{25, 50, 100, 500}

const (
	defaultPageSize = 100
	// maxOpen bounds the groups open at once: each is one more API call.
	maxOpen      = 10
	maxSearchLen = 200
)

// table is how a report's rows are shown, from the query string beside the state: sort
// column and order, search, page, flat or as a tree, and the groups opened.
type table struct {
	Sort, Order, Q string
	Limit, Offset  int
	Flat           bool
	Open           []int
}

// readTable reads a table's view, refusing what the report cannot do with a clear message.
func readTable(q url.Values, ri reportInfo) (table, error) {
	t := table{Sort: strings.TrimSpace(q.Get("sort")), Order: strings.ToLower(strings.TrimSpace(q.Get("order"))), Q: strings.TrimSpace(q.Get("q")),
		Limit: defaultPageSize, Flat: q.Get("flat") == "1"}
	if t.Sort != "" && t.Sort != "label" && !ri.has(t.Sort) {
		return t, pageErrorT(http.StatusBadRequest, "rep.err.sort")
	}
	switch t.Order {
	case "":
		if t.Sort != "" {
			t.Order = "desc"
			if t.Sort == "label" {
				t.Order = "asc"
			}
		}
	case "asc", "desc":
		if t.Sort == "" {
			t.Order = ""
		}
	default:
		return t, pageErrorT(http.StatusBadRequest, "rep.err.order")
	}
	if len(t.Q) > maxSearchLen {
		return t, pageErrorT(http.StatusBadRequest, "rep.err.search_long", maxSearchLen)
	}
	if v := strings.TrimSpace(q.Get("limit")); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || !slices.Contains(pageSizes, n) {
			return t, pageErrorT(http.StatusBadRequest, "rep.err.limit")
		}
		t.Limit = n
	}
	if v := strings.TrimSpace(q.Get("offset")); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 1<<30 {
			return t, pageErrorT(http.StatusBadRequest, "rep.err.offset")
		}
		t.Offset = n
	}
	if v := strings.TrimSpace(q.Get("expand")); v != "" {
		for part := range strings.SplitSeq(v, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(part))
			if err != nil || n <= 0 {
				return t, pageErrorT(http.StatusBadRequest, "rep.err.expand")
			}
			if !slices.Contains(t.Open, n) {
				t.Open = append(t.Open, n)
			}
		}
		if len(t.Open) > maxOpen {
			return t, pageErrorT(http.StatusBadRequest, "rep.err.expand_max", maxOpen)
		}
	}
	return t, nil
}

// pairs is the table's view as link overrides (a key set to "" is dropped), with over
// applied after it.
func (t table) pairs(over ...string) []string {
	out := []string{"sort", t.Sort, "order", t.Order, "q", t.Q, "flat", "", "offset", "", "limit", "", "expand", ""}
	if t.Flat {
		out[7] = "1"
	}
	if t.Offset > 0 {
		out[9] = strconv.Itoa(t.Offset)
	}
	if t.Limit != defaultPageSize {
		out[11] = strconv.Itoa(t.Limit)
	}
	if len(t.Open) > 0 && !t.Flat {
		ids := make([]string, len(t.Open))
		for i, id := range t.Open {
			ids[i] = strconv.Itoa(id)
		}
		out[13] = strings.Join(ids, ",")
	}
	return append(out, over...)
}

// api are the API parameters of the table's rows under s: sort, search and flattening.
func (t table) api(s state, method string) url.Values {
	v := s.params(method)
	if t.Sort != "" {
		v.Set("filter_sort_column", t.Sort)
		v.Set("filter_sort_order", t.Order)
	}
	if t.Q != "" {
		// The search is for text as typed, not a regular expression.
		v.Set("filter_pattern", regexp.QuoteMeta(t.Q))
	}
	if t.Flat {
		v.Set("flat", "1")
	}
	return v
}

// reportCol is a column of a shown table.
type reportCol struct {
	Key, Name string
	Href      template.URL
	// Sorted is "ascending" or "descending" on the column the rows are sorted by.
	Sorted string
}

type reportCell struct {
	Col string
	V   any
}

// reportRow is a row as shown: its cells, the links it offers, and its group's rows when
// opened.
type reportRow struct {
	Label   string
	Level   int
	Cells   []reportCell
	Prev    any
	Segment template.URL
	// Toggle opens or closes the row's group (rows with a subtable); Open says which.
	Toggle template.URL
	Open   bool
	// Evolution is the row over time (rows of the main table only).
	Evolution template.URL
	Sub       *rowsView
}

// rowsView is what the rows template needs: rows with the table they belong to.
type rowsView struct {
	L       *locale
	Compare bool
	Main    string
	Rows    []reportRow
	// More: a group's rows stop at the page size (the flat view lists every one).
	More  bool
	Limit int
	Level int
}

type recordRow struct {
	Col, Name string
	V, Prev   any
	Evolution template.URL
}

type exportLink struct {
	Format string
	Href   template.URL
}

type reportPage struct {
	frame
	Report  reportInfo
	Name    string
	Records []recordRow
	Table   table
	Cols    []reportCol
	Rows    rowsView
	// Total is the number of rows of the report under the search; First and Last number the
	// rows shown (from 1).
	Total, First, Last int
	PrevPage, NextPage template.URL
	FlatLink           template.URL
	HasGroups          bool
	ClearSearch        template.URL
	Exports            []exportLink
	PageSizes          []int
	AllReports         template.URL
}

// report serves /site/{idSite}/report/{method}: one report in full, every figure from the
// Reporting API for the state. Its calls, made at once: the page of rows, the rows' count
// (every row, label only), the previous period's main metric when comparing, and one call
// per opened group: a group's rows are fetched only when it is opened, so a page costs a
// bounded number of calls whatever the tree's size (expanded=1 would fetch every group of
// every row shown).
func (w *Web) report(rw http.ResponseWriter, r *http.Request) error {
	p, site, s, err := w.sitePage(r)
	if err != nil {
		return err
	}
	ri, err := w.findReport(r, p, site)
	if err != nil {
		return err
	}
	t, err := readTable(r.URL.Query(), ri)
	if err != nil {
		return err
	}
	l := w.msgs.locale(r)
	name := l.reportName(ri)
	page := reportPage{Report: ri, Name: name, Table: t, PageSizes: pageSizes, AllReports: s.SiteLink("/reports")}
	for _, f := range []string{"csv", "tsv", "json"} {
		page.Exports = append(page.Exports, exportLink{Format: strings.ToUpper(f),
			Href: s.SiteLink("/report/"+ri.Method()+"/export", "sort", t.Sort, "order", t.Order, "q", t.Q, "flat", flatValue(t.Flat), "format", f)})
	}
	if ri.Record() {
		if err := w.recordReport(r, p, s, ri, l, &page); err != nil {
			return err
		}
	} else if err := w.tableReport(r, p, s, ri, l, &page); err != nil {
		return err
	}
	if page.frame, err = w.newFrame(r, p, name, "report", site, s); err != nil {
		return err
	}
	return w.renderPage(rw, http.StatusOK, "report.html", page)
}

func flatValue(flat bool) string {
	if flat {
		return "1"
	}
	return ""
}

// recordReport fills a report of one record: each metric with its value (and the previous
// period's).
func (w *Web) recordReport(r *http.Request, p *auth.Principal, s state, ri reportInfo, l *locale, page *reportPage) error {
	calls := []url.Values{s.params(ri.Method())}
	if s.Compare {
		calls = append(calls, s.previous().params(ri.Method()))
	}
	got, err := w.callAll(r, p, calls)
	if err != nil {
		return err
	}
	now, before := object(got[0]), map[string]any{}
	if s.Compare {
		before = object(got[1])
	}
	for _, c := range ri.Columns {
		v, ok := now[c.Key]
		if !ok {
			continue
		}
		page.Records = append(page.Records, recordRow{Col: c.Key, Name: l.columnName(ri, c), V: v, Prev: before[c.Key],
			Evolution: s.SiteLink("/report/"+ri.Method()+"/evolution", "metric", c.Key)})
	}
	return nil
}

// tableReport fills a report of rows.
func (w *Web) tableReport(r *http.Request, p *auth.Principal, s state, ri reportInfo, l *locale, page *reportPage) error {
	t, method, main := page.Table, ri.Method(), ri.main()
	rowsCall := t.api(s, method)
	rowsCall.Set("filter_limit", strconv.Itoa(t.Limit))
	rowsCall.Set("filter_offset", strconv.Itoa(t.Offset))
	count := t.api(s, method)
	count.Set("filter_limit", "-1")
	count.Set("showColumns", "label")
	calls := []url.Values{rowsCall, count}
	if s.Compare {
		prev := t.api(s.previous(), method)
		prev.Set("filter_limit", "-1")
		prev.Set("showColumns", main)
		calls = append(calls, prev)
	}
	fixed := len(calls)
	if !t.Flat {
		for _, id := range t.Open {
			sub := s.params(method)
			sub.Set("idSubtable", strconv.Itoa(id))
			sub.Set("filter_limit", strconv.Itoa(t.Limit))
			if t.Sort != "" {
				sub.Set("filter_sort_column", t.Sort)
				sub.Set("filter_sort_order", t.Order)
			}
			calls = append(calls, sub)
		}
	}
	got, errs := w.callEach(r, p, calls)
	if err := errors.Join(errs[:fixed]...); err != nil {
		return err
	}
	groups := map[int][]map[string]any{}
	for i, id := range t.Open {
		if fixed+i >= len(got) {
			break
		}
		var pe *PageError
		switch err := errs[fixed+i]; {
		case err == nil:
			groups[id] = rows(got[fixed+i])
		case errors.As(err, &pe) && pe.Status == http.StatusBadRequest:
			// A group this period does not have (a link from another period): not shown.
		default:
			return err
		}
	}
	all := rows(got[1])
	page.Total = len(all)
	for _, row := range all {
		if _, ok := row["idsubdatatable"]; ok {
			page.HasGroups = true
			break
		}
	}
	var before map[string]any
	if s.Compare {
		before = map[string]any{}
		for _, row := range rows(got[2]) {
			before[fmt.Sprint(row["label"])] = row[main]
		}
	}
	shown := rows(got[0])
	page.Cols = w.reportCols(s, ri, l, t, shown, main)
	keys := make([]string, len(page.Cols)-1)
	for i, c := range page.Cols[1:] {
		keys[i] = c.Key
	}
	var mk func(rs []map[string]any, level int) []reportRow
	mk = func(rs []map[string]any, level int) []reportRow {
		out := make([]reportRow, 0, len(rs))
		for _, row := range rs {
			rr := reportRow{Label: fmt.Sprint(row["label"]), Level: level}
			for _, k := range keys {
				rr.Cells = append(rr.Cells, reportCell{Col: k, V: row[k]})
			}
			if seg, ok := row["segment"].(string); ok && seg != "" {
				rr.Segment = s.SiteLink("/report/"+method, t.pairs("segment", andSegment(s.Segment, seg), "offset", "", "expand", "", "q", "")...)
			}
			if level == 0 {
				if before != nil {
					rr.Prev = before[rr.Label]
				}
				rr.Evolution = s.SiteLink("/report/"+method+"/evolution", "label", rr.Label, "metric", main, "flat", flatValue(t.Flat))
			}
			if id, err := strconv.Atoi(fmt.Sprint(row["idsubdatatable"])); err == nil && id > 0 && !t.Flat {
				sub, open := groups[id]
				rr.Open = open
				rr.Toggle = s.SiteLink("/report/"+method, t.withOpen(id, !open).pairs()...)
				if open {
					rr.Sub = &rowsView{L: l, Rows: mk(sub, level+1), More: len(sub) >= t.Limit, Limit: t.Limit, Level: level + 1, Compare: s.Compare}
				}
			}
			out = append(out, rr)
		}
		return out
	}
	page.Rows = rowsView{L: l, Compare: s.Compare, Main: main, Rows: mk(shown, 0)}
	if len(shown) > 0 {
		page.First, page.Last = t.Offset+1, t.Offset+len(shown)
	}
	if t.Offset > 0 {
		page.PrevPage = s.SiteLink("/report/"+method, t.pairs("offset", strconv.Itoa(max(0, t.Offset-t.Limit)), "expand", "")...)
	}
	if t.Offset+t.Limit < page.Total {
		page.NextPage = s.SiteLink("/report/"+method, t.pairs("offset", strconv.Itoa(t.Offset+t.Limit), "expand", "")...)
	}
	page.FlatLink = s.SiteLink("/report/"+method, t.pairs("flat", flatValue(!t.Flat), "offset", "", "expand", "")...)
	if t.Q != "" {
		page.ClearSearch = s.SiteLink("/report/"+method, t.pairs("q", "", "offset", "", "expand", "")...)
	}
	return nil
}

// withOpen is the table with the group id opened or closed; opening one more than maxOpen
// closes the longest open.
func (t table) withOpen(id int, open bool) table {
	t.Open = slices.DeleteFunc(slices.Clone(t.Open), func(x int) bool { return x == id })
	if open {
		t.Open = append(t.Open, id)
		if len(t.Open) > maxOpen {
			t.Open = t.Open[len(t.Open)-maxOpen:]
		}
	}
	return t
}

// reportCols are a table's columns: the label, then the main metric, then the report's other
// columns in the API's order, leaving out those no shown row has (unique visitors of a
// range); each header a link sorting by it.
func (w *Web) reportCols(s state, ri reportInfo, l *locale, t table, shown []map[string]any, main string) []reportCol {
	present := func(k string) bool {
		if len(shown) == 0 {
			return true
		}
		for _, row := range shown {
			if _, ok := row[k]; ok {
				return true
			}
		}
		return false
	}
	var metas []metaColumn
	for _, c := range ri.Columns {
		if c.Key == main {
			metas = append([]metaColumn{c}, metas...)
		} else if present(c.Key) {
			metas = append(metas, c)
		}
	}
	cols := []reportCol{{Key: "label", Name: l.Or("dim."+ri.Method(), ri.Dimension)}}
	for _, c := range metas {
		cols = append(cols, reportCol{Key: c.Key, Name: l.columnName(ri, c)})
	}
	for i, c := range cols {
		order := "desc"
		if c.Key == "label" {
			order = "asc"
		}
		if t.Sort == c.Key {
			cols[i].Sorted = "descending"
			if t.Order == "asc" {
				cols[i].Sorted = "ascending"
			}
			order = map[string]string{"asc": "desc", "desc": "asc"}[t.Order]
		}
		cols[i].Href = s.SiteLink("/report/"+ri.Method(), t.pairs("sort", c.Key, "order", order, "offset", "")...)
	}
	return cols
}
