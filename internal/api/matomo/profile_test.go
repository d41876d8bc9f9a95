package matomo

import (
	"bytes"
	"context"
	"encoding/json"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"hearth/internal/audit"
	"hearth/internal/event"
	"hearth/internal/store"
)

// auditedRig is an API rig whose calls are recorded in a real audit trail.
func auditedRig(t *testing.T) (*apiRig, *audit.Trail) {
	t.Helper()
	r := newAPIRig(t, false)
	trail := audit.New(r.api.opts.Meta.(audit.Store), audit.Options{Key: []byte("k"), HeadPath: filepath.Join(t.TempDir(), "head"), Now: func() time.Time { return r.now }})
	r.api.opts.Audit = trail
	return r, trail
}

// rawViewEntries are the trail's raw-data views, oldest first.
func rawViewEntries(t *testing.T, trail *audit.Trail) []map[string]any {
	t.Helper()
	var buf bytes.Buffer
	if err := trail.ExportFiltered(context.Background(), &buf, audit.NDJSON, audit.Filter{Action: audit.ActionRawDataView}); err != nil {
		t.Fatal(err)
	}
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		if line == "" {
			continue
		}
		var e map[string]any
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatal(err)
		}
		out = append(out, e)
	}
	return out
}

// profileVisit is one visit of the profile fixture with its actions, in order a second apart.
func profileVisit(id event.VisitID, visitor event.VisitorID, first time.Time, length time.Duration, v event.Visit, acts ...event.Action) store.Batch {
	v.SiteID, v.ID, v.VisitorID, v.First, v.Last, v.LocalTime = 1, id, visitor, first, first.Add(length), -1
	v.Actions = int32(len(acts)) // #nosec G115 -- test sizes
	for i := range acts {
		a := &acts[i]
		a.SiteID, a.VisitID, a.VisitorID, a.Index = 1, id, visitor, int32(i+1) // #nosec G115 -- test sizes
		a.Time = first.Add(time.Duration(i) * time.Second)
		a.SearchCount, a.PerfNetwork, a.PerfServer, a.PerfTransfer, a.PerfDOMProc, a.PerfDOMDone, a.PerfOnLoad = -1, -1, -1, -1, -1, -1, -1
		switch a.Type {
		case event.ActionPageview:
			v.Pageviews++
		case event.ActionSearch:
			v.Searches++
		case event.ActionEvent:
			v.Events++
		case event.ActionDownload:
			v.Downloads++
		case event.ActionOutlink:
			v.Outlinks++
		case event.ActionGoal:
			v.Conversions++
		}
	}
	return store.Batch{Visits: []event.Visit{v}, Actions: acts}
}

var (
	visitorA = event.VisitorID{0xaa, 1, 2, 3, 4, 5, 6, 7}
	visitorB = event.VisitorID{0xbb, 1, 2, 3, 4, 5, 6, 7}
)

