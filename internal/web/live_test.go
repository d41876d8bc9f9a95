package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"hearth/internal/audit"
	"hearth/internal/auth"
	"hearth/internal/event"
	"hearth/internal/store"
)

// The visitors of the live fixture.
var (
	liveA = event.VisitorID{0xa1, 0, 0, 0, 0, 0, 0, 1}
	liveB = event.VisitorID{0xb2, 0, 0, 0, 0, 0, 0, 2}
	liveC = event.VisitorID{0xc3, 0, 0, 0, 0, 0, 0, 3}
	liveD = event.VisitorID{0xd4, 0, 0, 0, 0, 0, 0, 4}
	liveZ = event.VisitorID{0xee, 0, 0, 0, 0, 0, 0, 9} // site 2's visitor
)

// liveVisit stores a visit of site with its actions a second apart from first, the visit's
// counters counted from them.
func (r *pagesRig) liveVisit(t *testing.T, site event.SiteID, id event.VisitID, visitor event.VisitorID, first time.Time, v event.Visit, acts ...event.Action) {
	t.Helper()
	v.SiteID, v.ID, v.VisitorID, v.First, v.LocalTime, v.VisitCount = site, id, visitor, first, -1, max(v.VisitCount, 1)
	v.Last = first.Add(time.Duration(len(acts)-1) * time.Second)
	v.Actions = int32(len(acts)) // #nosec G115 -- test sizes
	for i := range acts {
		a := &acts[i]
		a.SiteID, a.VisitID, a.VisitorID, a.Index, a.Time = site, id, visitor, int32(i+1), first.Add(time.Duration(i)*time.Second) // #nosec G115 -- test sizes
		a.SearchCount, a.PerfNetwork, a.PerfServer, a.PerfTransfer, a.PerfDOMProc, a.PerfDOMDone, a.PerfOnLoad = -1, -1, -1, -1, -1, -1, -1
		switch a.Type {
		case event.ActionPageview:
			v.Pageviews++
		case event.ActionEvent:
			v.Events++
		case event.ActionDownload:
			v.Downloads++
		case event.ActionGoal:
			v.Conversions++
		}
	}
	r.seq++
	if err := r.events.Apply(context.Background(), store.Batch{Seq: r.seq, Visits: []event.Visit{v}, Actions: acts}); err != nil {
		t.Fatal(err)
	}
}

func livePage(u, title string) event.Action {
	return event.Action{Type: event.ActionPageview, URL: u, Title: title}
}

