// Package duckdb is the embedded event store: visits and actions in DuckDB, written in
// batches through appenders and queried with plain SQL. External file access, extension
// loading and configuration changes are locked off when the database opens.
package duckdb

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"embed"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	duck "github.com/duckdb/duckdb-go/v2"

	"hearth/internal/event"
	"hearth/internal/store"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Store implements store.Events.
type Store struct {
	db *sql.DB
	// writer is the one connection batches are applied on; mu serialises its use.
	mu     sync.Mutex
	writer *sql.Conn
	// known remembers dictionary ids already written, so repeated strings skip the stage.
	known *idCache
}

var _ store.Events = (*Store)(nil)

// Options configure Open.
type Options struct {
	Path string
	// MemoryLimit is DuckDB's memory_limit, e.g. "4GB"; empty keeps DuckDB's default.
	MemoryLimit string
	// Threads caps DuckDB's worker threads; 0 keeps DuckDB's default.
	Threads int
}

// Open opens (creating if needed) the event store and runs pending migrations.
func Open(ctx context.Context, opts Options) (*Store, error) {
	q := url.Values{}
	// Lock the engine down: no reads or writes outside the database, no extension downloads.
	q.Set("enable_external_access", "false")
	q.Set("autoinstall_known_extensions", "false")
	q.Set("autoload_known_extensions", "false")
	q.Set("allow_community_extensions", "false")
	q.Set("allow_unsigned_extensions", "false")
	if opts.MemoryLimit != "" {
		q.Set("memory_limit", opts.MemoryLimit)
	}
	if opts.Threads > 0 {
		q.Set("threads", strconv.Itoa(opts.Threads))
	}
	// Ingest appends a batch a second. At DuckDB's default 16 MB of write-ahead log a
	// checkpoint came every few batches and rewrote the same partly filled row groups again
	// and again (a third of the apply's cost); 128 MB lets row groups fill first. A clean
	// shutdown checkpoints, and after a crash the log replays on open.
	q.Set("checkpoint_threshold", "128MB")
	q.Set("lock_configuration", "true")
	connector, err := duck.NewConnector(opts.Path+"?"+q.Encode(), nil)
	if err != nil {
		return nil, fmt.Errorf("open event store: %w", err)
	}
	db := sql.OpenDB(connector)
	s := &Store{db: db, known: newIDCache(1 << 20)}
	if err := s.migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	w, err := db.Conn(ctx)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("open event store writer: %w", err)
	}
	s.writer = w
	for _, stmt := range []string{
		`CREATE TEMP TABLE visit_keys_stage (visit_id BIGINT)`,
		`CREATE TEMP TABLE visitors_stage AS SELECT * FROM visitors LIMIT 0`,
		`CREATE TEMP TABLE dict_stage (id BIGINT, value VARCHAR)`,
	} {
		if _, err := w.ExecContext(ctx, stmt); err != nil {
			s.Close()
			return nil, fmt.Errorf("prepare stage tables: %w", err)
		}
	}
	for _, suffix := range []string{"", ".wal"} {
		if err := os.Chmod(opts.Path+suffix, 0o600); err != nil && !errors.Is(err, fs.ErrNotExist) {
			s.Close()
			return nil, fmt.Errorf("restrict event store file: %w", err)
		}
	}
	return s, nil
}

func (s *Store) migrate(ctx context.Context) error {
	if _, err := s.db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied TIMESTAMP NOT NULL)`); err != nil {
		return fmt.Errorf("event store migrations: %w", err)
	}
	list, err := store.ReadMigrations(migrations, "migrations")
	if err != nil {
		return err
	}
	for _, m := range list {
		v := m.Version
		var n int
		if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations WHERE version = ?`, v).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			continue
		}
		tx, err := s.db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
			tx.Rollback()
			return fmt.Errorf("event migration %d: %w", v, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations VALUES (?, now())`, v); err != nil {
			tx.Rollback()
			return err
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("event migration %d: %w", v, err)
		}
	}
	return nil
}

// Close checkpoints and closes the database.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var errs []error
	if s.writer != nil {
		errs = append(errs, s.writer.Close())
		s.writer = nil
	}
	if _, err := s.db.Exec(`CHECKPOINT`); err != nil {
		errs = append(errs, err)
	}
	errs = append(errs, s.db.Close())
	return errors.Join(errs...)
}

// Ping checks the database answers.
func (s *Store) Ping(ctx context.Context) error {
	var one int
	return s.db.QueryRowContext(ctx, `SELECT 1`).Scan(&one)
}

// StringID is the dictionary id of a string: the first 8 bytes of its SHA-256, so every node
// computes the same id without coordination. The empty string is 0. Migration 0002 computes
// the same in SQL for stored referrer names; TestReferrerNameMigration checks they agree.
func StringID(s string) int64 {
	if s == "" {
		return 0
	}
	h := sha256.Sum256([]byte(s))
	id := int64(binary.BigEndian.Uint64(h[:8]) >> 1) // #nosec G115 -- shifted into the non-negative int64 range
	if id == 0 {
		id = 1
	}
	return id
}

// visitorInt stores the 8 visitor-ID bytes in a BIGINT (database/sql cannot bind uint64
// values with the high bit set).
func visitorInt(v event.VisitorID) int64 { return int64(binary.BigEndian.Uint64(v[:])) } // #nosec G115 -- a bit-for-bit reinterpretation

func visitorFromInt(n int64) event.VisitorID {
	var v event.VisitorID
	binary.BigEndian.PutUint64(v[:], uint64(n)) // #nosec G115 -- a bit-for-bit reinterpretation
	return v
}

func nullStr(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func jsonOrNil(v any, empty bool) any {
	if empty {
		return nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	return string(b)
}

func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC()
}

type scanner interface{ Scan(...any) error }

func siteList(sites []event.SiteID) string {
	parts := make([]string, len(sites))
	for i, s := range sites {
		parts[i] = strconv.FormatInt(int64(s), 10)
	}
	return strings.Join(parts, ",")
}

// queryRows runs a statement and makes a value of each row with scan; errors name what was
// read.
func queryRows[T any](ctx context.Context, db *sql.DB, what string, scan func(*sql.Rows) (T, error), stmt string, args ...any) ([]T, error) {
	var out []T
	err := eachRow(ctx, db, what, func(rows *sql.Rows) error {
		v, err := scan(rows)
		out = append(out, v)
		return err
	}, stmt, args...)
	if err != nil {
		return nil, err
	}
	return out, nil
}

// eachRow runs a statement and calls fn for each row as it is read; errors name what was
// read.
func eachRow(ctx context.Context, db *sql.DB, what string, fn func(*sql.Rows) error, stmt string, args ...any) error {
	rows, err := db.QueryContext(ctx, stmt, args...)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return fmt.Errorf("%s: scan: %w", what, err)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}
