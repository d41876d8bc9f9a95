package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"math"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"hearth/internal/event"
	"hearth/internal/store"
)

// seedActions stores one visit of site with the given actions, a second apart (their type,
// URL, title and event fields as given).
func (r *pagesRig) seedActions(t *testing.T, site event.SiteID, id int, at time.Time, ref event.Referrer, acts ...event.Action) {
	t.Helper()
	v := event.Visit{SiteID: site, ID: event.VisitID(id), VisitorID: event.VisitorID{byte(id), byte(site), 0xA5}, First: at,
		Last: at.Add(time.Duration(len(acts)-1) * time.Second), VisitCount: 1, Referrer: ref, LocalTime: -1, Actions: int32(len(acts))}
	v.ExitTime = v.Last
	seenURL, seenTitle := map[string]bool{}, map[string]bool{}
	for i := range acts {
		a := &acts[i]
		a.SiteID, a.VisitID, a.VisitorID, a.Time, a.Index = site, v.ID, v.VisitorID, at.Add(time.Duration(i)*time.Second), int32(i+1)
		a.SearchCount, a.PerfNetwork, a.PerfServer, a.PerfTransfer, a.PerfDOMProc, a.PerfDOMDone, a.PerfOnLoad = -1, -1, -1, -1, -1, -1, -1
		if a.Type == event.ActionPageview {
			a.FirstURLInVisit, a.FirstTitleInVisit = !seenURL[a.URL], !seenTitle[a.Title]
			seenURL[a.URL], seenTitle[a.Title] = true, true
			if v.Pageviews == 0 {
				v.EntryURL, v.EntryTitle = a.URL, a.Title
			}
			v.ExitURL, v.ExitTitle = a.URL, a.Title
			v.Pageviews++
		}
	}
	r.seq++
	if err := r.events.Apply(context.Background(), store.Batch{Seq: r.seq, Visits: []event.Visit{v}, Actions: acts}); err != nil {
		t.Fatal(err)
	}
}

func page(u, title string) event.Action {
	return event.Action{Type: event.ActionPageview, URL: u, Title: title}
}

func evt(category, action string) event.Action {
	return event.Action{Type: event.ActionEvent, EventCategory: category, EventAction: action, EventName: "clip"}
}

const imgXSS = `"><img src=x onerror=alert(1)>`

var direct = event.Referrer{Type: event.ReferrerDirect}

// reportRig is dashRig with more of site 1 today: a folder of two pages, a page whose URL and
// title are XSS payloads, a visit of thirty pages (the first titled "Hello, world"), a visit
// of events, and one visit of /a yesterday.
//
// Today's page URLs, top level: /a (2 views), /b, /c, blog (3 views: /one twice, /two once),
// the XSS page, /p01 … /p30 (one view each): 35 rows. Event categories: Video (3 events:
// play twice, pause once) and the XSS category (1).
func reportRig(t *testing.T) (*pagesRig, map[string]string) {
	r, sess := dashRig(t)
	day := r.now.Truncate(24 * time.Hour)
	at := day.Add(time.Hour)
	if r.now.Sub(day) < 2*time.Hour {
		at = day
	}
	at = at.Add(10 * time.Minute)
	r.seedActions(t, 1, 5, at, direct, page("https://shop.example/blog/one", "Blog one"), page("https://shop.example/blog/two", "Blog two"))
	r.seedActions(t, 1, 6, at.Add(time.Minute), direct, page("https://shop.example/blog/one", "Blog one"))
	r.seedActions(t, 1, 7, at.Add(2*time.Minute), direct, page("https://shop.example/x?q="+xss, imgXSS))
	var many []event.Action
	for i := 1; i <= 30; i++ {
		title := fmt.Sprintf("Page %02d", i)
		if i == 1 {
			title = "Hello, world"
		}
		many = append(many, page(fmt.Sprintf("https://shop.example/p%02d", i), title))
	}
	r.seedActions(t, 1, 8, at.Add(3*time.Minute), direct, many...)
	r.seedActions(t, 1, 9, at.Add(4*time.Minute), direct, evt("Video", "play"), evt("Video", "play"), evt("Video", "pause"), evt(xss, "play"))
	r.seedActions(t, 1, 10, at.Add(-24*time.Hour), direct, page("https://shop.example/a", "Title https://shop.example/a"))
	return r, sess
}

// shownRow is a row of a report table as the page shows it.
type shownRow struct {
	label string
	level int
	cells map[string]string // by column
	prev  map[string]string
}

