// Package sqlite is the embedded metadata store: SQLite through a pure-Go driver, encrypted
// at rest with the XTS VFS keyed by the instance secret, in WAL mode so CLI commands and a
// running server can write the same file.
package sqlite

import (
	"context"
	"crypto/rand"
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

	"hearth/internal/event"
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

const siteColumns = `id, name, urls, timezone, currency, ecommerce, sitesearch, search_keyword_params,
	search_category_params, excluded_ips, excluded_params, excluded_user_agents, excluded_referrers,
	keep_url_fragment, exclude_unknown_urls, type, site_group, start_date, geo_precision, created, creator_login, keep_emails`

// CreateSite stores a new site and returns its id.
func (s *Store) CreateSite(ctx context.Context, st store.Site) (event.SiteID, error) {
	res, err := s.db.ExecContext(ctx, `INSERT INTO sites (name, urls, timezone, currency, ecommerce, sitesearch,
		search_keyword_params, search_category_params, excluded_ips, excluded_params, excluded_user_agents,
		excluded_referrers, keep_url_fragment, exclude_unknown_urls, type, site_group, start_date, geo_precision,
		created, creator_login, keep_emails) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`,
		st.Name, jsonList(st.URLs), st.Timezone, st.Currency, b2i(st.Ecommerce), b2i(st.SiteSearch),
		jsonList(st.SearchKeywordParams), jsonList(st.SearchCategoryParams), jsonList(st.ExcludedIPs),
		jsonList(st.ExcludedQueryParams), jsonList(st.ExcludedUserAgents), jsonList(st.ExcludedReferrers),
		b2i(st.KeepURLFragment), b2i(st.ExcludeUnknownURLs), st.Type, st.Group, st.StartDate, st.GeoPrecision,
		unix(st.Created), st.CreatorLogin, b2i(st.KeepEmails))
	if err != nil {
		return 0, fmt.Errorf("create site: %w", err)
	}
	id, err := res.LastInsertId()
	return event.SiteID(id), err
}

// UpdateSite replaces a site's settings.
func (s *Store) UpdateSite(ctx context.Context, st store.Site) error {
	res, err := s.db.ExecContext(ctx, `UPDATE sites SET name=?, urls=?, timezone=?, currency=?, ecommerce=?,
		sitesearch=?, search_keyword_params=?, search_category_params=?, excluded_ips=?, excluded_params=?,
		excluded_user_agents=?, excluded_referrers=?, keep_url_fragment=?, exclude_unknown_urls=?, type=?,
		site_group=?, start_date=?, geo_precision=?, keep_emails=? WHERE id=?`,
		st.Name, jsonList(st.URLs), st.Timezone, st.Currency, b2i(st.Ecommerce), b2i(st.SiteSearch),
		jsonList(st.SearchKeywordParams), jsonList(st.SearchCategoryParams), jsonList(st.ExcludedIPs),
		jsonList(st.ExcludedQueryParams), jsonList(st.ExcludedUserAgents), jsonList(st.ExcludedReferrers),
		b2i(st.KeepURLFragment), b2i(st.ExcludeUnknownURLs), st.Type, st.Group, st.StartDate, st.GeoPrecision, b2i(st.KeepEmails), st.ID)
	if err != nil {
		return fmt.Errorf("update site %d: %w", st.ID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("update site %d: %w", st.ID, store.ErrNotFound)
	}
	return nil
}

type scanner interface{ Scan(...any) error }

func scanSite(r scanner) (store.Site, error) {
	var st store.Site
	var urls, kw, cat, ips, params, uas, refs string
	var ecom, search, keep, unknown, emails int
	var created int64
	err := r.Scan(&st.ID, &st.Name, &urls, &st.Timezone, &st.Currency, &ecom, &search, &kw, &cat, &ips, &params,
		&uas, &refs, &keep, &unknown, &st.Type, &st.Group, &st.StartDate, &st.GeoPrecision, &created, &st.CreatorLogin, &emails)
	if err != nil {
		return st, err
	}
	st.URLs, st.SearchKeywordParams, st.SearchCategoryParams = parseList(urls), parseList(kw), parseList(cat)
	st.ExcludedIPs, st.ExcludedQueryParams = parseList(ips), parseList(params)
	st.ExcludedUserAgents, st.ExcludedReferrers = parseList(uas), parseList(refs)
	st.Ecommerce, st.SiteSearch, st.KeepURLFragment, st.ExcludeUnknownURLs = ecom == 1, search == 1, keep == 1, unknown == 1
	st.KeepEmails = emails == 1
	st.Created = fromUnix(created)
	return st, nil
}

// Site returns one site.
func (s *Store) Site(ctx context.Context, id event.SiteID) (store.Site, error) {
	st, err := scanSite(s.db.QueryRowContext(ctx, `SELECT `+siteColumns+` FROM sites WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return st, fmt.Errorf("site %d: %w", id, store.ErrNotFound)
	}
	return st, err
}

// Sites returns every site ordered by id.
func (s *Store) Sites(ctx context.Context) ([]store.Site, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+siteColumns+` FROM sites ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("list sites: %w", err)
	}
	defer rows.Close()
	var out []store.Site
	for rows.Next() {
		st, err := scanSite(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, st)
	}
	return out, rows.Err()
}

// CreateUser stores a new user; ErrConflict when the login exists.
func (s *Store) CreateUser(ctx context.Context, u store.User) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO users (login, email, password_hash, superuser, disabled, created) VALUES (?,?,?,?,?,?)`,
		u.Login, u.Email, u.PasswordHash, b2i(u.Superuser), b2i(u.Disabled), unix(u.Created))
	if isConstraint(err) {
		return fmt.Errorf("user %q: %w", u.Login, store.ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("create user: %w", err)
	}
	return nil
}

func isConstraint(err error) bool {
	var e *sqlite3.Error
	return errors.As(err, &e) && e.Code() == sqlite3.CONSTRAINT
}

// User returns one user.
func (s *Store) User(ctx context.Context, login string) (store.User, error) {
	var u store.User
	var su, dis int
	var created int64
	err := s.db.QueryRowContext(ctx, `SELECT login, email, password_hash, superuser, disabled, created FROM users WHERE login = ?`, login).
		Scan(&u.Login, &u.Email, &u.PasswordHash, &su, &dis, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return u, fmt.Errorf("user: %w", store.ErrNotFound)
	}
	u.Superuser, u.Disabled, u.Created = su == 1, dis == 1, fromUnix(created)
	return u, err
}

// Users lists every user by login.
func (s *Store) Users(ctx context.Context) ([]store.User, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT login, email, password_hash, superuser, disabled, created FROM users ORDER BY login`)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	defer rows.Close()
	var out []store.User
	for rows.Next() {
		var u store.User
		var su, dis int
		var created int64
		if err := rows.Scan(&u.Login, &u.Email, &u.PasswordHash, &su, &dis, &created); err != nil {
			return nil, err
		}
		u.Superuser, u.Disabled, u.Created = su == 1, dis == 1, fromUnix(created)
		out = append(out, u)
	}
	return out, rows.Err()
}

// UpdateUser replaces a user's mutable fields in one transaction that also checks at least
// one enabled superuser remains.
func (s *Store) UpdateUser(ctx context.Context, u store.User) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `UPDATE users SET email = ?, password_hash = ?, superuser = ?, disabled = ? WHERE login = ?`,
		u.Email, u.PasswordHash, b2i(u.Superuser), b2i(u.Disabled), u.Login)
	if err != nil {
		return fmt.Errorf("update user: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("user: %w", store.ErrNotFound)
	}
	if err := keepsSuperuser(ctx, tx); err != nil {
		return err
	}
	return tx.Commit()
}

