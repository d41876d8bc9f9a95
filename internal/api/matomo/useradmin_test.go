package matomo

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"

	"hearth/internal/audit"
	"hearth/internal/auth"
	"hearth/internal/store"
)

// userAdminRig is the matrix rig with an audit log under both the API and the auth service.
func userAdminRig(t *testing.T) (*matrixRig, *auditLog) {
	r := newMatrixRig(t)
	log := &auditLog{}
	now := r.api.opts.Now
	r.api.opts.Audit = log
	r.api.opts.Auth = auth.New(auth.Options{Meta: r.meta, TokenKey: []byte("tk"), Audit: log, Now: now})
	return r, log
}

// recorded is the audit events of an action, in order.
func (l *auditLog) recorded(action string) []audit.Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []audit.Event
	for _, e := range l.events {
		if e.Action == action {
			out = append(out, e)
		}
	}
	return out
}

func (r *matrixRig) rows(t *testing.T, who string, params url.Values) []map[string]any {
	t.Helper()
	code, body := r.call(t, who, params)
	if code != 200 {
		t.Fatalf("%s as %s: %d %s", params.Get("method"), who, code, body)
	}
	var rows []map[string]any
	if err := json.Unmarshal([]byte(body), &rows); err != nil {
		t.Fatalf("%s: %v %s", params.Get("method"), err, body)
	}
	return rows
}

func TestDisableAndEnableAUser(t *testing.T) {
	r, log := userAdminRig(t)
	ctx := context.Background()
	svc := r.api.opts.Auth
	if _, err := svc.StartSession(ctx, "target", "", netip.MustParseAddr("192.0.2.9")); err != nil {
		t.Fatal(err)
	}
	disable := func(who, login, value, pw string) (int, string) {
		return r.call(t, who, url.Values{"method": {"Hearth.setUserDisabled"}, "userLogin": {login}, "disabled": {value}, "passwordConfirmation": {pw}})
	}
	for _, c := range []struct {
		who, login, value, pw string
		code                  int
		want                  string
	}{
		{"root", "target", "1", "", 400, "confirm your password"},
		{"root", "target", "1", "not it", 401, "not correct"},
		{"root", "root", "1", password("root"), 400, "your own account"},
		{"root", "target", "", password("root"), 400, "'disabled'"},
		{"admin1", "target", "1", password("admin1"), 401, "superuser"},
		{"root", "ghost", "1", password("root"), 400, "doesn't exist"},
	} {
		code, body := disable(c.who, c.login, c.value, c.pw)
		if code != c.code || !strings.Contains(body, c.want) {
			t.Errorf("%s disabling %s (%q): %d %s, want %d with %q", c.who, c.login, c.value, code, body, c.code, c.want)
		}
	}
	if u, _ := r.meta.User(ctx, "target"); u.Disabled {
		t.Fatal("a refused call disabled the user")
	}
	if code, body := disable("root", "target", "1", password("root")); code != 200 {
		t.Fatalf("disable: %d %s", code, body)
	}
	if u, _ := r.meta.User(ctx, "target"); !u.Disabled {
		t.Fatal("target is not disabled")
	}
	if n, err := r.meta.DeleteSessions(ctx, "target"); err != nil || n != 0 {
		t.Errorf("target still had %d sessions (%v)", n, err)
	}
	got := log.recorded(audit.ActionUserDisable)
	if len(got) != 1 || got[0].Actor != "root" || got[0].Target != "user:target" || got[0].Details["sessions_ended"] != "1" {
		t.Errorf("disable audit: %+v", got)
	}
	if code, _ := disable("root", "target", "0", password("root")); code != 200 {
		t.Fatalf("enable: %d", code)
	}
	if u, _ := r.meta.User(ctx, "target"); u.Disabled {
		t.Fatal("target is still disabled")
	}
	if got := log.recorded(audit.ActionUserEnable); len(got) != 1 || got[0].Target != "user:target" {
		t.Errorf("enable audit: %+v", got)
	}
}