// liveRig has a superuser, a viewer and a raw viewer of site 1 (an ecommerce site in Berlin
// time, named by a payload), and five visits of site 1: visitor A 5 and 20 minutes ago (3
// and 1 actions), B 2 hours ago (2), C 23 hours ago (2, one a goal conversion) and D 30
// hours ago (1); site 2 has one visit. Payloads name A's first page, its title, an event
// and the campaign it came from.
func liveRig(t *testing.T) (*pagesRig, map[string]map[string]string) {
	t.Helper()
	r := newPagesRig(t)
	ctx := context.Background()
	r.user(t, store.User{Login: "root", Superuser: true})
	r.user(t, store.User{Login: "viewer"})
	r.user(t, store.User{Login: "rawviewer"})
	s1, err := r.meta.CreateSite(ctx, store.Site{Name: "Shop " + xssScript, URLs: []string{"https://shop.example"}, Timezone: "Europe/Berlin", Currency: "EUR",
		Ecommerce: true, Created: r.now})
	if err != nil {
		t.Fatal(err)
	}
	s2 := r.site(t, "Zephyrine private clinic", "https://clinic.example")
	for _, login := range []string{"viewer", "rawviewer"} {
		if err := r.meta.SetRole(ctx, store.Grant{Login: login, SiteID: s1, Name: auth.RoleView, Created: r.now}); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.meta.AddCapability(ctx, store.Grant{Login: "rawviewer", SiteID: s1, Name: auth.CapViewRaw, Created: r.now}); err != nil {
		t.Fatal(err)
	}
	r.liveVisit(t, s1, 1, liveA, r.now.Add(-5*time.Minute), event.Visit{
		Referrer: event.Referrer{Type: event.ReferrerCampaign, Name: xssAttr, Keyword: "mail"}, Campaign: event.Campaign{Name: xssAttr},
		Location: event.Location{Country: "de", City: "Berlin"}, Device: event.Device{Type: "desktop", Browser: "Firefox", BrowserVersion: "140", OS: "Linux"}},
		livePage("https://shop.example/?q="+xssScript, xssAttr),
		event.Action{Type: event.ActionEvent, EventCategory: xssScript, EventAction: "play", EventName: xssAttr},
		event.Action{Type: event.ActionDownload, URL: "https://shop.example/" + xssAttr + ".pdf"})
	r.liveVisit(t, s1, 2, liveA, r.now.Add(-20*time.Minute), event.Visit{VisitCount: 2, Returning: true}, livePage("https://shop.example/a", "A"))
	r.liveVisit(t, s1, 3, liveB, r.now.Add(-2*time.Hour), event.Visit{}, livePage("https://shop.example/b", "B"), livePage("https://shop.example/c", "C"))
	r.liveVisit(t, s1, 4, liveC, r.now.Add(-23*time.Hour), event.Visit{}, livePage("https://shop.example/thanks", "Thanks"),
		event.Action{Type: event.ActionGoal, GoalID: 1})
	r.liveVisit(t, s1, 5, liveD, r.now.Add(-30*time.Hour), event.Visit{}, livePage("https://shop.example/d", "D"))
	r.liveVisit(t, s2, 6, liveZ, r.now.Add(-3*time.Minute), event.Visit{}, livePage("https://clinic.example/zephyrine", "Zephyrine"))
	cookies := map[string]map[string]string{}
	for _, login := range []string{"root", "viewer", "rawviewer"} {
		cookies[login] = map[string]string{"hearth_session": r.session(t, login)}
	}
	return r, cookies
}

// liveCounters reads the real-time figures a page or the data shows, by data-counter.
func liveCounters(t *testing.T, body string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, m := range regexp.MustCompile(`data-counter="([a-z0-9]+)">([^<]*)<`).FindAllStringSubmatch(body, -1) {
		out[m[1]] = m[2]
	}
	if len(out) != 4 {
		t.Fatalf("%d counters on the page, want 4: %v", len(out), out)
	}
	return out
}

// listedVisits are the ids of the visits the real-time figures list, in order.
func listedVisits(body string) []string {
	var out []string
	for _, m := range regexp.MustCompile(`data-visit="([0-9]+)"`).FindAllStringSubmatch(body, -1) {
		out = append(out, m[1])
	}
	return out
}

// rawViews are the raw-data views in the audit trail, oldest first.
func (r *pagesRig) rawViews(t *testing.T) []audit.Event {
	t.Helper()
	var buf bytes.Buffer
	if err := r.trail.ExportFiltered(context.Background(), &buf, audit.NDJSON, audit.Filter{Action: audit.ActionRawDataView}); err != nil {
		t.Fatal(err)
	}
	var out []audit.Event
	dec := json.NewDecoder(&buf)
	for dec.More() {
		var e struct {
			Actor, Target string
			Details       map[string]string
		}
		if err := dec.Decode(&e); err != nil {
			t.Fatal(err)
		}
		out = append(out, audit.Event{Actor: e.Actor, Target: e.Target, Details: e.Details})
	}
	return out
}

func liveGet(t *testing.T, r *pagesRig, cookies map[string]string, path string) response {
	t.Helper()
	return r.do(t, request{method: http.MethodGet, path: path, cookies: cookies})
}

func TestRealtimeShowsTheAPIsCounters(t *testing.T) {
	r, c := liveRig(t)
	page := liveGet(t, r, c["root"], "/site/1/realtime")
	if page.code != 200 {
		t.Fatalf("realtime: %d %s", page.code, page.body)
	}
	// Hand-counted: the last 30 minutes hold A's two visits (3 + 1 actions); the last 24
	// hours add B's and C's (2 + 2); D's is 30 hours old, site 2's is not counted.
	want := map[string]string{"visits30": "2", "actions30": "4", "visits24": "4", "actions24": "8"}
	got := liveCounters(t, page.body)
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %s, want %s", k, got[k], v)
		}
	}
	// The same as the API's answers, and the same again in the figures the script fetches.
	for _, m := range []struct{ minutes, visits, actions string }{{"30", "visits30", "actions30"}, {"1440", "visits24", "actions24"}} {
		api := r.apiJSON(t, "root", url.Values{"method": {"Live.getCounters"}, "idSite": {"1"}, "lastMinutes": {m.minutes}}).([]any)[0].(map[string]any)
		if fmt.Sprint(api["visits"]) != got[m.visits] || fmt.Sprint(api["actions"]) != got[m.actions] {
			t.Errorf("last %s minutes: API %v, page %s visits %s actions", m.minutes, api, got[m.visits], got[m.actions])
		}
	}
	data := liveGet(t, r, c["root"], "/site/1/realtime/data")
	if data.code != 200 || fmt.Sprint(liveCounters(t, data.body)) != fmt.Sprint(got) || strings.Contains(data.body, "<html") {
		t.Errorf("realtime data: %d %v, a fragment with the page's figures expected", data.code, liveCounters(t, data.body))
	}
	// The superuser sees the latest visits, newest first (by last action), linking profiles.
	if ids := strings.Join(listedVisits(page.body), ","); ids != "1,2,3,4,5" {
		t.Errorf("listed visits %s, want 1,2,3,4,5", ids)
	}
	if !strings.Contains(page.body, `href="/site/1/visitors/`+liveA.String()) || !strings.Contains(page.body, `src="/static/realtime.js?h=`) {
		t.Error("realtime lacks the profile link or its script")
	}
	r.log.check(t)
}

