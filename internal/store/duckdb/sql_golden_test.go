package duckdb

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"hearth/internal/event"
	"hearth/internal/store"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// sqlCase is one report query shape: the statement a query method builds and the number of
// columns the method scans from its rows.
type sqlCase struct {
	name  string
	cols  int
	build func() (string, []any, error)
}

// goldenDay is the first day of the golden queries' periods; the store the statements run
// against holds a visit on it.
var goldenDay = time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)

// goldenRanges are n consecutive days from goldenDay.
func goldenRanges(n int) []store.TimeRange {
	out := make([]store.TimeRange, n)
	for i := range out {
		out[i] = store.TimeRange{From: goldenDay.AddDate(0, 0, i), To: goldenDay.AddDate(0, 0, i+1)}
	}
	return out
}

// goldenSegment keeps visits from Germany with at least one action whose browser is
// Firefox or that viewed a shop page: visit fields, a number, an OR group and an action field.
var goldenSegment = store.Filter{And: [][]store.Cond{
	{{Field: store.FieldCountry, Op: store.OpEq, Str: "de"}},
	{{Field: store.FieldActions, Op: store.OpGe, Num: 1, IsNum: true}},
	{{Field: store.FieldBrowser, Op: store.OpEq, Str: "Firefox"}, {Field: store.FieldPageURL, Op: store.OpContains, Str: "/shop"}},
}}

