package testbin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// Page is one page for CheckPage.
type Page struct {
	// Name names the page's screenshots: <Name>-desktop.png and so on.
	Name string
	// Path is the path (and query) under the server's base URL.
	Path string
	// Status is the HTTP status the document must answer with; 0 means 200.
	Status int
}

// The viewports of the checks: a desktop window and the narrowest phone Hearth supports.
const (
	DesktopWidth, DesktopHeight = 1280, 800
	PhoneWidth, PhoneHeight     = 360, 740
)

// axeRel is where `make bootstrap` (npm ci in test/e2e/node) puts axe-core, relative to the
// repository root. It is read from there, never copied into the repository.
const axeRel = "test/e2e/node/node_modules/axe-core/axe.min.js"

// cspProbe runs before the page's own scripts (scripts given through the DevTools protocol are
// not subject to the page's Content-Security-Policy) and keeps every CSP violation the page
// reports, so a blocked resource counts even when the browser writes nothing to the console.
const cspProbe = `window.__pagecheckCSP = [];
document.addEventListener('securitypolicyviolation', e => {
  window.__pagecheckCSP.push(e.violatedDirective + ' blocked ' + (e.blockedURI || 'an inline resource'));
}, true);`

// CheckPage loads base+p.Path in the browser of ctx (signed in or not, as the test set it up)
// and fails the test with every problem PageProblems finds.
func CheckPage(t testing.TB, ctx context.Context, base string, p Page) {
	t.Helper()
	for _, problem := range PageProblems(t, ctx, base, p) {
		t.Error(problem)
	}
}

