package duckdb

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	duck "github.com/duckdb/duckdb-go/v2"

	"hearth/internal/event"
	"hearth/internal/store"
)

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
