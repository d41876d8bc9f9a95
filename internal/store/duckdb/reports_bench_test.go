package duckdb_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"hearth/internal/api/matomo"
	"hearth/internal/auth"
	"hearth/internal/demo"
	"hearth/internal/event"
	"hearth/internal/store"
	"hearth/internal/store/duckdb"
	"hearth/internal/store/sqlite"
)

// benchEnd is the last instant of the benchmark dataset: the reports ask for the 30 days and
// the year before it.
var benchEnd = time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)

type reportRig struct {
	api    *matomo.API
	events *duckdb.Store
	meta   *sqlite.Store
	auth   *auth.Service
	token  string
	bytes  int64
	acts   int64
}

// newReportRig loads HEARTH_BENCH_ACTIONS actions (default 30,000) of the demo dataset over
// 90 days into a fresh event store.
func newReportRig(b *testing.B) *reportRig {
	b.Helper()
	n := 30_000
	if v := os.Getenv("HEARTH_BENCH_ACTIONS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil {
			b.Fatal(err)
		}
	}
	ctx := context.Background()
	dir := b.TempDir()
	meta, err := sqlite.Open(ctx, sqlite.Options{Path: filepath.Join(dir, "m.db"), Key: bytes.Repeat([]byte{7}, 64)})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { meta.Close() })
	path := filepath.Join(dir, "e.duckdb")
	events, err := duckdb.Open(ctx, duckdb.Options{Path: path})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { events.Close() })
	site, err := meta.CreateSite(ctx, store.Site{Name: "Demo", URLs: []string{"https://demo.example"}, Timezone: "UTC", Currency: "EUR", Created: benchEnd})
	if err != nil {
		b.Fatal(err)
	}
	if err := meta.CreateUser(ctx, store.User{Login: "root", Email: "r@example.org", PasswordHash: "x", Superuser: true}); err != nil {
		b.Fatal(err)
	}
	svc := auth.New(auth.Options{Meta: meta, TokenKey: []byte("tk"), Now: func() time.Time { return benchEnd }})
	tok, _, err := svc.NewToken(ctx, "root", "bench", time.Time{})
	if err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	if err := demo.Generate(demo.Options{Site: site, Actions: n, End: benchEnd, Seed: 42}, func(batch store.Batch) error {
		return events.Apply(ctx, batch)
	}); err != nil {
		b.Fatal(err)
	}
	if _, err := events.DB().ExecContext(ctx, "CHECKPOINT"); err != nil {
		b.Fatal(err)
	}
	var acts int64
	if err := events.DB().QueryRowContext(ctx, "SELECT count(*) FROM actions").Scan(&acts); err != nil {
		b.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("loaded %d actions in %s; event store %d bytes, %.1f bytes per action", acts, time.Since(start).Round(time.Millisecond), st.Size(), float64(st.Size())/float64(acts))
	api := matomo.New(matomo.Options{Meta: meta, Events: events, Auth: svc, Now: func() time.Time { return benchEnd.Add(-time.Second) }})
	return &reportRig{api: api, events: events, meta: meta, auth: svc, token: tok, bytes: st.Size(), acts: acts}
}

// call runs one API request and fails on anything but a 200.
func (r *reportRig) call(b *testing.B, params url.Values) {
	params.Set("module", "API")
	params.Set("format", "json")
	params.Set("token_auth", r.token)
	req := httptest.NewRequest("POST", "/index.php", strings.NewReader(params.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := httptest.NewRecorder()
	r.api.ServeHTTP(rec, req)
	if rec.Code != 200 {
		b.Fatalf("%v: %d %s", params, rec.Code, rec.Body.String())
	}
}

// sql runs a hand-written query and reads every row.
func (r *reportRig) sql(b *testing.B, query string, args ...any) {
	rows, err := r.events.DB().QueryContext(context.Background(), query, args...)
	if err != nil {
		b.Fatalf("%v: %s", err, query)
	}
	cols, _ := rows.Columns()
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			b.Fatal(err)
		}
	}
	if err := rows.Err(); err != nil {
		b.Fatal(err)
	}
	rows.Close()
}

