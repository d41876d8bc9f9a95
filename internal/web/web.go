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
}

func (w *Web) ip(r *http.Request) netip.Addr {
	if w.clientIP == nil {
		return netip.Addr{}
	}
	return w.clientIP(r)
}

// New parses the templates (failing fast on an error).
func New(meta store.Meta, rec Recorder, clientIP func(*http.Request) netip.Addr, now func() time.Time, log *slog.Logger) (*Web, error) {
	t, err := template.ParseFS(templates, "templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("parse templates: %w", err)
	}
	if now == nil {
		now = time.Now
	}
	return &Web{meta: meta, audit: rec, clientIP: clientIP, tmpl: t, now: now, log: log}, nil
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
	Token, Login, Email, Error string
	Done, Invalid              bool
}

// Setup serves /setup: the only way to create the first superuser through the web.
func (w *Web) Setup(rw http.ResponseWriter, r *http.Request) {
	rw.Header().Set("Cache-Control", "no-store")
	ctx := r.Context()
	if n, err := w.meta.CountSuperusers(ctx); err != nil || n > 0 {
		w.render(rw, http.StatusNotFound, setupPage{Invalid: true})
		return
	}
	switch r.Method {
	case http.MethodGet:
		tok := r.URL.Query().Get("token")
		if !w.validSetupToken(ctx, tok) {
			w.render(rw, http.StatusForbidden, setupPage{Invalid: true})
			return
		}
		w.render(rw, http.StatusOK, setupPage{Token: tok})
	case http.MethodPost:
		r.Body = http.MaxBytesReader(rw, r.Body, 16<<10)
		if err := r.ParseForm(); err != nil {
			w.render(rw, http.StatusBadRequest, setupPage{Invalid: true})
			return
		}
		tok := r.PostForm.Get("token")
		page := setupPage{Token: tok, Login: strings.TrimSpace(r.PostForm.Get("login")), Email: strings.TrimSpace(r.PostForm.Get("email"))}
		w.mu.Lock()
		defer w.mu.Unlock()
		if !w.validSetupToken(ctx, tok) {
			w.render(rw, http.StatusForbidden, setupPage{Invalid: true})
			return
		}
		pass := r.PostForm.Get("password")
		if err := auth.ValidateNewUser(page.Login, page.Email); err != nil {
			page.Error = sentence(err.Error())
		} else if pass != r.PostForm.Get("password2") {
			page.Error = "The passwords do not match."
		} else if err := auth.CheckPasswordPolicy(pass, page.Login, page.Email); err != nil {
			page.Error = sentence(err.Error())
		}
		if page.Error != "" {
			w.render(rw, http.StatusBadRequest, page)
			return
		}
		hash, err := auth.HashPassword(pass)
		if err == nil {
			err = w.meta.CreateUser(ctx, store.User{Login: page.Login, Email: page.Email, PasswordHash: hash, Superuser: true, Created: w.now().UTC()})
		}
		if err != nil {
			w.log.Error("setup: create superuser failed", "err", err)
			page.Error = "The superuser could not be created."
			w.render(rw, http.StatusInternalServerError, page)
			return
		}
		_ = w.meta.DeleteSetting(ctx, setupHashKey)
		_ = w.meta.DeleteSetting(ctx, setupExpiresKey)
		w.log.Info("first superuser created through /setup")
		if w.audit != nil {
			var ip netip.Addr
			if w.clientIP != nil {
				ip = w.clientIP(r)
			}
			if err := w.audit.Record(ctx, audit.Event{Actor: page.Login, IP: ip, Action: audit.ActionUserCreate,
				Target: "user:" + page.Login, Details: map[string]string{"superuser": "true", "via": "setup page"}}); err != nil {
				w.log.Error("audit: record superuser creation", "err", err)
			}
		}
		w.render(rw, http.StatusOK, setupPage{Done: true, Login: page.Login})
	default:
		rw.Header().Set("Allow", "GET, POST")
		http.Error(rw, "method not allowed", http.StatusMethodNotAllowed)
	}
}

func (w *Web) render(rw http.ResponseWriter, status int, page setupPage) {
	w.renderPage(rw, status, "setup.html", page)
}

// sentence capitalises an error message for display.
func sentence(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:] + "."
}
