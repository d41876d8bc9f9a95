package web_test

import (
	"bytes"
	"context"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"hearth/internal/audit"
	"hearth/internal/event"
	"hearth/internal/store"
)

// conversion is one conversion of a goal in a seeded visit.
type conversion struct {
	goal    int32
	revenue float64
}

// seedConverting stores a visit of one page view from a device type and referrer, converting
// the goals given, a second apart after the page view.
func (r *pagesRig) seedConverting(t *testing.T, site event.SiteID, id int, at time.Time, ref event.Referrer, device string, convs ...conversion) {
	t.Helper()
	v := event.Visit{SiteID: site, ID: event.VisitID(id), VisitorID: event.VisitorID{byte(id), byte(site), 0xc0}, First: at,
		Last: at.Add(time.Duration(len(convs)) * time.Second), VisitCount: 1, Referrer: ref, LocalTime: -1,
		Device:   event.Device{Type: device},
		EntryURL: "https://shop.example/thanks", ExitURL: "https://shop.example/thanks", Actions: 1, Pageviews: 1}
	v.ExitTime = v.First
	base := func(i int, typ event.ActionType) event.Action {
		return event.Action{SiteID: site, VisitID: v.ID, VisitorID: v.VisitorID, Time: at.Add(time.Duration(i) * time.Second), Index: int32(i + 1),
			Type: typ, URL: "https://shop.example/thanks", SearchCount: -1, PerfNetwork: -1, PerfServer: -1, PerfTransfer: -1, PerfDOMProc: -1,
			PerfDOMDone: -1, PerfOnLoad: -1}
	}
	pv := base(0, event.ActionPageview)
	pv.Title, pv.FirstURLInVisit, pv.FirstTitleInVisit = "Thanks", true, true
	actions := []event.Action{pv}
	for i, c := range convs {
		a := base(i+1, event.ActionGoal)
		a.GoalID, a.Revenue = c.goal, c.revenue
		actions = append(actions, a)
		v.Conversions++
		v.Revenue += c.revenue
	}
	r.seq++
	if err := r.events.Apply(context.Background(), store.Batch{Seq: r.seq, Visits: []event.Visit{v}, Actions: actions}); err != nil {
		t.Fatal(err)
	}
}

const (
	xssGoal1 = "Signup " + xss
	xssGoal2 = `News "><img src=x onerror=alert(1)>`
)

// goalsRig is dashRig with two goals on site 1 and three more visits today that convert them,
// one yesterday:
//
//	visit 10  search engine, smartphone: goal 1 (revenue 10)
//	visit 11  direct entry, desktop:     goal 1 (10), goal 2 twice
//	visit 12  search engine, desktop:    goal 2
//	visit 13  yesterday, direct, desktop: goal 1 (10)
//
// So today, of 6 visits: goal 1 has 2 conversions by 2 visits (rate 33.33%), revenue 20;
// goal 2 has 3 conversions by 2 visits (33.33%), revenue 0; all goals 5 conversions by 3
// visits (50%), revenue 20. Yesterday: 1 conversion of goal 1 by the only visit.
func goalsRig(t *testing.T) (*pagesRig, map[string]string) {
	r, sess := dashRig(t)
	ctx := context.Background()
	for _, g := range []store.Goal{
		{SiteID: 1, Name: xssGoal1, MatchAttribute: "url", Pattern: "/thanks", PatternType: "contains", Revenue: 10, Created: r.now},
		{SiteID: 1, Name: xssGoal2, MatchAttribute: "event_category", Pattern: "newsletter", PatternType: "exact", AllowMultiple: true, Created: r.now},
	} {
		if _, err := r.meta.CreateGoal(ctx, g); err != nil {
			t.Fatal(err)
		}
	}
	day := r.now.Truncate(24 * time.Hour)
	at := day.Add(time.Hour)
	if r.now.Sub(day) < 2*time.Hour {
		at = day
	}
	search := event.Referrer{Type: event.ReferrerSearch, Name: "Google", Keyword: "gloves"}
	direct := event.Referrer{Type: event.ReferrerDirect}
	r.seedConverting(t, 1, 10, at.Add(3*time.Minute), search, "smartphone", conversion{1, 10})
	r.seedConverting(t, 1, 11, at.Add(4*time.Minute), direct, "desktop", conversion{1, 10}, conversion{2, 0}, conversion{2, 0})
	r.seedConverting(t, 1, 12, at.Add(5*time.Minute), search, "desktop", conversion{2, 0})
	r.seedConverting(t, 1, 13, day.Add(-12*time.Hour), direct, "desktop", conversion{1, 10})
	return r, sess
}

