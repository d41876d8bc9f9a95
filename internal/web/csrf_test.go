package web_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"

	"hearth/internal/audit"
	"hearth/internal/store"
)

// trailLen is the number of audit entries: every change of state Hearth makes is recorded.
func (r *pagesRig) trailLen(t *testing.T) int {
	t.Helper()
	var buf bytes.Buffer
	if err := r.trail.ExportFiltered(context.Background(), &buf, audit.NDJSON, audit.Filter{}); err != nil {
		t.Fatal(err)
	}
	return bytes.Count(buf.Bytes(), []byte("\n"))
}

// forgeries are the ways a request from another site reaches Hearth. Hearth has no per-form
// token: it refuses a state-changing request a browser marks as cross-origin (Sec-Fetch-Site,
// an Origin that is not this host, or, from a browser that sends neither, a Referer of another
// host), and its cookies are SameSite=Lax.
var forgeries = []struct {
	name   string
	header map[string]string
}{
	{name: "cross-site Origin", header: map[string]string{"Origin": "https://evil.example"}},
	{name: "Origin null", header: map[string]string{"Origin": "null"}},
	{name: "cross-site fetch metadata", header: map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"}},
	{name: "fetch metadata alone", header: map[string]string{"Sec-Fetch-Site": "cross-site"}},
	{name: "same-site sibling", header: map[string]string{"Sec-Fetch-Site": "same-site", "Origin": "https://other." + host}},
	{name: "Origin with the host as prefix", header: map[string]string{"Origin": "http://" + host + ".evil.example"}},
	{name: "Origin of another port", header: map[string]string{"Origin": origin + ":8443"}},
	// Browsers from before 2020 send neither Origin nor Sec-Fetch-Site on a form post.
	{name: "Referer of another origin", header: map[string]string{"Referer": "https://evil.example/form.html"}},
	{name: "Referer of a look-alike host", header: map[string]string{"Referer": "http://" + host + ".evil.example/"}},
}

// csrfTarget is a state-changing request of a signed-in browser, with what it changes.
type csrfTarget struct {
	name string
	req  func() request
	// state is what the request changes; a refused request leaves it as it was.
	state func(t *testing.T) string
	// getCode is the exact answer to the same request made with GET.
	getCode int
	// reached, when set, checks the same-origin answer of a request that changes nothing
	// stored (the passkey ceremonies are kept in memory); otherwise the state must change.
	reached func(a response) bool
	// undo restores the state after the same-origin request.
	undo func(t *testing.T)
}

// TestCrossSiteRequestsAreRefused sends every state-changing form of the pages, and the
// native API's one change, as another site would make a browser send it: each is refused
// with 403 and changes nothing, GET does nothing, and the same request from the page's own
// origin does change the state (so the check can fail).
func TestCrossSiteRequestsAreRefused(t *testing.T) {
	r := newPagesRig(t)
	ctx := context.Background()
	r.user(t, store.User{Login: "root", Superuser: true})
	r.user(t, store.User{Login: "victim"})
	ip := netip.MustParseAddr("198.51.100.7")
	for range 2 {
		if _, err := r.auth.Password(ctx, "victim", "not the password", ip); err == nil {
			t.Fatal("a wrong password was accepted")
		}
	}
	// keyholder has two passkeys, for the forms that remove them.
	r.user(t, store.User{Login: "keyholder"})
	for _, id := range []string{"key-1", "key-2"} {
		if err := r.meta.AddPasskey(ctx, store.Passkey{ID: []byte(id), Login: "keyholder", Name: id, RPID: host, Credential: []byte("{}"), Created: r.now}); err != nil {
			t.Fatal(err)
		}
	}
	keyholder := map[string]string{"hearth_session": r.session(t, "keyholder")}
	passkeys := func(t *testing.T) string {
		keys, err := r.meta.Passkeys(ctx, "keyholder")
		if err != nil {
			t.Fatal(err)
		}
		return fmt.Sprint(len(keys), " passkeys")
	}
	session := r.session(t, "root")
	rootCookie := map[string]string{"hearth_session": session}
	token := func(desc string) (string, int64) {
		tok, id, err := r.auth.NewToken(ctx, "root", desc, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		return tok, id
	}
	_, byCookie := token("revoked with the session")
	bearer, byBearer := token("revoked with a bearer token")
	tokenKept := func(id int64) func(t *testing.T) string {
		return func(t *testing.T) string {
			list, err := r.meta.Tokens(ctx, "root")
			if err != nil {
				t.Fatal(err)
			}
			for _, tk := range list {
				if tk.ID == id {
					return "token kept"
				}
			}
			return "token gone"
		}
	}
	trail := func(t *testing.T) string { return fmt.Sprint(r.trailLen(t), " audit entries") }
	pending := map[string]string{"hearth_2fa": r.auth.PendingSignIn("root")}
	targets := []csrfTarget{
		{name: "sign in", getCode: http.StatusOK, state: trail,
			req: func() request {
				return request{method: "POST", path: "/login", form: url.Values{"login": {"root"}, "password": {password("root")}}}
			}},
		{name: "second factor", getCode: http.StatusSeeOther, state: trail,
			req: func() request {
				return request{method: "POST", path: "/login/2fa", form: url.Values{"code": {"123456"}}, cookies: pending}
			},
			reached: func(a response) bool {
				return a.code == http.StatusUnauthorized && strings.Contains(a.body, "Wrong or already used code")
			}},
		{name: "require two-factor for everyone", getCode: http.StatusOK,
			req: func() request {
				return request{method: "POST", path: "/account/2fa", form: url.Values{"action": {"require"}, "password": {password("root")}}, cookies: rootCookie}
			},
			state: func(t *testing.T) string {
				on, err := r.auth.Require2FA(ctx)
				if err != nil {
					t.Fatal(err)
				}
				return fmt.Sprint("two-factor required: ", on)
			},
			undo: func(t *testing.T) {
				if err := r.auth.SetRequire2FA(ctx, false, "root", ip); err != nil {
					t.Fatal(err)
				}
			}},
		{name: "set up an authenticator app", getCode: http.StatusOK,
			req: func() request {
				return request{method: "POST", path: "/account/2fa", form: url.Values{"action": {"begin"}}, cookies: rootCookie}
			},
			state: func(t *testing.T) string {
				if _, err := r.meta.TOTP(ctx, "root"); err == nil {
					return "authenticator pending"
				}
				return "no authenticator"
			},
			undo: func(t *testing.T) {
				if err := r.meta.DeleteTOTP(ctx, "root"); err != nil {
					t.Fatal(err)
				}
			}},
		{name: "confirm an authenticator app", getCode: http.StatusOK, state: trail,
			req: func() request {
				return request{method: "POST", path: "/account/2fa", form: url.Values{"action": {"confirm"}, "code": {"123456"}}, cookies: rootCookie}
			},
			reached: func(a response) bool { return a.code == http.StatusBadRequest }},
		{name: "remove a passkey", getCode: http.StatusOK, state: passkeys,
			req: func() request {
				return request{method: "POST", path: "/account/2fa", cookies: keyholder, form: url.Values{"action": {"remove-passkey"},
					"id": {base64.RawURLEncoding.EncodeToString([]byte("key-1"))}, "password": {password("keyholder")}}}
			}},
		{name: "turn two-factor off", getCode: http.StatusOK, state: passkeys,
			req: func() request {
				return request{method: "POST", path: "/account/2fa", cookies: keyholder, form: url.Values{"action": {"disable"}, "password": {password("keyholder")}}}
			}},
		{name: "unblock an address", getCode: http.StatusOK, state: trail,
			req: func() request {
				return request{method: "POST", path: "/security", form: url.Values{"action": {"unblock"}, "ip": {"203.0.113.50"}}, cookies: rootCookie}
			}},
		{name: "unlock a login", getCode: http.StatusOK,
			req: func() request {
				return request{method: "POST", path: "/security", form: url.Values{"action": {"unlock"}, "login": {"victim"}}, cookies: rootCookie}
			},
			state: func(t *testing.T) string {
				n, _, err := r.auth.LoginFailures(ctx, "victim")
				if err != nil {
					t.Fatal(err)
				}
				return fmt.Sprint(n, " failures")
			}},
		{name: "revoke a token with the session", getCode: http.StatusNotFound, state: tokenKept(byCookie),
			req: func() request {
				return request{method: "DELETE", path: fmt.Sprintf("/api/v1/tokens/%d", byCookie), cookies: rootCookie}
			}},
		{name: "revoke a token with a bearer token", getCode: http.StatusNotFound, state: tokenKept(byBearer),
			req: func() request {
				return request{method: "DELETE", path: fmt.Sprintf("/api/v1/tokens/%d", byBearer), header: map[string]string{"Authorization": "Bearer " + bearer}}
			}},
		{name: "begin a passkey registration", getCode: http.StatusMethodNotAllowed, state: trail,
			req:     func() request { return request{method: "POST", path: "/account/passkeys/options", cookies: rootCookie} },
			reached: func(a response) bool { return a.code == http.StatusOK && strings.Contains(a.body, "challenge") }},
		{name: "finish a passkey registration", getCode: http.StatusMethodNotAllowed, state: trail,
			req: func() request {
				return request{method: "POST", path: "/account/passkeys?name=key", form: url.Values{}, cookies: rootCookie}
			},
			reached: func(a response) bool { return a.code == http.StatusUnauthorized || a.code == http.StatusBadRequest }},
		{name: "begin a passkey sign-in", getCode: http.StatusMethodNotAllowed, state: trail,
			req: func() request {
				return request{method: "POST", path: "/login/2fa/passkey/options", cookies: pending}
			},
			reached: func(a response) bool { return a.code != http.StatusForbidden && strings.Contains(a.body, "passkey") }},
		{name: "finish a passkey sign-in", getCode: http.StatusMethodNotAllowed, state: trail,
			req: func() request {
				return request{method: "POST", path: "/login/2fa/passkey", form: url.Values{}, cookies: pending}
			},
			reached: func(a response) bool { return a.code == http.StatusUnauthorized }},
		// Last: the same-origin request ends the session the others use.
		{name: "sign out", getCode: http.StatusMethodNotAllowed,
			req: func() request { return request{method: "POST", path: "/logout", cookies: rootCookie} },
			state: func(t *testing.T) string {
				if _, err := r.auth.SessionPrincipal(ctx, session, ip); err != nil {
					return "signed out"
				}
				return "signed in"
			}},
	}
	for _, tg := range targets {
		t.Run(tg.name, func(t *testing.T) {
			before := tg.state(t)
			for _, f := range forgeries {
				t.Run(f.name, func(t *testing.T) {
					q := tg.req()
					q.header = merge(q.header, f.header)
					a := r.do(t, q)
					if a.code != http.StatusForbidden || a.sets("hearth_session") || a.sets("hearth_2fa") {
						t.Errorf("%d %.200q %v, want 403 and no cookie", a.code, a.body, a.header["Set-Cookie"])
					}
					if after := tg.state(t); after != before {
						t.Errorf("state changed: %s, was %s", after, before)
					}
				})
			}
			t.Run("GET instead of POST", func(t *testing.T) {
				q := tg.req()
				q.method = http.MethodGet
				a := r.do(t, q)
				if a.code != tg.getCode || a.sets("hearth_session") {
					t.Errorf("%d %.200q %v, want %d and no session", a.code, a.body, a.header["Set-Cookie"], tg.getCode)
				}
				if after := tg.state(t); after != before {
					t.Errorf("state changed: %s, was %s", after, before)
				}
			})
			// From the page's own origin the request goes through: the control of this test.
			t.Run("same origin", func(t *testing.T) {
				q := tg.req()
				q.header = merge(q.header, map[string]string{"Origin": origin, "Sec-Fetch-Site": "same-origin"})
				a := r.do(t, q)
				after := tg.state(t)
				switch {
				case tg.reached != nil && !tg.reached(a):
					t.Errorf("same-origin request: %d %.200q", a.code, a.body)
				case tg.reached == nil && after == before:
					t.Errorf("same-origin request changed nothing (%s): %d %.200q", after, a.code, a.body)
				}
				if tg.undo != nil {
					tg.undo(t)
				}
			})
		})
	}
	r.log.check(t)
}

func merge(a, b map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}
