package e2e

import (
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"hearth/test/testbin"
)

// TestAuditCoverage performs, one at a time through the real binary, each operation the audit
// trail must record, and checks that each adds exactly one entry of its action.
func TestAuditCoverage(t *testing.T) {
	dir := testbin.InitDataDir(t)
	// Behind a trusted proxy, so the lockout step can come from many addresses: attempts from
	// one blocked address no longer count against a login.
	s := testbin.Start(t, dir, "--trusted-proxies", "127.0.0.1/32")
	tok := s.Token(t)
	site := s.AddSite(t, tok, nil)
	pw := testbin.AdminPassword
	annPass := pw + " for ann"
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar, Timeout: 10 * time.Second}

	count := func(action string) int {
		out, code := testbin.Run(t, nil, "audit", "export", "--data-dir", dir)
		if code != 0 {
			t.Fatalf("audit export: %d %s", code, out)
		}
		return strings.Count(out, `"action":"`+action+`"`)
	}
	api := func(method string, params url.Values) {
		t.Helper()
		params.Set("method", method)
		if params.Get("token_auth") == "" {
			params.Set("token_auth", tok)
		}
		if code, v := s.API(t, params); code != 200 {
			t.Fatalf("%s: %d %v", method, code, v)
		}
	}
	page := func(path string, form url.Values) string {
		t.Helper()
		resp, body := doForm(t, browser, "POST", s.Base+path, form, nil)
		if resp.StatusCode >= 500 {
			t.Fatalf("%s: %d", path, resp.StatusCode)
		}
		return body
	}
	cli := func(env []string, args ...string) {
		t.Helper()
		if out, code := testbin.Run(t, env, append(args, "--data-dir", dir)...); code != 0 {
			t.Fatalf("%v: %d %s", args, code, out)
		}
	}
	var newToken, totpKey string
	var recovery []string
	steps := []struct {
		action string
		do     func()
	}{
		{"auth.login", func() { page("/login", url.Values{"login": {"admin"}, "password": {pw}}) }},
		{"auth.failure", func() { page("/login", url.Values{"login": {"admin"}, "password": {"wrong"}}) }},
		{"user.create", func() {
			api("UsersManager.addUser", url.Values{"userLogin": {"ann"}, "email": {"ann@example.org"}, "password": {annPass}, "passwordConfirmation": {pw}})
		}},
		{"user.update", func() {
			api("UsersManager.updateUser", url.Values{"userLogin": {"ann"}, "email": {"ann@example.com"}, "passwordConfirmation": {pw}})
		}},
		{"user.password", func() { cli([]string{"HEARTH_USER_PASSWORD=" + annPass + "!"}, "user", "passwd", "ann") }},
		{"user.disable", func() { cli(nil, "user", "disable", "ann") }},
		{"user.enable", func() { cli(nil, "user", "enable", "ann") }},
		{"access.grant", func() {
			api("UsersManager.setUserAccess", url.Values{"userLogin": {"ann"}, "access": {"view"}, "idSites": {fmt.Sprint(site)}, "passwordConfirmation": {pw}})
		}},
		{"capability.add", func() {
			api("UsersManager.addCapabilities", url.Values{"userLogin": {"ann"}, "capabilities": {"view_raw"}, "idSites": {fmt.Sprint(site)}})
		}},
		{"capability.remove", func() {
			api("UsersManager.removeCapabilities", url.Values{"userLogin": {"ann"}, "capabilities": {"view_raw"}, "idSites": {fmt.Sprint(site)}})
		}},
		{"access.revoke", func() {
			api("UsersManager.setUserAccess", url.Values{"userLogin": {"ann"}, "access": {"noaccess"}, "idSites": {fmt.Sprint(site)}, "passwordConfirmation": {pw}})
		}},
		{"superuser.change", func() {
			api("UsersManager.setSuperUserAccess", url.Values{"userLogin": {"ann"}, "hasSuperUserAccess": {"1"}, "passwordConfirmation": {pw}})
		}},
		{"token.create", func() {
			code, v := s.API(t, url.Values{"method": {"UsersManager.createAppSpecificTokenAuth"}, "userLogin": {"ann"},
				"passwordConfirmation": {annPass + "!"}, "description": {"coverage"}})
			newToken, _ = v.(map[string]any)["value"].(string)
			if code != 200 || len(newToken) != 32 {
				t.Fatalf("token: %d %v", code, v)
			}
		}},
		{"token.use_new_ip", func() { api("SitesManager.getSitesWithAtLeastViewAccess", url.Values{"token_auth": {newToken}}) }},
		{"token.revoke", func() {
			req, _ := http.NewRequest("GET", s.Base+"/api/v1/tokens", nil)
			req.Header.Set("Authorization", "Bearer "+newToken)
			resp, err := testbin.Client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			id := regexp.MustCompile(`"id":(\d+)`).FindStringSubmatch(string(b))
			if id == nil {
				t.Fatalf("tokens: %s", b)
			}
			req, _ = http.NewRequest("DELETE", s.Base+"/api/v1/tokens/"+id[1], nil)
			req.Header.Set("Authorization", "Bearer "+newToken)
			if resp, err := testbin.Client.Do(req); err != nil || resp.StatusCode != 204 {
				t.Fatalf("revoke: %v %v", resp, err)
			}
		}},
		{"site.create", func() {
			api("SitesManager.addSite", url.Values{"siteName": {"Second"}, "urls": {"https://second.example"}})
		}},
		{"site.update", func() {
			api("SitesManager.updateSite", url.Values{"idSite": {fmt.Sprint(site)}, "siteName": {"Renamed"}})
		}},
		{"dimension.create", func() {
			api("CustomDimensions.configureNewCustomDimension", url.Values{"idSite": {fmt.Sprint(site)}, "name": {"Plan"}, "scope": {"visit"}})
		}},
		{"dimension.update", func() {
			api("CustomDimensions.configureExistingCustomDimension", url.Values{"idSite": {fmt.Sprint(site)}, "idDimension": {"1"}, "name": {"Tier"}})
		}},
		{"goal.create", func() {
			api("Goals.addGoal", url.Values{"idSite": {fmt.Sprint(site)}, "name": {"Signup"}, "matchAttribute": {"url"}, "pattern": {"/welcome"}, "patternType": {"contains"}})
		}},
		{"goal.update", func() {
			api("Goals.updateGoal", url.Values{"idSite": {fmt.Sprint(site)}, "idGoal": {"1"}, "name": {"Welcome"}, "matchAttribute": {"url"}, "pattern": {"/welcome"}, "patternType": {"contains"}})
		}},
		{"goal.delete", func() { api("Goals.deleteGoal", url.Values{"idSite": {fmt.Sprint(site)}, "idGoal": {"1"}}) }},
		{"rawdata.view", func() { api("Live.getLastVisitsDetails", url.Values{"idSite": {fmt.Sprint(site)}}) }},
		{"audit.export", func() {
			req, _ := http.NewRequest("GET", s.Base+"/api/v1/audit?action=nothing", nil)
			req.Header.Set("Authorization", "Bearer "+tok)
			if resp, err := testbin.Client.Do(req); err != nil || resp.StatusCode != 200 {
				t.Fatalf("audit api: %v %v", resp, err)
			} else {
				resp.Body.Close()
			}
		}},
		{"2fa.enable", func() {
			body := page("/account/2fa", url.Values{"action": {"begin"}})
			totpKey = regexp.MustCompile(`id="totp-secret">([A-Z2-7]+)<`).FindStringSubmatch(body)[1]
			body = page("/account/2fa", url.Values{"action": {"confirm"}, "code": {totpCode(t, totpKey, time.Now())}})
			for _, m := range regexp.MustCompile(`<code>([a-z2-7-]{14,})</code>`).FindAllStringSubmatch(body, -1) {
				recovery = append(recovery, m[1])
			}
		}},
		{"auth.logout", func() { page("/logout", url.Values{}) }},
		{"2fa.recovery_code_used", func() {
			page("/login", url.Values{"login": {"admin"}, "password": {pw}})
			page("/login/2fa", url.Values{"code": {recovery[0]}})
		}},
		{"setting.change", func() { page("/account/2fa", url.Values{"action": {"require"}, "password": {pw}}) }},
		{"2fa.disable", func() { cli(nil, "user", "reset-2fa", "admin") }},
		{"auth.block", func() {
			for range 21 {
				s.API(t, url.Values{"method": {"API.getMatomoVersion"}, "token_auth": {strings.Repeat("f", 32)}})
			}
		}},
		{"auth.unblock", func() { cli(nil, "unblock-ip", "127.0.0.1") }},
		{"auth.lockout", func() {
			// A distributed guess: three attempts from each of 21 addresses.
			for i := range 61 {
				resp, body := doForm(t, browser, "POST", s.Base+"/index.php", url.Values{"module": {"API"}, "format": {"json"},
					"method": {"UsersManager.createAppSpecificTokenAuth"}, "userLogin": {"ann"}, "passwordConfirmation": {"wrong"},
					"description": {"x"}}, map[string]string{"X-Forwarded-For": fmt.Sprintf("198.51.100.%d", 10+i/3)})
				if resp.StatusCode != 401 {
					t.Fatalf("wrong password answered %d %s", resp.StatusCode, body)
				}
			}
		}},
		{"auth.unlock", func() { cli(nil, "user", "unlock", "ann") }},
		{"setting.change", func() { cli(nil, "audit", "retention", "--days", "400") }},
		{"user.delete", func() {
			api("UsersManager.setSuperUserAccess", url.Values{"userLogin": {"ann"}, "hasSuperUserAccess": {"0"}, "passwordConfirmation": {pw}})
			api("UsersManager.deleteUser", url.Values{"userLogin": {"ann"}, "passwordConfirmation": {pw}})
		}},
		{"server.stop", func() { s.Stop() }},
	}
	for _, st := range steps {
		before := count(st.action)
		st.do()
		if after := count(st.action); after != before+1 {
			t.Errorf("%s: %d entries added, want exactly 1", st.action, after-before)
		}
	}
	if n := count("server.start"); n != 1 {
		t.Errorf("server.start: %d entries, want 1", n)
	}
	if out, code := testbin.Run(t, nil, "audit", "verify", "--data-dir", dir); code != 0 {
		t.Fatalf("verify: %s", out)
	}
}

