package web

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"
)

// TestStaticServesFilesOnly: the assets are served, their folders are not listed.
func TestStaticServesFilesOnly(t *testing.T) {
	get := func(h http.Handler, target string) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", target, nil))
		return rec
	}
	// The embedded assets have no folder of their own: a made-up tree has one.
	tree := http.StripPrefix("/static/", filesOnly(fstest.MapFS{
		"a.css":      {Data: []byte("body{}")},
		"sub/b.js":   {Data: []byte("var b;")},
		"sub/c/d.js": {Data: []byte("var d;")},
	}))
	for _, tc := range []struct {
		h      http.Handler
		target string
		code   int
		body   string
	}{
		{Static(), "/static/hearth.css", 200, "{"},
		{Static(), "/static/passkey.js", 200, "navigator"},
		{Static(), "/static/", 404, ""},
		{Static(), "/static/?C=M;O=D", 404, ""},
		{Static(), "/static/nothing.css", 404, ""},
		{tree, "/static/a.css", 200, "body{}"},
		{tree, "/static/sub/b.js", 200, "var b;"},
		{tree, "/static/sub/c/d.js", 200, "var d;"},
		{tree, "/static/", 404, ""},
		{tree, "/static/sub", 404, ""},
		{tree, "/static/sub/", 404, ""},
		{tree, "/static/sub/c/", 404, ""},
		{tree, "/static/sub/./c", 404, ""},
		{tree, "/static/sub/../sub/", 404, ""},
	} {
		rec := get(tc.h, tc.target)
		if rec.Code != tc.code || !strings.Contains(rec.Body.String(), tc.body) {
			t.Errorf("%s: %d %.120q, want %d with %q", tc.target, rec.Code, rec.Body.String(), tc.code, tc.body)
		}
		// A listing would name the files.
		if tc.code == 404 && (strings.Contains(rec.Body.String(), "hearth.css") || strings.Contains(rec.Body.String(), "b.js") || strings.Contains(rec.Body.String(), "<a href")) {
			t.Errorf("%s lists the folder: %q", tc.target, rec.Body.String())
		}
	}
}
