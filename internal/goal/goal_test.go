package goal

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"hearth/internal/event"
	"hearth/internal/fuzzseed"
	"hearth/internal/store"
)

func TestValidate(t *testing.T) {
	cases := []struct {
		name string
		g    store.Goal
		err  string // substring; "" valid
	}{
		{"url contains", store.Goal{MatchAttribute: "URL", Pattern: "/thanks", PatternType: "Contains"}, ""},
		{"unknown attribute", store.Goal{MatchAttribute: "cookie", Pattern: "x", PatternType: "exact"}, "matchAttribute must be one of"},
		{"unknown pattern type", store.Goal{MatchAttribute: "url", Pattern: "x", PatternType: "starts"}, "patternType must be one of"},
		{"empty pattern", store.Goal{MatchAttribute: "title", PatternType: "exact"}, "pattern must have"},
		{"long pattern", store.Goal{MatchAttribute: "title", Pattern: strings.Repeat("a", 256), PatternType: "exact"}, "pattern must have"},
		{"bad regex", store.Goal{MatchAttribute: "url", Pattern: "(unclosed", PatternType: "regex"}, "not a valid regular expression"},
		{"look-ahead refused", store.Goal{MatchAttribute: "url", Pattern: "a(?=b)", PatternType: "regex"}, "not a valid regular expression"},
		{"manual ignores pattern", store.Goal{MatchAttribute: "manually", Pattern: "anything", PatternType: "regex"}, ""},
		{"duration", store.Goal{MatchAttribute: "visit_duration", Pattern: "5"}, ""},
		{"duration not a number", store.Goal{MatchAttribute: "visit_duration", Pattern: "five"}, "number of minutes"},
		{"duration wrong type", store.Goal{MatchAttribute: "visit_duration", Pattern: "5", PatternType: "exact"}, "greater_than"},
		{"negative revenue", store.Goal{MatchAttribute: "manually", Revenue: -1}, "revenue"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g := c.g
			err := Validate(&g)
			switch {
			case c.err == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
				t.Fatalf("error %v, want one containing %q", err, c.err)
			}
		})
	}
	g := store.Goal{MatchAttribute: " URL ", Pattern: "/x", PatternType: "EXACT"}
	if err := Validate(&g); err != nil || g.MatchAttribute != "url" || g.PatternType != "exact" {
		t.Fatalf("not normalised: %+v %v", g, err)
	}
}

