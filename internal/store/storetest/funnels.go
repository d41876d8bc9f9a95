package storetest

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"hearth/internal/event"
	"hearth/internal/store"
)

// runFunnels checks funnels on visits built to take each step in or out of order: the counts
// below are worked out by hand from the visits' actions.
func runFunnels(t *testing.T, open func(t *testing.T, dir string) store.Events) {
	ctx := context.Background()
	s := open(t, t.TempDir())
	defer s.Close()
	day1 := time.Date(2026, 3, 6, 0, 0, 0, 0, time.UTC)
	day2, day3 := day1.AddDate(0, 0, 1), day1.AddDate(0, 0, 2)
	const shop = "https://shop.example"

	// step is one action of a visit: its type, its time as an offset, and what it carries.
	type step struct {
		typ                                event.ActionType
		at                                 time.Duration
		url, title, category, action, name string
	}
	pv := func(at time.Duration, url string) step {
		return step{typ: event.ActionPageview, at: at, url: shop + url}
	}
	ev := func(at time.Duration, category, action string) step {
		return step{typ: event.ActionEvent, at: at, category: category, action: action}
	}
	var visits []event.Visit
	var actions []event.Action
	// add records visit id of a visitor on a site, starting at start, with steps in index order.
	add := func(site event.SiteID, id byte, visitor byte, start time.Time, browser string, steps ...step) {
		v := event.Visit{SiteID: site, ID: event.VisitID(id), VisitorID: event.VisitorID{visitor}, First: start, Last: start,
			VisitCount: 1, LocalTime: -1, Device: event.Device{Browser: browser}}
		for _, st := range steps {
			v.Actions++
			a := action(id, v.Actions, start.Add(st.at), st.typ)
			a.SiteID, a.VisitorID = site, v.VisitorID
			a.URL, a.Title, a.EventCategory, a.EventAction, a.EventName = st.url, st.title, st.category, st.action, st.name
			actions = append(actions, a)
			if a.Time.Before(v.First) {
				v.First = a.Time
			}
			if a.Time.After(v.Last) {
				v.Last = a.Time
			}
		}
		visits = append(visits, v)
	}
	const ff, ch = "Firefox", "Chrome"
	// Day 1. Funnel: a product page, then exactly the cart, then a pay event action.
	add(1, 1, 1, day1.Add(10*time.Hour), ff, pv(0, "/product/1"), pv(time.Minute, "/cart"), ev(2*time.Minute, "checkout", "pay")) // 1, 2, 3
	add(1, 2, 2, day1.Add(11*time.Hour), ff, pv(0, "/cart"), pv(time.Minute, "/product/2"), ev(2*time.Minute, "", "Payment"))     // out of order: 1
	add(1, 3, 3, day1.Add(12*time.Hour), ch, pv(0, "/product/3"), ev(time.Minute, "", "pay"))                                     // skips the cart: 1
	add(1, 4, 4, day1.Add(13*time.Hour), ch, pv(0, "/product/1"), pv(time.Minute, "/product/2"), pv(2*time.Minute, "/cart"),
		pv(3*time.Minute, "/cart"), ev(4*time.Minute, "", "pay"), ev(5*time.Minute, "", "pay")) // repeats every step: 1, 2, 3 once
	add(1, 5, 5, day1.Add(14*time.Hour), ch, pv(0, "/product/5"), pv(0, "/cart"))                                         // the same second: by index, 1, 2
	add(1, 6, 6, day1.Add(15*time.Hour), ff, pv(time.Minute, "/cart"), pv(0, "/product/6"))                               // indexed against time: by time, 1, 2
	add(2, 7, 7, day1.Add(10*time.Hour), ff, pv(0, "/product/1"), pv(time.Minute, "/cart"), ev(2*time.Minute, "", "pay")) // another site
	// Day 2. Visitor 1's second visit began before midnight and belongs to day 2, the day of
	// its last action; the cart's URL differs in case only.
	add(1, 8, 1, day2.Add(-30*time.Second), ff, pv(0, "/product/9"), pv(time.Minute, "/CART")) // 1, 2
	add(1, 9, 9, day2.Add(10*time.Hour), ch, pv(0, "/"))                                       // none
	add(1, 10, 10, day2.Add(11*time.Hour), ch, pv(0, "/cart"), ev(time.Minute, "", "pay"))     // no first step: none
	add(1, 11, 11, day2.Add(12*time.Hour), ch, pv(0, "/product/1"), pv(time.Minute, "/cart"),
		ev(2*time.Minute, "pay", "click"), ev(3*time.Minute, "", "pay now")) // no event action matches: 1, 2
	add(1, 12, 12, day2.Add(13*time.Hour), ff, pv(0, "/product/2"), pv(time.Minute, "/cart/extra")) // not exactly the cart: 1
	// Day 1, for the other kinds: a title, a download, an outlink and an event name.
	add(1, 13, 13, day1.Add(16*time.Hour), ch,
		step{typ: event.ActionPageview, url: shop + "/", title: "Welcome home"},
		step{typ: event.ActionDownload, at: time.Minute, url: shop + "/Guide.PDF"},
		step{typ: event.ActionOutlink, at: 2 * time.Minute, url: "https://Partner.Example/deal"},
		step{typ: event.ActionEvent, at: 3 * time.Minute, category: "misc", action: "misc", name: "done"}) // 1, 2, 3, 4
	add(1, 14, 14, day1.Add(17*time.Hour), ch,
		step{typ: event.ActionPageview, url: shop + "/", title: "welcome back"},
		step{typ: event.ActionPageview, at: time.Minute, url: shop + "/guide.pdf", title: "Welcome again"},
		step{typ: event.ActionOutlink, at: 2 * time.Minute, url: "https://partner.example/deal"}) // a page, not a download: 1
	if err := s.Apply(ctx, store.Batch{Seq: 1, Visits: visits, Actions: actions}); err != nil {
		t.Fatal(err)
	}

	days := []store.TimeRange{{From: day1, To: day2}, {From: day2, To: day3}, {From: day3, To: day3.AddDate(0, 0, 1)}}
	both := []store.TimeRange{{From: day1, To: day3}}
	firefox := store.Filter{And: [][]store.Cond{{{Field: store.FieldBrowser, Op: store.OpEq, Str: "firefox"}}}}
	product := store.FunnelStep{Name: "Product", Kind: store.FunnelURL, Match: store.FunnelContains, Pattern: "/product"}
	checkout := []store.FunnelStep{
		product,
		{Name: "Cart", Kind: store.FunnelURL, Match: store.FunnelExact, Pattern: shop + "/cart"},
		{Name: "Pay", Kind: store.FunnelEventAction, Match: store.FunnelRegex, Pattern: "^pay(ment)?$"},
	}
	kinds := []store.FunnelStep{
		{Name: "Welcome", Kind: store.FunnelTitle, Match: store.FunnelStartsWith, Pattern: "Welcome", CaseSensitive: true},
		{Name: "Guide", Kind: store.FunnelDownload, Match: store.FunnelContains, Pattern: ".pdf"},
		{Name: "Partner", Kind: store.FunnelOutlink, Match: store.FunnelRegex, Pattern: `partner\.example/d`},
		{Name: "Done", Kind: store.FunnelEventName, Match: store.FunnelExact, Pattern: "Done"},
	}
	lower := store.FunnelStep{Name: "welcome", Kind: store.FunnelTitle, Match: store.FunnelRegex, Pattern: "^welcome", CaseSensitive: true}
	anyCase := lower
	anyCase.CaseSensitive = false
	for _, tc := range []struct {
		name    string
		ranges  []store.TimeRange
		segment store.Filter
		steps   []store.FunnelStep
		want    [][]int64
	}{
		// Day 1: visits 1–6 view a product; 1, 4, 5 and 6 then the cart; 1 and 4 then pay.
		// Day 2: visits 8, 11 and 12 view a product; 8 and 11 then the cart; none pays.
		{"checkout by day", days, store.Filter{}, checkout, [][]int64{{6, 4, 2}, {3, 2, 0}, {0, 0, 0}}},
		{"checkout over both days", both, store.Filter{}, checkout, [][]int64{{9, 6, 2}}},
		// Firefox: visits 1 (3 steps), 2 (1) and 6 (2) on day 1; 8 (2) and 12 (1) on day 2.
		{"checkout of a segment", days, firefox, checkout, [][]int64{{3, 2, 1}, {2, 1, 0}, {0, 0, 0}}},
		// A step repeated needs a second matching action after the first: only visit 4 has two.
		{"a step twice", days[:2], store.Filter{}, []store.FunnelStep{product, product}, [][]int64{{6, 1}, {3, 0}}},
		// Visit 13 does all four; visit 14's page titled "Welcome again" is a page, not a download.
		{"every other kind", days[:2], store.Filter{}, kinds, [][]int64{{2, 1, 1, 1}, {0, 0, 0, 0}}},
		// Case-sensitive, "^welcome" matches visit 14's "welcome back" only; otherwise 13's too.
		{"a case-sensitive regex", days[:1], store.Filter{}, []store.FunnelStep{lower}, [][]int64{{1}}},
		{"a regex in any case", days[:1], store.Filter{}, []store.FunnelStep{anyCase}, [][]int64{{2}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.Funnel(ctx, store.FunnelQuery{ReportQuery: store.ReportQuery{Site: 1, Ranges: tc.ranges, Segment: tc.segment}, Steps: tc.steps})
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("%d results, want %d", len(got), len(tc.want))
			}
			for i, w := range tc.want {
				if !slices.Equal(got[i].Reached, w) {
					t.Errorf("range %d: reached %v, want %v", i, got[i].Reached, w)
				}
			}
		})
	}
	t.Run("site 2 alone", func(t *testing.T) {
		got, err := s.Funnel(ctx, store.FunnelQuery{ReportQuery: store.ReportQuery{Site: 2, Ranges: days[:1]}, Steps: checkout})
		if err != nil || len(got) != 1 || fmt.Sprint(got[0].Reached) != "[1 1 1]" {
			t.Fatalf("site 2: %+v, %v", got, err)
		}
	})
}
