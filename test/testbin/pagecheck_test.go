package testbin

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// hearthCSP is the policy Hearth's server sends with every page (internal/server).
const hearthCSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

func testPage(body string) string {
	return `<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>Test</title><link rel="icon" href="data:,">
<link rel="stylesheet" href="/s.css"></head><body><main><h1>Test page</h1>` + body + `</main></body></html>`
}

// TestPageProblems serves pages that each break one rule, under Hearth's CSP, and checks that
// PageProblems names exactly that problem, and nothing on a clean page: each check can fail,
// and none fails on its own.
func TestPageProblems(t *testing.T) {
	t.Setenv("HEARTH_UI_OUTPUT", t.TempDir())
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/gif")
		w.Header().Set("Access-Control-Allow-Origin", "*")
		fmt.Fprint(w, "GIF89a")
	}))
	defer other.Close()

	files := map[string]string{
		"/s.css":      "body{margin:0;background:#fff;color:#222}\n@media (prefers-color-scheme: dark){html.darkbad body{background:#333;color:#444}}\n.wide{width:800px}",
		"/err.js":     `console.error("boom from err.js"); throw new Error("thrown by err.js");`,
		"/alert.js":   `alert("hello");`,
		"/fetch.js":   `fetch("` + other.URL + `/api").catch(() => {});`,
		"/darkbad.js": `document.documentElement.className = "darkbad";`,
	}
	pages := map[string]string{
		"/good":    testPage(`<p>All fine. <img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=" alt="dot" width="1" height="1"></p>`),
		"/console": testPage(`<script src="/err.js"></script>`),
		"/inline":  testPage(`<script>document.title = "ran";</script>`),
		"/dialog":  testPage(`<script src="/alert.js"></script>`),
		"/image":   testPage(`<img src="` + other.URL + `/x.gif" alt="remote">`),
		"/fetch":   testPage(`<script src="/fetch.js"></script>`),
		"/axe":     testPage(`<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=" width="1" height="1"><input name="q">`),
		"/dark":    testPage(`<p>Readable only in light colours.</p><script src="/darkbad.js"></script>`),
		"/wide":    testPage(`<div class="wide">Eight hundred pixels</div>`),
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/nocsp-image" {
			fmt.Fprint(w, testPage(`<img src="`+other.URL+`/x.gif" alt="remote">`))
			return
		}
		w.Header().Set("Content-Security-Policy", hearthCSP)
		if body, ok := files[r.URL.Path]; ok {
			if strings.HasSuffix(r.URL.Path, ".css") {
				w.Header().Set("Content-Type", "text/css")
			} else {
				w.Header().Set("Content-Type", "text/javascript")
			}
			fmt.Fprint(w, body)
			return
		}
		body, ok := pages[r.URL.Path]
		if !ok {
			w.WriteHeader(http.StatusNotFound)
			body = testPage(`<p>Not found.</p>`)
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, body)
	}))
	defer srv.Close()

	ctx := Browser(t)
	cases := []struct {
		path   string
		status int
		want   []string // each must be in one problem; no other problem may occur
	}{
		{"/good", 0, nil},
		{"/missing", 404, nil},
		{"/missing", 0, []string{"answered 404, want 200", "browser log error (network)"}},
		{"/console", 0, []string{"console error: boom from err.js", "uncaught exception", "thrown by err.js"}},
		{"/inline", 0, []string{"Content-Security-Policy violation: script-src", "browser log error"}},
		{"/dialog", 0, []string{"JavaScript alert dialog opened (\"hello\")"}},
		{"/image", 0, []string{"Content-Security-Policy violation: img-src", "browser log error"}},
		{"/nocsp-image", 0, []string{"request to another origin (Image): " + other.URL + "/x.gif"}},
		{"/fetch", 0, []string{"Content-Security-Policy violation: connect-src", "browser log error"}},
		{"/axe", 0, []string{"axe image-alt (critical)", "axe label (critical)"}},
		{"/dark", 0, []string{"axe with dark colours color-contrast (serious)"}},
		{"/wide", 0, []string{"scrolls horizontally at 360 px wide: the document is 80", "widest elements: main > div.wide (800 px, right edge 800)"}},
	}
	for i, c := range cases {
		name := fmt.Sprintf("case%d", i)
		got := PageProblems(t, ctx, srv.URL, Page{Name: name, Path: c.path, Status: c.status})
		all := strings.Join(got, "\n")
		t.Logf("%s: %d problems\n%s", c.path, len(got), all)
		for _, w := range c.want {
			if !strings.Contains(all, w) {
				t.Errorf("%s: no problem mentions %q; problems:\n%s", c.path, w, all)
			}
		}
		for _, p := range got {
			if !strings.HasPrefix(p, name+" ("+c.path+"): ") {
				t.Errorf("%s: problem does not name the page: %s", c.path, p)
			}
			expected := false
			for _, w := range c.want {
				expected = expected || strings.Contains(p, w) || (strings.Contains(w, "browser log error") && strings.Contains(p, "browser log error"))
			}
			// A CSP block shows in the console, in the probe and possibly as a request.
			expected = expected || (len(c.want) > 0 && strings.Contains(c.want[0], "Content-Security-Policy") &&
				(strings.Contains(p, "request to another origin") || strings.Contains(p, "console error")))
			if !expected {
				t.Errorf("%s: unexpected problem: %s", c.path, p)
			}
		}
		for _, suffix := range []string{"-desktop.png", "-desktop-full.png", "-360.png", "-dark.png"} {
			st, err := os.Stat(filepath.Join(os.Getenv("HEARTH_UI_OUTPUT"), name+suffix))
			if err != nil || st.Size() < 100 {
				t.Errorf("%s: screenshot %s%s: %v", c.path, name, suffix, err)
			}
		}
	}
}