// PageProblems loads base+p.Path in the browser of ctx and returns, each as one line naming
// the page, what a person or a browser would object to:
//   - a request (document, style, script, image, fetch, EventSource...) to another origin
//     than base's (data: and blob: URLs load nothing);
//   - a console error, an uncaught exception, an error in the browser's log, or a violation
//     of the Content-Security-Policy;
//   - a JavaScript dialog (alert, confirm, prompt), which is dismissed: an escaped payload
//     never opens one;
//   - an axe-core violation of impact serious or critical, with light and with dark colours
//     (prefers-color-scheme: dark, contrast rules);
//   - horizontal scrolling at 360 px wide;
//   - a document status other than p.Status.
//
// It writes screenshots to UIOutputDir(): <name>-desktop.png (the 1280x800 window),
// <name>-desktop-full.png and <name>-360.png (whole page) and <name>-dark.png (the window with
// dark colours). It fails the test outright only when the browser cannot be driven.
func PageProblems(t testing.TB, ctx context.Context, base string, p Page) []string {
	t.Helper()
	origin, err := originOf(base)
	if err != nil {
		t.Fatalf("page check: base %q: %v", base, err)
	}
	axeSource := axeScript(t)
	outDir := UIOutputDir(t)
	label := fmt.Sprintf("%s (%s)", p.Name, p.Path)
	want := p.Status
	if want == 0 {
		want = 200
	}
	pageURL := base + p.Path

	var (
		mu       sync.Mutex
		problems []string
		status   int64
	)
	add := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		problems = append(problems, label+": "+fmt.Sprintf(format, args...))
	}

	lctx, stopListening := context.WithCancel(ctx)
	defer stopListening()
	err = chromedp.Listen(lctx, func(ev any) {
		switch ev := ev.(type) {
		case *network.EventRequestWillBeSent:
			u := ev.Request.URL
			if o, err := originOf(u); err == nil && o != origin {
				add("request to another origin (%s): %s", ev.Type, u)
			} else if err != nil && !localScheme(u) {
				add("request to %q (%s), which is not on %s", u, ev.Type, origin)
			}
		case *network.EventResponseReceived:
			if ev.Type == network.ResourceTypeDocument && ev.Response != nil && sameDocument(ev.Response.URL, pageURL) {
				mu.Lock()
				status = ev.Response.Status
				mu.Unlock()
			}
		case *runtime.EventConsoleAPICalled:
			if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeAssert {
				add("console %s: %s", ev.Type, consoleArgs(ev.Args))
			}
		case *runtime.EventExceptionThrown:
			d := ev.ExceptionDetails
			text := d.Text
			if d.Exception != nil && d.Exception.Description != "" {
				text += " " + firstLine(d.Exception.Description)
			}
			add("uncaught exception at %s:%d: %s", d.URL, d.LineNumber, text)
		case *log.EventEntryAdded:
			e := ev.Entry
			// The browser logs the error status of the document itself; that status is checked
			// against p.Status instead.
			if e.Level == log.EntryLevelError && !(e.Source == log.EntrySourceNetwork && sameDocument(e.URL, pageURL) && want >= 400) {
				add("browser log error (%s): %s (%s)", e.Source, e.Text, e.URL)
			}
		case *page.EventJavascriptDialogOpening:
			add("a JavaScript %s dialog opened (%q): some text reached the page unescaped", ev.Type, ev.Message)
			// The page is blocked until the dialog closes; commands cannot run inside a listener.
			go func() {
				_, _ = chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: false})
			}()
		}
	})
	if err != nil {
		t.Fatalf("%s: listen to the browser: %v", label, err)
	}

	step := func(what string, a chromedp.Action[chromedp.Void]) {
		t.Helper()
		sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		if err := chromedp.Do(sctx, a); err != nil {
			t.Fatalf("%s: %s: %v", label, what, err)
		}
	}
	eval := func(what, expr string, v any) {
		t.Helper()
		step(what, evalInto(expr, v))
	}

	probe, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: cspProbe})
	if err != nil {
		t.Fatalf("%s: add the CSP probe: %v", label, err)
	}
	defer func() {
		_, _ = chromedp.Call(ctx, page.RemoveScriptToEvaluateOnNewDocument, page.RemoveScriptToEvaluateOnNewDocumentParams(probe))
	}()

	step("set the desktop viewport", chromedp.Steps(
		chromedp.EmulateViewport(DesktopWidth, DesktopHeight),
		setColorScheme("light"),
	))
	step("load "+pageURL, chromedp.Navigate(pageURL))

	// axe-core goes in through the DevTools protocol, which the page's CSP does not govern.
	step("inject axe-core", chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := chromedp.Evaluate[chromedp.Void](axeSource)(ctx, tg)
		return err
	}))
	for _, v := range runAxe(t, ctx, label, nil) {
		add("axe %s", v)
	}
	writeShot(t, ctx, label, filepath.Join(outDir, p.Name+"-desktop.png"), false)
	writeShot(t, ctx, label, filepath.Join(outDir, p.Name+"-desktop-full.png"), true)

	step("emulate dark colours", setColorScheme("dark"))
	for _, v := range runAxe(t, ctx, label, []string{"color-contrast", "link-in-text-block"}) {
		add("axe with dark colours %s", v)
	}
	writeShot(t, ctx, label, filepath.Join(outDir, p.Name+"-dark.png"), false)
	step("emulate light colours", setColorScheme("light"))

	step("set the 360 px viewport", chromedp.EmulateViewport(PhoneWidth, PhoneHeight, chromedp.EmulateMobile, chromedp.EmulatePortrait))
	var overflow struct {
		ScrollWidth int      `json:"scrollWidth"`
		Wide        []string `json:"wide"`
	}
	eval("measure the width at 360 px", overflowScript, &overflow)
	if overflow.ScrollWidth > PhoneWidth {
		add("scrolls horizontally at %d px wide: the document is %d px wide; widest elements: %s",
			PhoneWidth, overflow.ScrollWidth, strings.Join(overflow.Wide, ", "))
	}
	writeShot(t, ctx, label, filepath.Join(outDir, p.Name+"-360.png"), true)
	step("set the desktop viewport", chromedp.EmulateViewport(DesktopWidth, DesktopHeight))

	var csp []string
	eval("read CSP violations", `window.__pagecheckCSP || ['the CSP probe did not run']`, &csp)
	for _, v := range csp {
		add("Content-Security-Policy violation: %s", v)
	}

	stopListening()
	mu.Lock()
	defer mu.Unlock()
	if status != int64(want) {
		problems = append(problems, fmt.Sprintf("%s: the document answered %d, want %d", label, status, want))
	}
	return problems
}