// sqlCases are the report query shapes: every query method, with and without a segment, over
// one period and several, and the branches each takes for particular fields.
func sqlCases() []sqlCase {
	one, three := goldenRanges(1), goldenRanges(3)
	gaps := []store.TimeRange{one[0], {From: goldenDay.AddDate(0, 0, 7), To: goldenDay.AddDate(0, 0, 8)}}
	rq := func(ranges []store.TimeRange, seg store.Filter) store.ReportQuery {
		return store.ReportQuery{Site: 1, Ranges: ranges, Segment: seg}
	}
	none := store.Filter{}
	zone := []store.ZoneSpan{{From: goldenDay, Offset: 3600}, {From: goldenDay.AddDate(0, 0, 1), Offset: 7200}}
	groups := func(q store.GroupQuery) func() (string, []any, error) {
		return func() (string, []any, error) { return visitGroupsSQL(q) }
	}
	actions := func(q store.ActionQuery) func() (string, []any, error) {
		return func() (string, []any, error) { return actionGroupsSQL(q) }
	}
	items := func(q store.ItemQuery) func() (string, []any, error) {
		return func() (string, []any, error) { return itemGroupsSQL(q) }
	}
	events := func(q store.EventQuery) func() (string, []any, error) {
		return func() (string, []any, error) { return eventGroupsSQL(q) }
	}
	totals := func(q store.ReportQuery) func() (string, []any, error) {
		return func() (string, []any, error) { return visitTotalsSQL(q) }
	}
	conversions := func(q store.ReportQuery) func() (string, []any, error) {
		return func() (string, []any, error) { return conversionsSQL(q) }
	}
	funnel := func(q store.FunnelQuery) func() (string, []any, error) {
		return func() (string, []any, error) { return funnelSQL(q) }
	}
	// Funnel steps of every kind and match, in and out of case.
	pageSteps := []store.FunnelStep{
		{Name: "Shop", Kind: store.FunnelURL, Match: store.FunnelContains, Pattern: "/shop"},
		{Name: "Cart", Kind: store.FunnelTitle, Match: store.FunnelExact, Pattern: "Cart", CaseSensitive: true},
		{Name: "Pay", Kind: store.FunnelEventAction, Match: store.FunnelRegex, Pattern: "^pay(ment)?$"},
	}
	otherSteps := []store.FunnelStep{
		{Name: "Guide", Kind: store.FunnelDownload, Match: store.FunnelStartsWith, Pattern: "https://ex.org/files/"},
		{Name: "Partner", Kind: store.FunnelOutlink, Match: store.FunnelRegex, Pattern: `partner\.example`, CaseSensitive: true},
		{Name: "Video", Kind: store.FunnelEventCategory, Match: store.FunnelExact, Pattern: "Video"},
		{Name: "Intro", Kind: store.FunnelEventName, Match: store.FunnelContains, Pattern: "intro", CaseSensitive: true},
	}
	visits := func(q store.VisitQuery) func() (string, []any, error) {
		return func() (string, []any, error) { return visitsSQL(q) }
	}
	visitActions := func(perVisit int) func() (string, []any, error) {
		return func() (string, []any, error) {
			ids, minFirst := visitIDs([]store.VisitDetail{{Visit: event.Visit{ID: 1, First: goldenDay}}, {Visit: event.Visit{ID: 2, First: goldenDay.Add(time.Hour)}}})
			query, args := actionsSQL(`a.visit_id IN (`+ids+`) AND a.ts >= ?`, perVisit, minFirst)
			return query, args, nil
		}
	}
	counters := func(sites []event.SiteID, seg store.Filter) func() (string, []any, error) {
		return func() (string, []any, error) { return countersSQL(sites, goldenDay, seg) }
	}
	pageview := []event.ActionType{event.ActionPageview}
	return []sqlCase{
		{"visit_totals", 9, totals(rq(one, none))},
		{"visit_totals_periods", 9, totals(rq(three, none))},
		{"visit_totals_gaps", 9, totals(rq(gaps, none))},
		{"visit_totals_segment", 9, totals(rq(one, goldenSegment))},
		{"visit_totals_segment_periods", 9, totals(rq(three, goldenSegment))},

		{"visit_groups_country", 12, groups(store.GroupQuery{ReportQuery: rq(one, none), By: []store.Field{store.FieldCountry}})},
		{"visit_groups_country_periods", 12, groups(store.GroupQuery{ReportQuery: rq(three, none), By: []store.Field{store.FieldCountry}})},
		{"visit_groups_entry_url_segment", 12, groups(store.GroupQuery{ReportQuery: rq(one, goldenSegment), By: []store.Field{store.FieldEntryURL}})},
		{"visit_groups_referrer_type_name_periods", 12, groups(store.GroupQuery{ReportQuery: rq(three, none), By: []store.Field{store.FieldReferrerType, store.FieldReferrerName}})},
		{"visit_groups_two_no_uniques_segment", 12, groups(store.GroupQuery{ReportQuery: store.ReportQuery{Site: 1, Ranges: three, Segment: goldenSegment, NoRowUniques: true},
			By: []store.Field{store.FieldBrowser, store.FieldBrowserVersionKey}})},
		{"visit_groups_continent_remap", 12, groups(store.GroupQuery{ReportQuery: rq(one, none), By: []store.Field{store.FieldCountry},
			Remap: map[string]string{"de": "eur", "fr": "eur", "us": "amn"}})},
		{"visit_groups_site_hour_zone", 12, groups(store.GroupQuery{ReportQuery: store.ReportQuery{Site: 1, Ranges: three, Zone: zone}, By: []store.Field{store.FieldSiteHour}})},

		{"action_groups_page_url_entries", 11, actions(store.ActionQuery{ReportQuery: rq(one, none), Types: pageview, By: store.FieldActionURL, Entries: true})},
		{"action_groups_page_url_entries_segment_periods", 11, actions(store.ActionQuery{ReportQuery: rq(three, goldenSegment), Types: pageview, By: store.FieldActionURL, Entries: true})},
		{"action_groups_page_title_periods", 11, actions(store.ActionQuery{ReportQuery: rq(three, none), Types: pageview, By: store.FieldActionTitle})},
		{"action_groups_page_url_no_uniques_segment", 11, actions(store.ActionQuery{ReportQuery: store.ReportQuery{Site: 1, Ranges: three, Segment: goldenSegment, NoRowUniques: true},
			Types: pageview, By: store.FieldActionURL})},
		{"action_groups_download_url", 11, actions(store.ActionQuery{ReportQuery: rq(one, none), Types: []event.ActionType{event.ActionDownload}, By: store.FieldActionURL})},
		{"action_groups_search_keyword_no_results_segment", 11, actions(store.ActionQuery{ReportQuery: rq(one, goldenSegment),
			Types: []event.ActionType{event.ActionSearch}, By: store.FieldSearchKeyword, NoResults: true})},
		{"action_groups_dimension_periods", 11, actions(store.ActionQuery{ReportQuery: rq(three, none), Types: pageview, By: store.DimensionField("action", 3)})},

		{"item_groups_sku", 6, items(store.ItemQuery{ReportQuery: rq(one, none), By: store.ItemSKU})},
		{"item_groups_name_segment_periods", 6, items(store.ItemQuery{ReportQuery: rq(three, goldenSegment), By: store.ItemName})},
		{"item_groups_category_abandoned", 6, items(store.ItemQuery{ReportQuery: rq(one, none), By: store.ItemCategory, Abandoned: true})},
		{"item_groups_category_abandoned_segment_periods", 6, items(store.ItemQuery{ReportQuery: rq(three, goldenSegment), By: store.ItemCategory, Abandoned: true})},

		{"event_groups_category_action", 12, events(store.EventQuery{ReportQuery: rq(one, none), Type: event.ActionEvent,
			By: [2]store.Field{store.FieldEventCategory, store.FieldEventAction}})},
		{"event_groups_name_category_segment_periods", 12, events(store.EventQuery{ReportQuery: rq(three, goldenSegment), Type: event.ActionEvent,
			By: [2]store.Field{store.FieldEventName, store.FieldEventCategory}})},
		{"event_groups_content_no_uniques", 12, events(store.EventQuery{ReportQuery: store.ReportQuery{Site: 1, Ranges: one, NoRowUniques: true}, Type: event.ActionContent,
			By: [2]store.Field{store.FieldContentName, store.FieldContentPiece}})},

		{"conversions", 11, conversions(rq(one, none))},
		{"conversions_periods", 11, conversions(rq(three, none))},
		{"conversions_segment_periods", 11, conversions(rq(three, goldenSegment))},

		{"funnel", 3, funnel(store.FunnelQuery{ReportQuery: rq(one, none), Steps: pageSteps})},
		{"funnel_segment_periods", 3, funnel(store.FunnelQuery{ReportQuery: rq(three, goldenSegment), Steps: otherSteps})},

		{"visits", len(strings.Split(visitColumns, ",")), visits(store.VisitQuery{Sites: []event.SiteID{1}, Limit: 100})},
		{"visits_range_segment", len(strings.Split(visitColumns, ",")), visits(store.VisitQuery{Sites: []event.SiteID{1, 2}, From: goldenDay, To: goldenDay.AddDate(0, 0, 1),
			Limit: 10, Offset: 20, Segment: goldenSegment})},
		{"visit_actions", 45, visitActions(0)},
		{"visit_actions_per_visit", 45, visitActions(500)},

		{"counters", 4, counters([]event.SiteID{1}, none)},
		{"counters_sites_segment", 4, counters([]event.SiteID{1, 2, 3}, goldenSegment)},
	}
}

