package tracker

import (
	"bytes"
	"compress/gzip"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestHandler(t *testing.T) {
	h := Handler()
	get := func(method, path string, hdr map[string]string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, path, nil)
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	for _, p := range Paths {
		rec := get("GET", p, nil)
		if rec.Code != 200 || !bytes.Equal(rec.Body.Bytes(), Script()) {
			t.Fatalf("%s: %d, %d bytes; want the script", p, rec.Code, rec.Body.Len())
		}
		if ct := rec.Header().Get("Content-Type"); ct != "application/javascript; charset=utf-8" {
			t.Errorf("%s: Content-Type %q", p, ct)
		}
		if rec.Header().Get("ETag") != `"`+Hash()+`"` || !strings.Contains(rec.Header().Get("Cache-Control"), "max-age=") {
			t.Errorf("%s: caching headers %v", p, rec.Header())
		}
	}
	if rec := get("GET", "/hearth.js", map[string]string{"If-None-Match": `"other", "` + Hash() + `"`}); rec.Code != 304 || rec.Body.Len() != 0 {
		t.Errorf("conditional request: %d with %d bytes", rec.Code, rec.Body.Len())
	}
	if rec := get("GET", "/hearth.js", map[string]string{"If-None-Match": `"stale"`}); rec.Code != 200 {
		t.Errorf("stale ETag: %d", rec.Code)
	}
	if rec := get("HEAD", "/matomo.js", nil); rec.Code != 200 || rec.Body.Len() != 0 || rec.Header().Get("Content-Length") == "" {
		t.Errorf("HEAD: %d, %d bytes, %v", rec.Code, rec.Body.Len(), rec.Header())
	}
	if rec := get("POST", "/piwik.js", nil); rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST: %d", rec.Code)
	}
	if len(Hash()) != 16 {
		t.Errorf("hash %q", Hash())
	}
}

// TestScript checks the shipped file: at most 8 KB gzipped, and free of what a strict
// Content-Security-Policy or Hearth's privacy promise forbids.
func TestScript(t *testing.T) {
	var b bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
	if _, err := zw.Write(Script()); err != nil {
		t.Fatal(err)
	}
	zw.Close()
	t.Logf("tracker: %d bytes, %d gzipped", len(Script()), b.Len())
	if b.Len() > 8*1024 {
		t.Errorf("tracker is %d bytes gzipped, over 8 KB", b.Len())
	}
	for _, banned := range []string{"eval(", "new Function", "localStorage", "sessionStorage", "http://", "https://"} {
		if bytes.Contains(Script(), []byte(banned)) {
			t.Errorf("tracker contains %q", banned)
		}
	}
}
