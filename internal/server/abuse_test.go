package server

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"hearth/internal/collect"
	"hearth/internal/web"
)

// countingSink counts the hits the tracking endpoint hands on.
type countingSink struct {
	mu   sync.Mutex
	hits int
}

func (s *countingSink) Track(_ context.Context, hits []collect.Hit, _ *collect.Request) []collect.Outcome {
	s.mu.Lock()
	s.hits += len(hits)
	s.mu.Unlock()
	return make([]collect.Outcome, len(hits))
}

func (s *countingSink) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hits
}

// abuseOptions route the real tracking endpoint (on sink), the embedded assets and the
// tracker script; the API answers "api".
func abuseOptions(sink collect.Sink, maxBody int64) Options {
	return Options{
		Listen:   "127.0.0.1:0",
		Tracking: collect.NewHandler(collect.Options{Sink: sink, MaxBodyBytes: maxBody}),
		API:      http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "api") }),
		Pages:    web.Static(),
	}
}

// TestServerTimeouts: the server bounds how long a client may take to send its headers and
// its body, to read the answer, and to idle, and how large its headers may be.
func TestServerTimeouts(t *testing.T) {
	s, err := New(abuseOptions(&countingSink{}, 0))
	if err != nil {
		t.Fatal(err)
	}
	defer s.ln.Close()
	for _, c := range []struct {
		name     string
		got, max time.Duration
	}{
		{"ReadHeaderTimeout", s.http.ReadHeaderTimeout, 10 * time.Second},
		{"ReadTimeout", s.http.ReadTimeout, time.Minute},
		{"WriteTimeout", s.http.WriteTimeout, time.Minute},
		{"IdleTimeout", s.http.IdleTimeout, 2 * time.Minute},
	} {
		if c.got <= 0 || c.got > c.max {
			t.Errorf("%s is %s, want 0 < it <= %s", c.name, c.got, c.max)
		}
	}
	if s.http.MaxHeaderBytes <= 0 || s.http.MaxHeaderBytes > 64<<10 {
		t.Errorf("MaxHeaderBytes %d", s.http.MaxHeaderBytes)
	}
}

// startShort serves opts with the server's own settings but short read timeouts, so a test
// sees the cut-off in a second rather than in ten.
func startShort(t *testing.T, opts Options, header, read time.Duration) *Server {
	t.Helper()
	s, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	s.http.ReadHeaderTimeout, s.http.ReadTimeout = header, read
	done := make(chan error, 1)
	go func() { done <- s.Serve() }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = s.Shutdown(ctx)
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	return s
}

// TestSlowClientsAreCutOff: clients that send their headers, or a tracking request's body,
// one byte at a time are disconnected when the read timeouts run out, while the server goes on
// answering everyone else.
func TestSlowClientsAreCutOff(t *testing.T) {
	const header, read = 400 * time.Millisecond, 800 * time.Millisecond
	sink := &countingSink{}
	s := startShort(t, abuseOptions(sink, 0), header, read)
	cases := []struct {
		name  string
		start string // sent at once
		drip  string // then one byte every 20 ms, never finished
		limit time.Duration
	}{
		{"headers", "GET /healthz HTTP/1.1\r\nHost: hearth.example\r\n", "X-Slow: " + strings.Repeat("a", 1000), header},
		{"tracking body", "POST /matomo.php HTTP/1.1\r\nHost: hearth.example\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\n",
			"idsite=1&rec=1&url=https%3A%2F%2Fsite.example%2F" + strings.Repeat("a", 1000), read},
	}
	const slow = 20 // slow clients of each kind at once
	var wg sync.WaitGroup
	results := make(chan string, slow*len(cases))
	for _, c := range cases {
		for range slow {
			wg.Add(1)
			go func() {
				defer wg.Done()
				results <- drip(s.Addr(), c.start, c.drip, c.limit)
			}()
		}
	}
	// Meanwhile the server answers others promptly.
	client := &http.Client{Timeout: 2 * time.Second}
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for deadline := time.Now().Add(header + read); time.Now().Before(deadline); <-tick.C {
		resp, err := client.Get("http://" + s.Addr() + "/healthz")
		if err != nil {
			t.Fatalf("a normal client while slow ones drip: %v", err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("a normal client while slow ones drip: %d", resp.StatusCode)
		}
	}
	wg.Wait()
	close(results)
	for res := range results {
		if res != "" {
			t.Error(res)
		}
	}
	if n := sink.count(); n != 0 {
		t.Errorf("%d hits tracked from bodies that never arrived", n)
	}
}

// drip sends start, then the bytes of drip one at a time, and reads what comes back. It
// returns "" when the server ends the connection after about limit, with no answer or a 4xx.
func drip(addr, start, drip string, limit time.Duration) string {
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		return err.Error()
	}
	defer conn.Close()
	began := time.Now()
	if _, err := io.WriteString(conn, start); err != nil {
		return err.Error()
	}
	answer := make(chan string, 1)
	go func() {
		line, err := bufio.NewReader(conn).ReadString('\n')
		if err != nil && line == "" {
			line = "closed"
		}
		answer <- line
	}()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	giveUp := time.After(limit + 5*time.Second)
	for i := 0; ; {
		select {
		case line := <-answer:
			took := time.Since(began)
			switch {
			case took < limit*9/10:
				return fmt.Sprintf("cut off after %s, before the %s timeout: %q", took, limit, line)
			case line != "closed" && !strings.HasPrefix(line, "HTTP/1.1 4"):
				return fmt.Sprintf("answered %q after %s", line, took)
			}
			return ""
		case <-giveUp:
			return fmt.Sprintf("still connected %s after the %s timeout", 5*time.Second, limit)
		case <-tick.C:
			if i < len(drip) {
				_, _ = conn.Write([]byte{drip[i]}) // fails once the server closed: the reader says so
				i++
			}
		}
	}
}