// TestAuditRetentionCommand: too short a retention is refused with a clear message and
// nothing recorded; a valid one is shown afterwards, and verify still passes.
func TestAuditRetentionCommand(t *testing.T) {
	dir := testbin.InitDataDir(t)
	out, code := testbin.Run(t, nil, "audit", "retention", "--data-dir", dir)
	if code != 0 || !strings.Contains(out, "kept forever") {
		t.Fatalf("default retention: %d %s", code, out)
	}
	out, code = testbin.Run(t, nil, "audit", "retention", "--days", "7", "--data-dir", dir)
	if code == 0 || !strings.Contains(out, "at least 30 days") {
		t.Fatalf("7 days: %d %s", code, out)
	}
	out, code = testbin.Run(t, nil, "audit", "retention", "--days", "2190", "--data-dir", dir)
	if code != 0 || !strings.Contains(out, "kept 2190 days") {
		t.Fatalf("2190 days: %d %s", code, out)
	}
	exp, _ := testbin.Run(t, nil, "audit", "export", "--data-dir", dir)
	if n := strings.Count(exp, `"target":"setting:audit.retention_days"`); n != 1 || !strings.Contains(exp, `"previous":"0"`) {
		t.Fatalf("%d retention changes recorded, want 1:\n%s", n, exp)
	}
	if out, code := testbin.Run(t, nil, "audit", "verify", "--data-dir", dir); code != 0 {
		t.Fatalf("verify: %s", out)
	}
}

