package duckdb

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"hearth/internal/event"
	"hearth/internal/store"
)

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
	return queryRows(ctx, s.db, "open visits", func(rows *sql.Rows) (event.Visit, error) {
		v, err := scanVisit(rows)
		if err != nil {
			return v, err
		}
		return v, nil
	}, `SELECT `+visitColumns+` FROM visits v`+visitJoins+` WHERE v.last_ts >= ?`, since.UTC())
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
	return eachRow(ctx, s.db, "list visitors", func(rows *sql.Rows) error {
		var site, visitor int64
		if err := rows.Scan(&site, &visitor); err != nil {
			return err
		}
		fn(event.SiteID(site), visitorFromInt(visitor))
		return nil
	}, `SELECT site_id, visitor_id FROM visitors`)
}

// Visits returns the most recent visits first, optionally with their actions.
func (s *Store) Visits(ctx context.Context, q store.VisitQuery) ([]store.VisitDetail, error) {
	if len(q.Sites) == 0 {
		return nil, nil
	}
	if q.Limit <= 0 {
		q.Limit = 100
	}
	query, args, err := visitsSQL(q)
	if err != nil {
		return nil, err
	}
	out, err := queryRows(ctx, s.db, "list visits", func(rows *sql.Rows) (store.VisitDetail, error) {
		v, err := scanVisit(rows)
		return store.VisitDetail{Visit: v}, err
	}, query, args...)
	if err != nil {
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

// visitsSQL builds the statement Visits runs to list the visits, for a query with sites and
// a limit.
func visitsSQL(q store.VisitQuery) (string, []any, error) {
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
			return "", nil, err
		}
		where += ` AND ` + seg
		args = append(args, segArgs...)
	}
	args = append(args, q.Limit, q.Offset)
	// #nosec G202 -- where holds constants and formatted site ids; values are bound.
	return `SELECT ` + visitColumns + ` FROM visits v` + visitJoins + where +
		` ORDER BY v.last_ts DESC, v.visit_id DESC LIMIT ? OFFSET ?`, args, nil
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
	counts := map[event.VisitID]int{}
	// #nosec G202 -- ids are formatted integers, never request text.
	err := eachRow(ctx, s.db, "count actions", func(rows *sql.Rows) error {
		var id event.VisitID
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			return err
		}
		counts[id] = n
		return nil
	}, `SELECT visit_id, count(*) FROM actions WHERE visit_id IN (`+ids+`) AND ts >= ? GROUP BY visit_id`, minFirst)
	if err != nil {
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
	query, args := actionsSQL(where, perVisit, args...)
	out, err := queryRows(ctx, s.db, "list actions", func(rows *sql.Rows) (event.Action, error) {
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
			return a, err
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
		return a, nil
	}, query, args...)
	if err != nil {
		return nil, err
	}
	if err := s.attachItems(ctx, out); err != nil {
		return nil, err
	}
	return out, nil
}

// actionsSQL builds the statement actions runs.
func actionsSQL(where string, perVisit int, args ...any) (string, []any) {
	// Ties of idx (possible for a visit continued after a restart) are broken by time, the same
	// way in the cut and in the order.
	order := ` ORDER BY a.visit_id, a.idx, a.ts`
	if perVisit > 0 {
		order = ` QUALIFY row_number() OVER (PARTITION BY a.visit_id ORDER BY a.idx, a.ts) <= ?` + order
		args = append(args, perVisit)
	}
	// #nosec G202 -- where is built in this file from constants and formatted integers; values are bound.
	return `SELECT a.site_id, a.visit_id, a.visitor_id, a.ts, a.idx, a.type, u.value, t.value, a.pv_id,
		a.first_url, a.first_title, ru.value, rt.value, a.ref_time_spent, a.search_keyword, a.search_category, a.search_count,
		a.event_category, a.event_action, a.event_name, a.event_value, a.content_name, a.content_piece, a.content_target,
		a.content_interaction, a.goal_id, a.revenue, a.order_id, a.subtotal, a.tax, a.shipping, a.discount,
		a.product_sku, a.product_name, a.product_category, a.product_price,
		a.pf_net, a.pf_srv, a.pf_tfr, a.pf_dm1, a.pf_dm2, a.pf_onl, a.dimensions, a.custom_vars, a.extra
		FROM actions a LEFT JOIN dict u ON u.id = a.url_id LEFT JOIN dict t ON t.id = a.title_id
		LEFT JOIN dict ru ON ru.id = a.ref_url_id LEFT JOIN dict rt ON rt.id = a.ref_title_id
		WHERE ` + where + order, args
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
	return eachRow(ctx, s.db, "list items", func(rows *sql.Rows) error {
		var visit int64
		var ts time.Time
		var kind uint8
		var it event.Item
		var name, cats sql.NullString
		if err := rows.Scan(&visit, &ts, &kind, &it.SKU, &name, &cats, &it.Price, &it.Quantity); err != nil {
			return err
		}
		it.Name = name.String
		if cats.Valid {
			_ = json.Unmarshal([]byte(cats.String), &it.Categories)
		}
		if i, ok := want[key{event.VisitID(visit), ts.UnixMicro(), event.ActionType(kind)}]; ok {
			acts[i].Items = append(acts[i].Items, it)
		}
		return nil
	}, `SELECT visit_id, ts, kind, sku, name, categories, price, quantity FROM items WHERE visit_id IN (`+strings.Join(ids, ",")+`)`)
}

// Counters returns Live.getCounters figures for visits active since the given time.
func (s *Store) Counters(ctx context.Context, sites []event.SiteID, since time.Time, segment store.Filter) (store.Counters, error) {
	var c store.Counters
	if len(sites) == 0 {
		return c, nil
	}
	query, args, err := countersSQL(sites, since, segment)
	if err != nil {
		return c, err
	}
	err = s.db.QueryRowContext(ctx, query, args...).Scan(&c.Visits, &c.Actions, &c.Visitors, &c.VisitsConverted)
	if err != nil {
		return c, fmt.Errorf("live counters: %w", err)
	}
	return c, nil
}

// countersSQL builds the statement Counters runs, for one or more sites.
func countersSQL(sites []event.SiteID, since time.Time, segment store.Filter) (string, []any, error) {
	seg, segArgs, err := segmentSQL(segment)
	if err != nil {
		return "", nil, err
	}
	// #nosec G202 -- site ids are formatted integers and seg is built of fixed expressions and placeholders.
	return `SELECT count(*), coalesce(sum(v.actions), 0), count(DISTINCT v.visitor_id), count(*) FILTER (WHERE v.conversions > 0)
		FROM visits v WHERE v.site_id IN (` + siteList(sites) + `) AND v.last_ts >= ? AND ` + seg, append([]any{since.UTC()}, segArgs...), nil
}

// BotCount returns the bot requests filtered for a site on days in [from, to).
func (s *Store) BotCount(ctx context.Context, site event.SiteID, from, to time.Time) (int64, error) {
	var n int64
	err := s.db.QueryRowContext(ctx, `SELECT coalesce(sum(hits), 0) FROM bot_hits WHERE site_id = ? AND day >= CAST(? AS DATE) AND day < CAST(? AS DATE)`,
		int64(site), from.UTC().Format("2006-01-02"), to.UTC().Format("2006-01-02")).Scan(&n)
	return n, err
}