// profileRig is an ecommerce site with goal 1 and four visits: three of visitor A (3 days,
// 1 day and 1 hour ago) and one of visitor B ten minutes ago.
func profileRig(t *testing.T) (*apiRig, *audit.Trail) {
	t.Helper()
	r, trail := auditedRig(t)
	if code, v := r.json(t, url.Values{"method": {"SitesManager.addSite"}, "siteName": {"Shop"}, "urls[0]": {"https://shop.example"}, "ecommerce": {"1"}}); code != 200 {
		t.Fatalf("addSite: %v", v)
	}
	if code, v := r.json(t, url.Values{"method": {"Goals.addGoal"}, "idSite": {"1"}, "name": {"Signup"}, "matchAttribute": {"url"}, "pattern": {"/thanks"}, "patternType": {"contains"}}); code != 200 {
		t.Fatalf("addGoal: %v", v)
	}
	page := func(u string) event.Action {
		return event.Action{Type: event.ActionPageview, URL: u, Title: "Title " + u}
	}
	desktop := event.Device{Type: "desktop", Brand: "Apple", Model: "MacBook", Browser: "Firefox", OS: "Mac"}
	batches := []store.Batch{
		profileVisit(1, visitorA, r.now.Add(-72*time.Hour), 60*time.Second, event.Visit{
			Referrer: event.Referrer{Type: event.ReferrerSearch, Name: "Google", Keyword: "shoes"},
			Location: event.Location{Country: "de", City: "Berlin"}, Device: desktop},
			page("https://shop.example/"), event.Action{Type: event.ActionSearch, SearchKeyword: "boots"}, page("https://shop.example/boots")),
		profileVisit(2, visitorA, r.now.Add(-24*time.Hour), 120*time.Second, event.Visit{
			Referrer: event.Referrer{Type: event.ReferrerCampaign, Name: "autumn", Keyword: "mail"},
			Location: event.Location{Country: "de", City: "Berlin"}, Device: event.Device{Type: "smartphone", Brand: "Samsung", Model: "Galaxy"}},
			page("https://shop.example/sale"), event.Action{Type: event.ActionEvent, EventCategory: "video", EventAction: "play"},
			event.Action{Type: event.ActionDownload, URL: "https://shop.example/list.pdf"}, event.Action{Type: event.ActionOutlink, URL: "https://other.example/"},
			event.Action{Type: event.ActionGoal, GoalID: 1, Revenue: 5}),
		profileVisit(3, visitorA, r.now.Add(-time.Hour), 30*time.Second, event.Visit{Location: event.Location{Country: "fr", City: "Paris"}, Device: desktop,
			Ecommerce: event.EcommerceOrderedThenAbandonedCart, Revenue: 30},
			page("https://shop.example/cart"),
			event.Action{Type: event.ActionOrder, OrderID: "o-1", Revenue: 30, Items: []event.Item{{SKU: "a", Price: 10, Quantity: 1}, {SKU: "b", Price: 20, Quantity: 1}}},
			event.Action{Type: event.ActionCartUpdate, Revenue: 8, Items: []event.Item{{SKU: "c", Price: 8, Quantity: 1}}},
			event.Action{Type: event.ActionCartUpdate, Revenue: 12, Items: []event.Item{{SKU: "c", Price: 12, Quantity: 1}}}),
		profileVisit(4, visitorB, r.now.Add(-10*time.Minute), 0, event.Visit{Location: event.Location{Country: "it"}}, page("https://shop.example/")),
	}
	for i, b := range batches {
		b.Seq = uint64(i + 1) // #nosec G115 -- test sizes
		if err := r.api.opts.Events.Apply(context.Background(), b); err != nil {
			t.Fatal(err)
		}
	}
	return r, trail
}

