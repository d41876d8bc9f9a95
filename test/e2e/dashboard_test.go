package e2e

import (
	"context"
	"encoding/base64"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"hearth/test/testbin"
)

// TestDashboardInBrowser uses the dashboard in headless Chromium as an analyst would, on a
// site with tracked visits: a row's link drills into its visits with the row's figure, the
// segment editor narrows every page, the comparison shows the previous period, and the export
// the page offers is the Reporting API's CSV for the same view. Then a user with view access
// only: no visitor log link, 403 on its address, and no trace of the site they cannot view.
func TestDashboardInBrowser(t *testing.T) {
	s, tok := testbin.StartWithSite(t, kv("siteName", "Clinic"))
	other := s.AddSite(t, tok, kv("siteName", "Zephyrine private ward", "urls[0]", "https://ward.example"))
	now := time.Now().UTC().Add(-10 * time.Minute)
	at := func(d time.Duration) string { return now.Add(d).Format(time.RFC3339) }
	// Three visits today: two from a search engine (one of them two pages), one direct.
	sendHits(t, s, tok, []hit{
		{1, "00000000000000b1", "", at(0), "/", "", kv("urlref", "https://www.google.com/search?q=clinic")},
		{1, "00000000000000b1", "", at(time.Minute), "/contact", "", nil},
		{1, "00000000000000b2", "", at(2 * time.Minute), "/", "", kv("urlref", "https://www.google.com/search?q=hours")},
		{1, "00000000000000b3", "", at(3 * time.Minute), "/contact", "", nil},
		{other, "00000000000000c1", "", at(0), "/ward", "", nil},
	})
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
	signIn := func(login, password string) {
		testbin.Steps(t, ctx, "sign in as "+login,
			chromedp.Navigate(s.Base+"/login"),
			chromedp.WaitVisible(chromedp.CSS(`input[name=login]`)),
			chromedp.SendKeys(chromedp.CSS(`input[name=login]`), login),
			chromedp.SendKeys(chromedp.CSS(`input[name=password]`), password),
			chromedp.Submit(chromedp.CSS(`input[name=password]`)),
			chromedp.WaitVisible(chromedp.CSS(`nav`)),
		)
	}
	signIn("admin", testbin.AdminPassword)
	view := s.Base + "/site/1?period=day&date=today"
	testbin.Steps(t, ctx, "overview", chromedp.Navigate(view), chromedp.WaitVisible(chromedp.CSS(`.kpis`)))
	if v := text(`[data-column=nb_visits]`); v != "3" {
		t.Fatalf("visits: %q, want 3", v)
	}

	// Drill-down: the channel type "Search Engines" counts two visits; its link shows them.
	row := `section[aria-labelledby="b-Referrers.getReferrerType"] td.label a`
	testbin.Steps(t, ctx, "drill into search engines", chromedp.Click(chromedp.CSS(row)), chromedp.WaitVisible(chromedp.CSS(`.segment-now`)))
	if v := text(`[data-column=nb_visits]`); v != "2" {
		t.Errorf("visits from search engines after the click: %q, want 2", v)
	}
	// The segment stays on every page: the report of page titles under it.
	testbin.Steps(t, ctx, "reports under the segment", chromedp.Click(chromedp.CSS(`nav.sections a[href^="/site/1/reports"]`)), chromedp.WaitVisible(chromedp.CSS(`.segment-now`)))

	// The segment editor: visits whose entry page contains "contact" (one: visit 3).
	testbin.Steps(t, ctx, "segment editor",
		chromedp.Navigate(view),
		chromedp.Click(chromedp.CSS(`details.segment-editor summary`)),
		chromedp.SetValue(chromedp.CSS(`select[name=seg_dim]`), "entryPageUrl"),
		chromedp.SetValue(chromedp.CSS(`select[name=seg_op]`), "=@"),
		chromedp.SendKeys(chromedp.CSS(`input[name=seg_val]`), "contact"),
		chromedp.Submit(chromedp.CSS(`input[name=seg_val]`)),
		chromedp.WaitVisible(chromedp.CSS(`.segment-now`)),
	)
	if v := text(`[data-column=nb_visits]`); v != "1" {
		t.Errorf("visits entering on /contact: %q, want 1", v)
	}

	// The comparison: yesterday had no visit, so the tiles show the previous period's 0.
	testbin.Steps(t, ctx, "compare", chromedp.Navigate(view+"&compare=previous"), chromedp.WaitVisible(chromedp.CSS(`.kpis .prev`)))
	if v := text(`.kpi .prev`); !strings.HasSuffix(v, ": 0") {
		t.Errorf("the previous period's visits: %q", v)
	}

	// The export the report page links to is the API's CSV for the same view.
	report := s.Base + "/site/1/report/Actions.getPageUrls?period=day&date=today&flat=1"
	testbin.Steps(t, ctx, "report", chromedp.Navigate(report), chromedp.WaitVisible(chromedp.CSS(`a[href*="/export?"][href*="format=csv"]`)))
	href, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('a[href*="/export?"][href*="format=csv"]').href`))
	if err != nil {
		t.Fatal(err)
	}
	got, err := chromedp.Run(ctx, chromedp.Evaluate[string](fmt.Sprintf(`fetch(%q).then(r => r.arrayBuffer()).then(b => btoa(String.fromCharCode(...new Uint8Array(b))))`, href), chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	csv, _ := base64.StdEncoding.DecodeString(got)
	want := s.Report(t, tok, kv("method", "Actions.getPageUrls", "idSite", "1", "period", "day", "date", "today", "flat", "1", "format", "csv", "filter_limit", "-1"))
	if string(csv) != want || len(want) < 10 {
		t.Errorf("the export (%d bytes) is not the API's CSV (%d bytes)", len(csv), len(want))
	}

	// A user with view access to site 1 only.
	s.Report(t, tok, kv("method", "UsersManager.addUser", "userLogin", "vera", "password", "a long passphrase for the view role 7", "email", "vera@example.org",
		"passwordConfirmation", testbin.AdminPassword))
	s.Report(t, tok, kv("method", "UsersManager.setUserAccess", "userLogin", "vera", "access", "view", "idSites", "1",
		"passwordConfirmation", testbin.AdminPassword))
	testbin.Steps(t, ctx, "sign out", chromedp.Click(chromedp.CSS(`nav form button`)), chromedp.WaitVisible(chromedp.CSS(`input[name=login]`)))
	signIn("vera", "a long passphrase for the view role 7")
	if list := text(`main`); !strings.Contains(list, "Clinic") || strings.Contains(list, "Zephyrine") {
		t.Errorf("vera's sites list: %q", list)
	}
	testbin.Steps(t, ctx, "vera's overview", chromedp.Navigate(view), chromedp.WaitVisible(chromedp.CSS(`.kpis`)))
	if n, _ := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('a[href*="/visitors"]').length`)); n != 0 {
		t.Errorf("vera's overview links the visitor log %d times", n)
	}
	page, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.documentElement.outerHTML`))
	if strings.Contains(page, "Zephyrine") || regexp.MustCompile(`/site/`+fmt.Sprint(other)+`\b`).MatchString(page) {
		t.Error("vera's overview names the site she cannot view")
	}
	for _, c := range []struct {
		path   string
		status int
	}{{"/site/1/visitors", 403}, {"/site/1/visitors/00000000000000b1", 403}, {fmt.Sprintf("/site/%d", other), 404}, {fmt.Sprintf("/site/%d/realtime", other), 404}} {
		for _, problem := range testbin.PageProblems(t, ctx, s.Base, testbin.Page{Name: "vera" + strings.ReplaceAll(c.path, "/", "-"), Path: c.path, Status: c.status}) {
			t.Error(problem)
		}
		if body := text(`main`); strings.Contains(body, "Zephyrine") {
			t.Errorf("%s names the site vera cannot view: %q", c.path, body)
		}
	}
}
