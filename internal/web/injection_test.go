package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"html/template"
	"io"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"

	"hearth/internal/audit"
	"hearth/internal/auth"
	"hearth/internal/event"
	"hearth/internal/store"
	"hearth/internal/web"
)

// The payloads of the injection tests: a script element, and a break out of an attribute.
const (
	xssScript = `<script>alert(1)</script>`
	xssAttr   = `"><img src=x onerror=alert(1)>`
)

var payloads = []string{xssScript, xssAttr}

// assertEscapedHTML checks a page: no payload appears as markup, and each of want appears
// escaped (so the page did show it).
func assertEscapedHTML(t *testing.T, page string, a response, want ...string) {
	t.Helper()
	if ct := a.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		t.Errorf("%s: Content-Type %q", page, ct)
	}
	for _, p := range payloads {
		if strings.Contains(a.body, p) || strings.Contains(a.body, "<img src=x") {
			t.Errorf("%s renders %q unescaped:\n%s", page, p, a.body)
		}
	}
	for _, w := range want {
		if !strings.Contains(a.body, template.HTMLEscapeString(w)) {
			t.Errorf("%s does not show %q (escaped as %q):\n%s", page, w, template.HTMLEscapeString(w), a.body)
		}
	}
}

// TestPagesEscapeStoredAndReflectedInput stores the payloads wherever a user, an admin or a
// tracker can put text (site names, logins, e-mail addresses, grants, passkey names, audit
// entries, visits' titles and URLs, token descriptions) and sends them where pages reflect
// input (sign-in, setup, the audit filter); every page shows them escaped, and the APIs'
// JSON and XML carry them as data.
func TestPagesEscapeStoredAndReflectedInput(t *testing.T) {
	r := newPagesRig(t)
	ctx := context.Background()
	r.user(t, store.User{Login: "root", Email: "root." + xssAttr + "@example.org", Superuser: true})
	r.user(t, store.User{Login: xssScript, Email: xssAttr + "@example.org"})
	r.user(t, store.User{Login: xssAttr, Email: "attr@example.org"})
	for _, name := range payloads {
		if _, err := r.meta.CreateSite(ctx, store.Site{Name: "Site " + name, URLs: []string{"https://site.example"}, Timezone: "UTC", Currency: "EUR", Created: r.now}); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.meta.SetRole(ctx, store.Grant{Login: xssScript, SiteID: 1, Name: auth.RoleView, GrantedBy: xssAttr, Created: r.now}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.auth.Password(ctx, xssAttr, "wrong", netip.MustParseAddr("198.51.100.9")); err == nil {
		t.Fatal("a wrong password was accepted")
	}
	if err := r.meta.AddPasskey(ctx, store.Passkey{ID: []byte("key-1"), Login: "root", Name: "Key " + xssScript, RPID: host, Credential: []byte("{}"), Created: r.now}); err != nil {
		t.Fatal(err)
	}
	if err := r.trail.Record(ctx, audit.Event{Actor: xssAttr, Action: audit.ActionSiteUpdate, Target: "site:" + xssScript,
		Details: map[string]string{"name": xssScript, xssAttr: "key"}}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := r.auth.NewToken(ctx, "root", "Token "+xssScript+xssAttr, time.Time{}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.meta.CreateGoal(ctx, store.Goal{SiteID: 1, Name: "Goal " + xssAttr, MatchAttribute: "url", Pattern: "/thanks", PatternType: "contains"}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.meta.CreateSegment(ctx, store.Segment{Login: "root", Name: "Segment " + xssScript, Definition: "deviceType==smartphone", SiteID: 1, AllUsers: true}); err != nil {
		t.Fatal(err)
	}
	// A tracked visit whose page title and URL carry the payloads.
	visitTime := r.now.Add(-time.Minute)
	pageURL := "https://site.example/search?q=" + xssAttr
	visit := event.Visit{SiteID: 1, ID: 1, VisitorID: event.VisitorID{1}, First: visitTime, Last: visitTime, VisitCount: 1, Actions: 1, Pageviews: 1,
		EntryURL: pageURL, EntryTitle: xssScript, ExitURL: pageURL, ExitTitle: xssScript, ExitTime: visitTime, LocalTime: -1}
	action := event.Action{SiteID: 1, VisitID: 1, VisitorID: visit.VisitorID, Time: visitTime, Index: 1, Type: event.ActionPageview,
		URL: pageURL, Title: xssScript, FirstURLInVisit: true, FirstTitleInVisit: true, SearchCount: -1,
		PerfNetwork: -1, PerfServer: -1, PerfTransfer: -1, PerfDOMProc: -1, PerfDOMDone: -1, PerfOnLoad: -1}
	if err := r.events.Apply(ctx, store.Batch{Seq: 1, Visits: []event.Visit{visit}, Actions: []event.Action{action}}); err != nil {
		t.Fatal(err)
	}

	root := map[string]string{"hearth_session": r.session(t, "root")}
	scripted := map[string]string{"hearth_session": r.session(t, xssScript)}
	same := map[string]string{"Origin": origin}
	pages := []struct {
		name string
		req  request
		code int
		want []string
	}{
		{"account page of the superuser", request{method: "GET", path: "/account", cookies: root}, 200,
			[]string{"root." + xssAttr + "@example.org", "Site " + xssScript, "Site " + xssAttr}},
		{"account page of a user named by the payload", request{method: "GET", path: "/account", cookies: scripted}, 200,
			[]string{"Signed in as " + xssScript, xssAttr + "@example.org", "Site " + xssScript}},
		{"security page", request{method: "GET", path: "/security", cookies: root}, 200,
			[]string{xssScript, xssAttr + "@example.org", `name="login" value="` + xssAttr, "1 Site " + xssScript}},
		{"security page after unlocking", request{method: "POST", path: "/security", cookies: root, header: same,
			form: url.Values{"action": {"unlock"}, "login": {xssAttr}}}, 200, []string{"Unlocked " + xssAttr}},
		{"audit page", request{method: "GET", path: "/audit", cookies: root, form: url.Values{"action": {xssScript}, "actor": {xssAttr}}}, 200,
			[]string{`name="action" value="` + xssScript, `name="actor" value="` + xssAttr}},
		{"audit page unfiltered", request{method: "GET", path: "/audit", cookies: root}, 200,
			[]string{"site:" + xssScript, "name=" + xssScript, xssAttr + "=key", "<td>" + xssAttr}},
		{"two-factor page", request{method: "GET", path: "/account/2fa", cookies: root}, 200, []string{"Key " + xssScript}},
		{"two-factor page of a user named by the payload", request{method: "GET", path: "/account/2fa", cookies: scripted}, 200, nil},
		{"sign-in page after a failure", request{method: "POST", path: "/login", header: same,
			form: url.Values{"login": {xssAttr + xssScript}, "password": {"wrong"}}}, 401, []string{`value="` + xssAttr + xssScript}},
	}
	for _, p := range pages {
		t.Run(p.name, func(t *testing.T) {
			a := r.do(t, p.req)
			if a.code != p.code {
				t.Fatalf("%d, want %d: %.300q", a.code, p.code, a.body)
			}
			// The wants are page fragments around the payloads: compare them escaped.
			var want []string
			for _, w := range p.want {
				want = append(want, escapeFragment(w))
			}
			assertEscapedHTMLFragments(t, p.name, a, want)
		})
	}
	t.Run("setup page after a refused form", func(t *testing.T) {
		fresh := newPagesRig(t)
		tok := setupToken(t, fresh)
		a := fresh.do(t, request{method: "POST", path: "/setup", header: same, form: url.Values{"token": {tok}, "login": {xssAttr},
			"email": {xssScript + "@example.org"}, "password": {setupPassword}, "password2": {setupPassword}}})
		if a.code != http.StatusBadRequest {
			t.Fatalf("%d %.300q", a.code, a.body)
		}
		assertEscapedHTMLFragments(t, "setup page", a, []string{escapeFragment(`value="` + xssAttr), escapeFragment(xssScript + "@example.org")})
		fresh.log.check(t)
	})

	// The APIs carry the payloads as data: JSON strings, XML text, and text/csv that no
	// browser renders as a page.
	token, _, err := r.auth.NewToken(ctx, "root", "api", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	api := func(format string, params url.Values) response {
		params.Set("module", "API")
		params.Set("format", format)
		params.Set("token_auth", token)
		return r.do(t, request{method: "POST", path: "/index.php", form: params})
	}
	calls := []struct {
		name   string
		params url.Values
		want   []string
	}{
		{"site", url.Values{"method": {"SitesManager.getSiteFromId"}, "idSite": {"1"}}, []string{"Site " + xssScript}},
		{"sites", url.Values{"method": {"SitesManager.getAllSites"}}, []string{"Site " + xssScript, "Site " + xssAttr}},
		{"goals", url.Values{"method": {"Goals.getGoals"}, "idSite": {"1"}}, []string{"Goal " + xssAttr}},
		{"segments", url.Values{"method": {"SegmentEditor.getAll"}, "idSite": {"1"}}, []string{"Segment " + xssScript}},
		{"users", url.Values{"method": {"UsersManager.getUsers"}}, []string{xssScript, xssAttr}},
		{"page titles", url.Values{"method": {"Actions.getPageTitles"}, "idSite": {"1"}, "period": {"day"}, "date": {"today"}}, []string{xssScript}},
		{"visitor log", url.Values{"method": {"Live.getLastVisitsDetails"}, "idSite": {"1"}}, []string{xssScript, pageURL}},
		{"unknown method", url.Values{"method": {xssScript}}, []string{xssScript}},
	}
	for _, c := range calls {
		t.Run("JSON "+c.name, func(t *testing.T) {
			a := api("json", cloneValues(c.params))
			noRawPayload(t, a)
			var v any
			if err := json.Unmarshal([]byte(a.body), &v); err != nil {
				t.Fatalf("%v: %.300q", err, a.body)
			}
			strs := jsonStrings(v)
			for _, w := range c.want {
				if !containsString(strs, w) {
					t.Errorf("%q not among the answer's strings: %.500q", w, a.body)
				}
			}
		})
		t.Run("XML "+c.name, func(t *testing.T) {
			a := api("xml", cloneValues(c.params))
			noRawPayload(t, a)
			strs, err := xmlStrings(a.body)
			if err != nil {
				t.Fatalf("%v: %.300q", err, a.body)
			}
			for _, w := range c.want {
				if !containsString(strs, w) {
					t.Errorf("%q not among the answer's text and attributes: %.500q", w, a.body)
				}
			}
		})
		t.Run("CSV "+c.name, func(t *testing.T) {
			a := api("csv", cloneValues(c.params))
			if ct := a.header.Get("Content-Type"); strings.Contains(ct, "html") || a.header.Get("X-Content-Type-Options") != "nosniff" {
				t.Errorf("CSV answer with Content-Type %q, X-Content-Type-Options %q", ct, a.header.Get("X-Content-Type-Options"))
			}
		})
	}
	native := func(path string) response {
		return r.do(t, request{method: "GET", path: path, header: map[string]string{"Authorization": "Bearer " + token}})
	}
	for _, c := range []struct{ path, want string }{
		{"/api/v1/tokens", "Token " + xssScript + xssAttr},
		{"/api/v1/audit", "site:" + xssScript},
		{"/api/v1/audit?format=ndjson", "site:" + xssScript},
	} {
		t.Run("native "+c.path, func(t *testing.T) {
			a := native(c.path)
			noRawPayload(t, a)
			var strs []string
			dec := json.NewDecoder(strings.NewReader(a.body))
			for dec.More() {
				var v any
				if err := dec.Decode(&v); err != nil {
					t.Fatalf("%v: %.300q", err, a.body)
				}
				strs = append(strs, jsonStrings(v)...)
			}
			if !containsString(strs, c.want) {
				t.Errorf("%q not in %.500q", c.want, a.body)
			}
		})
	}
	t.Run("native audit CSV", func(t *testing.T) {
		a := native("/api/v1/audit?format=csv")
		if ct := a.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") || a.header.Get("X-Content-Type-Options") != "nosniff" ||
			!strings.HasPrefix(a.header.Get("Content-Disposition"), "attachment") {
			t.Errorf("CSV export served as %q, %v", ct, a.header)
		}
	})
	r.log.check(t)
}

// escapeFragment escapes a page fragment the way the page's template escapes what it inserts:
// the markup around a payload (value=", <td>) stays, the payload is escaped.
func escapeFragment(s string) string {
	for _, p := range payloads {
		s = strings.ReplaceAll(s, p, "\x00"+p+"\x00")
	}
	parts := strings.Split(s, "\x00")
	for i, part := range parts {
		for _, p := range payloads {
			if part == p {
				parts[i] = template.HTMLEscapeString(p)
			}
		}
	}
	return strings.Join(parts, "")
}

func assertEscapedHTMLFragments(t *testing.T, page string, a response, fragments []string) {
	t.Helper()
	assertEscapedHTML(t, page, a)
	for _, f := range fragments {
		if !strings.Contains(a.body, f) {
			t.Errorf("%s does not contain %q:\n%s", page, f, a.body)
		}
	}
}

func noRawPayload(t *testing.T, a response) {
	t.Helper()
	for _, p := range payloads {
		if strings.Contains(a.body, p) || strings.Contains(a.body, "<img") || strings.Contains(a.body, "<script") {
			t.Errorf("%q appears raw in a %q answer: %.500q", p, a.header.Get("Content-Type"), a.body)
		}
	}
}

func setupToken(t *testing.T, r *pagesRig) string {
	t.Helper()
	tok, err := web.NewSetupToken(context.Background(), r.meta, r.now)
	if err != nil || tok == "" {
		t.Fatalf("setup token %q: %v", tok, err)
	}
	return tok
}

// jsonStrings lists every string of a decoded JSON value, keys included.
func jsonStrings(v any) []string {
	var out []string
	switch x := v.(type) {
	case string:
		out = append(out, x)
	case []any:
		for _, e := range x {
			out = append(out, jsonStrings(e)...)
		}
	case map[string]any:
		for k, e := range x {
			out = append(out, k)
			out = append(out, jsonStrings(e)...)
		}
	}
	return out
}

// xmlStrings lists the text and attribute values of an XML document.
func xmlStrings(doc string) ([]string, error) {
	var out []string
	dec := xml.NewDecoder(strings.NewReader(doc))
	for {
		tok, err := dec.Token()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return out, nil
			}
			return out, err
		}
		switch x := tok.(type) {
		case xml.CharData:
			if s := string(bytes.TrimSpace(x)); s != "" {
				out = append(out, s)
			}
		case xml.StartElement:
			for _, a := range x.Attr {
				out = append(out, a.Value)
			}
		}
	}
}

// containsString is true when want is one of strs or part of one.
func containsString(strs []string, want string) bool {
	for _, s := range strs {
		if strings.Contains(s, want) {
			return true
		}
	}
	return false
}

func cloneValues(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}
