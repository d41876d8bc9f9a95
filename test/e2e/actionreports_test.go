package e2e

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"hearth/test/testbin"
)

// TestActionReports checks the Actions reports on three visits of 2024-03-06 (site in UTC):
//
//	V1 10:00:00 / (Home), 10:00:30 /blog/a (A), 10:01:30 /blog/b (B), 10:02:00 download of
//	   https://files.example/f.pdf — time on / 30 s, on /blog/a 60 s, on /blog/b 30 s (until
//	   the visit's last action); entered on /, left on /blog/b; 4 actions, 120 s.
//	V2 11:00:00 / (Home), 11:00:20 site search "flu" in Care with no results, 11:00:50 outlink
//	   to https://partner.example/x — 50 s on /, entered and left on /; 3 actions, 50 s.
//	V3 12:00:00 /blog/a (A) alone — a bounce, entered and left on /blog/a.
//
// Pages: / has 2 hits in 2 visits, 80 s, 2 entries (7 actions, 170 s, no bounce), 1 exit.
// /blog/a 2 hits, 2 visits, 60 s, 1 entry (1 action, 0 s, 1 bounce), 1 exit. /blog/b 1 hit,
// 30 s, 1 exit. The blog folder sums its pages: 3 hits, 3 visits, 90 s, 1 entry, 2 exits.
func TestActionReports(t *testing.T) {
	dir := testbin.InitDataDir(t)
	s := testbin.Start(t, dir)
	tok := s.Token(t)
	s.AddSite(t, tok, nil)
	v := kv
	const v1, v2, v3 = "1111111111111111", "2222222222222222", "3333333333333333"
	sendHits(t, s, tok, []hit{
		{1, v1, "", "2024-03-06T10:00:00Z", "/", "", v("action_name", "Home")},
		{1, v1, "", "2024-03-06T10:00:30Z", "/blog/a", "", v("action_name", "A")},
		{1, v1, "", "2024-03-06T10:01:30Z", "/blog/b", "", v("action_name", "B")},
		{1, v1, "", "2024-03-06T10:02:00Z", "/blog/b", "", v("download", "https://files.example/f.pdf")},
		{1, v2, "", "2024-03-06T11:00:00Z", "/", "", v("action_name", "Home")},
		{1, v2, "", "2024-03-06T11:00:20Z", "/", "", v("search", "flu", "search_cat", "Care", "search_count", "0")},
		{1, v2, "", "2024-03-06T11:00:50Z", "/", "", v("link", "https://partner.example/x")},
		{1, v3, "", "2024-03-06T12:00:00Z", "/blog/a", "", v("action_name", "A")},
	})
	call := dayReport(t, s, tok, "2024-03-06")
	rows := func(method string, extra ...string) []map[string]any {
		t.Helper()
		var out []map[string]any
		body := call(method, extra...)
		if err := json.Unmarshal([]byte(body), &out); err != nil {
			t.Fatalf("%s: %v: %s", method, err, body)
		}
		return out
	}
	// brief renders rows as "label:col1/col2/…" for the given columns.
	brief := func(method string, cols []string, extra ...string) string {
		t.Helper()
		var parts []string
		for _, r := range rows(method, extra...) {
			var vals []string
			for _, c := range cols {
				vals = append(vals, fmt.Sprint(r[c]))
			}
			parts = append(parts, fmt.Sprintf("%v:%s", r["label"], strings.Join(vals, "/")))
		}
		return strings.Join(parts, " ")
	}
	pageCols := []string{"nb_hits", "nb_visits", "nb_uniq_visitors", "sum_time_spent", "entry_nb_visits", "entry_nb_actions",
		"entry_sum_visit_length", "entry_bounce_count", "exit_nb_visits", "avg_time_on_page", "bounce_rate", "exit_rate"}
	cases := []struct {
		method string
		cols   []string
		extra  []string
		want   string
	}{
		{"Actions.getPageUrls", pageCols, nil,
			"blog:3/3/3/90/1/1/0/1/2/30/100%/67% /index:2/2/2/80/2/7/170/0/1/40/0%/50%"},
		{"Actions.getPageUrls", []string{"nb_visits", "url"}, []string{"flat", "1"},
			"blog/a:2/https://clinic.example/blog/a /index:2/https://clinic.example/ blog/b:1/https://clinic.example/blog/b"},
		{"Actions.getPageUrls", []string{"nb_hits", "sum_time_spent"}, []string{"flat", "1", "segment", "pageUrl=@blog"},
			"blog/a:2/60 blog/b:1/30 /index:1/30"}, // ties keep the tree order
		{"Actions.getPageTitles", []string{"nb_hits", "nb_visits", "sum_time_spent", "entry_nb_visits", "exit_nb_visits"}, nil,
			"A:2/2/60/1/1 Home:2/2/80/2/1 B:1/1/30/0/1"},
		{"Actions.getEntryPageUrls", []string{"entry_nb_visits", "entry_nb_actions", "entry_bounce_count", "bounce_rate"}, nil,
			"/index:2/7/0/0% blog:1/1/1/100%"},
		{"Actions.getEntryPageTitles", []string{"entry_nb_visits"}, nil, "Home:2 A:1"},
		{"Actions.getExitPageUrls", []string{"exit_nb_visits", "nb_visits", "exit_rate"}, nil, "blog:2/3/67% /index:1/2/50%"},
		{"Actions.getExitPageTitles", []string{"exit_nb_visits"}, []string{"filter_sort_column", "exit_nb_visits"}, "A:1 B:1 Home:1"},
		{"Actions.getDownloads", []string{"nb_hits", "nb_visits"}, nil, "files.example:1/1"},
		{"Actions.getDownloads", []string{"nb_hits", "url"}, []string{"flat", "1"}, "files.example - https://files.example/f.pdf:1/https://files.example/f.pdf"},
		{"Actions.getOutlinks", []string{"nb_hits", "nb_visits"}, nil, "partner.example:1/1"},
		{"Actions.getSiteSearchKeywords", []string{"nb_hits", "nb_visits"}, nil, "flu:1/1"},
		{"Actions.getSiteSearchNoResultKeywords", []string{"nb_hits"}, nil, "flu:1"},
		{"Actions.getSiteSearchCategories", []string{"nb_hits"}, nil, "Care:1"},
	}
	for _, tc := range cases {
		if got := brief(tc.method, tc.cols, tc.extra...); got != tc.want {
			t.Errorf("%s %v:\n got %s\nwant %s", tc.method, tc.extra, got, tc.want)
		}
	}
	// The blog folder's pages are its subtable.
	top := rows("Actions.getPageUrls")
	id, ok := top[0]["idsubdatatable"].(float64)
	if !ok {
		t.Fatalf("blog folder without subtable: %v", top[0])
	}
	if got := brief("Actions.getPageUrls", []string{"nb_hits"}, "idSubtable", fmt.Sprint(int(id))); got != "/a:2 /b:1" {
		t.Errorf("blog subtable: %s", got)
	}
	if got := call("Actions.get"); got != `{"nb_pageviews":5,"nb_uniq_pageviews":5,"nb_downloads":1,"nb_uniq_downloads":1,"nb_outlinks":1,"nb_uniq_outlinks":1,"nb_searches":1,"nb_keywords":1}` {
		t.Errorf("Actions.get: %s", got)
	}
}
