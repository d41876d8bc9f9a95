package e2e

import (
	"context"
	"net"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"hearth/test/testbin"
)

// TestDashboardFirstSiteFlow is a new user's first session in headless Chromium: sign in,
// turn on two-factor authentication and sign in again with a code, add the first site on the
// sites list, copy its tracking code with the page's copy button into a page of one's own,
// visit that page, and see the visit arrive on the real-time page (which updates itself) and
// then on the overview.
func TestDashboardFirstSiteFlow(t *testing.T) {
	dir := testbin.InitDataDir(t)
	s := testbin.Start(t, dir)
	ctx := testbin.Browser(t)
	text := func(sel string) string {
		t.Helper()
		sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		v, err := chromedp.Run(sctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("text of %s: %v", sel, err)
		}
		return strings.TrimSpace(v)
	}
	signIn := func() {
		testbin.Steps(t, ctx, "password",
			chromedp.Navigate(s.Base+"/login"),
			chromedp.WaitVisible(chromedp.CSS(`input[name=login]`)),
			chromedp.SendKeys(chromedp.CSS(`input[name=login]`), "admin"),
			chromedp.SendKeys(chromedp.CSS(`input[name=password]`), testbin.AdminPassword),
			chromedp.Submit(chromedp.CSS(`input[name=password]`)),
		)
	}
	signIn()
	testbin.Steps(t, ctx, "first-site form on the sites list", chromedp.WaitVisible(chromedp.CSS(`input[name=siteName]`)))

	// Two-factor authentication through the account page.
	testbin.Steps(t, ctx, "begin 2FA",
		chromedp.Navigate(s.Base+"/account/2fa"),
		chromedp.Click(chromedp.CSS(`form input[value=begin] ~ button`)),
		chromedp.WaitVisible(chromedp.CSS(`#totp-secret`)),
	)
	key := text(`#totp-secret`)
	now := time.Now()
	testbin.Steps(t, ctx, "confirm 2FA",
		chromedp.SendKeys(chromedp.CSS(`input[name=code]`), totpCode(t, key, now)),
		chromedp.Submit(chromedp.CSS(`input[name=code]`)),
		chromedp.WaitVisible(chromedp.CSS(`#recovery-codes`)),
	)
	testbin.Steps(t, ctx, "sign out", chromedp.Click(chromedp.CSS(`nav form button`)), chromedp.WaitVisible(chromedp.CSS(`input[name=login]`)))
	signIn()
	testbin.Steps(t, ctx, "code step",
		chromedp.WaitVisible(chromedp.CSS(`input[name=code]`)),
		// The confirming code's time step is spent; the next one is accepted.
		chromedp.SendKeys(chromedp.CSS(`input[name=code]`), totpCode(t, key, now.Add(30*time.Second))),
		chromedp.Submit(chromedp.CSS(`input[name=code]`)),
		chromedp.WaitVisible(chromedp.CSS(`input[name=siteName]`)),
	)

	// The page the tracking code goes into, on an origin of its own.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	own := "http://" + ln.Addr().String()
	var snippet string
	srv := &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte("<!doctype html><html><head><title>Flow welcome page</title>" + snippet + "</head><body><h1>Welcome</h1></body></html>"))
	})}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })

	testbin.Steps(t, ctx, "add the first site",
		chromedp.SendKeys(chromedp.CSS(`input[name=siteName]`), "Flow shop"),
		chromedp.SendKeys(chromedp.CSS(`textarea[name=urls]`), own),
		chromedp.Submit(chromedp.CSS(`input[name=siteName]`)),
		chromedp.WaitVisible(chromedp.CSS(`#code-hearth`)),
	)
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`/admin/sites/(\d+)(\?|$)`).FindStringSubmatch(loc)
	if m == nil {
		t.Fatalf("after adding the site the browser is at %s", loc)
	}
	site := m[1]

	// The copy button puts the tracking code on the clipboard.
	for _, perm := range []string{"clipboard-read", "clipboard-write"} {
		if _, err := chromedp.Call(ctx, browser.SetPermission, browser.SetPermissionParams{Origin: s.Base,
			Permission: &browser.PermissionDescriptor{Name: perm}, Setting: browser.PermissionSettingGranted}); err != nil {
			t.Fatal(err)
		}
	}
	testbin.Steps(t, ctx, "copy the tracking code", chromedp.Click(chromedp.CSS(`button[data-copy=code-hearth]`)))
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	copied, err := chromedp.Run(sctx, chromedp.Evaluate[string](`navigator.clipboard.readText()`, chromedp.EvalAwaitPromise))
	cancel()
	if err != nil {
		t.Fatal(err)
	}
	if shown := text(`#code-hearth`); strings.TrimSpace(copied) != shown || !strings.Contains(copied, `data-site="`+site+`"`) || !strings.Contains(copied, s.Base+"/hearth.js") {
		t.Fatalf("copied %q; the page shows %q", copied, shown)
	}
	snippet = copied

	// The real-time page is open before the visit; it must show it without a reload.
	testbin.Steps(t, ctx, "open real-time", chromedp.Navigate(s.Base+"/site/"+site+"/realtime"), chromedp.WaitVisible(chromedp.CSS(`[data-counter=visits30]`)))
	if v := text(`[data-counter=visits30]`); v != "0" {
		t.Fatalf("visits in the last 30 minutes before the visit: %q", v)
	}
	tab, closeTab := chromedp.NewContext(ctx)
	if err := chromedp.Do(tab); err != nil { // opens the tab for its whole context, not one step's
		t.Fatal(err)
	}
	// Headless Chromium names itself HeadlessChrome, which Hearth (as Matomo) counts as a bot:
	// the visitor's tab presents itself as the desktop Chrome a visitor would use.
	if _, err := chromedp.Call(tab, emulation.SetUserAgentOverride, emulation.SetUserAgentOverrideParams{
		UserAgent: "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
	}); err != nil {
		t.Fatal(err)
	}
	testbin.Steps(t, tab, "visit the page with the tracking code", chromedp.Navigate(own+"/welcome"), chromedp.WaitVisible(chromedp.CSS(`h1`)))
	testbin.Eventually(t, 30*time.Second, "the visit on the real-time page", func() bool {
		sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		v, err := chromedp.Run(sctx, chromedp.Text(chromedp.CSS(`[data-counter=visits30]`)))
		return err == nil && strings.TrimSpace(v) == "1"
	})
	closeTab()
	// The visit's actions are folded (<details>): their text is in the page, not shown.
	listed, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('#live-visits').textContent`))
	if err != nil || !strings.Contains(listed, "Flow welcome page") {
		t.Errorf("the latest visits do not list the page's title: %q %v", listed, err)
	}
	testbin.Steps(t, ctx, "overview", chromedp.Navigate(s.Base+"/site/"+site+"?period=day&date=today"), chromedp.WaitVisible(chromedp.CSS(`.kpis`)))
	if v := text(`[data-column=nb_visits]`); v != "1" {
		t.Errorf("visits on the overview: %q, want 1", v)
	}
	if v := text(`[data-column=nb_pageviews]`); v != "1" {
		t.Errorf("page views on the overview: %q, want 1", v)
	}
	if !strings.Contains(text(`main`), "Flow welcome page") {
		t.Error("the overview's page titles do not list the visited page")
	}
}
