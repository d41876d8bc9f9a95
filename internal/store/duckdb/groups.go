package duckdb

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	"hearth/internal/event"
	"hearth/internal/store"
)

// VisitGroups aggregates visits by the period of their last action and one or two fields.
func (s *Store) VisitGroups(ctx context.Context, q store.GroupQuery) ([]store.GroupRow, error) {
	if len(q.Ranges) == 0 || len(q.By) == 0 {
		return nil, nil
	}
	query, args, err := visitGroupsSQL(q)
	if err != nil {
		return nil, err
	}
	// #nosec G202 -- keys, from, join and seg are built of fixed expressions and placeholders; every value is bound.
	out, err := queryRows(ctx, s.db, "visit groups", func(rows *sql.Rows) (store.GroupRow, error) {
		var g store.GroupRow
		var key1, key2 string
		var grouping int
		if err := rows.Scan(&g.Range, &key1, &key2, &grouping, &g.Visits, &g.UniqueVisitors, &g.Users, &g.Actions, &g.MaxActions, &g.VisitLength, &g.Bounces, &g.Converted); err != nil {
			return g, err
		}
		g.Keys = []string{key1}
		if len(q.By) == 2 && grouping == 0 {
			g.Keys = append(g.Keys, key2)
		}
		return g, nil
	}, query, args...)
	if err != nil {
		return nil, err
	}
	if len(q.By) == 2 && q.NoRowUniques {
		out = append(out, rollUp(out)...)
	}
	return out, nil
}

// visitGroupsSQL builds the statement VisitGroups runs, for a query with ranges and fields.
func visitGroupsSQL(q store.GroupQuery) (string, []any, error) {
	if len(q.By) > 2 {
		return "", nil, fmt.Errorf("group by %d fields: at most 2", len(q.By))
	}
	k1, k1Args, err := groupKey(q.By[0], q.Zone)
	if err != nil {
		return "", nil, err
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
			return "", nil, err
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
		return "", nil, err
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
	return query, args, nil
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

// ActionGroups aggregates the actions of given types by the period of their time and a key;
// for URLs and titles also the time spent after them and the visits they ended.
func (s *Store) ActionGroups(ctx context.Context, q store.ActionQuery) ([]store.ActionRow, error) {
	if _, _, err := actionGroupKey(q.By); err != nil {
		return nil, err
	}
	if len(q.Ranges) == 0 || len(q.Types) == 0 {
		return nil, nil
	}
	query, args, err := actionGroupsSQL(q)
	if err != nil {
		return nil, err
	}
	// #nosec G202 -- the query is built of fixed column names, type numbers and placeholders; every value is bound.
	return queryRows(ctx, s.db, "action groups", func(rows *sql.Rows) (store.ActionRow, error) {
		var r store.ActionRow
		if err := rows.Scan(&r.Range, &r.Key, &r.Hits, &r.Visits, &r.UniqueVisitors, &r.TimeSpent, &r.ExitVisits,
			&r.EntryVisits, &r.EntryActions, &r.EntryLength, &r.EntryBounces); err != nil {
			return r, err
		}
		return r, nil
	}, query, args...)
}

// actionGroupKey is the action field a report groups by: its columns, or for a custom
// dimension of actions the expression of its value.
func actionGroupKey(by store.Field) (key struct{ col, ref, exit, entry string }, dimension string, err error) {
	key, ok := actionKeys[by]
	if scope, id, isDim := store.ParseDimensionField(by); isDim && scope == "action" {
		dimension, ok = dimensionValue("a", id), true
	}
	if !ok {
		return key, "", fmt.Errorf("cannot group actions by %q", by)
	}
	return key, dimension, nil
}

// actionGroupsSQL builds the statement ActionGroups runs, for a query with ranges and types.
func actionGroupsSQL(q store.ActionQuery) (string, []any, error) {
	key, dimension, err := actionGroupKey(q.By)
	if err != nil {
		return "", nil, err
	}
	idx, within := periods("a.ts", q.Ranges)
	seg, segArgs, err := segmentSQL(q.Segment)
	if err != nil {
		return "", nil, err
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
	return query, args, nil
}

// ItemGroups aggregates ordered items, or the last cart of visits that ended with an
// abandoned cart, by SKU, name or category.
func (s *Store) ItemGroups(ctx context.Context, q store.ItemQuery) ([]store.ItemRow, error) {
	if len(q.Ranges) == 0 {
		return nil, nil
	}
	query, args, err := itemGroupsSQL(q)
	if err != nil {
		return nil, err
	}
	return queryRows(ctx, s.db, "item groups", func(rows *sql.Rows) (store.ItemRow, error) {
		var r store.ItemRow
		if err := rows.Scan(&r.Range, &r.Key, &r.Revenue, &r.Quantity, &r.Orders, &r.Visits); err != nil {
			return r, err
		}
		return r, nil
	}, query, args...)
}

// itemGroupsSQL builds the statement ItemGroups runs, for a query with ranges.
func itemGroupsSQL(q store.ItemQuery) (string, []any, error) {
	key := map[store.ItemKey]string{store.ItemSKU: "i.sku", store.ItemName: "coalesce(i.name, '')",
		store.ItemCategory: "unnest(CASE WHEN i.categories IS NULL THEN [''] ELSE from_json(i.categories, '[\"VARCHAR\"]') END)"}[q.By]
	if key == "" {
		return "", nil, fmt.Errorf("cannot group items by %q", q.By)
	}
	idx, within := periods("i.ts", q.Ranges)
	seg, segArgs, err := segmentSQL(q.Segment)
	if err != nil {
		return "", nil, err
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
	return query, args, nil
}

// EventGroups aggregates events or content actions by a field and, as subtables, a second.
func (s *Store) EventGroups(ctx context.Context, q store.EventQuery) ([]store.EventRow, error) {
	if len(q.Ranges) == 0 {
		return nil, nil
	}
	query, args, err := eventGroupsSQL(q)
	if err != nil {
		return nil, err
	}
	return queryRows(ctx, s.db, "event groups", func(rows *sql.Rows) (store.EventRow, error) {
		var r store.EventRow
		var k1, k2 sql.NullString
		var grouping int
		if err := rows.Scan(&r.Range, &k1, &k2, &grouping, &r.Hits, &r.Visits, &r.UniqueVisitors, &r.WithValue, &r.Sum, &r.Min, &r.Max, &r.Interactions); err != nil {
			return r, err
		}
		r.Keys = []string{k1.String}
		if grouping == 0 {
			r.Keys = append(r.Keys, k2.String)
		}
		return r, nil
	}, query, args...)
}

// eventGroupsSQL builds the statement EventGroups runs, for a query with ranges.
func eventGroupsSQL(q store.EventQuery) (string, []any, error) {
	var cols [2]string
	for i, f := range q.By {
		k, ok := actionKeys[f]
		if !ok || k.ref != "" {
			return "", nil, fmt.Errorf("cannot group events by %q", f)
		}
		cols[i] = "coalesce(a." + k.col + ", '')"
	}
	idx, within := periods("a.ts", q.Ranges)
	seg, segArgs, err := segmentSQL(q.Segment)
	if err != nil {
		return "", nil, err
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
	return query, args, nil
}