// goalShown reads the text of the element marked attr="key" (a KPI tile, a cell).
func goalShown(t *testing.T, body, attr, key string) string {
	t.Helper()
	m := regexp.MustCompile(attr + `="` + regexp.QuoteMeta(key) + `">([^<]*)<`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no %s=%q on the page", attr, key)
	}
	return html.UnescapeString(m[1])
}

// goalTableRows reads the rows of the first table after marker in body: each row's label (its
// row header) and its cells by data-column.
func goalTableRows(t *testing.T, body, marker string) map[string]map[string]string {
	t.Helper()
	i := strings.Index(body, marker)
	if i < 0 {
		t.Fatalf("no %s on the page", marker)
	}
	part := body[i:]
	if j := strings.Index(part, "</table>"); j >= 0 {
		part = part[:j]
	}
	out := map[string]map[string]string{}
	for _, tr := range regexp.MustCompile(`(?s)<tr[^>]*>(.*?)</tr>`).FindAllStringSubmatch(part, -1) {
		label := regexp.MustCompile(`(?s)<th scope="row"[^>]*>(.*?)</th>`).FindStringSubmatch(tr[1])
		if label == nil {
			continue
		}
		name := html.UnescapeString(regexp.MustCompile(`<[^>]*>`).ReplaceAllString(label[1], ""))
		cells := map[string]string{}
		for _, c := range regexp.MustCompile(`data-column="([^"]+)">([^<]*)<`).FindAllStringSubmatch(tr[1], -1) {
			cells[c[1]] = html.UnescapeString(c[2])
		}
		out[name] = cells
	}
	return out
}

// goalFigure reads a figure as the pages write it in English ("1,234.50", "33.33%") as a number.
func goalFigure(t *testing.T, s string) float64 {
	t.Helper()
	f, err := strconv.ParseFloat(strings.TrimSuffix(strings.ReplaceAll(s, ",", ""), "%"), 64)
	if err != nil {
		t.Fatalf("%q is not a figure", s)
	}
	return f
}

// goalAPIFigure is an API value as a number (a percentage text as its percent).
func goalAPIFigure(t *testing.T, v any) float64 {
	t.Helper()
	switch x := v.(type) {
	case float64:
		return x
	case string:
		return goalFigure(t, x)
	}
	t.Fatalf("%v (%T) is not a figure", v, v)
	return 0
}

func goalToday() url.Values {
	return url.Values{"idSite": {"1"}, "period": {"day"}, "date": {"today"}}
}

func goalWith(v url.Values, kv ...string) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out.Set(kv[i], kv[i+1])
	}
	return out
}