// keepsSuperuser refuses, inside a transaction, a change that left no enabled superuser.
func keepsSuperuser(ctx context.Context, tx *sql.Tx) error {
	var supers int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM users WHERE superuser = 1 AND disabled = 0`).Scan(&supers); err != nil {
		return err
	}
	if supers == 0 {
		return store.ErrLastSuperuser
	}
	return nil
}

// CountSuperusers counts enabled superusers.
func (s *Store) CountSuperusers(ctx context.Context) (int, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM users WHERE superuser = 1 AND disabled = 0`).Scan(&n)
	return n, err
}

// CreateToken stores a token and returns its id.
func (s *Store) CreateToken(ctx context.Context, t store.Token) (int64, error) {
	res, err := s.db.ExecContext(ctx, `INSERT INTO tokens (login, hash, description, created, last_used, expires, read_only, post_only) VALUES (?,?,?,?,?,?,?,?)`,
		t.Login, t.Hash, t.Description, unix(t.Created), unix(t.LastUsed), unix(t.Expires), b2i(t.ReadOnly), b2i(t.PostOnly))
	if err != nil {
		return 0, fmt.Errorf("create token: %w", err)
	}
	return res.LastInsertId()
}

// TokenByHash finds a token by its keyed hash.
func (s *Store) TokenByHash(ctx context.Context, hash []byte) (store.Token, error) {
	var t store.Token
	var created, used, expires int64
	var ro, po int
	err := s.db.QueryRowContext(ctx, `SELECT id, login, hash, description, created, last_used, expires, read_only, post_only FROM tokens WHERE hash = ?`, hash).
		Scan(&t.ID, &t.Login, &t.Hash, &t.Description, &created, &used, &expires, &ro, &po)
	if errors.Is(err, sql.ErrNoRows) {
		return t, fmt.Errorf("token: %w", store.ErrNotFound)
	}
	t.Created, t.LastUsed, t.Expires = fromUnix(created), fromUnix(used), fromUnix(expires)
	t.ReadOnly, t.PostOnly = ro == 1, po == 1
	return t, err
}

// TouchToken records a token's last use.
func (s *Store) TouchToken(ctx context.Context, id int64, at time.Time) error {
	_, err := s.db.ExecContext(ctx, `UPDATE tokens SET last_used = ? WHERE id = ? AND last_used < ?`, at.Unix(), id, at.Unix())
	return err
}

