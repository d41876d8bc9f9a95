package e2e

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha1" // #nosec G505 -- RFC 6238 TOTP is defined over HMAC-SHA-1.
	"encoding/base32"
	"encoding/binary"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"hearth/test/testbin"
)

// totpCode computes an RFC 6238 code (SHA-1, 30 s, 6 digits) for a base32 key, written out here
// from the RFC rather than taken from the library the server uses.
func totpCode(t *testing.T, key string, at time.Time) string {
	t.Helper()
	k, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(strings.ToUpper(strings.TrimRight(key, "=")))
	if err != nil {
		t.Fatalf("key %q: %v", key, err)
	}
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], uint64(at.Unix()/30))
	m := hmac.New(sha1.New, k)
	m.Write(msg[:])
	sum := m.Sum(nil)
	off := sum[len(sum)-1] & 0x0f
	v := binary.BigEndian.Uint32(sum[off:off+4]) & 0x7fffffff
	return fmt.Sprintf("%06d", v%1000000)
}

// TestTwoFactorSignIn turns TOTP on through the account page, signs in with a code and with a
// recovery code, checks replays are refused, that API tokens then need authCode, and that an
// operator can reset it.
func TestTwoFactorSignIn(t *testing.T) {
	dir := testbin.InitDataDir(t)
	s := testbin.Start(t, dir)
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 10 * time.Second}
	signIn := func() (*http.Response, string) {
		return doForm(t, c, "POST", s.Base+"/login", url.Values{"login": {"admin"}, "password": {testbin.AdminPassword}}, nil)
	}
	if resp, _ := signIn(); resp.Request.URL.Path != "/" {
		t.Fatalf("sign in: ended at %s", resp.Request.URL)
	}
	resp, body := doForm(t, c, "GET", s.Base+"/account/2fa", nil, nil)
	if resp.StatusCode != 200 || !strings.Contains(body, "Two-factor authentication is off") {
		t.Fatalf("2fa page: %d %s", resp.StatusCode, body)
	}
	resp, body = doForm(t, c, "POST", s.Base+"/account/2fa", url.Values{"action": {"begin"}}, nil)
	m := regexp.MustCompile(`id="totp-secret">([A-Z2-7]+)<`).FindStringSubmatch(body)
	if resp.StatusCode != 200 || m == nil || !strings.Contains(body, `src="data:image/png;base64,`) {
		t.Fatalf("begin: %d %s", resp.StatusCode, body)
	}
	key := m[1]
	// A wrong code does not turn it on.
	wrong := fmt.Sprintf("%06d", (atoi(totpCode(t, key, time.Now()))+1)%1000000)
	if resp, _ := doForm(t, c, "POST", s.Base+"/account/2fa", url.Values{"action": {"confirm"}, "code": {wrong}}, nil); resp.StatusCode != 400 {
		t.Fatalf("wrong confirm code: %d", resp.StatusCode)
	}
	now := time.Now()
	resp, body = doForm(t, c, "POST", s.Base+"/account/2fa", url.Values{"action": {"confirm"}, "code": {totpCode(t, key, now)}}, nil)
	codes := regexp.MustCompile(`<code>([a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]+)</code>`).FindAllStringSubmatch(body, -1)
	if resp.StatusCode != 200 || len(codes) != 10 || !strings.Contains(body, "The authenticator app is set up.") {
		t.Fatalf("confirm: %d, %d codes: %s", resp.StatusCode, len(codes), body)
	}
	doForm(t, c, "POST", s.Base+"/logout", url.Values{}, nil)

	// The password alone no longer signs in: it leads to the code form, with no session.
	resp, body = signIn()
	if resp.StatusCode != 200 || !strings.Contains(body, `action="/login/2fa"`) || jarHas(jar, s.Base, "hearth_session") {
		t.Fatalf("password step: %d %s", resp.StatusCode, body)
	}
	if resp, _ := doForm(t, c, "GET", s.Base+"/", nil, nil); resp.Request.URL.Path != "/login" {
		t.Fatalf("signed in after the password only: %s", resp.Request.URL)
	}
	// The code already used to confirm is refused (replay); the next step's code works.
	if resp, body := doForm(t, c, "POST", s.Base+"/login/2fa", url.Values{"code": {totpCode(t, key, now)}}, nil); resp.StatusCode != 401 || !strings.Contains(body, "Wrong or already used code.") {
		t.Fatalf("replayed code: %d", resp.StatusCode)
	}
	resp, body = doForm(t, c, "POST", s.Base+"/login/2fa", url.Values{"code": {totpCode(t, key, now.Add(30*time.Second))}}, nil)
	if resp.Request.URL.Path != "/" || !strings.Contains(body, `<a href="/account">admin</a>`) {
		t.Fatalf("second factor: %d %s", resp.StatusCode, resp.Request.URL)
	}
	doForm(t, c, "POST", s.Base+"/logout", url.Values{}, nil)

	// Without the pending cookie from the password step, a code alone signs nobody in.
	bare := &http.Client{Timeout: 10 * time.Second}
	if resp, _ := doForm(t, bare, "POST", s.Base+"/login/2fa", url.Values{"code": {codes[0][1]}}, nil); resp.StatusCode != 401 {
		t.Fatalf("code without password: %d", resp.StatusCode)
	}
	// A recovery code works once.
	signIn()
	if resp, _ := doForm(t, c, "POST", s.Base+"/login/2fa", url.Values{"code": {codes[0][1]}}, nil); resp.Request.URL.Path != "/" {
		t.Fatalf("recovery code: %d %s", resp.StatusCode, resp.Request.URL)
	}
	doForm(t, c, "POST", s.Base+"/logout", url.Values{}, nil)
	signIn()
	if resp, _ := doForm(t, c, "POST", s.Base+"/login/2fa", url.Values{"code": {codes[0][1]}}, nil); resp.StatusCode != 401 {
		t.Fatalf("recovery code reused: %d", resp.StatusCode)
	}

	// API tokens need the second factor too.
	params := url.Values{"method": {"UsersManager.createAppSpecificTokenAuth"}, "userLogin": {"admin"},
		"passwordConfirmation": {testbin.AdminPassword}, "description": {"2fa"}}
	code, v := s.API(t, params)
	if code != 401 || !strings.Contains(fmt.Sprint(v), "authCode") {
		t.Fatalf("token without authCode: %d %v", code, v)
	}
	params.Set("authCode", codes[1][1])
	code, v = s.API(t, params)
	token := fmt.Sprint(v.(map[string]any)["value"])
	if code != 200 || len(token) != 32 {
		t.Fatalf("token with authCode: %d %v", code, v)
	}

	uses2FA := func() any {
		code, v := s.API(t, url.Values{"method": {"UsersManager.getUser"}, "userLogin": {"admin"}, "token_auth": {token}})
		if code != 200 {
			t.Fatalf("getUser: %d %v", code, v)
		}
		return v.(map[string]any)["uses_2fa"]
	}
	if got := uses2FA(); got != float64(1) {
		t.Fatalf("uses_2fa = %v with 2FA on", got)
	}
	// An operator resets it; the password alone signs in again.
	if out, code := testbin.Run(t, nil, "user", "reset-2fa", "admin", "--data-dir", dir); code != 0 || !strings.Contains(out, "turned off") {
		t.Fatalf("reset-2fa: %d %s", code, out)
	}
	if out, code := testbin.Run(t, nil, "user", "reset-2fa", "admin", "--data-dir", dir); code == 0 {
		t.Fatalf("second reset-2fa succeeded: %s", out)
	}
	if resp, _ := signIn(); resp.Request.URL.Path != "/" {
		t.Fatalf("sign in after reset: %s", resp.Request.URL)
	}
	if got := uses2FA(); got != float64(0) {
		t.Fatalf("uses_2fa = %v after the reset", got)
	}
	out, _ := testbin.Run(t, nil, "audit", "export", "--data-dir", dir)
	for _, want := range []string{`"action":"2fa.enable"`, `"action":"2fa.recovery_code_used"`, `"action":"2fa.disable"`} {
		if !strings.Contains(out, want) {
			t.Errorf("audit lacks %s", want)
		}
	}
	if strings.Contains(out, key) || strings.Contains(out, codes[2][1]) {
		t.Error("audit trail holds the TOTP key or a recovery code")
	}
	if log := s.Log(); strings.Contains(log, key) || strings.Contains(log, codes[2][1]) || strings.Contains(log, token) {
		t.Error("server log holds the TOTP key, a recovery code or a token")
	}
	// Nothing secret anywhere in the data dir once the server has stopped (the control for
	// this grep is TestNoSecretsInDataDir in internal/auth).
	s.Stop()
	secrets := []string{testbin.AdminPassword, token, key, codes[2][1], codes[9][1]}
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		for _, sec := range secrets {
			if bytes.Contains(b, []byte(sec)) {
				t.Errorf("%s holds a secret", path)
			}
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

func atoi(s string) int {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n
}

func jarHas(jar http.CookieJar, base, name string) bool {
	u, _ := url.Parse(base)
	for _, c := range jar.Cookies(u) {
		if c.Name == name && c.Value != "" {
			return true
		}
	}
	return false
}

// TestTwoFactorRequired: a superuser makes 2FA mandatory; a user without it is held on the
// set-up page (no pages, no session API, no new tokens) until they have set it up, and cannot
// turn it off while it is required.
func TestTwoFactorRequired(t *testing.T) {
	dir := testbin.InitDataDir(t)
	if out, code := testbin.Run(t, []string{"HEARTH_USER_PASSWORD=" + testbin.AdminPassword + " for ann"}, "user", "add", "ann", "--email", "ann@example.org", "--data-dir", dir); code != 0 {
		t.Fatalf("user add: %d %s", code, out)
	}
	s := testbin.Start(t, dir)
	newClient := func() *http.Client {
		jar, _ := cookiejar.New(nil)
		return &http.Client{Jar: jar, Timeout: 10 * time.Second}
	}
	admin := newClient()
	doForm(t, admin, "POST", s.Base+"/login", url.Values{"login": {"admin"}, "password": {testbin.AdminPassword}}, nil)
	// The setting needs the password.
	if resp, _ := doForm(t, admin, "POST", s.Base+"/account/2fa", url.Values{"action": {"require"}, "password": {"wrong"}}, nil); resp.StatusCode != 401 {
		t.Fatalf("require with a wrong password: %d", resp.StatusCode)
	}
	resp, body := doForm(t, admin, "POST", s.Base+"/account/2fa", url.Values{"action": {"require"}, "password": {testbin.AdminPassword}}, nil)
	if resp.StatusCode != 200 || !strings.Contains(body, "Every user now needs two-factor authentication") {
		t.Fatalf("require: %d %s", resp.StatusCode, body)
	}
	// The admin has no 2FA yet either: held on the set-up page from the next request.
	if resp, _ := doForm(t, admin, "GET", s.Base+"/audit", nil, nil); resp.Request.URL.Path != "/account/2fa" {
		t.Fatalf("admin without 2FA reached %s", resp.Request.URL)
	}

	ann := newClient()
	resp, body = doForm(t, ann, "POST", s.Base+"/login", url.Values{"login": {"ann"}, "password": {testbin.AdminPassword + " for ann"}}, nil)
	if resp.Request.URL.Path != "/account/2fa" || !strings.Contains(body, "required on this Hearth: set it up to continue") {
		t.Fatalf("ann after sign-in: %s %s", resp.Request.URL, body)
	}
	if resp, _ := doForm(t, ann, "GET", s.Base+"/", nil, nil); resp.Request.URL.Path != "/account/2fa" {
		t.Fatalf("ann reached %s", resp.Request.URL)
	}
	if resp, _ := doForm(t, ann, "GET", s.Base+"/api/v1/audit", nil, nil); resp.StatusCode != 401 {
		t.Fatalf("session API without 2FA: %d", resp.StatusCode)
	}
	if resp, _ := doForm(t, ann, "POST", s.Base+"/account/2fa", url.Values{"action": {"require"}, "password": {testbin.AdminPassword + " for ann"}}, nil); resp.StatusCode != 403 {
		t.Fatalf("non-superuser changed the setting: %d", resp.StatusCode)
	}
	params := url.Values{"method": {"UsersManager.createAppSpecificTokenAuth"}, "userLogin": {"ann"},
		"passwordConfirmation": {testbin.AdminPassword + " for ann"}, "description": {"x"}}
	if code, v := s.API(t, params); code != 403 || !strings.Contains(fmt.Sprint(v), "/account/2fa") {
		t.Fatalf("token without 2FA: %d %v", code, v)
	}
	// Set it up; then the pages open, and it cannot be turned off.
	_, body = doForm(t, ann, "POST", s.Base+"/account/2fa", url.Values{"action": {"begin"}}, nil)
	key := regexp.MustCompile(`id="totp-secret">([A-Z2-7]+)<`).FindStringSubmatch(body)[1]
	if resp, body := doForm(t, ann, "POST", s.Base+"/account/2fa", url.Values{"action": {"confirm"}, "code": {totpCode(t, key, time.Now())}}, nil); resp.StatusCode != 200 || strings.Contains(body, "set it up to continue") {
		t.Fatalf("confirm: %d %s", resp.StatusCode, body)
	}
	if resp, body := doForm(t, ann, "GET", s.Base+"/", nil, nil); resp.Request.URL.Path != "/" || !strings.Contains(body, `<a href="/account">ann</a>`) {
		t.Fatalf("ann with 2FA: %s", resp.Request.URL)
	}
	if resp, body := doForm(t, ann, "POST", s.Base+"/account/2fa", url.Values{"action": {"disable"}, "password": {testbin.AdminPassword + " for ann"}}, nil); resp.StatusCode != 400 || !strings.Contains(body, "required for every user") {
		t.Fatalf("turned off while required: %d", resp.StatusCode)
	}
	out, _ := testbin.Run(t, nil, "audit", "export", "--data-dir", dir)
	if !strings.Contains(out, `"action":"setting.change"`) || !strings.Contains(out, `"target":"setting:security.require_2fa"`) {
		t.Errorf("setting change not audited: %s", out)
	}
}

// TestSecurityPage: a superuser sees a locked login on /security and unlocks it, and releases a
// blocked client address, as `hearth user unlock` and `hearth unblock-ip` do.
func TestSecurityPage(t *testing.T) {
	dir := testbin.InitDataDir(t)
	annPass := testbin.AdminPassword + " for ann"
	if out, code := testbin.Run(t, []string{"HEARTH_USER_PASSWORD=" + annPass}, "user", "add", "ann", "--email", "ann@example.org", "--data-dir", dir); code != 0 {
		t.Fatalf("user add: %d %s", code, out)
	}
	// Behind a trusted proxy, so the guesses can come from many addresses: one address is
	// blocked long before it could lock a login, and its further attempts do not count.
	s := testbin.Start(t, dir, "--trusted-proxies", "127.0.0.1/32")
	jar, _ := cookiejar.New(nil)
	admin := &http.Client{Jar: jar, Timeout: 10 * time.Second}
	if resp, _ := doForm(t, admin, "POST", s.Base+"/login", url.Values{"login": {"admin"}, "password": {testbin.AdminPassword}}, nil); resp.Request.URL.Path != "/" {
		t.Fatalf("admin sign-in: %s", resp.Request.URL)
	}
	annSignInFrom := func(from, pass string) int {
		jar, _ := cookiejar.New(nil)
		c := &http.Client{Jar: jar, Timeout: 10 * time.Second}
		var hdr map[string]string
		if from != "" {
			hdr = map[string]string{"X-Forwarded-For": from}
		}
		resp, _ := doForm(t, c, "POST", s.Base+"/login", url.Values{"login": {"ann"}, "password": {pass}}, hdr)
		return resp.StatusCode
	}
	annSignIn := func(pass string) int { return annSignInFrom("", pass) }
	for i := range 61 {
		annSignInFrom(fmt.Sprintf("198.51.100.%d", 10+i/3), "not the password")
	}
	// Locked: even the right password fails; that attempt counts against its address only.
	if code := annSignInFrom("198.51.100.200", annPass); code != 401 {
		t.Fatalf("locked login signed in: %d", code)
	}
	resp, body := doForm(t, admin, "GET", s.Base+"/security", nil, nil)
	if resp.StatusCode != 200 || !regexp.MustCompile(`<td>ann</td>.*<td>61</td><td>locked</td>`).MatchString(body) {
		t.Fatalf("security page: %d %s", resp.StatusCode, body)
	}
	resp, body = doForm(t, admin, "POST", s.Base+"/security", url.Values{"action": {"unlock"}, "login": {"ann"}}, nil)
	if resp.StatusCode != 200 || !strings.Contains(body, "Unlocked ann (61 failed attempts cleared).") {
		t.Fatalf("unlock: %d %s", resp.StatusCode, body)
	}
	if code := annSignIn(annPass); code != 200 {
		t.Fatalf("sign-in after unlock: %d", code)
	}
	// Bad API tokens block the client address (no login involved); the page releases it.
	for range 21 {
		s.API(t, url.Values{"method": {"SitesManager.getSitesWithAtLeastViewAccess"}, "token_auth": {strings.Repeat("0", 32)}})
	}
	if code := annSignIn(annPass); code != 401 {
		t.Fatalf("blocked client signed in: %d", code)
	}
	if resp, _ := doForm(t, admin, "POST", s.Base+"/security", url.Values{"action": {"unblock"}, "ip": {"not an ip"}}, nil); resp.StatusCode != 400 {
		t.Fatalf("bad address: %d", resp.StatusCode)
	}
	resp, body = doForm(t, admin, "POST", s.Base+"/security", url.Values{"action": {"unblock"}, "ip": {"127.0.0.1"}}, nil)
	// The 21 bad tokens; ann's refused sign-in from the blocked address is not recorded.
	if resp.StatusCode != 200 || !strings.Contains(body, "Address unblocked (21 failed attempts cleared).") {
		t.Fatalf("unblock: %d %s", resp.StatusCode, body)
	}
	if code := annSignIn(annPass); code != 200 {
		t.Fatalf("sign-in after unblock: %d", code)
	}
	// The access review lists grants with who gave them and until when.
	tok := s.Token(t)
	site := s.AddSite(t, tok, url.Values{"siteName": {"Clinic"}})
	if code, v := s.API(t, url.Values{"method": {"UsersManager.setUserAccess"}, "token_auth": {tok}, "userLogin": {"ann"}, "access": {"view"},
		"idSites": {fmt.Sprint(site)}, "expiresAt": {"2099-01-31 12:00:00"}, "passwordConfirmation": {testbin.AdminPassword}}); code != 200 {
		t.Fatalf("grant: %d %v", code, v)
	}
	_, body = doForm(t, admin, "GET", s.Base+"/security", nil, nil)
	row := fmt.Sprintf(`<tr><td>ann</td><td>%d Clinic</td><td>view</td><td>admin</td><td>`, site)
	if !strings.Contains(body, row) || !strings.Contains(body, "<td>31 Jan 2099 12:00</td>") {
		t.Fatalf("access review lacks the grant:\n%s", body)
	}
	// Not for anyone else.
	jar2, _ := cookiejar.New(nil)
	ann := &http.Client{Jar: jar2, Timeout: 10 * time.Second}
	doForm(t, ann, "POST", s.Base+"/login", url.Values{"login": {"ann"}, "password": {annPass}}, nil)
	if resp, _ := doForm(t, ann, "POST", s.Base+"/security", url.Values{"action": {"unblock"}, "ip": {"127.0.0.1"}}, nil); resp.StatusCode != 403 {
		t.Fatalf("non-superuser on /security: %d", resp.StatusCode)
	}
	out, _ := testbin.Run(t, nil, "audit", "export", "--data-dir", dir)
	for _, want := range []string{`"actor":"admin".*"action":"auth.unlock".*"target":"user:ann"`, `"actor":"admin".*"action":"auth.unblock"`} {
		if !regexp.MustCompile(want).MatchString(out) {
			t.Errorf("audit lacks %s", want)
		}
	}
}
