package duckdb

import (
	"context"
	"database/sql"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"hearth/internal/event"
	"hearth/internal/store"
	"hearth/internal/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.RunEvents(t, func(t *testing.T, dir string) store.Events {
		s, err := Open(context.Background(), Options{Path: filepath.Join(dir, "events.duckdb"), Threads: 2})
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

func TestLockedDown(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(context.Background(), Options{Path: filepath.Join(dir, "events.duckdb")})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	outside := filepath.Join(t.TempDir(), "leak.csv")
	_, err = s.db.Exec(`COPY (SELECT 1) TO '` + outside + `'`)
	if err == nil {
		t.Fatal("COPY to a file outside the database was allowed")
	}
	if _, statErr := os.Stat(outside); statErr == nil {
		t.Fatal("file written outside the database")
	}
	if _, err := s.db.Exec(`SET enable_external_access = true`); err == nil || !strings.Contains(strings.ToLower(err.Error()), "lock") {
		t.Fatalf("configuration change allowed: %v", err)
	}
	if _, err := s.db.Exec(`INSTALL httpfs`); err == nil {
		t.Fatal("extension install allowed")
	}
}

func TestStringID(t *testing.T) {
	if StringID("") != 0 {
		t.Fatal("empty string must be id 0")
	}
	a, b := StringID("https://ex.org/a"), StringID("https://ex.org/b")
	if a == b || a <= 0 || b <= 0 || a != StringID("https://ex.org/a") {
		t.Fatalf("ids %d %d", a, b)
	}
}

// TestReferrerNameMigration stores visits, undoes what migration 2 did (no referrer name
// ids, no dictionary entries for them, the migration not recorded) and reopens: the
// migration must give every visit the id StringID gives its name, with the name in the
// dictionary, so that reports grouping by the id show the same names as before.
func TestReferrerNameMigration(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "events.duckdb")
	s, err := Open(ctx, Options{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	day := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	names := []string{"Google", "Ünïcode Näme ✓", "partner.example", "", "Google"}
	var visits []event.Visit
	for i, n := range names {
		typ := event.ReferrerSearch
		if n == "" {
			typ = event.ReferrerDirect
		}
		visits = append(visits, event.Visit{SiteID: 1, ID: event.VisitID(i + 1), VisitorID: event.VisitorID{byte(i + 1)},
			First: day.Add(time.Duration(i) * time.Minute), Last: day.Add(time.Duration(i)*time.Minute + time.Second),
			VisitCount: 1, Actions: 1, Referrer: event.Referrer{Type: typ, Name: n}})
	}
	if err := s.Apply(ctx, store.Batch{Seq: 1, Visits: visits}); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`UPDATE visits SET referrer_name_id = 0`,
		`DELETE FROM dict`,
		`DELETE FROM schema_migrations WHERE version = 2`,
	} {
		if _, err := s.db.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(ctx, Options{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	rows, err := s.db.QueryContext(ctx, `SELECT v.visit_id, v.referrer_name_id, d.value FROM visits v LEFT JOIN dict d ON d.id = v.referrer_name_id ORDER BY v.visit_id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	seen := 0
	for rows.Next() {
		var id, nameID int64
		var value sql.NullString
		if err := rows.Scan(&id, &nameID, &value); err != nil {
			t.Fatal(err)
		}
		want := names[id-1]
		if nameID != StringID(want) || value.String != want {
			t.Errorf("visit %d: name id %d (%q), want %d (%q)", id, nameID, value.String, StringID(want), want)
		}
		seen++
	}
	if seen != len(names) {
		t.Fatalf("%d visits after the migration, want %d", seen, len(names))
	}
	groups, err := s.VisitGroups(ctx, store.GroupQuery{ReportQuery: store.ReportQuery{Site: 1,
		Ranges: []store.TimeRange{{From: day, To: day.AddDate(0, 0, 1)}}}, By: []store.Field{store.FieldReferrerType, store.FieldReferrerName}})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int64{}
	for _, g := range groups {
		if len(g.Keys) == 2 {
			got[g.Keys[1]] = g.Visits
		}
	}
	want := map[string]int64{"Google": 2, "Ünïcode Näme ✓": 1, "partner.example": 1, "": 1}
	if !maps.Equal(got, want) {
		t.Fatalf("visits by referrer name %v, want %v", got, want)
	}
}

func TestNumArg(t *testing.T) {
	for _, c := range []struct {
		in   float64
		want any
	}{{2, int64(2)}, {-7, int64(-7)}, {0, int64(0)}, {2.5, 2.5}, {1e300, 1e300}, {1 << 53, float64(1 << 53)}} {
		if got := numArg(c.in); got != c.want {
			t.Errorf("numArg(%v) = %#v, want %#v", c.in, got, c.want)
		}
	}
}
