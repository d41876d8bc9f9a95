// Package web serves Hearth's server-rendered pages and embedded static assets. Nothing is
// loaded from another origin and no page uses inline script.
package web

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"hearth/internal/audit"
	"hearth/internal/auth"
	"hearth/internal/store"
)

//go:embed templates/*.html
var templates embed.FS

//go:embed static
var static embed.FS

// Setting keys for the setup token.
const (
	setupHashKey    = "setup_token_sha256"
	setupExpiresKey = "setup_token_expires"
)

// Recorder records audit events.
type Recorder interface {
	Record(ctx context.Context, ev audit.Event) error
}

// Options configure the pages.
type Options struct {
	Meta store.Meta
	// Audit records what the pages do (the first superuser's creation).
	Audit    Recorder
	ClientIP func(*http.Request) netip.Addr
	// Accounts enable the sign-in pages; without Accounts.Auth only /setup and /static/ serve.
	Accounts Accounts
	// Reports answers the dashboard's Reporting API calls (api/matomo's API); without it the
	// site pages are not served.
	Reports Reporter
	// Version is shown on the system page.
	Version string
	// System is what the system page shows of the dependencies, storage and encryption.
	System SystemInfo
	Now    func() time.Time
	Logger *slog.Logger
}

// Web holds the pages.
type Web struct {
	meta     store.Meta
	audit    Recorder
	clientIP func(*http.Request) netip.Addr
	tmpl     *template.Template
	now      func() time.Time
	log      *slog.Logger
	mu       sync.Mutex // serialises superuser creation
	accounts Accounts
	reports  Reporter
	version  string
	system   SystemInfo
	started  time.Time
	msgs     catalogue
	assets   map[string]string // asset name -> its address with the content hash
}

func (w *Web) ip(r *http.Request) netip.Addr {
	if w.clientIP == nil {
		return netip.Addr{}
	}
	return w.clientIP(r)
}

// New parses the templates (failing fast on an error).
func New(opts Options) (*Web, error) {
	assets, err := hashAssets()
	if err != nil {
		return nil, err
	}
	t, err := template.New("").Funcs(funcs(assets)).ParseFS(templates, "templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("parse templates: %w", err)
	}
	msgs, err := loadCatalogue()
	if err != nil {
		return nil, err
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Web{meta: opts.Meta, audit: opts.Audit, clientIP: opts.ClientIP, tmpl: t, now: opts.Now, log: opts.Logger, accounts: opts.Accounts,
		reports: opts.Reports, version: opts.Version, system: opts.System, started: opts.Now(), msgs: msgs, assets: assets}, nil
}

// Handler routes the pages: /setup, the sign-in pages, the account, audit and security
// pages, the home page at / and the embedded assets under /static/. Every other path is 404.
func (w *Web) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/static/", w.immutable(Static()))
	mux.Handle("/setup", w.serve(w.setup))
	if w.accounts.Auth != nil {
		mux.Handle("/login", w.serve(w.login))
		mux.Handle("/logout", w.serve(w.logout))
		mux.Handle("/login/2fa", w.serve(w.loginSecondFactor))
		mux.Handle("/account/2fa", w.serve(w.twoFactor))
		for _, p := range []string{"/login/2fa/passkey", "/login/2fa/passkey/options"} {
			mux.Handle(p, w.serveJSON(w.passkeySignIn))
		}
		for _, p := range []string{"/account/passkeys", "/account/passkeys/options"} {
			mux.Handle(p, w.serveJSON(w.passkeyRegistration))
		}
		mux.Handle("/security", w.serve(w.security))
		mux.Handle("GET /audit", w.serve(w.auditPage))
		mux.Handle("GET /account", w.serve(w.account))
		mux.Handle("POST /account/language", w.serve(w.setLanguage))
		mux.Handle("GET /{$}", w.serve(w.sites))
		if w.reports != nil {
			w.siteRoutes(mux)
		}
	}
	mux.Handle("/", w.serve(func(http.ResponseWriter, *http.Request) error {
		return pageErrorT(http.StatusNotFound, "errorpage.not_found")
	}))
	return mux
}

// Static serves the embedded assets: files only, never a listing of their folder.
func Static() http.Handler {
	sub, _ := fs.Sub(static, "static")
	return http.StripPrefix("/static/", filesOnly(sub))
}

