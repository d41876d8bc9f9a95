package matomo

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"hearth/internal/audit"
	"hearth/internal/event"
	"hearth/internal/fuzzseed"
	"hearth/internal/store"
)

// funnelParams is a definition as saveNonGoalFunnel takes it, steps given as name, kind,
// match, pattern.
func funnelParams(name string, steps ...[4]string) url.Values {
	v := url.Values{"funnelName": {name}}
	for i, st := range steps {
		for j, f := range []string{"name", "kind", "match", "pattern"} {
			v.Set(fmt.Sprintf("steps[%d][%s]", i, f), st[j])
		}
	}
	return v
}

func with(v url.Values, kv ...string) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out.Set(kv[i], kv[i+1])
	}
	return out
}

// TestFunnelDefinitions: definitions are checked with a clear 400 each, stored, read back,
// replaced and deleted, each change audited as a setting change of the site; another site's
// funnel is not found.
func TestFunnelDefinitions(t *testing.T) {
	r := newAPIRig(t, false)
	log := &auditLog{}
	r.api.opts.Audit = log
	for _, name := range []string{"Clinic", "Other"} {
		if code, body := r.call(t, false, url.Values{"method": {"SitesManager.addSite"}, "siteName": {name}, "urls": {"https://clinic.example"},
			"token_auth": {r.token}, "format": {"json"}}); code != 200 {
			t.Fatalf("add site: %d %s", code, body)
		}
	}
	save := func(p url.Values) (int, string) {
		t.Helper()
		p = with(p, "method", "Funnels.saveNonGoalFunnel", "format", "json", "token_auth", r.token)
		if !p.Has("idSite") {
			p.Set("idSite", "1")
		}
		return r.call(t, false, p)
	}
	cart := [4]string{"Cart", "url", "contains", "/cart"}
	long := strings.Repeat("é", 101)
	for _, tc := range []struct {
		name   string
		params url.Values
		want   string
	}{
		{"no name", funnelParams("", cart), "Please specify a 'funnelName' of 1 to 100 characters."},
		{"a name too long", funnelParams(long, cart), "Please specify a 'funnelName' of 1 to 100 characters."},
		{"no steps", funnelParams("Checkout"), "A funnel has 1 to 20 steps"},
		{"21 steps", funnelParams("Checkout", func() [][4]string {
			s := make([][4]string, 21)
			for i := range s {
				s[i] = cart
			}
			return s
		}()...), "A funnel has 1 to 20 steps"},
		{"an unknown kind", funnelParams("Checkout", cart, [4]string{"Pay", "goal", "exact", "x"}),
			"Step 2: the kind must be one of url, title, event_category, event_action, event_name, download, outlink"},
		{"an unknown match", funnelParams("Checkout", [4]string{"Pay", "url", "ends_with", "x"}),
			"Step 1: the match must be one of contains, exact, starts_with, regex"},
		{"a bad regex", funnelParams("Checkout", [4]string{"Pay", "url", "regex", "(?<=pay)"}), "Step 1: pattern is not a valid regular expression (RE2 syntax"},
		{"no pattern", funnelParams("Checkout", [4]string{"Pay", "url", "exact", ""}), "Step 1: the pattern must have 1 to 255 characters"},
		{"a pattern too long", funnelParams("Checkout", [4]string{"Pay", "url", "exact", strings.Repeat("x", 256)}), "Step 1: the pattern must have 1 to 255 characters"},
		{"no step name", funnelParams("Checkout", [4]string{"", "url", "exact", "/pay"}), "Step 1: the name must have 1 to 100 characters"},
		{"a step name too long", funnelParams("Checkout", [4]string{long, "url", "exact", "/pay"}), "Step 1: the name must have 1 to 100 characters"},
		{"a field Hearth lacks", with(funnelParams("Checkout", cart), "steps[0][pattern_type]", "path_contains"),
			"The parameter steps[0][pattern_type] is not a step field: a step has name, kind, match, pattern, case_sensitive."},
		{"a step without a number", with(funnelParams("Checkout", cart), "steps[x][name]", "Pay"), "The parameter steps[x][name] is not a step field"},
		{"steps as one value", with(funnelParams("Checkout"), "steps", "cart"), "Give the steps as steps[0][name]="},
		{"an idFunnel of nothing", with(funnelParams("Checkout", cart), "idFunnel", "99"), "The funnel id 99 does not exist for the website id = 1."},
		{"a bad idFunnel", with(funnelParams("Checkout", cart), "idFunnel", "-3"), "Please specify a value for 'idFunnel'."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, body := save(tc.params)
			if code != 400 || !strings.Contains(body, tc.want) {
				t.Fatalf("%d %s, want 400 with %q", code, body, tc.want)
			}
		})
	}
	if len(log.events) != 2 { // the two sites
		t.Fatalf("refused definitions were audited: %+v", log.events)
	}

	// Steps come in the order of their numbers, whatever the order of the parameters; the
	// numbers need not follow each other.
	def := url.Values{"funnelName": {"  Checkout  "},
		"steps[5][name]": {"Pay"}, "steps[5][kind]": {"event_action"}, "steps[5][match]": {"regex"}, "steps[5][pattern]": {"^pay"}, "steps[5][case_sensitive]": {"1"},
		"steps[0][name]": {"Cart"}, "steps[0][kind]": {"URL"}, "steps[0][match]": {"Contains"}, "steps[0][pattern]": {"/cart"}}
	code, body := save(def)
	if code != 200 || body != `{"value":1}`+"\n" {
		t.Fatalf("create: %d %s", code, body)
	}
	get := func(site, id string) (int, string) {
		t.Helper()
		return r.call(t, false, url.Values{"method": {"Funnels.getFunnel"}, "idSite": {site}, "idFunnel": {id}, "format": {"json"}, "token_auth": {r.token}})
	}
	created := r.now.UTC().Format("2006-01-02 15:04:05")
	want := `{"idfunnel":1,"idsite":1,"name":"Checkout","created_date":"` + created + `","steps":[` +
		`{"position":1,"name":"Cart","kind":"url","match":"contains","pattern":"/cart","case_sensitive":0},` +
		`{"position":2,"name":"Pay","kind":"event_action","match":"regex","pattern":"^pay","case_sensitive":1}]}` + "\n"
	if code, body := get("1", "1"); code != 200 || body != want {
		t.Fatalf("getFunnel: %d %s\nwant %s", code, body, want)
	}
	if code, body := get("2", "1"); code != 400 || !strings.Contains(body, "The funnel id 1 does not exist for the website id = 2.") {
		t.Fatalf("site 2's funnel 1: %d %s", code, body)
	}
	if code, body := get("1,2", "1"); code != 400 || !strings.Contains(body, "give a single idSite") {
		t.Fatalf("two sites: %d %s", code, body)
	}

	// An update replaces name and steps; the site's other funnel and the other site's stay.
	if code, body := save(funnelParams("Signup", [4]string{"Form", "title", "starts_with", "Sign"})); code != 200 || body != `{"value":2}`+"\n" {
		t.Fatalf("second funnel: %d %s", code, body)
	}
	if code, body := save(with(funnelParams("Basket", cart), "idSite", "2")); code != 200 || body != `{"value":3}`+"\n" {
		t.Fatalf("other site's funnel: %d %s", code, body)
	}
	if code, body := save(with(funnelParams("Stolen", cart), "idFunnel", "3")); code != 400 || !strings.Contains(body, "The funnel id 3 does not exist for the website id = 1.") {
		t.Fatalf("update of site 2's funnel through site 1: %d %s", code, body)
	}
	if code, body := save(with(funnelParams("Check-out", [4]string{"Basket", "url", "exact", "https://clinic.example/basket"}), "idFunnel", "1")); code != 200 || body != `{"value":1}`+"\n" {
		t.Fatalf("update: %d %s", code, body)
	}
	list := func(site string) string {
		t.Helper()
		_, body := r.call(t, false, url.Values{"method": {"Funnels.getAllActivatedFunnelsForSite"}, "idSite": {site}, "format": {"json"}, "token_auth": {r.token}})
		return body
	}
	want = `[{"idfunnel":1,"idsite":1,"name":"Check-out","created_date":"` + created + `","steps":[` +
		`{"position":1,"name":"Basket","kind":"url","match":"exact","pattern":"https://clinic.example/basket","case_sensitive":0}]},` +
		`{"idfunnel":2,"idsite":1,"name":"Signup","created_date":"` + created + `","steps":[` +
		`{"position":1,"name":"Form","kind":"title","match":"starts_with","pattern":"Sign","case_sensitive":0}]}]` + "\n"
	if got := list("1"); got != want {
		t.Fatalf("funnels of site 1:\n%s\nwant\n%s", got, want)
	}

	del := func(site, id string) (int, string) {
		t.Helper()
		return r.call(t, false, url.Values{"method": {"Funnels.deleteNonGoalFunnel"}, "idSite": {site}, "idFunnel": {id}, "format": {"json"}, "token_auth": {r.token}})
	}
	if code, body := del("1", "3"); code != 400 {
		t.Fatalf("delete of site 2's funnel through site 1: %d %s", code, body)
	}
	if code, body := del("1", "1"); code != 200 || !strings.Contains(body, `"result":"success"`) {
		t.Fatalf("delete: %d %s", code, body)
	}
	if code, _ := get("1", "1"); code != 400 {
		t.Fatalf("a deleted funnel is read: %d", code)
	}
	if got := list("2"); !strings.Contains(got, `"name":"Basket"`) {
		t.Fatalf("site 2's funnel after deletes on site 1: %s", got)
	}

	var changes []string
	for _, e := range log.events {
		if e.Action == audit.ActionSettingChange && e.Details["setting"] == "funnel" {
			changes = append(changes, fmt.Sprintf("%s %s %s %s %s %s", e.Actor, e.Target, e.Details["change"], e.Details["id"], e.Details["name"], e.Details["steps"]))
		}
	}
	wantChanges := []string{"root site:1 create 1 Checkout 2", "root site:1 create 2 Signup 1", "root site:2 create 3 Basket 1",
		"root site:1 update 1 Check-out 1", "root site:1 delete 1 Check-out 1"}
	if strings.Join(changes, "\n") != strings.Join(wantChanges, "\n") {
		t.Fatalf("audited changes:\n%s\nwant\n%s", strings.Join(changes, "\n"), strings.Join(wantChanges, "\n"))
	}
}

