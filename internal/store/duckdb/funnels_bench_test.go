package duckdb_test

import (
	"context"
	"fmt"
	"testing"

	"hearth/internal/store"
)

// sqlFunnel is the benchmark's funnel written by hand with its patterns as literals, the way
// one would query this schema without the product (which binds every pattern as a value).
const sqlFunnel = `WITH v AS (SELECT visit_id FROM visits WHERE site_id = 1 AND last_ts >= ? AND last_ts < ?),
	a AS (SELECT a.visit_id, row_number() OVER (PARTITION BY a.visit_id ORDER BY a.ts, a.idx) AS o,
			coalesce(a.type = 1 AND a.url_id IN (SELECT id FROM dict WHERE regexp_matches(value, '(?i)^https://demo\.example/$')), false) AS m1,
			coalesce(a.type = 1 AND a.url_id IN (SELECT id FROM dict WHERE contains(lower(value), '/page-')), false) AS m2,
			coalesce(a.type = 5 AND lower(a.event_category) = 'form', false) AS m3,
			coalesce(a.type = 2 AND a.url_id IN (SELECT id FROM dict WHERE contains(lower(value), '.pdf')), false) AS m4
		FROM actions a WHERE a.site_id = 1 AND a.ts >= ? AND a.ts < ? AND a.type IN (1, 2, 5) AND a.visit_id IN (SELECT visit_id FROM v)),
	m AS (SELECT * FROM a WHERE m1 OR m2 OR m3 OR m4),
	s1 AS (SELECT visit_id, min(o) o FROM m WHERE m1 GROUP BY visit_id),
	s2 AS (SELECT m.visit_id, min(m.o) o FROM m JOIN s1 USING (visit_id) WHERE m.m2 AND m.o > s1.o GROUP BY m.visit_id),
	s3 AS (SELECT m.visit_id, min(m.o) o FROM m JOIN s2 USING (visit_id) WHERE m.m3 AND m.o > s2.o GROUP BY m.visit_id),
	s4 AS (SELECT m.visit_id, min(m.o) o FROM m JOIN s3 USING (visit_id) WHERE m.m4 AND m.o > s3.o GROUP BY m.visit_id)
	SELECT (SELECT count(*) FROM s1), (SELECT count(*) FROM s2), (SELECT count(*) FROM s3), (SELECT count(*) FROM s4)`

// BenchmarkFunnel times a four-step funnel (a regex on URLs, a URL part, an event category, a
// download) over the last 30 days, beside the hand-written query with its patterns inlined.
// Run it with HEARTH_BENCH_ACTIONS=10000000 go test ./internal/store/duckdb/ -run '^$' -bench Funnel.
func BenchmarkFunnel(b *testing.B) {
	r := newReportRig(b)
	from, to := benchEnd.AddDate(0, 0, -30), benchEnd
	q := store.FunnelQuery{ReportQuery: store.ReportQuery{Site: 1, Ranges: []store.TimeRange{{From: from, To: to}}}, Steps: []store.FunnelStep{
		{Name: "Home", Kind: store.FunnelURL, Match: store.FunnelRegex, Pattern: `^https://demo\.example/$`},
		{Name: "Page", Kind: store.FunnelURL, Match: store.FunnelContains, Pattern: "/page-"},
		{Name: "Form", Kind: store.FunnelEventCategory, Match: store.FunnelExact, Pattern: "Form"},
		{Name: "Leaflet", Kind: store.FunnelDownload, Match: store.FunnelContains, Pattern: ".pdf"},
	}}
	res, err := r.events.Funnel(context.Background(), q)
	if err != nil {
		b.Fatal(err)
	}
	// The hand-written query must count the same, or the comparison means nothing.
	var want [4]int64
	if err := r.events.DB().QueryRowContext(context.Background(), sqlFunnel, from, to, from.AddDate(0, 0, -1), to).
		Scan(&want[0], &want[1], &want[2], &want[3]); err != nil {
		b.Fatal(err)
	}
	if fmt.Sprint(res[0].Reached) != fmt.Sprint(want[:]) {
		b.Fatalf("funnel reached %v, the hand-written query %v", res[0].Reached, want)
	}
	b.Logf("reached %v", res[0].Reached)
	compare(b, func() {
		if _, err := r.events.Funnel(context.Background(), q); err != nil {
			b.Fatal(err)
		}
	}, func() {
		r.sql(b, sqlFunnel, from, to, from.AddDate(0, 0, -1), to)
	})
}