func TestVisitorProfile(t *testing.T) {
	r, trail := profileRig(t)
	code, v := r.json(t, url.Values{"method": {"Live.getVisitorProfile"}, "idSite": {"1"}, "visitorId": {visitorA.String()}})
	p, ok := v.(map[string]any)
	if code != 200 || !ok {
		t.Fatalf("profile: %d %v", code, v)
	}
	// Hand-summed from the three visits of visitor A.
	for k, want := range map[string]any{
		"visitorId": "aa01020304050607", "totalVisits": 3.0, "visitsAggregated": 3.0, "hasMoreVisits": 0.0,
		"totalVisitDuration": 210.0, "totalActions": 12.0, "totalPageViews": 4.0, "totalSearches": 1.0, "totalEvents": 1.0,
		"totalDownloads": 1.0, "totalOutlinks": 1.0, "totalGoalConversions": 1.0,
		"totalEcommerceConversions": 1.0, "totalEcommerceRevenue": 30.0, "totalEcommerceItems": 2.0,
		// One abandoned cart, as last updated: 12 with one item (the first update does not count).
		"totalAbandonedCarts": 1.0, "totalAbandonedCartsRevenue": 12.0, "totalAbandonedCartsItems": 1.0,
	} {
		if p[k] != want {
			t.Errorf("%s = %v, want %v", k, p[k], want)
		}
	}
	// Compared as JSON re-encoded from the decoded answer: keys in alphabetical order.
	js := func(k string) string { b, _ := json.Marshal(p[k]); return string(b) }
	for k, want := range map[string]string{
		"totalConversionsByGoal": `{"idgoal=1":1}`,
		"totalRevenueByGoal":     `{"idgoal=1":5}`,
		"countries":              `[{"cities":["Berlin"],"country":"de","nb_visits":2,"prettyName":"Germany"},{"cities":["Paris"],"country":"fr","nb_visits":1,"prettyName":"France"}]`,
		"continents":             `[{"continent":"eur","nb_visits":3,"prettyName":"Europe"}]`,
		"devices":                `[{"count":2,"devices":[{"count":2,"name":"Apple MacBook"}],"type":"Desktop"},{"count":1,"devices":[{"count":1,"name":"Samsung Galaxy"}],"type":"Smartphone"}]`,
		"searches":               `[{"keyword":"boots","searches":1}]`,
	} {
		if got := js(k); got != want {
			t.Errorf("%s = %s, want %s", k, got, want)
		}
	}
	first, last := p["firstVisit"].(map[string]any), p["lastVisit"].(map[string]any)
	if first["date"] != float64(r.now.Add(-72*time.Hour).Unix()) || first["daysAgo"] != 3.0 || first["referralSummary"] != "Google (shoes)" || first["referrerType"] != "search" {
		t.Errorf("firstVisit = %v", first)
	}
	if last["date"] != float64(r.now.Add(-time.Hour).Unix()) || last["daysAgo"] != 0.0 || last["referralSummary"] != "Direct Entry" {
		t.Errorf("lastVisit = %v", last)
	}
	visits, _ := p["lastVisits"].([]any)
	if len(visits) != 3 {
		t.Fatalf("lastVisits: %d", len(visits))
	}
	for i, want := range []float64{3, 2, 1} {
		if id := visits[i].(map[string]any)["idVisit"]; id != want {
			t.Errorf("lastVisits[%d] is visit %v, want %v: newest first", i, id, want)
		}
	}
	if acts, _ := visits[1].(map[string]any)["actionDetails"].([]any); len(acts) != 5 || acts[4].(map[string]any)["goalName"] != "Signup" {
		t.Errorf("visit 2's actions: %v", acts)
	}

	// In XML, nested as Matomo nests it.
	code, body := r.call(t, false, url.Values{"method": {"Live.getVisitorProfile"}, "idSite": {"1"}, "visitorId": {visitorA.String()}, "token_auth": {r.token}})
	for _, want := range []string{"<totalVisits>3</totalVisits>", "<totalConversionsByGoal>\n\t\t<idgoal_1>1</idgoal_1>", "<cities>\n\t\t\t\t<row>Berlin</row>"} {
		if code != 200 || !strings.Contains(body, want) {
			t.Errorf("XML profile lacks %q: %d %s", want, code, body)
		}
	}

	// limitVisits lists fewer visits and sums up the same.
	_, v = r.json(t, url.Values{"method": {"Live.getVisitorProfile"}, "idSite": {"1"}, "visitorId": {"AA01020304050607"}, "limitVisits": {"1"}})
	p = v.(map[string]any)
	if visits, _ := p["lastVisits"].([]any); len(visits) != 1 || p["totalVisits"] != 3.0 {
		t.Errorf("limitVisits=1: %d listed, %v visits", len(visits), p["totalVisits"])
	}
	// Without visitorId: the visitor of the most recent visit, B.
	_, v = r.json(t, url.Values{"method": {"Live.getVisitorProfile"}, "idSite": {"1"}})
	if p := v.(map[string]any); p["visitorId"] != visitorB.String() || p["totalVisits"] != 1.0 {
		t.Errorf("default profile: %v visits of %v", p["totalVisits"], p["visitorId"])
	}
	// A segment narrows the visits summed up.
	_, v = r.json(t, url.Values{"method": {"Live.getVisitorProfile"}, "idSite": {"1"}, "visitorId": {visitorA.String()}, "segment": {"countryCode==de"}})
	if p := v.(map[string]any); p["totalVisits"] != 2.0 {
		t.Errorf("profile under countryCode==de: %v visits, want 2", p["totalVisits"])
	}
	// A visitor without visits has no profile.
	if code, v := r.json(t, url.Values{"method": {"Live.getVisitorProfile"}, "idSite": {"1"}, "visitorId": {"00000000000000ff"}}); code != 200 || js2(v) != "[]" {
		t.Errorf("unknown visitor: %d %v", code, v)
	}
	for _, bad := range []url.Values{{"visitorId": {"xyz"}}, {"visitorId": {"aa0102030405060"}}, {"visitorId": {visitorA.String()}, "limitVisits": {"0"}}} {
		bad.Set("method", "Live.getVisitorProfile")
		bad.Set("idSite", "1")
		if code, v := r.json(t, bad); code != 400 {
			t.Errorf("%v: %d %v, want 400", bad, code, v)
		}
	}

	// Every profile answered is one raw-data view in the trail, naming the visitor.
	got := rawViewEntries(t, trail)
	want := []string{visitorA.String() + "/3", visitorA.String() + "/3", visitorA.String() + "/3", visitorB.String() + "/1", visitorA.String() + "/2", "00000000000000ff/0"}
	if len(got) != len(want) {
		t.Fatalf("%d raw-data views recorded, want %d: %v", len(got), len(want), got)
	}
	for i, e := range got {
		d := e["details"].(map[string]any)
		if d["method"] != "Live.getVisitorProfile" || e["target"] != "site:1" || d["visitor"].(string)+"/"+d["visits"].(string) != want[i] {
			t.Errorf("entry %d: %v, want visitor/visits %s", i, e, want[i])
		}
	}
}