var (
	rowRe  = regexp.MustCompile(`<tr class="lv\d+[^"]*" data-label="([^"]*)" data-level="(\d+)">`)
	cellRe = regexp.MustCompile(`<td class="num" data-col="([^"]+)">([^<]*)</td>`)
	prevRe = regexp.MustCompile(`<td class="num prev" data-prev="([^"]+)">([^<]*)</td>`)
)

// shownRows reads the rows of a report page in order.
func shownRows(body string) []shownRow {
	locs := rowRe.FindAllStringSubmatchIndex(body, -1)
	var out []shownRow
	for i, loc := range locs {
		end := len(body)
		if i+1 < len(locs) {
			end = locs[i+1][0]
		}
		chunk := body[loc[1]:end]
		if j := strings.Index(chunk, "</tr>"); j >= 0 {
			chunk = chunk[:j]
		}
		level, _ := strconv.Atoi(body[loc[4]:loc[5]])
		row := shownRow{label: html.UnescapeString(body[loc[2]:loc[3]]), level: level, cells: map[string]string{}, prev: map[string]string{}}
		for _, m := range cellRe.FindAllStringSubmatch(chunk, -1) {
			row.cells[m[1]] = html.UnescapeString(m[2])
		}
		for _, m := range prevRe.FindAllStringSubmatch(chunk, -1) {
			row.prev[m[1]] = html.UnescapeString(m[2])
		}
		out = append(out, row)
	}
	return out
}

func topRows(rows []shownRow) []shownRow {
	var out []shownRow
	for _, r := range rows {
		if r.level == 0 {
			out = append(out, r)
		}
	}
	return out
}

// expectShown is how an English page writes an API value of the fixture: the API's rounded
// percentages as they are, seconds (all under a minute here) as "N s", event value sums with
// two decimals, counts (all under a thousand) as digits.
func expectShown(col string, v any) string {
	switch x := v.(type) {
	case string:
		return x
	case float64:
		switch col {
		case "avg_time_on_site", "avg_time_on_page", "sum_time_spent", "sum_visit_length", "entry_sum_visit_length":
			return fmt.Sprintf("%d s", int(x))
		case "sum_event_value", "revenue":
			return fmt.Sprintf("%.2f", x)
		}
		if x == math.Trunc(x) {
			return strconv.FormatFloat(x, 'f', -1, 64)
		}
		return fmt.Sprintf("%.2f", x)
	}
	return fmt.Sprint(v)
}

func apiRows(v any) []map[string]any {
	list, _ := v.([]any)
	out := make([]map[string]any, 0, len(list))
	for _, x := range list {
		out = append(out, x.(map[string]any))
	}
	return out
}

// sameRows checks that a page shows the API's rows in its order, each shown value equal to
// the API's, and every metric column of the API's rows shown.
func sameRows(t *testing.T, what string, page []shownRow, api []map[string]any) {
	t.Helper()
	if len(page) != len(api) {
		t.Errorf("%s: the page shows %d rows, the API answers %d", what, len(page), len(api))
		return
	}
	for i, want := range api {
		got := page[i]
		if label := fmt.Sprint(want["label"]); got.label != label {
			t.Errorf("%s: row %d is %q, the API's is %q", what, i, got.label, label)
			continue
		}
		if len(got.cells) == 0 {
			t.Errorf("%s: row %q shows no figure", what, got.label)
		}
		for col, shown := range got.cells {
			if w := expectShown(col, want[col]); shown != w {
				t.Errorf("%s: row %q column %s shows %q, the API answers %v (%q)", what, got.label, col, shown, want[col], w)
			}
		}
		for col := range want {
			if _, ok := got.cells[col]; !ok && strings.HasPrefix(col, "nb_") {
				t.Errorf("%s: row %q does not show the API's %s", what, got.label, col)
			}
		}
	}
}

func get(t *testing.T, r *pagesRig, sess, path string, header map[string]string) response {
	t.Helper()
	return r.do(t, request{method: http.MethodGet, path: path, cookies: map[string]string{"hearth_session": sess}, header: header})
}