func TestLiveDataNeedsViewRaw(t *testing.T) {
	r, c := liveRig(t)
	page := liveGet(t, r, c["viewer"], "/site/1/realtime")
	if page.code != 200 {
		t.Fatalf("realtime as viewer: %d", page.code)
	}
	if got := liveCounters(t, page.body); got["visits30"] != "2" || got["visits24"] != "4" {
		t.Errorf("viewer's counters: %v", got)
	}
	if ids := listedVisits(page.body); len(ids) != 0 || strings.Contains(page.body, liveA.String()) {
		t.Errorf("the viewer sees visits %v", ids)
	}
	if strings.Contains(page.body, `href="/site/1/visitors`) {
		t.Error("the viewer's page links the visitor log")
	}
	data := liveGet(t, r, c["viewer"], "/site/1/realtime/data")
	if data.code != 200 || len(listedVisits(data.body)) != 0 || strings.Contains(data.body, liveA.String()) {
		t.Errorf("viewer's realtime data: %d, visits %v", data.code, listedVisits(data.body))
	}
	for _, path := range []string{"/site/1/visitors", "/site/1/visitors?page=2", "/site/1/visitors/" + liveA.String(), "/site/1/visitors/nothex"} {
		if a := liveGet(t, r, c["viewer"], path); a.code != http.StatusForbidden || !strings.Contains(a.body, "view_raw") {
			t.Errorf("%s as viewer: %d, want 403 naming view_raw", path, a.code)
		}
	}
	if views := r.rawViews(t); len(views) != 0 {
		t.Errorf("the viewer's pages recorded raw-data views: %v", views)
	}
	// With view_raw the same pages show the visits and the log is linked.
	raw := liveGet(t, r, c["rawviewer"], "/site/1/realtime")
	if ids := strings.Join(listedVisits(raw.body), ","); raw.code != 200 || ids != "1,2,3,4,5" || !strings.Contains(raw.body, `href="/site/1/visitors?`) {
		t.Errorf("realtime as raw viewer: %d, visits %s", raw.code, ids)
	}
	if a := liveGet(t, r, c["rawviewer"], "/site/1/visitors"); a.code != 200 || !strings.Contains(a.body, liveB.String()) {
		t.Errorf("visitor log as raw viewer: %d", a.code)
	}
	// Another site's pages leave no trace of it, for a raw viewer too.
	for _, path := range []string{"/site/2/realtime", "/site/2/realtime/data", "/site/2/visitors", "/site/2/visitors/" + liveZ.String()} {
		if a := liveGet(t, r, c["rawviewer"], path); a.code != 404 || strings.Contains(a.body, "Zephyrine") {
			t.Errorf("%s as raw viewer of site 1: %d", path, a.code)
		}
	}
	r.log.check(t)
}

