package duckdb

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

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
