package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	"hearth/test/testbin"
)

// hit is one tracking request of the reports dataset.
type hit struct {
	site    int
	visitor string // 16 hex characters, sent as cid
	user    string // uid, optional
	at      string // RFC 3339, sent as cdt
	path    string
	ua      string     // default firefoxUA
	extra   url.Values // more tracking parameters
}

// kv builds parameters from alternating names and values.
func kv(pairs ...string) url.Values {
	out := url.Values{}
	for i := 0; i+1 < len(pairs); i += 2 {
		out.Set(pairs[i], pairs[i+1])
	}
	return out
}

// dayReport returns a function that calls a report of site 1 for one day, in JSON, with more
// parameters as alternating names and values, and returns the trimmed answer.
func dayReport(t *testing.T, s *testbin.Server, tok, date string) func(method string, extra ...string) string {
	return func(method string, extra ...string) string {
		t.Helper()
		p := kv(extra...)
		for k, v := range kv("method", method, "idSite", "1", "period", "day", "date", date, "format", "json") {
			if p.Get(k) == "" {
				p[k] = v
			}
		}
		return strings.TrimSpace(s.Report(t, tok, p))
	}
}

// sendHits posts hits as one authenticated bulk request (cid and cdt need a token) and waits
// until the visitor logs of the sites hold them all, one action per hit.
func sendHits(t *testing.T, s *testbin.Server, tok string, hits []hit) {
	t.Helper()
	sendHitsWant(t, s, tok, hits, nil)
}

// trackBulk sends tracking requests ("?idsite=…") as one bulk request with the token and
// fails unless every one is tracked.
func trackBulk(t *testing.T, s *testbin.Server, tok string, reqs []string) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"requests": reqs, "token_auth": tok})
	resp, err := testbin.Client.Post(s.Base+"/matomo.php", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(b), fmt.Sprintf(`"tracked":%d`, len(reqs))) {
		t.Fatalf("bulk: %d %s", resp.StatusCode, b)
	}
}

// sendHitsWant is sendHits for hits that do not make one action each (goal conversions): it
// waits for want[site] actions instead.
func sendHitsWant(t *testing.T, s *testbin.Server, tok string, hits []hit, want map[int]int) {
	t.Helper()
	var reqs []string
	perSite := map[int]int{}
	for _, h := range hits {
		at, err := time.Parse(time.RFC3339, h.at)
		if err != nil {
			t.Fatal(err)
		}
		ua := h.ua
		if ua == "" {
			ua = firefoxUA
		}
		q := url.Values{"idsite": {fmt.Sprint(h.site)}, "rec": {"1"}, "cid": {h.visitor}, "cdt": {fmt.Sprint(at.Unix())},
			"url": {"https://clinic.example" + h.path}, "action_name": {strings.TrimPrefix(h.path, "/")}, "ua": {ua}}
		if h.user != "" {
			q.Set("uid", h.user)
		}
		for k, vs := range h.extra {
			q[k] = vs
		}
		reqs = append(reqs, "?"+q.Encode())
		perSite[h.site]++
	}
	trackBulk(t, s, tok, reqs)
	if want != nil {
		perSite = want
	}
	for site, n := range perSite {
		got := 0
		for _, v := range s.WaitActions(t, tok, site, n) {
			got += len(testbin.ActionsOf(v))
		}
		if got != n {
			t.Fatalf("site %d holds %d actions, want %d", site, got, n)
		}
	}
}