// TestRawDataViewsAreRecordedOncePerPageView: each page of single visits shown is one
// raw-data view in the audit trail; the real-time figures the script fetches every five
// seconds continue the page's view and add none.
func TestRawDataViewsAreRecordedOncePerPageView(t *testing.T) {
	r, c := liveRig(t)
	type view struct{ method, visits string }
	seen := func() []view {
		var out []view
		for _, e := range r.rawViews(t) {
			if e.Actor != "rawviewer" || e.Target != "site:1" {
				t.Errorf("raw-data view by %s of %s", e.Actor, e.Target)
			}
			out = append(out, view{e.Details["method"], e.Details["visits"]})
		}
		return out
	}
	steps := []struct {
		path string
		want []view // the views recorded by then
	}{
		{"/site/1/realtime", []view{{"Live.getLastVisitsDetails", "5"}}},
		{"/site/1/realtime/data", nil},
		{"/site/1/visitors?period=range&date=last7", []view{{"Live.getLastVisitsDetails", "5"}}},
		{"/site/1/visitors/" + liveA.String(), []view{{"Live.getVisitorProfile", "2"}}},
		{"/site/1/realtime", []view{{"Live.getLastVisitsDetails", "5"}}},
	}
	var want []view
	for _, s := range steps {
		a := liveGet(t, r, c["rawviewer"], s.path)
		if a.code != 200 {
			t.Fatalf("%s: %d %s", s.path, a.code, a.body)
		}
		want = append(want, s.want...)
		// Twelve polls a minute for five minutes after each page: no entry.
		for i := 0; i < 60; i++ {
			r.now = r.now.Add(5 * time.Second)
			if p := liveGet(t, r, c["rawviewer"], "/site/1/realtime/data"); p.code != 200 || len(listedVisits(p.body)) == 0 {
				t.Fatalf("poll: %d", p.code)
			}
		}
		if got := seen(); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("after %s and its polls: raw-data views %v, want %v", s.path, got, want)
		}
	}
	r.log.check(t)
}

func TestRealtimeDataChangesWithANewVisit(t *testing.T) {
	r, c := liveRig(t)
	before := liveGet(t, r, c["rawviewer"], "/site/1/realtime/data")
	if got := liveCounters(t, before.body); got["visits30"] != "2" || got["actions30"] != "4" {
		t.Fatalf("before: %v", got)
	}
	r.liveVisit(t, 1, 7, liveD, r.now.Add(-time.Minute), event.Visit{VisitCount: 2, Returning: true},
		livePage("https://shop.example/new", "New"), livePage("https://shop.example/newer", "Newer"))
	after := liveGet(t, r, c["rawviewer"], "/site/1/realtime/data")
	if got := liveCounters(t, after.body); got["visits30"] != "3" || got["actions30"] != "6" || got["visits24"] != "5" || got["actions24"] != "10" {
		t.Errorf("after a visit of two actions: %v", got)
	}
	if ids := strings.Join(listedVisits(after.body), ","); ids != "7,1,2,3,4,5" {
		t.Errorf("listed after the new visit: %s, want 7,1,2,3,4,5", ids)
	}
	if before.body == after.body {
		t.Error("the data did not change")
	}
	r.log.check(t)
}

