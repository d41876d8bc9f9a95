package web_test

import (
	"context"
	"encoding/json"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"hearth/internal/event"
	"hearth/internal/store"
)

// seedVisit stores one visit of site with a page view per URL, a second apart, and its
// referrer; the visit's number and its visitor come from id.
func (r *pagesRig) seedVisit(t *testing.T, site event.SiteID, id int, at time.Time, ref event.Referrer, urls ...string) {
	t.Helper()
	v := event.Visit{SiteID: site, ID: event.VisitID(id), VisitorID: event.VisitorID{byte(id), byte(site)}, First: at,
		Last: at.Add(time.Duration(len(urls)-1) * time.Second), VisitCount: 1, Referrer: ref, LocalTime: -1,
		EntryURL: urls[0], EntryTitle: "Title " + urls[0], ExitURL: urls[len(urls)-1], ExitTitle: "Title " + urls[len(urls)-1],
		Actions: int32(len(urls)), Pageviews: int32(len(urls))}
	v.ExitTime = v.Last
	var actions []event.Action
	for i, u := range urls {
		actions = append(actions, event.Action{SiteID: site, VisitID: v.ID, VisitorID: v.VisitorID, Time: at.Add(time.Duration(i) * time.Second),
			Index: int32(i + 1), Type: event.ActionPageview, URL: u, Title: "Title " + u, FirstURLInVisit: true, FirstTitleInVisit: true,
			SearchCount: -1, PerfNetwork: -1, PerfServer: -1, PerfTransfer: -1, PerfDOMProc: -1, PerfDOMDone: -1, PerfOnLoad: -1})
	}
	r.seq++
	if err := r.events.Apply(context.Background(), store.Batch{Seq: r.seq, Visits: []event.Visit{v}, Actions: actions}); err != nil {
		t.Fatal(err)
	}
}

