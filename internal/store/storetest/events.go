// Package storetest holds the conformance suites every store engine must pass: RunEvents for
// the event store, RunMeta for the metadata store.
package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"hearth/internal/event"
	"hearth/internal/store"
)

// action is an action of visit id (visitor {id}) on site 1 with nothing measured: no search
// count and no performance timings, as ingest stores them.
func action(id byte, idx int32, at time.Time, typ event.ActionType) event.Action {
	return event.Action{SiteID: 1, VisitID: event.VisitID(id), VisitorID: event.VisitorID{id}, Time: at, Index: idx, Type: typ, SearchCount: -1,
		PerfNetwork: -1, PerfServer: -1, PerfTransfer: -1, PerfDOMProc: -1, PerfDOMDone: -1, PerfOnLoad: -1}
}

// RunEvents runs the event-store conformance suite. open returns a fresh, empty store
// rooted in dir; reopen tests call it again with the same dir.
func RunEvents(t *testing.T, open func(t *testing.T, dir string) store.Events) {
	ctx := context.Background()
	t0 := time.Date(2026, 3, 6, 10, 0, 0, 0, time.UTC)
	vid := event.VisitorID{0xf1, 2, 3, 4, 5, 6, 7, 8} // high bit set: must round-trip
	visit := event.Visit{
		SiteID: 1, ID: 42, VisitorID: vid, UserID: "pseudo", First: t0, Last: t0, VisitCount: 1,
		IP: "192.168.0.0", Referrer: event.Referrer{Type: event.ReferrerSearch, Name: "Google", Keyword: "clinic"},
		Device:   event.Device{Type: "desktop", OS: "Windows", Browser: "Chrome", BrowserVersion: "120.0"},
		Location: event.Location{Country: "de", City: "Berlin", Lat: 52.5, Lon: 13.4}, LocalTime: 36000,
		EntryURL: "https://ex.org/", EntryTitle: "Home", ExitURL: "https://ex.org/", ExitTitle: "Home", ExitTime: t0,
		Actions: 1, Pageviews: 1, Dimensions: map[int]string{1: "gold"},
	}
	pv := event.Action{SiteID: 1, VisitID: 42, VisitorID: vid, Time: t0, Index: 1, Type: event.ActionPageview,
		URL: "https://ex.org/", Title: "Home", PageViewID: "abc123", FirstURLInVisit: true, FirstTitleInVisit: true,
		SearchCount: -1, PerfNetwork: 12, PerfServer: -1, PerfTransfer: -1, PerfDOMProc: -1, PerfDOMDone: -1, PerfOnLoad: -1}

	t.Run("apply and read back", func(t *testing.T) {
		dir := t.TempDir()
		s := open(t, dir)
		defer s.Close()
		if err := s.Apply(ctx, store.Batch{Seq: 1, Visits: []event.Visit{visit}, Actions: []event.Action{pv}}); err != nil {
			t.Fatal(err)
		}
		// The visit grows: a second batch carries the new snapshot and an order.
		v2 := visit
		v2.Last = t0.Add(90 * time.Second)
		v2.Actions, v2.Conversions, v2.Revenue, v2.Ecommerce = 2, 1, 99.5, event.EcommerceOrdered
		order := event.Action{SiteID: 1, VisitID: 42, VisitorID: vid, Time: v2.Last, Index: 2, Type: event.ActionOrder,
			URL: "https://ex.org/cart", OrderID: "A-1", Revenue: 99.5, RefURL: "https://ex.org/", RefTitle: "Home", RefTimeSpent: 90,
			SearchCount: -1, Items: []event.Item{{SKU: "SKU1", Name: "Gloves", Categories: []string{"Care"}, Price: 49.75, Quantity: 2}}}
		if err := s.Apply(ctx, store.Batch{Seq: 2, Visits: []event.Visit{v2}, Actions: []event.Action{order},
			Bots: []event.BotHit{{SiteID: 1, Time: t0, Name: "Googlebot"}, {SiteID: 1, Time: t0, Name: "Googlebot"}}}); err != nil {
			t.Fatal(err)
		}
		t.Run("applied seq", func(t *testing.T) {
			seq, err := s.AppliedSeq(ctx)
			if err != nil || seq != 2 {
				t.Fatalf("applied seq = %d, %v", seq, err)
			}
		})
		t.Run("visit and actions", func(t *testing.T) {
			got, err := s.Visits(ctx, store.VisitQuery{Sites: []event.SiteID{1}, WithActions: true})
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 1 {
				t.Fatalf("visits = %d, want 1 (snapshot must replace, not add)", len(got))
			}
			g := got[0]
			if g.Visit.Actions != 2 || g.Visit.Revenue != 99.5 || g.Visit.Ecommerce != event.EcommerceOrdered ||
				g.Visit.EntryURL != "https://ex.org/" || g.Visit.Dimensions[1] != "gold" || g.Visit.Location.City != "Berlin" ||
				g.Visit.VisitorID != vid || !g.Visit.Last.Equal(v2.Last) || g.Visit.Referrer.Keyword != "clinic" {
				t.Fatalf("visit read back wrong: %+v", g.Visit)
			}
			if len(g.Actions) != 2 || g.Actions[0].URL != "https://ex.org/" || g.Actions[0].PerfNetwork != 12 ||
				g.Actions[1].OrderID != "A-1" || len(g.Actions[1].Items) != 1 || g.Actions[1].Items[0].Quantity != 2 ||
				g.Actions[1].RefTimeSpent != 90 || g.Actions[1].RefTitle != "Home" {
				t.Fatalf("actions read back wrong: %+v", g.Actions)
			}
		})
		t.Run("visitor history", func(t *testing.T) {
			h, ok, err := s.VisitorHistory(ctx, 1, vid)
			if err != nil || !ok || h.VisitCount != 1 || !h.LastOrder.Equal(v2.Last) {
				t.Fatalf("history = %+v %v %v", h, ok, err)
			}
			if _, ok, _ := s.VisitorHistory(ctx, 2, vid); ok {
				t.Fatal("history leaked across sites")
			}
		})
		t.Run("each visitor", func(t *testing.T) {
			var each []event.VisitorID
			if err := s.EachVisitor(ctx, func(site event.SiteID, v event.VisitorID) {
				if site == 1 {
					each = append(each, v)
				}
			}); err != nil || len(each) != 1 || each[0] != vid {
				t.Fatalf("each visitor = %v, %v", each, err)
			}
		})
		chrome := store.Filter{And: [][]store.Cond{{{Field: store.FieldBrowser, Op: store.OpEq, Str: "chrome"}}}}
		firefox := store.Filter{And: [][]store.Cond{{{Field: store.FieldBrowser, Op: store.OpEq, Str: "firefox"}}}}
		t.Run("counters", func(t *testing.T) {
			c, err := s.Counters(ctx, []event.SiteID{1}, t0.Add(-time.Minute), store.Filter{})
			if err != nil || c.Visits != 1 || c.Actions != 2 || c.Visitors != 1 || c.VisitsConverted != 1 {
				t.Fatalf("counters = %+v %v", c, err)
			}
			if c, _ := s.Counters(ctx, []event.SiteID{2}, t0.Add(-time.Minute), store.Filter{}); c.Visits != 0 {
				t.Fatalf("counters leaked across sites: %+v", c)
			}
			if c, _ := s.Counters(ctx, []event.SiteID{1}, t0.Add(-time.Minute), chrome); c.Visits != 1 {
				t.Fatalf("counters of Chrome visits: %+v", c)
			}
			if c, _ := s.Counters(ctx, []event.SiteID{1}, t0.Add(-time.Minute), firefox); c.Visits != 0 {
				t.Fatalf("counters of Firefox visits: %+v", c)
			}
		})
		t.Run("visits of a segment", func(t *testing.T) {
			if got, err := s.Visits(ctx, store.VisitQuery{Sites: []event.SiteID{1}, Segment: firefox}); err != nil || len(got) != 0 {
				t.Fatalf("visits of Firefox: %d, %v", len(got), err)
			}
			if got, err := s.Visits(ctx, store.VisitQuery{Sites: []event.SiteID{1}, Segment: chrome}); err != nil || len(got) != 1 {
				t.Fatalf("visits of Chrome: %d, %v", len(got), err)
			}
		})
		t.Run("bot count", func(t *testing.T) {
			n, err := s.BotCount(ctx, 1, t0.Truncate(24*time.Hour), t0.Add(24*time.Hour))
			if err != nil || n != 2 {
				t.Fatalf("bot count = %d, %v", n, err)
			}
		})
		t.Run("open visits", func(t *testing.T) {
			open, err := s.OpenVisits(ctx, t0)
			if err != nil || len(open) != 1 || open[0].ID != 42 {
				t.Fatalf("open visits = %+v, %v", open, err)
			}
		})
	})

	t.Run("long visits cut in the visitor log", func(t *testing.T) {
		s := open(t, t.TempDir())
		defer s.Close()
		// Visit 7 has 1,200 actions (an order among them, past the cut), visit 8 has 3.
		long := visit
		long.ID, long.VisitorID, long.Last, long.Actions, long.Pageviews = 7, event.VisitorID{7}, t0.Add(1200*time.Second), 1200, 1199
		short := visit
		short.ID, short.VisitorID, short.First, short.Last, short.Actions, short.Pageviews = 8, event.VisitorID{8}, t0.Add(-time.Hour), t0.Add(-time.Hour), 3, 3
		var acts []event.Action
		for i := range 1200 {
			a := action(7, int32(i+1), t0.Add(time.Duration(i)*time.Second), event.ActionPageview)
			a.URL = fmt.Sprintf("https://ex.org/p%d", i+1)
			if i == 900 {
				a.Type, a.OrderID, a.Revenue = event.ActionOrder, "LATE", 5
				a.Items = []event.Item{{SKU: "S", Price: 5, Quantity: 1}}
			}
			acts = append(acts, a)
		}
		for i := range 3 {
			acts = append(acts, action(8, int32(i+1), short.First, event.ActionPageview))
		}
		if err := s.Apply(ctx, store.Batch{Seq: 1, Visits: []event.Visit{long, short}, Actions: acts}); err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct{ max, wantLong, wantShort int }{{500, 500, 3}, {2, 2, 2}, {0, 1200, 3}} {
			t.Run(fmt.Sprintf("max %d", tc.max), func(t *testing.T) {
				got, err := s.Visits(ctx, store.VisitQuery{Sites: []event.SiteID{1}, WithActions: true, MaxActions: tc.max, CountActions: true})
				if err != nil || len(got) != 2 || got[0].Visit.ID != 7 {
					t.Fatalf("max %d: %d visits, %v", tc.max, len(got), err)
				}
				l, sh := got[0], got[1]
				if len(l.Actions) != tc.wantLong || len(sh.Actions) != tc.wantShort {
					t.Fatalf("max %d: %d and %d actions, want %d and %d", tc.max, len(l.Actions), len(sh.Actions), tc.wantLong, tc.wantShort)
				}
				for i, a := range l.Actions {
					if a.Index != int32(i+1) {
						t.Fatalf("max %d: action %d has index %d: the cut must keep the first actions in order", tc.max, i, a.Index)
					}
				}
				// The visit's own figures stay what they are.
				if l.StoredActions != 1200 || sh.StoredActions != 3 || l.Visit.Actions != 1200 {
					t.Fatalf("max %d: stored %d and %d, visit actions %d", tc.max, l.StoredActions, sh.StoredActions, l.Visit.Actions)
				}
			})
		}
		t.Run("actions read separately", func(t *testing.T) {
			// Without actions first, then the actions of each visit read separately.
			got, err := s.Visits(ctx, store.VisitQuery{Sites: []event.SiteID{1}, CountActions: true})
			if err != nil || len(got) != 2 || got[0].Actions != nil || got[0].StoredActions != 1200 {
				t.Fatalf("visits without actions: %+v %v", got, err)
			}
			if err := s.VisitActions(ctx, got[:1], 7); err != nil || len(got[0].Actions) != 7 || got[1].Actions != nil {
				t.Fatalf("actions of the first visit: %d, %d, %v", len(got[0].Actions), len(got[1].Actions), err)
			}
			if err := s.VisitActions(ctx, got, 1000); err != nil || len(got[0].Actions) != 1000 || len(got[1].Actions) != 3 {
				t.Fatalf("actions of both: %d, %d, %v", len(got[0].Actions), len(got[1].Actions), err)
			}
			if a := got[0].Actions[900]; a.OrderID != "LATE" || len(a.Items) != 1 {
				t.Fatalf("order within the cut: %+v", a)
			}
		})
	})

	t.Run("segments", func(t *testing.T) { runSegments(t, open) })
	t.Run("actions", func(t *testing.T) { runActions(t, open) })
	t.Run("items", func(t *testing.T) { runItems(t, open) })
	t.Run("conversions", func(t *testing.T) { runConversions(t, open) })
	t.Run("funnels", func(t *testing.T) { runFunnels(t, open) })

	t.Run("visit totals", func(t *testing.T) {
		s := open(t, t.TempDir())
		defer s.Close()
		day := time.Date(2026, 3, 6, 0, 0, 0, 0, time.UTC)
		mk := func(id event.VisitID, visitor byte, user string, first time.Time, secs int, actions, conversions int32, site event.SiteID) event.Visit {
			v := visit
			v.SiteID, v.ID, v.VisitorID, v.UserID = site, id, event.VisitorID{visitor}, user
			v.First, v.Last, v.Actions, v.Conversions = first, first.Add(time.Duration(secs)*time.Second), actions, conversions
			return v
		}
		// Day 1: four visits of site 1 by three visitors (two signed in as the same user);
		// one visit of site 2 that must not count. Day 2: one visit that began on day 1 at
		// 23:59 and ended after midnight: it belongs to day 2, the day of its last action.
		visits := []event.Visit{
			mk(1, 1, "u1", day.Add(1*time.Hour), 0, 1, 0, 1),                   // bounce
			mk(2, 1, "u1", day.Add(5*time.Hour), 120, 3, 1, 1),                 // converted
			mk(3, 2, "", day.Add(9*time.Hour), 30, 2, 0, 1),                    //
			mk(4, 3, "", day.Add(23*time.Hour), 0, 1, 0, 1),                    // bounce
			mk(5, 4, "", day.Add(10*time.Hour), 500, 9, 2, 2),                  // other site
			mk(6, 5, "u2", day.Add(24*time.Hour-60*time.Second), 600, 4, 0, 1), // ends on day 2
		}
		if err := s.Apply(ctx, store.Batch{Seq: 1, Visits: visits}); err != nil {
			t.Fatal(err)
		}
		got, err := s.VisitTotals(ctx, store.ReportQuery{Site: 1, Ranges: []store.TimeRange{
			{From: day, To: day.Add(24 * time.Hour)},
			{From: day.Add(24 * time.Hour), To: day.Add(48 * time.Hour)},
			{From: day.Add(48 * time.Hour), To: day.Add(72 * time.Hour)},
		}})
		if err != nil {
			t.Fatal(err)
		}
		all, err := s.VisitTotals(ctx, store.ReportQuery{Site: 1, Ranges: []store.TimeRange{{From: day, To: day.Add(72 * time.Hour)}}})
		if err != nil {
			t.Fatal(err)
		}
		gaps, err := s.VisitTotals(ctx, store.ReportQuery{Site: 1, Ranges: []store.TimeRange{
			{From: day.Add(4 * time.Hour), To: day.Add(6 * time.Hour)}, {From: day.Add(20 * time.Hour), To: day.Add(30 * time.Hour)}}})
		if err != nil {
			t.Fatal(err)
		}
		got = append(append(got, all...), gaps...)
		want := []store.VisitTotals{
			{Visits: 4, UniqueVisitors: 3, Users: 1, Actions: 7, MaxActions: 3, VisitLength: 150, Bounces: 2, Converted: 1},
			{Visits: 1, UniqueVisitors: 1, Users: 1, Actions: 4, MaxActions: 4, VisitLength: 600, Bounces: 0, Converted: 0},
			{},
			{Visits: 5, UniqueVisitors: 4, Users: 2, Actions: 11, MaxActions: 4, VisitLength: 750, Bounces: 2, Converted: 1},
			// ranges with gaps: 04:00–06:00 holds visit 2 (ends 05:02), 20:00–06:00 visits 4 and 6
			{Visits: 1, UniqueVisitors: 1, Users: 1, Actions: 3, MaxActions: 3, VisitLength: 120, Bounces: 0, Converted: 1},
			{Visits: 2, UniqueVisitors: 2, Users: 1, Actions: 5, MaxActions: 4, VisitLength: 600, Bounces: 1, Converted: 0},
		}
		if len(got) != len(want) {
			t.Fatalf("%d results, want %d", len(got), len(want))
		}
		for i := range want {
			if got[i] != want[i] {
				t.Errorf("range %d: %+v, want %+v", i, got[i], want[i])
			}
		}
	})

	t.Run("survives reopen", func(t *testing.T) {
		dir := t.TempDir()
		s := open(t, dir)
		if err := s.Apply(ctx, store.Batch{Seq: 7, Visits: []event.Visit{visit}, Actions: []event.Action{pv}}); err != nil {
			t.Fatal(err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		s = open(t, dir)
		defer s.Close()
		if seq, _ := s.AppliedSeq(ctx); seq != 7 {
			t.Fatalf("seq after reopen = %d", seq)
		}
		got, err := s.Visits(ctx, store.VisitQuery{Sites: []event.SiteID{1}, WithActions: true})
		if err != nil || len(got) != 1 || len(got[0].Actions) != 1 {
			t.Fatalf("after reopen: %+v %v", got, err)
		}
	})
}