func TestReportShowsTheAPIsRows(t *testing.T) {
	r, sess := reportRig(t)
	for _, method := range []string{"Actions.getPageUrls", "Actions.getPageTitles", "Referrers.getReferrerType", "Referrers.getWebsites",
		"DevicesDetection.getBrowsers", "Events.getCategory", "Actions.getEntryPageUrls"} {
		for _, seg := range []string{"", "referrerType==direct"} {
			q := url.Values{"period": {"day"}, "date": {"today"}}
			if seg != "" {
				q.Set("segment", seg)
			}
			a := get(t, r, sess["root"], "/site/1/report/"+method+"?"+q.Encode(), nil)
			if a.code != 200 {
				t.Fatalf("%s: %d %s", method, a.code, a.body)
			}
			api := url.Values{"method": {method}, "idSite": {"1"}, "period": {"day"}, "date": {"today"}}
			if seg != "" {
				api.Set("segment", seg)
			}
			sameRows(t, method+" "+seg, topRows(shownRows(a.body)), apiRows(r.apiJSON(t, "root", api)))
		}
	}
	// Hand-counted figures of the fixture, to know the comparison compares something.
	a := get(t, r, sess["root"], "/site/1/report/Actions.getPageUrls?period=day&date=today", nil)
	byLabel := map[string]shownRow{}
	for _, row := range shownRows(a.body) {
		byLabel[row.label] = row
	}
	for label, hits := range map[string]string{"/a": "2", "blog": "3", "/p30": "1"} {
		if got := byLabel[label].cells["nb_hits"]; got != hits {
			t.Errorf("page views of %s = %q, want %s", label, got, hits)
		}
	}
	if !strings.Contains(a.body, "Rows 1–35 of 35") {
		t.Error("the page does not say it shows all 35 rows")
	}
	ev := get(t, r, sess["root"], "/site/1/report/Events.getCategory?period=day&date=today", nil)
	if rows := shownRows(ev.body); len(rows) != 2 || rows[0].label != "Video" || rows[0].cells["nb_events"] != "3" {
		t.Errorf("event categories: %+v", rows)
	}
	r.log.check(t)
}

func TestReportSortSearchAndPages(t *testing.T) {
	r, sess := reportRig(t)
	base := url.Values{"method": {"Actions.getPageUrls"}, "idSite": {"1"}, "period": {"day"}, "date": {"today"}}
	with := func(kv ...string) url.Values {
		v := url.Values{}
		for k, vs := range base {
			v[k] = vs
		}
		for i := 0; i+1 < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return v
	}
	for _, c := range []struct {
		name, query string
		api         url.Values
		first, n    int // hand-counted: the first row's label is checked by the API, these by the fixture
	}{
		{"by views, fewest first", "sort=nb_hits&order=asc", with("filter_sort_column", "nb_hits", "filter_sort_order", "asc"), 0, 35},
		{"by views, most first", "sort=nb_hits&order=desc", with("filter_sort_column", "nb_hits", "filter_sort_order", "desc"), 0, 35},
		{"by label", "sort=label", with("filter_sort_column", "label", "filter_sort_order", "asc"), 0, 35},
		{"search", "q=p1", with("filter_pattern", "p1"), 0, 10}, // /p10 … /p19
		{"search flat", "q=blog&flat=1", with("filter_pattern", "blog", "flat", "1"), 0, 2},
		{"search as text", "q=" + url.QueryEscape("p(1"), with("filter_pattern", `p\(1`), 0, 0},
		{"first page of 25", "sort=label&limit=25", with("filter_sort_column", "label", "filter_sort_order", "asc", "filter_limit", "25"), 0, 25},
		{"second page of 25", "sort=label&limit=25&offset=25", with("filter_sort_column", "label", "filter_sort_order", "asc", "filter_limit", "25", "filter_offset", "25"), 25, 10},
	} {
		a := get(t, r, sess["root"], "/site/1/report/Actions.getPageUrls?period=day&date=today&"+c.query, nil)
		if a.code != 200 {
			t.Fatalf("%s: %d %s", c.name, a.code, a.body)
		}
		rows := topRows(shownRows(a.body))
		if len(rows) != c.n {
			t.Errorf("%s: %d rows, want %d", c.name, len(rows), c.n)
		}
		sameRows(t, c.name, rows, apiRows(r.apiJSON(t, "root", c.api)))
	}
	// The sorted order is the fixture's: /a and blog have the most views.
	desc := topRows(shownRows(get(t, r, sess["root"], "/site/1/report/Actions.getPageUrls?period=day&date=today&sort=nb_hits&order=desc", nil).body))
	if len(desc) < 2 || desc[0].label != "blog" || desc[1].label != "/a" {
		t.Errorf("most viewed first: %v", desc[:2])
	}
	// Pages: rows 26–35 of 35, a link back and none onwards; the first page links to the second.
	second := get(t, r, sess["root"], "/site/1/report/Actions.getPageUrls?period=day&date=today&sort=label&limit=25&offset=25", nil).body
	if !strings.Contains(second, "Rows 26–35 of 35") || !strings.Contains(second, `rel="prev"`) || strings.Contains(second, `rel="next"`) {
		t.Error("the second page does not say rows 26–35 of 35 with a link back only")
	}
	first := get(t, r, sess["root"], "/site/1/report/Actions.getPageUrls?period=day&date=today&sort=label&limit=25", nil).body
	if !strings.Contains(first, "Rows 1–25 of 35") || !strings.Contains(first, "offset=25") {
		t.Error("the first page does not link to the next rows")
	}
	search := get(t, r, sess["root"], "/site/1/report/Actions.getPageUrls?period=day&date=today&q=p1", nil).body
	if !strings.Contains(search, "Rows 1–10 of 10") {
		t.Error("the search's total is not the rows matching it")
	}
	// The sort headers link to the sort, the current one marked for screen readers.
	if !strings.Contains(first, `aria-sort="ascending"`) || !strings.Contains(first, "sort=nb_hits") {
		t.Error("the column headers do not sort")
	}
	r.log.check(t)
}

