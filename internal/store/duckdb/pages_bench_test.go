package duckdb_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"hearth/internal/auth"
	"hearth/internal/web"
)

// benchPages are the dashboard pages whose server time BenchmarkReports sets beside the time of
// the Reporting API calls each one makes.
var benchPages = []struct{ name, path string }{
	{"sites", "/?period=range&date=last30"},
	{"overview", "/site/1?period=range&date=last30"},
	{"overview-compare", "/site/1?period=range&date=last30&compare=previous"},
	{"overview-segmented", "/site/1?period=range&date=last30&segment=deviceType%3D%3Dsmartphone%3BreferrerType%3D%3Dsearch"},
	{"report", "/site/1/report/Actions.getPageUrls?period=range&date=last30&compare=previous"},
	{"report-evolution", "/site/1/report/Referrers.getReferrerType/evolution?period=range&date=last30&label=Search+Engines"},
	{"goals", "/site/1/goals?period=range&date=last30&compare=previous"},
	{"realtime", "/site/1/realtime"},
	{"visitors", "/site/1/visitors?period=range&date=last30"},
}

// recorder passes a page's API calls on and notes them, so the baseline can make the very
// same calls.
type recorder struct {
	web.Reporter
	mu    sync.Mutex
	calls []url.Values
}

func (c *recorder) ServeAs(rw http.ResponseWriter, r *http.Request, p *auth.Principal) {
	c.mu.Lock()
	c.calls = append(c.calls, r.URL.Query())
	c.mu.Unlock()
	c.Reporter.ServeAs(rw, r, p)
}

// pageOverhead times a page against the API calls it needs: the page's own server time (its
// calls, web.CallsAtOnce at a time as the page makes them, plus sessions, templates and
// rendering), and the same calls made by an API client with a token, as many at a time. The
// difference is what the page adds; the dashboard's budget is 20 ms.
func pageOverhead(b *testing.B, r *reportRig, path string) {
	ctx := context.Background()
	rec := &recorder{Reporter: r.api}
	pages, err := web.New(web.Options{Meta: r.meta, Reports: rec, Now: func() time.Time { return benchEnd.Add(-time.Second) },
		Accounts: web.Accounts{Auth: r.auth, Idle: time.Hour, Lifetime: time.Hour}})
	if err != nil {
		b.Fatal(err)
	}
	h := pages.Handler()
	session, err := r.auth.StartSession(ctx, "root", "", netip.MustParseAddr("192.0.2.1"))
	if err != nil {
		b.Fatal(err)
	}
	page := func() {
		req := httptest.NewRequest("GET", path, nil)
		req.AddCookie(&http.Cookie{Name: web.SessionCookie, Value: session})
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != 200 {
			b.Fatalf("%s: %d %s", path, w.Code, w.Body.String())
		}
	}
	page()
	calls := rec.calls
	if len(calls) == 0 {
		b.Fatalf("%s made no API call", path)
	}
	api := func() {
		var wg sync.WaitGroup
		slots := make(chan struct{}, web.CallsAtOnce)
		for _, c := range calls {
			wg.Add(1)
			slots <- struct{}{}
			go func() {
				defer func() { <-slots; wg.Done() }()
				p := url.Values{}
				for k, v := range c {
					p[k] = v
				}
				r.call(b, p)
			}()
		}
		wg.Wait()
	}
	var pt, at []float64
	page()
	api()
	b.ResetTimer()
	for range b.N {
		t := time.Now()
		page()
		pt = append(pt, float64(time.Since(t).Microseconds())/1000)
		t = time.Now()
		api()
		at = append(at, float64(time.Since(t).Microseconds())/1000)
	}
	b.StopTimer()
	// Each call alone, one after another, for the log: where the page's time goes.
	type timed struct {
		call string
		ms   float64
	}
	var each []timed
	for _, c := range calls {
		p := url.Values{}
		for k, v := range c {
			p[k] = v
		}
		t := time.Now()
		r.call(b, p)
		each = append(each, timed{c.Get("method") + " " + c.Get("period") + " " + c.Get("date"), float64(time.Since(t).Microseconds()) / 1000})
	}
	sort.Slice(each, func(i, j int) bool { return each[i].ms > each[j].ms })
	var sum float64
	var parts []string
	for i, e := range each {
		sum += e.ms
		if i < 8 {
			parts = append(parts, fmt.Sprintf("%s %.1f ms", e.call, e.ms))
		}
	}
	b.Logf("%s: %d calls, %.0f ms one after another; slowest: %s", path, len(each), sum, strings.Join(parts, ", "))
	pm, am := median(pt), median(at)
	b.ReportMetric(pm, "page-ms")
	b.ReportMetric(am, "api-ms")
	b.ReportMetric(pm-am, "added-ms")
	b.ReportMetric(float64(len(calls)), "api-calls")
	b.ReportMetric(0, "ns/op")
}