// gzipOf is a gzip body that inflates to prefix and then mib MiB of b: a bomb when mib is
// large. It is one compressed member for the prefix and the first MiB, then copies of a
// member for one more MiB (gzip readers read concatenated members as one stream).
func gzipOf(t *testing.T, prefix string, b byte, mib int) []byte {
	t.Helper()
	chunk := bytes.Repeat([]byte{b}, 1<<20)
	member := func(data ...[]byte) []byte {
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		for _, d := range data {
			if _, err := zw.Write(d); err != nil {
				t.Fatal(err)
			}
		}
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	out := member([]byte(prefix), chunk)
	more := member(chunk)
	for range mib - 1 {
		out = append(out, more...)
	}
	return out
}

// TestGzipBodiesAreOpaque: the server never inflates a request body. A tracking request whose
// gzip body would expand to 256 MiB is read as the bytes it is (no tracking parameters: 400),
// costs no more memory than its compressed size, and a compressed body above the body limit
// is refused as too large.
func TestGzipBodiesAreOpaque(t *testing.T) {
	// The bombs are built right: a small one inflates to its full size.
	zr, err := gzip.NewReader(bytes.NewReader(gzipOf(t, "x", 'a', 3)))
	if err != nil {
		t.Fatal(err)
	}
	if n, err := io.Copy(io.Discard, zr); err != nil || n != 1+3<<20 {
		t.Fatalf("a 3 MiB bomb inflates to %d bytes: %v", n, err)
	}
	bomb := gzipOf(t, "idsite=1&rec=1&action_name=", 'a', 256)
	random := make([]byte, 3<<20)
	_, _ = rand.Read(random)
	var big bytes.Buffer
	zw := gzip.NewWriter(&big)
	_, _ = zw.Write(random)
	_ = zw.Close()
	opaque := []string{"no tracking parameters", "idsite is missing"}
	cases := []struct {
		name, path, contentType string
		body                    []byte
		code                    int
		// reasons the refusal may give: the compressed bytes are read as parameters, and what
		// they spell depends on the compressor's output.
		reasons []string
	}{
		{"form bomb", "/matomo.php", "application/x-www-form-urlencoded", bomb, 400, opaque},
		{"bulk bomb", "/matomo.php", "application/json", gzipOf(t, `{"requests":["?idsite=1&rec=1`, ' ', 256), 400, opaque},
		{"over the body limit", "/piwik.php", "application/x-www-form-urlencoded", big.Bytes(), 400, []string{"request body too large"}},
	}
	sink := &countingSink{}
	h := Handler(abuseOptions(sink, 2<<20))
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req := httptest.NewRequest("POST", c.path, bytes.NewReader(c.body))
			req.Header.Set("Content-Type", c.contentType)
			req.Header.Set("Content-Encoding", "gzip")
			rec := httptest.NewRecorder()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			h.ServeHTTP(rec, req)
			runtime.ReadMemStats(&after)
			if reason := rec.Header().Get(collect.ErrorHeader); rec.Code != c.code || !slices.Contains(c.reasons, reason) {
				t.Errorf("%d %q, want %d and one of %q", rec.Code, reason, c.code, c.reasons)
			}
			// Inflating would allocate the 256 MiB; reading the body as it is, a few times its size.
			if grew := after.TotalAlloc - before.TotalAlloc; grew > 8*uint64(len(c.body))+(4<<20) {
				t.Errorf("allocated %d MiB for a %d KiB body", grew>>20, len(c.body)>>10)
			}
		})
	}
	if n := sink.count(); n != 0 {
		t.Errorf("%d hits tracked from compressed bodies", n)
	}
}