// NewSetupToken creates a fresh one-time setup token valid for 24 hours and stores its hash;
// it returns "" when a superuser already exists.
func NewSetupToken(ctx context.Context, meta store.Meta, now time.Time) (string, error) {
	n, err := meta.CountSuperusers(ctx)
	if err != nil {
		return "", err
	}
	if n > 0 {
		return "", nil
	}
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	tok := hex.EncodeToString(b)
	sum := sha256.Sum256([]byte(tok))
	if err := meta.SetSetting(ctx, setupHashKey, hex.EncodeToString(sum[:])); err != nil {
		return "", err
	}
	if err := meta.SetSetting(ctx, setupExpiresKey, strconv.FormatInt(now.Add(24*time.Hour).Unix(), 10)); err != nil {
		return "", err
	}
	return tok, nil
}

func (w *Web) validSetupToken(ctx context.Context, tok string) bool {
	if tok == "" {
		return false
	}
	want, err := w.meta.Setting(ctx, setupHashKey)
	if err != nil {
		return false
	}
	exp, err := w.meta.Setting(ctx, setupExpiresKey)
	if err != nil {
		return false
	}
	n, _ := strconv.ParseInt(exp, 10, 64)
	if w.now().Unix() > n {
		return false
	}
	sum := sha256.Sum256([]byte(tok))
	return subtle.ConstantTimeCompare([]byte(hex.EncodeToString(sum[:])), []byte(want)) == 1
}

type setupPage struct {
	shell
	Token, Login, Email, Error string
	Done, Invalid              bool
}

// setup serves /setup: the only way to create the first superuser through the web.
func (w *Web) setup(rw http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	if n, err := w.meta.CountSuperusers(ctx); err != nil {
		return fmt.Errorf("count superusers: %w", err)
	} else if n > 0 {
		return w.renderSetup(rw, r, http.StatusNotFound, setupPage{Invalid: true})
	}
	l := w.msgs.locale(r)
	switch r.Method {
	case http.MethodGet:
		tok := r.URL.Query().Get("token")
		if !w.validSetupToken(ctx, tok) {
			return w.renderSetup(rw, r, http.StatusForbidden, setupPage{Invalid: true})
		}
		return w.renderSetup(rw, r, http.StatusOK, setupPage{Token: tok})
	case http.MethodPost:
		r.Body = http.MaxBytesReader(rw, r.Body, 16<<10)
		if err := r.ParseForm(); err != nil {
			return w.renderSetup(rw, r, http.StatusBadRequest, setupPage{Invalid: true})
		}
		tok := r.PostForm.Get("token")
		page := setupPage{Token: tok, Login: strings.TrimSpace(r.PostForm.Get("login")), Email: strings.TrimSpace(r.PostForm.Get("email"))}
		w.mu.Lock()
		defer w.mu.Unlock()
		if !w.validSetupToken(ctx, tok) {
			return w.renderSetup(rw, r, http.StatusForbidden, setupPage{Invalid: true})
		}
		pass := r.PostForm.Get("password")
		if err := auth.ValidateNewUser(page.Login, page.Email); err != nil {
			page.Error = sentence(err.Error()) // the auth package's words
		} else if pass != r.PostForm.Get("password2") {
			page.Error = l.Text("setup.mismatch")
		} else if err := auth.CheckPasswordPolicy(pass, page.Login, page.Email); err != nil {
			page.Error = authText(l, err)
		}
		if page.Error != "" {
			return w.renderSetup(rw, r, http.StatusBadRequest, page)
		}
		hash, err := auth.HashPassword(pass)
		if err == nil {
			err = w.meta.CreateUser(ctx, store.User{Login: page.Login, Email: page.Email, PasswordHash: hash, Superuser: true, Created: w.now().UTC()})
		}
		if errors.Is(err, store.ErrConflict) {
			page.Error = l.Text("setup.taken")
			return w.renderSetup(rw, r, http.StatusBadRequest, page)
		}
		if err != nil {
			return fmt.Errorf("setup: create superuser: %w", err)
		}
		_ = w.meta.DeleteSetting(ctx, setupHashKey)
		_ = w.meta.DeleteSetting(ctx, setupExpiresKey)
		w.log.Info("first superuser created through /setup")
		if w.audit != nil {
			if err := w.audit.Record(ctx, audit.Event{Actor: page.Login, IP: w.ip(r), Action: audit.ActionUserCreate,
				Target: "user:" + page.Login, Details: map[string]string{"superuser": "true", "via": "setup page"}}); err != nil {
				w.log.Error("audit: record superuser creation", "err", err)
			}
		}
		return w.renderSetup(rw, r, http.StatusOK, setupPage{Done: true, Login: page.Login})
	default:
		return methodNotAllowed("GET, POST")
	}
}

func (w *Web) renderSetup(rw http.ResponseWriter, r *http.Request, status int, page setupPage) error {
	return w.renderShell(rw, r, status, "setup.html", &page)
}

// sentence capitalises an error message for display.
func sentence(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:] + "."
}
