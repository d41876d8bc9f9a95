// Package duckdb is the embedded event store: visits and actions in DuckDB, written in
// batches through appenders and queried with plain SQL. External file access, extension
// loading and configuration changes are locked off when the database opens.
package duckdb

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"database/sql/driver"
	"embed"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"slices"
	"sort"
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

// AppliedSeq is the spool sequence number of the last applied batch.
func (s *Store) AppliedSeq(ctx context.Context) (uint64, error) {
	var n uint64
	err := s.db.QueryRowContext(ctx, `SELECT applied_seq FROM ingest_state WHERE id = 1`).Scan(&n)
	return n, err
}

// Apply writes a batch atomically together with its sequence number. Rows are appended
// straight into their tables inside one transaction on the writer connection: staging them
// first and copying them over cost as much again, wide visit rows most of all. Only what a
// statement must read lives in temporary tables: the keys of the visits the batch replaces,
// their visitors' summaries and new dictionary strings.
func (s *Store) Apply(ctx context.Context, b store.Batch) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.writer == nil {
		return errors.New("event store closed")
	}
	dict := map[int64]string{}
	err := s.writer.Raw(func(dc any) error {
		conn, ok := dc.(interface {
			driver.Conn
			driver.ConnBeginTx
			driver.ExecerContext
		})
		if !ok {
			return errors.New("event store driver cannot run a transaction of appends")
		}
		tx, err := conn.BeginTx(ctx, driver.TxOptions{})
		if err != nil {
			return fmt.Errorf("begin batch: %w", err)
		}
		if err := s.applyIn(ctx, conn, b, dict); err != nil {
			_ = tx.Rollback()
			return err
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("commit batch %d: %w", b.Seq, err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	for id := range dict {
		s.known.add(id)
	}
	return nil
}

type applyConn interface {
	driver.Conn
	driver.ExecerContext
}

// applyIn writes the batch on conn inside the caller's transaction and empties the stage
// tables it used.
func (s *Store) applyIn(ctx context.Context, conn applyConn, b store.Batch, dict map[int64]string) error {
	exec := func(what, q string, args ...any) error {
		named := make([]driver.NamedValue, len(args))
		for i, a := range args {
			named[i] = driver.NamedValue{Ordinal: i + 1, Value: a}
		}
		if _, err := conn.ExecContext(ctx, q, named); err != nil {
			return fmt.Errorf("apply batch %d: %s: %w", b.Seq, what, err)
		}
		return nil
	}
	addDict := func(v string) int64 {
		id := StringID(v)
		if id != 0 && !s.known.has(id) {
			dict[id] = v
		}
		return id
	}
	if len(b.Visits) > 0 {
		if err := s.replaceVisits(conn, b, exec, addDict); err != nil {
			return err
		}
	}
	if len(b.Actions) > 0 {
		if err := appendActions(conn, b.Actions, addDict); err != nil {
			return err
		}
	}
	if len(dict) > 0 {
		err := appendRows(conn, "dict_stage", "dictionary", func(ap *duck.Appender) error {
			for id, v := range dict {
				if err := ap.AppendRow(id, v); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		if err := exec("dictionary", `INSERT OR IGNORE INTO dict SELECT id, value FROM dict_stage`); err != nil {
			return err
		}
	}
	if len(b.Bots) > 0 {
		type key struct {
			site event.SiteID
			day  string
			name string
		}
		counts := map[key]int64{}
		for _, h := range b.Bots {
			counts[key{h.SiteID, h.Time.UTC().Format("2006-01-02"), h.Name}]++
		}
		for k, n := range counts {
			if err := exec("bot counts", `INSERT INTO bot_hits VALUES (?, CAST(? AS DATE), ?, ?)`, int64(k.site), k.day, k.name, n); err != nil {
				return err
			}
		}
	}
	if err := exec("sequence", `UPDATE ingest_state SET applied_seq = ? WHERE id = 1 AND applied_seq < ?`, b.Seq, b.Seq); err != nil {
		return err
	}
	for _, t := range []string{"visit_keys_stage", "visitors_stage", "dict_stage"} {
		if err := exec("clear stage", `DELETE FROM `+t); err != nil { // #nosec G202 -- constant table names
			return err
		}
	}
	return nil
}

// replaceVisits deletes the stored versions of the batch's visits, appends the new ones and
// folds them into the visitors table.
func (s *Store) replaceVisits(conn applyConn, b store.Batch, exec func(string, string, ...any) error, addDict func(string) int64) error {
	type visitorKey struct {
		site    event.SiteID
		visitor int64
	}
	type visitorSum struct {
		count       int32
		first, last time.Time
		order       time.Time
	}
	visitors := make(map[visitorKey]*visitorSum, len(b.Visits))
	var minFirst time.Time
	err := appendRows(conn, "visit_keys_stage", "visit keys", func(ap *duck.Appender) error {
		for i := range b.Visits {
			v := &b.Visits[i]
			if minFirst.IsZero() || v.First.Before(minFirst) {
				minFirst = v.First
			}
			if err := ap.AppendRow(int64(v.ID)); err != nil {
				return err
			}
			k := visitorKey{v.SiteID, visitorInt(v.VisitorID)}
			sum := visitors[k]
			if sum == nil {
				sum = &visitorSum{count: v.VisitCount, first: v.First, last: v.Last}
				visitors[k] = sum
			}
			sum.count = max(sum.count, v.VisitCount)
			if v.First.Before(sum.first) {
				sum.first = v.First
			}
			if v.Last.After(sum.last) {
				sum.last = v.Last
			}
			if (v.Ecommerce == event.EcommerceOrdered || v.Ecommerce == event.EcommerceOrderedThenAbandonedCart) && v.Last.After(sum.order) {
				sum.order = v.Last
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if err := exec("replace visits", `DELETE FROM visits WHERE first_ts >= ? AND visit_id IN (SELECT visit_id FROM visit_keys_stage)`, minFirst.UTC()); err != nil {
		return err
	}
	err = appendRows(conn, "visits", "visit", func(ap *duck.Appender) error {
		for i := range b.Visits {
			v := &b.Visits[i]
			err := ap.AppendRow(int64(v.SiteID), int64(v.ID), visitorInt(v.VisitorID), nullStr(v.UserID), v.First.UTC(), v.Last.UTC(),
				v.VisitCount, v.Returning, v.DaysSinceLast, v.DaysSinceFirst, v.DaysSinceOrder, nullStr(v.IP),
				uint8(v.Referrer.Type), nullStr(v.Referrer.Name), nullStr(v.Referrer.Keyword), nullStr(v.Referrer.URL),
				nullStr(v.Campaign.Name), nullStr(v.Campaign.Keyword), nullStr(v.Campaign.Source), nullStr(v.Campaign.Medium),
				nullStr(v.Campaign.Content), nullStr(v.Campaign.ID), nullStr(v.Campaign.Group), nullStr(v.Campaign.Place),
				nullStr(v.Device.Type), nullStr(v.Device.Brand), nullStr(v.Device.Model), nullStr(v.Device.OS), nullStr(v.Device.OSVersion),
				nullStr(v.Device.Browser), nullStr(v.Device.BrowserVersion), nullStr(v.Device.Engine), nullStr(v.Device.EngineVersion),
				nullStr(v.Location.Country), nullStr(v.Location.Region), nullStr(v.Location.City), nullFloat(v.Location.Lat, v.Location.Country == "" && v.Location.Lat == 0), nullFloat(v.Location.Lon, v.Location.Country == "" && v.Location.Lon == 0),
				nullStr(v.Resolution), nullStr(v.Language), v.LocalTime, nullStr(v.Plugins),
				addDict(v.EntryURL), addDict(v.EntryTitle), addDict(v.ExitURL), addDict(v.ExitTitle), nullTime(v.ExitTime),
				v.Actions, v.Pageviews, v.Searches, v.Events, v.Downloads, v.Outlinks, v.Contents, v.Interactions, v.Conversions,
				v.Revenue, uint8(v.Ecommerce), jsonOrNil(v.Dimensions, len(v.Dimensions) == 0), jsonOrNil(v.CustomVars, len(v.CustomVars) == 0), v.Consent,
				addDict(v.Referrer.Name))
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	err = appendRows(conn, "visitors_stage", "visitor", func(ap *duck.Appender) error {
		for k, sum := range visitors {
			if err := ap.AppendRow(int64(k.site), k.visitor, sum.count, sum.first.UTC(), sum.last.UTC(), nullTime(sum.order)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	return exec("visitors", `INSERT INTO visitors AS t SELECT * FROM visitors_stage
		ON CONFLICT (site_id, visitor_id) DO UPDATE SET
			visit_count = greatest(t.visit_count, excluded.visit_count),
			first_visit = least(t.first_visit, excluded.first_visit),
			last_visit = greatest(t.last_visit, excluded.last_visit),
			last_order = coalesce(greatest(t.last_order, excluded.last_order), t.last_order, excluded.last_order)`)
}

// appendActions appends the batch's actions and their ecommerce items.
func appendActions(conn applyConn, actions []event.Action, addDict func(string) int64) error {
	err := appendRows(conn, "actions", "action", func(ap *duck.Appender) error {
		for i := range actions {
			a := &actions[i]
			var ev any
			if a.HasEventValue {
				ev = a.EventValue
			}
			err := ap.AppendRow(int64(a.SiteID), int64(a.VisitID), visitorInt(a.VisitorID), a.Time.UTC(), a.Index, uint8(a.Type),
				addDict(a.URL), addDict(a.Title), nullStr(a.PageViewID), a.FirstURLInVisit, a.FirstTitleInVisit,
				addDict(a.RefURL), addDict(a.RefTitle), a.RefTimeSpent,
				nullStr(a.SearchKeyword), nullStr(a.SearchCategory), a.SearchCount,
				nullStr(a.EventCategory), nullStr(a.EventAction), nullStr(a.EventName), ev,
				nullStr(a.ContentName), nullStr(a.ContentPiece), nullStr(a.ContentTarget), nullStr(a.ContentInteraction),
				a.GoalID, a.Revenue, nullStr(a.OrderID), a.Subtotal, a.Tax, a.Shipping, a.Discount,
				nullStr(a.ProductSKU), nullStr(a.ProductName), jsonOrNil(a.ProductCategory, len(a.ProductCategory) == 0), a.ProductPrice,
				a.PerfNetwork, a.PerfServer, a.PerfTransfer, a.PerfDOMProc, a.PerfDOMDone, a.PerfOnLoad,
				jsonOrNil(a.Dimensions, len(a.Dimensions) == 0), jsonOrNil(a.CustomVars, len(a.CustomVars) == 0), nullStr(a.Extra))
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	return appendRows(conn, "items", "item", func(ap *duck.Appender) error {
		for i := range actions {
			a := &actions[i]
			for _, it := range a.Items {
				err := ap.AppendRow(int64(a.SiteID), int64(a.VisitID), a.Time.UTC(), uint8(a.Type), nullStr(a.OrderID), it.SKU,
					nullStr(it.Name), jsonOrNil(it.Categories, len(it.Categories) == 0), it.Price, it.Quantity)
				if err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// appendRows runs fill with an appender on table (a temporary stage table when its name ends
// in _stage) and flushes it; what names the rows in errors.
func appendRows(conn driver.Conn, table, what string, fill func(*duck.Appender) error) error {
	catalog := ""
	if strings.HasSuffix(table, "_stage") {
		catalog = "temp"
	}
	a, err := duck.NewAppender(conn, catalog, "main", table)
	if err != nil {
		return fmt.Errorf("%s appender: %w", what, err)
	}
	if err := fill(a); err != nil {
		a.Close()
		return fmt.Errorf("append %s: %w", what, err)
	}
	if err := a.Close(); err != nil {
		return fmt.Errorf("flush %s rows: %w", what, err)
	}
	return nil
}

func nullFloat(f float64, null bool) any {
	if null {
		return nil
	}
	return f
}

const visitColumns = `v.site_id, v.visit_id, v.visitor_id, v.user_id, v.first_ts, v.last_ts, v.visit_count, v.is_returning,
	v.days_since_last, v.days_since_first, v.days_since_order, v.ip, v.referrer_type, v.referrer_name, v.referrer_keyword,
	v.referrer_url, v.campaign_name, v.campaign_keyword, v.campaign_source, v.campaign_medium, v.campaign_content,
	v.campaign_id, v.campaign_group, v.campaign_placement, v.device_type, v.device_brand, v.device_model, v.os,
	v.os_version, v.browser, v.browser_version, v.engine, v.engine_version, v.country, v.region, v.city, v.lat, v.lon,
	v.resolution, v.language, v.local_time, v.plugins, eu.value, et.value, xu.value, xt.value, v.exit_ts, v.actions,
	v.pageviews, v.searches, v.events, v.downloads, v.outlinks, v.contents, v.interactions, v.conversions, v.revenue,
	v.ecommerce, v.dimensions, v.custom_vars, v.consent`

const visitJoins = ` LEFT JOIN dict eu ON eu.id = v.entry_url_id LEFT JOIN dict et ON et.id = v.entry_title_id
	LEFT JOIN dict xu ON xu.id = v.exit_url_id LEFT JOIN dict xt ON xt.id = v.exit_title_id`

type scanner interface{ Scan(...any) error }

func scanVisit(r scanner) (event.Visit, error) {
	var v event.Visit
	var site int64
	var visitor int64
	var userID, ip, refName, refKw, refURL, cn, ck, cs, cm, cc, ci, cg, cp sql.NullString
	var dt, db, dm, os, osv, br, brv, en, env, country, region, city, res, lang, plugins sql.NullString
	var eu, et, xu, xt, dims, cvars sql.NullString
	var lat, lon sql.NullFloat64
	var exitTS sql.NullTime
	var refType, ecom uint8
	err := r.Scan(&site, &v.ID, &visitor, &userID, &v.First, &v.Last, &v.VisitCount, &v.Returning,
		&v.DaysSinceLast, &v.DaysSinceFirst, &v.DaysSinceOrder, &ip, &refType, &refName, &refKw, &refURL,
		&cn, &ck, &cs, &cm, &cc, &ci, &cg, &cp, &dt, &db, &dm, &os, &osv, &br, &brv, &en, &env,
		&country, &region, &city, &lat, &lon, &res, &lang, &v.LocalTime, &plugins, &eu, &et, &xu, &xt, &exitTS,
		&v.Actions, &v.Pageviews, &v.Searches, &v.Events, &v.Downloads, &v.Outlinks, &v.Contents, &v.Interactions,
		&v.Conversions, &v.Revenue, &ecom, &dims, &cvars, &v.Consent)
	if err != nil {
		return v, err
	}
	v.SiteID, v.VisitorID = event.SiteID(site), visitorFromInt(visitor)
	v.First, v.Last = v.First.UTC(), v.Last.UTC()
	v.UserID, v.IP = userID.String, ip.String
	v.Referrer = event.Referrer{Type: event.ReferrerType(refType), Name: refName.String, Keyword: refKw.String, URL: refURL.String}
	v.Campaign = event.Campaign{Name: cn.String, Keyword: ck.String, Source: cs.String, Medium: cm.String, Content: cc.String, ID: ci.String, Group: cg.String, Place: cp.String}
	v.Device = event.Device{Type: dt.String, Brand: db.String, Model: dm.String, OS: os.String, OSVersion: osv.String,
		Browser: br.String, BrowserVersion: brv.String, Engine: en.String, EngineVersion: env.String}
	v.Location = event.Location{Country: country.String, Region: region.String, City: city.String, Lat: lat.Float64, Lon: lon.Float64}
	v.Resolution, v.Language, v.Plugins = res.String, lang.String, plugins.String
	v.EntryURL, v.EntryTitle, v.ExitURL, v.ExitTitle = eu.String, et.String, xu.String, xt.String
	if exitTS.Valid {
		v.ExitTime = exitTS.Time.UTC()
	}
	v.Ecommerce = event.EcommerceStatus(ecom)
	if dims.Valid {
		_ = json.Unmarshal([]byte(dims.String), &v.Dimensions)
	}
	if cvars.Valid {
		_ = json.Unmarshal([]byte(cvars.String), &v.CustomVars)
	}
	return v, nil
}

// OpenVisits returns visits whose last action is at or after since.
func (s *Store) OpenVisits(ctx context.Context, since time.Time) ([]event.Visit, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+visitColumns+` FROM visits v`+visitJoins+` WHERE v.last_ts >= ?`, since.UTC())
	if err != nil {
		return nil, fmt.Errorf("open visits: %w", err)
	}
	defer rows.Close()
	var out []event.Visit
	for rows.Next() {
		v, err := scanVisit(rows)
		if err != nil {
			return nil, fmt.Errorf("scan visit: %w", err)
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// VisitorHistory returns what is known of a visitor's earlier visits.
func (s *Store) VisitorHistory(ctx context.Context, site event.SiteID, visitor event.VisitorID) (store.VisitorHistory, bool, error) {
	var h store.VisitorHistory
	var lastOrder sql.NullTime
	err := s.db.QueryRowContext(ctx, `SELECT visit_count, first_visit, last_visit, last_order FROM visitors WHERE site_id = ? AND visitor_id = ?`,
		int64(site), visitorInt(visitor)).Scan(&h.VisitCount, &h.FirstVisit, &h.LastVisit, &lastOrder)
	if errors.Is(err, sql.ErrNoRows) {
		return h, false, nil
	}
	if err != nil {
		return h, false, fmt.Errorf("visitor history: %w", err)
	}
	h.FirstVisit, h.LastVisit = h.FirstVisit.UTC(), h.LastVisit.UTC()
	if lastOrder.Valid {
		h.LastOrder = lastOrder.Time.UTC()
	}
	return h, true, nil
}

// EachVisitor streams every known visitor.
func (s *Store) EachVisitor(ctx context.Context, fn func(event.SiteID, event.VisitorID)) error {
	rows, err := s.db.QueryContext(ctx, `SELECT site_id, visitor_id FROM visitors`)
	if err != nil {
		return fmt.Errorf("list visitors: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var site, visitor int64
		if err := rows.Scan(&site, &visitor); err != nil {
			return fmt.Errorf("scan visitor: %w", err)
		}
		fn(event.SiteID(site), visitorFromInt(visitor))
	}
	return rows.Err()
}

func siteList(sites []event.SiteID) string {
	parts := make([]string, len(sites))
	for i, s := range sites {
		parts[i] = strconv.FormatInt(int64(s), 10)
	}
	return strings.Join(parts, ",")
}

// Visits returns the most recent visits first, optionally with their actions.
func (s *Store) Visits(ctx context.Context, q store.VisitQuery) ([]store.VisitDetail, error) {
	if len(q.Sites) == 0 {
		return nil, nil
	}
	if q.Limit <= 0 {
		q.Limit = 100
	}
	// Site ids are typed integers, formatted here, never user text.
	where := ` WHERE v.site_id IN (` + siteList(q.Sites) + `)`
	var args []any
	if !q.From.IsZero() {
		where += ` AND v.last_ts >= ?`
		args = append(args, q.From.UTC())
	}
	if !q.To.IsZero() {
		where += ` AND v.last_ts < ?`
		args = append(args, q.To.UTC())
	}
	if len(q.Segment.And) > 0 {
		seg, segArgs, err := segmentSQL(q.Segment)
		if err != nil {
			return nil, err
		}
		where += ` AND ` + seg
		args = append(args, segArgs...)
	}
	args = append(args, q.Limit, q.Offset)
	// #nosec G202 -- where holds constants and formatted site ids; values are bound.
	rows, err := s.db.QueryContext(ctx, `SELECT `+visitColumns+` FROM visits v`+visitJoins+where+
		` ORDER BY v.last_ts DESC, v.visit_id DESC LIMIT ? OFFSET ?`, args...)
	if err != nil {
		return nil, fmt.Errorf("list visits: %w", err)
	}
	var out []store.VisitDetail
	for rows.Next() {
		v, err := scanVisit(rows)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("scan visit: %w", err)
		}
		out = append(out, store.VisitDetail{Visit: v})
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return out, nil
	}
	if q.CountActions {
		if err := s.countActions(ctx, out); err != nil {
			return nil, err
		}
	}
	if q.WithActions {
		if err := s.VisitActions(ctx, out, q.MaxActions); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// visitIDs lists the visits' ids for an IN clause, and the earliest first action among them:
// a visit's actions are no older, so zone maps skip the rest of the table.
func visitIDs(visits []store.VisitDetail) (string, time.Time) {
	ids := make([]string, 0, len(visits))
	var minFirst time.Time
	for _, d := range visits {
		ids = append(ids, strconv.FormatInt(int64(d.Visit.ID), 10))
		if minFirst.IsZero() || d.Visit.First.Before(minFirst) {
			minFirst = d.Visit.First
		}
	}
	return strings.Join(ids, ","), minFirst.UTC()
}

// countActions fills StoredActions: an aggregate over the visits' actions, reading two columns.
func (s *Store) countActions(ctx context.Context, visits []store.VisitDetail) error {
	ids, minFirst := visitIDs(visits)
	// #nosec G202 -- ids are formatted integers, never request text.
	rows, err := s.db.QueryContext(ctx, `SELECT visit_id, count(*) FROM actions WHERE visit_id IN (`+ids+`) AND ts >= ? GROUP BY visit_id`, minFirst)
	if err != nil {
		return fmt.Errorf("count actions: %w", err)
	}
	defer rows.Close()
	counts := map[event.VisitID]int{}
	for rows.Next() {
		var id event.VisitID
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			return fmt.Errorf("scan action count: %w", err)
		}
		counts[id] = n
	}
	if err := rows.Err(); err != nil {
		return err
	}
	for i := range visits {
		visits[i].StoredActions = counts[visits[i].Visit.ID]
	}
	return nil
}

// VisitActions reads the visits' actions in order, at most perVisit of each (0: all). The cut is
// made in the query, so a visit with a hundred thousand actions costs perVisit rows here.
func (s *Store) VisitActions(ctx context.Context, visits []store.VisitDetail, perVisit int) error {
	if len(visits) == 0 {
		return nil
	}
	ids, minFirst := visitIDs(visits)
	acts, err := s.actions(ctx, `a.visit_id IN (`+ids+`) AND a.ts >= ?`, perVisit, minFirst)
	if err != nil {
		return err
	}
	idx := make(map[event.VisitID]int, len(visits))
	for i := range visits {
		idx[visits[i].Visit.ID] = i
		visits[i].Actions = nil
	}
	for _, a := range acts {
		if i, ok := idx[a.VisitID]; ok {
			visits[i].Actions = append(visits[i].Actions, a)
		}
	}
	return nil
}

// actions reads the actions where selects, ordered by visit and index; with perVisit > 0 only
// the first perVisit of each visit.
func (s *Store) actions(ctx context.Context, where string, perVisit int, args ...any) ([]event.Action, error) {
	// Ties of idx (possible for a visit continued after a restart) are broken by time, the same
	// way in the cut and in the order.
	order := ` ORDER BY a.visit_id, a.idx, a.ts`
	if perVisit > 0 {
		order = ` QUALIFY row_number() OVER (PARTITION BY a.visit_id ORDER BY a.idx, a.ts) <= ?` + order
		args = append(args, perVisit)
	}
	// #nosec G202 -- where is built in this file from constants and formatted integers; values are bound.
	rows, err := s.db.QueryContext(ctx, `SELECT a.site_id, a.visit_id, a.visitor_id, a.ts, a.idx, a.type, u.value, t.value, a.pv_id,
		a.first_url, a.first_title, ru.value, rt.value, a.ref_time_spent, a.search_keyword, a.search_category, a.search_count,
		a.event_category, a.event_action, a.event_name, a.event_value, a.content_name, a.content_piece, a.content_target,
		a.content_interaction, a.goal_id, a.revenue, a.order_id, a.subtotal, a.tax, a.shipping, a.discount,
		a.product_sku, a.product_name, a.product_category, a.product_price,
		a.pf_net, a.pf_srv, a.pf_tfr, a.pf_dm1, a.pf_dm2, a.pf_onl, a.dimensions, a.custom_vars, a.extra
		FROM actions a LEFT JOIN dict u ON u.id = a.url_id LEFT JOIN dict t ON t.id = a.title_id
		LEFT JOIN dict ru ON ru.id = a.ref_url_id LEFT JOIN dict rt ON rt.id = a.ref_title_id
		WHERE `+where+order, args...)
	if err != nil {
		return nil, fmt.Errorf("list actions: %w", err)
	}
	defer rows.Close()
	var out []event.Action
	for rows.Next() {
		var a event.Action
		var site int64
		var visitor int64
		var typ uint8
		var u, t, pv, ru, rt, sk, sc, ec, ea, en, cn, cp, ct, ci, oid, psku, pname, pcat, dims, cvars, extra sql.NullString
		var ev sql.NullFloat64
		err := rows.Scan(&site, &a.VisitID, &visitor, &a.Time, &a.Index, &typ, &u, &t, &pv, &a.FirstURLInVisit, &a.FirstTitleInVisit,
			&ru, &rt, &a.RefTimeSpent, &sk, &sc, &a.SearchCount, &ec, &ea, &en, &ev, &cn, &cp, &ct, &ci, &a.GoalID, &a.Revenue,
			&oid, &a.Subtotal, &a.Tax, &a.Shipping, &a.Discount, &psku, &pname, &pcat, &a.ProductPrice,
			&a.PerfNetwork, &a.PerfServer, &a.PerfTransfer, &a.PerfDOMProc, &a.PerfDOMDone, &a.PerfOnLoad, &dims, &cvars, &extra)
		if err != nil {
			return nil, fmt.Errorf("scan action: %w", err)
		}
		a.SiteID, a.VisitorID, a.Type, a.Time = event.SiteID(site), visitorFromInt(visitor), event.ActionType(typ), a.Time.UTC()
		a.URL, a.Title, a.PageViewID, a.RefURL, a.RefTitle = u.String, t.String, pv.String, ru.String, rt.String
		a.SearchKeyword, a.SearchCategory = sk.String, sc.String
		a.EventCategory, a.EventAction, a.EventName = ec.String, ea.String, en.String
		a.EventValue, a.HasEventValue = ev.Float64, ev.Valid
		a.ContentName, a.ContentPiece, a.ContentTarget, a.ContentInteraction = cn.String, cp.String, ct.String, ci.String
		a.OrderID, a.ProductSKU, a.ProductName, a.Extra = oid.String, psku.String, pname.String, extra.String
		if pcat.Valid {
			_ = json.Unmarshal([]byte(pcat.String), &a.ProductCategory)
		}
		if dims.Valid {
			_ = json.Unmarshal([]byte(dims.String), &a.Dimensions)
		}
		if cvars.Valid {
			_ = json.Unmarshal([]byte(cvars.String), &a.CustomVars)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if err := s.attachItems(ctx, out); err != nil {
		return nil, err
	}
	return out, nil
}

func (s *Store) attachItems(ctx context.Context, acts []event.Action) error {
	// An order and a cart update of one visit can share a timestamp (one bulk request): the
	// kind tells their items apart.
	type key struct {
		visit event.VisitID
		ts    int64
		kind  event.ActionType
	}
	want := map[key]int{}
	var ids []string
	for i, a := range acts {
		if a.Type == event.ActionOrder || a.Type == event.ActionCartUpdate {
			want[key{a.VisitID, a.Time.UnixMicro(), a.Type}] = i
			ids = append(ids, strconv.FormatInt(int64(a.VisitID), 10))
		}
	}
	if len(ids) == 0 {
		return nil
	}
	// #nosec G202 -- ids are formatted integers, never request text.
	rows, err := s.db.QueryContext(ctx, `SELECT visit_id, ts, kind, sku, name, categories, price, quantity FROM items WHERE visit_id IN (`+strings.Join(ids, ",")+`)`)
	if err != nil {
		return fmt.Errorf("list items: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var visit int64
		var ts time.Time
		var kind uint8
		var it event.Item
		var name, cats sql.NullString
		if err := rows.Scan(&visit, &ts, &kind, &it.SKU, &name, &cats, &it.Price, &it.Quantity); err != nil {
			return fmt.Errorf("scan item: %w", err)
		}
		it.Name = name.String
		if cats.Valid {
			_ = json.Unmarshal([]byte(cats.String), &it.Categories)
		}
		if i, ok := want[key{event.VisitID(visit), ts.UnixMicro(), event.ActionType(kind)}]; ok {
			acts[i].Items = append(acts[i].Items, it)
		}
	}
	return rows.Err()
}

// Counters returns Live.getCounters figures for visits active since the given time.
func (s *Store) Counters(ctx context.Context, sites []event.SiteID, since time.Time, segment store.Filter) (store.Counters, error) {
	var c store.Counters
	if len(sites) == 0 {
		return c, nil
	}
	seg, segArgs, err := segmentSQL(segment)
	if err != nil {
		return c, err
	}
	// #nosec G202 -- site ids are formatted integers and seg is built of fixed expressions and placeholders.
	err = s.db.QueryRowContext(ctx, `SELECT count(*), coalesce(sum(v.actions), 0), count(DISTINCT v.visitor_id), count(*) FILTER (WHERE v.conversions > 0)
		FROM visits v WHERE v.site_id IN (`+siteList(sites)+`) AND v.last_ts >= ? AND `+seg, append([]any{since.UTC()}, segArgs...)...).
		Scan(&c.Visits, &c.Actions, &c.Visitors, &c.VisitsConverted)
	if err != nil {
		return c, fmt.Errorf("live counters: %w", err)
	}
	return c, nil
}

// BotCount returns the bot requests filtered for a site on days in [from, to).
func (s *Store) BotCount(ctx context.Context, site event.SiteID, from, to time.Time) (int64, error) {
	var n int64
	err := s.db.QueryRowContext(ctx, `SELECT coalesce(sum(hits), 0) FROM bot_hits WHERE site_id = ? AND day >= CAST(? AS DATE) AND day < CAST(? AS DATE)`,
		int64(site), from.UTC().Format("2006-01-02"), to.UTC().Format("2006-01-02")).Scan(&n)
	return n, err
}

// periods assigns rows to the query's ranges by a timestamp column: idx is the range's index
// and cond keeps the rows of some range. The bounds are written as literals (they are times,
// formatted here, never user text) so that the scan's zone maps skip everything outside them;
// a join with a list of ranges cost up to ten times more. Consecutive ranges (every request's
// periods are) need one comparison per range.
func periods(col string, ranges []store.TimeRange) (idx, cond string) {
	lit := func(t time.Time) string { return "TIMESTAMP '" + t.UTC().Format("2006-01-02 15:04:05.999999") + "'" }
	from, to := ranges[0].From, ranges[0].To
	contiguous := true
	prevTo := ranges[0].From
	for _, r := range ranges {
		from, to = minTime(from, r.From), maxTime(to, r.To)
		if !r.From.Equal(prevTo) {
			contiguous = false
		}
		prevTo = r.To
	}
	cond = "(" + col + " >= " + lit(from) + " AND " + col + " < " + lit(to) + ")"
	if len(ranges) == 1 {
		return "0", cond
	}
	var b strings.Builder
	b.WriteString("(CASE")
	for i, r := range ranges {
		b.WriteString(" WHEN ")
		if !contiguous {
			b.WriteString(col + " >= " + lit(r.From) + " AND ")
		}
		b.WriteString(col + " < " + lit(r.To) + " THEN " + strconv.Itoa(i))
	}
	b.WriteString(" END)")
	idx = b.String()
	if !contiguous {
		cond += " AND " + idx + " IS NOT NULL"
	}
	return idx, cond
}

// nearby bounds a lookup of a visit's other actions (such as its last cart update) to the
// query's ranges widened by a day on each side: a visit lasts at most until the midnight
// that ends its day, so all its actions lie there, and the bounds let zone maps skip the rest.
func nearby(col string, ranges []store.TimeRange) string {
	_, within := periods(col, []store.TimeRange{{From: ranges[0].From.Add(-24 * time.Hour), To: ranges[len(ranges)-1].To.Add(24 * time.Hour)}})
	return within
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// VisitTotals aggregates visits by the period of their last action.
func (s *Store) VisitTotals(ctx context.Context, q store.ReportQuery) ([]store.VisitTotals, error) {
	out := make([]store.VisitTotals, len(q.Ranges))
	if len(q.Ranges) == 0 {
		return out, nil
	}
	idx, within := periods("v.last_ts", q.Ranges)
	seg, segArgs, err := segmentSQL(q.Segment)
	if err != nil {
		return nil, err
	}
	args := append([]any{int64(q.Site)}, segArgs...)
	group := " GROUP BY i"
	if len(q.Ranges) == 1 {
		group = "" // one range: an ungrouped aggregate, which is cheaper
	}
	// #nosec G202 -- idx, within and seg are built of fixed expressions, formatted times and placeholders; every value is bound.
	rows, err := s.db.QueryContext(ctx, `SELECT `+idx+` AS i, count(*), count(DISTINCT v.visitor_id), count(DISTINCT v.user_id),
		coalesce(sum(v.actions), 0)::BIGINT, coalesce(max(v.actions), 0), coalesce(sum(date_diff('second', v.first_ts, v.last_ts)), 0)::BIGINT,
		count(*) FILTER (WHERE v.actions <= 1), count(*) FILTER (WHERE v.conversions > 0)
		FROM visits v
		WHERE `+within+` AND v.site_id = ? AND `+seg+group, args...)
	if err != nil {
		return nil, fmt.Errorf("visit totals: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var i int
		var t store.VisitTotals
		if err := rows.Scan(&i, &t.Visits, &t.UniqueVisitors, &t.Users, &t.Actions, &t.MaxActions, &t.VisitLength, &t.Bounces, &t.Converted); err != nil {
			return nil, fmt.Errorf("visit totals: %w", err)
		}
		if i >= 0 && i < len(out) {
			out[i] = t
		}
	}
	return out, rows.Err()
}

// VisitGroups aggregates visits by the period of their last action and one or two fields.
func (s *Store) VisitGroups(ctx context.Context, q store.GroupQuery) ([]store.GroupRow, error) {
	if len(q.Ranges) == 0 || len(q.By) == 0 {
		return nil, nil
	}
	if len(q.By) > 2 {
		return nil, fmt.Errorf("group by %d fields: at most 2", len(q.By))
	}
	k1, k1Args, err := groupKey(q.By[0], q.Zone)
	if err != nil {
		return nil, err
	}
	// Groups form on the stored values, which are cheaper to hash than their text; the text
	// is made for the groups only: a dictionary field (entry/exit URL or title, referrer
	// name) is looked up by id, a plain column cast. (Stored values are never '', so the text
	// stays distinct.)
	dictKey, dictKey2 := false, false
	finish1, finish2 := "q.k1", "coalesce(q.k2, '')"
	if col, ok := groupDictColumns[q.By[0]]; ok && len(q.Remap) == 0 {
		k1, k1Args, dictKey, finish1 = col, nil, true, "coalesce(d.value, '')"
	} else if raw, ok := visitFieldExprs[q.By[0]]; ok && len(q.Remap) == 0 {
		k1, k1Args, finish1 = raw, nil, "coalesce(CAST(q.k1 AS VARCHAR), '')"
	}
	// One range needs no range column in the groups (every row is range 0), one key no
	// second level: grouping by constants, or by grouping sets of one set, cost a sixth more.
	rangeCol, rangeSel := "v.i, ", "v.i"
	if len(q.Ranges) == 1 {
		rangeCol, rangeSel = "", "0"
	}
	k2, k2Args := "''", []any(nil)
	groupBy, k2Sel := "GROUP BY "+rangeCol+"k1", "'' AS k2, 0 AS g"
	if len(q.By) == 2 {
		if col, ok := groupDictColumns[q.By[1]]; ok {
			k2, dictKey2, finish2 = col, true, "coalesce(d2.value, '')"
		} else if raw, ok := visitFieldExprs[q.By[1]]; ok {
			k2, finish2 = raw, "coalesce(CAST(q.k2 AS VARCHAR), '')"
		} else if k2, k2Args, err = groupKey(q.By[1], q.Zone); err != nil {
			return nil, err
		}
		groupBy, k2Sel = "GROUP BY GROUPING SETS (("+rangeCol+"k1), ("+rangeCol+"k1, k2))", "k2, GROUPING(k2) AS g"
		if q.NoRowUniques {
			groupBy = "GROUP BY " + rangeCol + "k1, k2" // the first level is summed from the second below
		}
	}
	from, fromArgs := "visits v", []any(nil)
	if len(q.Remap) > 0 {
		// The first key goes through a mapping table, joined on the original value.
		var b strings.Builder
		b.WriteString("visits v LEFT JOIN (VALUES ")
		keys := make([]string, 0, len(q.Remap))
		for k := range q.Remap {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for i, k := range keys {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString("(?, ?)")
			fromArgs = append(fromArgs, k, q.Remap[k])
		}
		b.WriteString(") AS m(mk, mv) ON m.mk = " + k1)
		from, fromArgs = b.String(), append(fromArgs, k1Args...)
		k1, k1Args = "coalesce(m.mv, '')", nil
	}
	idx, within := periods("v.last_ts", q.Ranges)
	seg, segArgs, err := segmentSQL(q.Segment)
	if err != nil {
		return nil, err
	}
	var args []any
	for _, a := range [][]any{k1Args, k2Args, fromArgs, {int64(q.Site)}, segArgs} {
		args = append(args, a...)
	}
	// #nosec G202 -- keys, from, join and seg are built of fixed expressions and placeholders; every value is bound.
	query := `SELECT ` + rangeSel + ` AS i, k1, ` + k2Sel + `, count(*) AS n, ` + uniques(q.NoRowUniques, "v.visitor_id", "v.user_id") + `,
		sum(v.actions)::BIGINT, max(v.actions), sum(date_diff('second', v.first_ts, v.last_ts))::BIGINT,
		count(*) FILTER (WHERE v.actions <= 1), count(*) FILTER (WHERE v.conversions > 0)
		FROM (SELECT ` + idx + ` AS i, ` + k1 + ` AS k1, ` + k2 + ` AS k2, v.* FROM ` + from + ` WHERE ` + within + `) v
		WHERE v.site_id = ? AND ` + seg + ` ` + groupBy
	query = `SELECT q.* REPLACE (` + finish1 + ` AS k1, ` + finish2 + ` AS k2) FROM (` + query + `) q`
	if dictKey {
		query += ` LEFT JOIN dict d ON d.id = q.k1`
	}
	if dictKey2 {
		query += ` LEFT JOIN dict d2 ON d2.id = q.k2`
	}
	// #nosec G202 -- keys, from, join and seg are built of fixed expressions and placeholders; every value is bound.
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("visit groups: %w", err)
	}
	defer rows.Close()
	var out []store.GroupRow
	for rows.Next() {
		var g store.GroupRow
		var key1, key2 string
		var grouping int
		if err := rows.Scan(&g.Range, &key1, &key2, &grouping, &g.Visits, &g.UniqueVisitors, &g.Users, &g.Actions, &g.MaxActions, &g.VisitLength, &g.Bounces, &g.Converted); err != nil {
			return nil, fmt.Errorf("visit groups: %w", err)
		}
		g.Keys = []string{key1}
		if len(q.By) == 2 && grouping == 0 {
			g.Keys = append(g.Keys, key2)
		}
		out = append(out, g)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(q.By) == 2 && q.NoRowUniques {
		out = append(out, rollUp(out)...)
	}
	return out, nil
}

// rollUp sums second-level groups into their first-level groups; it serves only when
// distinct counts are spared, since those do not add up.
func rollUp(rows []store.GroupRow) []store.GroupRow {
	type key struct {
		r int
		k string
	}
	var order []key
	sums := map[key]*store.GroupRow{}
	for _, g := range rows {
		k := key{g.Range, g.Keys[0]}
		t := sums[k]
		if t == nil {
			t = &store.GroupRow{Range: g.Range, Keys: []string{g.Keys[0]}}
			t.UniqueVisitors, t.Users = -1, -1
			sums[k] = t
			order = append(order, k)
		}
		t.Visits += g.Visits
		t.Actions += g.Actions
		t.MaxActions = max(t.MaxActions, g.MaxActions)
		t.VisitLength += g.VisitLength
		t.Bounces += g.Bounces
		t.Converted += g.Converted
	}
	out := make([]store.GroupRow, len(order))
	for i, k := range order {
		out[i] = *sums[k]
	}
	return out
}

// uniques is the distinct counts of the given columns, or -1 for each when they are spared.
func uniques(skip bool, cols ...string) string {
	out := make([]string, len(cols))
	for i, c := range cols {
		out[i] = "count(DISTINCT " + c + ")"
		if skip {
			out[i] = "-1"
		}
	}
	return strings.Join(out, ", ")
}

// segmentVisits restricts actions (alias a) to the visits a segment keeps. Only visits that
// overlap the query's ranges can own its actions, so the visits scanned are bounded by time
// too (zone maps skip the rest).
func segmentVisits(q store.ReportQuery, seg string, segArgs []any) (string, []any) {
	if len(q.Segment.And) == 0 {
		return "", nil
	}
	set, args := segmentVisitSet(q, seg, segArgs)
	return " AND a.visit_id IN (" + set + ")", args
}

// segmentVisitSet selects the ids of the visits a segment keeps among those overlapping the
// query's ranges.
func segmentVisitSet(q store.ReportQuery, seg string, segArgs []any) (string, []any) {
	from, to := q.Ranges[0].From, q.Ranges[len(q.Ranges)-1].To
	return "SELECT v.visit_id FROM visits v WHERE v.site_id = ? AND v.last_ts >= ? AND v.first_ts < ? AND " + seg,
		append([]any{int64(q.Site), from.UTC(), to.UTC()}, segArgs...)
}

// ActionGroups aggregates the actions of given types by the period of their time and a key;
// for URLs and titles also the time spent after them and the visits they ended.
func (s *Store) ActionGroups(ctx context.Context, q store.ActionQuery) ([]store.ActionRow, error) {
	key, ok := actionKeys[q.By]
	dimension := ""
	if scope, id, isDim := store.ParseDimensionField(q.By); isDim && scope == "action" {
		dimension, ok = dimensionValue("a", id), true
	}
	if !ok {
		return nil, fmt.Errorf("cannot group actions by %q", q.By)
	}
	if len(q.Ranges) == 0 || len(q.Types) == 0 {
		return nil, nil
	}
	idx, within := periods("a.ts", q.Ranges)
	seg, segArgs, err := segmentSQL(q.Segment)
	if err != nil {
		return nil, err
	}
	dict := key.ref != ""
	types := make([]string, len(q.Types))
	scanned := map[event.ActionType]bool{}
	for i, t := range q.Types {
		types[i] = strconv.Itoa(int(t))
		scanned[t] = true
	}
	scan := slices.Clone(types)
	if dict && !scanned[event.ActionPageview] {
		scan = append(scan, strconv.Itoa(int(event.ActionPageview))) // time spent comes from page views
	}
	inSegment, inArgs := segmentVisits(q.ReportQuery, seg, segArgs)
	noResults := ""
	if q.NoResults {
		noResults = " AND search_count = 0"
	}
	args := append([]any{int64(q.Site)}, inArgs...)
	keyExpr := "coalesce(a." + key.col + ", '')"
	if dict {
		keyExpr = "a." + key.col
	}
	if dimension != "" {
		keyExpr = dimension
	}
	// #nosec G202 -- built of fixed column names, type numbers and placeholders; every value is bound.
	// Visits per page view URL or title: the ingest flag "first of its URL (title) in the
	// visit" turns a distinct count into a sum.
	visits := "count(DISTINCT visit_id)"
	if len(q.Types) == 1 && q.Types[0] == event.ActionPageview && dict {
		visits = "count(*) FILTER (WHERE first)"
	}
	// One range needs no range column in the groups: every row is range 0, and grouping by
	// the constant cost about a tenth more.
	iSel, rg := "i", "i, "
	if len(q.Ranges) == 1 {
		iSel, rg = "0 AS i", ""
	}
	first := "a.first_url"
	if q.By == store.FieldActionTitle {
		first = "a.first_title"
	}
	// #nosec G202 -- built of fixed column names, type numbers and placeholders; every value is bound.
	// The scan is not materialised: each aggregate reads the columns it needs from the table.
	// A segment's visits are found once (sv) for both.
	query := `WITH `
	if len(q.Segment.And) > 0 {
		set, setArgs := segmentVisitSet(q.ReportQuery, seg, segArgs)
		query += `sv AS MATERIALIZED (` + set + `), `
		inSegment, args = " AND a.visit_id IN (SELECT visit_id FROM sv)", append(setArgs, int64(q.Site))
	}
	query += `va AS NOT MATERIALIZED (SELECT ` + idx + ` AS i, a.visit_id, a.visitor_id, a.type, a.search_count, ` + first + ` AS first, ` + keyExpr + ` AS k`
	if dict {
		query += `, a.` + key.ref + ` AS rk, a.ref_time_spent`
	}
	query += ` FROM actions a WHERE ` + within + ` AND a.site_id = ? AND a.type IN (` + strings.Join(scan, ",") + `)` + inSegment + `),`
	spent := `
		spent AS (SELECT ` + iSel + `, rk AS k, sum(ref_time_spent)::BIGINT AS t FROM va WHERE rk <> 0 AND type = 1 GROUP BY ` + rg + `rk),`
	if dict && q.NoRowUniques && len(q.Types) == 1 && q.Types[0] == event.ActionPageview && inSegment != "" {
		// Page views of a segment's visits, no distinct counts: hits (by page) and time spent
		// (by the page before) come from one pass, as two grouping sets, so the actions are
		// matched to the segment's visits once. (Without a segment two plain passes are
		// quicker.)
		query += `
		hs AS (SELECT ` + iSel + `, k, rk, GROUPING(k) AS gk, count(*) AS h, ` + visits + ` AS vis, -1 AS uv, sum(ref_time_spent)::BIGINT AS t
			FROM va GROUP BY GROUPING SETS ((` + rg + `k), (` + rg + `rk))),
		hits AS (SELECT i, k, h, vis, uv FROM hs WHERE gk = 0)`
		spent = `
		spent AS (SELECT i, rk AS k, t FROM hs WHERE gk = 1 AND rk <> 0),`
	} else {
		query += `
		hits AS (SELECT ` + iSel + `, k, count(*) AS h, ` + visits + ` AS vis, ` + uniques(q.NoRowUniques, "visitor_id") + ` AS uv
			FROM va WHERE type IN (` + strings.Join(types, ",") + `)` + noResults + ` GROUP BY ` + rg + `k)`
	}
	switch {
	case dict && q.Entries:
		// Exits and entries come from one scan of the visits, as two grouping sets.
		exitIdx, exitWithin := periods("v.last_ts", q.Ranges)
		args = append(append(args, int64(q.Site)), segArgs...)
		query += `,` + spent + `
		vg AS (SELECT ` + exitIdx + ` AS i, v.` + key.exit + ` AS xk, v.` + key.entry + ` AS ek, GROUPING(v.` + key.exit + `) AS gx, count(*) AS n,
				sum(date_diff('second', coalesce(v.exit_ts, v.last_ts), v.last_ts))::BIGINT AS t, sum(v.actions)::BIGINT AS ea,
				sum(date_diff('second', v.first_ts, v.last_ts))::BIGINT AS el, count(*) FILTER (WHERE v.actions <= 1) AS eb
			FROM visits v WHERE ` + exitWithin + ` AND v.site_id = ? AND ` + seg + `
			GROUP BY GROUPING SETS ((` + rg + `v.` + key.exit + `), (` + rg + `v.` + key.entry + `))),
		exits AS (SELECT i, xk AS k, n, t FROM vg WHERE gx = 0),
		entries AS (SELECT i, ek AS k, n AS en, ea, el, eb FROM vg WHERE gx = 1 AND ek <> 0)
		SELECT i, coalesce(d.value, ''), coalesce(h, 0), coalesce(vis, 0), coalesce(uv, -1), coalesce(spent.t, 0) + coalesce(exits.t, 0),
			coalesce(exits.n, 0), coalesce(en, 0), coalesce(ea, 0), coalesce(el, 0), coalesce(eb, 0)
		FROM hits FULL JOIN entries USING (i, k) LEFT JOIN spent USING (i, k) LEFT JOIN exits USING (i, k) LEFT JOIN dict d ON d.id = k`
	case dict:
		exitIdx, exitWithin := periods("v.last_ts", q.Ranges)
		args = append(append(args, int64(q.Site)), segArgs...)
		query += `,` + spent + `
		exits AS (SELECT ` + exitIdx + ` AS i, v.` + key.exit + ` AS k, count(*) AS n, sum(date_diff('second', coalesce(v.exit_ts, v.last_ts), v.last_ts))::BIGINT AS t
			FROM visits v WHERE ` + exitWithin + ` AND v.site_id = ? AND ` + seg + ` GROUP BY ` + rg + `v.` + key.exit + `)
		SELECT hits.i, coalesce(d.value, ''), h, vis, uv, coalesce(spent.t, 0) + coalesce(exits.t, 0), coalesce(exits.n, 0), 0, 0, 0, 0
		FROM hits LEFT JOIN spent USING (i, k) LEFT JOIN exits USING (i, k) LEFT JOIN dict d ON d.id = hits.k`
	default:
		query += ` SELECT i, k, h, vis, uv, 0, 0, 0, 0, 0, 0 FROM hits`
	}
	// #nosec G202 -- the query is built of fixed column names, type numbers and placeholders; every value is bound.
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("action groups: %w", err)
	}
	defer rows.Close()
	var out []store.ActionRow
	for rows.Next() {
		var r store.ActionRow
		if err := rows.Scan(&r.Range, &r.Key, &r.Hits, &r.Visits, &r.UniqueVisitors, &r.TimeSpent, &r.ExitVisits,
			&r.EntryVisits, &r.EntryActions, &r.EntryLength, &r.EntryBounces); err != nil {
			return nil, fmt.Errorf("action groups: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// ItemGroups aggregates ordered items, or the last cart of visits that ended with an
// abandoned cart, by SKU, name or category.
func (s *Store) ItemGroups(ctx context.Context, q store.ItemQuery) ([]store.ItemRow, error) {
	if len(q.Ranges) == 0 {
		return nil, nil
	}
	key := map[store.ItemKey]string{store.ItemSKU: "i.sku", store.ItemName: "coalesce(i.name, '')",
		store.ItemCategory: "unnest(CASE WHEN i.categories IS NULL THEN [''] ELSE from_json(i.categories, '[\"VARCHAR\"]') END)"}[q.By]
	if key == "" {
		return nil, fmt.Errorf("cannot group items by %q", q.By)
	}
	idx, within := periods("i.ts", q.Ranges)
	seg, segArgs, err := segmentSQL(q.Segment)
	if err != nil {
		return nil, err
	}
	inSegment, inArgs := "", []any(nil)
	if len(q.Segment.And) > 0 {
		inSegment, inArgs = segmentVisits(q.ReportQuery, seg, segArgs)
		inSegment = strings.Replace(inSegment, "a.visit_id", "i.visit_id", 1)
	}
	kind, orders := strconv.Itoa(int(event.ActionOrder)), "count(DISTINCT i.order_id)"
	abandoned := ""
	if q.Abandoned {
		// The cart a visit left: its last cart update, in visits whose status ends abandoned.
		kind, orders = strconv.Itoa(int(event.ActionCartUpdate)), "count(DISTINCT i.visit_id)"
		abandoned = ` AND i.ts = (SELECT max(l.ts) FROM items l WHERE ` + nearby("l.ts", q.Ranges) + ` AND l.site_id = i.site_id AND l.visit_id = i.visit_id AND l.kind = ` + kind + `)
			AND i.visit_id IN (SELECT v.visit_id FROM visits v WHERE v.site_id = i.site_id AND v.ecommerce IN (` +
			strconv.Itoa(int(event.EcommerceAbandonedCart)) + `, ` + strconv.Itoa(int(event.EcommerceOrderedThenAbandonedCart)) + `))`
	}
	args := append([]any{int64(q.Site)}, inArgs...)
	// #nosec G202 -- built of fixed expressions, formatted times, type numbers and placeholders; every value is bound.
	query := `SELECT i, k, sum(price * quantity), sum(quantity)::BIGINT, ` + strings.Replace(orders, "i.", "", 1) + `, count(DISTINCT visit_id)
		FROM (SELECT ` + idx + ` AS i, ` + key + ` AS k, i.price, i.quantity, i.order_id, i.visit_id
			FROM items i
			WHERE ` + within + ` AND i.site_id = ? AND i.kind = ` + kind + inSegment + abandoned + `)
		GROUP BY i, k`
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("item groups: %w", err)
	}
	defer rows.Close()
	var out []store.ItemRow
	for rows.Next() {
		var r store.ItemRow
		if err := rows.Scan(&r.Range, &r.Key, &r.Revenue, &r.Quantity, &r.Orders, &r.Visits); err != nil {
			return nil, fmt.Errorf("item groups: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// EventGroups aggregates events or content actions by a field and, as subtables, a second.
func (s *Store) EventGroups(ctx context.Context, q store.EventQuery) ([]store.EventRow, error) {
	if len(q.Ranges) == 0 {
		return nil, nil
	}
	var cols [2]string
	for i, f := range q.By {
		k, ok := actionKeys[f]
		if !ok || k.ref != "" {
			return nil, fmt.Errorf("cannot group events by %q", f)
		}
		cols[i] = "coalesce(a." + k.col + ", '')"
	}
	idx, within := periods("a.ts", q.Ranges)
	seg, segArgs, err := segmentSQL(q.Segment)
	if err != nil {
		return nil, err
	}
	inSegment, inArgs := segmentVisits(q.ReportQuery, seg, segArgs)
	args := append([]any{int64(q.Site)}, inArgs...)
	// #nosec G202 -- built of fixed column names, a type number and placeholders; every value is bound.
	query := `SELECT a.i, k1, k2, GROUPING(k2), count(*), count(DISTINCT a.visit_id), ` + uniques(q.NoRowUniques, "a.visitor_id") + `,
		count(a.event_value), coalesce(sum(a.event_value), 0), coalesce(min(a.event_value), 0), coalesce(max(a.event_value), 0),
		count(*) FILTER (WHERE coalesce(a.content_interaction, '') <> '')
		FROM (SELECT ` + idx + ` AS i, ` + cols[0] + ` AS k1, ` + cols[1] + ` AS k2, a.* FROM actions a WHERE ` + within + `) a
		WHERE a.site_id = ? AND a.type = ` + strconv.Itoa(int(q.Type)) + inSegment + `
		GROUP BY GROUPING SETS ((a.i, k1), (a.i, k1, k2))`
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("event groups: %w", err)
	}
	defer rows.Close()
	var out []store.EventRow
	for rows.Next() {
		var r store.EventRow
		var k1, k2 sql.NullString
		var grouping int
		if err := rows.Scan(&r.Range, &k1, &k2, &grouping, &r.Hits, &r.Visits, &r.UniqueVisitors, &r.WithValue, &r.Sum, &r.Min, &r.Max, &r.Interactions); err != nil {
			return nil, fmt.Errorf("event groups: %w", err)
		}
		r.Keys = []string{k1.String}
		if grouping == 0 {
			r.Keys = append(r.Keys, k2.String)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// idCache is a bounded set of dictionary ids known to be stored.
type idCache struct {
	mu  sync.Mutex
	max int
	cur map[int64]struct{}
	old map[int64]struct{}
}

func newIDCache(max int) *idCache {
	return &idCache{max: max, cur: map[int64]struct{}{}, old: map[int64]struct{}{}}
}

func (c *idCache) has(id int64) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.cur[id]; ok {
		return true
	}
	_, ok := c.old[id]
	return ok
}

func (c *idCache) add(id int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.cur) >= c.max {
		c.old, c.cur = c.cur, map[int64]struct{}{}
	}
	c.cur[id] = struct{}{}
}

// Conversions aggregates goal conversions (goal actions), orders (goal 0) and abandoned
// carts (goal -1: the last cart update of visits whose status ends abandoned) by range and
// goal, with the overall row (goal -2, not abandoned carts) and the new/returning split.
func (s *Store) Conversions(ctx context.Context, q store.ReportQuery) ([]store.ConversionRow, error) {
	if len(q.Ranges) == 0 {
		return nil, nil
	}
	seg, segArgs, err := segmentSQL(q.Segment)
	if err != nil {
		return nil, err
	}
	inSegment, inArgs := segmentVisits(q, seg, segArgs)
	idx, within := periods("a.ts", q.Ranges)
	args := append([]any{int64(q.Site)}, inArgs...)
	args = append(append(args, int64(q.Site)), inArgs...)
	args = append(args, int64(q.Site))
	goalType, order, cart := strconv.Itoa(int(event.ActionGoal)), strconv.Itoa(int(event.ActionOrder)), strconv.Itoa(int(event.ActionCartUpdate))
	abandoned := strconv.Itoa(int(event.EcommerceAbandonedCart)) + ", " + strconv.Itoa(int(event.EcommerceOrderedThenAbandonedCart))
	cols := `a.visit_id, a.ts, a.type, a.revenue, a.subtotal, a.tax, a.shipping, a.discount`
	// #nosec G202 -- built of fixed expressions, type numbers and placeholders; every value is bound.
	query := `WITH conv AS (
		SELECT ` + idx + ` AS i, CASE WHEN a.type = ` + order + ` THEN 0 ELSE a.goal_id END AS g, ` + cols + `
			FROM actions a
			WHERE ` + within + ` AND a.site_id = ? AND a.type IN (` + goalType + `, ` + order + `)` + inSegment + `
		UNION ALL
		SELECT ` + idx + ` AS i, -1 AS g, ` + cols + `
			FROM actions a
			WHERE ` + within + ` AND a.site_id = ? AND a.type = ` + cart + inSegment + `
			AND a.visit_id IN (SELECT v.visit_id FROM visits v WHERE v.site_id = a.site_id AND v.ecommerce IN (` + abandoned + `))
			AND a.ts = (SELECT max(l.ts) FROM actions l WHERE ` + nearby("l.ts", q.Ranges) + ` AND l.site_id = a.site_id AND l.visit_id = a.visit_id AND l.type = ` + cart + `)),
	convs AS (
		SELECT c.*, v.is_returning AS ret, c.g <> -1 AS overall,
			coalesce((SELECT sum(it.quantity) FROM items it WHERE it.site_id = v.site_id AND it.visit_id = c.visit_id AND it.ts = c.ts AND it.kind = c.type), 0) AS n
		FROM conv c JOIN visits v ON v.visit_id = c.visit_id AND v.site_id = ?)
	SELECT i, CASE WHEN GROUPING(g) = 1 THEN -2 ELSE g END, CASE WHEN GROUPING(ret) = 1 THEN '' WHEN ret THEN 'returning' ELSE 'new' END,
		count(*), count(DISTINCT visit_id), sum(revenue), sum(n)::BIGINT, sum(subtotal), sum(tax), sum(shipping), sum(discount)
	FROM convs
	GROUP BY GROUPING SETS ((i, g, ret), (i, g), (i, overall, ret), (i, overall))
	HAVING GROUPING(overall) = 1 OR overall`
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("conversions: %w", err)
	}
	defer rows.Close()
	var out []store.ConversionRow
	for rows.Next() {
		var r store.ConversionRow
		if err := rows.Scan(&r.Range, &r.Goal, &r.Visitor, &r.Conversions, &r.Visits, &r.Revenue, &r.Items, &r.Subtotal, &r.Tax, &r.Shipping, &r.Discount); err != nil {
			return nil, fmt.Errorf("conversions: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}