// TokenSeenFrom records a token's client address; true the first time.
func (s *Store) TokenSeenFrom(ctx context.Context, id int64, ipHash []byte, at time.Time) (bool, error) {
	res, err := s.db.ExecContext(ctx, `INSERT OR IGNORE INTO token_addresses (token_id, ip_hash, first_seen) VALUES (?, ?, ?)`, id, ipHash, at.Unix())
	if err != nil {
		return false, fmt.Errorf("record token address: %w", err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// Tokens lists tokens of one user, or of all users when login is empty.
func (s *Store) Tokens(ctx context.Context, login string) ([]store.Token, error) {
	q := `SELECT id, login, hash, description, created, last_used, expires, read_only, post_only FROM tokens`
	var args []any
	if login != "" {
		q += ` WHERE login = ?`
		args = append(args, login)
	}
	rows, err := s.db.QueryContext(ctx, q+` ORDER BY id`, args...)
	if err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	defer rows.Close()
	var out []store.Token
	for rows.Next() {
		var t store.Token
		var created, used, expires int64
		var ro, po int
		if err := rows.Scan(&t.ID, &t.Login, &t.Hash, &t.Description, &created, &used, &expires, &ro, &po); err != nil {
			return nil, err
		}
		t.Created, t.LastUsed, t.Expires = fromUnix(created), fromUnix(used), fromUnix(expires)
		t.ReadOnly, t.PostOnly = ro == 1, po == 1
		out = append(out, t)
	}
	return out, rows.Err()
}

// DeleteToken revokes a token.
func (s *Store) DeleteToken(ctx context.Context, id int64) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM tokens WHERE id = ?`, id)
	if err != nil {
		return fmt.Errorf("revoke token: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("token %d: %w", id, store.ErrNotFound)
	}
	return nil
}

// Salt returns the salt of a site's day, creating a random one on first use.
func (s *Store) Salt(ctx context.Context, site event.SiteID, day string, now time.Time) ([]byte, error) {
	fresh := make([]byte, 32)
	if _, err := rand.Read(fresh); err != nil {
		return nil, err
	}
	if _, err := s.db.ExecContext(ctx, `INSERT OR IGNORE INTO salts (site_id, day, salt, created) VALUES (?,?,?,?)`, site, day, fresh, now.Unix()); err != nil {
		return nil, fmt.Errorf("create salt: %w", err)
	}
	var salt []byte
	if err := s.db.QueryRowContext(ctx, `SELECT salt FROM salts WHERE site_id = ? AND day = ?`, site, day).Scan(&salt); err != nil {
		return nil, fmt.Errorf("read salt: %w", err)
	}
	return salt, nil
}

// PurgeSalts deletes salts created before cutoff.
func (s *Store) PurgeSalts(ctx context.Context, cutoff time.Time) (int, error) {
	res, err := s.db.ExecContext(ctx, `DELETE FROM salts WHERE created < ?`, cutoff.Unix())
	if err != nil {
		return 0, fmt.Errorf("purge salts: %w", err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

// Setting reads a setting; ErrNotFound when unset.
func (s *Store) Setting(ctx context.Context, key string) (string, error) {
	var v string
	err := s.db.QueryRowContext(ctx, `SELECT value FROM settings WHERE key = ?`, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("setting %s: %w", key, store.ErrNotFound)
	}
	return v, err
}

// SetSetting writes a setting.
func (s *Store) SetSetting(ctx context.Context, key, value string) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value`, key, value)
	return err
}

// DeleteSetting removes a setting.
func (s *Store) DeleteSetting(ctx context.Context, key string) error {
	_, err := s.db.ExecContext(ctx, `DELETE FROM settings WHERE key = ?`, key)
	return err
}

// AppendAudit inserts the next audit entry inside one write transaction, so CLI commands and
// a running server never fork the chain.
func (s *Store) AppendAudit(ctx context.Context, build func(prevSeq int64, prevHash []byte) (store.AuditEntry, error)) (store.AuditEntry, error) {
	tx, err := s.db.BeginTx(ctx, nil) // _txlock=immediate: the write lock is taken here
	if err != nil {
		return store.AuditEntry{}, fmt.Errorf("begin audit append: %w", err)
	}
	defer tx.Rollback()
	var prevSeq int64
	var prevHash []byte
	err = tx.QueryRowContext(ctx, `SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1`).Scan(&prevSeq, &prevHash)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return store.AuditEntry{}, fmt.Errorf("read audit head: %w", err)
	}
	e, err := build(prevSeq, prevHash)
	if err != nil {
		return store.AuditEntry{}, err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO audit_log (seq, time, actor, actor_ip, action, target, outcome, details, prev_hash, hash)
		VALUES (?,?,?,?,?,?,?,?,?,?)`, e.Seq, e.Time.UnixMicro(), e.Actor, e.ActorIP, e.Action, e.Target, e.Outcome, e.Details, e.PrevHash, e.Hash)
	if err != nil {
		return store.AuditEntry{}, fmt.Errorf("append audit entry: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return store.AuditEntry{}, fmt.Errorf("commit audit entry: %w", err)
	}
	return e, nil
}

// AuditEntries streams audit entries in sequence order.
func (s *Store) AuditEntries(ctx context.Context, from, to time.Time, fn func(store.AuditEntry) error) error {
	q := `SELECT seq, time, actor, actor_ip, action, target, outcome, details, prev_hash, hash FROM audit_log WHERE 1=1`
	var args []any
	if !from.IsZero() {
		q += ` AND time >= ?`
		args = append(args, from.UnixMicro())
	}
	if !to.IsZero() {
		q += ` AND time < ?`
		args = append(args, to.UnixMicro())
	}
	rows, err := s.db.QueryContext(ctx, q+` ORDER BY seq`, args...)
	if err != nil {
		return fmt.Errorf("read audit trail: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var e store.AuditEntry
		var t int64
		if err := rows.Scan(&e.Seq, &t, &e.Actor, &e.ActorIP, &e.Action, &e.Target, &e.Outcome, &e.Details, &e.PrevHash, &e.Hash); err != nil {
			return fmt.Errorf("scan audit entry: %w", err)
		}
		e.Time = time.UnixMicro(t).UTC()
		if err := fn(e); err != nil {
			return err
		}
	}
	return rows.Err()
}

// DeleteAuditThrough removes the oldest audit entries, through seq.
func (s *Store) DeleteAuditThrough(ctx context.Context, seq int64) (int, error) {
	res, err := s.db.ExecContext(ctx, `DELETE FROM audit_log WHERE seq <= ?`, seq)
	if err != nil {
		return 0, fmt.Errorf("delete old audit entries: %w", err)
	}
	n, err := res.RowsAffected()
	return int(n), err
}

// RecordAuthFailure stores a failed authentication attempt.
func (s *Store) RecordAuthFailure(ctx context.Context, at time.Time, ipHash []byte, login string) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO auth_failures (at, ip_hash, login) VALUES (?, ?, ?)`, at.Unix(), ipHash, login)
	if err != nil {
		return fmt.Errorf("record auth failure: %w", err)
	}
	return nil
}

