package matomo

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"

	"hearth/internal/auth"
	"hearth/internal/event"
	"hearth/internal/report"
	"hearth/internal/store"
	"hearth/internal/store/sqlite"
)

// principal names of the matrix: anonymous, a user with no access, view, view+view_raw, write
// and admin on site 1 only, and a superuser.
var principals = []string{"anonymous", "nobody", "viewer", "rawviewer", "writer", "admin1", "root"}

func password(login string) string { return "pw for " + login + " 2026 long" }

// siteNames are the rig's sites. Site 2's name, the URL of its one visit and everything else
// of it carry site2Marker, which must never appear in an answer to a caller without access.
var siteNames = map[int]string{1: "Site 1", 2: "Zephyrine Ledger"}

const (
	site2Marker = "zephyrine"
	site2URL    = "https://site2.example/zephyrine-ledger/q3"
)

// leaksSite2 reports whether an answer carries any of site 2's data.
func leaksSite2(body string) bool { return strings.Contains(strings.ToLower(body), site2Marker) }

type matrixRig struct {
	api    *API
	meta   *sqlite.Store
	tokens map[string]string
	seq    int
}

func newMatrixRig(t testing.TB) *matrixRig {
	ctx := context.Background()
	meta, events := openStores(t)
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	svc := auth.New(auth.Options{Meta: meta, TokenKey: []byte("tk"), Now: func() time.Time { return now }})
	r := &matrixRig{meta: meta, tokens: map[string]string{}}
	for _, login := range append(principals[1:], "target") {
		hash, _ := auth.HashPassword(password(login))
		if err := meta.CreateUser(ctx, store.User{Login: login, Email: login + "@example.org", PasswordHash: hash, Superuser: login == "root", Created: now}); err != nil {
			t.Fatal(err)
		}
		if login != "target" {
			r.tokens[login], _, _ = svc.NewToken(ctx, login, "matrix", time.Time{})
		}
	}
	for i := 1; i <= 2; i++ {
		if _, err := meta.CreateSite(ctx, store.Site{Name: siteNames[i], URLs: []string{fmt.Sprintf("https://site%d.example", i)}, Timezone: "UTC", Currency: "EUR", Created: now}); err != nil {
			t.Fatal(err)
		}
	}
	// Site 2 has a visit whose URL, title and referrer carry the marker, so an answer that
	// leaks any of site 2's data is caught by searching for it.
	visitTime := now.Add(-10 * time.Minute)
	visit := event.Visit{SiteID: 2, ID: 1, VisitorID: event.VisitorID{2}, First: visitTime, Last: visitTime, VisitCount: 1, Actions: 1, Pageviews: 1,
		Referrer: event.Referrer{Type: event.ReferrerWebsite, Name: "zephyrine-referrer.example", URL: "https://zephyrine-referrer.example/"},
		EntryURL: site2URL, EntryTitle: "Zephyrine private page", ExitURL: site2URL, ExitTitle: "Zephyrine private page", ExitTime: visitTime, LocalTime: -1}
	action := event.Action{SiteID: 2, VisitID: 1, VisitorID: visit.VisitorID, Time: visitTime, Index: 1, Type: event.ActionPageview,
		URL: site2URL, Title: "Zephyrine private page", FirstURLInVisit: true, FirstTitleInVisit: true, SearchCount: -1,
		PerfNetwork: -1, PerfServer: -1, PerfTransfer: -1, PerfDOMProc: -1, PerfDOMDone: -1, PerfOnLoad: -1}
	if err := events.Apply(ctx, store.Batch{Seq: 1, Visits: []event.Visit{visit}, Actions: []event.Action{action}}); err != nil {
		t.Fatal(err)
	}
	grant := func(login string, site event.SiteID, role string) {
		if err := meta.SetRole(ctx, store.Grant{Login: login, SiteID: site, Name: role, Created: now}); err != nil {
			t.Fatal(err)
		}
	}
	grant("viewer", 1, auth.RoleView)
	grant("rawviewer", 1, auth.RoleView)
	grant("writer", 1, auth.RoleWrite)
	grant("admin1", 1, auth.RoleAdmin)
	grant("target", 1, auth.RoleView)
	grant("target", 2, auth.RoleView)
	if err := meta.AddCapability(ctx, store.Grant{Login: "rawviewer", SiteID: 1, Name: auth.CapViewRaw, Created: now}); err != nil {
		t.Fatal(err)
	}
	r.api = New(Options{Meta: meta, Events: events, Auth: svc, Now: func() time.Time { return now }})
	return r
}