// apiRaw asks the Reporting API over HTTP with a token, as an API client would, and returns
// its answer as sent.
func (r *pagesRig) apiRaw(t *testing.T, params url.Values) response {
	t.Helper()
	tok, _, err := r.auth.NewToken(context.Background(), "root", "test", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	params.Set("module", "API")
	params.Set("token_auth", tok)
	a := r.do(t, request{method: http.MethodPost, path: "/index.php", form: params})
	if a.code != 200 {
		t.Fatalf("API %v: %d %s", params.Get("method"), a.code, a.body)
	}
	return a
}

func TestReportExportIsTheAPIsAnswer(t *testing.T) {
	r, sess := reportRig(t)
	for _, c := range []struct {
		method, query string
		api           url.Values
	}{
		{"Actions.getPageUrls", "", url.Values{}},
		{"Actions.getPageUrls", "segment=" + url.QueryEscape("referrerType==direct") + "&sort=nb_hits&order=asc&q=blog&flat=1",
			url.Values{"segment": {"referrerType==direct"}, "filter_sort_column": {"nb_hits"}, "filter_sort_order": {"asc"}, "filter_pattern": {"blog"}, "flat": {"1"}}},
		{"Referrers.getReferrerType", "segment=" + url.QueryEscape("referrerType!=search"), url.Values{"segment": {"referrerType!=search"}}},
		{"Events.getCategory", "", url.Values{}},
		{"VisitsSummary.get", "", url.Values{}},
	} {
		for format, ctype := range map[string]string{"csv": "text/csv; charset=utf-16le", "tsv": "text/tab-separated-values; charset=utf-16le", "json": "application/json; charset=utf-8"} {
			a := get(t, r, sess["viewer"], "/site/1/report/"+c.method+"/export?period=day&date=today&format="+format+"&"+c.query, nil)
			if a.code != 200 {
				t.Fatalf("%s %s: %d %s", c.method, format, a.code, a.body)
			}
			api := url.Values{"method": {c.method}, "idSite": {"1"}, "period": {"day"}, "date": {"today"}, "format": {format}}
			if c.method != "VisitsSummary.get" {
				api.Set("filter_limit", "-1")
			}
			for k, v := range c.api {
				api[k] = v
			}
			want := r.apiRaw(t, api)
			if a.body != want.body {
				t.Errorf("%s %s %s: the export differs from the API's answer:\n%q\n%q", c.method, format, c.query, a.body, want.body)
			}
			if len(a.body) < 20 {
				t.Errorf("%s %s: a nearly empty export: %q", c.method, format, a.body)
			}
			if got := a.header.Get("Content-Type"); got != ctype || got != want.header.Get("Content-Type") {
				t.Errorf("%s %s: Content-Type %q", c.method, format, got)
			}
			if got, want := a.header.Get("Content-Disposition"), `attachment; filename=`+c.method+"_1_day_today."+format; got != want {
				t.Errorf("%s %s: Content-Disposition %q, want %q", c.method, format, got, want)
			}
		}
	}
	// Every row is in it, not the page's: the 35 page URLs of today and the header line.
	csv := get(t, r, sess["root"], "/site/1/report/Actions.getPageUrls/export?period=day&date=today&format=json&limit=25", nil)
	if n := len(apiRows(decodeJSON(t, csv.body))); n != 35 {
		t.Errorf("the export holds %d rows, want all 35", n)
	}
	bad := get(t, r, sess["root"], "/site/1/report/Actions.getPageUrls/export?period=day&date=today&format=xls", nil)
	if bad.code != 400 || bad.header.Get("Content-Disposition") != "" || !strings.Contains(bad.body, "csv, tsv or json") {
		t.Errorf("an unknown format: %d %q", bad.code, bad.header.Get("Content-Disposition"))
	}
	badSeg := get(t, r, sess["root"], "/site/1/report/Actions.getPageUrls/export?period=day&date=today&format=csv&segment=nosuch%3D%3D1", nil)
	if badSeg.code != 400 || badSeg.header.Get("Content-Disposition") != "" {
		t.Errorf("a bad segment's export: %d %q", badSeg.code, badSeg.header.Get("Content-Disposition"))
	}
	r.log.check(t)
}

func decodeJSON(t *testing.T, body string) any {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(body), &v); err != nil {
		t.Fatalf("not JSON: %v: %q", err, body)
	}
	return v
}