// Hand-written queries returning the numbers of each report, as one would write them for
// this schema without any product code. Rows of ranges carry no unique visitors or users
// (as in Matomo); rows of days, weeks and months do (sqlByVisitUniques, uniquePages).
const (
	sqlSummary = `SELECT count(*), count(DISTINCT visitor_id), count(DISTINCT user_id), sum(actions), max(actions),
		sum(date_diff('second', first_ts, last_ts)), count(*) FILTER (WHERE actions <= 1), count(*) FILTER (WHERE conversions > 0)
		FROM visits WHERE site_id = 1 AND last_ts >= ? AND last_ts < ? %s`
	sqlByVisit = `SELECT %s, count(*), sum(actions), max(actions),
		sum(date_diff('second', first_ts, last_ts)), count(*) FILTER (WHERE actions <= 1), count(*) FILTER (WHERE conversions > 0)
		FROM visits WHERE site_id = 1 AND last_ts >= ? AND last_ts < ? %s GROUP BY %s`
	sqlPages = `WITH v AS (SELECT visit_id, entry_url_id, exit_url_id, exit_ts, last_ts, actions, first_ts FROM visits
			WHERE site_id = 1 AND last_ts >= ? AND last_ts < ? %s),
		a AS (SELECT * FROM actions WHERE site_id = 1 AND ts >= ? AND ts < ? AND visit_id IN (SELECT visit_id FROM v)),
		hits AS (SELECT url_id, count(*) h, count(*) FILTER (WHERE first_url) vis, %s uv FROM a WHERE type = 1 GROUP BY url_id),
		spent AS (SELECT ref_url_id, sum(ref_time_spent) t FROM a WHERE type = 1 AND ref_url_id <> 0 GROUP BY ref_url_id),
		exits AS (SELECT exit_url_id, count(*) n, sum(date_diff('second', exit_ts, last_ts)) t FROM v GROUP BY exit_url_id),
		entries AS (SELECT entry_url_id, count(*) n, sum(actions) a, sum(date_diff('second', first_ts, last_ts)) l, count(*) FILTER (WHERE actions <= 1) b FROM v GROUP BY entry_url_id)
		SELECT d.value, h, vis, uv, coalesce(spent.t, 0) + coalesce(exits.t, 0), exits.n, entries.n, entries.a, entries.l, entries.b
		FROM hits JOIN dict d ON d.id = hits.url_id LEFT JOIN spent ON spent.ref_url_id = hits.url_id
		LEFT JOIN exits ON exits.exit_url_id = hits.url_id LEFT JOIN entries ON entries.entry_url_id = hits.url_id`
)

// overview times the overview set through the API and by hand-written SQL for the last 30
// days as a range; segment is added to both ("" for none).
func overview(b *testing.B, r *reportRig, segment, where string) {
	overviewOf(b, r, "range", "last30", benchEnd.AddDate(0, 0, -30), benchEnd, segment, where)
}

// overviewOf times the overview set of one period.
func overviewOf(b *testing.B, r *reportRig, period, date string, from, to time.Time, segment, where string) {
	rowUniques := period != "range" && period != "year"
	methods := []string{"VisitsSummary.get", "Actions.getPageUrls", "Referrers.getReferrerType", "UserCountry.getCountry", "DevicesDetection.getType"}
	each := map[string][]float64{}
	hearth := func() {
		for _, m := range methods {
			p := url.Values{"method": {m}, "idSite": {"1"}, "period": {period}, "date": {date}, "segment": {segment}}
			if m == "Actions.getPageUrls" {
				p.Set("flat", "1")
			}
			t := time.Now()
			r.call(b, p)
			each[m] = append(each[m], float64(time.Since(t).Microseconds())/1000)
		}
	}
	defer func() {
		var parts []string
		for _, m := range methods {
			parts = append(parts, fmt.Sprintf("%s %.1f ms", m, median(each[m])))
		}
		b.Logf("medians: %s", strings.Join(parts, ", "))
	}()
	byVisit, pageUniques := sqlByVisit, "-1"
	if rowUniques {
		byVisit = strings.Replace(sqlByVisit, "count(*),", "count(*), count(DISTINCT visitor_id), count(DISTINCT user_id),", 1)
		pageUniques = "count(DISTINCT visitor_id)"
	}
	baseline := func() {
		r.sql(b, fmt.Sprintf(sqlSummary, where), from, to)
		r.sql(b, fmt.Sprintf(sqlPages, where, pageUniques), from, to, from, to)
		r.sql(b, fmt.Sprintf(strings.Replace(byVisit, "GROUP BY %s", "GROUP BY GROUPING SETS ((%s), (referrer_type, referrer_name))", 1), "referrer_type, referrer_name", where, "referrer_type"), from, to)
		r.sql(b, fmt.Sprintf(byVisit, "country", where, "country"), from, to)
		r.sql(b, fmt.Sprintf(byVisit, "device_type", where, "device_type"), from, to)
	}
	compare(b, hearth, baseline)
}

