package audit

import (
	"bytes"
	"context"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"hearth/internal/store/sqlite"
)

var metaKey = bytes.Repeat([]byte{3}, 64)

// openTrail opens a trail on a fresh metadata store with a clock; it returns the trail and
// the paths of the database and the head file.
func openTrail(t *testing.T, now func() time.Time) (*Trail, string, string) {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "meta.db")
	meta, err := sqlite.Open(context.Background(), sqlite.Options{Path: path, Key: metaKey})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { meta.Close() })
	head := filepath.Join(dir, "audit.head")
	return New(meta, Options{Key: []byte("audit-key"), HeadPath: head, Now: now}), path, head
}

func newTrail(t *testing.T) (*Trail, string, string) {
	t.Helper()
	clock := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	tr, path, head := openTrail(t, func() time.Time {
		clock = clock.Add(time.Second)
		return clock
	})
	for i, action := range []string{ActionServerStart, ActionUserCreate, ActionTokenCreate, ActionSiteCreate, ActionRawDataView} {
		err := tr.Record(context.Background(), Event{Actor: "alice", IP: netip.MustParseAddr("203.0.113.77"), Action: action,
			Target: "site:1", Details: map[string]string{"n": string(rune('a' + i))}})
		if err != nil {
			t.Fatal(err)
		}
	}
	return tr, path, head
}

