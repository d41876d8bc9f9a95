package e2e

import (
	"fmt"
	"io"
	"net/url"
	"sort"
	"strings"
	"testing"

	"hearth/test/testbin"
)

// TestGoals manages goals through the API and checks the conversions ingest recorded.
//
// Goals of site 1: 1 Thanks (url contains /thanks, revenue 10, once per visit), 2 Brochure
// (file regex \.pdf$), 3 Call (manual, several per visit, revenue 2), 4 Partner (outlink,
// updated to contains partner.example), 5 Old (url contains /old, deleted before any hit).
//
// Day 2024-03-06 (UTC), six visits:
//
//	V1 new:       /thanks (goal 1: 10), /thanks again (none), a.pdf download (goal 2: 0),
//	              idgoal=3 revenue=4 (4), idgoal=3 (2)            → 4 conversions, 16
//	V2a new:      /home, outlink partner.example (goal 4: 0), /old  → 1 conversion, 0
//	V2b returning (same visitor, new_visit=1): /thanks (goal 1: 10) → 1 conversion, 10
//	V3 new:       /home (and a refused idgoal=99: no such goal)     → none
//	V4 new:       order O-1 revenue 30 (subtotal 25, tax 5), 3 items → order
//	V5 new:       cart update 15, 2 items, left                     → abandoned cart
//
// Overall (goals and orders): 7 conversions, 4 converted visits of 6 (66.67 %), revenue 56;
// new visits: 6 conversions, 3 of 5 converted (60 %), 46; returning: 1, 1 of 1, 10.
func TestGoals(t *testing.T) {
	s, tok := testbin.StartWithSite(t, kv("ecommerce", "1"))
	call := dayReport(t, s, tok, "2024-03-06")
	// raw calls a method of site 1 and returns the status with the answer, errors included.
	raw := func(method string, extra ...string) string {
		t.Helper()
		p := kv(append([]string{"module", "API", "method", method, "idSite", "1", "format", "json", "token_auth", tok}, extra...)...)
		resp, err := testbin.Client.PostForm(s.Base+"/index.php", p)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return fmt.Sprintf("%d %s", resp.StatusCode, strings.TrimSpace(string(b)))
	}
	add := func(extra ...string) string {
		t.Helper()
		return raw("Goals.addGoal", extra...)
	}
	for _, tc := range []struct {
		params []string
		want   string
	}{
		{[]string{"name", "Thanks", "matchAttribute", "url", "pattern", "/thanks", "patternType", "contains", "revenue", "10"}, `200 {"value":1}`},
		{[]string{"name", "Brochure", "matchAttribute", "file", "pattern", `\.pdf$`, "patternType", "regex"}, `200 {"value":2}`},
		{[]string{"name", "Call", "matchAttribute", "manually", "revenue", "2", "allowMultipleConversionsPerVisit", "1"}, `200 {"value":3}`},
		{[]string{"name", "Partner", "matchAttribute", "external_website", "pattern", "https://partner.example/", "patternType", "exact"}, `200 {"value":4}`},
		{[]string{"name", "Old", "matchAttribute", "url", "pattern", "/old", "patternType", "contains"}, `200 {"value":5}`},
		{[]string{"name", "Bad", "matchAttribute", "cookie", "pattern", "x", "patternType", "exact"}, `400 {"message":"matchAttribute must be one of url, title, file, external_website, event_category, event_action, event_name, visit_duration, manually"`},
		{[]string{"name", "Bad", "matchAttribute", "url", "pattern", "(", "patternType", "regex"}, `400 {"message":"pattern is not a valid regular expression`},
		{[]string{"name", "Bad", "matchAttribute", "url", "pattern", "x", "patternType", "contains", "revenue", "lots"}, `400 {"message":"The revenue must be a number."`},
		{[]string{"name", "", "matchAttribute", "url", "pattern", "x", "patternType", "contains"}, `400 {"message":"Please specify a 'name' of 1 to 50 characters."`},
	} {
		if got := add(tc.params...); !strings.Contains(got, tc.want) {
			t.Errorf("addGoal %v:\n got %s\nwant %s", tc.params, got, tc.want)
		}
	}
	if got := call("Goals.updateGoal", "idGoal", "4", "name", "Partner", "matchAttribute", "external_website", "pattern", "partner.example", "patternType", "contains"); got != `{"message":"ok","result":"success"}` {
		t.Fatalf("updateGoal: %s", got)
	}
	if got := call("Goals.deleteGoal", "idGoal", "5"); got != `{"message":"ok","result":"success"}` {
		t.Fatalf("deleteGoal: %s", got)
	}
	for method, params := range map[string][]string{"Goals.deleteGoal": {"idGoal", "5"}, "Goals.getGoal": {"idGoal", "5"}, "Goals.get": {"idGoal", "77"}} {
		if got := raw(method, append(params, "period", "day", "date", "2024-03-06")...); !strings.HasPrefix(got, "400 ") || !strings.Contains(got, `does not exist for the website id = 1.","result":"error"`) {
			t.Errorf("%s %v: %s", method, params, got)
		}
	}
	goal := func(id, name, attr, pattern, typ, revenue, multi string) string {
		return `"` + id + `":{"idsite":1,"idgoal":` + id + `,"name":"` + name + `","description":"","match_attribute":"` + attr +
			`","pattern":"` + pattern + `","pattern_type":"` + typ + `","case_sensitive":0,"allow_multiple":` + multi +
			`,"revenue":` + revenue + `,"deleted":0,"event_value_as_revenue":0}`
	}
	wantGoals := "{" + strings.Join([]string{goal("1", "Thanks", "url", "/thanks", "contains", "10", "0"),
		goal("2", "Brochure", "file", `\\.pdf$`, "regex", "0", "0"), goal("3", "Call", "manually", "", "", "2", "1"),
		goal("4", "Partner", "external_website", "partner.example", "contains", "0", "0")}, ",") + "}"
	if got := call("Goals.getGoals"); got != wantGoals {
		t.Errorf("getGoals:\n got %s\nwant %s", got, wantGoals)
	}

	items := `[["A","Gloves","Care",10,2],["B","Mask","Care",5,1]]`
	sendHitsWant(t, s, tok, []hit{
		{1, "1111111111111111", "", "2024-03-06T10:00:00Z", "/thanks", "", nil},
		{1, "1111111111111111", "", "2024-03-06T10:01:00Z", "/thanks?again=1", "", nil},
		{1, "1111111111111111", "", "2024-03-06T10:02:00Z", "/docs", "", kv("download", "https://clinic.example/a.pdf")},
		{1, "1111111111111111", "", "2024-03-06T10:03:00Z", "/call", "", kv("idgoal", "3", "revenue", "4")},
		{1, "1111111111111111", "", "2024-03-06T10:04:00Z", "/call", "", kv("idgoal", "3")},
		{1, "2222222222222222", "", "2024-03-06T11:00:00Z", "/home", "", nil},
		{1, "2222222222222222", "", "2024-03-06T11:01:00Z", "/home", "", kv("link", "https://partner.example/x")},
		{1, "2222222222222222", "", "2024-03-06T11:02:00Z", "/old", "", nil},
		{1, "2222222222222222", "", "2024-03-06T15:00:00Z", "/thanks", "", kv("new_visit", "1")},
		{1, "3333333333333333", "", "2024-03-06T12:00:00Z", "/home", "", nil},
		{1, "4444444444444444", "", "2024-03-06T13:00:00Z", "/shop", "", kv("idgoal", "0", "ec_id", "O-1", "revenue", "30", "ec_st", "25", "ec_tx", "5", "ec_items", items)},
		{1, "5555555555555555", "", "2024-03-06T14:00:00Z", "/shop", "", kv("idgoal", "0", "revenue", "15", "ec_items", `[["A","Gloves","Care",10,1],["B","Mask","Care",5,1]]`)},
	}, map[int]int{1: 16}) // 11 page views, downloads, outlinks and shop actions + 5 conversions
	// A request for a goal the site does not have is refused with the reason, as Matomo does.
	resp, body := testbin.Get(t, s.Base+"/matomo.php?idsite=1&rec=1&idgoal=99&url=https%3A%2F%2Fclinic.example%2Fhome&ua="+url.QueryEscape(firefoxUA), nil)
	if resp.StatusCode != 400 || !strings.Contains(resp.Header.Get("X-Hearth-Error")+body, "idgoal 99 is not a goal of site 1") {
		t.Errorf("unknown goal: %d %q %q", resp.StatusCode, resp.Header.Get("X-Hearth-Error"), body)
	}

	split := func(all, nw, ret string) string {
		return `{` + all + `,` + strings.NewReplacer(`":`, `_new_visit":`).Replace(nw) + `,` + strings.NewReplacer(`":`, `_returning_visit":`).Replace(ret) + `}`
	}
	main := "nb_conversions,nb_visits_converted,revenue,conversion_rate"
	for _, tc := range []struct {
		extra []string
		want  string
	}{
		{nil, split(`"nb_conversions":7,"nb_visits_converted":4,"revenue":56,"conversion_rate":"66.67%"`,
			`"nb_conversions":6,"nb_visits_converted":3,"revenue":46,"conversion_rate":"60%"`,
			`"nb_conversions":1,"nb_visits_converted":1,"revenue":10,"conversion_rate":"100%"`)},
		{[]string{"idGoal", "1"}, split(`"nb_conversions":2,"nb_visits_converted":2,"revenue":20,"conversion_rate":"33.33%"`,
			`"nb_conversions":1,"nb_visits_converted":1,"revenue":10,"conversion_rate":"20%"`,
			`"nb_conversions":1,"nb_visits_converted":1,"revenue":10,"conversion_rate":"100%"`)},
		{[]string{"idGoal", "2", "showColumns", main}, `{"nb_conversions":1,"nb_visits_converted":1,"revenue":0,"conversion_rate":"16.67%"}`},
		{[]string{"idGoal", "3", "showColumns", main}, `{"nb_conversions":2,"nb_visits_converted":1,"revenue":6,"conversion_rate":"16.67%"}`},
		{[]string{"idGoal", "4", "showColumns", main}, `{"nb_conversions":1,"nb_visits_converted":1,"revenue":0,"conversion_rate":"16.67%"}`},
		{[]string{"idGoal", "ecommerceOrder", "hideColumns", "nb_conversions_new_visit,nb_visits_converted_new_visit,revenue_new_visit,conversion_rate_new_visit,nb_conversions_returning_visit,nb_visits_converted_returning_visit,revenue_returning_visit,conversion_rate_returning_visit"},
			`{"nb_conversions":1,"nb_visits_converted":1,"revenue":30,"conversion_rate":"16.67%","items":3,"revenue_subtotal":25,"revenue_tax":5,"revenue_shipping":0,"revenue_discount":0,"avg_order_revenue":30}`},
		{[]string{"idGoal", "ecommerceAbandonedCart", "showColumns", main + ",items,avg_order_revenue"},
			`{"nb_conversions":1,"nb_visits_converted":1,"revenue":15,"conversion_rate":"16.67%","items":2,"avg_order_revenue":15}`},
		{[]string{"segment", "visitorType==returning", "showColumns", main}, `{"nb_conversions":1,"nb_visits_converted":1,"revenue":10,"conversion_rate":"100%"}`},
		{[]string{"segment", "visitConverted==1", "showColumns", "conversion_rate"}, `{"conversion_rate":"100%"}`},
		{[]string{"segment", "visitConvertedGoalId==3", "showColumns", main}, `{"nb_conversions":4,"nb_visits_converted":1,"revenue":16,"conversion_rate":"100%"}`},
		{[]string{"format_metrics", "0", "showColumns", "conversion_rate"}, `{"conversion_rate":0.6667}`},
		{[]string{"date", "2024-03-05,2024-03-06", "showColumns", "nb_conversions"}, `{"2024-03-05":{"nb_conversions":0},"2024-03-06":{"nb_conversions":7}}`},
	} {
		if got := call("Goals.get", tc.extra...); got != tc.want {
			t.Errorf("Goals.get %v:\n got %s\nwant %s", tc.extra, got, tc.want)
		}
	}
	if got := call("VisitsSummary.get", "showColumns", "nb_visits,nb_visits_converted"); got != `{"nb_visits":6,"nb_visits_converted":4}` {
		t.Errorf("VisitsSummary converted visits: %s", got)
	}
	// The visitor log lists a conversion after the action that brought it.
	var kinds []string
	for _, v := range s.Visits(t, tok, 1) {
		if acts := testbin.ActionsOf(v); len(acts) > 0 && acts[0]["url"] == "https://clinic.example/home" && len(acts) == 4 {
			for _, a := range acts {
				kinds = append(kinds, a["type"].(string))
			}
		}
	}
	if strings.Join(kinds, ",") != "action,outlink,goal,action" {
		t.Errorf("V2a's actions: %v", kinds)
	}
	// Conversions name their goal in the visitor log.
	var names []string
	for _, v := range s.Visits(t, tok, 1) {
		for _, a := range testbin.ActionsOf(v) {
			if a["type"] == "goal" {
				names = append(names, fmt.Sprintf("%v:%v", a["goalId"], a["goalName"]))
			}
		}
	}
	sort.Strings(names)
	if strings.Join(names, " ") != "1:Thanks 1:Thanks 2:Brochure 3:Call 3:Call 4:Partner" {
		t.Errorf("goal names in the visitor log: %v", names)
	}
}