// TestFunnelReports: the steps' figures on a small dataset, worked out by hand, for one day,
// two days, a range and a segment, in each format.
func TestFunnelReports(t *testing.T) {
	r := newAPIRig(t, false)
	ctx := context.Background()
	if code, body := r.call(t, false, url.Values{"method": {"SitesManager.addSite"}, "siteName": {"Clinic"}, "urls": {"https://clinic.example"},
		"timezone": {"UTC"}, "token_auth": {r.token}, "format": {"json"}}); code != 200 {
		t.Fatalf("add site: %d %s", code, body)
	}
	dayA := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	dayB := dayA.AddDate(0, 0, 1)
	var visits []event.Visit
	var actions []event.Action
	type act struct{ path, category, action string } // a page view of path, or an event
	add := func(id byte, visitor byte, start time.Time, browser string, acts ...act) {
		v := event.Visit{SiteID: 1, ID: event.VisitID(id), VisitorID: event.VisitorID{visitor}, First: start, VisitCount: 1, LocalTime: -1,
			Device: event.Device{Browser: browser}, Actions: int32(len(acts))}
		for i, a := range acts {
			ea := event.Action{SiteID: 1, VisitID: v.ID, VisitorID: v.VisitorID, Time: start.Add(time.Duration(i) * time.Minute), Index: int32(i + 1),
				Type: event.ActionPageview, URL: "https://clinic.example" + a.path, SearchCount: -1,
				PerfNetwork: -1, PerfServer: -1, PerfTransfer: -1, PerfDOMProc: -1, PerfDOMDone: -1, PerfOnLoad: -1}
			if a.path == "" {
				ea.Type, ea.URL, ea.EventCategory, ea.EventAction = event.ActionEvent, "", a.category, a.action
			}
			actions = append(actions, ea)
			v.Last = ea.Time
		}
		visits = append(visits, v)
	}
	created := act{category: "account", action: "created"}
	// Day A: visit 1 takes all three steps, 2 the first two, 3 the first; 4 signs up before
	// seeing the pricing; 5 does none.
	add(1, 1, dayA, "Firefox", act{path: "/pricing"}, act{path: "/signup"}, created)
	add(2, 2, dayA.Add(time.Hour), "Chrome", act{path: "/pricing"}, act{path: "/signup"})
	add(3, 3, dayA.Add(2*time.Hour), "Chrome", act{path: "/pricing"})
	add(4, 4, dayA.Add(3*time.Hour), "Firefox", act{path: "/signup"}, act{path: "/pricing"})
	add(5, 5, dayA.Add(4*time.Hour), "Chrome", act{path: "/home"})
	// Day B: visitor 1 again takes all three; 6 sees two pricing pages; 7 skips the signup.
	add(6, 1, dayB, "Firefox", act{path: "/pricing"}, act{path: "/signup"}, created)
	add(7, 6, dayB.Add(time.Hour), "Chrome", act{path: "/pricing"}, act{path: "/pricing/enterprise"})
	add(8, 7, dayB.Add(2*time.Hour), "Firefox", act{path: "/pricing"}, created)
	if err := r.api.opts.Events.Apply(ctx, store.Batch{Seq: 1, Visits: visits, Actions: actions}); err != nil {
		t.Fatal(err)
	}
	def := funnelParams("Signup", [4]string{"Pricing", "url", "contains", "/pricing"}, [4]string{"Form", "url", "exact", "https://clinic.example/signup"},
		[4]string{"Account", "event_action", "exact", "created"})
	if code, body := r.call(t, false, with(def, "method", "Funnels.saveNonGoalFunnel", "idSite", "1", "format", "json", "token_auth", r.token)); code != 200 {
		t.Fatalf("create: %d %s", code, body)
	}
	call := func(method string, kv ...string) string {
		t.Helper()
		p := with(url.Values{"method": {method}, "idSite": {"1"}, "idFunnel": {"1"}, "period": {"day"}, "format": {"json"}, "token_auth": {r.token}}, kv...)
		code, body := r.call(t, false, p)
		if code != 200 {
			t.Fatalf("%s %v: %d %s", method, kv, code, body)
		}
		return strings.TrimSuffix(body, "\n")
	}
	// row writes a step's row: visits, proceeded, exits and the four rates.
	row := func(label string, pos int, visits, proceeded, exits int, rates ...string) string {
		return fmt.Sprintf(`{"label":%q,"step_position":%d,"step_nb_visits":%d,"step_nb_proceeded":%d,"step_nb_exits":%d,`+
			`"step_proceeded_rate":%q,"step_exited_rate":%q,"step_reached_rate":%q,"step_conversion_rate":%q}`,
			label, pos, visits, proceeded, exits, rates[0], rates[1], rates[2], rates[3])
	}
	// Day A reached: 4 (visits 1–4), 2 (1, 2), 1 (1).
	flowA := "[" + row("Pricing", 1, 4, 2, 2, "50%", "50%", "100%", "100%") + "," + row("Form", 2, 2, 1, 1, "50%", "50%", "50%", "50%") + "," +
		row("Account", 3, 1, 0, 0, "0%", "0%", "50%", "25%") + "]"
	// Day B reached: 3 (visits 6–8), 1 (6), 1 (6).
	flowB := "[" + row("Pricing", 1, 3, 1, 2, "33.33%", "66.67%", "100%", "100%") + "," + row("Form", 2, 1, 1, 0, "100%", "0%", "33.33%", "33.33%") + "," +
		row("Account", 3, 1, 0, 0, "0%", "0%", "100%", "33.33%") + "]"
	empty := "[" + row("Pricing", 1, 0, 0, 0, "0%", "0%", "0%", "0%") + "," + row("Form", 2, 0, 0, 0, "0%", "0%", "0%", "0%") + "," +
		row("Account", 3, 0, 0, 0, "0%", "0%", "0%", "0%") + "]"
	// Both days as a range: 7, 3, 2.
	flowRange := "[" + row("Pricing", 1, 7, 3, 4, "42.86%", "57.14%", "100%", "100%") + "," + row("Form", 2, 3, 2, 1, "66.67%", "33.33%", "42.86%", "42.86%") + "," +
		row("Account", 3, 2, 0, 0, "0%", "0%", "66.67%", "28.57%") + "]"
	// Firefox: day A visits 1 (3 steps) and 4 (1); day B visits 6 (3) and 8 (1).
	flowFirefox := "[" + row("Pricing", 1, 2, 1, 1, "50%", "50%", "100%", "100%") + "," + row("Form", 2, 1, 1, 0, "100%", "0%", "50%", "50%") + "," +
		row("Account", 3, 1, 0, 0, "0%", "0%", "100%", "50%") + "]"
	for _, tc := range []struct {
		name string
		kv   []string
		want string
	}{
		{"one day", []string{"date", "2026-11-20"}, flowA},
		{"three days", []string{"date", "2026-11-20,2026-11-22"}, `{"2026-11-20":` + flowA + `,"2026-11-21":` + flowB + `,"2026-11-22":` + empty + `}`},
		{"a range", []string{"period", "range", "date", "2026-11-20,2026-11-21"}, flowRange},
		{"a segment", []string{"date", "2026-11-20,2026-11-21", "segment", "browserCode==FF"}, `{"2026-11-20":` + flowFirefox + `,"2026-11-21":` + flowFirefox + `}`},
		{"raw ratios", []string{"date", "2026-11-21", "format_metrics", "0", "showColumns", "label,step_proceeded_rate,step_conversion_rate"},
			`[{"label":"Pricing","step_proceeded_rate":0.3333,"step_conversion_rate":1},{"label":"Form","step_proceeded_rate":1,"step_conversion_rate":0.3333},` +
				`{"label":"Account","step_proceeded_rate":0,"step_conversion_rate":0.3333}]`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := call("Funnels.getFunnelFlow", tc.kv...); got != tc.want {
				t.Fatalf("got\n%s\nwant\n%s", got, tc.want)
			}
		})
	}
	t.Run("metrics", func(t *testing.T) {
		got := call("Funnels.getMetrics", "date", "2026-11-20,2026-11-21")
		want := `{"2026-11-20":{"funnel_sum_entries":4,"funnel_nb_conversions":1,"funnel_sum_exits":3,"funnel_conversion_rate":"25%","funnel_abandoned_rate":"75%"},` +
			`"2026-11-21":{"funnel_sum_entries":3,"funnel_nb_conversions":1,"funnel_sum_exits":2,"funnel_conversion_rate":"33.33%","funnel_abandoned_rate":"66.67%"}}`
		if got != want {
			t.Fatalf("got\n%s\nwant\n%s", got, want)
		}
	})
	t.Run("xml", func(t *testing.T) {
		got := call("Funnels.getFunnelFlow", "date", "2026-11-20", "format", "xml", "showColumns", "label,step_position,step_nb_visits")
		want := "<?xml version=\"1.0\" encoding=\"utf-8\" ?>\n<result>\n" +
			"\t<row>\n\t\t<label>Pricing</label>\n\t\t<step_position>1</step_position>\n\t\t<step_nb_visits>4</step_nb_visits>\n\t</row>\n" +
			"\t<row>\n\t\t<label>Form</label>\n\t\t<step_position>2</step_position>\n\t\t<step_nb_visits>2</step_nb_visits>\n\t</row>\n" +
			"\t<row>\n\t\t<label>Account</label>\n\t\t<step_position>3</step_position>\n\t\t<step_nb_visits>1</step_nb_visits>\n\t</row>\n</result>"
		if got != want {
			t.Fatalf("got\n%s\nwant\n%s", got, want)
		}
	})
	t.Run("csv and tsv", func(t *testing.T) {
		got := call("Funnels.getFunnelFlow", "date", "2026-11-20,2026-11-21", "format", "csv", "convertToUnicode", "0",
			"showColumns", "label,step_nb_visits,step_nb_exits")
		want := "date,label,step_nb_visits,step_nb_exits\n2026-11-20,Pricing,4,2\n2026-11-20,Form,2,1\n2026-11-20,Account,1,0\n" +
			"2026-11-21,Pricing,3,2\n2026-11-21,Form,1,0\n2026-11-21,Account,1,0"
		if got != want {
			t.Fatalf("csv got\n%q\nwant\n%q", got, want)
		}
		got = call("Funnels.getFunnelFlow", "date", "2026-11-20", "format", "tsv", "convertToUnicode", "0", "showColumns", "label,step_conversion_rate")
		if want := "label\tstep_conversion_rate\nPricing\t100%\nForm\t50%\nAccount\t25%"; got != want {
			t.Fatalf("tsv got\n%q\nwant\n%q", got, want)
		}
	})
	t.Run("refusals", func(t *testing.T) {
		for _, tc := range []struct {
			kv   []string
			want string
		}{
			{[]string{"date", "2026-11-20", "idFunnel", ""}, "Please specify a value for 'idFunnel'."},
			{[]string{"date", "2026-11-20", "idFunnel", "7"}, "The funnel id 7 does not exist for the website id = 1."},
			{[]string{"date", "yesterday-ish"}, "date"},
			{[]string{"date", "2026-11-20", "segment", "shoeSize==42"}, "not a supported segment"},
		} {
			p := with(url.Values{"method": {"Funnels.getFunnelFlow"}, "idSite": {"1"}, "idFunnel": {"1"}, "period": {"day"}, "format": {"json"}, "token_auth": {r.token}}, tc.kv...)
			if code, body := r.call(t, false, p); code != 400 || !strings.Contains(body, tc.want) {
				t.Errorf("%v: %d %s, want 400 with %q", tc.kv, code, body, tc.want)
			}
		}
	})
}