func TestReportBadInputIsAClearError(t *testing.T) {
	r, sess := reportRig(t)
	for _, c := range []struct {
		path string
		code int
		want string
	}{
		{"/site/1/report/Nope.nothing", 404, "no report with this name"},
		{"/site/1/report/VisitsSummary", 404, "no report with this name"},
		{"/site/1/report/" + url.PathEscape("<script>.x"), 404, "no report with this name"},
		{"/site/1/report/API.getReportMetadata", 404, "no report with this name"},
		{"/site/1/report/Actions.getPageUrls?sort=nosuchcolumn", 400, "cannot be sorted by that column"},
		{"/site/1/report/Actions.getPageUrls?sort=nb_hits&order=sideways", 400, "asc (ascending) or desc"},
		{"/site/1/report/Actions.getPageUrls?limit=7", 400, "25, 50, 100 or 500"},
		{"/site/1/report/Actions.getPageUrls?limit=-1", 400, "25, 50, 100 or 500"},
		{"/site/1/report/Actions.getPageUrls?offset=-3", 400, "whole number"},
		{"/site/1/report/Actions.getPageUrls?offset=ten", 400, "whole number"},
		{"/site/1/report/Actions.getPageUrls?expand=x", 400, "numbers"},
		{"/site/1/report/Actions.getPageUrls?q=" + strings.Repeat("a", 300), 400, "too long"},
		{"/site/1/report/Actions.getPageUrls?period=fortnight", 400, "fortnight"},
		{"/site/1/report/Actions.getPageUrls/evolution", 400, "Choose a row"},
		{"/site/1/report/Actions.getPageUrls/evolution?label=/a&metric=nosuch", 400, "one of the report's metrics"},
		{"/site/1/report/Nope.nothing/export?format=csv", 404, "no report with this name"},
		{"/site/1/report/Actions.getPageUrls/export?format=csv&sort=nosuch", 400, "cannot be sorted"},
	} {
		a := get(t, r, sess["root"], c.path, nil)
		if a.code != c.code || !strings.Contains(html.UnescapeString(a.body), c.want) || strings.Contains(a.body, "goroutine") {
			t.Errorf("%s: %d, want %d naming %q", c.path, a.code, c.code, c.want)
		}
	}
	// A group of another period (or none) is not shown, and not an error.
	if a := get(t, r, sess["root"], "/site/1/report/Actions.getPageUrls?period=day&date=today&expand=12345", nil); a.code != 200 {
		t.Errorf("an unknown group: %d", a.code)
	}
	// A record report shows its figures.
	sum := get(t, r, sess["root"], "/site/1/report/VisitsSummary.get?period=day&date=today", nil)
	if sum.code != 200 || !regexp.MustCompile(`data-col="nb_visits">8<`).MatchString(sum.body) {
		t.Errorf("VisitsSummary.get: %d; eight visits today shown: %v", sum.code, strings.Contains(sum.body, `data-col="nb_visits">8<`))
	}
	// A viewer of site 1 only finds no report of site 2, as if it did not exist.
	for _, p := range []string{"/site/2/reports", "/site/2/report/Actions.getPageUrls", "/site/2/report/Actions.getPageUrls/export?format=csv",
		"/site/2/report/Actions.getPageUrls/evolution?label=/zephyrine", "/site/2/report/Nope.nothing"} {
		a := get(t, r, sess["viewer"], p, nil)
		none := get(t, r, sess["viewer"], strings.Replace(p, "/site/2/", "/site/999/", 1), nil)
		if a.code != 404 || strings.Contains(a.body, "Zephyrine") || strings.Contains(a.body, "zephyrine") || strip(a.body) != strip(none.body) {
			t.Errorf("viewer on %s: %d", p, a.code)
		}
	}
	r.log.check(t)
}

