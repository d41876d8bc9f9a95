package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"hearth/internal/audit"
	"hearth/internal/auth"
	"hearth/internal/requestid"
	"hearth/internal/store"
)

// SessionCookie is the name of the session cookie.
const SessionCookie = "hearth_session"

// PendingCookie carries a sign-in between the password and the second factor.
const PendingCookie = "hearth_2fa"

// Accounts are what the signed-in pages need beyond the metadata store.
type Accounts struct {
	Auth *auth.Service
	// Trail is read by the audit page.
	Trail *audit.Trail
	// Secure marks the session cookie Secure (served over TLS, or behind HTTPS).
	Secure bool
	// Idle and Lifetime are shown to the user.
	Idle, Lifetime time.Duration
	// PublicURL, when set, is the origin passkeys are bound to; otherwise the browser's.
	PublicURL string
}

func (w *Web) cookie(r *http.Request) string {
	c, err := r.Cookie(SessionCookie)
	if err != nil {
		return ""
	}
	return c.Value
}

func (w *Web) setCookie(rw http.ResponseWriter, value string, maxAge int) {
	w.setNamedCookie(rw, SessionCookie, value, maxAge)
}

func (w *Web) setNamedCookie(rw http.ResponseWriter, name, value string, maxAge int) {
	// Secure whenever Hearth is reached over HTTPS (TLS, or an https public URL); a plain-HTTP
	// install on a private network could not sign in otherwise.
	// #nosec G124 -- HttpOnly and SameSite always; Secure as above.
	http.SetCookie(rw, &http.Cookie{Name: name, Value: value, Path: "/", MaxAge: maxAge, HttpOnly: true,
		Secure: w.accounts.Secure, SameSite: http.SameSiteLaxMode})
}

// principal returns the signed-in user, or nil.
func (w *Web) principal(r *http.Request) *auth.Principal {
	v := w.cookie(r)
	if v == "" || w.accounts.Auth == nil {
		return nil
	}
	p, err := w.accounts.Auth.SessionPrincipal(r.Context(), v, w.ip(r))
	if err != nil {
		if !errors.Is(err, auth.ErrNoSession) {
			w.log.Error("resolve session", "err", err)
		}
		return nil
	}
	return p
}

// Principal resolves the session of a request for other handlers (the native API). A user who
// must still set up two-factor authentication gets nothing through a session until they have.
func (w *Web) Principal(r *http.Request) *auth.Principal {
	p := w.principal(r)
	if p == nil {
		return nil
	}
	if need, err := w.accounts.Auth.Needs2FASetup(r.Context(), p.User.Login); err != nil || need {
		return nil
	}
	return p
}

// signedIn returns the user of a page, or a redirect: to /login without a session, to
// /account/2fa while the user must set up two-factor authentication.
func (w *Web) signedIn(r *http.Request) (*auth.Principal, error) {
	p := w.principal(r)
	if p == nil {
		// A shared link opened signed out opens again after the sign-in.
		to := "/login"
		if r.Method == http.MethodGet && r.URL.Path != "/" {
			to += "?next=" + url.QueryEscape(r.URL.RequestURI())
		}
		return nil, &redirect{to}
	}
	need, err := w.accounts.Auth.Needs2FASetup(r.Context(), p.User.Login)
	if err != nil {
		return nil, fmt.Errorf("two-factor requirement: %w", err)
	}
	if need {
		return nil, &redirect{"/account/2fa"}
	}
	return p, nil
}

type loginPage struct {
	shell
	Login, Error string
	// Next is where the sign-in goes afterwards (a page of this server), "" for the sites.
	Next string
	// Passkey offers signing in with a passkey at the second step.
	Passkey bool
}

