package e2e

import (
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"

	"hearth/test/testbin"
)

// TestPasskeySecondFactor drives Hearth's pages in headless Chromium with a virtual WebAuthn
// authenticator: a signed-in user adds a passkey (and gets recovery codes, as it is their
// first second factor), signs out, and signs in again with password and passkey. A passkey
// answering with a bad signature, or a copy of the authenticator whose signature counter went
// back, is refused, leaves the user signed out and counts as a failed attempt. Every step is
// checked in the audit trail.
func TestPasskeySecondFactor(t *testing.T) {
	dir := testbin.InitDataDir(t)
	s := testbin.Start(t, dir)
	// Passkeys are bound to a host name, so the browser uses localhost (a secure context
	// without TLS) rather than the IP address.
	base := strings.Replace(s.Base, "127.0.0.1", "localhost", 1)
	ctx := testbin.Browser(t)

	if _, err := chromedp.Call(ctx, webauthn.Enable, webauthn.EnableParams{}); err != nil {
		t.Fatalf("enable WebAuthn domain: %v", err)
	}
	va, err := chromedp.Call(ctx, webauthn.AddVirtualAuthenticator, webauthn.AddVirtualAuthenticatorParams{Options: &webauthn.VirtualAuthenticatorOptions{
		Protocol: webauthn.AuthenticatorProtocolCtap2, Transport: webauthn.AuthenticatorTransportUsb,
		HasResidentKey: true, HasUserVerification: true, IsUserVerified: true, AutomaticPresenceSimulation: true,
		// The protocol client always sends the cmtgKey field when adding a credential, which
		// only an authenticator with that extension accepts (used for the clone below).
		HasCmtgKey: true,
	}})
	if err != nil {
		t.Fatalf("add virtual authenticator: %v", err)
	}

	signInWithPassword := func() {
		testbin.Steps(t, ctx, "password step",
			chromedp.Navigate(base+"/login"),
			chromedp.WaitVisible(chromedp.CSS(`input[name=login]`)),
			chromedp.SendKeys(chromedp.CSS(`input[name=login]`), "admin"),
			chromedp.SendKeys(chromedp.CSS(`input[name=password]`), testbin.AdminPassword),
			chromedp.Submit(chromedp.CSS(`input[name=password]`)),
		)
	}
	text := func(sel string) string {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("read %s: %v", sel, err)
		}
		return v
	}
	auditCount := func(substrings ...string) int {
		out, code := testbin.Run(t, nil, "audit", "export", "--data-dir", dir)
		if code != 0 {
			t.Fatalf("audit export: %s", out)
		}
		n := 0
		for line := range strings.SplitSeq(out, "\n") {
			all := true
			for _, sub := range substrings {
				all = all && strings.Contains(line, sub)
			}
			if all && line != "" {
				n++
			}
		}
		return n
	}

	// No second factor yet: the password signs in.
	signInWithPassword()
	testbin.Steps(t, ctx, "home after password", chromedp.WaitVisible(chromedp.CSS(`nav`)))

	// Add a passkey from the account page.
	testbin.Steps(t, ctx, "add passkey",
		chromedp.Navigate(base+"/account/2fa"),
		chromedp.WaitVisible(chromedp.CSS(`#passkey-name`)),
		chromedp.SendKeys(chromedp.CSS(`#passkey-name`), "desk key"),
		chromedp.Click(chromedp.CSS(`#passkey-add button`)),
		chromedp.WaitVisible(chromedp.CSS(`#recovery-section`)),
	)
	if got := text(`#passkey-status`); !strings.Contains(got, "Passkey added") {
		t.Fatalf("status after adding: %q", got)
	}
	codes, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('#recovery-codes li').length`))
	if err != nil || codes != 10 {
		t.Fatalf("recovery codes shown: %d, %v; want 10", codes, err)
	}
	stored, err := chromedp.Call(ctx, webauthn.GetCredentials, webauthn.GetCredentialsParams(va))
	if err != nil || len(stored.Credentials) != 1 || stored.Credentials[0].RpID != "localhost" {
		t.Fatalf("authenticator holds %+v, %v; want one credential for localhost", stored, err)
	}
	testbin.Steps(t, ctx, "account page lists the passkey", chromedp.Navigate(base+"/account/2fa"), chromedp.WaitVisible(chromedp.CSS(`#passkeys`)))
	if got := text(`#passkeys`); !strings.Contains(got, "desk key") || !strings.Contains(got, "never") {
		t.Fatalf("passkey list: %q", got)
	}
	if n := auditCount(`"action":"2fa.enable"`, `"factor":"passkey"`, `"name":"desk key"`); n != 1 {
		t.Fatalf("%d 2fa.enable entries for the passkey, want 1", n)
	}

	// Sign out; the password alone no longer signs in: the passkey completes it.
	testbin.Steps(t, ctx, "sign out", chromedp.Click(chromedp.CSS(`nav form button`)), chromedp.WaitVisible(chromedp.CSS(`input[name=login]`)))
	logins := auditCount(`"action":"auth.login"`)
	signInWithPassword()
	testbin.Steps(t, ctx, "second step offers the passkey", chromedp.WaitVisible(chromedp.CSS(`#passkey-login`)))
	if loc, _ := chromedp.Run(ctx, chromedp.Location()); !strings.HasSuffix(loc, "/login") {
		t.Fatalf("after the password the browser is at %s, want the second step", loc)
	}
	if n := auditCount(`"action":"auth.login"`); n != logins {
		t.Fatalf("signed in after the password alone (%d → %d auth.login entries)", logins, n)
	}
	testbin.Steps(t, ctx, "passkey sign-in", chromedp.Click(chromedp.CSS(`#passkey-login`)), chromedp.WaitVisible(chromedp.CSS(`nav`)))
	if n := auditCount(`"action":"auth.login"`); n != logins+1 {
		t.Fatalf("auth.login entries %d → %d, want one more", logins, n)
	}
	testbin.Steps(t, ctx, "last use shown", chromedp.Navigate(base+"/account/2fa"), chromedp.WaitVisible(chromedp.CSS(`#passkeys`)))
	if got := text(`#passkeys`); strings.Contains(got, "never") {
		t.Fatalf("last use not recorded: %q", got)
	}

	refused := func(what, want string) {
		t.Helper()
		failures := auditCount(`"action":"auth.failure"`)
		signInWithPassword()
		testbin.Steps(t, ctx, what,
			chromedp.WaitVisible(chromedp.CSS(`#passkey-login`)),
			chromedp.Click(chromedp.CSS(`#passkey-login`)),
			chromedp.WaitVisible(chromedp.CSS(`#passkey-status`)),
		)
		if got := text(`#passkey-status`); !strings.Contains(got, "not accepted") || !strings.Contains(got, want) {
			t.Fatalf("%s: status %q, want it refused (%s)", what, got, want)
		}
		testbin.Steps(t, ctx, what+": still signed out", chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.CSS(`input[name=login]`)))
		if n := auditCount(`"action":"auth.failure"`); n != failures+1 {
			t.Fatalf("%s: auth.failure entries %d → %d, want one more", what, failures, n)
		}
	}

	// A bad signature is refused.
	testbin.Steps(t, ctx, "sign out", chromedp.Click(chromedp.CSS(`nav form button`)), chromedp.WaitVisible(chromedp.CSS(`input[name=login]`)))
	yes := true
	if _, err := chromedp.Call(ctx, webauthn.SetResponseOverrideBits, webauthn.SetResponseOverrideBitsParams{AuthenticatorID: va.AuthenticatorID, IsBogusSignature: &yes}); err != nil {
		t.Fatal(err)
	}
	refused("bogus signature", "")
	if _, err := chromedp.Call(ctx, webauthn.SetResponseOverrideBits, webauthn.SetResponseOverrideBitsParams{AuthenticatorID: va.AuthenticatorID}); err != nil {
		t.Fatal(err)
	}

	// A copy of the key whose signature counter starts again from zero is refused as a clone.
	stored, err = chromedp.Call(ctx, webauthn.GetCredentials, webauthn.GetCredentialsParams(va))
	if err != nil || len(stored.Credentials) != 1 || stored.Credentials[0].SignCount < 2 {
		t.Fatalf("authenticator holds %+v, %v; want one credential used at least twice", stored, err)
	}
	clone := *stored.Credentials[0]
	clone.SignCount = 0
	if len(clone.CmtgKeys) == 0 {
		clone.ActiveCmtgKeyIndex = nil
	}
	if _, err := chromedp.Call(ctx, webauthn.ClearCredentials, webauthn.ClearCredentialsParams(va)); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(ctx, webauthn.AddCredential, webauthn.AddCredentialParams{AuthenticatorID: va.AuthenticatorID, Credential: &clone}); err != nil {
		t.Fatal(err)
	}
	refused("cloned authenticator", "cloned")

	// The trail is intact after all of it.
	if out, code := testbin.Run(t, nil, "audit", "verify", "--data-dir", dir); code != 0 {
		t.Fatalf("verify: %s", out)
	}
}