func TestMatching(t *testing.T) {
	goals := []store.Goal{
		{ID: 1, MatchAttribute: "url", Pattern: "/thank-you", PatternType: "contains", Revenue: 5},
		{ID: 2, MatchAttribute: "url", Pattern: "https://ex.org/Checkout", PatternType: "exact", CaseSensitive: true},
		{ID: 3, MatchAttribute: "title", Pattern: `^Order \d+ confirmed$`, PatternType: "regex"},
		{ID: 4, MatchAttribute: "file", Pattern: ".pdf", PatternType: "contains"},
		{ID: 5, MatchAttribute: "external_website", Pattern: "partner.example", PatternType: "contains"},
		{ID: 6, MatchAttribute: "event_category", Pattern: "video", PatternType: "exact", EventValueAsRevenue: true, Revenue: 1},
		{ID: 7, MatchAttribute: "event_action", Pattern: "play", PatternType: "contains", CaseSensitive: true},
		{ID: 8, MatchAttribute: "event_name", Pattern: "intro", PatternType: "exact"},
		{ID: 9, MatchAttribute: "manually", Revenue: 12.5, AllowMultiple: true},
		{ID: 10, MatchAttribute: "url", Pattern: "/caf%C3%A9", PatternType: "contains"},
		{ID: 11, MatchAttribute: "visit_duration", Pattern: "2", PatternType: "greater_than"},
		{ID: 12, MatchAttribute: "url", Pattern: "/gone", PatternType: "contains", Deleted: true},
		{ID: 13, MatchAttribute: "url", Pattern: "(", PatternType: "regex"}, // stored before validation: skipped
		{ID: 14, MatchAttribute: "title", Pattern: "Thank You", PatternType: "exact"},
	}
	set, errs := Compile(goals)
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), "goal 13") {
		t.Fatalf("compile errors %v, want goal 13 reported", errs)
	}
	if set.Len() != 12 {
		t.Fatalf("%d goals compiled, want 12 (deleted and broken skipped)", set.Len())
	}
	page := func(url, title string) *event.Action {
		return &event.Action{Type: event.ActionPageview, URL: url, Title: title}
	}
	ev := func(c, a, n string, v float64, has bool) *event.Action {
		return &event.Action{Type: event.ActionEvent, EventCategory: c, EventAction: a, EventName: n, EventValue: v, HasEventValue: has}
	}
	cases := []struct {
		name string
		a    *event.Action
		want []Conversion
	}{
		{"contains, any case", page("https://ex.org/THANK-YOU?x=1", ""), []Conversion{{Goal: 1, Revenue: 5}}},
		{"exact, case sensitive", page("https://ex.org/Checkout", ""), []Conversion{{Goal: 2}}},
		{"exact, wrong case", page("https://ex.org/checkout", ""), nil},
		{"exact is whole", page("https://ex.org/Checkout/", ""), nil},
		{"exact, any case", page("https://ex.org/t", "THANK you"), []Conversion{{Goal: 14}}},
		{"exact title is whole", page("https://ex.org/t", "Thank You!"), nil},
		{"title regex, case folded", page("https://ex.org/o", "order 42 CONFIRMED"), []Conversion{{Goal: 3}}},
		{"title regex anchored", page("https://ex.org/o", "Order 42 confirmed!"), nil},
		{"url goal ignores downloads", &event.Action{Type: event.ActionDownload, URL: "https://ex.org/thank-you.pdf"}, []Conversion{{Goal: 4}}},
		{"file goal ignores pages", page("https://ex.org/a.pdf", ""), nil},
		{"outlink", &event.Action{Type: event.ActionOutlink, URL: "https://partner.example/x"}, []Conversion{{Goal: 5}}},
		{"event value as revenue", ev("Video", "autoplay", "Intro", 3.5, true), []Conversion{{Goal: 6, Revenue: 3.5}, {Goal: 7}, {Goal: 8}}},
		{"event without value keeps default", ev("video", "play", "x", 0, false), []Conversion{{Goal: 6, Revenue: 1}, {Goal: 7}}},
		{"event action case sensitive", ev("x", "Play", "", 0, false), nil},
		{"url-encoded pattern retried decoded", page("https://ex.org/café/menu", ""), []Conversion{{Goal: 10}}},
		{"url-encoded pattern as sent", page("https://ex.org/caf%C3%A9/menu", ""), []Conversion{{Goal: 10}}},
		{"deleted goal converts no more", page("https://ex.org/gone", ""), nil},
		{"site search is not a page view", &event.Action{Type: event.ActionSearch, URL: "https://ex.org/thank-you"}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := set.Action(c.a)
			if len(got) != len(c.want) {
				t.Fatalf("got %+v, want %+v", got, c.want)
			}
			for i := range got {
				if got[i] != c.want[i] {
					t.Fatalf("got %+v, want %+v", got, c.want)
				}
			}
		})
	}
	if c, ok := set.Manual(9, 0, false); !ok || c.Revenue != 12.5 || !c.AllowMultiple {
		t.Fatalf("manual default revenue: %+v %v", c, ok)
	}
	if c, ok := set.Manual(9, 3, true); !ok || c.Revenue != 3 {
		t.Fatalf("manual sent revenue: %+v %v", c, ok)
	}
	if c, ok := set.Manual(1, 0, false); !ok || c.Revenue != 5 {
		t.Fatalf("any goal may be triggered by id: %+v %v", c, ok)
	}
	for _, id := range []int32{12, 13, 99} {
		if _, ok := set.Manual(id, 0, false); ok {
			t.Fatalf("goal %d triggered", id)
		}
	}
	if got := set.Duration(2 * time.Minute); len(got) != 0 {
		t.Fatalf("2 minutes is not more than 2: %+v", got)
	}
	if got := set.Duration(121 * time.Second); len(got) != 1 || got[0].Goal != 11 {
		t.Fatalf("duration goal: %+v", got)
	}
	var none *Set
	if none.Action(page("https://ex.org/thank-you", "")) != nil || none.Len() != 0 {
		t.Fatal("nil set matched")
	}
}

// FuzzGoal feeds arbitrary definitions and action values through validation, compilation and
// matching: a definition is refused with an error or matches without panicking, and what
// Validate accepts always compiles.
func FuzzGoal(f *testing.F) {
	for _, s := range fuzzseed.Read(f, "FuzzGoal", 5) {
		caseSensitive, err := strconv.ParseBool(s[4])
		if err != nil {
			f.Fatalf("seed case sensitivity %q: %v", s[4], err)
		}
		f.Add(s[0], s[1], s[2], s[3], caseSensitive)
	}
	f.Fuzz(func(t *testing.T, attr, typ, pattern, value string, caseSensitive bool) {
		g := store.Goal{ID: 1, MatchAttribute: attr, PatternType: typ, Pattern: pattern, CaseSensitive: caseSensitive}
		if err := Validate(&g); err != nil {
			return
		}
		set, errs := Compile([]store.Goal{g})
		if len(errs) != 0 || set.Len() != 1 {
			t.Fatalf("validated goal %+v did not compile: %v", g, errs)
		}
		for _, typ := range []event.ActionType{event.ActionPageview, event.ActionDownload, event.ActionOutlink, event.ActionEvent} {
			set.Action(&event.Action{Type: typ, URL: value, Title: value, EventCategory: value, EventAction: value, EventName: value})
		}
		set.Duration(time.Duration(len(value)) * time.Minute)
	})
}