// login serves /login.
func (w *Web) login(rw http.ResponseWriter, r *http.Request) error {
	switch r.Method {
	case http.MethodGet:
		if w.principal(r) != nil {
			return &redirect{"/"}
		}
		return w.renderShell(rw, r, http.StatusOK, "login.html", &loginPage{Next: nextPage(r.URL.Query().Get("next"))})
	case http.MethodPost:
		l := w.msgs.locale(r)
		r.Body = http.MaxBytesReader(rw, r.Body, 16<<10)
		if err := r.ParseForm(); err != nil {
			return w.renderShell(rw, r, http.StatusBadRequest, "login.html", &loginPage{Error: l.Text("errorpage.form")})
		}
		next := nextPage(r.PostForm.Get("next"))
		login := strings.TrimSpace(r.PostForm.Get("login"))
		p, err := w.accounts.Auth.Password(r.Context(), login, r.PostForm.Get("password"), w.ip(r))
		if err != nil {
			if !errors.Is(err, auth.ErrBadCredentials) {
				return fmt.Errorf("sign in: %w", err)
			}
			// Wrong password, unknown login, blocked address or locked login: one answer.
			return w.renderShell(rw, r, http.StatusUnauthorized, "login.html", &loginPage{Login: login, Error: l.Text("signin.wrong"), Next: next})
		}
		has2FA, err := w.accounts.Auth.Has2FA(r.Context(), p.User.Login)
		if err != nil {
			return fmt.Errorf("sign in: %w", err)
		}
		if has2FA {
			// The password was right; the session starts only after the second factor.
			w.setNamedCookie(rw, PendingCookie, w.accounts.Auth.PendingSignIn(p.User.Login), int(auth.PendingLifetime/time.Second))
			keys, err := w.accounts.Auth.Passkeys(r.Context(), p.User.Login)
			if err != nil {
				// The code step still works; only the passkey button is left out.
				w.log.Error("sign in: list passkeys", "request_id", requestid.From(r.Context()), "err", err)
			}
			return w.renderShell(rw, r, http.StatusOK, "login_2fa.html", &loginPage{Passkey: len(keys) > 0, Next: next})
		}
		if err := w.beginSession(rw, r, p.User.Login); err != nil {
			return fmt.Errorf("start session: %w", err)
		}
		return &redirect{localBack(next, "/")}
	default:
		return methodNotAllowed("GET, POST")
	}
}

// beginSession starts a (rotated) session for a user who passed every factor and sets its
// cookie, ending the pending sign-in.
func (w *Web) beginSession(rw http.ResponseWriter, r *http.Request, login string) error {
	value, err := w.accounts.Auth.StartSession(r.Context(), login, w.cookie(r), w.ip(r))
	if err != nil {
		return err
	}
	if _, err := r.Cookie(PendingCookie); err == nil {
		w.setNamedCookie(rw, PendingCookie, "", -1)
	}
	w.setCookie(rw, value, int(w.accounts.Lifetime/time.Second))
	return nil
}

// loginSecondFactor serves POST /login/2fa: the authenticator or recovery code of a user
// whose password was accepted moments before.
func (w *Web) loginSecondFactor(rw http.ResponseWriter, r *http.Request) error {
	if r.Method != http.MethodPost {
		return &redirect{"/login"}
	}
	l := w.msgs.locale(r)
	login, err := w.pendingLogin(r)
	if err != nil {
		return w.renderShell(rw, r, http.StatusUnauthorized, "login.html", &loginPage{Error: l.Text("signin.expired")})
	}
	r.Body = http.MaxBytesReader(rw, r.Body, 16<<10)
	if err := r.ParseForm(); err != nil {
		return w.renderShell(rw, r, http.StatusBadRequest, "login_2fa.html", &loginPage{Error: l.Text("errorpage.form")})
	}
	next := nextPage(r.PostForm.Get("next"))
	if err := w.accounts.Auth.VerifySecondFactor(r.Context(), login, r.PostForm.Get("code"), w.ip(r)); err != nil {
		if !errors.Is(err, auth.ErrBadCode) {
			return fmt.Errorf("second factor: %w", err)
		}
		return w.renderShell(rw, r, http.StatusUnauthorized, "login_2fa.html", &loginPage{Error: l.Text("autherr.bad_code"), Next: next})
	}
	if err := w.beginSession(rw, r, login); err != nil {
		return fmt.Errorf("start session: %w", err)
	}
	return &redirect{localBack(next, "/")}
}

// pendingLogin is the user whose password was accepted moments before (the pending cookie).
func (w *Web) pendingLogin(r *http.Request) (string, error) {
	c, err := r.Cookie(PendingCookie)
	if err != nil {
		return "", auth.ErrNoSession
	}
	return w.accounts.Auth.PendingLogin(c.Value)
}

// logout serves POST /logout.
func (w *Web) logout(rw http.ResponseWriter, r *http.Request) error {
	if r.Method != http.MethodPost {
		return methodNotAllowed("POST")
	}
	if v := w.cookie(r); v != "" {
		if err := w.accounts.Auth.EndSession(r.Context(), v, w.principal(r), w.ip(r)); err != nil {
			w.log.Error("end session", "request_id", requestid.From(r.Context()), "err", err)
		}
	}
	w.setCookie(rw, "", -1)
	return &redirect{"/login"}
}

type siteAccess struct {
	ID         int64
	Name, Role string
	Raw        bool
}

type homePage struct {
	shell
	Login, Email        string
	Superuser, CanAudit bool
	Sites               []siteAccess
	Idle, Lifetime      time.Duration
	// Lang is the language chosen for the dashboard ("" for the browser's).
	Lang string
}

// adminSites lists the sites a principal administers.
func (w *Web) adminSites(ctx context.Context, p *auth.Principal) (map[int64]bool, []store.Site, error) {
	sites, err := w.meta.Sites(ctx)
	if err != nil {
		return nil, nil, err
	}
	admin := map[int64]bool{}
	for _, s := range sites {
		if p.CanAdmin(s.ID) {
			admin[int64(s.ID)] = true
		}
	}
	return admin, sites, nil
}

