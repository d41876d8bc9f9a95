package e2e

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"hearth/test/testbin"
)

// TestActionsPerVisitLimits: one visit sent with more actions than --max-actions-per-visit
// keeps that many, the rest answered as tracked, dropped and counted on /metrics; the visitor
// log lists --visitor-log-max-actions of them, with the visit's own counters whole.
func TestActionsPerVisitLimits(t *testing.T) {
	dir := testbin.InitDataDir(t)
	metricsAddr := freeAddr(t)
	s := testbin.Start(t, dir, "--metrics-listen", metricsAddr, "--max-actions-per-visit", "20", "--visitor-log-max-actions", "8")
	tok := s.Token(t)
	site := s.AddSite(t, tok, nil)

	reqs := make([]string, 30)
	for i := range reqs {
		reqs[i] = fmt.Sprintf(`"?idsite=%d&rec=1&_id=5555555555555555&action_name=P%d&url=%s&ua=%s"`, site, i+1,
			url.QueryEscape(fmt.Sprintf("https://clinic.example/p%d", i+1)), url.QueryEscape(firefoxUA))
	}
	resp, body := testbin.Post(t, s.Base+"/matomo.php", "application/json", `{"requests":[`+strings.Join(reqs, ",")+`]}`)
	if resp.StatusCode != 200 || !strings.Contains(body, `"tracked":30`) || !strings.Contains(body, `"invalid":0`) {
		t.Fatalf("bulk: %d %s", resp.StatusCode, body)
	}

	// Ingest applies in the background: wait for the visit's twenty actions.
	var visits []map[string]any
	testbin.Poll(15*time.Second, func() bool {
		visits = s.Visits(t, tok, site)
		return len(visits) == 1 && visits[0]["actions"] == 20.0
	})
	if len(visits) != 1 || visits[0]["actions"] != 20.0 {
		t.Fatalf("visits: %v", visits)
	}
	acts := testbin.ActionsOf(visits[0])
	if len(acts) != 8 || acts[0]["url"] != "https://clinic.example/p1" || acts[7]["url"] != "https://clinic.example/p8" ||
		visits[0]["truncatedActionsCount"] != 12.0 {
		t.Fatalf("visitor log: %d actions, truncated %v: %v", len(acts), visits[0]["truncatedActionsCount"], acts)
	}

	// The same log as CSV: a header and one line, the actions cut the same way.
	csv := s.Report(t, tok, url.Values{"method": {"Live.getLastVisitsDetails"}, "idSite": {fmt.Sprint(site)}, "format": {"csv"}, "convertToUnicode": {"0"}})
	lines := strings.Split(strings.TrimSuffix(csv, "\n"), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], "truncatedActionsCount") || !strings.Contains(lines[1], "/p8") || strings.Contains(lines[1], "/p9") {
		t.Fatalf("csv: %.600s", csv)
	}

	resp, body = testbin.Get(t, "http://"+metricsAddr+"/metrics", nil)
	for _, want := range []string{`hearth_hits_dropped_total{reason="visit_action_limit"} 10`, `hearth_hits_total{outcome="accepted"} 20`, `hearth_hits_total{outcome="ignored"} 10`} {
		if resp.StatusCode != 200 || !strings.Contains(body, want) {
			t.Fatalf("metrics lack %s: %d %s", want, resp.StatusCode, body)
		}
	}
	s.Stop()
	if log := s.Log(); strings.Count(log, "a visit reached the most actions a visit takes") != 1 {
		t.Fatalf("the first dropped hit of the visit is logged once:\n%s", log)
	}
}
