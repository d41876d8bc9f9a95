// Package bench measures Hearth's ingest throughput against a ceiling server in the same run.
package bench

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"hearth/test/testbin"
)

func TestMain(m *testing.M) {
	if os.Getenv(ceilingEnv) != "" {
		serveCeiling()
		return
	}
	testbin.Main(m, "../..")
}

const connections = 32

// workload is a realistic page-view stream: varied URLs, titles, user agents and visitors.
type workload struct {
	paths []string
}

var uaTemplates = []string{
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/%d.0.0.0 Safari/537.36",
	"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/%d.1 Safari/605.1.15",
	"Mozilla/5.0 (iPhone; CPU iPhone OS 17_%d like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1",
	"Mozilla/5.0 (Linux; Android 14; Pixel %d) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36",
	"Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:%d.0) Gecko/20100101 Firefox/%[1]d.0",
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:%d.0) Gecko/20100101 Firefox/%[1]d.0",
}

func newWorkload(n int) *workload {
	r := rand.New(rand.NewPCG(1, 2))
	sections := []string{"services", "doctors", "appointments", "news", "locations", "patients", "careers", "about"}
	refs := []string{"", "", "", "https://www.google.com/search?q=clinic", "https://duckduckgo.com/?q=doctor", "https://www.facebook.com/", "https://partner.example/links"}
	w := &workload{}
	for i := 0; i < n; i++ {
		sec := sections[r.IntN(len(sections))]
		page := fmt.Sprintf("https://clinic.example/%s/page-%d?ref=%d", sec, r.IntN(2000), r.IntN(5))
		ua := fmt.Sprintf(uaTemplates[r.IntN(len(uaTemplates))], 110+r.IntN(15))
		q := url.Values{
			"idsite": {"1"}, "rec": {"1"}, "send_image": {"0"}, "url": {page},
			"action_name": {strings.ToUpper(sec[:1]) + sec[1:] + " – page " + fmt.Sprint(i%2000)},
			"_id":         {fmt.Sprintf("%016x", r.Uint64()%50000)}, "res": {"1920x1080"}, "h": {"12"}, "m": {"1"}, "s": {"2"},
			"ua": {ua}, "lang": {"en-GB"}, "pv_id": {fmt.Sprintf("%06x", r.IntN(1<<24))},
		}
		if ref := refs[r.IntN(len(refs))]; ref != "" {
			q.Set("urlref", ref)
		}
		w.paths = append(w.paths, "/matomo.php?"+q.Encode())
	}
	return w
}