// AssertTextShown fails the test unless text appears literally in the text of the page in
// ctx: a name that holds markup (an XSS payload) is shown escaped, neither run nor dropped.
func AssertTextShown(t testing.TB, ctx context.Context, text string) {
	t.Helper()
	var body string
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	// The page's own content: the frame around it (the site switcher) shows the site names on
	// every page, which would hide a page that drops what it should show.
	if err := chromedp.Do(sctx, evalInto(`(document.querySelector('main') || document.body).innerText`, &body)); err != nil {
		t.Fatalf("read the page's text: %v", err)
	}
	if !strings.Contains(body, text) {
		loc, _ := chromedp.Run(sctx, chromedp.Location())
		t.Errorf("%s does not show %q as text; the page's text is:\n%s", loc, text, body)
	}
}

// UIOutputDir is where the page checks write screenshots: $HEARTH_UI_OUTPUT if set, else
// test/e2e/output/ui/ in the repository (ignored by git).
func UIOutputDir(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("HEARTH_UI_OUTPUT")
	if dir == "" {
		dir = filepath.Join(RepoRoot(t), "test", "e2e", "output", "ui")
	}
	if err := os.MkdirAll(dir, 0o750); err != nil { // #nosec G703 -- a folder the person running the tests names
		t.Fatalf("screenshot folder: %v", err)
	}
	return dir
}

// RepoRoot is the repository's root: the nearest folder above the working directory that
// holds go.mod.
func RepoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the working directory")
		}
		dir = parent
	}
}

var axeCache struct {
	sync.Mutex
	src string
}

// axeScript reads axe-core once per test binary.
func axeScript(t testing.TB) string {
	t.Helper()
	axeCache.Lock()
	defer axeCache.Unlock()
	if axeCache.src == "" {
		b, err := os.ReadFile(filepath.Join(RepoRoot(t), axeRel))
		if errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("axe-core is not installed at %s: run `make bootstrap` (npm ci in test/e2e/node)", axeRel)
		} else if err != nil {
			t.Fatalf("read axe-core: %v", err)
		}
		axeCache.src = string(b)
	}
	return axeCache.src
}

// runAxe runs axe-core on the page (only the given rules, if any) and returns its violations
// of impact serious or critical, one line each with the rule, its help and the elements; it
// logs the minor and moderate ones.
func runAxe(t testing.TB, ctx context.Context, label string, rules []string) []string {
	t.Helper()
	opts := map[string]any{"resultTypes": []string{"violations"}}
	if rules != nil {
		opts["runOnly"] = map[string]any{"type": "rule", "values": rules}
	}
	o, _ := json.Marshal(opts)
	expr := `axe.run(document, ` + string(o) + `).then(r => r.violations
  .map(v => ({id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 5).map(n => n.target.map(String).join(' ') + ' [' + (n.failureSummary || '').replace(/\s+/g, ' ').trim() + ']')
      .concat(v.nodes.length > 5 ? [(v.nodes.length - 5) + ' more'] : [])})))`
	var found []struct {
		ID     string   `json:"id"`
		Impact string   `json:"impact"`
		Help   string   `json:"help"`
		Nodes  []string `json:"nodes"`
	}
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	raw, err := chromedp.Run(sctx, chromedp.Evaluate[[]byte](expr, chromedp.EvalAwaitPromise))
	if err == nil {
		err = json.Unmarshal(raw, &found)
	}
	if err != nil {
		t.Fatalf("%s: run axe-core: %v", label, err)
	}
	var out []string
	for _, v := range found {
		line := fmt.Sprintf("%s (%s): %s; on %s", v.ID, v.Impact, v.Help, strings.Join(v.Nodes, "; "))
		if v.Impact == "serious" || v.Impact == "critical" {
			out = append(out, line)
		} else {
			t.Logf("%s: axe, not failing: %s", label, line)
		}
	}
	return out
}