// compare times both sides alternately, b.N times each, and reports their medians and ratio.
func compare(b *testing.B, hearth, baseline func()) {
	var ht, bt []float64
	hearth() // warm the caches of both once
	baseline()
	b.ResetTimer()
	for range b.N {
		t := time.Now()
		hearth()
		ht = append(ht, float64(time.Since(t).Microseconds())/1000)
		t = time.Now()
		baseline()
		bt = append(bt, float64(time.Since(t).Microseconds())/1000)
	}
	b.StopTimer()
	hm, bm := median(ht), median(bt)
	b.ReportMetric(hm, "hearth-ms")
	b.ReportMetric(bm, "sql-ms")
	b.ReportMetric(hm/bm, "ratio")
	b.ReportMetric(0, "ns/op")
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	return s[len(s)/2]
}

// BenchmarkReports times the overview reports for the last 30 days, the same under a
// two-condition segment, and a year-long VisitsSummary with exact unique visitors, each
// beside hand-written DuckDB queries returning the same numbers. Run it with
// `make bench-reports` (10 million actions); CI runs it small.
func BenchmarkReports(b *testing.B) {
	r := newReportRig(b)
	b.ReportMetric(float64(r.bytes)/float64(r.acts), "bytes/action")
	b.Run("overview", func(b *testing.B) { overview(b, r, "", "") })
	b.Run("overview-month", func(b *testing.B) {
		// A calendar month's overview: its rows carry unique visitors and users.
		from := time.Date(benchEnd.Year(), benchEnd.Month(), 1, 0, 0, 0, 0, time.UTC)
		overviewOf(b, r, "month", benchEnd.Add(-time.Second).Format("2006-01-02"), from, benchEnd, "", "")
	})
	b.Run("overview-segmented", func(b *testing.B) {
		overview(b, r, "deviceType==smartphone;referrerType==search", "AND device_type = 'smartphone' AND referrer_type = 2")
	})
	b.Run("overview-under-ingest", func(b *testing.B) {
		// 5,000 actions a second go into the store (in one batch a second, as ingest applies
		// them) while the overview runs: the store side of ingest at that rate.
		stop := make(chan struct{})
		done := make(chan error, 1)
		go func() {
			tick := time.NewTicker(time.Second)
			defer tick.Stop()
			for i := uint64(1); ; i++ {
				select {
				case <-stop:
					done <- nil
					return
				case <-tick.C:
				}
				err := demo.Generate(demo.Options{Site: 1, Actions: 5000, Days: 1, End: benchEnd, Seed: 1000 + i,
					FirstVisit: event.VisitID(1_000_000_000 + i*10_000)}, func(batch store.Batch) error {
					return r.events.Apply(context.Background(), batch)
				})
				if err != nil {
					done <- err
					return
				}
			}
		}()
		overview(b, r, "", "")
		close(stop)
		if err := <-done; err != nil {
			b.Fatal(err)
		}
	})
	for _, p := range benchPages {
		b.Run("page-"+p.name, func(b *testing.B) { pageOverhead(b, r, p.path) })
	}
	b.Run("year-uniques", func(b *testing.B) {
		compare(b, func() {
			r.call(b, url.Values{"method": {"VisitsSummary.get"}, "idSite": {"1"}, "period": {"year"}, "date": {"2026-06-01"}})
		}, func() {
			r.sql(b, fmt.Sprintf(sqlSummary, ""), time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC))
		})
	})
}
