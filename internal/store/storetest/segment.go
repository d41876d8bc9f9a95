package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"hearth/internal/event"
	"hearth/internal/store"
)

// c builds a condition: numbers compare as numbers, strings as text.
func c(f store.Field, op store.Op, v any) store.Cond {
	switch x := v.(type) {
	case int:
		return store.Cond{Field: f, Op: op, Num: float64(x), IsNum: true}
	case float64:
		return store.Cond{Field: f, Op: op, Num: x, IsNum: true}
	}
	return store.Cond{Field: f, Op: op, Str: fmt.Sprint(v)}
}

// runSegments checks that every engine keeps exactly the visits a segment selects. The four
// visits last 1, 2, 4 and 8 seconds, so the summed visit length of a result names its visits
// as a bit mask (V1 = 1, V2 = 2, V3 = 4, V4 = 8).
func runSegments(t *testing.T, open func(t *testing.T, dir string) store.Events) {
	ctx := context.Background()
	s := open(t, t.TempDir())
	defer s.Close()
	t0 := time.Date(2026, 3, 6, 10, 0, 0, 0, time.UTC)
	base := func(id byte, secs int) event.Visit {
		return event.Visit{SiteID: 1, ID: event.VisitID(id), VisitorID: event.VisitorID{id}, First: t0, Last: t0.Add(time.Duration(secs) * time.Second),
			VisitCount: 1, LocalTime: -1}
	}
	v1 := base(1, 1)
	v1.Referrer = event.Referrer{Type: event.ReferrerSearch, Name: "Google", Keyword: "clinic"}
	v1.Location = event.Location{Country: "de", City: "Berlin"}
	v1.Device = event.Device{Type: "desktop", OS: "Windows", Browser: "Firefox", BrowserVersion: "120.0"}
	v1.Resolution, v1.Language, v1.LocalTime, v1.Conversions = "1920x1080", "de-de", 36000, 1
	v1.EntryURL, v1.EntryTitle, v1.ExitURL, v1.ExitTitle, v1.Actions = "https://ex.org/home", "Home", "https://ex.org/file.pdf", "", 3
	v2 := base(2, 2)
	v2.VisitCount, v2.Returning, v2.DaysSinceLast, v2.DaysSinceFirst, v2.UserID = 3, true, 2, 30, "pseudo-u2"
	v2.Referrer = event.Referrer{Type: event.ReferrerDirect}
	v2.Location = event.Location{Country: "fr"}
	v2.Device = event.Device{Type: "smartphone", Brand: "Apple", Model: "iPhone", OS: "iOS", Browser: "Safari", BrowserVersion: "17.1"}
	v2.EntryURL, v2.EntryTitle, v2.ExitURL, v2.ExitTitle, v2.Actions, v2.Ecommerce = "https://ex.org/home", "Home", "https://ex.org/home", "Home", 2, event.EcommerceOrdered
	v3 := base(3, 4)
	v3.Referrer = event.Referrer{Type: event.ReferrerSocial, Name: "Facebook"}
	v3.Location = event.Location{Country: "de"}
	v3.Device = event.Device{Type: "tablet", OS: "Android", Browser: "Chrome"}
	v3.Actions = 2
	v4 := base(4, 8)
	v4.VisitCount, v4.Returning = 2, true
	v4.Referrer = event.Referrer{Type: event.ReferrerCampaign, Name: "spring", URL: "https://partner.example/links"}
	v4.Campaign = event.Campaign{Name: "spring", Source: "newsletter"}
	v4.Device = event.Device{Type: "desktop", OS: "GNU/Linux", Browser: "Chrome"}
	v4.EntryURL, v4.EntryTitle, v4.ExitURL, v4.ExitTitle, v4.Actions = "https://ex.org/blog", "Blog", "https://ex.org/blog", "Blog", 3

	act := func(v event.Visit, idx int32, typ event.ActionType, mod func(*event.Action)) event.Action {
		a := action(v.VisitorID[0], idx, t0, typ)
		mod(&a)
		return a
	}
	actions := []event.Action{
		act(v1, 1, event.ActionPageview, func(a *event.Action) { a.URL, a.Title = "https://ex.org/home", "Home" }),
		act(v1, 2, event.ActionPageview, func(a *event.Action) { a.URL, a.Title = "https://ex.org/blog/post", "Post" }),
		act(v1, 3, event.ActionDownload, func(a *event.Action) { a.URL = "https://ex.org/file.pdf" }),
		act(v2, 1, event.ActionPageview, func(a *event.Action) { a.URL, a.Title = "https://ex.org/home", "Home" }),
		act(v2, 2, event.ActionOrder, func(a *event.Action) {
			a.URL, a.OrderID, a.Revenue = "https://ex.org/cart", "A-1", 20
			a.Items = []event.Item{{SKU: "GL-1", Name: "Gloves", Categories: []string{"Care", "Gloves"}, Price: 10, Quantity: 2}}
		}),
		act(v3, 1, event.ActionEvent, func(a *event.Action) {
			a.EventCategory, a.EventAction, a.EventName, a.EventValue, a.HasEventValue = "Video", "Play", "Intro", 5, true
		}),
		act(v3, 2, event.ActionSearch, func(a *event.Action) { a.SearchKeyword = "opening hours"; a.SearchCount = 3 }),
		act(v4, 1, event.ActionPageview, func(a *event.Action) { a.URL, a.Title = "https://ex.org/blog", "Blog" }),
		act(v4, 2, event.ActionOutlink, func(a *event.Action) { a.URL = "https://partner.example/" }),
		act(v4, 3, event.ActionContent, func(a *event.Action) { a.ContentName, a.ContentPiece = "Banner", "img1" }),
	}
	if err := s.Apply(ctx, store.Batch{Seq: 1, Visits: []event.Visit{v1, v2, v3, v4}, Actions: actions}); err != nil {
		t.Fatal(err)
	}
	one := func(cs ...store.Cond) store.Filter { return store.Filter{And: [][]store.Cond{cs}} }
	and := func(groups ...[]store.Cond) store.Filter { return store.Filter{And: groups} }
	or := func(cs ...store.Cond) []store.Cond { return cs }
	cases := []struct {
		name string
		f    store.Filter
		mask int64
	}{
		{"no segment", store.Filter{}, 15},
		{"== is case-insensitive", one(c(store.FieldCountry, store.OpEq, "DE")), 1 | 4},
		{"== empty", one(c(store.FieldCountry, store.OpEq, "")), 8},
		{"!= empty", one(c(store.FieldCountry, store.OpNe, "")), 1 | 2 | 4},
		{"!= keeps missing values", one(c(store.FieldCountry, store.OpNe, "de")), 2 | 8},
		{"=@", one(c(store.FieldBrowser, store.OpContains, "fire")), 1},
		{"!@", one(c(store.FieldBrowser, store.OpNotContains, "fire")), 2 | 4 | 8},
		{"=^", one(c(store.FieldBrowser, store.OpStarts, "saf")), 2},
		{"=$", one(c(store.FieldOS, store.OpEnds, "DOWS")), 1},
		{">=", one(c(store.FieldVisitCount, store.OpGe, 2)), 2 | 8},
		{"<", one(c(store.FieldVisitCount, store.OpLt, 2)), 1 | 4},
		{"<=", one(c(store.FieldVisitCount, store.OpLe, 2)), 1 | 4 | 8},
		{">", one(c(store.FieldVisitCount, store.OpGt, 2)), 2},
		{"numeric !=", one(c(store.FieldVisitCount, store.OpNe, 3)), 1 | 4 | 8},
		{"visit duration", one(c(store.FieldVisitDuration, store.OpEq, 4)), 4},
		{"referrer type", one(c(store.FieldReferrerType, store.OpEq, int(event.ReferrerSearch))), 1},
		{"returning", one(c(store.FieldVisitorType, store.OpEq, "returning")), 2 | 8},
		{"new", one(c(store.FieldVisitorType, store.OpEq, "new")), 1 | 4},
		{"visitor id", one(c(store.FieldVisitorID, store.OpEq, "0100000000000000")), 1},
		{"visitor id !=", one(c(store.FieldVisitorID, store.OpNe, "0100000000000000")), 2 | 4 | 8},
		{"user id", one(c(store.FieldUserID, store.OpEq, "pseudo-u2")), 2},
		{"no user id", one(c(store.FieldUserID, store.OpEq, "")), 1 | 4 | 8},
		{"days since last", one(c(store.FieldDaysSinceLast, store.OpGe, 2)), 2},
		{"converted", one(c(store.FieldConverted, store.OpEq, 1)), 1},
		{"ecommerce", one(c(store.FieldEcommerce, store.OpEq, int(event.EcommerceOrdered))), 2},
		{"campaign", one(c(store.FieldCampaignName, store.OpEq, "Spring")), 8},
		{"campaign source", one(c(store.FieldCampaignSource, store.OpStarts, "news")), 8},
		{"referrer name", one(c(store.FieldReferrerName, store.OpEq, "facebook")), 4},
		{"referrer keyword", one(c(store.FieldReferrerKeyword, store.OpEq, "clinic")), 1},
		{"referrer url", one(c(store.FieldReferrerURL, store.OpContains, "partner")), 8},
		{"local hour", one(c(store.FieldLocalHour, store.OpEq, 10)), 1},
		{"server hour", one(c(store.FieldServerHour, store.OpEq, 10)), 15},
		{"brand", one(c(store.FieldDeviceBrand, store.OpEq, "apple")), 2},
		{"model", one(c(store.FieldDeviceModel, store.OpContains, "phone")), 2},
		{"device type", one(c(store.FieldDeviceType, store.OpEq, "desktop")), 1 | 8},
		{"language", one(c(store.FieldLanguage, store.OpStarts, "de")), 1},
		{"resolution", one(c(store.FieldResolution, store.OpEq, "1920x1080")), 1},
		{"city", one(c(store.FieldCity, store.OpEq, "berlin")), 1},
		{"browser version", one(c(store.FieldBrowserVersion, store.OpStarts, "17")), 2},
		{"entry url", one(c(store.FieldEntryURL, store.OpEq, "https://ex.org/home")), 1 | 2},
		{"entry url without scheme", one(c(store.FieldEntryURL, store.OpEq, "ex.org/home")), 1 | 2},
		{"entry title", one(c(store.FieldEntryTitle, store.OpEq, "blog")), 8},
		{"exit title empty", one(c(store.FieldExitTitle, store.OpEq, "")), 1 | 4},
		{"exit url !@", one(c(store.FieldExitURL, store.OpNotContains, "home")), 1 | 4 | 8},
		{"page url contains", one(c(store.FieldPageURL, store.OpContains, "/blog")), 1 | 8},
		{"page url without scheme", one(c(store.FieldPageURL, store.OpEq, "ex.org/blog")), 8},
		{"page url !=: never viewed", one(c(store.FieldPageURL, store.OpNe, "https://ex.org/home")), 4 | 8},
		{"page title", one(c(store.FieldPageTitle, store.OpEq, "home")), 1 | 2},
		{"page title !@", one(c(store.FieldPageTitle, store.OpNotContains, "o")), 4},
		{"action type", one(c(store.FieldActionType, store.OpEq, int(event.ActionDownload))), 1},
		{"download url", one(c(store.FieldDownloadURL, store.OpEnds, ".pdf")), 1},
		{"a download url is no page url", one(c(store.FieldPageURL, store.OpEnds, ".pdf")), 0},
		{"outlink url", one(c(store.FieldOutlinkURL, store.OpStarts, "https://partner")), 8},
		{"event category", one(c(store.FieldEventCategory, store.OpEq, "video")), 4},
		{"event action", one(c(store.FieldEventAction, store.OpEq, "play")), 4},
		{"event name", one(c(store.FieldEventName, store.OpEq, "intro")), 4},
		{"event value", one(c(store.FieldEventValue, store.OpGt, 3)), 4},
		{"search keyword", one(c(store.FieldSearchKeyword, store.OpContains, "hours")), 4},
		{"content name", one(c(store.FieldContentName, store.OpEq, "banner")), 8},
		{"content piece", one(c(store.FieldContentPiece, store.OpEq, "img1")), 8},
		{"order id", one(c(store.FieldOrderID, store.OpEq, "A-1")), 2},
		{"product sku", one(c(store.FieldProductSKU, store.OpEq, "gl-1")), 2},
		{"product category", one(c(store.FieldProductCategory, store.OpEq, "Gloves")), 2},
		{"product category is a whole name", one(c(store.FieldProductCategory, store.OpEq, "Glo")), 0},
		{"AND of ORs", and(or(c(store.FieldCountry, store.OpEq, "de")), or(c(store.FieldBrowser, store.OpEq, "firefox"), c(store.FieldDeviceType, store.OpEq, "tablet"))), 1 | 4},
		{"visit AND action", and(or(c(store.FieldVisitCount, store.OpGe, 2)), or(c(store.FieldPageURL, store.OpContains, "blog"))), 8},
		{"visit OR action", one(c(store.FieldEventCategory, store.OpEq, "video"), c(store.FieldCountry, store.OpEq, "fr")), 2 | 4},
		{"two actions of one visit", and(or(c(store.FieldPageTitle, store.OpEq, "Home")), or(c(store.FieldActionType, store.OpEq, int(event.ActionDownload)))), 1},
		{"a value with SQL in it is a value", one(c(store.FieldCountry, store.OpEq, "de' OR '1'='1")), 0},
	}
	day := store.TimeRange{From: t0.Truncate(24 * time.Hour), To: t0.Truncate(24 * time.Hour).Add(24 * time.Hour)}
	runGroups(t, s, day)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.VisitTotals(ctx, store.ReportQuery{Site: 1, Ranges: []store.TimeRange{day}, Segment: tc.f})
			if err != nil {
				t.Errorf("%s: %v", tc.name, err)
				return
			}
			if got[0].VisitLength != tc.mask {
				t.Errorf("%s: visits %04b, want %04b", tc.name, got[0].VisitLength, tc.mask)
			}
		})
	}
}