func TestReportEscapesPayloads(t *testing.T) {
	r, sess := reportRig(t)
	for _, p := range []string{"/site/1/report/Actions.getPageTitles", "/site/1/report/Actions.getPageUrls", "/site/1/report/Actions.getPageUrls?flat=1",
		"/site/1/report/Events.getCategory", "/site/1/report/Events.getCategory/evolution?label=" + url.QueryEscape(xss),
		"/site/1/report/Actions.getPageTitles/evolution?label=" + url.QueryEscape(imgXSS), "/site/1/reports"} {
		sep := "?"
		if strings.Contains(p, "?") {
			sep = "&"
		}
		a := get(t, r, sess["root"], p+sep+"period=day&date=today", nil)
		if a.code != 200 {
			t.Fatalf("%s: %d %s", p, a.code, a.body)
		}
		if strings.Contains(a.body, xss) || strings.Contains(a.body, "<img src=x") {
			t.Errorf("%s: a payload reaches the page unescaped", p)
		}
	}
	titles := get(t, r, sess["root"], "/site/1/report/Actions.getPageTitles?period=day&date=today", nil).body
	if !strings.Contains(titles, "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;") {
		t.Error("the page title payload is not shown (escaped)")
	}
	events := get(t, r, sess["root"], "/site/1/report/Events.getCategory?period=day&date=today", nil).body
	if !strings.Contains(events, "&lt;script&gt;alert(1)&lt;/script&gt;") {
		t.Error("the event category payload is not shown (escaped)")
	}
	r.log.check(t)
}

func TestReportGroupsOpenOnTheServer(t *testing.T) {
	r, sess := reportRig(t)
	a := get(t, r, sess["root"], "/site/1/report/Actions.getPageUrls?period=day&date=today", nil)
	var blog map[string]any
	for _, row := range apiRows(r.apiJSON(t, "root", url.Values{"method": {"Actions.getPageUrls"}, "idSite": {"1"}, "period": {"day"}, "date": {"today"}})) {
		if row["label"] == "blog" {
			blog = row
		}
	}
	if blog == nil || blog["idsubdatatable"] == nil {
		t.Fatal("the API has no blog folder")
	}
	id := strconv.FormatFloat(blog["idsubdatatable"].(float64), 'f', -1, 64)
	if !strings.Contains(a.body, "expand="+id) {
		t.Fatal("the blog folder has no link opening it")
	}
	open := get(t, r, sess["root"], "/site/1/report/Actions.getPageUrls?period=day&date=today&expand="+id, nil)
	var sub []shownRow
	for _, row := range shownRows(open.body) {
		if row.level == 1 {
			sub = append(sub, row)
		}
	}
	// The folder's pages, hand-counted: /one viewed twice, /two once.
	if len(sub) != 2 || sub[0].label != "/one" || sub[0].cells["nb_hits"] != "2" || sub[1].label != "/two" || sub[1].cells["nb_hits"] != "1" {
		t.Errorf("the blog folder's rows: %+v", sub)
	}
	sameRows(t, "blog folder", sub, apiRows(r.apiJSON(t, "root", url.Values{"method": {"Actions.getPageUrls"}, "idSite": {"1"}, "period": {"day"}, "date": {"today"}, "idSubtable": {id}})))
	if !strings.Contains(open.body, "Hide the rows inside") {
		t.Error("the open folder offers no link closing it")
	}
	// The flat view lists the folder's pages by path, with no groups.
	flat := topRows(shownRows(get(t, r, sess["root"], "/site/1/report/Actions.getPageUrls?period=day&date=today&flat=1&q=blog", nil).body))
	if len(flat) != 2 || flat[0].label != "blog/one" {
		t.Errorf("flat blog pages: %+v", flat)
	}
	// Events: a category opens to its actions (play twice, pause once).
	ev := get(t, r, sess["root"], "/site/1/report/Events.getCategory?period=day&date=today", nil)
	m := regexp.MustCompile(`expand=(\d+)`).FindStringSubmatch(ev.body)
	if m == nil {
		t.Fatal("no event category opens")
	}
	var video []shownRow
	for _, row := range shownRows(get(t, r, sess["root"], "/site/1/report/Events.getCategory?period=day&date=today&expand="+m[1], nil).body) {
		if row.level == 1 {
			video = append(video, row)
		}
	}
	if len(video) != 2 || video[0].label != "play" || video[0].cells["nb_events"] != "2" || video[1].cells["nb_events"] != "1" {
		t.Errorf("the Video category's actions: %+v", video)
	}
	r.log.check(t)
}