// AuthFailures counts recent failures of a client and of a login.
func (s *Store) AuthFailures(ctx context.Context, since time.Time, ipHash []byte, login string) (int, int, error) {
	var byIP, byLogin int
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM auth_failures WHERE ip_hash = ? AND at >= ?`, ipHash, since.Unix()).Scan(&byIP); err != nil {
		return 0, 0, fmt.Errorf("count auth failures: %w", err)
	}
	if login != "" {
		if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM auth_failures WHERE login = ? AND at >= ?`, login, since.Unix()).Scan(&byLogin); err != nil {
			return 0, 0, fmt.Errorf("count auth failures: %w", err)
		}
	}
	return byIP, byLogin, nil
}

// ClearAuthFailures deletes a login's failures and/or a client's.
func (s *Store) ClearAuthFailures(ctx context.Context, login string, ipHash []byte) (int, error) {
	var n int64
	if login != "" {
		res, err := s.db.ExecContext(ctx, `DELETE FROM auth_failures WHERE login = ?`, login)
		if err != nil {
			return 0, fmt.Errorf("clear auth failures: %w", err)
		}
		c, _ := res.RowsAffected()
		n += c
	}
	if len(ipHash) > 0 {
		res, err := s.db.ExecContext(ctx, `DELETE FROM auth_failures WHERE ip_hash = ?`, ipHash)
		if err != nil {
			return 0, fmt.Errorf("clear auth failures: %w", err)
		}
		c, _ := res.RowsAffected()
		n += c
	}
	return int(n), nil
}

// PurgeAuthFailures deletes failures older than cutoff.
func (s *Store) PurgeAuthFailures(ctx context.Context, cutoff time.Time) error {
	_, err := s.db.ExecContext(ctx, `DELETE FROM auth_failures WHERE at < ?`, cutoff.Unix())
	return err
}

// DeleteUser removes a user, their grants and tokens, keeping one enabled superuser.
func (s *Store) DeleteUser(ctx context.Context, login string) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for _, q := range []string{`DELETE FROM access WHERE login = ?`, `DELETE FROM capabilities WHERE login = ?`, `DELETE FROM tokens WHERE login = ?`} {
		if _, err := tx.ExecContext(ctx, q, login); err != nil {
			return fmt.Errorf("delete user: %w", err)
		}
	}
	res, err := tx.ExecContext(ctx, `DELETE FROM users WHERE login = ?`, login)
	if err != nil {
		return fmt.Errorf("delete user: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("user: %w", store.ErrNotFound)
	}
	if err := keepsSuperuser(ctx, tx); err != nil {
		return err
	}
	return tx.Commit()
}

// SetRole replaces a user's role on a site (an empty role removes it).
func (s *Store) SetRole(ctx context.Context, g store.Grant) error {
	if g.Name == "" {
		_, err := s.db.ExecContext(ctx, `DELETE FROM access WHERE login = ? AND site_id = ?`, g.Login, g.SiteID)
		return err
	}
	_, err := s.db.ExecContext(ctx, `INSERT INTO access (login, site_id, role, expires, granted_by, created) VALUES (?,?,?,?,?,?)
		ON CONFLICT(login, site_id) DO UPDATE SET role = excluded.role, expires = excluded.expires, granted_by = excluded.granted_by, created = excluded.created`,
		g.Login, g.SiteID, g.Name, unix(g.Expires), g.GrantedBy, unix(g.Created))
	if isConstraint(err) {
		return fmt.Errorf("user %q: %w", g.Login, store.ErrNotFound)
	}
	return err
}