// TestPasskeyEndpointsRefuse: the passkey calls need a pending sign-in or a session, refuse
// cross-origin browser requests, and refuse an IP-address origin with a clear reason.
func TestPasskeyEndpointsRefuse(t *testing.T) {
	dir := testbin.InitDataDir(t)
	s := testbin.Start(t, dir)
	base := strings.Replace(s.Base, "127.0.0.1", "localhost", 1)
	c := &http.Client{Timeout: 10 * time.Second}
	for _, path := range []string{"/login/2fa/passkey/options", "/login/2fa/passkey"} {
		resp, body := doForm(t, c, "POST", base+path, url.Values{}, nil)
		if resp.StatusCode != 401 || !strings.Contains(body, "start again") {
			t.Errorf("%s without a pending sign-in: %d %s", path, resp.StatusCode, body)
		}
	}
	for _, path := range []string{"/account/passkeys/options", "/account/passkeys?name=x"} {
		resp, body := doForm(t, c, "POST", base+path, url.Values{}, nil)
		if resp.StatusCode != 401 || !strings.Contains(body, "Sign in first") {
			t.Errorf("%s without a session: %d %s", path, resp.StatusCode, body)
		}
	}
	resp, _ := doForm(t, c, "POST", base+"/account/passkeys/options", url.Values{}, map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"})
	if resp.StatusCode != 403 {
		t.Errorf("cross-origin passkey call: %d, want 403", resp.StatusCode)
	}
	resp, _ = doForm(t, c, "GET", base+"/account/passkeys/options", nil, nil)
	if resp.StatusCode != 405 {
		t.Errorf("GET: %d, want 405", resp.StatusCode)
	}

	// Signed in at the IP address, adding a passkey is refused with the reason.
	jar, _ := cookiejar.New(nil)
	c.Jar = jar
	if resp, _ := doForm(t, c, "POST", s.Base+"/login", url.Values{"login": {"admin"}, "password": {testbin.AdminPassword}}, nil); resp.Request.URL.Path != "/" {
		t.Fatalf("sign in: ended at %s", resp.Request.URL)
	}
	resp, body := doForm(t, c, "POST", s.Base+"/account/passkeys/options", url.Values{}, nil)
	if resp.StatusCode != 400 || !strings.Contains(body, "host name, not an IP address") {
		t.Errorf("passkey at an IP address: %d %s", resp.StatusCode, body)
	}
}
