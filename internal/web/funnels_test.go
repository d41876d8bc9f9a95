package web_test

import (
	"context"
	"html"
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

// funnelHit is one action of a seeded visit: a page view (URL and title) or an event.
type funnelHit struct {
	typ                   event.ActionType
	url, title            string
	category, eventAction string
}

func pageHit(u, title string) funnelHit {
	return funnelHit{typ: event.ActionPageview, url: u, title: title}
}
func eventHit(category, action string) funnelHit {
	return funnelHit{typ: event.ActionEvent, url: "https://shop.example/", category: category, eventAction: action}
}

// seedFunnelVisit stores one visit of site with its actions a second apart, from a referrer.
func (r *pagesRig) seedFunnelVisit(t *testing.T, site event.SiteID, id int, at time.Time, ref event.Referrer, hits ...funnelHit) {
	t.Helper()
	v := event.Visit{SiteID: site, ID: event.VisitID(id), VisitorID: event.VisitorID{byte(id), byte(site), 0xf0}, First: at,
		Last: at.Add(time.Duration(len(hits)-1) * time.Second), VisitCount: 1, Referrer: ref, LocalTime: -1,
		EntryURL: hits[0].url, ExitURL: hits[len(hits)-1].url, Actions: int32(len(hits))}
	v.ExitTime = v.Last
	var actions []event.Action
	for i, h := range hits {
		a := event.Action{SiteID: site, VisitID: v.ID, VisitorID: v.VisitorID, Time: at.Add(time.Duration(i) * time.Second), Index: int32(i + 1),
			Type: h.typ, URL: h.url, Title: h.title, EventCategory: h.category, EventAction: h.eventAction,
			SearchCount: -1, PerfNetwork: -1, PerfServer: -1, PerfTransfer: -1, PerfDOMProc: -1, PerfDOMDone: -1, PerfOnLoad: -1}
		if h.typ == event.ActionPageview {
			a.FirstURLInVisit, a.FirstTitleInVisit = true, true
			v.Pageviews++
		} else {
			v.Events++
		}
		actions = append(actions, a)
	}
	r.seq++
	if err := r.events.Apply(context.Background(), store.Batch{Seq: r.seq, Visits: []event.Visit{v}, Actions: actions}); err != nil {
		t.Fatal(err)
	}
}

const (
	xssFunnel = "Checkout " + xss
	xssStep   = `Cart "><img src=x onerror=alert(1)>`
)

// funnelsRig is dashRig (visits 1 to 3 on site 1 today, none of them on a cart page) with
// five more visits today and one yesterday on site 1, for the funnel Cart (a URL containing
// "/Cart", not case-sensitive), Details (the page title exactly "Shipping details"), Paid (the
// event action exactly "pay"):
//
//	visit 20  search engine: /cart, Shipping details, pay  -> all three steps
//	visit 21  direct:        /cart, Shipping details       -> steps 1 and 2
//	visit 22  direct:        Shipping details, /cart       -> step 1 (the title came first)
//	visit 23  search engine: /cart, pay                    -> step 1 (no shipping details)
//	visit 24  direct:        pay                           -> none
//	visit 25  yesterday, direct: /cart, Shipping details   -> steps 1 and 2
//
// So today: reached 4, 2, 1; proceeded 2, 1, 0; dropped off 2, 1, 0; entries 4, conversions 1
// (25%), 3 left before the end (75%). From search engines only: 2, 1, 1 (conversion 50%).
// Yesterday: 1, 1, 0, no conversion.
func funnelsRig(t *testing.T) (*pagesRig, map[string]string) {
	r, sess := dashRig(t)
	day := r.now.Truncate(24 * time.Hour)
	at := day.Add(time.Hour)
	if r.now.Sub(day) < 2*time.Hour {
		at = day
	}
	search := event.Referrer{Type: event.ReferrerSearch, Name: "Google", Keyword: "gloves"}
	direct := event.Referrer{Type: event.ReferrerDirect}
	cart, ship := pageHit("https://shop.example/cart", "Your cart"), pageHit("https://shop.example/ship", "Shipping details")
	pay := eventHit("checkout", "pay")
	r.seedFunnelVisit(t, 1, 20, at.Add(3*time.Minute), search, cart, ship, pay)
	r.seedFunnelVisit(t, 1, 21, at.Add(4*time.Minute), direct, cart, ship)
	r.seedFunnelVisit(t, 1, 22, at.Add(5*time.Minute), direct, ship, cart)
	r.seedFunnelVisit(t, 1, 23, at.Add(6*time.Minute), search, cart, pay)
	r.seedFunnelVisit(t, 1, 24, at.Add(7*time.Minute), direct, pay)
	r.seedFunnelVisit(t, 1, 25, day.Add(-12*time.Hour), direct, cart, ship)
	return r, sess
}

// funnelForm is the editor's POST defining the rig's funnel, its rows as the form shows them
// (five, the last two left empty).
func funnelFormValues() url.Values {
	f := url.Values{"action": {"add"}, "rows": {"5"}, "funnelName": {xssFunnel}}
	for i, st := range [][4]string{
		{xssStep, "url", "contains", "/Cart"},
		{"Details", "title", "exact", "Shipping details"},
		{"Paid", "event_action", "exact", "pay"},
		{"", "url", "contains", ""},
		{"", "url", "contains", ""},
	} {
		k := func(field string) string { return "steps[" + strconv.Itoa(i) + "][" + field + "]" }
		f.Set(k("name"), st[0])
		f.Set(k("kind"), st[1])
		f.Set(k("match"), st[2])
		f.Set(k("pattern"), st[3])
	}
	return f
}

// defineFunnel defines the rig's funnel through the list page's form as root and returns the
// address the page sends the browser to.
func defineFunnel(t *testing.T, r *pagesRig, sess map[string]string) string {
	t.Helper()
	a := r.do(t, request{method: http.MethodPost, path: "/site/1/funnels?period=day&date=today", form: funnelFormValues(),
		cookies: map[string]string{"hearth_session": sess["root"]}, header: map[string]string{"Origin": origin}})
	if a.code != http.StatusSeeOther {
		t.Fatalf("define the funnel: %d %s", a.code, a.body)
	}
	return a.header.Get("Location")
}

// flowCells reads the cells of a step's row of the flow table ("now" or "previous") by
// data-column.
func flowCells(t *testing.T, body string, step int, period string) map[string]string {
	t.Helper()
	m := regexp.MustCompile(`(?s)<tr data-step="` + strconv.Itoa(step) + `" data-period="` + period + `"[^>]*>(.*?)</tr>`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no row of step %d (%s) in the flow table", step, period)
	}
	return dataColumns(m[1])
}

func dataColumns(part string) map[string]string {
	out := map[string]string{}
	for _, c := range regexp.MustCompile(`data-column="([^"]+)">([^<]*)<`).FindAllStringSubmatch(part, -1) {
		out[c[1]] = html.UnescapeString(c[2])
	}
	return out
}

// shownAs is an API value as the English pages write it: a count as it is, a rate as the
// API's text.
func shownAs(v any) string {
	if f, ok := v.(float64); ok {
		return strconv.FormatFloat(f, 'f', -1, 64)
	}
	s, _ := v.(string)
	return s
}

var flowColumns = []string{"step_nb_visits", "step_nb_proceeded", "step_nb_exits", "step_proceeded_rate", "step_exited_rate",
	"step_reached_rate", "step_conversion_rate"}

// checkFlow checks the flow table of a funnel page against hand-counted figures (a row per
// step, in flowColumns' order) and against the API's getFunnelFlow for the same state.
func checkFlow(t *testing.T, body, period string, api any, want [][]string) {
	t.Helper()
	apiRows, _ := api.([]any)
	if len(apiRows) != len(want) {
		t.Fatalf("getFunnelFlow has %d rows, want %d: %v", len(apiRows), len(want), api)
	}
	for i, w := range want {
		got := flowCells(t, body, i+1, period)
		row, _ := apiRows[i].(map[string]any)
		for j, col := range flowColumns {
			if got[col] != w[j] {
				t.Errorf("%s step %d %s: page shows %q, hand count %q", period, i+1, col, got[col], w[j])
			}
			if shownAs(row[col]) != got[col] {
				t.Errorf("%s step %d %s: page shows %q, API answers %v", period, i+1, col, got[col], row[col])
			}
		}
	}
}

func funnelAPI(method string, id, period, date string, extra ...string) url.Values {
	v := url.Values{"method": {method}, "idSite": {"1"}, "idFunnel": {id}, "period": {period}, "date": {date}}
	for i := 0; i+1 < len(extra); i += 2 {
		v.Set(extra[i], extra[i+1])
	}
	return v
}

// checkMetrics checks the KPI tiles of a funnel page against hand-counted figures and the
// API's getMetrics.
func checkMetrics(t *testing.T, body string, api any, want map[string]string) {
	t.Helper()
	m, _ := api.(map[string]any)
	for col, w := range want {
		got := regexp.MustCompile(`data-kpi="` + col + `">([^<]*)<`).FindStringSubmatch(body)
		if got == nil {
			t.Errorf("no tile %s", col)
			continue
		}
		if got[1] != w || shownAs(m[col]) != w {
			t.Errorf("tile %s: page %q, hand count %q, API %v", col, got[1], w, m[col])
		}
	}
}

func TestFunnelDefinedInTheFormShowsTheAPIsFigures(t *testing.T) {
	r, sess := funnelsRig(t)
	root := map[string]string{"hearth_session": sess["root"]}
	empty := r.do(t, request{method: http.MethodGet, path: "/site/1/funnels?period=day&date=today", cookies: root})
	if empty.code != 200 || !strings.Contains(empty.body, "No funnel is defined") {
		t.Fatalf("funnels before any: %d %s", empty.code, empty.body)
	}
	// Five empty rows without JavaScript.
	if !strings.Contains(empty.body, `name="steps[4][pattern]"`) || strings.Contains(empty.body, `name="steps[5][pattern]"`) {
		t.Error("the editor does not offer five step rows")
	}
	loc := defineFunnel(t, r, sess)
	if loc != "/site/1/funnels/1?date=today&period=day" {
		t.Errorf("after defining: sent to %q", loc)
	}
	// The API has the funnel as the form gave it: the empty rows left out.
	all, _ := r.apiJSON(t, "root", url.Values{"method": {"Funnels.getAllActivatedFunnelsForSite"}, "idSite": {"1"}}).([]any)
	if len(all) != 1 {
		t.Fatalf("funnels in the API: %v", all)
	}
	def := all[0].(map[string]any)
	steps, _ := def["steps"].([]any)
	if def["name"] != xssFunnel || len(steps) != 3 {
		t.Fatalf("funnel in the API: %v", def)
	}
	if st := steps[0].(map[string]any); st["name"] != xssStep || st["pattern"] != "/Cart" || st["case_sensitive"] != float64(0) {
		t.Errorf("first step: %v", st)
	}

	page := r.do(t, request{method: http.MethodGet, path: loc, cookies: root})
	if page.code != 200 {
		t.Fatalf("funnel page: %d %s", page.code, page.body)
	}
	flow := r.apiJSON(t, "root", funnelAPI("Funnels.getFunnelFlow", "1", "day", "today"))
	checkFlow(t, page.body, "now", flow, [][]string{
		{"4", "2", "2", "50%", "50%", "100%", "100%"},
		{"2", "1", "1", "50%", "50%", "50%", "50%"},
		{"1", "0", "0", "0%", "0%", "50%", "25%"},
	})
	metrics := r.apiJSON(t, "root", funnelAPI("Funnels.getMetrics", "1", "day", "today"))
	checkMetrics(t, page.body, metrics, map[string]string{"funnel_sum_entries": "4", "funnel_nb_conversions": "1",
		"funnel_conversion_rate": "25%", "funnel_sum_exits": "3", "funnel_abandoned_rate": "75%"})
	// The bars: 4, 2 and 1 visits against the first step's 4, as SVG attributes.
	bars := regexp.MustCompile(`<rect class="fill s0" x="0" y="0" width="([^"]+)"`).FindAllStringSubmatch(page.body, -1)
	if len(bars) != 3 || bars[0][1] != "1000" || bars[1][1] != "500" || bars[2][1] != "250" {
		t.Errorf("bars: %v", bars)
	}
	if strings.Contains(page.body, "style=") {
		t.Error("the page has a style attribute, which the CSP forbids")
	}
	// Conversions over time: the API answers getMetrics for each day at once; today's and
	// yesterday's rows as it does.
	today := r.now.Format(time.DateOnly)
	yesterday := r.now.AddDate(0, 0, -1).Format(time.DateOnly)
	evo, _ := r.apiJSON(t, "root", funnelAPI("Funnels.getMetrics", "1", "day", r.now.AddDate(0, 0, -29).Format(time.DateOnly)+","+today)).(map[string]any)
	if len(evo) != 30 {
		t.Fatalf("getMetrics over 30 days answers %d periods", len(evo))
	}
	for day, want := range map[string][2]string{today: {"4", "1"}, yesterday: {"1", "0"}} {
		m := regexp.MustCompile(`(?s)<tr data-period="` + day + `">(.*?)</tr>`).FindStringSubmatch(page.body)
		if m == nil {
			t.Fatalf("no row of %s over time", day)
		}
		got, api := dataColumns(m[1]), evo[day].(map[string]any)
		if got["funnel_sum_entries"] != want[0] || got["funnel_nb_conversions"] != want[1] ||
			shownAs(api["funnel_sum_entries"]) != want[0] || shownAs(api["funnel_nb_conversions"]) != want[1] {
			t.Errorf("%s over time: page %v, API %v, want entries %s conversions %s", day, got, api, want[0], want[1])
		}
	}

	// The list: each funnel's entries, conversions and rate, as getMetrics answers them.
	list := r.do(t, request{method: http.MethodGet, path: "/site/1/funnels?period=day&date=today", cookies: root})
	m := regexp.MustCompile(`(?s)<tr data-funnel="1">(.*?)</tr>`).FindStringSubmatch(list.body)
	if list.code != 200 || m == nil {
		t.Fatalf("list: %d", list.code)
	}
	got := dataColumns(m[1])
	if got["funnel_sum_entries"] != "4" || got["funnel_nb_conversions"] != "1" || got["funnel_conversion_rate"] != "25%" {
		t.Errorf("list row: %v", got)
	}

	// Names are shown escaped on both pages.
	for name, body := range map[string]string{"list": list.body, "funnel": page.body} {
		if strings.Contains(body, xss) || strings.Contains(body, "<img src=x") {
			t.Errorf("%s: a name reaches the page unescaped", name)
		}
		if !strings.Contains(body, "Checkout &lt;script&gt;alert(1)&lt;/script&gt;") || !strings.Contains(body, "Cart &#34;&gt;&lt;img src=x onerror=alert(1)&gt;") {
			t.Errorf("%s: the names are not shown as text", name)
		}
	}
	r.log.check(t)
}

func TestFunnelUnderASegmentAndComparedWithThePreviousPeriod(t *testing.T) {
	r, sess := funnelsRig(t)
	root := map[string]string{"hearth_session": sess["root"]}
	defineFunnel(t, r, sess)
	seg := "referrerType==search"
	page := r.do(t, request{method: http.MethodGet, path: "/site/1/funnels/1?period=day&date=today&segment=" + url.QueryEscape(seg), cookies: root})
	if page.code != 200 {
		t.Fatalf("%d %s", page.code, page.body)
	}
	checkFlow(t, page.body, "now", r.apiJSON(t, "root", funnelAPI("Funnels.getFunnelFlow", "1", "day", "today", "segment", seg)), [][]string{
		{"2", "1", "1", "50%", "50%", "100%", "100%"},
		{"1", "1", "0", "100%", "0%", "50%", "50%"},
		{"1", "0", "0", "0%", "0%", "100%", "50%"},
	})
	checkMetrics(t, page.body, r.apiJSON(t, "root", funnelAPI("Funnels.getMetrics", "1", "day", "today", "segment", seg)),
		map[string]string{"funnel_sum_entries": "2", "funnel_nb_conversions": "1", "funnel_conversion_rate": "50%"})
	list := r.do(t, request{method: http.MethodGet, path: "/site/1/funnels?period=day&date=today&segment=" + url.QueryEscape(seg), cookies: root})
	if got := dataColumns(list.body); got["funnel_sum_entries"] != "2" || got["funnel_conversion_rate"] != "50%" {
		t.Errorf("list under the segment: %v", got)
	}

	// Against yesterday: 1 visit did the first two steps.
	cmp := r.do(t, request{method: http.MethodGet, path: "/site/1/funnels/1?period=day&date=today&compare=previous", cookies: root})
	if cmp.code != 200 {
		t.Fatalf("%d %s", cmp.code, cmp.body)
	}
	yesterday := r.now.AddDate(0, 0, -1).Format(time.DateOnly)
	checkFlow(t, cmp.body, "now", r.apiJSON(t, "root", funnelAPI("Funnels.getFunnelFlow", "1", "day", "today")), [][]string{
		{"4", "2", "2", "50%", "50%", "100%", "100%"},
		{"2", "1", "1", "50%", "50%", "50%", "50%"},
		{"1", "0", "0", "0%", "0%", "50%", "25%"},
	})
	checkFlow(t, cmp.body, "previous", r.apiJSON(t, "root", funnelAPI("Funnels.getFunnelFlow", "1", "day", yesterday)), [][]string{
		{"1", "1", "0", "100%", "0%", "100%", "100%"},
		{"1", "0", "1", "0%", "100%", "100%", "100%"},
		{"0", "0", "0", "0%", "0%", "0%", "0%"},
	})
	// The previous period's bars on the same scale: 1 and 1 visits against today's 4.
	prev := regexp.MustCompile(`<rect class="fill s1" x="0" y="0" width="([^"]+)"`).FindAllStringSubmatch(cmp.body, -1)
	if len(prev) != 3 || prev[0][1] != "250" || prev[1][1] != "250" || prev[2][1] != "0" {
		t.Errorf("previous bars: %v", prev)
	}
	if m := regexp.MustCompile(`data-prev="funnel_sum_entries">([^<]*)<`).FindStringSubmatch(cmp.body); m == nil || m[1] != "1" {
		t.Errorf("previous entries tile: %v", m)
	}
	cmpList := r.do(t, request{method: http.MethodGet, path: "/site/1/funnels?period=day&date=today&compare=previous", cookies: root})
	if got := dataColumns(cmpList.body); got["prev_funnel_nb_conversions"] != "0" || got["funnel_nb_conversions"] != "1" {
		t.Errorf("list compared: %v", got)
	}
	r.log.check(t)
}

func TestFunnelEditedAndDeletedInThePage(t *testing.T) {
	r, sess := funnelsRig(t)
	root := map[string]string{"hearth_session": sess["root"]}
	same := map[string]string{"Origin": origin}
	defineFunnel(t, r, sess)
	// The edit form holds the funnel's steps and one empty row more.
	page := r.do(t, request{method: http.MethodGet, path: "/site/1/funnels/1?period=day&date=today", cookies: root})
	if !strings.Contains(page.body, `name="steps[2][pattern]" value="pay"`) || !strings.Contains(page.body, `name="steps[3][pattern]" value=""`) ||
		strings.Contains(page.body, `name="steps[4][pattern]"`) {
		t.Error("the edit form does not hold the three steps and one empty row")
	}
	// Rename it and leave the last step out (its row emptied); the second becomes the last.
	f := funnelFormValues()
	f.Set("action", "update")
	f.Set("idFunnel", "1")
	f.Set("funnelName", "Cart to shipping")
	f.Set("steps[2][name]", "")
	f.Set("steps[2][pattern]", "")
	a := r.do(t, request{method: http.MethodPost, path: "/site/1/funnels?period=day&date=today", form: f, cookies: root, header: same})
	if a.code != http.StatusSeeOther || a.header.Get("Location") != "/site/1/funnels/1?date=today&period=day" {
		t.Fatalf("update: %d %s %s", a.code, a.header.Get("Location"), a.body)
	}
	def := r.apiJSON(t, "root", url.Values{"method": {"Funnels.getFunnel"}, "idSite": {"1"}, "idFunnel": {"1"}}).(map[string]any)
	if steps, _ := def["steps"].([]any); def["name"] != "Cart to shipping" || len(steps) != 2 {
		t.Fatalf("after the update the API has %v", def)
	}
	page = r.do(t, request{method: http.MethodGet, path: "/site/1/funnels/1?period=day&date=today", cookies: root})
	checkFlow(t, page.body, "now", r.apiJSON(t, "root", funnelAPI("Funnels.getFunnelFlow", "1", "day", "today")), [][]string{
		{"4", "2", "2", "50%", "50%", "100%", "100%"},
		{"2", "0", "0", "0%", "0%", "50%", "50%"},
	})
	if !strings.Contains(page.body, "<h1>Cart to shipping</h1>") {
		t.Error("the page does not show the new name")
	}

	// Delete: a button naming the funnel, then the list without it, and its page is gone.
	if !strings.Contains(page.body, "Delete the funnel “Cart to shipping”") {
		t.Error("no delete button naming the funnel")
	}
	del := r.do(t, request{method: http.MethodPost, path: "/site/1/funnels?period=day&date=today", cookies: root, header: same,
		form: url.Values{"action": {"delete"}, "idFunnel": {"1"}}})
	if del.code != http.StatusSeeOther || del.header.Get("Location") != "/site/1/funnels?date=today&period=day" {
		t.Fatalf("delete: %d %s", del.code, del.header.Get("Location"))
	}
	if all, _ := r.apiJSON(t, "root", url.Values{"method": {"Funnels.getAllActivatedFunnelsForSite"}, "idSite": {"1"}}).([]any); len(all) != 0 {
		t.Errorf("after the delete the API has %v", all)
	}
	if gone := r.do(t, request{method: http.MethodGet, path: "/site/1/funnels/1", cookies: root}); gone.code != 404 {
		t.Errorf("a deleted funnel's page: %d", gone.code)
	}
	r.log.check(t)
}

func TestFunnelFormKeepsTheInput(t *testing.T) {
	r, sess := funnelsRig(t)
	root := map[string]string{"hearth_session": sess["root"]}
	same := map[string]string{"Origin": origin}
	// A regular expression that does not compile: the API's message on the form, with what was
	// typed, and nothing stored. The empty row before it is dropped, so the API's step number
	// is the row's.
	f := funnelFormValues()
	f.Set("steps[1][name]", "")
	f.Set("steps[1][pattern]", "")
	f.Set("steps[3][name]", "Broken")
	f.Set("steps[3][match]", "regex")
	f.Set("steps[3][pattern]", "(unclosed")
	f.Set("steps[3][case_sensitive]", "1")
	a := r.do(t, request{method: http.MethodPost, path: "/site/1/funnels?period=day&date=today", form: f, cookies: root, header: same})
	if a.code != 400 {
		t.Fatalf("a bad regex: %d %s", a.code, a.body)
	}
	body := html.UnescapeString(a.body)
	if !regexp.MustCompile(`role="alert"[^>]*><strong>The funnel was not saved:</strong> Step 3: `).MatchString(a.body) {
		t.Errorf("no refusal naming step 3 on the form: %s", body)
	}
	for _, want := range []string{`name="funnelName" value="` + xssFunnel + `"`, `name="steps[2][pattern]" value="(unclosed"`,
		`name="steps[2][name]" value="Broken"`, `<option value="regex" selected>`, `name="steps[2][case_sensitive]" value="1" checked`} {
		if !strings.Contains(body, want) {
			t.Errorf("the form does not keep %s", want)
		}
	}
	if strings.Contains(a.body, xss) {
		t.Error("the kept name is not escaped")
	}
	if all, _ := r.apiJSON(t, "root", url.Values{"method": {"Funnels.getAllActivatedFunnelsForSite"}, "idSite": {"1"}}).([]any); len(all) != 0 {
		t.Errorf("a refused funnel was stored: %v", all)
	}

	// "Add a step row" shows the form again with a sixth row, the input kept, nothing stored.
	f = funnelFormValues()
	f.Set("more", "1")
	more := r.do(t, request{method: http.MethodPost, path: "/site/1/funnels?period=day&date=today", form: f, cookies: root, header: same})
	if more.code != 200 || !strings.Contains(more.body, `name="steps[5][pattern]"`) || strings.Contains(more.body, `name="steps[6][pattern]"`) ||
		!strings.Contains(html.UnescapeString(more.body), `name="steps[2][pattern]" value="pay"`) || !strings.Contains(more.body, `name="rows" value="6"`) {
		t.Errorf("add a step row: %d", more.code)
	}
	if all, _ := r.apiJSON(t, "root", url.Values{"method": {"Funnels.getAllActivatedFunnelsForSite"}, "idSite": {"1"}}).([]any); len(all) != 0 {
		t.Errorf("adding a row stored the funnel: %v", all)
	}
	// ?steps=N asks for N rows, at most 20; not a number is refused.
	for q, rows := range map[string]int{"steps=8": 8, "steps=99": 20, "steps=0": 5} {
		p := r.do(t, request{method: http.MethodGet, path: "/site/1/funnels?" + q, cookies: root})
		last := `name="steps[` + strconv.Itoa(rows-1) + `][name]"`
		beyond := `name="steps[` + strconv.Itoa(rows) + `][name]"`
		if p.code != 200 || !strings.Contains(p.body, last) || strings.Contains(p.body, beyond) {
			t.Errorf("%s: %d, want %d rows", q, p.code, rows)
		}
	}
	if bad := r.do(t, request{method: http.MethodGet, path: "/site/1/funnels?steps=many", cookies: root}); bad.code != 400 ||
		!strings.Contains(bad.body, "number of step rows") {
		t.Errorf("steps=many: %d", bad.code)
	}
	r.log.check(t)
}

func TestFunnelViewerSeesTheFiguresButNoEditor(t *testing.T) {
	r, sess := funnelsRig(t)
	defineFunnel(t, r, sess)
	viewer := map[string]string{"hearth_session": sess["viewer"]}
	for _, path := range []string{"/site/1/funnels?period=day&date=today", "/site/1/funnels/1?period=day&date=today"} {
		a := r.do(t, request{method: http.MethodGet, path: path, cookies: viewer})
		if a.code != 200 {
			t.Fatalf("%s as viewer: %d", path, a.code)
		}
		if strings.Contains(a.body, `method="post" action="/site/1/funnels`) || strings.Contains(a.body, "steps[0][name]") {
			t.Errorf("%s: the viewer is offered the editor", path)
		}
	}
	page := r.do(t, request{method: http.MethodGet, path: "/site/1/funnels/1?period=day&date=today", cookies: viewer})
	checkFlow(t, page.body, "now", r.apiJSON(t, "viewer", funnelAPI("Funnels.getFunnelFlow", "1", "day", "today")), [][]string{
		{"4", "2", "2", "50%", "50%", "100%", "100%"},
		{"2", "1", "1", "50%", "50%", "50%", "50%"},
		{"1", "0", "0", "0%", "0%", "50%", "25%"},
	})
	for _, f := range []url.Values{funnelFormValues(), {"action": {"delete"}, "idFunnel": {"1"}},
		func() url.Values {
			v := funnelFormValues()
			v.Set("action", "update")
			v.Set("idFunnel", "1")
			return v
		}()} {
		a := r.do(t, request{method: http.MethodPost, path: "/site/1/funnels", form: f, cookies: viewer, header: map[string]string{"Origin": origin}})
		if a.code != 403 {
			t.Errorf("viewer %s: %d", f.Get("action"), a.code)
		}
	}
	if all, _ := r.apiJSON(t, "root", url.Values{"method": {"Funnels.getAllActivatedFunnelsForSite"}, "idSite": {"1"}}).([]any); len(all) != 1 ||
		all[0].(map[string]any)["name"] != xssFunnel {
		t.Errorf("the viewer's posts changed the funnels: %v", all)
	}
	r.log.check(t)
}

func TestBadFunnelIsNotFound(t *testing.T) {
	r, sess := funnelsRig(t)
	root := map[string]string{"hearth_session": sess["root"]}
	defineFunnel(t, r, sess)
	// A funnel of site 2 (id 2) is not one of site 1's.
	other := r.apiJSON(t, "root", url.Values{"method": {"Funnels.saveNonGoalFunnel"}, "idSite": {"2"}, "funnelName": {"Zephyrine intake"},
		"steps[0][name]": {"Intake"}, "steps[0][kind]": {"url"}, "steps[0][match]": {"contains"}, "steps[0][pattern]": {"/intake"}})
	if m, _ := other.(map[string]any); m["value"] != float64(2) {
		t.Fatalf("site 2's funnel: %v", other)
	}
	for _, id := range []string{"0", "-1", "abc", "999", "2", "1.5"} {
		a := r.do(t, request{method: http.MethodGet, path: "/site/1/funnels/" + id, cookies: root})
		if a.code != 404 || strings.Contains(a.body, "Zephyrine") {
			t.Errorf("funnel %s of site 1: %d", id, a.code)
		}
	}
	// Changing site 2's funnel through site 1's page is not found either, and changes nothing.
	f := funnelFormValues()
	f.Set("action", "update")
	f.Set("idFunnel", "2")
	for _, form := range []url.Values{f, {"action": {"delete"}, "idFunnel": {"2"}}, {"action": {"delete"}, "idFunnel": {"x"}}} {
		a := r.do(t, request{method: http.MethodPost, path: "/site/1/funnels", form: form, cookies: root, header: map[string]string{"Origin": origin}})
		if a.code != 404 {
			t.Errorf("%s of funnel %s through site 1: %d", form.Get("action"), form.Get("idFunnel"), a.code)
		}
	}
	def := r.apiJSON(t, "root", url.Values{"method": {"Funnels.getFunnel"}, "idSite": {"2"}, "idFunnel": {"2"}}).(map[string]any)
	if def["name"] != "Zephyrine intake" {
		t.Errorf("site 2's funnel changed: %v", def)
	}
	// The viewer of site 1 gets no trace of site 2's funnels.
	viewer := map[string]string{"hearth_session": sess["viewer"]}
	for _, path := range []string{"/site/2/funnels", "/site/2/funnels/2"} {
		if a := r.do(t, request{method: http.MethodGet, path: path, cookies: viewer}); a.code != 404 || strings.Contains(a.body, "Zephyrine") {
			t.Errorf("%s as viewer: %d", path, a.code)
		}
	}
	if a := r.do(t, request{method: http.MethodPost, path: "/site/1/funnels", form: url.Values{"action": {"rename"}}, cookies: root,
		header: map[string]string{"Origin": origin}}); a.code != 400 {
		t.Errorf("an unknown action: %d", a.code)
	}
	r.log.check(t)
}

func TestFunnelPagesSpeakGerman(t *testing.T) {
	r, sess := funnelsRig(t)
	defineFunnel(t, r, sess)
	de := map[string]string{"Accept-Language": "de"}
	root := map[string]string{"hearth_session": sess["root"]}
	for _, path := range []string{"/site/1/funnels?period=day&date=today&compare=previous", "/site/1/funnels/1?period=day&date=today&compare=previous"} {
		a := r.do(t, request{method: http.MethodGet, path: path, cookies: root, header: de})
		if a.code != 200 || !strings.Contains(a.body, `<html lang="de">`) || !strings.Contains(a.body, "Trichter") {
			t.Errorf("%s in German: %d", path, a.code)
		}
	}
	a := r.do(t, request{method: http.MethodGet, path: "/site/1/funnels/1?period=day&date=today", cookies: root, header: de})
	if got := flowCells(t, a.body, 3, "now")["step_conversion_rate"]; got != "25 %" {
		t.Errorf("German conversion rate of step 3 = %q, want 25 %%", got)
	}
	// The funnels pages' error pages answer in the request's language, their numbers filled in.
	checkLanguages(t, r, []pageCase{
		{"no such funnel", request{method: http.MethodGet, path: "/site/1/funnels/999", cookies: root}, 404,
			[]string{"There is no funnel with this number on this site."}, []string{"Auf dieser Website gibt es keinen Trichter mit dieser Nummer."}},
		{"step rows not a number", request{method: http.MethodGet, path: "/site/1/funnels?steps=many", cookies: root}, 400,
			[]string{"The number of step rows must be a number from 1 to 20."}, []string{"Die Anzahl der Schrittzeilen muss eine Zahl von 1 bis 20 sein."}},
		{"a viewer changing a funnel", request{method: http.MethodPost, path: "/site/1/funnels", cookies: map[string]string{"hearth_session": sess["viewer"]},
			form: url.Values{"action": {"delete"}, "idFunnel": {"1"}}}, 403,
			[]string{"You may not change the funnels of this site."}, []string{"Sie dürfen die Trichter dieser Website nicht ändern."}},
	})
	r.log.check(t)
}