func (r *matrixRig) call(t *testing.T, who string, params url.Values) (int, string) {
	t.Helper()
	params.Set("module", "API")
	params.Set("format", "json")
	if tok, ok := r.tokens[who]; ok {
		params.Set("token_auth", tok)
	}
	if params.Get("passwordConfirmation") == "$own" {
		params.Set("passwordConfirmation", password(who))
	}
	req := httptest.NewRequest("POST", "/index.php", strings.NewReader(params.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := httptest.NewRecorder()
	r.api.ServeHTTP(rec, req)
	return rec.Code, rec.Body.String()
}

type rule func(who string, site int) bool

var (
	anyUser   rule = func(who string, _ int) bool { return who != "anonymous" }
	superOnly rule = func(who string, _ int) bool { return who == "root" }
	viewOn    rule = func(who string, site int) bool {
		return who == "root" || site == 1 && (who == "viewer" || who == "rawviewer" || who == "writer" || who == "admin1")
	}
	rawOn rule = func(who string, site int) bool {
		return who == "root" || site == 1 && (who == "rawviewer" || who == "admin1")
	}
	adminOn rule = func(who string, site int) bool { return who == "root" || site == 1 && who == "admin1" }
	writeOn rule = func(who string, site int) bool {
		return who == "root" || site == 1 && (who == "writer" || who == "admin1")
	}
)

// reportParams ask a report of one site for the last three days.
func reportParams(s int) url.Values {
	return url.Values{"idSite": {fmt.Sprint(s)}, "period": {"day"}, "date": {"last3"}}
}

// matrixEntry says who may call a method on a site and with which parameters.
type matrixEntry struct {
	allowed rule
	// params are the call's parameters on a site; objects the call names (a goal, a
	// dimension, a segment) are created on that site first.
	params func(site int) url.Values
}

// matrix has an entry for every API method but token creation (which authenticates by
// password) and the bulk request (which wraps the others).
func (r *matrixRig) matrix(t *testing.T) map[string]matrixEntry {
	ctx := context.Background()
	matrix := map[string]matrixEntry{
		"API.getMatomoVersion": {anyUser, func(int) url.Values { return url.Values{} }},
		"API.getPiwikVersion":  {anyUser, func(int) url.Values { return url.Values{} }},
		"SitesManager.addSite": {superOnly, func(int) url.Values { return url.Values{"siteName": {"New"}} }},
		"SitesManager.updateSite": {adminOn, func(s int) url.Values {
			return url.Values{"idSite": {fmt.Sprint(s)}, "siteName": {siteNames[s]}}
		}},
		"SitesManager.getSiteFromId":                 {viewOn, func(s int) url.Values { return url.Values{"idSite": {fmt.Sprint(s)}} }},
		"SitesManager.getSitesWithAtLeastViewAccess": {anyUser, func(int) url.Values { return url.Values{} }},
		"SitesManager.getAllSites":                   {superOnly, func(int) url.Values { return url.Values{} }},
		"SitesManager.getSitesIdFromSiteUrl":         {anyUser, func(s int) url.Values { return url.Values{"url": {fmt.Sprintf("https://site%d.example", s)}} }},
		"Live.getLastVisitsDetails":                  {rawOn, func(s int) url.Values { return url.Values{"idSite": {fmt.Sprint(s)}} }},
		"Live.getCounters":                           {viewOn, func(s int) url.Values { return url.Values{"idSite": {fmt.Sprint(s)}, "lastMinutes": {"30"}} }},
		"Live.getVisitorProfile":                     {rawOn, func(s int) url.Values { return url.Values{"idSite": {fmt.Sprint(s)}} }},
		"VisitsSummary.get":                          {viewOn, reportParams},
		"VisitsSummary.getVisits":                    {viewOn, reportParams},
		"VisitsSummary.getUniqueVisitors":            {viewOn, reportParams},
		"VisitsSummary.getUsers":                     {viewOn, reportParams},
		"VisitsSummary.getActions":                   {viewOn, reportParams},
		"VisitsSummary.getMaxActions":                {viewOn, reportParams},
		"VisitsSummary.getBounceCount":               {viewOn, reportParams},
		"VisitsSummary.getVisitsConverted":           {viewOn, reportParams},
		"VisitsSummary.getSumVisitsLength":           {viewOn, reportParams},
		"UsersManager.getUser":                       {superOnly, func(int) url.Values { return url.Values{"userLogin": {"target"}} }},
		"UsersManager.getUsers":                      {anyUser, func(int) url.Values { return url.Values{} }},
		"UsersManager.getUsersPlusRole":              {adminOn, func(s int) url.Values { return url.Values{"idSite": {fmt.Sprint(s)}} }},
		"UsersManager.setUserAccess": {adminOn, func(s int) url.Values {
			return url.Values{"userLogin": {"target"}, "access": {"view"}, "idSites": {fmt.Sprint(s)}, "passwordConfirmation": {"$own"}}
		}},
		"UsersManager.addCapabilities": {adminOn, func(s int) url.Values {
			return url.Values{"userLogin": {"target"}, "capabilities": {"view_raw"}, "idSites": {fmt.Sprint(s)}}
		}},
		"UsersManager.removeCapabilities": {adminOn, func(s int) url.Values {
			return url.Values{"userLogin": {"target"}, "capabilities": {"view_raw"}, "idSites": {fmt.Sprint(s)}}
		}},
		"UsersManager.setSuperUserAccess": {superOnly, func(int) url.Values {
			return url.Values{"userLogin": {"target"}, "hasSuperUserAccess": {"0"}, "passwordConfirmation": {"$own"}}
		}},
		"UsersManager.updateUser": {superOnly, func(int) url.Values {
			return url.Values{"userLogin": {"target"}, "email": {"target@example.org"}, "passwordConfirmation": {"$own"}}
		}},
		"UsersManager.deleteUser": {superOnly, func(int) url.Values {
			r.seq++
			login := fmt.Sprintf("throwaway%d", r.seq)
			if err := r.meta.CreateUser(ctx, store.User{Login: login, Email: "t@example.org", PasswordHash: "x"}); err != nil {
				t.Fatal(err)
			}
			return url.Values{"userLogin": {login}, "passwordConfirmation": {"$own"}}
		}},
		"UsersManager.addUser": {superOnly, func(int) url.Values {
			r.seq++
			return url.Values{"userLogin": {fmt.Sprintf("newuser%d", r.seq)}, "email": {"n@example.org"}, "password": {"a fine long passphrase"}, "passwordConfirmation": {"$own"}}
		}},
	}
	// Account administration (useradmin.go): each change acts on a fresh account or token.
	throwaway := func(prefix string) string {
		r.seq++
		login := fmt.Sprintf("%s%d", prefix, r.seq)
		if err := r.meta.CreateUser(ctx, store.User{Login: login, Email: "t@example.org", PasswordHash: "x"}); err != nil {
			t.Fatal(err)
		}
		return login
	}
	matrix["Hearth.getAccessGrants"] = matrixEntry{adminOn, func(s int) url.Values { return url.Values{"idSites": {fmt.Sprint(s)}} }}
	matrix["Hearth.getLoginFailures"] = matrixEntry{superOnly, func(int) url.Values { return url.Values{} }}
	matrix["Hearth.setUserDisabled"] = matrixEntry{superOnly, func(int) url.Values {
		return url.Values{"userLogin": {throwaway("disabled")}, "disabled": {"1"}, "passwordConfirmation": {"$own"}}
	}}
	matrix["Hearth.unlockUser"] = matrixEntry{superOnly, func(int) url.Values { return url.Values{"userLogin": {"target"}} }}
	matrix["Hearth.resetTwoFactor"] = matrixEntry{superOnly, func(int) url.Values {
		login := throwaway("twofactor")
		if err := r.meta.SetTOTP(ctx, store.TOTP{Login: login, SecretEnc: []byte("sealed"), Enabled: true}); err != nil {
			t.Fatal(err)
		}
		return url.Values{"userLogin": {login}, "passwordConfirmation": {"$own"}}
	}}
	matrix["Hearth.getTokens"] = matrixEntry{anyUser, func(int) url.Values { return url.Values{} }}
	matrix["Hearth.revokeToken"] = matrixEntry{superOnly, func(int) url.Values {
		r.seq++
		id, err := r.meta.CreateToken(ctx, store.Token{Login: "target", Hash: []byte(fmt.Sprintf("matrix token %d", r.seq)), Description: "matrix", Created: time.Now()})
		if err != nil {
			t.Fatal(err)
		}
		return url.Values{"idToken": {fmt.Sprint(id)}}
	}}
	// Every report of visits by a dimension answers viewers of the site.
	matrix["VisitFrequency.get"] = matrixEntry{viewOn, reportParams}
	matrix["Actions.get"] = matrixEntry{viewOn, reportParams}
	matrix["Hearth.getBotCounts"] = matrixEntry{viewOn, reportParams}
	for _, m := range []string{"Goals.getItemsSku", "Goals.getItemsName", "Goals.getItemsCategory"} {
		matrix[m] = matrixEntry{viewOn, reportParams}
	}
	matrix["API.getReportMetadata"] = matrixEntry{viewOn, func(s int) url.Values { return url.Values{"idSite": {fmt.Sprint(s)}} }}
	matrix["API.getSegmentsMetadata"] = matrixEntry{anyUser, func(s int) url.Values { return url.Values{"idSites": {fmt.Sprint(s)}} }}
	matrix["API.getProcessedReport"] = matrixEntry{viewOn, func(s int) url.Values {
		return url.Values{"idSite": {fmt.Sprint(s)}, "period": {"day"}, "date": {"2026-11-20"}, "apiModule": {"UserCountry"}, "apiAction": {"getCountry"}}
	}}
	for _, d := range report.VisitReports {
		matrix[d.Method()] = matrixEntry{viewOn, reportParams}
	}
	for _, d := range report.ActionReports {
		matrix[d.Method()] = matrixEntry{viewOn, reportParams}
	}
	for _, d := range report.EventReports {
		matrix[d.Method()] = matrixEntry{viewOn, reportParams}
	}
	// A segment shared by its owner (the superuser) with everyone who views its site.
	sharedSegment := func(s int) url.Values {
		id, err := r.meta.CreateSegment(ctx, store.Segment{Login: "root", Name: "Mobile of " + siteNames[s], Definition: "deviceType==smartphone",
			SiteID: event.SiteID(s), AllUsers: true})
		if err != nil {
			t.Fatal(err)
		}
		return url.Values{"idSegment": {fmt.Sprint(id)}}
	}
	matrix["SegmentEditor.add"] = matrixEntry{writeOn, func(s int) url.Values {
		return url.Values{"name": {"Mobile"}, "definition": {"deviceType==smartphone"}, "idSite": {fmt.Sprint(s)}}
	}}
	matrix["SegmentEditor.getAll"] = matrixEntry{viewOn, func(s int) url.Values { return url.Values{"idSite": {fmt.Sprint(s)}} }}
	matrix["SegmentEditor.get"] = matrixEntry{viewOn, sharedSegment}
	matrix["SegmentEditor.update"] = matrixEntry{superOnly, func(s int) url.Values {
		v := sharedSegment(s)
		v.Set("name", "Phones")
		return v
	}}
	matrix["SegmentEditor.delete"] = matrixEntry{superOnly, sharedSegment}
	dimension := func(s int) url.Values {
		d, err := r.meta.CreateCustomDimension(ctx, store.CustomDimension{SiteID: event.SiteID(s), Name: "Plan of " + siteNames[s], Scope: "visit", Active: true})
		if err != nil {
			t.Fatal(err)
		}
		return url.Values{"idSite": {fmt.Sprint(s)}, "idDimension": {fmt.Sprint(d.ID)}}
	}
	matrix["CustomDimensions.configureNewCustomDimension"] = matrixEntry{writeOn, func(s int) url.Values {
		return url.Values{"idSite": {fmt.Sprint(s)}, "name": {"Plan"}, "scope": {"visit"}}
	}}
	matrix["CustomDimensions.configureExistingCustomDimension"] = matrixEntry{writeOn, func(s int) url.Values {
		v := dimension(s)
		v.Set("name", "Tier")
		return v
	}}
	matrix["CustomDimensions.getConfiguredCustomDimensions"] = matrixEntry{viewOn, func(s int) url.Values { return url.Values{"idSite": {fmt.Sprint(s)}} }}
	matrix["CustomDimensions.getCustomDimension"] = matrixEntry{viewOn, func(s int) url.Values {
		v := dimension(s)
		v.Set("period", "day")
		v.Set("date", "2026-11-20")
		return v
	}}
	goalOn := func(s int) url.Values {
		g, err := r.meta.CreateGoal(ctx, store.Goal{SiteID: event.SiteID(s), Name: "Signup on " + siteNames[s], MatchAttribute: "url", Pattern: "/thanks", PatternType: "contains"})
		if err != nil {
			t.Fatal(err)
		}
		return url.Values{"idSite": {fmt.Sprint(s)}, "idGoal": {fmt.Sprint(g.ID)}}
	}
	goalDef := url.Values{"name": {"Signup"}, "matchAttribute": {"url"}, "pattern": {"/thanks"}, "patternType": {"contains"}}
	withGoal := func(v url.Values) url.Values {
		for k, vs := range goalDef {
			v[k] = vs
		}
		return v
	}
	matrix["Goals.addGoal"] = matrixEntry{writeOn, func(s int) url.Values { return withGoal(url.Values{"idSite": {fmt.Sprint(s)}}) }}
	matrix["Goals.updateGoal"] = matrixEntry{writeOn, func(s int) url.Values { return withGoal(goalOn(s)) }}
	matrix["Goals.deleteGoal"] = matrixEntry{writeOn, goalOn}
	matrix["Goals.getGoals"] = matrixEntry{viewOn, func(s int) url.Values { return url.Values{"idSite": {fmt.Sprint(s)}} }}
	matrix["Goals.getGoal"] = matrixEntry{viewOn, goalOn}
	matrix["Goals.get"] = matrixEntry{viewOn, reportParams}
	// A funnel of the site whose step matches site 2's visit; its names carry site 2's marker.
	funnelOn := func(s int) url.Values {
		f, err := r.meta.CreateFunnel(ctx, store.Funnel{SiteID: event.SiteID(s), Name: "Checkout of " + siteNames[s],
			Steps: []store.FunnelStep{{Name: "Page of " + siteNames[s], Kind: store.FunnelURL, Match: store.FunnelContains, Pattern: "/q3"}}})
		if err != nil {
			t.Fatal(err)
		}
		return url.Values{"idSite": {fmt.Sprint(s)}, "idFunnel": {fmt.Sprint(f.ID)}}
	}
	funnelReport := func(s int) url.Values {
		v := funnelOn(s)
		for k, vs := range reportParams(s) {
			v[k] = vs
		}
		return v
	}
	matrix["Funnels.saveNonGoalFunnel"] = matrixEntry{writeOn, func(s int) url.Values {
		return url.Values{"idSite": {fmt.Sprint(s)}, "funnelName": {"Checkout"}, "steps[0][name]": {"Cart"}, "steps[0][kind]": {"url"},
			"steps[0][match]": {"contains"}, "steps[0][pattern]": {"/cart"}}
	}}
	matrix["Funnels.deleteNonGoalFunnel"] = matrixEntry{writeOn, funnelOn}
	matrix["Funnels.getFunnel"] = matrixEntry{viewOn, funnelOn}
	matrix["Funnels.getAllActivatedFunnelsForSite"] = matrixEntry{viewOn, func(s int) url.Values { return url.Values{"idSite": {fmt.Sprint(s)}} }}
	matrix["Funnels.getFunnelFlow"] = matrixEntry{viewOn, funnelReport}
	matrix["Funnels.getMetrics"] = matrixEntry{viewOn, funnelReport}
	matrix["SitesManager.getJavascriptTag"] = matrixEntry{viewOn, func(s int) url.Values {
		return url.Values{"idSite": {fmt.Sprint(s)}, "piwikUrl": {"https://stats.example.org"}}
	}}
	return matrix
}

// TestAuthorizationMatrix calls every API method as every principal against both sites and
// asserts exactly who is allowed; denied calls must answer 401 and leak nothing.
func TestAuthorizationMatrix(t *testing.T) {
	r := newMatrixRig(t)
	matrix := r.matrix(t)
	// Every method is in the matrix, except token creation, which authenticates by password.
	var missing []string
	for _, m := range r.api.Methods() {
		if _, ok := matrix[m]; !ok && m != "UsersManager.createAppSpecificTokenAuth" && m != "API.getBulkRequest" {
			missing = append(missing, m)
		}
	}
	if len(missing) > 0 {
		t.Fatalf("methods missing from the authorization matrix: %v", missing)
	}
	names := make([]string, 0, len(matrix))
	for m := range matrix {
		names = append(names, m)
	}
	sort.Strings(names)
	for _, m := range names {
		e := matrix[m]
		for _, site := range []int{1, 2} {
			for _, who := range principals {
				params := e.params(site)
				params.Set("method", m)
				code, body := r.call(t, who, params)
				want := e.allowed(who, site)
				if want && code != 200 {
					t.Errorf("%s as %s on site %d: %d %s, want allowed", m, who, site, code, body)
				}
				if !want && code != 401 {
					t.Errorf("%s as %s on site %d: %d %s, want 401", m, who, site, code, body)
				}
				if !want && leaksSite2(body) {
					t.Errorf("%s as %s leaks site 2's name: %s", m, who, body)
				}
			}
		}
	}

	// Listing methods answer everyone but show only what each may see.
	sitesOf := func(who string) []string {
		_, body := r.call(t, who, url.Values{"method": {"SitesManager.getSitesWithAtLeastViewAccess"}})
		var rows []map[string]any
		_ = json.Unmarshal([]byte(body), &rows)
		var out []string
		for _, row := range rows {
			out = append(out, fmt.Sprint(row["idsite"]))
		}
		return out
	}
	// The superuser also sees the two sites the matrix's addSite calls created.
	for who, want := range map[string]string{"nobody": "", "viewer": "1", "admin1": "1", "root": "1,2,3,4"} {
		if got := strings.Join(sitesOf(who), ","); got != want {
			t.Errorf("sites visible to %s: %q, want %q", who, got, want)
		}
	}
	_, body := r.call(t, "viewer", url.Values{"method": {"SitesManager.getSitesIdFromSiteUrl"}, "url": {"https://site2.example"}})
	if body != "[]\n" {
		t.Errorf("site 2 found by URL for viewer: %s", body)
	}
	_, body = r.call(t, "viewer", url.Values{"method": {"UsersManager.getUsers"}})
	if strings.Contains(body, "target") || !strings.Contains(body, `"login":"viewer"`) {
		t.Errorf("users visible to viewer: %s", body)
	}
	_, body = r.call(t, "admin1", url.Values{"method": {"UsersManager.getUsers"}})
	if !strings.Contains(body, `"login":"target"`) || strings.Contains(body, `"login":"root"`) {
		t.Errorf("users visible to admin1: %s", body)
	}
	// Reports over idSite=all or a list answer only for the sites the caller may view.
	_, body = r.call(t, "viewer", url.Values{"method": {"VisitsSummary.getVisits"}, "idSite": {"all"}, "period": {"day"}, "date": {"2026-11-23"}})
	if body != `{"1":0}`+"\n" {
		t.Errorf("VisitsSummary over idSite=all for viewer: %s", body)
	}
	if code, body := r.call(t, "viewer", url.Values{"method": {"VisitsSummary.getVisits"}, "idSite": {"1,2"}, "period": {"day"}, "date": {"today"}}); code != 401 {
		t.Errorf("VisitsSummary over idSite=1,2 for viewer: %d %s", code, body)
	}
	// idSite=all never reaches a site without the right.
	_, body = r.call(t, "viewer", url.Values{"method": {"Live.getLastVisitsDetails"}, "idSite": {"all"}})
	if body != "[]\n" {
		t.Errorf("raw data through idSite=all for viewer: %s", body)
	}
}

// TestBulkRequestAuthorization: every request inside API.getBulkRequest runs with the caller's
// rights only — the bulk answers 200, and each inner request gets what it would get alone.
func TestBulkRequestAuthorization(t *testing.T) {
	r := newMatrixRig(t)
	for _, site := range []int{1, 2} {
		for _, who := range principals {
			inner := fmt.Sprintf("method=VisitsSummary.getVisits&idSite=%d&period=day&date=2026-11-20", site)
			code, body := r.call(t, who, url.Values{"method": {"API.getBulkRequest"}, "urls[0]": {inner},
				"urls[1]": {"method=SitesManager.getAllSites"}, "urls[2]": {"method=API.getBulkRequest&urls[0]=method%3DAPI.getMatomoVersion"}})
			if code != 200 {
				t.Fatalf("bulk as %s: %d %s", who, code, body)
			}
			var raw []json.RawMessage
			if err := json.Unmarshal([]byte(body), &raw); err != nil || len(raw) != 3 {
				t.Fatalf("bulk as %s: %v %s", who, err, body)
			}
			got := make([]map[string]any, 3)
			for i, m := range raw {
				_ = json.Unmarshal(m, &got[i]) // a list (getAllSites' answer) leaves the map nil
			}
			if viewOn(who, site) != (got[0]["value"] == 0.0) || viewOn(who, site) == (got[0]["result"] == "error") {
				t.Errorf("bulk getVisits of site %d as %s: %v", site, who, got[0])
			}
			if superOnly(who, site) != strings.HasPrefix(string(raw[1]), "[") || superOnly(who, site) == (got[1]["result"] == "error") {
				t.Errorf("bulk getAllSites as %s: %s", who, raw[1])
			}
			if got[2]["result"] != "error" || !strings.Contains(fmt.Sprint(got[2]["message"]), "cannot contain another bulk") {
				t.Errorf("nested bulk as %s: %v", who, got[2])
			}
		}
	}
}

// TestGrantsExpire shows a time-bound grant lapsing by itself.
func TestGrantsExpire(t *testing.T) {
	r := newMatrixRig(t)
	code, body := r.call(t, "admin1", url.Values{"method": {"UsersManager.setUserAccess"}, "userLogin": {"nobody"}, "access": {"view"},
		"idSites": {"1"}, "expiresAt": {"2026-11-23 13:00:00"}, "passwordConfirmation": {"$own"}})
	if code != 200 {
		t.Fatalf("grant: %d %s", code, body)
	}
	if code, _ := r.call(t, "nobody", url.Values{"method": {"SitesManager.getSiteFromId"}, "idSite": {"1"}}); code != 200 {
		t.Fatalf("before expiry: %d", code)
	}
	later := time.Date(2026, 11, 23, 13, 0, 1, 0, time.UTC)
	r.api.opts.Now = func() time.Time { return later }
	r.api.opts.Auth = auth.New(auth.Options{Meta: r.meta, TokenKey: []byte("tk"), Now: func() time.Time { return later }})
	if code, _ := r.call(t, "nobody", url.Values{"method": {"SitesManager.getSiteFromId"}, "idSite": {"1"}}); code != 401 {
		t.Fatalf("after expiry: %d", code)
	}
	// Sensitive changes need the caller's password.
	code, body = r.call(t, "admin1", url.Values{"method": {"UsersManager.setUserAccess"}, "userLogin": {"nobody"}, "access": {"view"}, "idSites": {"1"}})
	if code != 400 || !strings.Contains(body, "passwordConfirmation") {
		t.Fatalf("no confirmation: %d %s", code, body)
	}
	code, body = r.call(t, "admin1", url.Values{"method": {"UsersManager.setUserAccess"}, "userLogin": {"nobody"}, "access": {"view"}, "idSites": {"1"}, "passwordConfirmation": {"wrong"}})
	if code != 401 {
		t.Fatalf("wrong confirmation: %d %s", code, body)
	}
	code, body = r.call(t, "root", url.Values{"method": {"UsersManager.setSuperUserAccess"}, "userLogin": {"root"}, "hasSuperUserAccess": {"0"}, "passwordConfirmation": {"$own"}})
	if code != 400 || !strings.Contains(body, "last superuser") {
		t.Fatalf("demoting the last superuser: %d %s", code, body)
	}
}

// TestSegmentEditor: a writer's segment is theirs until shared; sharing needs admin; invalid
// definitions are refused; the owner edits and deletes it.
func TestSegmentEditor(t *testing.T) {
	r := newMatrixRig(t)
	call := func(who string, p url.Values) (int, string) { t.Helper(); return r.call(t, who, p) }
	code, body := call("writer", url.Values{"method": {"SegmentEditor.add"}, "name": {"Phones"}, "definition": {"deviceType==smartphone"}, "idSite": {"1"}})
	var id struct{ Value int64 }
	if code != 200 || json.Unmarshal([]byte(body), &id) != nil || id.Value == 0 {
		t.Fatalf("add: %d %s", code, body)
	}
	names := func(who string) string {
		_, body := call(who, url.Values{"method": {"SegmentEditor.getAll"}, "idSite": {"1"}})
		var rows []map[string]any
		_ = json.Unmarshal([]byte(body), &rows)
		var out []string
		for _, row := range rows {
			out = append(out, fmt.Sprint(row["name"]))
		}
		return strings.Join(out, ",")
	}
	if got := names("writer"); got != "Phones" {
		t.Errorf("writer sees %q", got)
	}
	if got := names("viewer"); got != "" {
		t.Errorf("viewer sees an unshared segment: %q", got)
	}
	idp := fmt.Sprint(id.Value)
	if code, body := call("writer", url.Values{"method": {"SegmentEditor.update"}, "idSegment": {idp}, "enabledAllUsers": {"1"}}); code != 401 || !strings.Contains(body, "admin") {
		t.Errorf("writer shares: %d %s", code, body)
	}
	if code, body := call("writer", url.Values{"method": {"SegmentEditor.update"}, "idSegment": {idp}, "definition": {"shoeSize==42"}}); code != 400 || !strings.Contains(body, "not a supported segment") {
		t.Errorf("invalid definition: %d %s", code, body)
	}
	if code, body := call("writer", url.Values{"method": {"SegmentEditor.update"}, "idSegment": {idp}, "name": {"Mobile"}, "definition": {"deviceType==smartphone,deviceType==tablet"}}); code != 200 {
		t.Errorf("owner updates: %d %s", code, body)
	}
	if code, body := call("root", url.Values{"method": {"SegmentEditor.update"}, "idSegment": {idp}, "enabledAllUsers": {"1"}}); code != 200 {
		t.Errorf("superuser shares: %d %s", code, body)
	}
	if got := names("viewer"); got != "Mobile" {
		t.Errorf("viewer sees %q after sharing", got)
	}
	_, body = call("viewer", url.Values{"method": {"SegmentEditor.get"}, "idSegment": {idp}})
	if !strings.Contains(body, `"definition":"deviceType==smartphone,deviceType==tablet"`) || !strings.Contains(body, `"enable_all_users":true`) {
		t.Errorf("get: %s", body)
	}
	if code, _ := call("viewer", url.Values{"method": {"SegmentEditor.delete"}, "idSegment": {idp}}); code != 401 {
		t.Errorf("viewer deletes: %d", code)
	}
	if code, _ := call("writer", url.Values{"method": {"SegmentEditor.delete"}, "idSegment": {idp}}); code != 200 {
		t.Errorf("owner deletes: %d", code)
	}
	if got := names("writer"); got != "" {
		t.Errorf("after delete: %q", got)
	}
	if code, body := call("writer", url.Values{"method": {"SegmentEditor.add"}, "name": {"All"}, "definition": {"visitCount>1"}, "idSite": {"0"}}); code != 401 {
		t.Errorf("writer adds a segment for every site: %d %s", code, body)
	}
}