func TestVisitorLog(t *testing.T) {
	r, c := liveRig(t)
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Skip("no timezone database")
	}
	a := liveGet(t, r, c["root"], "/site/1/visitors?period=range&date=last7")
	if a.code != 200 {
		t.Fatalf("visitor log: %d %s", a.code, a.body)
	}
	// Five visits on one page, newest first, each at its time in the site's timezone.
	var times []string
	for _, m := range regexp.MustCompile(`<p class="visit-head"><time datetime="([^"]+)">`).FindAllStringSubmatch(a.body, -1) {
		times = append(times, html.UnescapeString(m[1]))
	}
	var want []string
	for _, ago := range []time.Duration{5 * time.Minute, 20 * time.Minute, 2 * time.Hour, 23 * time.Hour, 30 * time.Hour} {
		want = append(want, r.now.Add(-ago).In(berlin).Format(time.RFC3339))
	}
	if fmt.Sprint(times) != fmt.Sprint(want) {
		t.Errorf("visit times %v, want %v", times, want)
	}
	for _, s := range []string{"Visits 1–5 of 5", "Firefox 140", "Linux", "Berlin, Germany", "Returning, visit 2", "Download", "Goal", "Conversions: 1"} {
		if !strings.Contains(a.body, s) {
			t.Errorf("visitor log lacks %q", s)
		}
	}
	if strings.Contains(a.body, `rel="next"`) || strings.Contains(a.body, `rel="prev"`) || strings.Contains(a.body, "clinic.example/zephyrine") {
		t.Error("one page of site 1 only expected")
	}
	// The segment of the state filters it: visitor A's two visits.
	seg := liveGet(t, r, c["root"], "/site/1/visitors?period=range&date=last7&segment="+url.QueryEscape("visitorId=="+liveA.String()))
	if !strings.Contains(seg.body, "Visits 1–2 of 2") || strings.Contains(seg.body, liveB.String()) {
		t.Errorf("visitor log under a segment: %d", seg.code)
	}

	// Thirty more visits three days ago: 35 in all, in pages of 25.
	for i := range 30 {
		r.liveVisit(t, 1, event.VisitID(100+i), event.VisitorID{0x50, byte(i)}, r.now.Add(-72*time.Hour-time.Duration(i)*time.Minute), event.Visit{},
			livePage(fmt.Sprintf("https://shop.example/old%d", i), "Old"))
	}
	first := liveGet(t, r, c["root"], "/site/1/visitors?period=range&date=last7")
	if n := strings.Count(first.body, `<p class="visit-head">`); n != 25 || !strings.Contains(first.body, "Visits 1–25 of 35") ||
		!strings.Contains(first.body, `href="/site/1/visitors?date=last7&amp;page=2&amp;period=range" rel="next"`) || strings.Contains(first.body, `rel="prev"`) {
		t.Errorf("first page: %d visits", n)
	}
	second := liveGet(t, r, c["root"], "/site/1/visitors?period=range&date=last7&page=2")
	if n := strings.Count(second.body, `<p class="visit-head">`); n != 10 || !strings.Contains(second.body, "Visits 26–35 of 35") ||
		!strings.Contains(second.body, `page=1&amp;period=range" rel="prev"`) || strings.Contains(second.body, `rel="next"`) {
		t.Errorf("second page: %d visits", n)
	}
	// The API's own log for the same state and offset: the same visitors in the same order.
	api := r.apiJSON(t, "root", url.Values{"method": {"Live.getLastVisitsDetails"}, "idSite": {"1"}, "period": {"range"}, "date": {"last7"},
		"filter_limit": {"25"}, "filter_offset": {"25"}}).([]any)
	var apiIDs, pageIDs []string
	for _, v := range api {
		apiIDs = append(apiIDs, v.(map[string]any)["visitorId"].(string))
	}
	for _, m := range regexp.MustCompile(`/site/1/visitors/([0-9a-f]{16})\?`).FindAllStringSubmatch(second.body, -1) {
		pageIDs = append(pageIDs, m[1])
	}
	if len(apiIDs) != 10 || fmt.Sprint(apiIDs) != fmt.Sprint(pageIDs) {
		t.Errorf("page 2 visitors %v, API %v", pageIDs, apiIDs)
	}
	// Past the last page: the period has visits, and the page says where they are.
	past := liveGet(t, r, c["root"], "/site/1/visitors?period=range&date=last7&page=9")
	if past.code != 200 || !strings.Contains(past.body, "This page is past the last of the period&#39;s 35 visits.") || strings.Contains(past.body, "No visits in this period.") {
		t.Errorf("past the last page: %d", past.code)
	}
	for _, bad := range []string{"page=0", "page=x", "page=-1"} {
		if a := liveGet(t, r, c["root"], "/site/1/visitors?"+bad); a.code != 400 {
			t.Errorf("%s: %d, want 400", bad, a.code)
		}
	}
	r.log.check(t)
}

