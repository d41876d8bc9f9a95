package e2e

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"hearth/test/testbin"
)

// TestRealtimeRefreshesInBrowser opens the real-time page in headless Chromium, tracks a visit
// after it loaded, and sees the visit counted and listed without a reload (realtime.js polls
// every 5 seconds); the page load is the one raw-data view in the audit trail, however many
// times the page refreshes its figures.
func TestRealtimeRefreshesInBrowser(t *testing.T) {
	s, tok := testbin.StartWithSite(t, nil)
	track := func(visitor, path string) {
		t.Helper()
		q := url.Values{"idsite": {"1"}, "rec": {"1"}, "cid": {visitor}, "cdt": {fmt.Sprint(time.Now().Unix())},
			"url": {"https://clinic.example" + path}, "action_name": {path}, "ua": {firefoxUA}}
		trackBulk(t, s, tok, []string{"?" + q.Encode()})
	}
	rawViews := func() int {
		t.Helper()
		req, _ := http.NewRequest("GET", s.Base+"/api/v1/audit?format=ndjson&action=rawdata.view", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := testbin.Client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("audit: %d", resp.StatusCode)
		}
		n := 0
		for sc := bufio.NewScanner(resp.Body); sc.Scan(); {
			if strings.TrimSpace(sc.Text()) != "" {
				n++
			}
		}
		return n
	}
	track("00000000000000a1", "/first")

	ctx := testbin.Browser(t)
	testbin.Steps(t, ctx, "sign in and open the real-time page",
		chromedp.Navigate(s.Base+"/login"),
		chromedp.WaitVisible(chromedp.CSS(`input[name=login]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name=login]`), "admin"),
		chromedp.SendKeys(chromedp.CSS(`input[name=password]`), testbin.AdminPassword),
		chromedp.Submit(chromedp.CSS(`input[name=password]`)),
		chromedp.WaitVisible(chromedp.CSS(`nav`)),
		chromedp.Navigate(s.Base+"/site/1/realtime"),
		chromedp.WaitVisible(chromedp.CSS(`[data-counter="visits30"]`)),
	)
	eval := func(expr string) string {
		t.Helper()
		sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		v, err := chromedp.Run(sctx, chromedp.Evaluate[string](expr))
		if err != nil {
			t.Fatalf("%s: %v", expr, err)
		}
		return v
	}
	// What the page shows: the visits of the last 30 minutes counted, and listed.
	shown := func() string {
		return eval(`document.querySelector('[data-counter="visits30"]').textContent + ' counted, ' +
			document.querySelectorAll('#live-visits li[data-visit]').length + ' listed'`)
	}
	// The first visit may still be on its way through ingest: the page shows it once applied.
	if !testbin.Poll(20*time.Second, func() bool { return shown() == "1 counted, 1 listed" }) {
		t.Fatalf("the page shows %s, want 1 counted, 1 listed", shown())
	}
	if n := rawViews(); n != 1 {
		t.Fatalf("%d raw-data views after opening the page, want 1", n)
	}
	eval(`(window.hearthStayed = 'yes')`)
	track("00000000000000b2", "/second")
	if !testbin.Poll(20*time.Second, func() bool { return shown() == "2 counted, 2 listed" }) {
		t.Fatalf("after a second visit the page shows %s, want 2 counted, 2 listed", shown())
	}
	if eval(`String(window.hearthStayed)`) != "yes" {
		t.Error("the page was reloaded to show the new visit")
	}
	// One more refresh at least (the time it shows changes), then the trail: still the page
	// load's view only.
	updated := func() string { return eval(`document.getElementById('live-updated').getAttribute('datetime')`) }
	seen := updated()
	if !testbin.Poll(20*time.Second, func() bool { return updated() != seen }) {
		t.Fatal("the figures were not refreshed again")
	}
	if n := rawViews(); n != 1 {
		t.Errorf("%d raw-data views after the page refreshed itself, want 1", n)
	}
}