// overflowScript measures the document's width and names the elements that reach past the
// window, the outermost first.
const overflowScript = `(() => {
  const w = document.documentElement.clientWidth;
  const name = el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
    (el.classList.length ? '.' + [...el.classList].join('.') : '');
  const wide = [];
  for (const el of document.body.querySelectorAll('*')) {
    const r = el.getBoundingClientRect();
    if (r.right > w + 0.5 && !wide.some(x => x.el.contains(el))) {
      const parent = el.parentElement && el.parentElement !== document.body ? name(el.parentElement) + ' > ' : '';
      wide.push({el, text: parent + name(el) + ' (' + Math.round(r.width) + ' px, right edge ' + Math.round(r.right) + ')'});
    }
  }
  return {scrollWidth: document.documentElement.scrollWidth, wide: wide.slice(0, 5).map(x => x.text)};
})()`

// writeShot saves a PNG of the window, or of the whole page when full.
func writeShot(t testing.TB, ctx context.Context, label, path string, full bool) {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	params := page.CaptureScreenshotParams{Format: page.CaptureScreenshotFormatPng}
	if full {
		m, err := chromedp.Call(sctx, page.GetLayoutMetrics, cdp.Empty{})
		if err != nil {
			t.Fatalf("%s: layout metrics: %v", label, err)
		}
		w, h := float64(m.CSSLayoutViewport.ClientWidth), float64(m.CSSLayoutViewport.ClientHeight)
		if m.CSSContentSize != nil {
			w, h = max(w, m.CSSContentSize.Width), max(h, m.CSSContentSize.Height)
		}
		beyond := true
		params.CaptureBeyondViewport = &beyond
		params.Clip = &page.Viewport{Width: w, Height: h, Scale: 1}
	}
	shot, err := chromedp.Call(sctx, page.CaptureScreenshot, params)
	if err != nil {
		t.Fatalf("%s: screenshot: %v", label, err)
	}
	if err := os.WriteFile(path, shot.Data, 0o600); err != nil {
		t.Fatalf("%s: write screenshot: %v", label, err)
	}
}

// setColorScheme emulates prefers-color-scheme.
func setColorScheme(scheme string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
			Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}},
		})
		return err
	})
}

// evalInto evaluates a JavaScript expression and decodes its JSON value into v.
func evalInto(expr string, v any) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		raw, err := chromedp.Evaluate[[]byte](expr)(ctx, tg)
		if err != nil {
			return err
		}
		return json.Unmarshal(raw, v)
	})
}

// originOf is scheme://host:port of an http(s) URL.
func originOf(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", err
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return "", fmt.Errorf("not an http(s) URL")
	}
	return u.Scheme + "://" + u.Host, nil
}

// localScheme reports whether a URL loads nothing over the network.
func localScheme(raw string) bool {
	for _, s := range []string{"data:", "blob:", "about:"} {
		if strings.HasPrefix(raw, s) {
			return true
		}
	}
	return false
}

// sameDocument compares two URLs without their fragments.
func sameDocument(a, b string) bool {
	a, _, _ = strings.Cut(a, "#")
	b, _, _ = strings.Cut(b, "#")
	return a == b
}

func consoleArgs(args []*runtime.RemoteObject) string {
	parts := make([]string, 0, len(args))
	for _, a := range args {
		var s string
		if a.Type == runtime.RemoteObjectTypeString && json.Unmarshal(a.Value, &s) == nil {
			parts = append(parts, s)
		} else if a.Description != "" {
			parts = append(parts, firstLine(a.Description))
		} else {
			parts = append(parts, string(a.Value))
		}
	}
	return strings.Join(parts, " ")
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}