// TestConfigChangeAudited: a start with different settings records one config.change naming
// the setting with its old and new value; a start with the same settings records none.
func TestConfigChangeAudited(t *testing.T) {
	dir := testbin.InitDataDir(t)
	s := testbin.Start(t, dir)
	s.Stop()
	s = testbin.Start(t, dir)
	s.Stop()
	s = testbin.Start(t, dir, "--visit-timeout", "45m")
	s.Stop()
	out, _ := testbin.Run(t, nil, "audit", "export", "--data-dir", dir)
	if n := strings.Count(out, `"action":"config.change"`); n != 1 {
		t.Fatalf("%d config.change entries, want 1:\n%s", n, out)
	}
	if !strings.Contains(out, `"VisitTimeout":"30m0s → 45m0s"`) || !strings.Contains(out, `"changed":"VisitTimeout"`) {
		t.Fatalf("change not described:\n%s", out)
	}
}

// TestSubcommandErrors: a command without its subcommand, or with an unknown one, exits 2 and
// names the subcommands there are.
func TestSubcommandErrors(t *testing.T) {
	dir := testbin.InitDataDir(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"token"}, "token needs a subcommand: list or revoke"},
		{[]string{"token", "--data-dir", dir}, `unknown token subcommand "--data-dir" (use list or revoke)`},
		{[]string{"audit", "shred"}, `unknown audit subcommand "shred" (use verify, export or retention)`},
		{[]string{"user"}, "user needs a subcommand: add, passwd, disable, enable, unlock, reset-2fa or list"},
	} {
		out, code := testbin.Run(t, nil, tc.args...)
		if code != 2 || !strings.Contains(out, tc.want) {
			t.Errorf("%v: %d %s", tc.args, code, out)
		}
	}
}
