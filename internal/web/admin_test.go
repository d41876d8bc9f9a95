package web_test

import (
	"context"
	"errors"
	"html"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"hearth/internal/api/matomo"
	"hearth/internal/auth"
	"hearth/internal/server"
	"hearth/internal/store"
	"hearth/internal/web"
)

// adminRig is dashRig with a site admin: admin1 administers site 1, which viewer views.
func adminRig(t *testing.T) (*pagesRig, map[string]map[string]string) {
	r, sess := dashRig(t)
	r.user(t, store.User{Login: "admin1"})
	if err := r.meta.SetRole(context.Background(), store.Grant{Login: "admin1", SiteID: 1, Name: "admin", Created: r.now}); err != nil {
		t.Fatal(err)
	}
	return r, map[string]map[string]string{
		"root":   {"hearth_session": sess["root"]},
		"viewer": {"hearth_session": sess["viewer"]},
		"admin1": {"hearth_session": r.session(t, "admin1")},
	}
}

func (r *pagesRig) get(t *testing.T, who map[string]string, path string) response {
	t.Helper()
	return r.do(t, request{method: http.MethodGet, path: path, cookies: who})
}

func (r *pagesRig) post(t *testing.T, who map[string]string, path string, form url.Values) response {
	t.Helper()
	return r.do(t, request{method: http.MethodPost, path: path, cookies: who, form: form, header: map[string]string{"Origin": origin}})
}