func TestUnlockALockedLogin(t *testing.T) {
	r, log := userAdminRig(t)
	ctx := context.Background()
	at := r.api.opts.Now().Add(-time.Minute)
	for i := 0; i < auth.MaxLoginFailures+1; i++ {
		if err := r.meta.RecordAuthFailure(ctx, at, []byte("a client"), "target"); err != nil {
			t.Fatal(err)
		}
	}
	failures := url.Values{"method": {"Hearth.getLoginFailures"}}
	rows := r.rows(t, "root", failures)
	if len(rows) != 1 || rows[0]["login"] != "target" || rows[0]["failures"] != float64(auth.MaxLoginFailures+1) || rows[0]["locked"] != float64(1) {
		t.Fatalf("login failures: %v", rows)
	}
	if code, _ := r.call(t, "admin1", url.Values{"method": {"Hearth.unlockUser"}, "userLogin": {"target"}}); code != 401 {
		t.Errorf("a site admin unlocked a login: %d", code)
	}
	code, body := r.call(t, "root", url.Values{"method": {"Hearth.unlockUser"}, "userLogin": {"target"}})
	if code != 200 || body != `{"value":61}`+"\n" {
		t.Fatalf("unlock: %d %s", code, body)
	}
	if rows := r.rows(t, "root", failures); len(rows) != 0 {
		t.Errorf("failures after the unlock: %v", rows)
	}
	if got := log.recorded(audit.ActionAuthUnlock); len(got) != 1 || got[0].Actor != "root" || got[0].Target != "user:target" {
		t.Errorf("unlock audit: %+v", got)
	}
}

func TestResetTwoFactor(t *testing.T) {
	r, log := userAdminRig(t)
	ctx := context.Background()
	if err := r.meta.SetTOTP(ctx, store.TOTP{Login: "target", SecretEnc: []byte("sealed"), Enabled: true}); err != nil {
		t.Fatal(err)
	}
	reset := func(who string) (int, string) {
		return r.call(t, who, url.Values{"method": {"Hearth.resetTwoFactor"}, "userLogin": {"target"}, "passwordConfirmation": {password(who)}})
	}
	if code, _ := reset("admin1"); code != 401 {
		t.Errorf("a site admin reset two-factor authentication: %d", code)
	}
	if code, body := reset("root"); code != 200 {
		t.Fatalf("reset: %d %s", code, body)
	}
	if on, err := r.api.opts.Auth.Has2FA(ctx, "target"); err != nil || on {
		t.Fatalf("target still has two-factor authentication: %v %v", on, err)
	}
	if got := log.recorded(audit.Action2FADisable); len(got) != 1 || got[0].Actor != "root" || got[0].Target != "user:target" {
		t.Errorf("reset audit: %+v", got)
	}
	if code, body := reset("root"); code != 400 || !strings.Contains(body, "has no two-factor") {
		t.Errorf("second reset: %d %s", code, body)
	}
}