// FuzzFunnelSteps feeds arbitrary parameters to the step parser: it refuses them with a 400
// or returns 1 to 20 steps that each hold the bounds it promises, regular expressions that Go
// (and so DuckDB's RE2) compiles included.
func FuzzFunnelSteps(f *testing.F) {
	fuzzseed.Strings(f, "FuzzFunnelSteps", 1)
	f.Fuzz(func(t *testing.T, query string) {
		params, err := url.ParseQuery(query)
		if err != nil {
			return
		}
		steps, err := funnelSteps(&call{params: params})
		if err != nil {
			var ae *apiError
			if !errors.As(err, &ae) || ae.status != 400 || ae.msg == "" {
				t.Fatalf("refusal %v is not a 400 with a reason", err)
			}
			return
		}
		if len(steps) < 1 || len(steps) > maxFunnelSteps {
			t.Fatalf("%d steps accepted", len(steps))
		}
		for i, st := range steps {
			if st.Name == "" || utf8.RuneCountInString(st.Name) > maxFunnelName || st.Pattern == "" || len(st.Pattern) > maxFunnelPattern ||
				!containsName(funnelKinds, st.Kind) || !containsName(funnelMatches, st.Match) {
				t.Fatalf("step %d accepted out of bounds: %+v", i+1, st)
			}
			if st.Match == store.FunnelRegex {
				if _, err := regexp.Compile(st.Pattern); err != nil {
					t.Fatalf("step %d: regex %q accepted: %v", i+1, st.Pattern, err)
				}
			}
		}
	})
}