// AddCapability grants a capability on a site.
func (s *Store) AddCapability(ctx context.Context, g store.Grant) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO capabilities (login, site_id, capability, expires, granted_by, created) VALUES (?,?,?,?,?,?)
		ON CONFLICT(login, site_id, capability) DO UPDATE SET expires = excluded.expires, granted_by = excluded.granted_by, created = excluded.created`,
		g.Login, g.SiteID, g.Name, unix(g.Expires), g.GrantedBy, unix(g.Created))
	if isConstraint(err) {
		return fmt.Errorf("user %q: %w", g.Login, store.ErrNotFound)
	}
	return err
}

// RemoveCapability withdraws a capability.
func (s *Store) RemoveCapability(ctx context.Context, login string, site event.SiteID, capability string) error {
	_, err := s.db.ExecContext(ctx, `DELETE FROM capabilities WHERE login = ? AND site_id = ? AND capability = ?`, login, site, capability)
	return err
}

// scanGrants reads rows of (login, site_id, name, expires, granted_by, created) and closes them.
func scanGrants(rows *sql.Rows) ([]store.Grant, error) {
	defer rows.Close()
	var out []store.Grant
	for rows.Next() {
		var g store.Grant
		var expires, created int64
		if err := rows.Scan(&g.Login, &g.SiteID, &g.Name, &expires, &g.GrantedBy, &created); err != nil {
			return nil, err
		}
		g.Expires, g.Created = fromUnix(expires), fromUnix(created)
		out = append(out, g)
	}
	return out, rows.Err()
}

// Grants lists roles and capabilities.
func (s *Store) Grants(ctx context.Context, login string) ([]store.Grant, []store.Grant, error) {
	read := func(q string) ([]store.Grant, error) {
		var args []any
		if login != "" {
			q += ` WHERE login = ?`
			args = append(args, login)
		}
		rows, err := s.db.QueryContext(ctx, q+` ORDER BY login, site_id`, args...)
		if err != nil {
			return nil, fmt.Errorf("list grants: %w", err)
		}
		return scanGrants(rows)
	}
	roles, err := read(`SELECT login, site_id, role, expires, granted_by, created FROM access`)
	if err != nil {
		return nil, nil, err
	}
	caps, err := read(`SELECT login, site_id, capability, expires, granted_by, created FROM capabilities`)
	return roles, caps, err
}

// DeleteExpiredGrants removes lapsed grants and returns them.
func (s *Store) DeleteExpiredGrants(ctx context.Context, now time.Time) ([]store.Grant, []store.Grant, error) {
	del := func(table, name string) ([]store.Grant, error) {
		// #nosec G202 -- table and column names are the two constants below.
		rows, err := s.db.QueryContext(ctx, `DELETE FROM `+table+` WHERE expires > 0 AND expires <= ?
			RETURNING login, site_id, `+name+`, expires, granted_by, created`, now.Unix())
		if err != nil {
			return nil, fmt.Errorf("expire grants: %w", err)
		}
		return scanGrants(rows)
	}
	roles, err := del("access", "role")
	if err != nil {
		return nil, nil, err
	}
	caps, err := del("capabilities", "capability")
	return roles, caps, err
}

// CreateSession stores a new session.
func (s *Store) CreateSession(ctx context.Context, ses store.Session) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO sessions (id_hash, login, created, last_seen) VALUES (?, ?, ?, ?)`,
		ses.IDHash, ses.Login, ses.Created.Unix(), ses.LastSeen.Unix())
	if err != nil {
		return fmt.Errorf("create session: %w", err)
	}
	return nil
}

// Session finds a session by the hash of its cookie.
func (s *Store) Session(ctx context.Context, idHash []byte) (store.Session, error) {
	var ses store.Session
	var created, seen int64
	err := s.db.QueryRowContext(ctx, `SELECT id_hash, login, created, last_seen FROM sessions WHERE id_hash = ?`, idHash).
		Scan(&ses.IDHash, &ses.Login, &created, &seen)
	if errors.Is(err, sql.ErrNoRows) {
		return ses, fmt.Errorf("session: %w", store.ErrNotFound)
	}
	ses.Created, ses.LastSeen = fromUnix(created), fromUnix(seen)
	return ses, err
}

// TouchSession records activity on a session.
func (s *Store) TouchSession(ctx context.Context, idHash []byte, at time.Time) error {
	_, err := s.db.ExecContext(ctx, `UPDATE sessions SET last_seen = ? WHERE id_hash = ?`, at.Unix(), idHash)
	return err
}

// DeleteSession ends one session.
func (s *Store) DeleteSession(ctx context.Context, idHash []byte) error {
	_, err := s.db.ExecContext(ctx, `DELETE FROM sessions WHERE id_hash = ?`, idHash)
	return err
}