func TestGoalsPageShowsTheAPIsFigures(t *testing.T) {
	r, sess := goalsRig(t)
	root := map[string]string{"hearth_session": sess["root"]}
	page := r.do(t, request{method: http.MethodGet, path: "/site/1/goals?period=day&date=today", cookies: root})
	if page.code != 200 {
		t.Fatalf("goals: %d %s", page.code, page.body)
	}
	// All goals together, hand-counted from the fixture.
	for key, want := range map[string]string{"goals.kpi.conversions": "5", "goals.kpi.visits": "3", "goals.kpi.rate": "50%", "goals.kpi.revenue": "20.00"} {
		if got := goalShown(t, page.body, "data-kpi", key); got != want {
			t.Errorf("tile %s = %q, want %q", key, got, want)
		}
	}
	all := r.apiJSON(t, "root", goalWith(goalToday(), "method", "Goals.get")).(map[string]any)
	for key, col := range map[string]string{"goals.kpi.conversions": "nb_conversions", "goals.kpi.visits": "nb_visits_converted",
		"goals.kpi.rate": "conversion_rate", "goals.kpi.revenue": "revenue"} {
		if got, api := goalFigure(t, goalShown(t, page.body, "data-kpi", key)), goalAPIFigure(t, all[col]); got != api {
			t.Errorf("tile %s = %v, the API says %v", key, got, api)
		}
	}
	// Each goal's row.
	goals := goalTableRows(t, page.body, `class="goal-list"`)
	want := map[string]map[string]string{
		xssGoal1: {"nb_conversions": "2", "nb_visits_converted": "2", "conversion_rate": "33.33%", "revenue": "20.00"},
		xssGoal2: {"nb_conversions": "3", "nb_visits_converted": "2", "conversion_rate": "33.33%", "revenue": "0.00"},
	}
	for name, cols := range want {
		for col, v := range cols {
			if goals[name][col] != v {
				t.Errorf("goal %q %s = %q, want %q", name, col, goals[name][col], v)
			}
		}
	}
	for id, name := range map[string]string{"1": xssGoal1, "2": xssGoal2} {
		api := r.apiJSON(t, "root", goalWith(goalToday(), "method", "Goals.get", "idGoal", id)).(map[string]any)
		for _, col := range []string{"nb_conversions", "nb_visits_converted", "conversion_rate", "revenue"} {
			if got := goalFigure(t, goals[name][col]); got != goalAPIFigure(t, api[col]) {
				t.Errorf("goal %s %s = %v, the API says %v", id, col, got, api[col])
			}
		}
	}
	// Today in the figures over time (the chart's periods: the last 30 days).
	day := r.now.Truncate(24 * time.Hour).Format(time.DateOnly)
	over := goalTableRows(t, page.body, `class="panel goal-over"`)
	if len(over) != 30 {
		t.Errorf("%d periods over time, want 30", len(over))
	}
	evo := r.apiJSON(t, "root", url.Values{"method": {"Goals.get"}, "idSite": {"1"}, "period": {"day"},
		"date": {r.now.Truncate(24*time.Hour).AddDate(0, 0, -29).Format(time.DateOnly) + "," + day}}).(map[string]any)
	if len(evo) != 30 || goalAPIFigure(t, evo[day].(map[string]any)["nb_conversions"]) != 5 {
		t.Errorf("the API's evolution: %d periods, today %v", len(evo), evo[day])
	}
	if !strings.Contains(page.body, `data-period="`+day+`"><th scope="row">`+day+`</th>`+"\n"+`<td class="num">5</td>`) {
		t.Errorf("today's row over time lacks its 5 conversions")
	}
	// The goal names are escaped, and the rule shown.
	for _, raw := range []string{xss, `<img src=x`} {
		if strings.Contains(page.body, raw) {
			t.Errorf("%q reaches the page unescaped", raw)
		}
	}
	if !strings.Contains(page.body, "Page URL contains <code>/thanks</code>") || !strings.Contains(page.body, "Event category is exactly <code>newsletter</code>") {
		t.Error("the goals' rules are not described")
	}
	// The superuser may define goals.
	if !strings.Contains(page.body, `<form method="post" action="/site/1/goals?`) {
		t.Error("no goal editor for the superuser")
	}
	r.log.check(t)
}

