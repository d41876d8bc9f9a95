// Package sqlite is the embedded metadata store: SQLite through a pure-Go driver, encrypted
// at rest with the XTS VFS keyed by the instance secret, in WAL mode so CLI commands and a
// running server can write the same file.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/ncruces/go-sqlite3"
	"github.com/ncruces/go-sqlite3/driver"
	_ "github.com/ncruces/go-sqlite3/vfs/xts"

	"hearth/internal/store"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Store implements store.Meta.
type Store struct {
	db *sql.DB
}

var _ store.Meta = (*Store)(nil)

// Options configure Open.
type Options struct {
	// Path of the database file.
	Path string
	// Key is 64 bytes of key material for AES-256-XTS; nil opens the file unencrypted,
	// which only tests use to show what encryption hides.
	Key []byte
}

// Open opens (creating if needed) the metadata store and runs pending migrations.
func Open(ctx context.Context, opts Options) (*Store, error) {
	db, err := OpenRaw(opts)
	if err != nil {
		return nil, err
	}
	s := &Store{db: db}
	if err := s.migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	if err := os.Chmod(opts.Path, 0o600); err != nil {
		db.Close()
		return nil, fmt.Errorf("restrict metadata file: %w", err)
	}
	return s, nil
}

// OpenRaw opens the database file without migrations or the product's methods: a direct
// SQL connection with the instance key, for maintenance and for tests that must bypass the
// product (tampering with the audit trail to prove it is detected).
func OpenRaw(opts Options) (*sql.DB, error) {
	q := url.Values{}
	if opts.Key != nil {
		if len(opts.Key) != 64 {
			return nil, fmt.Errorf("metadata key must be 64 bytes, got %d", len(opts.Key))
		}
		q.Set("vfs", "xts")
	}
	// Order matters: busy timeout before the journal mode.
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "journal_mode(wal)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "synchronous(full)")
	q.Set("_txlock", "immediate")
	dsn := "file:" + (&url.URL{Path: opts.Path}).EscapedPath() + "?" + q.Encode()
	if opts.Key != nil {
		// The key goes in the VFS's own parameter and never into an error message.
		dsn = strings.Replace(dsn, "vfs=xts", "vfs=xts&hexkey="+hex.EncodeToString(opts.Key), 1)
	}
	db, err := driver.Open(dsn)
	if err != nil {
		return nil, fmt.Errorf("open metadata store: %w", scrub(err))
	}
	db.SetMaxOpenConns(4)
	return db, nil
}

// scrub removes anything that looks like key material from driver errors.
func scrub(err error) error {
	msg := err.Error()
	if i := strings.Index(msg, "hexkey="); i >= 0 {
		return errors.New(msg[:i] + "hexkey=***")
	}
	return err
}

func (s *Store) migrate(ctx context.Context) error {
	if _, err := s.db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied INTEGER NOT NULL)`); err != nil {
		return fmt.Errorf("open metadata store (wrong instance secret?): %w", scrub(err))
	}
	list, err := store.ReadMigrations(migrations, "migrations")
	if err != nil {
		return err
	}
	for _, m := range list {
		v := m.Version
		if err := s.apply(ctx, v, m.SQL); err != nil {
			return fmt.Errorf("metadata migration %d: %w", v, err)
		}
	}
	return nil
}

func (s *Store) apply(ctx context.Context, version int, body string) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations WHERE version = ?`, version).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return nil
	}
	if _, err := tx.ExecContext(ctx, body); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations(version, applied) VALUES (?, ?)`, version, time.Now().Unix()); err != nil {
		return err
	}
	return tx.Commit()
}

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

// Ping checks the database answers.
func (s *Store) Ping(ctx context.Context) error {
	var one int
	return s.db.QueryRowContext(ctx, `SELECT 1`).Scan(&one)
}

func jsonList(v []string) string {
	if v == nil {
		v = []string{}
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func parseList(s string) []string {
	var out []string
	_ = json.Unmarshal([]byte(s), &out)
	return out
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func unix(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.Unix()
}

func fromUnix(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(n, 0).UTC()
}

// scanner is what a scan function reads one row from: *sql.Row and *sql.Rows both are.
type scanner interface{ Scan(...any) error }

// querier runs a query returning rows: *sql.DB and *sql.Tx both do.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// queryRow runs a statement expected to match one row and reads it with scan; no row is
// store.ErrNotFound, named by what (e.g. "site 3"), and any other error is returned as it is.
func queryRow[T any](ctx context.Context, db *sql.DB, what string, scan func(scanner) (T, error), stmt string, args ...any) (T, error) {
	v, err := scan(db.QueryRowContext(ctx, stmt, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return v, fmt.Errorf("%s: %w", what, store.ErrNotFound)
	}
	return v, err
}

// query runs a statement and returns its rows, each read by scan, in order (nil for none).
// what names the operation in errors, e.g. "list goals".
func query[T any](ctx context.Context, q querier, what string, scan func(scanner) (T, error), stmt string, args ...any) ([]T, error) {
	var out []T
	err := queryEach(ctx, q, what, scan, func(v T) error {
		out = append(out, v)
		return nil
	}, stmt, args...)
	if err != nil {
		return nil, err
	}
	return out, nil
}

// queryEach runs a statement and calls fn with each row read by scan, in order, without
// holding them all: it stops at, and returns unwrapped, the first error fn returns.
func queryEach[T any](ctx context.Context, q querier, what string, scan func(scanner) (T, error), fn func(T) error, stmt string, args ...any) error {
	rows, err := q.QueryContext(ctx, stmt, args...)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	defer rows.Close()
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return fmt.Errorf("%s: scan: %w", what, err)
		}
		if err := fn(v); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

func isConstraint(err error) bool {
	var e *sqlite3.Error
	return errors.As(err, &e) && e.Code() == sqlite3.CONSTRAINT
}
