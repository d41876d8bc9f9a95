package server

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
)

func TestClientIP(t *testing.T) {
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	ip := ClientIP(trusted)
	cases := []struct {
		name   string
		remote string
		hdr    map[string]string
		want   string
	}{
		{"direct", "203.0.113.9:5555", nil, "203.0.113.9"},
		{"untrusted peer ignores XFF", "203.0.113.9:5555", map[string]string{"X-Forwarded-For": "1.2.3.4"}, "203.0.113.9"},
		{"trusted proxy", "10.1.1.1:80", map[string]string{"X-Forwarded-For": "198.51.100.7"}, "198.51.100.7"},
		{"chain: right-most untrusted", "10.1.1.1:80", map[string]string{"X-Forwarded-For": "6.6.6.6, 198.51.100.7, 10.2.2.2"}, "198.51.100.7"},
		{"spoofed garbage", "10.1.1.1:80", map[string]string{"X-Forwarded-For": "not-an-ip"}, "10.1.1.1"},
		{"forwarded header", "[::1]:80", map[string]string{"Forwarded": `for="[2001:db8::7]:4711";proto=https`}, "2001:db8::7"},
		{"forwarded v4 with port", "10.0.0.5:80", map[string]string{"Forwarded": "for=192.0.2.60:8080"}, "192.0.2.60"},
		{"mapped v4 peer", "[::ffff:203.0.113.9]:1", nil, "203.0.113.9"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = tc.remote
			for k, v := range tc.hdr {
				r.Header.Set(k, v)
			}
			if got := ip(r); got.String() != tc.want {
				t.Fatalf("got %s, want %s", got, tc.want)
			}
		})
	}
	// Without trusted proxies, headers are never believed.
	r := httptest.NewRequest("GET", "/", nil)
	r.RemoteAddr = "10.1.1.1:80"
	r.Header.Set("X-Forwarded-For", "1.2.3.4")
	if got := ClientIP(nil)(r); got.String() != "10.1.1.1" {
		t.Fatalf("no trusted proxies: %s", got)
	}
}

func TestHandlerHeadersHealthAndPanics(t *testing.T) {
	ready := errors.New("event store unreachable")
	var readyErr error
	h := Handler(Options{
		Tracking: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { panic("boom") }),
		API:      http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("api")) }),
		Ready:    []Readiness{{Name: "event store", Check: func(context.Context) error { return readyErr }}},
	})
	do := func(method, target string) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(method, target, nil))
		return rec
	}
	rec := do("GET", "/healthz")
	if rec.Code != 200 {
		t.Fatalf("healthz %d", rec.Code)
	}
	if id := rec.Header().Get("X-Request-Id"); len(id) != 16 || id == do("GET", "/healthz").Header().Get("X-Request-Id") {
		t.Errorf("request id %q: every answer carries its own", id)
	}
	for _, name := range []string{"Content-Security-Policy", "X-Content-Type-Options", "Referrer-Policy", "Permissions-Policy", "X-Frame-Options"} {
		if rec.Header().Get(name) == "" {
			t.Errorf("missing %s", name)
		}
	}
	if csp := rec.Header().Get("Content-Security-Policy"); strings.Contains(csp, "unsafe-inline") || !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("csp %q", csp)
	}
	if rec := do("GET", "/readyz"); rec.Code != 200 {
		t.Fatalf("readyz %d", rec.Code)
	}
	readyErr = ready
	// The answer names the dependency, never the error's text (which goes to the log).
	if rec := do("GET", "/readyz"); rec.Code != 503 || rec.Body.String() != "not ready: event store\n" {
		t.Fatalf("readyz when a store fails: %d %s", rec.Code, rec.Body.String())
	}
	if rec := do("GET", "/matomo.php"); rec.Code != 500 || rec.Header().Get("X-Request-Id") != "" {
		t.Fatalf("a panicking tracking handler must give 500 and no request ID, got %d %v", rec.Code, rec.Header())
	}
	if rec := do("GET", "/?module=API&method=x"); rec.Body.String() != "api" {
		t.Fatalf("API at / with module=API: %q", rec.Body.String())
	}
	if rec := do("GET", "/nothing"); rec.Code != 404 {
		t.Fatalf("unknown path %d", rec.Code)
	}
}