func TestGoalsPageComparesWithThePreviousPeriod(t *testing.T) {
	r, sess := goalsRig(t)
	page := r.do(t, request{method: http.MethodGet, path: "/site/1/goals?period=day&date=today&compare=previous",
		cookies: map[string]string{"hearth_session": sess["root"]}})
	if page.code != 200 {
		t.Fatalf("goals: %d %s", page.code, page.body)
	}
	// Yesterday: one conversion (goal 1) by the day's only visit, revenue 10.
	for key, want := range map[string]string{"goals.kpi.conversions": "1", "goals.kpi.visits": "1", "goals.kpi.rate": "100%", "goals.kpi.revenue": "10.00"} {
		if got := goalShown(t, page.body, "data-prev", key); got != want {
			t.Errorf("previous %s = %q, want %q", key, got, want)
		}
	}
	// 5 against 1: +400 %; 20 against 10: +100 %.
	if !strings.Contains(page.body, `<span class="delta up good">+400 %`) || !strings.Contains(page.body, `<span class="delta up good">+100 %`) {
		t.Error("the tiles lack their change against yesterday")
	}
	prev := r.apiJSON(t, "root", url.Values{"method": {"Goals.get"}, "idSite": {"1"}, "period": {"day"}, "date": {"yesterday"}, "idGoal": {"1"}}).(map[string]any)
	goals := goalTableRows(t, page.body, `class="goal-list"`)
	if goals[xssGoal1]["prev_nb_conversions"] != "1" || goalAPIFigure(t, prev["nb_conversions"]) != 1 || goals[xssGoal2]["prev_nb_conversions"] != "0" {
		t.Errorf("previous conversions per goal: %v; the API says %v for goal 1", goals, prev["nb_conversions"])
	}
	r.log.check(t)
}

func TestGoalPageByReferrerAndDevice(t *testing.T) {
	r, sess := goalsRig(t)
	page := r.do(t, request{method: http.MethodGet, path: "/site/1/goals/1?period=day&date=today", cookies: map[string]string{"hearth_session": sess["root"]}})
	if page.code != 200 {
		t.Fatalf("goal 1: %d %s", page.code, page.body)
	}
	for key, want := range map[string]string{"goals.kpi.conversions": "2", "goals.kpi.visits": "2", "goals.kpi.rate": "33.33%", "goals.kpi.revenue": "20.00"} {
		if got := goalShown(t, page.body, "data-kpi", key); got != want {
			t.Errorf("tile %s = %q, want %q", key, got, want)
		}
	}
	// Goal 1 was converted by visit 10 (search, smartphone) and 11 (direct, desktop); of all
	// six visits today, 3 came from search engines (1, 10, 12), 2 were direct (2, 11), 2 were on
	// a desktop (11, 12), 1 on a smartphone.
	for _, c := range []struct {
		method string
		want   map[string][2]float64 // converted, all
	}{
		{"Referrers.getReferrerType", map[string][2]float64{"Search Engines": {1, 3}, "Direct Entry": {1, 2}}},
		{"DevicesDetection.getType", map[string][2]float64{"Smartphone": {1, 1}, "Desktop": {1, 2}}},
	} {
		got := goalTableRows(t, page.body, `data-report="`+c.method+`"`)
		conv := goalAPIRows(t, r.apiJSON(t, "root", goalWith(goalToday(), "method", c.method, "segment", "visitConvertedGoalId==1")))
		all := goalAPIRows(t, r.apiJSON(t, "root", goalWith(goalToday(), "method", c.method)))
		if len(got) != len(c.want) || len(conv) != len(c.want) {
			t.Errorf("%s: the page shows %v, the API %v, want %d rows", c.method, got, conv, len(c.want))
		}
		for _, row := range conv {
			label := row["label"].(string)
			cells, ok := got[label]
			if !ok {
				t.Errorf("%s: the page lacks row %q", c.method, label)
				continue
			}
			w, ok := c.want[label]
			if !ok {
				t.Errorf("%s: unexpected row %q", c.method, label)
				continue
			}
			if goalFigure(t, cells["converted"]) != w[0] || row["nb_visits"] != w[0] {
				t.Errorf("%s %q converted: page %q, API %v, want %v", c.method, label, cells["converted"], row["nb_visits"], w[0])
			}
			var total any
			for _, a := range all {
				if a["label"] == label {
					total = a["nb_visits"]
				}
			}
			if goalFigure(t, cells["all"]) != w[1] || total != w[1] {
				t.Errorf("%s %q all visits: page %q, API %v, want %v", c.method, label, cells["all"], total, w[1])
			}
		}
	}
	// The share of search visits that converted: 1 of 3.
	if !strings.Contains(page.body, "<td class=\"num\">33.3%</td>") || !strings.Contains(page.body, "<td class=\"num\">50.0%</td>") {
		t.Error("the shares converted (33.3%, 50.0%) are missing")
	}
	if !strings.Contains(page.body, "converted “Signup &lt;script&gt;alert(1)&lt;/script&gt;” at least once, by the visit&#39;s referrer type") {
		t.Error("the captions do not say what is counted")
	}
	if strings.Contains(page.body, xss) {
		t.Error("the goal's name reaches the page unescaped")
	}
	r.log.check(t)
}