func TestVisitorProfilePage(t *testing.T) {
	r, c := liveRig(t)
	a := liveGet(t, r, c["rawviewer"], "/site/1/visitors/"+liveA.String())
	if a.code != 200 {
		t.Fatalf("profile: %d %s", a.code, a.body)
	}
	// A's two visits: 4 actions, 2 s + 0 s on the site (a second between actions).
	shown := map[string]string{}
	for _, m := range regexp.MustCompile(`data-profile="([a-z]+)">([^<]*)<`).FindAllStringSubmatch(a.body, -1) {
		shown[m[1]] = m[2]
	}
	for k, v := range map[string]string{"visits": "2", "actions": "4", "duration": "2 s", "conversions": "0", "orders": "0", "carts": "0"} {
		if shown[k] != v {
			t.Errorf("profile %s = %q, want %q", k, shown[k], v)
		}
	}
	// The same as the API's profile.
	api := r.apiJSON(t, "root", url.Values{"method": {"Live.getVisitorProfile"}, "idSite": {"1"}, "visitorId": {liveA.String()}}).(map[string]any)
	if fmt.Sprint(api["totalVisits"]) != shown["visits"] || fmt.Sprint(api["totalActions"]) != shown["actions"] {
		t.Errorf("API profile %v visits %v actions, page %v", api["totalVisits"], api["totalActions"], shown)
	}
	if n := strings.Count(a.body, `<p class="visit-head">`); n != 2 {
		t.Errorf("%d visits listed, want 2", n)
	}
	for _, s := range []string{"Desktop", "Germany", "Returning, visit 2"} {
		if !strings.Contains(a.body, s) {
			t.Errorf("profile lacks %q", s)
		}
	}
	for _, c2 := range []struct {
		path string
		code int
	}{
		{"/site/1/visitors/xyz", 400},
		{"/site/1/visitors/" + strings.ToUpper(liveA.String())[:15], 400},
		{"/site/1/visitors/0000000000000000", 404},
		{"/site/1/visitors/" + liveZ.String(), 404}, // site 2's visitor
	} {
		if a := liveGet(t, r, c["rawviewer"], c2.path); a.code != c2.code || strings.Contains(a.body, "Zephyrine") {
			t.Errorf("%s: %d, want %d", c2.path, a.code, c2.code)
		}
	}
	r.log.check(t)
}

func TestLivePagesEscapePayloads(t *testing.T) {
	r, c := liveRig(t)
	for _, path := range []string{"/site/1/realtime", "/site/1/realtime/data", "/site/1/visitors", "/site/1/visitors/" + liveA.String()} {
		a := liveGet(t, r, c["root"], path)
		if a.code != 200 {
			t.Fatalf("%s: %d", path, a.code)
		}
		// The first page's URL and title, the event's category and name, the campaign.
		assertEscapedHTML(t, path, a, "https://shop.example/?q="+xssScript, xssAttr, xssScript+" / play / "+xssAttr)
	}
	r.log.check(t)
}

func TestLivePagesSpeakGerman(t *testing.T) {
	r, c := liveRig(t)
	for path, want := range map[string]string{
		"/site/1/realtime":                         "Besuche, letzte 30 Minuten",
		"/site/1/visitors?period=range&date=last7": "Besuche 1–5 von 5",
		"/site/1/visitors/" + liveA.String():       "Besucherprofil",
	} {
		a := r.do(t, request{method: http.MethodGet, path: path, cookies: c["root"], header: map[string]string{"Accept-Language": "de"}})
		if a.code != 200 || !strings.Contains(a.body, want) || !strings.Contains(a.body, `<html lang="de">`) {
			t.Errorf("%s in German: %d, lacks %q", path, a.code, want)
		}
	}
	// The visitor pages' error pages answer in the request's language.
	checkLanguages(t, r, []pageCase{
		{"not a visitor ID", request{method: http.MethodGet, path: "/site/1/visitors/zz", cookies: c["root"]}, 400,
			[]string{"A visitor ID is 16 hexadecimal characters."}, []string{"Eine Besucher-ID besteht aus 16 Hexadezimalzeichen."}},
		{"visitor log without raw data", request{method: http.MethodGet, path: "/site/1/visitors", cookies: c["viewer"]}, 403,
			[]string{"The visitor log shows single visits: it needs the right to see raw data (view_raw) on this site."},
			[]string{"Das Besucherprotokoll zeigt einzelne Besuche: Dafür brauchen Sie auf dieser Website das Recht, Rohdaten zu sehen (view_raw)."}},
	})
	r.log.check(t)
}