func TestRedactingWriter(t *testing.T) {
	var buf strings.Builder
	w := redactingWriter{slog.New(slog.NewTextHandler(&buf, nil))}
	for _, line := range []string{
		"http: TLS handshake error from 203.0.113.9:51234: EOF",
		"http: TLS handshake error from [2001:db8::7]:443: remote error",
		"http2: server: error reading preface from client 198.51.100.1:80: timeout",
	} {
		if _, err := w.Write([]byte(line)); err != nil {
			t.Fatal(err)
		}
	}
	out := buf.String()
	for _, ip := range []string{"203.0.113.9", "2001:db8::7", "198.51.100.1"} {
		if strings.Contains(out, ip) {
			t.Errorf("log contains %s: %s", ip, out)
		}
	}
	if strings.Count(out, "[address]") != 3 || !strings.Contains(out, "TLS handshake error") {
		t.Errorf("log lost its meaning: %s", out)
	}
}

func TestRedirectHandler(t *testing.T) {
	cases := []struct {
		public, tlsAddr, host, path, want string
	}{
		{"", "0.0.0.0:8443", "stats.example.org", "/login?x=1", "https://stats.example.org:8443/login?x=1"},
		{"", "[::]:443", "stats.example.org:80", "/", "https://stats.example.org/"},
		{"https://analytics.example.org/", "0.0.0.0:8443", "10.0.0.1", "/a", "https://analytics.example.org/a"},
	}
	for _, tc := range cases {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest("GET", tc.path, nil)
		req.Host = tc.host
		redirectHandler(tc.public, tc.tlsAddr).ServeHTTP(rec, req)
		if rec.Code != http.StatusMovedPermanently || rec.Header().Get("Location") != tc.want {
			t.Errorf("%+v: %d %q", tc, rec.Code, rec.Header().Get("Location"))
		}
	}
}

func TestRedirectRefusesOddHosts(t *testing.T) {
	for _, host := range []string{"evil.example/path", "a@evil.example", `x\evil`, ""} {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest("GET", "/", nil)
		req.Host = host
		redirectHandler("", "0.0.0.0:443").ServeHTTP(rec, req)
		if rec.Code != http.StatusBadRequest {
			t.Errorf("host %q: %d %q", host, rec.Code, rec.Header().Get("Location"))
		}
	}
}

// TestTrackingAnswersHeaders: a tracking answer with a body gets the security headers, a
// bodiless 204 only what its handler set (the CORS headers), on every tracking path.
func TestTrackingAnswersHeaders(t *testing.T) {
	h := Handler(Options{
		Tracking: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Access-Control-Allow-Origin", "*")
			switch r.URL.Query().Get("answer") {
			case "204":
				w.WriteHeader(http.StatusNoContent)
			case "400":
				w.WriteHeader(http.StatusBadRequest)
				w.Write([]byte("bad request"))
			default:
				w.Write([]byte("GIF89a"))
			}
		}),
		API: http.NotFoundHandler(),
	})
	for _, path := range []string{"/matomo.php", "/piwik.php", "/js/tracker.php"} {
		for _, tc := range []struct {
			answer  string
			code    int
			headers bool
		}{{"204", 204, false}, {"gif", 200, true}, {"400", 400, true}} {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest("GET", path+"?answer="+tc.answer, nil))
			if rec.Code != tc.code || rec.Header().Get("Access-Control-Allow-Origin") != "*" {
				t.Fatalf("%s %s: %d %v", path, tc.answer, rec.Code, rec.Header())
			}
			for _, name := range []string{"Content-Security-Policy", "X-Content-Type-Options", "X-Frame-Options", "Referrer-Policy"} {
				if got := rec.Header().Get(name) != ""; got != tc.headers {
					t.Errorf("%s %s: %s present %v, want %v", path, tc.answer, name, got, tc.headers)
				}
			}
		}
	}
}