// DeleteSessions ends every session of a login.
func (s *Store) DeleteSessions(ctx context.Context, login string) (int, error) {
	res, err := s.db.ExecContext(ctx, `DELETE FROM sessions WHERE login = ?`, login)
	if err != nil {
		return 0, fmt.Errorf("end sessions: %w", err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

// PurgeSessions deletes sessions last seen before cutoff.
func (s *Store) PurgeSessions(ctx context.Context, cutoff time.Time) error {
	_, err := s.db.ExecContext(ctx, `DELETE FROM sessions WHERE last_seen < ?`, cutoff.Unix())
	return err
}

// SetTOTP stores a user's TOTP setup.
func (s *Store) SetTOTP(ctx context.Context, t store.TOTP) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO totp (login, secret_enc, enabled, last_step, created) VALUES (?,?,?,?,?)
		ON CONFLICT(login) DO UPDATE SET secret_enc = excluded.secret_enc, enabled = excluded.enabled, last_step = excluded.last_step, created = excluded.created`,
		t.Login, t.SecretEnc, b2i(t.Enabled), t.LastStep, unix(t.Created))
	if isConstraint(err) {
		return fmt.Errorf("user %q: %w", t.Login, store.ErrNotFound)
	}
	return err
}

// TOTP reads a user's TOTP setup.
func (s *Store) TOTP(ctx context.Context, login string) (store.TOTP, error) {
	var t store.TOTP
	var enabled int
	var created int64
	err := s.db.QueryRowContext(ctx, `SELECT login, secret_enc, enabled, last_step, created FROM totp WHERE login = ?`, login).
		Scan(&t.Login, &t.SecretEnc, &enabled, &t.LastStep, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return t, fmt.Errorf("totp: %w", store.ErrNotFound)
	}
	t.Enabled, t.Created = enabled == 1, fromUnix(created)
	return t, err
}

// DeleteTOTP removes a user's TOTP setup.
func (s *Store) DeleteTOTP(ctx context.Context, login string) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM totp WHERE login = ?`, login); err != nil {
		return fmt.Errorf("remove totp: %w", err)
	}
	return nil
}

// DeleteSecondFactors removes a user's TOTP setup, passkeys and recovery codes together.
func (s *Store) DeleteSecondFactors(ctx context.Context, login string) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for _, q := range []string{`DELETE FROM totp WHERE login = ?`, `DELETE FROM passkeys WHERE login = ?`, `DELETE FROM recovery_codes WHERE login = ?`} {
		if _, err := tx.ExecContext(ctx, q, login); err != nil {
			return fmt.Errorf("remove second factors: %w", err)
		}
	}
	return tx.Commit()
}

// AddPasskey stores a new passkey.
func (s *Store) AddPasskey(ctx context.Context, p store.Passkey) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO passkeys (id, login, name, rp_id, credential, created, last_used) VALUES (?,?,?,?,?,?,?)`,
		p.ID, p.Login, p.Name, p.RPID, p.Credential, unix(p.Created), unix(p.LastUsed))
	if isConstraint(err) {
		if _, uerr := s.User(ctx, p.Login); uerr != nil {
			return uerr
		}
		return fmt.Errorf("passkey: %w", store.ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("add passkey: %w", err)
	}
	return nil
}

// Passkeys lists a user's passkeys.
func (s *Store) Passkeys(ctx context.Context, login string) ([]store.Passkey, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, login, name, rp_id, credential, created, last_used FROM passkeys WHERE login = ? ORDER BY created, id`, login)
	if err != nil {
		return nil, fmt.Errorf("list passkeys: %w", err)
	}
	defer rows.Close()
	var out []store.Passkey
	for rows.Next() {
		var p store.Passkey
		var created, used int64
		if err := rows.Scan(&p.ID, &p.Login, &p.Name, &p.RPID, &p.Credential, &created, &used); err != nil {
			return nil, fmt.Errorf("scan passkey: %w", err)
		}
		p.Created, p.LastUsed = fromUnix(created), fromUnix(used)
		out = append(out, p)
	}
	return out, rows.Err()
}

// UpdatePasskey records a passkey's new state after a sign-in.
func (s *Store) UpdatePasskey(ctx context.Context, p store.Passkey) error {
	res, err := s.db.ExecContext(ctx, `UPDATE passkeys SET credential = ?, last_used = ? WHERE login = ? AND id = ?`, p.Credential, unix(p.LastUsed), p.Login, p.ID)
	if err != nil {
		return fmt.Errorf("update passkey: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("passkey: %w", store.ErrNotFound)
	}
	return nil
}

// DeletePasskey removes one passkey of a user.
func (s *Store) DeletePasskey(ctx context.Context, login string, id []byte) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM passkeys WHERE login = ? AND id = ?`, login, id)
	if err != nil {
		return fmt.Errorf("remove passkey: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("passkey: %w", store.ErrNotFound)
	}
	return nil
}

// HasRecoveryCodes reports whether unused recovery codes remain.
func (s *Store) HasRecoveryCodes(ctx context.Context, login string) (bool, error) {
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM recovery_codes WHERE login = ? AND used = 0`, login).Scan(&n); err != nil {
		return false, fmt.Errorf("count recovery codes: %w", err)
	}
	return n > 0, nil
}

