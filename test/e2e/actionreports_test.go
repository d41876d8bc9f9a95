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
	s, tok := testbin.StartWithSite(t, nil)
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

// TestEventReports checks Events and Contents on one visit of 2024-03-06 with four events —
// Video/Play/Intro (5), Video/Play/Outro (3), Video/Pause/Intro (no value), Form/Submit (no
// name, no value) — and three content actions: Banner/img1 seen, Banner/img1 clicked,
// Banner/img2 seen.
func TestEventReports(t *testing.T) {
	s, tok := testbin.StartWithSite(t, nil)
	const vis = "4444444444444444"
	sendHits(t, s, tok, []hit{
		{1, vis, "", "2024-03-06T13:00:00Z", "/video", "", kv("e_c", "Video", "e_a", "Play", "e_n", "Intro", "e_v", "5")},
		{1, vis, "", "2024-03-06T13:00:10Z", "/video", "", kv("e_c", "Video", "e_a", "Play", "e_n", "Outro", "e_v", "3")},
		{1, vis, "", "2024-03-06T13:00:20Z", "/video", "", kv("e_c", "Video", "e_a", "Pause", "e_n", "Intro")},
		{1, vis, "", "2024-03-06T13:00:30Z", "/form", "", kv("e_c", "Form", "e_a", "Submit")},
		{1, vis, "", "2024-03-06T13:00:40Z", "/", "", kv("c_n", "Banner", "c_p", "img1")},
		{1, vis, "", "2024-03-06T13:00:50Z", "/", "", kv("c_n", "Banner", "c_p", "img1", "c_i", "click")},
		{1, vis, "", "2024-03-06T13:01:00Z", "/", "", kv("c_n", "Banner", "c_p", "img2")},
	})
	call := dayReport(t, s, tok, "2024-03-06")
	cases := []struct {
		method string
		extra  []string
		want   string
	}{
		{"Events.getCategory", []string{"showColumns", "nb_events,nb_visits,nb_events_with_value,sum_event_value,min_event_value,max_event_value,avg_event_value,segment"},
			`[{"label":"Video","nb_visits":1,"nb_events":3,"nb_events_with_value":2,"sum_event_value":8,"min_event_value":3,"max_event_value":5,"avg_event_value":4,"segment":"eventCategory==Video","idsubdatatable":%d},` +
				`{"label":"Form","nb_visits":1,"nb_events":1,"nb_events_with_value":0,"sum_event_value":0,"min_event_value":0,"max_event_value":0,"avg_event_value":0,"segment":"eventCategory==Form","idsubdatatable":%d}]`},
		{"Events.getCategory", []string{"flat", "1", "showColumns", "nb_events,sum_event_value"},
			// Flattened rows keep the tree's order where the sort ties.
			`[{"label":"Video - Play","nb_events":2,"sum_event_value":8},{"label":"Video - Pause","nb_events":1,"sum_event_value":0},{"label":"Form - Submit","nb_events":1,"sum_event_value":0}]`},
		{"Events.getCategory", []string{"flat", "1", "secondaryDimension", "eventName", "showColumns", "nb_events"},
			`[{"label":"Video - Intro","nb_events":2},{"label":"Video - Outro","nb_events":1},{"label":"Form - Not defined","nb_events":1}]`},
		{"Events.getAction", []string{"showColumns", "nb_events"},
			`[{"label":"Play","nb_events":2,"idsubdatatable":%d},{"label":"Pause","nb_events":1,"idsubdatatable":%d},{"label":"Submit","nb_events":1,"idsubdatatable":%d}]`},
		{"Events.getName", []string{"showColumns", "nb_events,nb_events_with_value,sum_event_value", "flat", "1"},
			`[{"label":"Intro - Pause","nb_events":1,"nb_events_with_value":0,"sum_event_value":0},{"label":"Intro - Play","nb_events":1,"nb_events_with_value":1,"sum_event_value":5},` +
				`{"label":"Not defined - Submit","nb_events":1,"nb_events_with_value":0,"sum_event_value":0},{"label":"Outro - Play","nb_events":1,"nb_events_with_value":1,"sum_event_value":3}]`},
		{"Contents.getContentNames", []string{"expanded", "1"},
			`[{"label":"Banner","nb_visits":1,"nb_impressions":2,"nb_interactions":1,"interaction_rate":"50%","segment":"contentName==Banner","subtable":[` +
				`{"label":"img1","nb_visits":1,"nb_impressions":1,"nb_interactions":1,"interaction_rate":"100%","segment":"contentName==Banner;contentPiece==img1"},` +
				`{"label":"img2","nb_visits":1,"nb_impressions":1,"nb_interactions":0,"interaction_rate":"0%","segment":"contentName==Banner;contentPiece==img2"}]}]`},
		{"Contents.getContentPieces", []string{"showColumns", "nb_impressions,nb_interactions", "flat", "1"},
			`[{"label":"img1 - Banner","nb_impressions":1,"nb_interactions":1},{"label":"img2 - Banner","nb_impressions":1,"nb_interactions":0}]`},
	}
	for _, tc := range cases {
		got := call(tc.method, tc.extra...)
		want := tc.want
		if strings.Contains(want, "%d") {
			// Subtable ids are hashes: take them from the answer, check everything else.
			var rows []map[string]any
			if err := json.Unmarshal([]byte(got), &rows); err != nil {
				t.Fatalf("%s: %v", tc.method, err)
			}
			var ids []any
			for _, r := range rows {
				ids = append(ids, int(r["idsubdatatable"].(float64)))
			}
			want = fmt.Sprintf(want, ids...)
		}
		if got != want {
			t.Errorf("%s %v:\n got %s\nwant %s", tc.method, tc.extra, got, want)
		}
	}
	if code, v := s.API(t, kv("method", "Events.getCategory", "idSite", "1", "period", "day", "date", "2024-03-06", "token_auth", tok,
		"secondaryDimension", "contentName")); code != 400 || !strings.Contains(fmt.Sprint(v), "secondaryDimension") {
		t.Errorf("bad secondaryDimension: %d %v", code, v)
	}
}