func TestTokensListedAndRevoked(t *testing.T) {
	r, log := userAdminRig(t)
	ctx := context.Background()
	list := func(who, login string) []map[string]any {
		return r.rows(t, who, url.Values{"method": {"Hearth.getTokens"}, "userLogin": {login}})
	}
	own := list("viewer", "")
	if len(own) != 1 || own[0]["login"] != "viewer" || own[0]["description"] != "matrix" || own[0]["last_used"] == "" {
		t.Fatalf("viewer's tokens: %v", own)
	}
	for k := range own[0] {
		if strings.Contains(k, "hash") || k == "token" {
			t.Errorf("a token's secret or hash is listed (%s)", k)
		}
	}
	// Every principal but anonymous has one token: six in all.
	if all := list("root", "all"); len(all) != len(principals)-1 {
		t.Errorf("root lists %d tokens, want %d", len(all), len(principals)-1)
	}
	if code, _ := r.call(t, "viewer", url.Values{"method": {"Hearth.getTokens"}, "userLogin": {"root"}}); code != 401 {
		t.Errorf("viewer listed root's tokens: %d", code)
	}
	rootTokens := list("root", "")
	revoke := func(who string, id any) (int, string) {
		b, _ := json.Marshal(id)
		return r.call(t, who, url.Values{"method": {"Hearth.revokeToken"}, "idToken": {string(b)}})
	}
	// Another's token and one that does not exist are refused alike.
	c1, b1 := revoke("viewer", rootTokens[0]["id"])
	c2, b2 := revoke("viewer", 9999)
	if c1 != 401 || c2 != 401 || strings.ReplaceAll(b1, fmt.Sprintf("token %v ", rootTokens[0]["id"]), "token N ") != strings.ReplaceAll(b2, "token 9999 ", "token N ") {
		t.Errorf("viewer revoking root's token: %d %s; a missing one: %d %s", c1, b1, c2, b2)
	}
	if n := len(list("root", "")); n != 1 {
		t.Fatalf("root's token went: %d left", n)
	}
	if code, body := revoke("root", 9999); code != 400 || !strings.Contains(body, "doesn't exist") {
		t.Errorf("root revoking a missing token: %d %s", code, body)
	}
	// A second token of the viewer's revokes the first.
	second, _, err := r.api.opts.Auth.NewToken(ctx, "viewer", "second", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	r.tokens["viewer"] = second
	if code, body := revoke("viewer", own[0]["id"]); code != 200 {
		t.Fatalf("viewer revoking their token: %d %s", code, body)
	}
	if left := list("viewer", ""); len(left) != 1 || left[0]["description"] != "second" {
		t.Errorf("viewer's tokens after the revocation: %v", left)
	}
	got := log.recorded(audit.ActionTokenRevoke)
	if len(got) != 1 || got[0].Actor != "viewer" || got[0].Details["owner"] != "viewer" {
		t.Errorf("revocation audit: %+v", got)
	}
}

func TestAccessGrantsOfAdministeredSites(t *testing.T) {
	r, _ := userAdminRig(t)
	ctx := context.Background()
	now := r.api.opts.Now()
	if err := r.meta.AddCapability(ctx, store.Grant{Login: "viewer", SiteID: 1, Name: auth.CapViewRaw, Expires: now.Add(48 * time.Hour), GrantedBy: "root", Created: now}); err != nil {
		t.Fatal(err)
	}
	if err := r.meta.AddCapability(ctx, store.Grant{Login: "writer", SiteID: 1, Name: auth.CapViewRaw, Expires: now.Add(-time.Hour), Created: now.Add(-2 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, row := range r.rows(t, "admin1", url.Values{"method": {"Hearth.getAccessGrants"}}) {
		got[row["login"].(string)+" "+row["kind"].(string)+" "+row["access"].(string)] = row["expires"].(string)
	}
	// The rig's grants on site 1, the viewer's view_raw for two more days, and not the
	// writer's lapsed one nor target's role on site 2.
	want := map[string]string{"viewer role view": "", "rawviewer role view": "", "writer role write": "", "admin1 role admin": "",
		"target role view": "", "rawviewer capability view_raw": "", "viewer capability view_raw": "2026-11-25 12:00:00"}
	if len(got) != len(want) {
		t.Errorf("grants: %v, want %v", got, want)
	}
	for k, v := range want {
		if e, ok := got[k]; !ok || e != v {
			t.Errorf("grant %s: %q (%v), want expiry %q", k, e, ok, v)
		}
	}
	if code, _ := r.call(t, "viewer", url.Values{"method": {"Hearth.getAccessGrants"}}); code != 401 {
		t.Errorf("a viewer read the grants: %d", code)
	}
	if rows := r.rows(t, "root", url.Values{"method": {"Hearth.getAccessGrants"}, "idSites": {"2"}}); len(rows) != 1 || rows[0]["login"] != "target" {
		t.Errorf("site 2's grants for root: %v", rows)
	}
}