// site adds a site and returns its id.
func (r *pagesRig) site(t *testing.T, name, u string) event.SiteID {
	t.Helper()
	id, err := r.meta.CreateSite(context.Background(), store.Site{Name: name, URLs: []string{u}, Timezone: "UTC", Currency: "EUR", Created: r.now})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// apiJSON asks the Reporting API over HTTP with a token of login, as an API client would.
func (r *pagesRig) apiJSON(t *testing.T, login string, params url.Values) any {
	t.Helper()
	tok, _, err := r.auth.NewToken(context.Background(), login, "test", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	params.Set("module", "API")
	params.Set("format", "json")
	params.Set("token_auth", tok)
	a := r.do(t, request{method: http.MethodPost, path: "/index.php", form: params})
	if a.code != 200 {
		t.Fatalf("API %v: %d %s", params, a.code, a.body)
	}
	var v any
	if err := json.Unmarshal([]byte(a.body), &v); err != nil {
		t.Fatal(err)
	}
	return v
}

// kpiValue reads a KPI tile's shown value from an overview page.
func kpiValue(t *testing.T, body, column string) string {
	t.Helper()
	m := regexp.MustCompile(`data-column="` + column + `">([^<]*)<`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no KPI %s on the page", column)
	}
	return m[1]
}

const xss = `<script>alert(1)</script>`

// dashRig has a superuser, a viewer of site 1 only, and three visits on site 1 today.
func dashRig(t *testing.T) (*pagesRig, map[string]string) {
	r := newPagesRig(t)
	r.user(t, store.User{Login: "root", Superuser: true})
	r.user(t, store.User{Login: "viewer"})
	s1 := r.site(t, "Shop "+xss, "https://shop.example")
	s2 := r.site(t, "Zephyrine private clinic", "https://clinic.example")
	if err := r.meta.SetRole(context.Background(), store.Grant{Login: "viewer", SiteID: s1, Name: "view", Created: r.now}); err != nil {
		t.Fatal(err)
	}
	day := r.now.Truncate(24 * time.Hour)
	at := day.Add(time.Hour)
	if r.now.Sub(day) < 2*time.Hour {
		at = day // close after midnight: keep every visit today
	}
	r.seedVisit(t, s1, 1, at, event.Referrer{Type: event.ReferrerSearch, Name: "Google", Keyword: "hearth analytics"}, "https://shop.example/a", "https://shop.example/b")
	r.seedVisit(t, s1, 2, at.Add(time.Minute), event.Referrer{Type: event.ReferrerDirect}, "https://shop.example/a")
	r.seedVisit(t, s1, 3, at.Add(2*time.Minute), event.Referrer{Type: event.ReferrerWebsite, Name: "news.example", URL: "https://news.example/x"}, "https://shop.example/c")
	r.seedVisit(t, s2, 4, at, event.Referrer{Type: event.ReferrerDirect}, "https://clinic.example/zephyrine")
	return r, map[string]string{"root": r.session(t, "root"), "viewer": r.session(t, "viewer")}
}

func TestOverviewShowsTheAPIsFigures(t *testing.T) {
	r, sess := dashRig(t)
	page := r.do(t, request{method: http.MethodGet, path: "/site/1?period=day&date=today", cookies: map[string]string{"hearth_session": sess["root"]}})
	if page.code != 200 {
		t.Fatalf("overview: %d %s", page.code, page.body)
	}
	// Three visits of three visitors, four page views, two of the visits one page only
	// (bounces): hand-counted.
	for col, want := range map[string]string{"nb_visits": "3", "nb_uniq_visitors": "3", "nb_pageviews": "4", "bounce_rate": "67%"} {
		if got := kpiValue(t, page.body, col); got != want {
			t.Errorf("KPI %s = %q, want %q", col, got, want)
		}
	}
	// The same figures as the API's answer for the same state.
	sum := r.apiJSON(t, "root", url.Values{"method": {"VisitsSummary.get"}, "idSite": {"1"}, "period": {"day"}, "date": {"today"}}).(map[string]any)
	if sum["nb_visits"] != float64(3) || sum["bounce_rate"] != "67%" {
		t.Errorf("API VisitsSummary.get = %v", sum)
	}
	for _, want := range []string{"Google", "news.example", "Shop &lt;script&gt;alert(1)&lt;/script&gt;"} {
		if !strings.Contains(page.body, want) {
			t.Errorf("overview lacks %q", want)
		}
	}
	if strings.Contains(page.body, xss) {
		t.Error("the site name reaches the page unescaped")
	}
	if strings.Contains(page.body, "Zephyrine private clinic") == false {
		t.Error("the superuser's site switcher lacks site 2")
	}
	r.log.check(t)
}

func TestSitePagesLeaveNoTraceOfOtherSites(t *testing.T) {
	r, sess := dashRig(t)
	viewer := map[string]string{"hearth_session": sess["viewer"]}
	own := r.do(t, request{method: http.MethodGet, path: "/site/1", cookies: viewer})
	if own.code != 200 || strings.Contains(own.body, "Zephyrine") {
		t.Fatalf("viewer's own site: %d, names site 2: %v", own.code, strings.Contains(own.body, "Zephyrine"))
	}
	other := r.do(t, request{method: http.MethodGet, path: "/site/2", cookies: viewer})
	none := r.do(t, request{method: http.MethodGet, path: "/site/999", cookies: viewer})
	if other.code != 404 || none.code != 404 || strings.Contains(other.body, "Zephyrine") {
		t.Fatalf("site 2 as viewer: %d; a missing site: %d", other.code, none.code)
	}
	if strip(other.body) != strip(none.body) {
		t.Error("the refusal of site 2 differs from that of a site that does not exist")
	}
	list := r.do(t, request{method: http.MethodGet, path: "/", cookies: viewer})
	if list.code != 200 || strings.Contains(list.body, "Zephyrine") || !strings.Contains(list.body, "Shop &lt;script&gt;") {
		t.Fatalf("sites list of the viewer: %d %s", list.code, list.body)
	}
	r.log.check(t)
}

// strip drops what differs between two answers of the same kind (the request ID).
func strip(s string) string { return regexp.MustCompile(`<code>[^<]*</code>`).ReplaceAllString(s, "") }

func TestBadStateIsAClearError(t *testing.T) {
	r, sess := dashRig(t)
	root := map[string]string{"hearth_session": sess["root"]}
	for _, c := range []struct{ query, want string }{
		{"period=fortnight&date=today", "The period 'fortnight' is not supported"},
		{"period=day&date=yesterweek", "yesterweek"},
		{"period=day&date=today&segment=" + url.QueryEscape("nosuchthing==1"), "nosuchthing"},
		{"period=day&date=today&segment=" + url.QueryEscape("referrerType=="), "segment"},
		{"period=day&date=today&seg_dim=browserCode&seg_op=LIKE&seg_val=x", "operators"},
	} {
		a := r.do(t, request{method: http.MethodGet, path: "/site/1?" + c.query, cookies: root})
		if a.code != 400 || !strings.Contains(html.UnescapeString(a.body), c.want) || strings.Contains(a.body, "goroutine") {
			t.Errorf("%s: %d, want 400 naming %q: %s", c.query, a.code, c.want, a.body)
		}
	}
	r.log.check(t)
}

func TestPagesSpeakGerman(t *testing.T) {
	r, sess := dashRig(t)
	a := r.do(t, request{method: http.MethodGet, path: "/site/1?period=day&date=today", cookies: map[string]string{"hearth_session": sess["root"]},
		header: map[string]string{"Accept-Language": "de-DE,de;q=0.9,en;q=0.5"}})
	if a.code != 200 || !strings.Contains(a.body, `<html lang="de">`) || !strings.Contains(a.body, "Absprungrate") {
		t.Fatalf("German overview: %d", a.code)
	}
	if got := kpiValue(t, a.body, "bounce_rate"); got != "67 %" {
		t.Errorf("German bounce rate = %q, want 67 %%", got)
	}
	// The names Hearth gives report rows, too (the API answers "Search Engines").
	if !strings.Contains(a.body, `">Suchmaschinen</a>`) {
		t.Error("the channel type of search engines is not in German")
	}
	// Refusals too.
	de := map[string]string{"Accept-Language": "de"}
	root := map[string]string{"hearth_session": sess["root"]}
	if a := r.do(t, request{method: http.MethodGet, path: "/site/999", cookies: root, header: de}); a.code != 404 || !strings.Contains(a.body, "Es gibt keine Website mit dieser Nummer") {
		t.Errorf("German refusal of an unknown site: %d", a.code)
	}
	if a := r.do(t, request{method: http.MethodGet, path: "/site/1?seg_dim=browserCode&seg_op=LIKE&seg_val=x", cookies: root, header: de}); a.code != 400 || !strings.Contains(a.body, "Operatoren des Segment-Editors") {
		t.Errorf("German refusal of an unknown operator: %d", a.code)
	}
}

func TestSegmentEditorBuildsTheSegment(t *testing.T) {
	r, sess := dashRig(t)
	root := map[string]string{"hearth_session": sess["root"]}
	a := r.do(t, request{method: http.MethodGet, path: "/site/1?period=day&date=today&seg_dim=referrerType&seg_op=%3D%3D&seg_val=search", cookies: root})
	if a.code != 200 {
		t.Fatalf("%d %s", a.code, a.body)
	}
	if got := kpiValue(t, a.body, "nb_visits"); got != "1" {
		t.Errorf("visits from search engines = %q, want 1", got)
	}
	// Saving it stores it for the site, through SegmentEditor.add.
	save := r.do(t, request{method: http.MethodPost, path: "/site/1/segments", cookies: root, header: map[string]string{"Origin": origin},
		form: url.Values{"action": {"save"}, "name": {"From search"}, "definition": {"referrerType==search"}, "back": {"/site/1?segment=referrerType%3D%3Dsearch"}}})
	if save.code != http.StatusSeeOther || save.header.Get("Location") != "/site/1?segment=referrerType%3D%3Dsearch" {
		t.Fatalf("save: %d %s", save.code, save.header.Get("Location"))
	}
	all := r.apiJSON(t, "root", url.Values{"method": {"SegmentEditor.getAll"}, "idSite": {"1"}})
	if list, _ := all.([]any); len(list) != 1 {
		t.Fatalf("saved segments: %v", all)
	}
	page := r.do(t, request{method: http.MethodGet, path: "/site/1", cookies: root})
	if !strings.Contains(page.body, ">From search</option>") {
		t.Error("the saved segment is not offered")
	}
	// The viewer may not store segments (write access), and is told so.
	v := r.do(t, request{method: http.MethodPost, path: "/site/1/segments", cookies: map[string]string{"hearth_session": sess["viewer"]},
		header: map[string]string{"Origin": origin}, form: url.Values{"action": {"save"}, "name": {"x"}, "definition": {"referrerType==search"}}})
	if v.code != 403 {
		t.Errorf("viewer saving a segment: %d", v.code)
	}
	r.log.check(t)
}

func TestLanguageChosenOnTheAccountPage(t *testing.T) {
	r, sess := dashRig(t)
	root := map[string]string{"hearth_session": sess["root"]}
	a := r.do(t, request{method: http.MethodPost, path: "/account/language", cookies: root, header: map[string]string{"Origin": origin}, form: url.Values{"lang": {"de"}}})
	if a.code != http.StatusSeeOther || !a.sets("hearth_lang") {
		t.Fatalf("choose German: %d %v", a.code, a.header)
	}
	// The choice wins over the browser's English.
	root["hearth_lang"] = "de"
	page := r.do(t, request{method: http.MethodGet, path: "/site/1", cookies: root, header: map[string]string{"Accept-Language": "en"}})
	if !strings.Contains(page.body, `<html lang="de">`) {
		t.Error("the chosen language is not used")
	}
	if bad := r.do(t, request{method: http.MethodPost, path: "/account/language", cookies: root, header: map[string]string{"Origin": origin}, form: url.Values{"lang": {"xx"}}}); bad.code != 400 {
		t.Errorf("an unknown language: %d", bad.code)
	}
	r.log.check(t)
}

func TestOverviewComparesWithThePreviousPeriod(t *testing.T) {
	r, sess := dashRig(t)
	root := map[string]string{"hearth_session": sess["root"]}
	// One visit yesterday on site 1: today's three visits are +200 % against it.
	r.seedVisit(t, 1, 9, r.now.Truncate(24*time.Hour).Add(-12*time.Hour), event.Referrer{Type: event.ReferrerDirect}, "https://shop.example/a")
	a := r.do(t, request{method: http.MethodGet, path: "/site/1?period=day&date=today&compare=previous", cookies: root})
	if a.code != 200 {
		t.Fatalf("%d %s", a.code, a.body)
	}
	if !strings.Contains(a.body, "+200 %") {
		t.Error("the visits tile lacks its change of +200 %")
	}
	// The bounce rate fell from 100 % (yesterday's one visit of one page) to 67 %: good news.
	if !strings.Contains(a.body, `<span class="delta down good">-33 %`) {
		t.Error("the bounce rate's fall is not shown as good news of -33 %")
	}
	if !strings.Contains(a.body, `class="line s1"`) || !strings.Contains(a.body, ">Previous period</span>") {
		t.Error("the chart lacks the previous period's line and its legend")
	}
	// The previous figure is the API's for yesterday.
	y := r.apiJSON(t, "root", url.Values{"method": {"VisitsSummary.get"}, "idSite": {"1"}, "period": {"day"}, "date": {"yesterday"}}).(map[string]any)
	if y["nb_visits"] != float64(1) || !strings.Contains(a.body, "Previous period: 1<") {
		t.Errorf("yesterday per the API: %v; the page shows no previous figure of 1", y["nb_visits"])
	}
	r.log.check(t)
}

func TestSitesListShowsASiteWithoutAddress(t *testing.T) {
	r, sess := dashRig(t)
	if _, err := r.meta.CreateSite(context.Background(), store.Site{Name: "App without pages", Timezone: "UTC", Currency: "EUR", Created: r.now}); err != nil {
		t.Fatal(err)
	}
	a := r.do(t, request{method: http.MethodGet, path: "/", cookies: map[string]string{"hearth_session": sess["root"]}})
	if a.code != 200 || !strings.Contains(a.body, "App without pages") {
		t.Fatalf("sites list with a site of no URL: %d", a.code)
	}
	r.log.check(t)
}

func TestOverviewListsTheGoals(t *testing.T) {
	r, sess := dashRig(t)
	root := map[string]string{"hearth_session": sess["root"]}
	for _, name := range []string{"Signed up", "Bought " + xss} {
		r.apiJSON(t, "root", url.Values{"method": {"Goals.addGoal"}, "idSite": {"1"}, "name": {name}, "matchAttribute": {"url"}, "pattern": {"/thanks"}, "patternType": {"contains"}})
	}
	a := r.do(t, request{method: http.MethodGet, path: "/site/1", cookies: root})
	if a.code != 200 || !strings.Contains(a.body, "2 goals defined.") || !strings.Contains(a.body, "Bought &lt;script&gt;") || !strings.Contains(a.body, "/site/1/goals/1?") {
		t.Fatalf("overview's goals: %d", a.code)
	}
	r.log.check(t)
}

// TestDrillDownKeepsTheRowsFigure: following a row's "only these visits" link shows as many
// visits as the row counted: the exit page /a ends one visit (visit 2), though two visits saw it.
func TestDrillDownKeepsTheRowsFigure(t *testing.T) {
	r, sess := dashRig(t)
	root := map[string]string{"hearth_session": sess["root"]}
	a := r.do(t, request{method: http.MethodGet, path: "/site/1?period=day&date=today", cookies: root})
	block := a.body[strings.Index(a.body, `id="b-Actions.getExitPageUrls"`):]
	block = block[:strings.Index(block, "</section>")]
	m := regexp.MustCompile(`<a href="([^"]+)" title="[^"]*">/a</a></td>\s*<td class="num">(\d+)</td>`).FindStringSubmatch(block)
	if m == nil {
		t.Fatalf("no row for the exit page /a in %s", block)
	}
	link := html.UnescapeString(m[1])
	if !strings.Contains(link, "exitPageUrl%3D%3D") {
		t.Errorf("the exit page's link filters by %s, not by the exit page", link)
	}
	d := r.do(t, request{method: http.MethodGet, path: link, cookies: root})
	if got := kpiValue(t, d.body, "nb_visits"); got != m[2] || got != "1" {
		t.Errorf("visits under the exit page's segment = %s, the row's exits = %s, want both 1", got, m[2])
	}
	r.log.check(t)
}

// TestFirstDayHasNoPreviousPeriod: the API's first day is a valid date; its previous period,
// before it, is shown as having no figures, not refused.
func TestFirstDayHasNoPreviousPeriod(t *testing.T) {
	r, sess := dashRig(t)
	root := map[string]string{"hearth_session": sess["root"]}
	for _, path := range []string{
		"/site/1?period=day&date=1991-08-06",
		"/site/1?period=year&date=1991-08-06&compare=previous",
		"/site/1?period=range&date=1991-08-06,1991-09-06&compare=previous",
		"/site/1/goals?period=day&date=1991-08-06&compare=previous",
		"/site/1/ecommerce?period=day&date=1991-08-06&compare=previous",
		"/site/1/funnels?period=day&date=1991-08-06&compare=previous",
		"/site/1/report/Actions.getPageUrls?period=day&date=1991-08-06&compare=previous",
	} {
		a := r.do(t, request{method: http.MethodGet, path: path, cookies: root})
		if a.code != 200 {
			t.Errorf("%s: %d %s", path, a.code, a.body)
		}
	}
	r.log.check(t)
}

// TestSignInReturnsToTheSharedView: a link to a view opened signed out opens that view after
// the sign-in; a return address off the server is dropped.
func TestSignInReturnsToTheSharedView(t *testing.T) {
	r, _ := dashRig(t)
	view := "/site/1?period=day&date=today&segment=referrerType%3D%3Dsearch"
	a := r.do(t, request{method: http.MethodGet, path: view})
	if a.code != http.StatusSeeOther || a.header.Get("Location") != "/login?next="+url.QueryEscape(view) {
		t.Fatalf("signed out: %d %s", a.code, a.header.Get("Location"))
	}
	form := r.do(t, request{method: http.MethodGet, path: a.header.Get("Location")})
	if !strings.Contains(form.body, `name="next" value="`+html.EscapeString(view)+`"`) {
		t.Fatalf("the sign-in form does not carry the view: %s", form.body)
	}
	in := r.do(t, request{method: http.MethodPost, path: "/login", header: map[string]string{"Origin": origin},
		form: url.Values{"login": {"viewer"}, "password": {password("viewer")}, "next": {view}}})
	if in.code != http.StatusSeeOther || in.header.Get("Location") != view {
		t.Errorf("after the sign-in: %d %s, want %s", in.code, in.header.Get("Location"), view)
	}
	off := r.do(t, request{method: http.MethodPost, path: "/login", header: map[string]string{"Origin": origin},
		form: url.Values{"login": {"viewer"}, "password": {password("viewer")}, "next": {"//evil.example/x"}}})
	if off.header.Get("Location") != "/" {
		t.Errorf("a return address off the server: %s", off.header.Get("Location"))
	}
	r.log.check(t)
}