// runGroups checks VisitGroups on the segment dataset: one level, two levels, and hours and
// weekdays in a site's local time across an offset change.
func runGroups(t *testing.T, s store.Events, day store.TimeRange) {
	ctx := context.Background()
	groups := func(t *testing.T, q store.GroupQuery) map[string]store.VisitTotals {
		t.Helper()
		q.Site, q.Ranges = 1, []store.TimeRange{day}
		rows, err := s.VisitGroups(ctx, q)
		if err != nil {
			t.Fatalf("group by %v: %v", q.By, err)
		}
		out := map[string]store.VisitTotals{}
		for _, r := range rows {
			if r.Range != 0 {
				t.Fatalf("range %d", r.Range)
			}
			k := fmt.Sprint(r.Keys)
			if _, dup := out[k]; dup {
				t.Fatalf("key %s twice", k)
			}
			out[k] = r.VisitTotals
		}
		return out
	}
	same := func(t *testing.T, name string, got map[string]store.VisitTotals, want map[string][2]int64) {
		t.Helper()
		if len(got) != len(want) {
			t.Errorf("%s: %d groups %v, want %d", name, len(got), got, len(want))
		}
		for k, w := range want {
			if g, ok := got[k]; !ok || g.Visits != w[0] || g.VisitLength != w[1] {
				t.Errorf("%s %s: %+v, want %d visits of mask %04b", name, k, g, w[0], w[1])
			}
		}
	}
	// check runs q as a subtest of its own and compares the groups with want.
	check := func(name string, q store.GroupQuery, want map[string][2]int64) {
		t.Helper()
		t.Run(name, func(t *testing.T) { same(t, name, groups(t, q), want) })
	}
	check("country", store.GroupQuery{By: []store.Field{store.FieldCountry}},
		map[string][2]int64{"[de]": {2, 1 | 4}, "[fr]": {1, 2}, "[]": {1, 8}})
	t.Run("country, uniques spared", func(t *testing.T) {
		spared := groups(t, store.GroupQuery{ReportQuery: store.ReportQuery{NoRowUniques: true}, By: []store.Field{store.FieldCountry}})
		same(t, "country, uniques spared", spared, map[string][2]int64{"[de]": {2, 1 | 4}, "[fr]": {1, 2}, "[]": {1, 8}})
		for k, g := range spared {
			if g.UniqueVisitors != -1 || g.Users != -1 {
				t.Errorf("uniques spared, %s: %+v, want -1 unique visitors and users", k, g)
			}
		}
	})
	t.Run("country, unique visitors", func(t *testing.T) {
		for k, g := range groups(t, store.GroupQuery{By: []store.Field{store.FieldCountry}}) {
			if g.UniqueVisitors < 1 {
				t.Errorf("%s: %d unique visitors", k, g.UniqueVisitors)
			}
		}
	})
	check("device type and browser", store.GroupQuery{By: []store.Field{store.FieldDeviceType, store.FieldBrowser}},
		map[string][2]int64{"[desktop]": {2, 1 | 8}, "[desktop Firefox]": {1, 1}, "[desktop Chrome]": {1, 8},
			"[smartphone]": {1, 2}, "[smartphone Safari]": {1, 2}, "[tablet]": {1, 4}, "[tablet Chrome]": {1, 4}})
	check("device type and browser, uniques spared", store.GroupQuery{ReportQuery: store.ReportQuery{NoRowUniques: true}, By: []store.Field{store.FieldDeviceType, store.FieldBrowser}},
		map[string][2]int64{"[desktop]": {2, 1 | 8}, "[desktop Firefox]": {1, 1}, "[desktop Chrome]": {1, 8},
			"[smartphone]": {1, 2}, "[smartphone Safari]": {1, 2}, "[tablet]": {1, 4}, "[tablet Chrome]": {1, 4}})
	seg := store.Filter{And: [][]store.Cond{{c(store.FieldCountry, store.OpEq, "de")}}}
	check("browser of German visits", store.GroupQuery{ReportQuery: store.ReportQuery{Segment: seg}, By: []store.Field{store.FieldBrowser}},
		map[string][2]int64{"[Firefox]": {1, 1}, "[Chrome]": {1, 4}})
	// The visits end at 10:00:01, :02, :04 and :08 UTC on Friday 2026-03-06; the offset moves
	// from +1 h to +2 h at 10:00:05.
	zone := []store.ZoneSpan{{From: day.From.AddDate(0, -2, 0), Offset: 3600}, {From: day.From.Add(10*time.Hour + 5*time.Second), Offset: 7200}}
	check("site hour", store.GroupQuery{ReportQuery: store.ReportQuery{Zone: zone}, By: []store.Field{store.FieldSiteHour}},
		map[string][2]int64{"[11]": {3, 1 | 2 | 4}, "[12]": {1, 8}})
	check("site hour, one offset", store.GroupQuery{ReportQuery: store.ReportQuery{Zone: zone[:1]}, By: []store.Field{store.FieldSiteHour}},
		map[string][2]int64{"[11]": {4, 15}})
	check("site weekday", store.GroupQuery{ReportQuery: store.ReportQuery{Zone: zone}, By: []store.Field{store.FieldSiteDay}},
		map[string][2]int64{"[5]": {4, 15}})
	check("continent by remapped country", store.GroupQuery{By: []store.Field{store.FieldCountry}, Remap: map[string]string{"de": "eur", "fr": "eur"}},
		map[string][2]int64{"[eur]": {3, 1 | 2 | 4}, "[]": {1, 8}})
	check("returning", store.GroupQuery{By: []store.Field{store.FieldReturning}},
		map[string][2]int64{"[0]": {2, 1 | 4}, "[1]": {2, 2 | 8}})
}
