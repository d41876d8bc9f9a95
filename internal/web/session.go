package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"sort"
	"strings"
	"time"

	"hearth/internal/audit"
	"hearth/internal/auth"
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

// SetAccounts enables the sign-in pages.
func (w *Web) SetAccounts(a Accounts) { w.accounts = a }

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

// signedIn returns the user of a page, or redirects: to /login without a session, to
// /account/2fa while the user must set up two-factor authentication.
func (w *Web) signedIn(rw http.ResponseWriter, r *http.Request) *auth.Principal {
	p := w.principal(r)
	if p == nil {
		http.Redirect(rw, r, "/login", http.StatusSeeOther)
		return nil
	}
	need, err := w.accounts.Auth.Needs2FASetup(r.Context(), p.User.Login)
	if err != nil {
		w.log.Error("two-factor requirement", "err", err)
		http.Error(rw, "internal error", http.StatusInternalServerError)
		return nil
	}
	if need {
		http.Redirect(rw, r, "/account/2fa", http.StatusSeeOther)
		return nil
	}
	return p
}

type loginPage struct {
	Login, Error string
	// Passkey offers signing in with a passkey at the second step.
	Passkey bool
}

// Login serves /login.
func (w *Web) Login(rw http.ResponseWriter, r *http.Request) {
	rw.Header().Set("Cache-Control", "no-store")
	switch r.Method {
	case http.MethodGet:
		if w.principal(r) != nil {
			http.Redirect(rw, r, "/", http.StatusSeeOther)
			return
		}
		w.renderPage(rw, http.StatusOK, "login.html", loginPage{})
	case http.MethodPost:
		r.Body = http.MaxBytesReader(rw, r.Body, 16<<10)
		if err := r.ParseForm(); err != nil {
			w.renderPage(rw, http.StatusBadRequest, "login.html", loginPage{Error: "The form could not be read."})
			return
		}
		login := strings.TrimSpace(r.PostForm.Get("login"))
		p, err := w.accounts.Auth.Password(r.Context(), login, r.PostForm.Get("password"), w.ip(r))
		if err != nil {
			if !errors.Is(err, auth.ErrBadCredentials) {
				w.log.Error("sign in", "err", err)
			}
			// Wrong password, unknown login, blocked address or locked login: one answer.
			w.renderPage(rw, http.StatusUnauthorized, "login.html", loginPage{Login: login, Error: "Wrong login or password."})
			return
		}
		has2FA, err := w.accounts.Auth.Has2FA(r.Context(), p.User.Login)
		if err != nil {
			w.log.Error("sign in", "err", err)
			w.renderPage(rw, http.StatusInternalServerError, "login.html", loginPage{Login: login, Error: "Signing in failed; try again."})
			return
		}
		if has2FA {
			// The password was right; the session starts only after the second factor.
			w.setNamedCookie(rw, PendingCookie, w.accounts.Auth.PendingSignIn(p.User.Login), int(auth.PendingLifetime/time.Second))
			keys, err := w.accounts.Auth.Passkeys(r.Context(), p.User.Login)
			if err != nil {
				w.log.Error("sign in", "err", err)
			}
			w.renderPage(rw, http.StatusOK, "login_2fa.html", loginPage{Passkey: len(keys) > 0})
			return
		}
		w.startSession(rw, r, p.User.Login, "login.html")
	default:
		rw.Header().Set("Allow", "GET, POST")
		http.Error(rw, "method not allowed", http.StatusMethodNotAllowed)
	}
}