// tamper runs SQL on the metadata file through a direct connection with the key, bypassing
// the product, as an attacker with access to the instance secret could.
func tamper(t *testing.T, path string, stmts ...string) {
	t.Helper()
	db, err := sqlite.OpenRaw(sqlite.Options{Path: path, Key: metaKey})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, s := range stmts {
		if _, err := db.Exec(s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

func TestIntactTrail(t *testing.T) {
	tr, _, _ := newTrail(t)
	r, err := tr.Verify(context.Background())
	if err != nil || r.Entries != 5 || r.LastSeq != 5 {
		t.Fatalf("verify: %+v %v", r, err)
	}
	var buf bytes.Buffer
	if err := tr.Export(context.Background(), &buf, NDJSON, time.Time{}, time.Time{}); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 5 || !strings.Contains(lines[0], `"action":"server.start"`) || !strings.Contains(lines[0], `"actor_ip":"203.0.0.0"`) {
		t.Fatalf("ndjson: %s", buf.String())
	}
	if strings.Contains(buf.String(), "203.0.113.77") {
		t.Fatal("full IP recorded")
	}
	buf.Reset()
	from := time.Date(2026, 11, 23, 10, 0, 3, 0, time.UTC)
	if err := tr.Export(context.Background(), &buf, CSV, from, time.Time{}); err != nil {
		t.Fatal(err)
	}
	if lines := strings.Split(strings.TrimSpace(buf.String()), "\n"); len(lines) != 4 || !strings.HasPrefix(lines[0], "seq,time,actor") {
		t.Fatalf("csv since: %s", buf.String())
	}
}

func TestTamperDetected(t *testing.T) {
	cases := []struct {
		name     string
		stmts    []string
		editHead func(t *testing.T, path string)
		wantSeq  int64
		wantText string
	}{
		{"changed", []string{`UPDATE audit_log SET action = 'auth.login' WHERE seq = 3`}, nil, 3, "changed"},
		{"changed details", []string{`UPDATE audit_log SET details = '{"n":"z"}' WHERE seq = 2`}, nil, 2, "changed"},
		{"deleted", []string{`DELETE FROM audit_log WHERE seq = 3`}, nil, 3, "missing"},
		{"inserted", []string{
			`UPDATE audit_log SET seq = seq + 10 WHERE seq >= 3`,
			`UPDATE audit_log SET seq = seq - 9 WHERE seq >= 13`,
			`INSERT INTO audit_log SELECT 3, time, 'mallory', actor_ip, 'user.create', 'user:mallory', outcome, details, prev_hash, hash FROM audit_log WHERE seq = 2`,
		}, nil, 3, "changed"},
		{"reordered", []string{
			`UPDATE audit_log SET seq = 100 WHERE seq = 2`,
			`UPDATE audit_log SET seq = 2 WHERE seq = 3`,
			`UPDATE audit_log SET seq = 3 WHERE seq = 100`,
		}, nil, 2, "does not follow"},
		{"oldest deleted", []string{`DELETE FROM audit_log WHERE seq <= 2`}, nil, 2, "no retention run"},
		{"truncated", []string{`DELETE FROM audit_log WHERE seq >= 4`}, nil, 4, "entries deleted"},
		{"head altered", nil, func(t *testing.T, path string) {
			if err := os.WriteFile(path, []byte("9 00 00\n"), 0o600); err != nil {
				t.Fatal(err)
			}
		}, 6, "altered"},
		{"head removed", nil, func(t *testing.T, path string) {
			if err := os.Remove(path); err != nil {
				t.Fatal(err)
			}
		}, 5, "head file is missing"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tr, path, headPath := newTrail(t)
			if len(tc.stmts) > 0 {
				tamper(t, path, tc.stmts...)
			}
			if tc.editHead != nil {
				tc.editHead(t, headPath)
			}
			_, err := tr.Verify(context.Background())
			var p *Problem
			if !errors.As(err, &p) || p.Seq != tc.wantSeq || !strings.Contains(p.Reason, tc.wantText) {
				t.Fatalf("verify = %v, want entry %d (%s)", err, tc.wantSeq, tc.wantText)
			}
		})
	}
}

func TestHeadNeverMovesBack(t *testing.T) {
	tr, _, headPath := newTrail(t)
	before, _ := os.ReadFile(headPath)
	if err := tr.advanceHead(2, []byte{1, 2}); err != nil {
		t.Fatal(err)
	}
	after, _ := os.ReadFile(headPath)
	if !bytes.Equal(before, after) {
		t.Fatal("head moved back")
	}
}

func TestRetention(t *testing.T) {
	ctx := context.Background()
	clock := time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)
	tr, path, _ := openTrail(t, func() time.Time { return clock })
	record := func(n int) {
		for range n {
			if err := tr.Record(ctx, Event{Actor: "alice", Action: ActionLogin, Target: "user:alice"}); err != nil {
				t.Fatal(err)
			}
		}
	}
	record(5)
	if n, err := tr.Prune(ctx); n != 0 || err != nil {
		t.Fatalf("prune with no retention set = %d, %v", n, err)
	}
	if err := tr.SetRetention(ctx, 10, "root", netip.Addr{}); !errors.Is(err, ErrRetentionTooShort) {
		t.Fatalf("10 days accepted: %v", err)
	}
	if err := tr.SetRetention(ctx, 30, "root", netip.Addr{}); err != nil { // entry 6
		t.Fatal(err)
	}
	if days, err := tr.Retention(ctx); days != 30 || err != nil {
		t.Fatalf("retention = %d, %v", days, err)
	}
	clock = clock.Add(20 * 24 * time.Hour)
	record(2) // entries 7 and 8, 20 days later
	if n, err := tr.Prune(ctx); n != 0 || err != nil {
		t.Fatalf("prune before anything is 30 days old = %d, %v", n, err)
	}
	clock = clock.Add(15 * 24 * time.Hour) // entries 1-6 are now 35 days old, 7-8 15 days
	n, err := tr.Prune(ctx)
	if n != 6 || err != nil {
		t.Fatalf("prune = %d, %v; want the 6 entries older than 30 days", n, err)
	}
	r, err := tr.Verify(ctx)
	if err != nil || r.PrunedThrough != 6 || r.Entries != 3 || r.LastSeq != 9 {
		t.Fatalf("verify after prune = %+v, %v; want entries 7-9 intact, 1-6 pruned", r, err)
	}
	var buf bytes.Buffer
	if err := tr.Export(ctx, &buf, NDJSON, time.Time{}, time.Time{}); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 3 || !strings.Contains(lines[0], `"seq":7`) || !strings.Contains(lines[2], `"action":"audit.prune"`) ||
		!strings.Contains(lines[2], `"through_seq":"6"`) {
		t.Fatalf("trail after prune:\n%s", buf.String())
	}
	if strings.Contains(buf.String(), `"seq":6,`) {
		t.Fatal("entry 6 survived the prune")
	}

	// Deleting one more entry than retention did is detected, and names the entry.
	tamper(t, path, `DELETE FROM audit_log WHERE seq = 7`)
	_, err = tr.Verify(ctx)
	var p *Problem
	if !errors.As(err, &p) || p.Seq != 7 || !strings.Contains(p.Reason, "no retention run") {
		t.Fatalf("verify after deleting entry 7 = %v", err)
	}
}

func TestRetentionAnchorCannotBeForged(t *testing.T) {
	tr, path, _ := newTrail(t)
	// An attacker deletes the oldest entries and rewrites an entry to look like a prune
	// record vouching for them; without the key its hash no longer matches.
	tamper(t, path, `DELETE FROM audit_log WHERE seq <= 2`,
		`UPDATE audit_log SET action = 'audit.prune', details = '{"through_seq":"2","through_hash":"' || lower(hex(prev_hash)) || '"}' WHERE seq = 3`)
	_, err := tr.Verify(context.Background())
	var p *Problem
	if !errors.As(err, &p) || p.Seq != 3 || !strings.Contains(p.Reason, "changed") {
		t.Fatalf("verify = %v, want entry 3 changed", err)
	}
}
