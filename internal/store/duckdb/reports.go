package duckdb

import (
	"context"
	"database/sql"
	"strconv"
	"strings"
	"time"

	"hearth/internal/event"
	"hearth/internal/store"
)

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
	query, args, err := visitTotalsSQL(q)
	if err != nil {
		return nil, err
	}
	err = eachRow(ctx, s.db, "visit totals", func(rows *sql.Rows) error {
		var i int
		var t store.VisitTotals
		if err := rows.Scan(&i, &t.Visits, &t.UniqueVisitors, &t.Users, &t.Actions, &t.MaxActions, &t.VisitLength, &t.Bounces, &t.Converted); err != nil {
			return err
		}
		if i >= 0 && i < len(out) {
			out[i] = t
		}
		return nil
	}, query, args...)
	if err != nil {
		return nil, err
	}
	return out, nil
}

// visitTotalsSQL builds the statement VisitTotals runs, for a query with ranges.
func visitTotalsSQL(q store.ReportQuery) (string, []any, error) {
	idx, within := periods("v.last_ts", q.Ranges)
	seg, segArgs, err := segmentSQL(q.Segment)
	if err != nil {
		return "", nil, err
	}
	args := append([]any{int64(q.Site)}, segArgs...)
	group := " GROUP BY i"
	if len(q.Ranges) == 1 {
		group = "" // one range: an ungrouped aggregate, which is cheaper
	}
	// #nosec G202 -- idx, within and seg are built of fixed expressions, formatted times and placeholders; every value is bound.
	return `SELECT ` + idx + ` AS i, count(*), count(DISTINCT v.visitor_id), count(DISTINCT v.user_id),
		coalesce(sum(v.actions), 0)::BIGINT, coalesce(max(v.actions), 0), coalesce(sum(date_diff('second', v.first_ts, v.last_ts)), 0)::BIGINT,
		count(*) FILTER (WHERE v.actions <= 1), count(*) FILTER (WHERE v.conversions > 0)
		FROM visits v
		WHERE ` + within + ` AND v.site_id = ? AND ` + seg + group, args, nil
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

// Conversions aggregates goal conversions (goal actions), orders (goal 0) and abandoned
// carts (goal -1: the last cart update of visits whose status ends abandoned) by range and
// goal, with the overall row (goal -2, not abandoned carts) and the new/returning split.
func (s *Store) Conversions(ctx context.Context, q store.ReportQuery) ([]store.ConversionRow, error) {
	if len(q.Ranges) == 0 {
		return nil, nil
	}
	query, args, err := conversionsSQL(q)
	if err != nil {
		return nil, err
	}
	return queryRows(ctx, s.db, "conversions", func(rows *sql.Rows) (store.ConversionRow, error) {
		var r store.ConversionRow
		if err := rows.Scan(&r.Range, &r.Goal, &r.Visitor, &r.Conversions, &r.Visits, &r.Revenue, &r.Items, &r.Subtotal, &r.Tax, &r.Shipping, &r.Discount); err != nil {
			return r, err
		}
		return r, nil
	}, query, args...)
}

// conversionsSQL builds the statement Conversions runs, for a query with ranges.
func conversionsSQL(q store.ReportQuery) (string, []any, error) {
	seg, segArgs, err := segmentSQL(q.Segment)
	if err != nil {
		return "", nil, err
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
	return query, args, nil
}