// auditOf lists the audit trail's entries of an action.
func (r *pagesRig) auditOf(t *testing.T, action string) []store.AuditEntry {
	t.Helper()
	var out []store.AuditEntry
	err := r.meta.AuditEntries(context.Background(), time.Time{}, time.Time{}, func(e store.AuditEntry) error {
		if e.Action == action {
			out = append(out, e)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// text is a page's text with tags dropped and entities decoded, for reading what it says.
func text(body string) string {
	return html.UnescapeString(regexp.MustCompile(`<[^>]*>`).ReplaceAllString(body, ""))
}

// preText is the decoded content of the <pre id=…> of a page.
func preText(t *testing.T, body, id string) string {
	t.Helper()
	m := regexp.MustCompile(`(?s)<pre id="` + id + `">(.*?)</pre>`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no <pre id=%q> on the page", id)
	}
	return html.UnescapeString(m[1])
}

func TestAdminPagesRenderForTheSuperuser(t *testing.T) {
	r, who := adminRig(t)
	for _, c := range []struct{ path, want string }{
		{"/admin/sites", "Zephyrine private clinic"},
		{"/admin/sites/1", "Tracking code"},
		{"/admin/users", "admin1"},
		{"/admin/tokens", "Create a token"},
		{"/admin/system", "Encryption at rest"},
	} {
		a := r.get(t, who["root"], c.path)
		if a.code != 200 || !strings.Contains(text(a.body), c.want) {
			t.Errorf("%s: %d, want 200 with %q: %s", c.path, a.code, c.want, a.body)
			continue
		}
		if strings.Contains(a.body, xss) {
			t.Errorf("%s: the site name reaches the page unescaped", c.path)
		}
		if !strings.Contains(a.body, `aria-current="page">Administration</a>`) {
			t.Errorf("%s: the Administration section is not marked current", c.path)
		}
		// The pages of one site's settings show no date picker or segment bar: nothing there
		// depends on a period.
		if strings.Contains(a.body, `class="presets"`) || strings.Contains(a.body, `id="site-switch"`) {
			t.Errorf("%s: shows a site's date picker or switcher", c.path)
		}
	}
	if a := r.get(t, who["root"], "/admin"); a.code != http.StatusSeeOther || a.header.Get("Location") != "/admin/sites" {
		t.Errorf("/admin: %d %s", a.code, a.header.Get("Location"))
	}
	r.log.check(t)
}

func TestAdminPagesRefuseAViewer(t *testing.T) {
	r, who := adminRig(t)
	v := who["viewer"]
	for path, want := range map[string]int{"/admin/sites": 403, "/admin/sites/1": 403, "/admin/sites/2": 404, "/admin/sites/999": 404,
		"/admin/users": 403, "/admin/system": 403} {
		if a := r.get(t, v, path); a.code != want || strings.Contains(a.body, "Zephyrine") {
			t.Errorf("viewer GET %s: %d, want %d", path, a.code, want)
		}
	}
	posts := []struct {
		path string
		form url.Values
		want int
	}{
		{"/admin/sites", url.Values{"action": {"add"}, "siteName": {"Mine"}, "urls": {"https://mine.example"}, "timezone": {"UTC"}, "currency": {"EUR"}}, 403},
		{"/admin/sites/1", url.Values{"action": {"save"}, "siteName": {"Taken over"}, "urls": {"https://shop.example"}, "timezone": {"UTC"}, "currency": {"EUR"}}, 403},
		{"/admin/sites/2", url.Values{"action": {"save"}, "siteName": {"Taken over"}, "urls": {"https://x.example"}, "timezone": {"UTC"}, "currency": {"EUR"}}, 404},
		{"/admin/users", url.Values{"action": {"grant"}, "userLogin": {"viewer"}, "idSites": {"1"}, "access": {"admin"}, "passwordConfirmation": {password("viewer")}}, 403},
		{"/admin/users", url.Values{"action": {"account"}, "userLogin": {"root"}, "op": {"disable"}, "passwordConfirmation": {password("viewer")}}, 403},
	}
	for _, c := range posts {
		if a := r.post(t, v, c.path, c.form); a.code != c.want {
			t.Errorf("viewer POST %s %s: %d, want %d", c.path, c.form.Get("action"), a.code, c.want)
		}
	}
	sites, _ := r.meta.Sites(context.Background())
	if len(sites) != 2 || sites[0].Name != "Shop "+xss || sites[1].Name != "Zephyrine private clinic" {
		t.Errorf("the viewer's POSTs changed the sites: %+v", sites)
	}
	if u, _ := r.meta.User(context.Background(), "root"); u.Disabled {
		t.Error("the viewer disabled root")
	}
	// Tokens are every user's own: the viewer sees theirs and no one else's.
	if _, _, err := r.auth.NewToken(context.Background(), "root", "root's deploy key", time.Time{}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := r.auth.NewToken(context.Background(), "viewer", "viewer's script", time.Time{}); err != nil {
		t.Fatal(err)
	}
	a := r.get(t, v, "/admin/tokens")
	if a.code != 200 || !strings.Contains(text(a.body), "viewer's script") || strings.Contains(a.body, "deploy key") {
		t.Errorf("viewer's tokens page: %d %s", a.code, a.body)
	}
	// The tabs of pages the viewer may not see are not offered.
	if strings.Contains(a.body, `href="/admin/users"`) || strings.Contains(a.body, `href="/admin/system"`) {
		t.Error("the viewer is offered the users or system page")
	}
	r.log.check(t)
}

func TestSiteAdminSeesOnlyTheirSites(t *testing.T) {
	r, who := adminRig(t)
	a1 := who["admin1"]
	list := r.get(t, a1, "/admin/sites")
	if list.code != 200 || !strings.Contains(list.body, `href="/admin/sites/1"`) || strings.Contains(list.body, "Zephyrine") ||
		strings.Contains(list.body, `href="/admin/sites/2"`) {
		t.Fatalf("site admin's sites: %d %s", list.code, list.body)
	}
	if strings.Contains(list.body, `name="siteName"`) {
		t.Error("a site admin is offered the add-site form (superusers only)")
	}
	if a := r.get(t, a1, "/admin/sites/1"); a.code != 200 || !strings.Contains(a.body, "https://shop.example</textarea>") {
		t.Errorf("site admin's settings: %d", a.code)
	}
	other := r.get(t, a1, "/admin/sites/2")
	none := r.get(t, a1, "/admin/sites/999")
	if other.code != 404 || none.code != 404 || strip(other.body) != strip(none.body) {
		t.Errorf("site 2 for its non-admin: %d, a missing site: %d", other.code, none.code)
	}
	users := r.get(t, a1, "/admin/users")
	if users.code != 200 {
		t.Fatalf("site admin's users: %d %s", users.code, users.body)
	}
	body := text(users.body)
	if !strings.Contains(body, "viewer") || strings.Contains(body, "root") || strings.Contains(body, "Zephyrine") {
		t.Errorf("site admin's users page shows %q", body)
	}
	// Their forms grant access on their own site only, and they manage no account.
	if strings.Contains(users.body, `<option value="2"`) || strings.Contains(users.body, `value="account"`) || strings.Contains(users.body, `value="adduser"`) {
		t.Error("the site admin is offered site 2 or the superuser's forms")
	}
	if a := r.get(t, a1, "/admin/system"); a.code != 403 {
		t.Errorf("site admin's system page: %d", a.code)
	}
	// Adding a site is the superuser's: the API's refusal is shown beside the form.
	add := r.post(t, a1, "/admin/sites", url.Values{"action": {"add"}, "siteName": {"Mine"}, "urls": {"https://mine.example"}, "timezone": {"UTC"}, "currency": {"EUR"}})
	if add.code != 403 || !strings.Contains(text(add.body), "superuser") {
		t.Errorf("site admin adding a site: %d %s", add.code, add.body)
	}
	// Granting on their site works; on site 2 the API refuses.
	grant := func(site string) response {
		return r.post(t, a1, "/admin/users", url.Values{"action": {"grant"}, "userLogin": {"viewer"}, "idSites": {site}, "access": {"write"},
			"passwordConfirmation": {password("admin1")}})
	}
	if a := grant("1"); a.code != http.StatusSeeOther {
		t.Errorf("site admin granting on site 1: %d %s", a.code, text(a.body))
	}
	if a := grant("2"); a.code != 403 || strings.Contains(a.body, "Zephyrine") {
		t.Errorf("site admin granting on site 2: %d", a.code)
	}
	rows := r.apiJSON(t, "root", url.Values{"method": {"UsersManager.getUsersPlusRole"}, "idSite": {"2"}}).([]any)
	for _, row := range rows {
		if row.(map[string]any)["login"] == "viewer" {
			t.Error("viewer got a role on site 2")
		}
	}
	r.log.check(t)
}

func TestAddSiteThroughTheForm(t *testing.T) {
	r, who := adminRig(t)
	root := who["root"]
	form := url.Values{"action": {"add"}, "siteName": {"New " + xssAttr}, "urls": {"https://new.example/" + xssAttr + "\r\nhttps://www.new.example\r\n"},
		"timezone": {"Mars/Olympus"}, "currency": {"usd"}, "ecommerce": {"1"}}
	bad := r.post(t, root, "/admin/sites", form)
	if bad.code != 400 || !strings.Contains(text(bad.body), `The timezone "Mars/Olympus" is not valid.`) {
		t.Fatalf("bad timezone: %d %s", bad.code, text(bad.body))
	}
	// The input is kept, escaped.
	if !strings.Contains(bad.body, `value="Mars/Olympus"`) || !strings.Contains(bad.body, `value="New &#34;&gt;&lt;img src=x onerror=alert(1)&gt;"`) ||
		strings.Contains(bad.body, xssAttr) || !strings.Contains(bad.body, " checked> ") {
		t.Errorf("the refused form lost or did not escape its input: %s", bad.body)
	}
	if sites, _ := r.meta.Sites(context.Background()); len(sites) != 2 {
		t.Fatalf("a refused site was added: %d sites", len(sites))
	}
	form.Set("timezone", "Europe/Berlin")
	ok := r.post(t, root, "/admin/sites", form)
	if ok.code != http.StatusSeeOther || ok.header.Get("Location") != "/admin/sites/3?done=added" {
		t.Fatalf("add: %d %s %s", ok.code, ok.header.Get("Location"), text(ok.body))
	}
	site := r.apiJSON(t, "root", url.Values{"method": {"SitesManager.getSiteFromId"}, "idSite": {"3"}}).(map[string]any)
	for k, want := range map[string]any{"name": "New " + xssAttr, "main_url": "https://new.example/" + xssAttr, "timezone": "Europe/Berlin", "currency": "USD",
		"ecommerce": float64(1)} {
		if site[k] != want {
			t.Errorf("new site's %s = %v, want %v", k, site[k], want)
		}
	}
	page := r.get(t, root, "/admin/sites/3?done=added")
	if page.code != 200 || !strings.Contains(page.body, "Site added.") || strings.Contains(page.body, xssAttr) ||
		!strings.Contains(page.body, "https://new.example/&#34;&gt;&lt;img src=x onerror=alert(1)&gt;\nhttps://www.new.example</textarea>") {
		t.Errorf("new site's page: %d %s", page.code, page.body)
	}
	for _, path := range []string{"/admin/sites", "/"} {
		if a := r.get(t, root, path); strings.Contains(a.body, xssAttr) || !strings.Contains(a.body, "https://new.example/&#34;&gt;&lt;img") {
			t.Errorf("%s: the new site's address is not shown escaped", path)
		}
	}
	// No address at all is refused before the API.
	if a := r.post(t, root, "/admin/sites", url.Values{"action": {"add"}, "siteName": {"Bare"}, "urls": {" \n "}, "timezone": {"UTC"}, "currency": {"EUR"}}); a.code != 400 ||
		!strings.Contains(text(a.body), "at least one address") {
		t.Errorf("a site without address: %d", a.code)
	}
	if got := r.auditOf(t, "site.create"); len(got) != 1 || got[0].Actor != "root" || got[0].Target != "site:3" {
		t.Errorf("site.create audit: %+v", got)
	}
	r.log.check(t)
}

func TestFirstSiteFromTheSitesList(t *testing.T) {
	r := newPagesRig(t)
	r.user(t, store.User{Login: "root", Superuser: true})
	root := map[string]string{"hearth_session": r.session(t, "root")}
	home := r.get(t, root, "/")
	if home.code != 200 || !strings.Contains(home.body, `<input type="hidden" name="from" value="home">`) {
		t.Fatalf("sites list before the first site: %d %s", home.code, home.body)
	}
	form := url.Values{"action": {"add"}, "from": {"home"}, "siteName": {"Blog"}, "urls": {"https://blog.example"}, "timezone": {"Nowhere/City"}, "currency": {"EUR"}}
	bad := r.post(t, root, "/admin/sites", form)
	if bad.code != 400 || !strings.Contains(text(bad.body), "Add your first site") || !strings.Contains(text(bad.body), `The timezone "Nowhere/City" is not valid.`) ||
		!strings.Contains(bad.body, `value="Blog"`) || !strings.Contains(bad.body, `name="from" value="home"`) {
		t.Fatalf("first site refused: %d %s", bad.code, text(bad.body))
	}
	form.Set("timezone", "UTC")
	ok := r.post(t, root, "/admin/sites", form)
	if ok.code != http.StatusSeeOther || ok.header.Get("Location") != "/admin/sites/1?done=added" {
		t.Fatalf("first site: %d %s", ok.code, ok.header.Get("Location"))
	}
	code := r.get(t, root, ok.header.Get("Location"))
	if code.code != 200 || !strings.Contains(preText(t, code.body, "code-hearth"), "data-site=\"1\"") {
		t.Errorf("the first site's tracking code: %d", code.code)
	}
	if list := r.get(t, root, "/"); !strings.Contains(list.body, `href="/site/1?`) {
		t.Errorf("the sites list does not show the new site")
	}
	r.log.check(t)
}

// settingsForm is site 1's settings as the form sends them, with changes.
func settingsForm(over map[string]string) url.Values {
	v := url.Values{"action": {"save"}, "siteName": {"Shop " + xss}, "urls": {"https://shop.example"}, "timezone": {"UTC"}, "currency": {"EUR"},
		"siteSearch": {"1"}, "geoPrecision": {"city"}}
	for k, x := range over {
		if x == "" {
			v.Del(k)
		} else {
			v.Set(k, x)
		}
	}
	return v
}

func TestSettingsSaveThroughTheAPI(t *testing.T) {
	r, who := adminRig(t)
	a1 := who["admin1"]
	save := r.post(t, a1, "/admin/sites/1", settingsForm(map[string]string{"keepEmailAddresses": "1", "excludedIps": "192.0.2.0/24\r\n198.51.100.7",
		"excludedUserAgents": "Monitor, v2\nuptime-bot", "excludedQueryParameters": "sessionid", "searchKeywordParameters": "term", "geoPrecision": "country",
		"ecommerce": "1", "urls": "https://shop.example\nhttps://www.shop.example"}))
	if save.code != http.StatusSeeOther || save.header.Get("Location") != "/admin/sites/1?done=saved" {
		t.Fatalf("save: %d %s", save.code, text(save.body))
	}
	site := r.apiJSON(t, "root", url.Values{"method": {"SitesManager.getSiteFromId"}, "idSite": {"1"}}).(map[string]any)
	// A user agent with a comma stays one entry: sent one a line, not as a comma list.
	for k, want := range map[string]any{"keep_email_addresses": float64(1), "excluded_ips": "192.0.2.0/24,198.51.100.7",
		"excluded_user_agents": "Monitor, v2,uptime-bot", "excluded_parameters": "sessionid", "sitesearch_keyword_parameters": "term", "ecommerce": float64(1),
		"name": "Shop " + xss} {
		if site[k] != want {
			t.Errorf("after save %s = %#v, want %#v", k, site[k], want)
		}
	}
	stored, _ := r.meta.Site(context.Background(), 1)
	if stored.GeoPrecision != "country" || len(stored.ExcludedUserAgents) != 2 || len(stored.URLs) != 2 {
		t.Errorf("stored site: geo %q, agents %q, urls %q", stored.GeoPrecision, stored.ExcludedUserAgents, stored.URLs)
	}
	changes := r.auditOf(t, "setting.change")
	if len(changes) != 1 || changes[0].Actor != "admin1" || changes[0].Target != "site:1" || !strings.Contains(changes[0].Details, `"value":"kept"`) {
		t.Errorf("keepEmailAddresses audit: %+v", changes)
	}
	if got := r.auditOf(t, "site.update"); len(got) != 1 || got[0].Actor != "admin1" {
		t.Errorf("site.update audit: %+v", got)
	}
	// The page shows what was saved; unticking and emptying lists clears them.
	page := r.get(t, a1, "/admin/sites/1?done=saved")
	if !strings.Contains(page.body, "Settings saved.") || !strings.Contains(page.body, "192.0.2.0/24\n198.51.100.7</textarea>") ||
		!strings.Contains(page.body, `<option value="country" selected>`) {
		t.Errorf("settings page after the save: %s", page.body)
	}
	if a := r.post(t, a1, "/admin/sites/1", settingsForm(nil)); a.code != http.StatusSeeOther {
		t.Fatalf("second save: %d %s", a.code, text(a.body))
	}
	site = r.apiJSON(t, "root", url.Values{"method": {"SitesManager.getSiteFromId"}, "idSite": {"1"}}).(map[string]any)
	if site["keep_email_addresses"] != float64(0) || site["excluded_ips"] != "" || site["ecommerce"] != float64(0) {
		t.Errorf("after clearing: %v", site)
	}
	if got := r.auditOf(t, "setting.change"); len(got) != 2 || !strings.Contains(got[1].Details, `"value":"redacted"`) {
		t.Errorf("second keepEmailAddresses audit: %+v", got)
	}
	// A bad rule: the API's message beside the form, the input kept, nothing changed.
	bad := r.post(t, a1, "/admin/sites/1", settingsForm(map[string]string{"excludedIps": "1.*.3.4", "siteName": "Renamed"}))
	if bad.code != 400 || !strings.Contains(text(bad.body), "invalid IP rule") || !strings.Contains(bad.body, `value="Renamed"`) ||
		!strings.Contains(bad.body, "1.*.3.4</textarea>") {
		t.Errorf("bad rule: %d %s", bad.code, text(bad.body))
	}
	if s, _ := r.meta.Site(context.Background(), 1); s.Name != "Shop "+xss {
		t.Errorf("a refused save renamed the site to %q", s.Name)
	}
	r.log.check(t)
}

func TestTrackingCodeEqualsTheAPIs(t *testing.T) {
	r, who := adminRig(t)
	page := r.get(t, who["admin1"], "/admin/sites/1")
	if page.code != 200 {
		t.Fatalf("%d %s", page.code, page.body)
	}
	for id, form := range map[string]string{"code-hearth": "hearth", "code-matomo": "matomo"} {
		want := r.apiJSON(t, "root", url.Values{"method": {"SitesManager.getJavascriptTag"}, "idSite": {"1"}, "piwikUrl": {origin}, "form": {form}}).(map[string]any)["value"]
		if got := preText(t, page.body, id); got != want {
			t.Errorf("%s on the page:\n%s\nAPI:\n%s", id, got, want)
		}
		if !strings.Contains(page.body, `<button type="button" class="small" data-copy="`+id+`" data-copied="Copied">`) {
			t.Errorf("no copy button for %s", id)
		}
	}
	// The code sends to the address the page was reached at (no public URL configured).
	if !strings.Contains(preText(t, page.body, "code-hearth"), origin+"/") {
		t.Errorf("Hearth's snippet does not point at %s: %s", origin, preText(t, page.body, "code-hearth"))
	}
	r.log.check(t)
}

func TestGrantsThroughTheUsersPage(t *testing.T) {
	r, who := adminRig(t)
	root := who["root"]
	until := r.now.AddDate(0, 0, 10).Format(time.DateOnly)
	grant := url.Values{"action": {"grant"}, "userLogin": {"viewer"}, "idSites": {"2"}, "access": {"write"}, "expiresAt": {until},
		"passwordConfirmation": {"not my password"}}
	bad := r.post(t, root, "/admin/users", grant)
	if bad.code != 403 || !strings.Contains(text(bad.body), "The password confirmation is not correct.") || !strings.Contains(bad.body, `value="`+until+`"`) {
		t.Fatalf("grant with a wrong password: %d %s", bad.code, text(bad.body))
	}
	grant.Set("passwordConfirmation", password("root"))
	if a := r.post(t, root, "/admin/users", grant); a.code != http.StatusSeeOther || a.header.Get("Location") != "/admin/users?done=granted&login=viewer#users" {
		t.Fatalf("grant: %d %s %s", a.code, a.header.Get("Location"), text(a.body))
	}
	roleOf := func(site, login string) map[string]any {
		for _, row := range r.apiJSON(t, "root", url.Values{"method": {"UsersManager.getUsersPlusRole"}, "idSite": {site}}).([]any) {
			if m := row.(map[string]any); m["login"] == login {
				return m
			}
		}
		return nil
	}
	if m := roleOf("2", "viewer"); m == nil || m["role"] != "write" {
		t.Fatalf("viewer on site 2: %v", m)
	}
	raw := r.post(t, root, "/admin/users", url.Values{"action": {"raw"}, "userLogin": {"viewer"}, "idSites": {"1"}, "op": {"add"}, "expiresAt": {until}})
	if raw.code != http.StatusSeeOther {
		t.Fatalf("view_raw: %d %s", raw.code, text(raw.body))
	}
	if m := roleOf("1", "viewer"); m == nil || len(m["capabilities"].([]any)) != 1 || m["capabilities"].([]any)[0] != "view_raw" {
		t.Fatalf("viewer's capabilities on site 1: %v", m)
	}
	// Both end on the chosen day, shown on the page, and recorded with it.
	page := r.get(t, root, "/admin/users?done=granted&login=viewer")
	body := text(page.body)
	day := r.now.AddDate(0, 0, 10)
	shown := "until " + day.Format("2 Jan 2006") + " 00:00 UTC" // English month abbreviations are Go's
	if !strings.Contains(body, "Access changed.") || strings.Count(body, shown) != 2 || !strings.Contains(body, "Zephyrine private clinic: write ("+shown+")") {
		t.Errorf("users page lacks the two grants until %q: %s", shown, body)
	}
	if got := r.auditOf(t, "access.grant"); len(got) != 1 || got[0].Target != "user:viewer site:2" || !strings.Contains(got[0].Details, until+"T00:00:00Z") {
		t.Errorf("access.grant audit: %+v", got)
	}
	if got := r.auditOf(t, "capability.add"); len(got) != 1 || got[0].Target != "user:viewer site:1" || !strings.Contains(got[0].Details, "view_raw") {
		t.Errorf("capability.add audit: %+v", got)
	}
	// Taking view_raw away.
	if a := r.post(t, root, "/admin/users", url.Values{"action": {"raw"}, "userLogin": {"viewer"}, "idSites": {"1"}, "op": {"remove"}}); a.code != http.StatusSeeOther {
		t.Fatalf("remove view_raw: %d", a.code)
	}
	if m := roleOf("1", "viewer"); len(m["capabilities"].([]any)) != 0 {
		t.Errorf("view_raw stays: %v", m)
	}
	r.log.check(t)
}

func TestAccountActionsThroughTheUsersPage(t *testing.T) {
	r, who := adminRig(t)
	root := who["root"]
	ctx := context.Background()
	add := url.Values{"action": {"adduser"}, "userLogin": {"alice"}, "email": {"alice@example.org"}, "password": {password("al1ce")},
		"password2": {password("al1ce")}, "initialIdSite": {"1"}, "passwordConfirmation": {password("root")}}
	if a := r.post(t, root, "/admin/users", add); a.code != http.StatusSeeOther {
		t.Fatalf("add user: %d %s", a.code, text(a.body))
	}
	u := r.apiJSON(t, "root", url.Values{"method": {"UsersManager.getUser"}, "userLogin": {"alice"}}).(map[string]any)
	if u["email"] != "alice@example.org" || u["disabled"] != float64(0) {
		t.Fatalf("alice: %v", u)
	}
	add.Set("password2", "something else entirely")
	if a := r.post(t, root, "/admin/users", add); a.code != 400 || !strings.Contains(text(a.body), "do not match") || !strings.Contains(a.body, `value="alice@example.org"`) {
		t.Errorf("mismatched passwords: %d", a.code)
	}
	account := func(op string, pw string) response {
		return r.post(t, root, "/admin/users", url.Values{"action": {"account"}, "userLogin": {"alice"}, "op": {op}, "passwordConfirmation": {pw}})
	}
	alice := r.session(t, "alice")
	if a := account("disable", password("root")); a.code != http.StatusSeeOther || a.header.Get("Location") != "/admin/users?done=disabled&login=alice#users" {
		t.Fatalf("disable: %d %s", a.code, text(a.body))
	}
	if got, _ := r.meta.User(ctx, "alice"); !got.Disabled {
		t.Error("alice is not disabled")
	}
	if a := r.get(t, map[string]string{"hearth_session": alice}, "/admin/tokens"); a.code != http.StatusSeeOther {
		t.Errorf("alice's session outlived the disabling: %d", a.code)
	}
	if got := r.auditOf(t, "user.disable"); len(got) != 1 || got[0].Actor != "root" || got[0].Target != "user:alice" {
		t.Errorf("user.disable audit: %+v", got)
	}
	if !strings.Contains(text(r.get(t, root, "/admin/users").body), "disabled") {
		t.Error("the users page does not show alice disabled")
	}
	if a := account("enable", ""); a.code != 400 || !strings.Contains(text(a.body), "confirm your password") {
		t.Errorf("enable without password: %d %s", a.code, text(a.body))
	}
	if a := account("enable", password("root")); a.code != http.StatusSeeOther {
		t.Fatalf("enable: %d", a.code)
	}
	if got := r.auditOf(t, "user.enable"); len(got) != 1 {
		t.Errorf("user.enable audit: %+v", got)
	}
	// Locked after failed sign-ins, then unlocked.
	for i := 0; i <= auth.MaxLoginFailures; i++ {
		if err := r.meta.RecordAuthFailure(ctx, r.now.Add(-time.Minute), []byte("some client"), "alice"); err != nil {
			t.Fatal(err)
		}
	}
	if body := text(r.get(t, root, "/admin/users").body); !strings.Contains(body, "locked (61 failed sign-ins)") {
		t.Errorf("alice's lock is not shown: %s", body)
	}
	if a := account("unlock", ""); a.code != http.StatusSeeOther {
		t.Fatalf("unlock: %d %s", a.code, text(a.body))
	}
	if n, locked, _ := r.auth.LoginFailures(ctx, "alice"); n != 0 || locked {
		t.Errorf("after the unlock: %d failures, locked %v", n, locked)
	}
	if got := r.auditOf(t, "auth.unlock"); len(got) != 1 || got[0].Actor != "root" || got[0].Target != "user:alice" {
		t.Errorf("auth.unlock audit: %+v", got)
	}
	// Two-factor authentication reset.
	if err := r.meta.SetTOTP(ctx, store.TOTP{Login: "alice", SecretEnc: []byte("sealed"), Enabled: true}); err != nil {
		t.Fatal(err)
	}
	if a := account("reset2fa", password("root")); a.code != http.StatusSeeOther {
		t.Fatalf("reset 2FA: %d %s", a.code, text(a.body))
	}
	if on, _ := r.auth.Has2FA(ctx, "alice"); on {
		t.Error("alice keeps two-factor authentication")
	}
	if got := r.auditOf(t, "2fa.disable"); len(got) != 1 || got[0].Actor != "root" || got[0].Target != "user:alice" {
		t.Errorf("2fa.disable audit: %+v", got)
	}
	if a := account("reset2fa", password("root")); a.code != 400 || !strings.Contains(text(a.body), "has no two-factor authentication") {
		t.Errorf("second reset: %d %s", a.code, text(a.body))
	}
	r.log.check(t)
}

func TestLoginsAreEscaped(t *testing.T) {
	r, who := adminRig(t)
	// A login from before the login rules, straight in the store.
	r.user(t, store.User{Login: "old" + xssAttr, Email: "old@example.org"})
	if err := r.meta.SetRole(context.Background(), store.Grant{Login: "old" + xssAttr, SiteID: 1, Name: "view", Created: r.now}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []map[string]string{who["root"], who["admin1"]} {
		a := r.get(t, c, "/admin/users")
		if a.code != 200 || strings.Contains(a.body, xssAttr) || strings.Contains(a.body, xss) || !strings.Contains(a.body, "old&#34;&gt;&lt;img") {
			t.Errorf("users page: %d, escaped: %v", a.code, !strings.Contains(a.body, xssAttr))
		}
	}
	r.log.check(t)
}

func TestTokensPage(t *testing.T) {
	r, who := adminRig(t)
	root, viewer := who["root"], who["viewer"]
	create := url.Values{"action": {"create"}, "description": {"CI " + xssAttr}, "readOnly": {"1"}, "passwordConfirmation": {"wrong"}}
	bad := r.post(t, root, "/admin/tokens", create)
	if bad.code != 403 || !strings.Contains(text(bad.body), "not correct") || strings.Contains(bad.body, xssAttr) {
		t.Fatalf("create with a wrong password: %d %s", bad.code, text(bad.body))
	}
	create.Set("passwordConfirmation", password("root"))
	made := r.post(t, root, "/admin/tokens", create)
	if made.code != 200 {
		t.Fatalf("create: %d %s", made.code, text(made.body))
	}
	tok := preText(t, made.body, "new-token")
	if !regexp.MustCompile(`^[0-9a-f]{32,}$`).MatchString(tok) {
		t.Fatalf("the new token is %q", tok)
	}
	if made.header.Get("Cache-Control") != "no-store" {
		t.Errorf("the page with the token may be cached: %q", made.header.Get("Cache-Control"))
	}
	// The token works, read-only, and is shown only once.
	p := url.Values{"module": {"API"}, "format": {"json"}, "method": {"SitesManager.getSiteFromId"}, "idSite": {"2"}, "token_auth": {tok}}
	if a := r.do(t, request{method: http.MethodPost, path: "/index.php", form: p}); a.code != 200 || !strings.Contains(a.body, "Zephyrine") {
		t.Errorf("the new token does not read: %d %s", a.code, a.body)
	}
	list := r.get(t, root, "/admin/tokens")
	if strings.Contains(list.body, tok) || strings.Contains(list.body, xssAttr) || !strings.Contains(list.body, "CI &#34;&gt;&lt;img") ||
		!strings.Contains(text(list.body), "read-only") {
		t.Errorf("token list: %s", text(list.body))
	}
	if got := r.auditOf(t, "token.create"); len(got) != 1 || got[0].Actor != "root" {
		t.Errorf("token.create audit: %+v", got)
	}
	rootTokens, _ := r.meta.Tokens(context.Background(), "root")
	id := rootTokens[0].ID
	// The viewer cannot revoke it, and is told so without learning more than a missing one.
	if a := r.post(t, viewer, "/admin/tokens", url.Values{"action": {"revoke"}, "idToken": {itoa(id)}}); a.code != 403 {
		t.Errorf("viewer revoking root's token: %d", a.code)
	}
	if a := r.post(t, root, "/admin/tokens", url.Values{"action": {"revoke"}, "idToken": {itoa(id)}}); a.code != http.StatusSeeOther ||
		a.header.Get("Location") != "/admin/tokens?done=revoked" {
		t.Fatalf("revoke: %d %s", a.code, text(a.body))
	}
	if left, _ := r.meta.Tokens(context.Background(), "root"); len(left) != 0 {
		t.Errorf("tokens after the revocation: %v", left)
	}
	if a := r.do(t, request{method: http.MethodPost, path: "/index.php", form: p}); a.code != 401 {
		t.Errorf("a revoked token still reads: %d", a.code)
	}
	if got := r.auditOf(t, "token.revoke"); len(got) != 1 || got[0].Actor != "root" || got[0].Target != "token:"+itoa(id) {
		t.Errorf("token.revoke audit: %+v", got)
	}
	r.log.check(t)
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func TestAdminBadInput(t *testing.T) {
	r, who := adminRig(t)
	root := who["root"]
	for _, path := range []string{"/admin/sites/abc", "/admin/sites/0", "/admin/sites/-1", "/admin/sites/999", "/admin/sites/1/more"} {
		if a := r.get(t, root, path); a.code != 404 || strings.Contains(a.body, "goroutine") {
			t.Errorf("%s: %d, want 404", path, a.code)
		}
	}
	for _, path := range []string{"/admin/sites", "/admin/sites/1", "/admin/users", "/admin/tokens"} {
		if a := r.post(t, root, path, url.Values{"action": {"explode"}}); a.code != 400 {
			t.Errorf("unknown action on %s: %d", path, a.code)
		}
	}
	if a := r.do(t, request{method: http.MethodPut, path: "/admin/users", cookies: root, header: map[string]string{"Origin": origin}}); a.code != 405 {
		t.Errorf("PUT /admin/users: %d", a.code)
	}
	if a := r.post(t, root, "/admin/system", url.Values{"action": {"x"}}); a.code != 405 {
		t.Errorf("POST /admin/system: %d", a.code)
	}
	// A cross-origin form post is refused before it reaches the page.
	if a := r.do(t, request{method: http.MethodPost, path: "/admin/sites", cookies: root, header: map[string]string{"Origin": "https://evil.example"},
		form: url.Values{"action": {"add"}, "siteName": {"Evil"}, "urls": {"https://evil.example"}}}); a.code != 403 {
		t.Errorf("cross-origin add: %d", a.code)
	}
	if a := r.get(t, nil, "/admin/sites"); a.code != http.StatusSeeOther || a.header.Get("Location") != "/login?next=%2Fadmin%2Fsites" {
		t.Errorf("signed out: %d %s", a.code, a.header.Get("Location"))
	}
	r.log.check(t)
}

// systemPages serves the rig's stores behind pages that know the system's state.
// They started ago before the rig's time.
func (r *pagesRig) systemPages(t *testing.T, info web.SystemInfo, ago time.Duration) http.Handler {
	t.Helper()
	started := false
	clock := func() time.Time {
		if !started {
			return r.now.Add(-ago)
		}
		return r.now
	}
	api := matomo.New(matomo.Options{Meta: r.meta, Events: r.events, Auth: r.auth, Audit: r.trail, Now: func() time.Time { return r.now }})
	pages, err := web.New(web.Options{Meta: r.meta, Audit: r.trail, Now: clock, Reports: api, Version: "9.8.7-test", System: info,
		Accounts: web.Accounts{Auth: r.auth, Trail: r.trail, Idle: time.Hour, Lifetime: 24 * time.Hour}})
	if err != nil {
		t.Fatal(err)
	}
	started = true
	return server.Handler(server.Options{API: api, Pages: pages.Handler(), Tracking: http.NotFoundHandler()})
}

func TestSystemPage(t *testing.T) {
	r, who := adminRig(t)
	dir := t.TempDir()
	for name, size := range map[string]int{"meta.db": 4096, "meta.db-wal": 1024, "events.duckdb": 3 << 20, "spool/000001.log": 2048, "spool/000002.log": 2048, "audit.head": 40} {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), make([]byte, size), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	h := r.systemPages(t, web.SystemInfo{DataDir: dir, MetaEncrypted: true, VolumeEncryption: "unknown", Ready: []web.Check{
		{Name: "metadata store", Check: r.meta.Ping},
		{Name: "ingest", Check: func(context.Context) error { return errors.New("spool disk full at /secret/path") }},
	}}, 26*time.Hour+5*time.Minute)
	r.h = h
	a := r.get(t, who["root"], "/admin/system")
	if a.code != 200 {
		t.Fatalf("%d %s", a.code, a.body)
	}
	body := text(a.body)
	// Sizes by hand: 4096+1024 B = 5.0 KiB; 3 MiB; two 2 KiB spool files = 4.0 KiB; 40 B.
	for _, want := range []string{"metadata store✓ ready", "ingest✗ not ready", "Metadata store (meta.db*)5.0 KiB", "Event store (events.duckdb*)3.0 MiB",
		"(spool)4.0 KiB", "(audit.head)40 B", dir, "Encrypted (AES-XTS", "Not detected: Hearth cannot tell", "9.8.7-test", "1 d 2 h", "free of"} {
		if !strings.Contains(strings.Join(strings.Fields(body), ""), strings.Join(strings.Fields(want), "")) {
			t.Errorf("system page lacks %q: %s", want, body)
		}
	}
	if strings.Contains(a.body, "/secret/path") || strings.Contains(a.body, "spool disk full") {
		t.Error("a check's error reaches the page")
	}
	// A volume Hearth sees is plain says so.
	r.h = r.systemPages(t, web.SystemInfo{DataDir: dir, VolumeEncryption: "no"}, 0)
	body = text(r.get(t, who["root"], "/admin/system").body)
	if !strings.Contains(body, "Not encrypted: the data directory's volume is not encrypted") || !strings.Contains(body, "✗ Not encrypted") {
		t.Errorf("plain volume and metadata: %s", body)
	}
	if a := r.get(t, who["admin1"], "/admin/system"); a.code != 403 {
		t.Errorf("site admin's system page: %d", a.code)
	}
	r.log.check(t)
}

func TestAdminPagesSpeakGerman(t *testing.T) {
	r, who := adminRig(t)
	for _, path := range []string{"/admin/sites", "/admin/sites/1", "/admin/users", "/admin/tokens", "/admin/system"} {
		a := r.do(t, request{method: http.MethodGet, path: path, cookies: who["root"], header: map[string]string{"Accept-Language": "de"}})
		if a.code != 200 || !strings.Contains(a.body, `<html lang="de">`) || !strings.Contains(a.body, "Verwaltung") {
			t.Errorf("%s in German: %d", path, a.code)
		}
	}
	// The administration's refusals answer in the request's language: an error page, and a
	// form's own complaint shown beside it.
	checkLanguages(t, r, []pageCase{
		{"system page of a site admin", request{method: http.MethodGet, path: "/admin/system", cookies: who["admin1"]}, 403,
			[]string{"Only a superuser can see the state of the system."}, []string{"Nur ein Superuser kann den Zustand des Systems sehen."}},
		{"users page of a viewer", request{method: http.MethodGet, path: "/admin/users", cookies: who["viewer"]}, 403,
			[]string{"You administer no site, so you manage no user."}, []string{"Sie verwalten keine Website und damit auch keine Benutzer."}},
		{"new account's passwords differ", request{method: http.MethodPost, path: "/admin/users", cookies: who["root"],
			form: url.Values{"action": {"adduser"}, "userLogin": {"newbie"}, "email": {"newbie@example.org"}, "password": {"one long password"}, "password2": {"another long password"}}}, 400,
			[]string{"The new account&#39;s passwords do not match."}, []string{"Die Passwörter des neuen Kontos stimmen nicht überein."}},
	})
	r.log.check(t)
}