// startSession signs a user in and sends them to their account page.
func (w *Web) startSession(rw http.ResponseWriter, r *http.Request, login, page string) {
	if err := w.beginSession(rw, r, login); err != nil {
		w.log.Error("start session", "err", err)
		w.renderPage(rw, http.StatusInternalServerError, page, loginPage{Error: "Signing in failed; try again."})
		return
	}
	http.Redirect(rw, r, "/", http.StatusSeeOther)
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

// LoginSecondFactor serves POST /login/2fa: the authenticator or recovery code of a user whose
// password was accepted moments before.
func (w *Web) LoginSecondFactor(rw http.ResponseWriter, r *http.Request) {
	rw.Header().Set("Cache-Control", "no-store")
	if r.Method != http.MethodPost {
		http.Redirect(rw, r, "/login", http.StatusSeeOther)
		return
	}
	login, err := w.pendingLogin(r)
	if err != nil {
		w.renderPage(rw, http.StatusUnauthorized, "login.html", loginPage{Error: "The sign-in took too long; start again."})
		return
	}
	r.Body = http.MaxBytesReader(rw, r.Body, 16<<10)
	if err := r.ParseForm(); err != nil {
		w.renderPage(rw, http.StatusBadRequest, "login_2fa.html", loginPage{Error: "The form could not be read."})
		return
	}
	if err := w.accounts.Auth.VerifySecondFactor(r.Context(), login, r.PostForm.Get("code"), w.ip(r)); err != nil {
		if !errors.Is(err, auth.ErrBadCode) {
			w.log.Error("second factor", "err", err)
		}
		w.renderPage(rw, http.StatusUnauthorized, "login_2fa.html", loginPage{Error: "Wrong or already used code."})
		return
	}
	w.startSession(rw, r, login, "login_2fa.html")
}

// pendingLogin is the user whose password was accepted moments before (the pending cookie).
func (w *Web) pendingLogin(r *http.Request) (string, error) {
	c, err := r.Cookie(PendingCookie)
	if err != nil {
		return "", auth.ErrNoSession
	}
	return w.accounts.Auth.PendingLogin(c.Value)
}

// Logout serves POST /logout.
func (w *Web) Logout(rw http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		rw.Header().Set("Allow", "POST")
		http.Error(rw, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if v := w.cookie(r); v != "" {
		if err := w.accounts.Auth.EndSession(r.Context(), v, w.principal(r), w.ip(r)); err != nil {
			w.log.Error("end session", "err", err)
		}
	}
	w.setCookie(rw, "", -1)
	http.Redirect(rw, r, "/login", http.StatusSeeOther)
}

type siteAccess struct {
	ID         int64
	Name, Role string
	Raw        bool
}

type homePage struct {
	Login, Email        string
	Superuser, CanAudit bool
	Sites               []siteAccess
	Idle, Lifetime      string
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

// Home serves / for signed-in users: who they are and what they may see.
func (w *Web) Home(rw http.ResponseWriter, r *http.Request) {
	rw.Header().Set("Cache-Control", "no-store")
	p := w.signedIn(rw, r)
	if p == nil {
		return
	}
	admin, sites, err := w.adminSites(r.Context(), p)
	if err != nil {
		w.log.Error("home page", "err", err)
		http.Error(rw, "internal error", http.StatusInternalServerError)
		return
	}
	page := homePage{Login: p.User.Login, Email: p.User.Email, Superuser: p.IsSuperuser(), CanAudit: p.IsSuperuser() || len(admin) > 0,
		Idle: w.accounts.Idle.String(), Lifetime: w.accounts.Lifetime.String()}
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
	w.renderPage(rw, http.StatusOK, "home.html", page)
}

type auditRow struct {
	Seq                                                    int64
	Time, Actor, ActorIP, Action, Target, Outcome, Details string
}

type auditPage struct {
	Superuser, CanAudit, Truncated bool
	Action, Actor                  string
	Entries                        []auditRow
	// RetentionDays is how long entries are kept (0: forever).
	RetentionDays int
}

const auditPageRows = 200

// Audit serves /audit: a page to browse the trail (superusers everything, site admins the
// entries about their sites). Each view is itself recorded.
func (w *Web) Audit(rw http.ResponseWriter, r *http.Request) {
	rw.Header().Set("Cache-Control", "no-store")
	p := w.signedIn(rw, r)
	if p == nil {
		return
	}
	admin, _, err := w.adminSites(r.Context(), p)
	if err != nil {
		http.Error(rw, "internal error", http.StatusInternalServerError)
		return
	}
	if !p.IsSuperuser() && len(admin) == 0 {
		http.Error(rw, "The audit trail is for superusers and site administrators.", http.StatusForbidden)
		return
	}
	q := r.URL.Query()
	f := audit.Filter{Action: strings.TrimSpace(q.Get("action")), Actor: strings.TrimSpace(q.Get("actor"))}
	if !p.IsSuperuser() {
		f.Sites = admin
	}
	if err := w.accounts.Trail.Record(r.Context(), audit.Event{Actor: p.User.Login, IP: w.ip(r), Action: audit.ActionAuditExport,
		Target: "audit", Details: map[string]string{"format": "page", "action": f.Action, "actor": f.Actor}}); err != nil {
		w.log.Error("audit: record audit view", "err", err)
		http.Error(rw, "internal error", http.StatusInternalServerError)
		return
	}
	var buf bytes.Buffer
	if err := w.accounts.Trail.ExportFiltered(r.Context(), &buf, audit.NDJSON, f); err != nil {
		w.log.Error("audit page", "err", err)
		http.Error(rw, "internal error", http.StatusInternalServerError)
		return
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
		rows = append(rows, auditRow{Seq: e.Seq, Time: e.Time.Format("2006-01-02 15:04:05"), Actor: e.Actor, ActorIP: e.ActorIP,
			Action: e.Action, Target: e.Target, Outcome: e.Outcome, Details: strings.Join(parts, " ")})
	}
	page := auditPage{Superuser: p.IsSuperuser(), CanAudit: true, Action: f.Action, Actor: f.Actor}
	for i := len(rows) - 1; i >= 0 && len(page.Entries) < auditPageRows; i-- {
		page.Entries = append(page.Entries, rows[i])
	}
	page.Truncated = len(rows) > auditPageRows
	if page.RetentionDays, err = w.accounts.Trail.Retention(r.Context()); err != nil {
		w.log.Error("audit page", "err", err)
		http.Error(rw, "internal error", http.StatusInternalServerError)
		return
	}
	w.renderPage(rw, http.StatusOK, "audit.html", page)
}

// readForm limits and parses a POST form; false (with the answer written) when it cannot.
func readForm(rw http.ResponseWriter, r *http.Request) bool {
	r.Body = http.MaxBytesReader(rw, r.Body, 16<<10)
	if err := r.ParseForm(); err != nil {
		http.Error(rw, "The form could not be read.", http.StatusBadRequest)
		return false
	}
	return true
}

func (w *Web) renderPage(rw http.ResponseWriter, status int, name string, data any) {
	rw.Header().Set("Content-Type", "text/html; charset=utf-8")
	rw.WriteHeader(status)
	if err := w.tmpl.ExecuteTemplate(rw, name, data); err != nil {
		w.log.Error("render page", "page", name, "err", err)
	}
}