// TestVisitsSummary checks VisitsSummary against a dataset small enough to count by hand.
//
// Site 1 (UTC):
//
//	A: visit 1  2024-03-06 10:00, 10:02, 10:05   3 actions, 300 s
//	A: visit 2  2024-03-06 15:00                 1 action (bounce), 0 s
//	B:          2024-03-06 23:50 and 03-07 00:10: two visits of one action each, as a visit
//	            ends at midnight in the site's timezone (Matomo's rule)
//	C (uid):    2024-03-07 09:00, 09:01          2 actions, 60 s
//
// 03-06: 3 visits, 2 visitors, 0 users, 5 actions, max 3, 300 s, 2 bounces → 67 %, 1.7
// actions per visit (5/3), 100 s per visit. 03-07: 2 visits, 2 visitors, 1 user, 3 actions,
// max 2, 60 s, 1 bounce → 50 %, 1.5, 30 s. The week of 03-04 and the range 03-06..03-07:
// 5 visits, 3 visitors, 1 user, 8 actions, max 3, 360 s, 3 bounces → 60 %, 1.6, 72 s.
//
// Site 2 (Europe/Berlin; summer time from 2024-03-31 02:00): one-pageview visits at
// 2024-03-30 23:30Z (= 03-31 00:30 local) and 2024-03-31 22:30Z (= 04-01 00:30 local): the
// first is on 03-31 there, the second on 04-01, although both UTC dates differ.
func TestVisitsSummary(t *testing.T) {
	s, tok := testbin.StartWithSite(t, nil)
	s.AddSite(t, tok, url.Values{"siteName": {"Berlin"}, "timezone": {"Europe/Berlin"}})
	const a, b, c, d, e = "aaaaaaaaaaaaaaaa", "bbbbbbbbbbbbbbbb", "cccccccccccccccc", "dddddddddddddddd", "eeeeeeeeeeeeeeee"
	sendHits(t, s, tok, []hit{
		{1, a, "", "2024-03-06T10:00:00Z", "/", "", nil}, {1, a, "", "2024-03-06T10:02:00Z", "/care", "", nil}, {1, a, "", "2024-03-06T10:05:00Z", "/contact", "", nil},
		{1, a, "", "2024-03-06T15:00:00Z", "/", "", nil},
		{1, b, "", "2024-03-06T23:50:00Z", "/", "", nil}, {1, b, "", "2024-03-07T00:10:00Z", "/care", "", nil},
		{1, c, "alice", "2024-03-07T09:00:00Z", "/", "", nil}, {1, c, "alice", "2024-03-07T09:01:00Z", "/care", "", nil},
		{2, d, "", "2024-03-30T23:30:00Z", "/", "", nil}, {2, e, "", "2024-03-31T22:30:00Z", "/", "", nil},
	})
	get := func(params url.Values) string {
		t.Helper()
		return s.Report(t, tok, params)
	}
	// The reports' answers are cases in testdata/api/visits_summary_periods.case, on the same
	// hits; here, what a case line does not show well.

	// The visitor log takes periods and segments as reports do.
	for _, tc := range []struct{ period, date, segment string }{
		{"week", "2024-03-06", ""}, {"month", "2024-03-01", "userId==alice"}, {"range", "2024-03-07,2024-03-07", ""}, {"day", "2024-03-06", "visitorType==returning"},
	} {
		want := map[string]int{"week": 5, "month": 1, "range": 2, "day": 1}[tc.period]
		var visits []any
		body := get(url.Values{"method": {"Live.getLastVisitsDetails"}, "idSite": {"1"}, "period": {tc.period}, "date": {tc.date}, "segment": {tc.segment}, "format": {"json"}})
		if err := json.Unmarshal([]byte(body), &visits); err != nil || len(visits) != want {
			t.Errorf("visitor log %s %s %s: %d visits, want %d (%v)", tc.period, tc.date, tc.segment, len(visits), want, err)
		}
	}

	// TSV in UTF-16LE with a byte-order mark, Matomo's default.
	raw := get(url.Values{"method": {"VisitsSummary.get"}, "idSite": {"1"}, "period": {"day"}, "date": {"2024-03-06"}, "format": {"tsv"}, "showColumns": {"nb_visits,nb_actions"}})
	if len(raw) < 2 || raw[0] != 0xFF || raw[1] != 0xFE {
		t.Fatalf("tsv has no UTF-16LE byte-order mark: %q", raw)
	}
	units := make([]uint16, 0, len(raw)/2)
	for i := 2; i+1 < len(raw); i += 2 {
		units = append(units, uint16(raw[i])|uint16(raw[i+1])<<8)
	}
	if got := string(utf16.Decode(units)); got != "nb_visits\tnb_actions\n3\t5\n" {
		t.Errorf("tsv: %q", got)
	}
}

// TestDemoCommand: `hearth demo` fills a new Demo site with visits that the reports then show.
func TestDemoCommand(t *testing.T) {
	dir := testbin.InitDataDir(t)
	out, code := testbin.Run(t, nil, "demo", "--data-dir", dir, "--events", "3000", "--days", "10")
	if code != 0 || !strings.Contains(out, "site 1:") {
		t.Fatalf("demo: %d %s", code, out)
	}
	if out, code := testbin.Run(t, nil, "demo", "--data-dir", dir, "--events", "0"); code != 2 || !strings.Contains(out, "between 1 and") {
		t.Fatalf("demo --events 0: %d %s", code, out)
	}
	s := testbin.Start(t, dir)
	tok := s.Token(t)
	var totals map[string]any
	body := s.Report(t, tok, kv("method", "VisitsSummary.get", "idSite", "1", "period", "range", "date", "last11", "format", "json"))
	if err := json.Unmarshal([]byte(body), &totals); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	if visits, _ := totals["nb_visits"].(float64); visits < 300 {
		t.Errorf("demo visits over the last 11 days: %v", totals)
	}
	actions, _ := totals["nb_actions"].(float64)
	if actions < 2000 || actions > 3000 {
		t.Errorf("demo actions: %v, want most of the 3,000 (orders do not count as actions)", actions)
	}
	exp, _ := testbin.Run(t, nil, "audit", "export", "--data-dir", dir)
	if !strings.Contains(exp, `"action":"site.create"`) || !strings.Contains(exp, `"name":"Demo"`) || strings.Count(exp, `"action":"goal.create"`) != 2 {
		t.Errorf("demo site and goal creation not audited:\n%s", exp)
	}
	// Its two goals convert in the data: every form event books (25 each), a visit's first
	// leaflet download converts the second goal.
	goals := s.Report(t, tok, kv("method", "Goals.getGoals", "idSite", "1", "format", "json"))
	if !strings.Contains(goals, `"name":"Booking"`) || !strings.Contains(goals, `"name":"Leaflet download"`) {
		t.Errorf("demo goals: %s", goals)
	}
	for _, id := range []string{"1", "2"} {
		var g map[string]any
		body := s.Report(t, tok, kv("method", "Goals.get", "idSite", "1", "idGoal", id, "period", "range", "date", "last11", "format", "json"))
		if err := json.Unmarshal([]byte(body), &g); err != nil {
			t.Fatalf("%v: %s", err, body)
		}
		conv, _ := g["nb_conversions"].(float64)
		revenue, _ := g["revenue"].(float64)
		if conv < 10 || (id == "1" && revenue != 25*conv) || (id == "2" && revenue != 0) {
			t.Errorf("demo goal %s: %v", id, g)
		}
	}
}