// TestPathTraversal asks for files outside the embedded assets by every spelling of "..":
// nothing but a 404 or 400 comes back (after the router's redirects to a cleaned path),
// never a file, and the assets themselves are served.
func TestPathTraversal(t *testing.T) {
	srv := httptest.NewServer(Handler(abuseOptions(&countingSink{}, 0)))
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "http://")
	for _, c := range []struct{ path, want string }{
		{"/static/hearth.css", "{"},
		{"/static/passkey.js", "navigator"},
		{"/matomo.js", "Matomo"},
	} {
		if code, body, _ := rawGet(t, addr, c.path); code != 200 || !strings.Contains(body, c.want) {
			t.Errorf("%s: %d, want 200 with %q", c.path, code, c.want)
		}
	}
	// What a file outside the assets would show: this repository's sources, the templates
	// embedded beside the assets, the system's files.
	leaks := []string{"package web", "package server", "module hearth", "{{define", "{{template", "root:x:0:0"}
	paths := []string{
		"/static/../go.mod",
		"/static/../../../../../../etc/passwd",
		"/static/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
		"/static/%2E%2E/web.go",
		"/static/.%2e/.%2e/.%2e/etc/passwd",
		"/static/..%2f..%2f..%2f..%2fetc%2fpasswd",
		"/static/%2e%2e%2f%2e%2e%2fweb.go",
		"/static/%252e%252e/%252e%252e/etc/passwd",
		"/static/..%252f..%252fweb.go",
		`/static/..\..\..\etc\passwd`,
		`/static/..\web.go`,
		"/static/%5c..%5c..%5cweb.go",
		"/static/..%5cweb.go",
		"/static/%c0%ae%c0%ae/web.go",
		"/static/%ff",
		"/static/hearth%ff.css",
		"/static//etc/passwd",
		"/static/./../web.go",
		"/static/hearth.css/../../web.go",
		"/static/hearth.css%00.js",
		"/static/templates/login.html",
		"/static/../templates/login.html",
		"/static/..%2ftemplates%2flogin.html",
		"/static/%2e%2e/templates/setup.html",
		"/static/static/hearth.css/..%2f..%2fweb.go",
		"/matomo.js/../../etc/passwd",
		"/matomo.js/..%2f..%2fetc%2fpasswd",
		"/hearth.js%2f..%2f..%2fweb.go",
		"/piwik.js/%2e%2e/web.go",
		`/piwik.js\..\web.go`,
		"/js/../../etc/passwd",
		"/%2e%2e/%2e%2e/etc/passwd",
		"//etc/passwd",
		"/..%2f..%2fetc%2fpasswd",
	}
	for _, p := range paths {
		t.Run(p, func(t *testing.T) {
			code, body, hops := rawGet(t, addr, p)
			if code != http.StatusNotFound && code != http.StatusBadRequest {
				t.Errorf("%d after %v: %.200q", code, hops, body)
			}
			for _, l := range leaks {
				if strings.Contains(body, l) {
					t.Errorf("answer contains %q: %.300q", l, body)
				}
			}
		})
	}
}

// rawGet sends a request line exactly as given (no client cleans it) and follows the
// server's redirects within the server; it returns the last status, its body and the hops.
func rawGet(t *testing.T, addr, path string) (int, string, []string) {
	t.Helper()
	var hops []string
	for range 5 {
		hops = append(hops, path)
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
		fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", path, addr)
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			conn.Close()
			t.Fatalf("%s: %v", path, err)
		}
		body, _ := io.ReadAll(resp.Body)
		conn.Close()
		loc := resp.Header.Get("Location")
		if resp.StatusCode/100 != 3 || loc == "" {
			return resp.StatusCode, string(body), hops
		}
		if !strings.HasPrefix(loc, "/") || strings.HasPrefix(loc, "//") {
			t.Fatalf("%s redirects off the server: %q", path, loc)
		}
		path = loc
	}
	t.Fatalf("redirect loop: %v", hops)
	return 0, "", hops
}