// account serves /account for signed-in users: who they are and what they may see.
func (w *Web) account(rw http.ResponseWriter, r *http.Request) error {
	p, err := w.signedIn(r)
	if err != nil {
		return err
	}
	admin, sites, err := w.adminSites(r.Context(), p)
	if err != nil {
		return fmt.Errorf("home page: %w", err)
	}
	page := homePage{Login: p.User.Login, Email: p.User.Email, Superuser: p.IsSuperuser(), CanAudit: p.IsSuperuser() || len(admin) > 0,
		Idle: w.accounts.Idle, Lifetime: w.accounts.Lifetime, Lang: chosenLanguage(r)}
	for _, s := range sites {
		if !p.CanView(s.ID) {
			continue
		}
		role := p.Role(s.ID)
		if p.IsSuperuser() {
			role = "superuser"
		}
		page.Sites = append(page.Sites, siteAccess{ID: int64(s.ID), Name: s.Name, Role: role, Raw: p.CanViewRaw(s.ID)})
	}
	return w.renderShell(rw, r, http.StatusOK, "account.html", &page)
}

type auditRow struct {
	Seq                                              int64
	Time                                             time.Time // UTC
	Actor, ActorIP, Action, Target, Outcome, Details string
}

type auditPage struct {
	shell
	Superuser, CanAudit, Truncated bool
	Action, Actor                  string
	Entries                        []auditRow
	// RetentionDays is how long entries are kept (0: forever).
	RetentionDays int
}

const auditPageRows = 200

// auditPage serves /audit: a page to browse the trail (superusers everything, site admins the
// entries about their sites). Each view is itself recorded.
func (w *Web) auditPage(rw http.ResponseWriter, r *http.Request) error {
	p, err := w.signedIn(r)
	if err != nil {
		return err
	}
	admin, _, err := w.adminSites(r.Context(), p)
	if err != nil {
		return fmt.Errorf("audit page: %w", err)
	}
	if !p.IsSuperuser() && len(admin) == 0 {
		return pageErrorT(http.StatusForbidden, "audit.forbidden")
	}
	q := r.URL.Query()
	f := audit.Filter{Action: strings.TrimSpace(q.Get("action")), Actor: strings.TrimSpace(q.Get("actor"))}
	if !p.IsSuperuser() {
		f.Sites = admin
	}
	if err := w.accounts.Trail.Record(r.Context(), audit.Event{Actor: p.User.Login, IP: w.ip(r), Action: audit.ActionAuditExport,
		Target: "audit", Details: map[string]string{"format": "page", "action": f.Action, "actor": f.Actor}}); err != nil {
		return fmt.Errorf("audit: record audit view: %w", err)
	}
	var buf bytes.Buffer
	if err := w.accounts.Trail.ExportFiltered(r.Context(), &buf, audit.NDJSON, f); err != nil {
		return fmt.Errorf("audit page: %w", err)
	}
	var rows []auditRow
	dec := json.NewDecoder(&buf)
	for dec.More() {
		var e struct {
			Seq     int64             `json:"seq"`
			Time    time.Time         `json:"time"`
			Actor   string            `json:"actor"`
			ActorIP string            `json:"actor_ip"`
			Action  string            `json:"action"`
			Target  string            `json:"target"`
			Outcome string            `json:"outcome"`
			Details map[string]string `json:"details"`
		}
		if err := dec.Decode(&e); err != nil {
			break
		}
		var parts []string
		for k, v := range e.Details {
			if v != "" {
				parts = append(parts, k+"="+v)
			}
		}
		sort.Strings(parts)
		rows = append(rows, auditRow{Seq: e.Seq, Time: e.Time.UTC(), Actor: e.Actor, ActorIP: e.ActorIP,
			Action: e.Action, Target: e.Target, Outcome: e.Outcome, Details: strings.Join(parts, " ")})
	}
	page := auditPage{Superuser: p.IsSuperuser(), CanAudit: true, Action: f.Action, Actor: f.Actor}
	for i := len(rows) - 1; i >= 0 && len(page.Entries) < auditPageRows; i-- {
		page.Entries = append(page.Entries, rows[i])
	}
	page.Truncated = len(rows) > auditPageRows
	if page.RetentionDays, err = w.accounts.Trail.Retention(r.Context()); err != nil {
		return fmt.Errorf("audit page: %w", err)
	}
	return w.renderShell(rw, r, http.StatusOK, "audit.html", &page)
}

// nextPage is a sign-in's return address when it is a page of this server, else "".
func nextPage(next string) string {
	if next == "" || len(next) > 4096 {
		return ""
	}
	return localBack(next, "")
}
