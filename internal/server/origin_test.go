package server

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestCrossOriginBehindAProxy: behind a proxy that rewrites Host, requests from the public
// URL's origin are Hearth's own; other origins, and foreign Referers from browsers that send
// no Origin, are refused; clients that send none of these headers pass.
func TestCrossOriginBehindAProxy(t *testing.T) {
	pages := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	for _, tc := range []struct {
		name, publicURL string
		header          map[string]string
		code            int
	}{
		{"own origin", "https://stats.example.org", map[string]string{"Origin": "https://stats.example.org"}, 204},
		{"own Referer", "https://stats.example.org", map[string]string{"Referer": "https://stats.example.org/login"}, 204},
		{"other origin", "https://stats.example.org", map[string]string{"Origin": "https://evil.example"}, 403},
		{"other Referer", "https://stats.example.org", map[string]string{"Referer": "https://evil.example/form"}, 403},
		{"look-alike Referer", "https://stats.example.org", map[string]string{"Referer": "https://stats.example.org.evil.example/"}, 403},
		{"no browser headers", "https://stats.example.org", nil, 204},
		{"public origin unknown without public URL", "", map[string]string{"Origin": "https://stats.example.org"}, 403},
		{"the Host's own Referer", "", map[string]string{"Referer": "http://internal:8080/login"}, 204},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := Handler(Options{API: http.NotFoundHandler(), Tracking: http.NotFoundHandler(), Pages: pages, PublicURL: tc.publicURL})
			req := httptest.NewRequest("POST", "http://internal:8080/login", nil)
			for k, v := range tc.header {
				req.Header.Set(k, v)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tc.code {
				t.Fatalf("%d, want %d: %s", rec.Code, tc.code, rec.Body)
			}
		})
	}
}