func TestReportSegmentLinksAndComparison(t *testing.T) {
	r, sess := reportRig(t)
	a := get(t, r, sess["root"], "/site/1/report/Referrers.getReferrerType?period=day&date=today&compare=previous&segment="+url.QueryEscape("referrerType!=campaign"), nil)
	if a.code != 200 {
		t.Fatalf("%d %s", a.code, a.body)
	}
	want := "segment=" + url.QueryEscape("referrerType!=campaign;referrerType==search")
	if !strings.Contains(html.UnescapeString(a.body), want) {
		t.Errorf("the search engines row does not add its segment to the one applied (%s)", want)
	}
	// Yesterday: one direct visit (hand-counted), none from elsewhere.
	rows := shownRows(a.body)
	byLabel := map[string]shownRow{}
	for _, row := range rows {
		byLabel[row.label] = row
	}
	if got := byLabel["Direct Entry"]; got.cells["nb_visits"] != "6" || got.prev["nb_visits"] != "1" {
		t.Errorf("direct entry now and before: %+v", got)
	}
	if got := byLabel["Search Engines"].prev["nb_visits"]; got != "" {
		t.Errorf("search engines yesterday shown as %q, want nothing", got)
	}
	yesterday := apiRows(r.apiJSON(t, "root", url.Values{"method": {"Referrers.getReferrerType"}, "idSite": {"1"}, "period": {"day"}, "date": {"yesterday"}}))
	if len(yesterday) != 1 || yesterday[0]["nb_visits"] != float64(1) {
		t.Errorf("the API's yesterday: %v", yesterday)
	}
	r.log.check(t)
}

func TestRowEvolution(t *testing.T) {
	r, sess := reportRig(t)
	a := get(t, r, sess["root"], "/site/1/report/Actions.getPageUrls/evolution?period=day&date=today&label=/a&metric=nb_hits", nil)
	if a.code != 200 {
		t.Fatalf("%d %s", a.code, a.body)
	}
	periods := regexp.MustCompile(`<tr data-label="([^"]*)"><th scope="row">[^<]*</th>(.*?)</tr>`).FindAllStringSubmatch(a.body, -1)
	if len(periods) != 30 {
		t.Fatalf("%d periods, want the 30 days up to today", len(periods))
	}
	hits := func(row []string) string {
		m := regexp.MustCompile(`data-col="nb_hits">([^<]*)<`).FindStringSubmatch(row[2])
		if m == nil {
			return ""
		}
		return m[1]
	}
	// /a: viewed once yesterday and twice today (hand-counted), no day before.
	if hits(periods[29]) != "2" || hits(periods[28]) != "1" || hits(periods[0]) != "" {
		t.Errorf("/a today %q, yesterday %q, 30 days ago %q", hits(periods[29]), hits(periods[28]), hits(periods[0]))
	}
	if !strings.Contains(a.body, `<svg viewBox="0 0 720 220"`) {
		t.Error("no chart")
	}
	// The same figures as the API asked for the row over those days.
	today := r.now.Truncate(24 * time.Hour)
	api := r.apiJSON(t, "root", url.Values{"method": {"Actions.getPageUrls"}, "idSite": {"1"}, "period": {"day"},
		"date": {today.AddDate(0, 0, -29).Format(time.DateOnly) + "," + today.Format(time.DateOnly)}, "label": {"/a"}}).(map[string]any)
	if got := apiRows(api[today.Format(time.DateOnly)]); len(got) != 1 || got[0]["nb_hits"] != float64(2) {
		t.Errorf("the API's /a today: %v", got)
	}
	// A label holding a comma is followed by its exact text.
	c := get(t, r, sess["root"], "/site/1/report/Actions.getPageTitles/evolution?period=day&date=today&label="+url.QueryEscape("Hello, world")+"&metric=nb_hits", nil)
	if c.code != 200 || !strings.Contains(c.body, `data-col="nb_hits">1<`) || strings.Contains(c.body, "no figures in these periods") {
		t.Errorf("a label with a comma: %d", c.code)
	}
	// A record report's metric over time: eight visits today.
	v := get(t, r, sess["root"], "/site/1/report/VisitsSummary.get/evolution?period=day&date=today&metric=nb_visits", nil)
	if v.code != 200 || !strings.Contains(v.body, `data-col="nb_visits">8<`) {
		t.Errorf("visits over time: %d", v.code)
	}
	// The report links each row to its evolution.
	rep := get(t, r, sess["root"], "/site/1/report/Actions.getPageUrls?period=day&date=today", nil).body
	if !strings.Contains(rep, "/site/1/report/Actions.getPageUrls/evolution?") || !strings.Contains(rep, "label=%2Fa") {
		t.Error("rows do not link to their evolution")
	}
	r.log.check(t)
}