// goalAPIRows reads an API table answer.
func goalAPIRows(t *testing.T, v any) []map[string]any {
	t.Helper()
	list, ok := v.([]any)
	if !ok {
		t.Fatalf("not a table: %v", v)
	}
	out := make([]map[string]any, 0, len(list))
	for _, x := range list {
		out = append(out, x.(map[string]any))
	}
	return out
}

// auditText is the audit trail as NDJSON.
func (r *pagesRig) auditText(t *testing.T) string {
	t.Helper()
	var buf bytes.Buffer
	if err := r.trail.ExportFiltered(context.Background(), &buf, audit.NDJSON, audit.Filter{}); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

// apiGoals is Goals.getGoals by id.
func (r *pagesRig) apiGoals(t *testing.T) map[string]map[string]any {
	t.Helper()
	out := map[string]map[string]any{}
	if m, ok := r.apiJSON(t, "root", url.Values{"method": {"Goals.getGoals"}, "idSite": {"1"}}).(map[string]any); ok {
		for k, v := range m {
			out[k] = v.(map[string]any)
		}
	}
	return out
}

func TestGoalsAreEditedInThePage(t *testing.T) {
	r, sess := goalsRig(t)
	root := map[string]string{"hearth_session": sess["root"]}
	same := map[string]string{"Origin": origin}
	post := func(form url.Values) response {
		return r.do(t, request{method: http.MethodPost, path: "/site/1/goals?period=day&date=today", form: form, cookies: root, header: same})
	}
	goal := url.Values{"action": {"add"}, "name": {"Download the brochure"}, "matchAttribute": {"file"}, "patternType": {"regex"},
		"pattern": {`brochure-\d+\.pdf`}, "caseSensitive": {"1"}, "revenue": {"2.5"}, "allowMultipleConversionsPerVisit": {"1"}}

	// Added: back to the list, and the API has it as it was typed.
	a := post(goal)
	if a.code != http.StatusSeeOther || a.header.Get("Location") != "/site/1/goals?date=today&period=day" {
		t.Fatalf("add: %d %q %s", a.code, a.header.Get("Location"), a.body)
	}
	g := r.apiGoals(t)["3"]
	if g == nil || g["name"] != "Download the brochure" || g["match_attribute"] != "file" || g["pattern_type"] != "regex" || g["pattern"] != `brochure-\d+\.pdf` ||
		g["case_sensitive"] != float64(1) || g["allow_multiple"] != float64(1) || g["revenue"] != 2.5 {
		t.Fatalf("the added goal as the API has it: %v", g)
	}
	if !strings.Contains(r.auditText(t), `"goal.create"`) {
		t.Error("adding a goal is not in the audit trail")
	}
	list := r.do(t, request{method: http.MethodGet, path: "/site/1/goals", cookies: root})
	if !strings.Contains(list.body, ">Download the brochure</a>") {
		t.Error("the list lacks the added goal")
	}

	// Refused input: the page again, with the API's message and what was typed.
	bad := goalWith(goal, "name", "", "pattern", "kept-pattern")
	b := post(bad)
	if b.code != http.StatusBadRequest || !strings.Contains(html.UnescapeString(b.body), "Please specify a 'name' of 1 to 50 characters.") ||
		!strings.Contains(b.body, `value="kept-pattern"`) || !strings.Contains(b.body, `<option value="file" selected>`) {
		t.Fatalf("an add without a name: %d %s", b.code, b.body)
	}
	if len(r.apiGoals(t)) != 3 {
		t.Error("a refused goal was stored")
	}

	// Updated: back to the goal's page; the API has the change, the trail records it.
	up := goalWith(goal, "action", "update", "idGoal", "3", "name", "Brochure", "matchAttribute", "visit_duration", "pattern", "5", "patternType", "contains")
	u := post(up)
	if u.code != http.StatusSeeOther || u.header.Get("Location") != "/site/1/goals/3?date=today&period=day" {
		t.Fatalf("update: %d %q %s", u.code, u.header.Get("Location"), u.body)
	}
	g = r.apiGoals(t)["3"]
	if g["name"] != "Brochure" || g["match_attribute"] != "visit_duration" || g["pattern_type"] != "greater_than" || g["pattern"] != "5" {
		t.Fatalf("the updated goal: %v", g)
	}
	if !strings.Contains(r.auditText(t), `"goal.update"`) {
		t.Error("updating a goal is not in the audit trail")
	}
	detail := r.do(t, request{method: http.MethodGet, path: "/site/1/goals/3", cookies: root})
	if detail.code != 200 || !strings.Contains(detail.body, "Visit duration is longer than 5 minutes") || !strings.Contains(detail.body, `value="Brochure"`) {
		t.Fatalf("the updated goal's page: %d", detail.code)
	}
	// A refused update shows the goal's page with the input kept.
	ub := post(goalWith(up, "pattern", "(", "matchAttribute", "url", "patternType", "regex", "name", "Typed name"))
	if ub.code != http.StatusBadRequest || !strings.Contains(ub.body, "not a valid regular expression") || !strings.Contains(ub.body, `value="Typed name"`) ||
		!strings.Contains(ub.body, `name="idGoal" value="3"`) {
		t.Fatalf("a bad update: %d %s", ub.code, ub.body)
	}
	if r.apiGoals(t)["3"]["name"] != "Brochure" {
		t.Error("a refused update changed the goal")
	}

	// Deleted: gone from the API and the list, recorded.
	d := post(url.Values{"action": {"delete"}, "idGoal": {"3"}})
	if d.code != http.StatusSeeOther || d.header.Get("Location") != "/site/1/goals?date=today&period=day" {
		t.Fatalf("delete: %d %q", d.code, d.header.Get("Location"))
	}
	if _, ok := r.apiGoals(t)["3"]; ok || len(r.apiGoals(t)) != 2 {
		t.Errorf("after the delete the API lists %v", r.apiGoals(t))
	}
	if !strings.Contains(r.auditText(t), `"goal.delete"`) {
		t.Error("deleting a goal is not in the audit trail")
	}
	if gone := r.do(t, request{method: http.MethodGet, path: "/site/1/goals/3", cookies: root}); gone.code != 404 {
		t.Errorf("the deleted goal's page: %d", gone.code)
	}
	// Unknown goals and actions.
	for _, f := range []url.Values{{"action": {"delete"}, "idGoal": {"3"}}, {"action": {"update"}, "idGoal": {"999"}, "name": {"x"}}, {"action": {"delete"}, "idGoal": {"x"}}} {
		if a := post(f); a.code != 404 {
			t.Errorf("%v: %d, want 404", f, a.code)
		}
	}
	if a := post(url.Values{"action": {"rename"}}); a.code != 400 {
		t.Errorf("an unknown action: %d", a.code)
	}
	r.log.check(t)
}

func TestGoalsViewerSeesNoEditorAndMayNotChange(t *testing.T) {
	r, sess := goalsRig(t)
	viewer := map[string]string{"hearth_session": sess["viewer"]}
	for _, path := range []string{"/site/1/goals", "/site/1/goals/1"} {
		a := r.do(t, request{method: http.MethodGet, path: path, cookies: viewer})
		if a.code != 200 || strings.Contains(a.body, `method="post" action="/site/1/goals`) || strings.Contains(a.body, `name="matchAttribute"`) {
			t.Errorf("%s as viewer: %d, editor shown: %v", path, a.code, strings.Contains(a.body, `name="matchAttribute"`))
		}
	}
	before := strings.Count(r.auditText(t), `"goal.`)
	for _, f := range []url.Values{
		{"action": {"add"}, "name": {"Mine"}, "matchAttribute": {"url"}, "patternType": {"contains"}, "pattern": {"x"}},
		{"action": {"update"}, "idGoal": {"1"}, "name": {"Mine"}, "matchAttribute": {"url"}, "patternType": {"contains"}, "pattern": {"x"}},
		{"action": {"delete"}, "idGoal": {"1"}},
	} {
		a := r.do(t, request{method: http.MethodPost, path: "/site/1/goals", form: f, cookies: viewer, header: map[string]string{"Origin": origin}})
		if a.code != http.StatusForbidden {
			t.Errorf("viewer %s: %d, want 403", f.Get("action"), a.code)
		}
	}
	g := r.apiGoals(t)
	if len(g) != 2 || g["1"]["name"] != xssGoal1 {
		t.Errorf("the viewer changed the goals: %v", g)
	}
	if strings.Count(r.auditText(t), `"goal.`) != before {
		t.Error("refused changes were recorded as goal changes")
	}
	// Site 2 is not the viewer's: no trace of it, whatever the goal.
	for _, path := range []string{"/site/2/goals", "/site/2/goals/1", "/site/2/ecommerce"} {
		if a := r.do(t, request{method: http.MethodGet, path: path, cookies: viewer}); a.code != 404 || strings.Contains(a.body, "Zephyrine") {
			t.Errorf("%s as viewer: %d", path, a.code)
		}
	}
	if a := r.do(t, request{method: http.MethodPost, path: "/site/2/goals", form: url.Values{"action": {"delete"}, "idGoal": {"1"}}, cookies: viewer,
		header: map[string]string{"Origin": origin}}); a.code != 404 {
		t.Errorf("viewer posting to site 2: %d", a.code)
	}
	r.log.check(t)
}

func TestBadGoalIsNotFound(t *testing.T) {
	r, sess := goalsRig(t)
	root := map[string]string{"hearth_session": sess["root"]}
	for _, id := range []string{"999", "0", "-1", "abc", "1x"} {
		a := r.do(t, request{method: http.MethodGet, path: "/site/1/goals/" + id, cookies: root})
		if a.code != 404 || !strings.Contains(a.body, "There is no goal with this number on this site.") {
			t.Errorf("goal %s: %d", id, a.code)
		}
	}
	// Goal 1 of site 1 is no goal of site 2.
	if a := r.do(t, request{method: http.MethodGet, path: "/site/2/goals/1", cookies: root}); a.code != 404 {
		t.Errorf("goal 1 on site 2: %d", a.code)
	}
	if a := r.do(t, request{method: http.MethodGet, path: "/site/1/goals?period=day&date=nonsense", cookies: root}); a.code != 400 {
		t.Errorf("a bad date: %d", a.code)
	}
	r.log.check(t)
}

func TestGoalsPagesSpeakGerman(t *testing.T) {
	r, sess := goalsRig(t)
	a := r.do(t, request{method: http.MethodGet, path: "/site/1/goals?period=day&date=today", cookies: map[string]string{"hearth_session": sess["root"]},
		header: map[string]string{"Accept-Language": "de"}})
	if a.code != 200 || !strings.Contains(a.body, "Conversion-Rate") || goalShown(t, a.body, "data-kpi", "goals.kpi.rate") != "50 %" {
		t.Fatalf("German goals page: %d", a.code)
	}
	if got := goalShown(t, a.body, "data-kpi", "goals.kpi.revenue"); got != "20,00" {
		t.Errorf("German revenue %q, want 20,00", got)
	}
	// The goals pages' error pages answer in the request's language.
	checkLanguages(t, r, []pageCase{
		{"no such goal", request{method: http.MethodGet, path: "/site/1/goals/999", cookies: map[string]string{"hearth_session": sess["root"]}}, 404,
			[]string{"There is no goal with this number on this site."}, []string{"Auf dieser Website gibt es kein Ziel mit dieser Nummer."}},
		{"a viewer changing a goal", request{method: http.MethodPost, path: "/site/1/goals", cookies: map[string]string{"hearth_session": sess["viewer"]},
			form: url.Values{"action": {"add"}, "name": {"x"}, "matchAttribute": {"url"}, "pattern": {"/x"}, "patternType": {"contains"}}}, 403,
			[]string{"You may not change the goals of this site."}, []string{"Sie dürfen die Ziele dieser Website nicht ändern."}},
	})
	r.log.check(t)
}