func js2(v any) string { b, _ := json.Marshal(v); return string(b) }

// TestRealtimeViewIsRecordedOnce: the visitor log read again and again with continueView=1 is
// one view in the audit trail for viewWindow after the view was recorded; a call without it is
// always recorded; a continuation of another site or past the window is recorded again.
func TestRealtimeViewIsRecordedOnce(t *testing.T) {
	r, trail := profileRig(t)
	if code, v := r.json(t, url.Values{"method": {"SitesManager.addSite"}, "siteName": {"Other"}, "urls[0]": {"https://other.example"}}); code != 200 {
		t.Fatalf("addSite: %v", v)
	}
	start := r.now
	read := func(site string, continued bool) {
		t.Helper()
		p := url.Values{"method": {"Live.getLastVisitsDetails"}, "idSite": {site}, "filter_limit": {"10"}}
		if continued {
			p.Set("continueView", "1")
		}
		if code, v := r.json(t, p); code != 200 {
			t.Fatalf("visitor log: %d %v", code, v)
		}
	}
	count := func() int { return len(rawViewEntries(t, trail)) }

	// A continuation with no view before it is a view of its own.
	read("1", true)
	if n := count(); n != 1 {
		t.Fatalf("first continuation: %d entries, want 1", n)
	}
	// Polls every five seconds for 29 minutes: still one entry.
	for i := 1; i < 29*12; i++ {
		r.now = start.Add(time.Duration(i) * 5 * time.Second)
		read("1", true)
	}
	if n := count(); n != 1 {
		t.Fatalf("after 29 minutes of polls: %d entries, want 1", n)
	}
	// A page load (no continueView) is a new view, and the polls continue it.
	read("1", false)
	read("1", true)
	if n := count(); n != 2 {
		t.Fatalf("after a page load: %d entries, want 2", n)
	}
	// Another site is another view.
	read("2", true)
	if n := count(); n != 3 {
		t.Fatalf("after a poll of site 2: %d entries, want 3", n)
	}
	// Thirty minutes after the page load the watching is recorded again, marked as going on.
	r.now = r.now.Add(viewWindow)
	read("1", true)
	got := rawViewEntries(t, trail)
	if len(got) != 4 {
		t.Fatalf("past the window: %d entries, want 4", len(got))
	}
	if d := got[3]["details"].(map[string]any); d["view"] != "continued" || got[3]["target"] != "site:1" {
		t.Errorf("the continued view's entry: %v", got[3])
	}
	if d := got[1]["details"].(map[string]any); d["view"] != nil || d["visits"] != "4" {
		t.Errorf("the page load's entry: %v", got[1])
	}
	// A continuation that reads more than the real-time page shows is a view of its own: more
	// visits, a later page, a period of its own, another segment.
	for i, more := range []url.Values{
		{"filter_limit": {"10000"}},
		{"filter_offset": {"10"}},
		{"period": {"range"}, "date": {"last60"}},
		{"segment": {"visitCount>=1"}},
	} {
		p := url.Values{"method": {"Live.getLastVisitsDetails"}, "idSite": {"1"}, "filter_limit": {"10"}, "continueView": {"1"}}
		for k, v := range more {
			p[k] = v
		}
		if code, v := r.json(t, p); code != 200 {
			t.Fatalf("visitor log %v: %d %v", more, code, v)
		}
		if n := count(); n != 5+i {
			t.Errorf("continuation with %v: %d entries, want %d", more, n, 5+i)
		}
	}
}

// TestRawViewsBound: past maxOpenViews the views that lapsed are forgotten, and with none
// lapsed a new view is still recorded but not remembered.
func TestRawViewsBound(t *testing.T) {
	var v rawViews
	t0 := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	for i := range maxOpenViews {
		v.recorded("u", event.SiteID(i+1), "", t0) // #nosec G115 -- test sizes
	}
	v.recorded("late", 1, "", t0.Add(time.Minute))
	if v.continues("late", 1, "", t0.Add(2*time.Minute)) {
		t.Error("a view past the bound is remembered")
	}
	if !v.continues("u", 5, "", t0.Add(2*time.Minute)) {
		t.Error("a remembered view is lost")
	}
	v.recorded("late", 1, "", t0.Add(viewWindow))
	if !v.continues("late", 1, "", t0.Add(viewWindow+time.Minute)) || len(v.last) != 1 {
		t.Errorf("lapsed views were not let go: %d remembered", len(v.last))
	}
}
