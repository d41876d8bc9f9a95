package duckdb

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"hearth/internal/event"
	"hearth/internal/store"
)

// funnelKinds are the action values funnel steps look at: a dictionary-id column (URLs and
// titles, matched on the dictionary first, as segments are) or a text column, and the action
// type whose value it is.
var funnelKinds = map[store.FunnelKind]struct {
	col   string
	dict  bool
	atype event.ActionType
}{
	store.FunnelURL:           {"a.url_id", true, event.ActionPageview},
	store.FunnelTitle:         {"a.title_id", true, event.ActionPageview},
	store.FunnelDownload:      {"a.url_id", true, event.ActionDownload},
	store.FunnelOutlink:       {"a.url_id", true, event.ActionOutlink},
	store.FunnelEventCategory: {"a.event_category", false, event.ActionEvent},
	store.FunnelEventAction:   {"a.event_action", false, event.ActionEvent},
	store.FunnelEventName:     {"a.event_name", false, event.ActionEvent},
}

// Funnel counts per range the visits (by the range of their last action) that reached each
// step of a funnel, computed from their actions in time order.
func (s *Store) Funnel(ctx context.Context, q store.FunnelQuery) ([]store.FunnelResult, error) {
	out := make([]store.FunnelResult, len(q.Ranges))
	for i := range out {
		out[i].Reached = make([]int64, len(q.Steps))
	}
	if len(q.Ranges) == 0 {
		return out, nil
	}
	query, args, err := funnelSQL(q)
	if err != nil {
		return nil, err
	}
	err = eachRow(ctx, s.db, "funnel", func(rows *sql.Rows) error {
		var i, step int
		var n int64
		if err := rows.Scan(&i, &step, &n); err != nil {
			return err
		}
		if i >= 0 && i < len(out) && step >= 1 && step <= len(q.Steps) {
			out[i].Reached[step-1] = n
		}
		return nil
	}, query, args...)
	if err != nil {
		return nil, err
	}
	return out, nil
}

// funnelSQL builds the statement Funnel runs, for a query with ranges: rows of range, step
// (from 1) and the visits that reached it.
//
// The visits are those of the ranges the segment keeps (fv); their actions that match any
// step are numbered in time order (fo: by time, then by their index in the visit), and each
// step is, per visit, the first matching action after the previous step's (s1, s2, …):
// taking the earliest match at every step finds every visit that did the steps in order.
func funnelSQL(q store.FunnelQuery) (string, []any, error) {
	if len(q.Steps) == 0 {
		return "", nil, fmt.Errorf("funnel without steps")
	}
	seg, segArgs, err := segmentSQL(q.Segment)
	if err != nil {
		return "", nil, err
	}
	idx, within := periods("v.last_ts", q.Ranges)
	var matches, names, types []string
	var matchArgs []any
	for k, st := range q.Steps {
		cond, args, err := funnelStepSQL(st)
		if err != nil {
			return "", nil, fmt.Errorf("funnel step %d: %w", k+1, err)
		}
		name := "m" + strconv.Itoa(k+1)
		matches = append(matches, "coalesce("+cond+", false) AS "+name)
		names = append(names, name)
		matchArgs = append(matchArgs, args...)
		if t := strconv.Itoa(int(funnelKinds[st.Kind].atype)); !slices.Contains(types, t) {
			types = append(types, t)
		}
	}
	args := append([]any{int64(q.Site)}, segArgs...)
	args = append(append(args, matchArgs...), int64(q.Site))
	var b strings.Builder
	// #nosec G202 -- built of fixed expressions, formatted times, type numbers and placeholders; every value is bound.
	b.WriteString(`WITH fv AS (
		SELECT ` + idx + ` AS i, v.visit_id FROM visits v
		WHERE ` + within + ` AND v.site_id = ? AND ` + seg + `),
	fm AS (
		SELECT fv.i, a.visit_id, a.ts, a.idx, ` + strings.Join(matches, ", ") + `
		FROM actions a JOIN fv ON fv.visit_id = a.visit_id
		WHERE ` + nearby("a.ts", q.Ranges) + ` AND a.site_id = ? AND a.type IN (` + strings.Join(types, ", ") + `)),
	fo AS (
		SELECT i, visit_id, row_number() OVER (PARTITION BY visit_id ORDER BY ts, idx) AS o, ` + strings.Join(names, ", ") + `
		FROM fm WHERE ` + strings.Join(names, " OR ") + `),
	s1 AS (SELECT i, visit_id, min(o) AS o FROM fo WHERE m1 GROUP BY i, visit_id)`)
	for k := 2; k <= len(q.Steps); k++ {
		n, prev := strconv.Itoa(k), "s"+strconv.Itoa(k-1)
		b.WriteString(`,
	s` + n + ` AS (SELECT fo.i, fo.visit_id, min(fo.o) AS o FROM fo JOIN ` + prev + ` p ON p.visit_id = fo.visit_id AND fo.o > p.o WHERE fo.m` + n + ` GROUP BY fo.i, fo.visit_id)`)
	}
	b.WriteString(`
	SELECT i, step, count(*) FROM (`)
	for k := 1; k <= len(q.Steps); k++ {
		if k > 1 {
			b.WriteString(`
		UNION ALL `)
		}
		n := strconv.Itoa(k)
		b.WriteString(`SELECT i, ` + n + ` AS step FROM s` + n)
	}
	b.WriteString(`)
	GROUP BY i, step`)
	return b.String(), args, nil
}

// funnelStepSQL is the condition an action (alias a) meets when it matches a step, with its
// bound values.
func funnelStepSQL(st store.FunnelStep) (string, []any, error) {
	kind, ok := funnelKinds[st.Kind]
	if !ok {
		return "", nil, fmt.Errorf("unknown kind %q", st.Kind)
	}
	value := kind.col
	if kind.dict {
		value = "d.value"
	}
	cond, arg, err := funnelMatchSQL(value, st)
	if err != nil {
		return "", nil, err
	}
	if kind.dict {
		cond = kind.col + " IN (SELECT d.id FROM dict d WHERE " + cond + ")"
	}
	return "a.type = " + strconv.Itoa(int(kind.atype)) + " AND " + cond, []any{arg}, nil
}

// funnelMatchSQL compares a text expression with a step's pattern: case-insensitively unless
// the step is case sensitive; a regular expression with DuckDB's RE2, the dialect Go's regexp
// validated it in, case folded by the same (?i) flag.
func funnelMatchSQL(expr string, st store.FunnelStep) (string, any, error) {
	text, value := "lower("+expr+")", "lower(?)"
	if st.CaseSensitive {
		text, value = expr, "?"
	}
	switch st.Match {
	case store.FunnelExact:
		return text + " = " + value, st.Pattern, nil
	case store.FunnelContains:
		return "contains(" + text + ", " + value + ")", st.Pattern, nil
	case store.FunnelStartsWith:
		return "starts_with(" + text + ", " + value + ")", st.Pattern, nil
	case store.FunnelRegex:
		pattern := st.Pattern
		if !st.CaseSensitive {
			pattern = "(?i)" + pattern
		}
		return "regexp_matches(" + expr + ", ?)", pattern, nil
	}
	return "", nil, fmt.Errorf("unknown match %q", st.Match)
}
