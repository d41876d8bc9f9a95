package storetest

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"hearth/internal/event"
	"hearth/internal/store"
)

// runActions checks ActionGroups: hits, visits, unique visitors, time spent (until the next
// pageview, or the visit's last heartbeat for its exit page) and exits.
func runActions(t *testing.T, open func(t *testing.T, dir string) store.Events) {
	ctx := context.Background()
	s := open(t, t.TempDir())
	defer s.Close()
	t0 := time.Date(2026, 3, 6, 10, 0, 0, 0, time.UTC)
	at := func(secs int) time.Time { return t0.Add(time.Duration(secs) * time.Second) }
	const home, blog, pdf = "https://ex.org/home", "https://ex.org/blog", "https://ex.org/f.pdf"
	act := func(visit byte, idx int32, secs int, typ event.ActionType, url, title, ref, refTitle string, spent int32) event.Action {
		a := action(visit, idx, at(secs), typ)
		a.URL, a.Title, a.RefURL, a.RefTitle, a.RefTimeSpent = url, title, ref, refTitle, spent
		return a
	}
	// Visit A: home, then blog 30 s later, a download 10 s after that, heartbeats until 100 s.
	// Visit B: home, reloaded 10 s later, nothing after. Visit C: two site searches.
	visits := []event.Visit{
		{SiteID: 1, ID: 10, VisitorID: event.VisitorID{10}, First: t0, Last: at(100), VisitCount: 1, LocalTime: -1,
			EntryURL: home, EntryTitle: "Home", ExitURL: blog, ExitTitle: "Blog", ExitTime: at(30), Actions: 3},
		{SiteID: 1, ID: 20, VisitorID: event.VisitorID{20}, First: t0, Last: at(10), VisitCount: 1, LocalTime: -1,
			EntryURL: home, EntryTitle: "Home", ExitURL: home, ExitTitle: "Home", ExitTime: at(10), Actions: 2},
		{SiteID: 1, ID: 30, VisitorID: event.VisitorID{30}, First: t0, Last: at(5), VisitCount: 1, LocalTime: -1, Actions: 2},
	}
	search := func(idx int32, secs int, kw, cat string, count int32) event.Action {
		a := act(30, idx, secs, event.ActionSearch, "https://ex.org/search", "", "", "", 0)
		a.SearchKeyword, a.SearchCategory, a.SearchCount = kw, cat, count
		return a
	}
	// Ingest marks the first view of a URL (and of a title) in each visit.
	firstView := func(a event.Action) event.Action {
		a.FirstURLInVisit, a.FirstTitleInVisit = true, true
		return a
	}
	visits[0].Dimensions, visits[1].Dimensions = map[int]string{1: "gold"}, map[int]string{1: "silver"}
	red := func(a event.Action) event.Action {
		a.Dimensions = map[int]string{2: "red"}
		return a
	}
	actions := []event.Action{
		red(firstView(act(10, 1, 0, event.ActionPageview, home, "Home", "", "", 0))),
		red(firstView(act(10, 2, 30, event.ActionPageview, blog, "Blog", home, "Home", 30))),
		act(10, 3, 40, event.ActionDownload, pdf, "", blog, "Blog", 10),
		firstView(act(20, 1, 0, event.ActionPageview, home, "Home", "", "", 0)),
		act(20, 2, 10, event.ActionPageview, home, "Home", home, "Home", 10),
		search(1, 0, "flu", "Care", 0),
		search(2, 5, "care", "", 5),
	}
	// Visit D: events and content impressions and interactions.
	visits = append(visits, event.Visit{SiteID: 1, ID: 40, VisitorID: event.VisitorID{40}, First: t0, Last: at(9), VisitCount: 1, LocalTime: -1, Actions: 5})
	ev := func(idx int32, cat, action, name string, value float64, has bool) event.Action {
		a := act(40, idx, int(idx), event.ActionEvent, "https://ex.org/video", "", "", "", 0)
		a.EventCategory, a.EventAction, a.EventName, a.EventValue, a.HasEventValue = cat, action, name, value, has
		return a
	}
	content := func(idx int32, name, piece, interaction string) event.Action {
		a := act(40, idx, int(idx), event.ActionContent, "https://ex.org/", "", "", "", 0)
		a.ContentName, a.ContentPiece, a.ContentInteraction = name, piece, interaction
		return a
	}
	actions = append(actions, ev(1, "Video", "Play", "Intro", 5, true), ev(2, "Video", "Play", "Outro", 3, true),
		ev(3, "Video", "Pause", "Intro", 0, false), ev(4, "Form", "Submit", "", 0, false),
		content(5, "Banner", "img1", ""), content(6, "Banner", "img1", "click"), content(7, "Banner", "img2", ""))
	if err := s.Apply(ctx, store.Batch{Seq: 1, Visits: visits, Actions: actions}); err != nil {
		t.Fatal(err)
	}
	day := []store.TimeRange{{From: t0.Truncate(24 * time.Hour), To: t0.Truncate(24 * time.Hour).Add(24 * time.Hour)}}
	get := func(t *testing.T, q store.ActionQuery) map[string]store.ActionRow {
		t.Helper()
		q.Site, q.Ranges = 1, day
		rows, err := s.ActionGroups(ctx, q)
		if err != nil {
			t.Fatalf("%v: %v", q.By, err)
		}
		out := map[string]store.ActionRow{}
		for _, r := range rows {
			r.Range = 0
			out[r.Key] = r
		}
		return out
	}
	// check runs q as a subtest of its own and compares the groups with want.
	check := func(name string, q store.ActionQuery, want map[string]store.ActionRow) {
		t.Helper()
		t.Run(name, func(t *testing.T) {
			got := get(t, q)
			if len(got) != len(want) {
				t.Errorf("%s: %v, want %v", name, got, want)
			}
			for k, w := range want {
				w.Key = k
				if got[k] != w {
					t.Errorf("%s %q: %+v, want %+v", name, k, got[k], w)
				}
			}
		})
	}
	pv := []event.ActionType{event.ActionPageview}
	// home: 3 hits in 2 visits; 30 s before blog in A, 10 s before the reload in B, 0 s
	// after the reload (B ends there); B exits on it. blog: A's exit page, 70 s until A's
	// last heartbeat (the download in between does not end the page view).
	check("page URLs", store.ActionQuery{Types: pv, By: store.FieldActionURL}, map[string]store.ActionRow{
		home: {Hits: 3, Visits: 2, UniqueVisitors: 2, TimeSpent: 40, ExitVisits: 1},
		blog: {Hits: 1, Visits: 1, UniqueVisitors: 1, TimeSpent: 70, ExitVisits: 1},
	})
	// With entries: A and B began on home (3 + 2 actions, 100 s + 10 s, neither bounced);
	// C began on no page at all and makes no row.
	check("page URLs with entries", store.ActionQuery{Types: pv, By: store.FieldActionURL, Entries: true}, map[string]store.ActionRow{
		home: {Hits: 3, Visits: 2, UniqueVisitors: 2, TimeSpent: 40, ExitVisits: 1, EntryVisits: 2, EntryActions: 5, EntryLength: 110},
		blog: {Hits: 1, Visits: 1, UniqueVisitors: 1, TimeSpent: 70, ExitVisits: 1},
	})
	check("page titles with entries, uniques spared", store.ActionQuery{ReportQuery: store.ReportQuery{NoRowUniques: true}, Types: pv, By: store.FieldActionTitle, Entries: true}, map[string]store.ActionRow{
		"Home": {Hits: 3, Visits: 2, UniqueVisitors: -1, TimeSpent: 40, ExitVisits: 1, EntryVisits: 2, EntryActions: 5, EntryLength: 110},
		"Blog": {Hits: 1, Visits: 1, UniqueVisitors: -1, TimeSpent: 70, ExitVisits: 1},
	})
	check("page titles", store.ActionQuery{Types: pv, By: store.FieldActionTitle}, map[string]store.ActionRow{
		"Home": {Hits: 3, Visits: 2, UniqueVisitors: 2, TimeSpent: 40, ExitVisits: 1},
		"Blog": {Hits: 1, Visits: 1, UniqueVisitors: 1, TimeSpent: 70, ExitVisits: 1},
	})
	check("downloads", store.ActionQuery{Types: []event.ActionType{event.ActionDownload}, By: store.FieldActionURL}, map[string]store.ActionRow{
		pdf: {Hits: 1, Visits: 1, UniqueVisitors: 1},
	})
	searches := []event.ActionType{event.ActionSearch}
	check("search keywords", store.ActionQuery{Types: searches, By: store.FieldSearchKeyword}, map[string]store.ActionRow{
		"flu": {Hits: 1, Visits: 1, UniqueVisitors: 1}, "care": {Hits: 1, Visits: 1, UniqueVisitors: 1},
	})
	check("searches without results", store.ActionQuery{Types: searches, By: store.FieldSearchKeyword, NoResults: true}, map[string]store.ActionRow{
		"flu": {Hits: 1, Visits: 1, UniqueVisitors: 1},
	})
	check("search categories", store.ActionQuery{Types: searches, By: store.FieldSearchCategory}, map[string]store.ActionRow{
		"Care": {Hits: 1, Visits: 1, UniqueVisitors: 1}, "": {Hits: 1, Visits: 1, UniqueVisitors: 1},
	})
	events := func(t *testing.T, typ event.ActionType, by [2]store.Field) map[string]store.EventRow {
		t.Helper()
		rows, err := s.EventGroups(ctx, store.EventQuery{ReportQuery: store.ReportQuery{Site: 1, Ranges: day}, Type: typ, By: by})
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]store.EventRow{}
		for _, r := range rows {
			k := fmt.Sprint(r.Keys)
			r.Keys, r.Range = nil, 0
			out[k] = r
		}
		return out
	}
	t.Run("events", func(t *testing.T) {
		gotEvents := events(t, event.ActionEvent, [2]store.Field{store.FieldEventCategory, store.FieldEventAction})
		wantEvents := map[string]store.EventRow{
			"[Video]":       {Hits: 3, Visits: 1, UniqueVisitors: 1, WithValue: 2, Sum: 8, Min: 3, Max: 5},
			"[Video Play]":  {Hits: 2, Visits: 1, UniqueVisitors: 1, WithValue: 2, Sum: 8, Min: 3, Max: 5},
			"[Video Pause]": {Hits: 1, Visits: 1, UniqueVisitors: 1},
			"[Form]":        {Hits: 1, Visits: 1, UniqueVisitors: 1},
			"[Form Submit]": {Hits: 1, Visits: 1, UniqueVisitors: 1},
		}
		sameGroups(t, "events", gotEvents, wantEvents)
	})
	t.Run("contents", func(t *testing.T) {
		gotContents := events(t, event.ActionContent, [2]store.Field{store.FieldContentName, store.FieldContentPiece})
		wantContents := map[string]store.EventRow{
			"[Banner]":      {Hits: 3, Visits: 1, UniqueVisitors: 1, Interactions: 1},
			"[Banner img1]": {Hits: 2, Visits: 1, UniqueVisitors: 1, Interactions: 1},
			"[Banner img2]": {Hits: 1, Visits: 1, UniqueVisitors: 1},
		}
		sameGroups(t, "contents", gotContents, wantContents)
	})

	// Custom dimensions: a visit-scope one on the visits, an action-scope one on A's pageviews.
	t.Run("visits by visit dimension", func(t *testing.T) {
		byDim, err := s.VisitGroups(ctx, store.GroupQuery{ReportQuery: store.ReportQuery{Site: 1, Ranges: day}, By: []store.Field{store.DimensionField("visit", 1)}})
		if err != nil {
			t.Fatal(err)
		}
		dims := map[string]int64{}
		for _, g := range byDim {
			dims[g.Keys[0]] = g.Visits
		}
		if len(dims) != 3 || dims["gold"] != 1 || dims["silver"] != 1 || dims[""] != 2 {
			t.Errorf("visits by visit dimension 1: %v", dims)
		}
	})
	check("pageviews by action dimension 2", store.ActionQuery{Types: pv, By: store.DimensionField("action", 2)}, map[string]store.ActionRow{
		"red": {Hits: 2, Visits: 1, UniqueVisitors: 1},
		"":    {Hits: 2, Visits: 1, UniqueVisitors: 1},
	})

	// Segments on custom dimensions look at the visit's value and its actions'.
	for _, tc := range []struct {
		name string
		cond store.Cond
		want int64
	}{
		{"visit dimension", store.Cond{Field: store.DimensionField("any", 1), Op: store.OpEq, Str: "GOLD"}, 1},
		{"visit dimension contains", store.Cond{Field: store.DimensionField("any", 1), Op: store.OpContains, Str: "ol"}, 1},
		{"action dimension", store.Cond{Field: store.DimensionField("any", 2), Op: store.OpEq, Str: "red"}, 1},
		{"no action with it", store.Cond{Field: store.DimensionField("any", 2), Op: store.OpNe, Str: "red"}, 3},
		{"no value anywhere", store.Cond{Field: store.DimensionField("any", 1), Op: store.OpEq}, 2},
		{"some value", store.Cond{Field: store.DimensionField("any", 1), Op: store.OpNe}, 2},
	} {
		t.Run("segment "+tc.name, func(t *testing.T) {
			got, err := s.VisitTotals(ctx, store.ReportQuery{Site: 1, Ranges: day, Segment: store.Filter{And: [][]store.Cond{{tc.cond}}}})
			if err != nil || got[0].Visits != tc.want {
				t.Errorf("segment %s: %+v %v, want %d visits", tc.name, got, err, tc.want)
			}
		})
	}

	t.Run("visits by entry URL", func(t *testing.T) {
		entries, err := s.VisitGroups(ctx, store.GroupQuery{ReportQuery: store.ReportQuery{Site: 1, Ranges: day}, By: []store.Field{store.FieldEntryURL}})
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]int64{}
		for _, g := range entries {
			got[g.Keys[0]] = g.Visits
		}
		if len(got) != 2 || got[home] != 2 || got[""] != 2 {
			t.Errorf("visits by entry URL: %v, want home 2 and none 2", got)
		}
	})
	// Under a segment only the kept visits' actions count.
	seg := store.Filter{And: [][]store.Cond{{c(store.FieldExitURL, store.OpEq, blog)}}}
	check("page URLs of visits leaving on the blog", store.ActionQuery{ReportQuery: store.ReportQuery{Segment: seg}, Types: pv, By: store.FieldActionURL}, map[string]store.ActionRow{
		home: {Hits: 1, Visits: 1, UniqueVisitors: 1, TimeSpent: 30},
		blog: {Hits: 1, Visits: 1, UniqueVisitors: 1, TimeSpent: 70, ExitVisits: 1},
	})
	check("the same with entries, uniques spared", store.ActionQuery{ReportQuery: store.ReportQuery{Segment: seg, NoRowUniques: true}, Types: pv, By: store.FieldActionURL, Entries: true}, map[string]store.ActionRow{
		home: {Hits: 1, Visits: 1, UniqueVisitors: -1, TimeSpent: 30, EntryVisits: 1, EntryActions: 3, EntryLength: 100},
		blog: {Hits: 1, Visits: 1, UniqueVisitors: -1, TimeSpent: 70, ExitVisits: 1},
	})
}

// sameGroups compares groups by key.
func sameGroups[T any](t *testing.T, name string, got, want map[string]T) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: %v, want %v", name, got, want)
	}
	for k, w := range want {
		if !reflect.DeepEqual(got[k], w) {
			t.Errorf("%s %s: %+v, want %+v", name, k, got[k], w)
		}
	}
}