// UseTOTPStep advances the last accepted step, refusing replays.
func (s *Store) UseTOTPStep(ctx context.Context, login string, step int64) (bool, error) {
	res, err := s.db.ExecContext(ctx, `UPDATE totp SET last_step = ? WHERE login = ? AND last_step < ?`, step, login, step)
	if err != nil {
		return false, fmt.Errorf("use totp step: %w", err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// SetRecoveryCodes replaces a user's recovery codes.
func (s *Store) SetRecoveryCodes(ctx context.Context, login string, hashes [][]byte) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `DELETE FROM recovery_codes WHERE login = ?`, login); err != nil {
		return err
	}
	for _, h := range hashes {
		if _, err := tx.ExecContext(ctx, `INSERT INTO recovery_codes (login, code_hash) VALUES (?, ?)`, login, h); err != nil {
			return fmt.Errorf("store recovery code: %w", err)
		}
	}
	return tx.Commit()
}

// UseRecoveryCode spends a recovery code.
func (s *Store) UseRecoveryCode(ctx context.Context, login string, hash []byte) (bool, error) {
	res, err := s.db.ExecContext(ctx, `UPDATE recovery_codes SET used = 1 WHERE login = ? AND code_hash = ? AND used = 0`, login, hash)
	if err != nil {
		return false, fmt.Errorf("use recovery code: %w", err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// CreateSegment stores a named segment.
func (s *Store) CreateSegment(ctx context.Context, seg store.Segment) (int64, error) {
	res, err := s.db.ExecContext(ctx, `INSERT INTO segments (login, name, definition, site_id, all_users, auto_archive, created, updated)
		VALUES (?,?,?,?,?,?,?,?)`, seg.Login, seg.Name, seg.Definition, int64(seg.SiteID), b2i(seg.AllUsers), b2i(seg.AutoArchive),
		unix(seg.Created), unix(seg.Updated))
	if err != nil {
		return 0, fmt.Errorf("store segment: %w", err)
	}
	return res.LastInsertId()
}

// UpdateSegment replaces a segment's name, definition, site and sharing.
func (s *Store) UpdateSegment(ctx context.Context, seg store.Segment) error {
	res, err := s.db.ExecContext(ctx, `UPDATE segments SET name = ?, definition = ?, site_id = ?, all_users = ?, auto_archive = ?, updated = ?
		WHERE id = ?`, seg.Name, seg.Definition, int64(seg.SiteID), b2i(seg.AllUsers), b2i(seg.AutoArchive), unix(seg.Updated), seg.ID)
	if err != nil {
		return fmt.Errorf("update segment: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("segment %d: %w", seg.ID, store.ErrNotFound)
	}
	return nil
}

const segmentColumns = `id, login, name, definition, site_id, all_users, auto_archive, created, updated`

func scanSegment(r scanner) (store.Segment, error) {
	var seg store.Segment
	var site int64
	var all, auto int
	var created, updated int64
	err := r.Scan(&seg.ID, &seg.Login, &seg.Name, &seg.Definition, &site, &all, &auto, &created, &updated)
	seg.SiteID, seg.AllUsers, seg.AutoArchive = event.SiteID(site), all == 1, auto == 1
	seg.Created, seg.Updated = fromUnix(created), fromUnix(updated)
	return seg, err
}

// Segment reads one segment.
func (s *Store) Segment(ctx context.Context, id int64) (store.Segment, error) {
	seg, err := scanSegment(s.db.QueryRowContext(ctx, `SELECT `+segmentColumns+` FROM segments WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return seg, fmt.Errorf("segment %d: %w", id, store.ErrNotFound)
	}
	return seg, err
}

// Segments lists every segment.
func (s *Store) Segments(ctx context.Context) ([]store.Segment, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+segmentColumns+` FROM segments ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("list segments: %w", err)
	}
	defer rows.Close()
	var out []store.Segment
	for rows.Next() {
		seg, err := scanSegment(rows)
		if err != nil {
			return nil, fmt.Errorf("scan segment: %w", err)
		}
		out = append(out, seg)
	}
	return out, rows.Err()
}

// DeleteSegment removes a segment.
func (s *Store) DeleteSegment(ctx context.Context, id int64) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM segments WHERE id = ?`, id)
	if err != nil {
		return fmt.Errorf("delete segment: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("segment %d: %w", id, store.ErrNotFound)
	}
	return nil
}

// CreateCustomDimension stores a custom dimension with the next index of its scope.
func (s *Store) CreateCustomDimension(ctx context.Context, d store.CustomDimension) (store.CustomDimension, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return d, err
	}
	defer tx.Rollback()
	if err := tx.QueryRowContext(ctx, `SELECT count(*) + 1 FROM custom_dimensions WHERE site_id = ? AND scope = ?`, int64(d.SiteID), d.Scope).Scan(&d.Index); err != nil {
		return d, fmt.Errorf("number custom dimension: %w", err)
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO custom_dimensions (site_id, name, scope, idx, active, case_sensitive, created) VALUES (?,?,?,?,?,?,?)`,
		int64(d.SiteID), d.Name, d.Scope, d.Index, b2i(d.Active), b2i(d.CaseSensitive), unix(d.Created))
	if err != nil {
		return d, fmt.Errorf("store custom dimension: %w", err)
	}
	if d.ID, err = res.LastInsertId(); err != nil {
		return d, err
	}
	return d, tx.Commit()
}

// UpdateCustomDimension replaces a dimension's name and flags.
func (s *Store) UpdateCustomDimension(ctx context.Context, d store.CustomDimension) error {
	res, err := s.db.ExecContext(ctx, `UPDATE custom_dimensions SET name = ?, active = ?, case_sensitive = ? WHERE id = ? AND site_id = ?`,
		d.Name, b2i(d.Active), b2i(d.CaseSensitive), d.ID, int64(d.SiteID))
	if err != nil {
		return fmt.Errorf("update custom dimension: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("custom dimension %d: %w", d.ID, store.ErrNotFound)
	}
	return nil
}

// CustomDimensions lists a site's custom dimensions.
func (s *Store) CustomDimensions(ctx context.Context, site event.SiteID) ([]store.CustomDimension, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, site_id, name, scope, idx, active, case_sensitive, created FROM custom_dimensions WHERE site_id = ? ORDER BY id`, int64(site))
	if err != nil {
		return nil, fmt.Errorf("list custom dimensions: %w", err)
	}
	defer rows.Close()
	var out []store.CustomDimension
	for rows.Next() {
		var d store.CustomDimension
		var siteID, created int64
		var active, cs int
		if err := rows.Scan(&d.ID, &siteID, &d.Name, &d.Scope, &d.Index, &active, &cs, &created); err != nil {
			return nil, fmt.Errorf("scan custom dimension: %w", err)
		}
		d.SiteID, d.Active, d.CaseSensitive, d.Created = event.SiteID(siteID), active == 1, cs == 1, fromUnix(created)
		out = append(out, d)
	}
	return out, rows.Err()
}

// CreateGoal stores a goal with the next id of its site (deleted goals keep theirs).
func (s *Store) CreateGoal(ctx context.Context, g store.Goal) (store.Goal, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return g, err
	}
	defer tx.Rollback()
	if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(id), 0) + 1 FROM goals WHERE site_id = ?`, int64(g.SiteID)).Scan(&g.ID); err != nil {
		return g, fmt.Errorf("number goal: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO goals (site_id, id, name, description, match_attribute, pattern, pattern_type,
		case_sensitive, allow_multiple, revenue, event_value_as_revenue, created) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)`,
		int64(g.SiteID), g.ID, g.Name, g.Description, g.MatchAttribute, g.Pattern, g.PatternType,
		b2i(g.CaseSensitive), b2i(g.AllowMultiple), g.Revenue, b2i(g.EventValueAsRevenue), unix(g.Created)); err != nil {
		return g, fmt.Errorf("store goal: %w", err)
	}
	return g, tx.Commit()
}

// UpdateGoal replaces the definition of a goal that is not deleted.
func (s *Store) UpdateGoal(ctx context.Context, g store.Goal) error {
	res, err := s.db.ExecContext(ctx, `UPDATE goals SET name = ?, description = ?, match_attribute = ?, pattern = ?, pattern_type = ?,
		case_sensitive = ?, allow_multiple = ?, revenue = ?, event_value_as_revenue = ? WHERE site_id = ? AND id = ? AND deleted = 0`,
		g.Name, g.Description, g.MatchAttribute, g.Pattern, g.PatternType, b2i(g.CaseSensitive), b2i(g.AllowMultiple),
		g.Revenue, b2i(g.EventValueAsRevenue), int64(g.SiteID), g.ID)
	if err != nil {
		return fmt.Errorf("update goal: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("goal %d: %w", g.ID, store.ErrNotFound)
	}
	return nil
}

// DeleteGoal marks a goal deleted.
func (s *Store) DeleteGoal(ctx context.Context, site event.SiteID, id int32) error {
	res, err := s.db.ExecContext(ctx, `UPDATE goals SET deleted = 1 WHERE site_id = ? AND id = ? AND deleted = 0`, int64(site), id)
	if err != nil {
		return fmt.Errorf("delete goal: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("goal %d: %w", id, store.ErrNotFound)
	}
	return nil
}

// Goals lists a site's goals that are not deleted.
func (s *Store) Goals(ctx context.Context, site event.SiteID) ([]store.Goal, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT site_id, id, name, description, match_attribute, pattern, pattern_type,
		case_sensitive, allow_multiple, revenue, event_value_as_revenue, created FROM goals WHERE site_id = ? AND deleted = 0 ORDER BY id`, int64(site))
	if err != nil {
		return nil, fmt.Errorf("list goals: %w", err)
	}
	defer rows.Close()
	var out []store.Goal
	for rows.Next() {
		var g store.Goal
		var siteID, created int64
		var cs, multi, evRev int
		if err := rows.Scan(&siteID, &g.ID, &g.Name, &g.Description, &g.MatchAttribute, &g.Pattern, &g.PatternType,
			&cs, &multi, &g.Revenue, &evRev, &created); err != nil {
			return nil, fmt.Errorf("scan goal: %w", err)
		}
		g.SiteID, g.CaseSensitive, g.AllowMultiple, g.EventValueAsRevenue, g.Created = event.SiteID(siteID), cs == 1, multi == 1, evRev == 1, fromUnix(created)
		out = append(out, g)
	}
	return out, rows.Err()
}