// TestQuerySQLGolden compares the SQL each report query shape generates with
// testdata/sql/<case>.sql (rewrite them with -update), and runs every statement against a
// real store holding a visit, checking that it executes and returns the columns its method
// scans.
func TestQuerySQLGolden(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, Options{Path: filepath.Join(t.TempDir(), "events.duckdb"), Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	v := event.Visit{SiteID: 1, ID: 1, VisitorID: event.VisitorID{1}, First: goldenDay.Add(10 * time.Hour), Last: goldenDay.Add(10*time.Hour + time.Minute),
		VisitCount: 1, Actions: 2, Pageviews: 2, EntryURL: "https://ex.org/", ExitURL: "https://ex.org/shop", Location: event.Location{Country: "de"},
		Device: event.Device{Browser: "Firefox"}}
	acts := []event.Action{
		{SiteID: 1, VisitID: 1, VisitorID: v.VisitorID, Time: v.First, Index: 1, Type: event.ActionPageview, URL: "https://ex.org/", FirstURLInVisit: true},
		{SiteID: 1, VisitID: 1, VisitorID: v.VisitorID, Time: v.Last, Index: 2, Type: event.ActionPageview, URL: "https://ex.org/shop", FirstURLInVisit: true},
	}
	if err := s.Apply(ctx, store.Batch{Seq: 1, Visits: []event.Visit{v}, Actions: acts}); err != nil {
		t.Fatal(err)
	}
	cases := sqlCases()
	named := map[string]bool{}
	for _, c := range cases {
		if named[c.name] {
			t.Fatalf("case %s twice", c.name)
		}
		named[c.name] = true
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			query, args, err := c.build()
			if err != nil {
				t.Fatal(err)
			}
			got := goldenText(query, args)
			path := filepath.Join("testdata", "sql", c.name+".sql")
			if *update {
				if err := os.WriteFile(path, []byte(got), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (create it with -update)", err)
			}
			if got != string(want) {
				t.Errorf("SQL differs from %s (run with -update to accept):\n--- got\n%s\n--- want\n%s", path, got, want)
			}
			rows, err := s.db.QueryContext(ctx, query, args...)
			if err != nil {
				t.Fatalf("run: %v", err)
			}
			defer rows.Close()
			cols, err := rows.Columns()
			if err != nil {
				t.Fatal(err)
			}
			if len(cols) != c.cols {
				t.Errorf("%d columns, the method scans %d", len(cols), c.cols)
			}
			for rows.Next() {
			}
			if err := rows.Err(); err != nil {
				t.Fatalf("read rows: %v", err)
			}
		})
	}
	// A golden file no case writes is a shape that went away.
	files, err := filepath.Glob(filepath.Join("testdata", "sql", "*.sql"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if name := strings.TrimSuffix(filepath.Base(f), ".sql"); !named[name] {
			t.Errorf("%s has no case", f)
		}
	}
}

// goldenText is a statement as its golden file holds it: the SQL, then its bound values, one
// a line, as comments.
func goldenText(query string, args []any) string {
	var b strings.Builder
	b.WriteString(strings.TrimSpace(query))
	b.WriteString(";\n")
	for i, a := range args {
		fmt.Fprintf(&b, "-- $%d = %s\n", i+1, goldenArg(a))
	}
	return b.String()
}

func goldenArg(a any) string {
	switch v := a.(type) {
	case time.Time:
		return "TIMESTAMP " + v.UTC().Format(time.RFC3339Nano)
	case string:
		return strconv.Quote(v)
	default:
		return fmt.Sprintf("%T %v", v, v)
	}
}
