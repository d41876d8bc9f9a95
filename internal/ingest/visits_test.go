package ingest

import (
	"context"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"hearth/internal/collect"
	"hearth/internal/event"
	"hearth/internal/fuzzseed"
	"hearth/internal/store"
)

var searchParams, searchCats = []string{"q", "query", "s", "search", "searchword", "k", "keyword"}, []string{"category", "cat"}

func TestSiteSearch(t *testing.T) {
	for _, c := range []struct {
		raw, kw, cat, clean string
		ok                  bool
	}{
		{raw: "https://clinic.example/news/page-3?ref=2"},
		{raw: "https://clinic.example/news"},
		{raw: "https://clinic.example/find?q=flu+jab&cat=vaccines&page=2", kw: "flu jab", cat: "vaccines", clean: "https://clinic.example/find?page=2", ok: true},
		{raw: "https://clinic.example/find?%71=escaped", kw: "escaped", clean: "https://clinic.example/find", ok: true},
		{raw: "https://clinic.example/find?q=+", clean: ""},    // a blank keyword is no search
		{raw: "https://clinic.example/find#x?q=fragment"},      // the fragment is not the query
		{raw: "https://clinic.example/find?page=1#q=fragment"}, // nor after the query
		{raw: "https://clinic.example/find?q", clean: ""},
		{raw: "https://clinic.example/find?a=1&keyword=x%20y", kw: "x y", clean: "https://clinic.example/find?a=1", ok: true},
		{raw: "https://clinic.example/find?Q=upper"}, // parameter names match as written, as in Matomo
	} {
		kw, cat, clean, ok := siteSearch(c.raw, searchParams, searchCats)
		wantClean := c.clean
		if !c.ok {
			wantClean = c.raw
		}
		if kw != c.kw || cat != c.cat || clean != wantClean || ok != c.ok {
			t.Errorf("siteSearch(%q) = %q, %q, %q, %v; want %q, %q, %q, %v", c.raw, kw, cat, clean, ok, c.kw, c.cat, wantClean, c.ok)
		}
	}
}

// FuzzSiteSearch checks that the quick pre-check never hides a search the full parse finds.
func FuzzSiteSearch(f *testing.F) {
	fuzzseed.Strings(f, "FuzzSiteSearch", 1)
	f.Fuzz(func(t *testing.T, raw string) {
		kw, cat, clean, ok := siteSearch(raw, searchParams, searchCats)
		wkw, wcat, wclean, wok := parseSiteSearch(raw, searchParams, searchCats)
		if kw != wkw || cat != wcat || clean != wclean || ok != wok {
			t.Fatalf("siteSearch(%q) = %q, %q, %q, %v; parsing gives %q, %q, %q, %v", raw, kw, cat, clean, ok, wkw, wcat, wclean, wok)
		}
	})
}

func TestSameDay(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	// 22:30 and 23:30 UTC on 30 March 2024 are 23:30 and 00:30 in Berlin, the eve of the change to summer time.
	a := time.Date(2024, 3, 30, 22, 30, 0, 0, time.UTC)
	b := time.Date(2024, 3, 30, 23, 30, 0, 0, time.UTC)
	if !sameDay(a, b) {
		t.Error("22:30 and 23:30 UTC are one UTC day")
	}
	if sameDay(a.In(berlin), b.In(berlin)) {
		t.Error("23:30 and 00:30 in Berlin are two days")
	}
	if sameDay(time.Date(2024, 3, 30, 12, 0, 0, 0, time.UTC), time.Date(2025, 3, 30, 12, 0, 0, 0, time.UTC)) {
		t.Error("the same date a year apart is not the same day")
	}
}

// TestSweepBoundsOpenVisits: visits idle past the timeout close; where a shard holds more
// open visits than it keeps, the longest idle close early until few enough remain, their
// visitors' history kept for the visit that follows.
func TestSweepBoundsOpenVisits(t *testing.T) {
	tab := newVisitTable(30 * time.Minute)
	tab.maxOpen = 10
	now := time.Date(2026, 3, 6, 12, 0, 0, 0, time.UTC)
	for i := range 30 {
		var id event.VisitorID
		id[0] = byte(i)
		last := now.Add(-time.Duration(i) * time.Minute)
		tab.restore(event.Visit{SiteID: 1, ID: event.VisitID(i + 1), VisitorID: id, First: last, Last: last, VisitCount: 1}, nil)
	}
	// Two more, past the timeout: closed by the timeout, not counted as early.
	for i := range 2 {
		var id event.VisitorID
		id[0], id[1] = byte(i), 1
		last := now.Add(-time.Hour)
		tab.restore(event.Visit{SiteID: 1, ID: event.VisitID(100 + i), VisitorID: id, First: last, Last: last, VisitCount: 1}, nil)
	}
	early := tab.sweep(now)
	s := &tab.shard[tab.shardOf(1)]
	if early != 22 {
		t.Errorf("closed %d visits early, want 22 (idle over 15 minutes, then over 7.5)", early)
	}
	if len(s.open) != 8 {
		t.Fatalf("%d visits open, want the 8 idle for at most 7 minutes", len(s.open))
	}
	for _, st := range s.open {
		if idle := now.Sub(st.visit.Last); idle > 7*time.Minute {
			t.Errorf("visit idle for %v kept open", idle)
		}
	}
	if len(s.history) != 24 {
		t.Errorf("history kept for %d visitors, want 24", len(s.history))
	}
	// Within the limit, only the timeout closes visits.
	tab.maxOpen = 100
	if early := tab.sweep(now.Add(time.Minute)); early != 0 || len(s.open) != 8 {
		t.Errorf("within the limit: %d closed early, %d open; want 0 and 8", early, len(s.open))
	}
}

// TestVisitIDsOfOneMillisecondDiffer: visits opened in the same millisecond get distinct ids
// (with 22 random bits, 100,000 of them would share about 1,200).
func TestVisitIDsOfOneMillisecondDiffer(t *testing.T) {
	tab := newVisitTable(30 * time.Minute)
	at := time.Date(2026, 3, 6, 8, 0, 0, 0, time.UTC)
	seen := map[event.VisitID]bool{}
	for i := 0; i < 100_000; i++ {
		id := tab.newVisitID(at)
		if seen[id] {
			t.Fatalf("visit %d repeats id %d", i, id)
		}
		seen[id] = true
		if got := int64(id) >> 22; got != at.UnixMilli()-1577836800000 {
			t.Fatalf("id %d does not start with its millisecond", id)
		}
	}
}

// TestSameSecondVisitsAreAllKept: thousands of visitors whose first hits carry the same time
// (a log import's whole-second timestamps) are all stored; none replaces another.
func TestSameSecondVisitsAreAllKept(t *testing.T) {
	r := newRig(t, t.TempDir(), &testSite)
	const n = 3000
	for i := 0; i < n; i++ {
		from := func(req *collect.Request) { req.IP = netip.AddrFrom4([4]byte{198, 51, byte(i / 250), byte(i % 250)}) }
		r.mustTrack(fmt.Sprintf("idsite=1&rec=1&url=https%%3A%%2F%%2Fclinic.example%%2Fp&_id=%016x", i+1), r.now, from)
	}
	r.visits() // flushes ingest
	got, err := r.events.Visits(context.Background(), store.VisitQuery{Sites: []event.SiteID{r.site}, Limit: 2 * n})
	if err != nil || len(got) != n {
		t.Fatalf("%d visits stored of %d: %v", len(got), n, err)
	}
}