func TestReportIndexListsEveryReport(t *testing.T) {
	r, sess := reportRig(t)
	a := get(t, r, sess["viewer"], "/site/1/reports?period=day&date=today", nil)
	if a.code != 200 {
		t.Fatalf("%d %s", a.code, a.body)
	}
	meta := apiRows(r.apiJSON(t, "viewer", url.Values{"method": {"API.getReportMetadata"}, "idSite": {"1"}}))
	if len(meta) < 40 {
		t.Fatalf("the API lists %d reports", len(meta))
	}
	for _, m := range meta {
		link := fmt.Sprintf(`href="/site/1/report/%s.%s?date=today&amp;period=day"`, m["module"], m["action"])
		if !strings.Contains(a.body, link) {
			t.Errorf("no link %s", link)
		}
	}
	if n := strings.Count(a.body, `href="/site/1/report/`); n != len(meta) {
		t.Errorf("%d report links, the API lists %d reports", n, len(meta))
	}
	if !strings.Contains(a.body, `aria-current="page">Reports</a>`) {
		t.Error("the Reports section is not marked current")
	}
	// Every report of the list opens, for today and for the default view (the last 30 days as
	// one range, whose rows have no unique visitors).
	for _, m := range meta {
		for _, q := range []string{"?period=day&date=today", ""} {
			p := fmt.Sprintf("/site/1/report/%s.%s%s", m["module"], m["action"], q)
			if a := get(t, r, sess["viewer"], p, nil); a.code != 200 || strings.Contains(a.body, "<td class=\"num\" data-col=\"nb_uniq_visitors\"></td>") {
				t.Errorf("%s: %d", p, a.code)
			}
		}
	}
	r.log.check(t)
}

func TestReportsSpeakGerman(t *testing.T) {
	r, sess := reportRig(t)
	de := map[string]string{"Accept-Language": "de-DE,de;q=0.9"}
	idx := get(t, r, sess["root"], "/site/1/reports?period=day&date=today", de)
	if idx.code != 200 || !strings.Contains(idx.body, "Geräte und Software") || !strings.Contains(idx.body, ">Seitentitel</a>") {
		t.Errorf("German list of reports: %d", idx.code)
	}
	a := get(t, r, sess["root"], "/site/1/report/Actions.getPageUrls?period=day&date=today", de)
	if a.code != 200 || !strings.Contains(a.body, `<html lang="de">`) {
		t.Fatalf("German report: %d", a.code)
	}
	for _, want := range []string{"Seiten-URL", "Seitenansichten", "Eindeutige Seitenansichten", "Absprungrate", "Zeilen 1–35 von 35", "Zeilen durchsuchen", "Als flache Liste zeigen"} {
		if !strings.Contains(a.body, want) {
			t.Errorf("the German report lacks %q", want)
		}
	}
	// Rates in German: /a's two entrances, one a bounce (hand-counted): "50 %".
	for _, row := range shownRows(a.body) {
		if row.label == "/a" && row.cells["bounce_rate"] != "50 %" {
			t.Errorf("German bounce rate of /a = %q, want 50 %%", row.cells["bounce_rate"])
		}
	}
	// The reports' error pages answer in the request's language, their numbers filled in.
	root := map[string]string{"hearth_session": sess["root"]}
	checkLanguages(t, r, []pageCase{
		{"no such report", request{method: http.MethodGet, path: "/site/1/report/Bogus.x?period=day&date=today", cookies: root}, 404,
			[]string{"There is no report with this name. The list of reports names every one there is."},
			[]string{"Es gibt keinen Bericht mit diesem Namen. Die Liste der Berichte nennt alle, die es gibt."}},
		{"search too long", request{method: http.MethodGet, path: "/site/1/report/Actions.getPageUrls?period=day&date=today&q=" + strings.Repeat("x", 201), cookies: root}, 400,
			[]string{"The search text is too long: at most 200 characters."}, []string{"Der Suchtext ist zu lang: höchstens 200 Zeichen."}},
		{"no such export format", request{method: http.MethodGet, path: "/site/1/report/Actions.getPageUrls/export?period=day&date=today&format=xls", cookies: root}, 400,
			[]string{"Choose an export format: csv, tsv or json."}, []string{"Wählen Sie ein Exportformat: csv, tsv oder json."}},
	})
	r.log.check(t)
}