// TestCustomDimensions: a visit-scope dimension (id 1) and an action-scope one (id 2) are
// configured, hits carry dimension1 and dimension2, and the reports count them: two visits
// "gold" and one without; pageviews "red" twice, once "blue".
func TestCustomDimensions(t *testing.T) {
	s, tok := testbin.StartWithSite(t, nil)
	call := dayReport(t, s, tok, "2024-03-06")
	if id := call("CustomDimensions.configureNewCustomDimension", "name", "Plan", "scope", "visit"); id != `{"value":1}` {
		t.Fatalf("configure visit dimension: %s", id)
	}
	if id := call("CustomDimensions.configureNewCustomDimension", "name", "Colour", "scope", "action"); id != `{"value":2}` {
		t.Fatalf("configure action dimension: %s", id)
	}
	if code, v := s.API(t, kv("method", "CustomDimensions.configureNewCustomDimension", "idSite", "1", "name", "X", "scope", "visit",
		"extractions[0][dimension]", "url", "extractions[0][pattern]", "plan=(.*)", "token_auth", tok)); code != 400 || !strings.Contains(fmt.Sprint(v), "Extractions are not supported") {
		t.Errorf("extractions: %d %v", code, v)
	}
	if code, v := s.API(t, kv("method", "CustomDimensions.configureNewCustomDimension", "idSite", "1", "name", "X", "scope", "page", "token_auth", tok)); code != 400 {
		t.Errorf("bad scope: %d %v", code, v)
	}
	sendHits(t, s, tok, []hit{
		{1, "1111111111111111", "", "2024-03-06T10:00:00Z", "/", "", kv("dimension1", "gold", "dimension2", "red")},
		{1, "1111111111111111", "", "2024-03-06T10:01:00Z", "/a", "", kv("dimension2", "blue")},
		{1, "2222222222222222", "", "2024-03-06T11:00:00Z", "/", "", kv("dimension1", "gold", "dimension2", "red")},
		{1, "3333333333333333", "", "2024-03-06T12:00:00Z", "/", "", nil},
	})
	if got := call("CustomDimensions.getCustomDimension", "idDimension", "1", "showColumns", "nb_visits,nb_actions"); got != `[{"label":"gold","nb_visits":2,"nb_actions":3},{"label":"Value not defined","nb_visits":1,"nb_actions":1}]` {
		t.Errorf("visit dimension report: %s", got)
	}
	if got := call("CustomDimensions.getCustomDimension", "idDimension", "2", "showColumns", "nb_hits,nb_visits"); got != `[{"label":"red","nb_visits":2,"nb_hits":2},{"label":"Value not defined","nb_visits":1,"nb_hits":1},{"label":"blue","nb_visits":1,"nb_hits":1}]` {
		t.Errorf("action dimension report: %s", got)
	}
	for segment, want := range map[string]string{"dimension1==gold": `{"value":2}`, "dimension2==blue": `{"value":1}`,
		"dimension2!=red": `{"value":1}`, "dimension1==": `{"value":1}`} {
		if got := call("VisitsSummary.getVisits", "segment", segment); got != want {
			t.Errorf("visits with %s: %s, want %s", segment, got, want)
		}
	}
	if got := call("CustomDimensions.getConfiguredCustomDimensions"); !strings.Contains(got, `"name":"Plan","index":1,"scope":"visit","active":true`) ||
		!strings.Contains(got, `"name":"Colour","index":1,"scope":"action"`) {
		t.Errorf("configured dimensions: %s", got)
	}
	if got := call("CustomDimensions.configureExistingCustomDimension", "idDimension", "1", "name", "Tier", "active", "0"); got != `{"message":"ok","result":"success"}` {
		t.Errorf("update: %s", got)
	}
}