// drive sends n requests over 32 keep-alive connections and returns requests per second.
func drive(b *testing.B, base string, w *workload, n int) float64 {
	tr := &http.Transport{MaxIdleConnsPerHost: connections, MaxConnsPerHost: connections, DisableCompression: true}
	defer tr.CloseIdleConnections()
	c := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	var next atomic.Int64
	var failed atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for i := 0; i < connections; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				k := next.Add(1) - 1
				if k >= int64(n) {
					return
				}
				resp, err := c.Get(base + w.paths[k%int64(len(w.paths))])
				if err != nil {
					failed.Add(1)
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusNoContent {
					failed.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	if f := failed.Load(); f > 0 {
		b.Fatalf("%d of %d requests failed", f, n)
	}
	return float64(n) / elapsed.Seconds()
}

// ceilingEnv makes the benchmark binary run as the ceiling server instead of the benchmarks;
// with floorDirEnv set as well, it runs as the durable floor server, its log in that directory.
const (
	ceilingEnv  = "HEARTH_BENCH_CEILING"
	floorDirEnv = "HEARTH_BENCH_FLOOR_DIR"
)

// serveCeiling is the fastest a Go tracking endpoint can answer on this machine: parse the
// query string and answer 204, nothing more. As the durable floor server it also appends the
// query to a syncLog and answers once that is on disk: the fastest a tracking endpoint that
// acknowledges only durable hits can answer here, doing nothing else with them. It prints its
// address, then serves until its standard input closes.
func serveCeiling() {
	var log *syncLog
	if dir := os.Getenv(floorDirEnv); dir != "" {
		var err error
		if log, err = openSyncLog(dir); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if q := r.URL.Query(); q.Get("idsite") == "" {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		if log != nil {
			<-log.append(r.URL.RawQuery)
		}
		w.WriteHeader(http.StatusNoContent)
	}), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		srv.Close()
	}()
	fmt.Printf("http://%s\n", ln.Addr())
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// startBaseline starts the ceiling server (or with durable, the durable floor server) as a process of
// its own, as hearth serve is one: a server sharing the load generator's process would be
// spared the wake-ups between processes that every real server pays on each request. It
// returns the base URL and a function that stops the process.
func startBaseline(b *testing.B, durable bool) (string, func()) {
	cmd := exec.Command(os.Args[0]) // #nosec G204 -- this benchmark binary itself
	cmd.Env = append(os.Environ(), ceilingEnv+"=1")
	if durable {
		cmd.Env = append(cmd.Env, floorDirEnv+"="+b.TempDir())
	}
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	stop := func() {
		stdin.Close()
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	}
	addr := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(stdout).ReadString('\n')
		addr <- strings.TrimSpace(line)
	}()
	select {
	case base := <-addr:
		if !strings.HasPrefix(base, "http://127.0.0.1:") {
			stop()
			b.Fatalf("ceiling server said %q", base)
		}
		return base, stop
	case <-time.After(30 * time.Second):
		stop()
		b.Fatal("ceiling server did not start")
	}
	return "", nil
}

func hearth(b *testing.B) (*testbin.Server, string) {
	dir := testbin.InitDataDir(b)
	s := testbin.Start(b, dir)
	tok := s.Token(b)
	s.AddSite(b, tok, url.Values{"urls[0]": {"https://clinic.example"}})
	return s, tok
}

// BenchmarkIngest drives the ceiling server, the durable floor server, hearth serve
// (enrichment and durability on), the floor server again and the ceiling again with the same
// page-view load, and reports the rates and their ratios to the ceiling. The machine's speed
// drifts within a run; measuring the two baselines before and after Hearth and taking their
// means keeps a drift from counting for or against Hearth.
func BenchmarkIngest(b *testing.B) {
	w := newWorkload(20000)
	n := max(b.N, 500)
	ceilBase, stopCeil := startBaseline(b, false)
	defer stopCeil()
	floorBase, stopFloor := startBaseline(b, true)
	defer stopFloor()
	drive(b, ceilBase, w, min(n, 2000)) // warm up
	drive(b, floorBase, w, min(n, 2000))
	ceil1 := drive(b, ceilBase, w, n)
	floor1 := drive(b, floorBase, w, n)

	s, tok := hearth(b)
	drive(b, s.Base, w, min(n, 2000)) // warm up: caches, connections
	got := drive(b, s.Base, w, n)
	s.Stop()

	floor2 := drive(b, floorBase, w, n)
	ceil2 := drive(b, ceilBase, w, n)
	ceil, floor := (ceil1+ceil2)/2, (floor1+floor2)/2

	b.ReportMetric(ceil, "ceiling_req/s")
	b.ReportMetric(floor, "floor_req/s")
	b.ReportMetric(got, "hearth_req/s")
	b.ReportMetric(floor/ceil, "floor_ratio")
	b.ReportMetric(got/ceil, "ratio")
	b.Logf("%d requests, 32 connections: ceiling %.0f req/s (%.0f before, %.0f after), hearth %.0f req/s, ratio %.2f; durable floor %.0f req/s (%.0f, %.0f), %.2f",
		n, ceil, ceil1, ceil2, got, got/ceil, floor, floor1, floor2, floor/ceil)
	_ = tok
}

// BenchmarkIngestBulk measures hits per second through the bulk endpoint (100 hits a request).
func BenchmarkIngestBulk(b *testing.B) {
	w := newWorkload(20000)
	s, _ := hearth(b)
	defer s.Stop()
	const per = 100
	n := max(b.N, 1000)
	bodies := make([][]byte, 0, len(w.paths)/per)
	for i := 0; i+per <= len(w.paths); i += per {
		var buf bytes.Buffer
		buf.WriteString(`{"requests":[`)
		for j := 0; j < per; j++ {
			if j > 0 {
				buf.WriteByte(',')
			}
			fmt.Fprintf(&buf, "%q", strings.TrimPrefix(w.paths[i+j], "/matomo.php"))
		}
		buf.WriteString(`]}`)
		bodies = append(bodies, buf.Bytes())
	}
	tr := &http.Transport{MaxIdleConnsPerHost: 8}
	c := &http.Client{Transport: tr, Timeout: 60 * time.Second}
	requests := max(n/per, 1)
	var next atomic.Int64
	var failed atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				k := next.Add(1) - 1
				if k >= int64(requests) {
					return
				}
				resp, err := c.Post(s.Base+"/matomo.php", "application/json", bytes.NewReader(bodies[k%int64(len(bodies))]))
				if err != nil {
					failed.Add(1)
					continue
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK || !bytes.Contains(body, []byte(fmt.Sprintf(`"tracked":%d`, per))) {
					failed.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	if failed.Load() > 0 {
		b.Fatalf("%d bulk requests failed", failed.Load())
	}
	rate := float64(requests*per) / elapsed.Seconds()
	b.ReportMetric(rate, "hits/s")
	b.Logf("bulk: %d hits in requests of %d over 8 connections: %.0f hits/s", requests*per, per, rate)
}