// TestEcommerceItems: V1 orders 2 gloves (10 each, categories Care and Hands) and a mask (5,
// Care); V2 updates its cart twice (last: 3 gloves and a mask) and leaves; V3 puts 2 masks in
// its cart and orders them. Orders: gloves 20 (2, one order), masks 15 (3 in two orders);
// abandoned: V2's last cart only.
func TestEcommerceItems(t *testing.T) {
	s, tok := testbin.StartWithSite(t, kv("ecommerce", "1"))
	const gloves = `["A","Gloves",["Care","Hands"],10,%d]`
	const mask = `["B","Mask","Care",5,%d]`
	items := func(parts ...string) string { return "[" + strings.Join(parts, ",") + "]" }
	sendHits(t, s, tok, []hit{
		{1, "1111111111111111", "", "2024-03-06T10:00:00Z", "/shop", "", kv("idgoal", "0", "ec_id", "O-1", "revenue", "25",
			"ec_items", items(fmt.Sprintf(gloves, 2), fmt.Sprintf(mask, 1)))},
		{1, "2222222222222222", "", "2024-03-06T11:00:00Z", "/shop", "", kv("idgoal", "0", "revenue", "10", "ec_items", items(fmt.Sprintf(gloves, 1)))},
		{1, "2222222222222222", "", "2024-03-06T11:00:10Z", "/shop", "", kv("idgoal", "0", "revenue", "35",
			"ec_items", items(fmt.Sprintf(gloves, 3), fmt.Sprintf(mask, 1)))},
		{1, "3333333333333333", "", "2024-03-06T12:00:00Z", "/shop", "", kv("idgoal", "0", "revenue", "10", "ec_items", items(fmt.Sprintf(mask, 2)))},
		{1, "3333333333333333", "", "2024-03-06T12:00:10Z", "/shop", "", kv("idgoal", "0", "ec_id", "O-2", "revenue", "10", "ec_items", items(fmt.Sprintf(mask, 2)))},
	})
	call := dayReport(t, s, tok, "2024-03-06")
	for _, tc := range []struct {
		method string
		extra  []string
		want   string
	}{
		{"Goals.getItemsSku", nil, `[{"label":"A","revenue":20,"quantity":2,"orders":1,"avg_price":10,"avg_quantity":2,"nb_visits":1},` +
			`{"label":"B","revenue":15,"quantity":3,"orders":2,"avg_price":5,"avg_quantity":1.5,"nb_visits":2}]`},
		{"Goals.getItemsName", []string{"showColumns", "revenue"}, `[{"label":"Gloves","revenue":20},{"label":"Mask","revenue":15}]`},
		{"Goals.getItemsCategory", []string{"showColumns", "revenue,quantity"}, `[{"label":"Care","revenue":35,"quantity":5},{"label":"Hands","revenue":20,"quantity":2}]`},
		{"Goals.getItemsSku", []string{"abandonedCarts", "1", "showColumns", "revenue,quantity,abandoned_carts"},
			`[{"label":"A","revenue":30,"quantity":3,"abandoned_carts":1},{"label":"B","revenue":5,"quantity":1,"abandoned_carts":1}]`},
	} {
		if got := call(tc.method, tc.extra...); got != tc.want {
			t.Errorf("%s %v:\n got %s\nwant %s", tc.method, tc.extra, got, tc.want)
		}
	}
}
