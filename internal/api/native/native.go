// Package native serves Hearth's own JSON API under /api/v1/. Requests authenticate with
// "Authorization: Bearer <token>" (a session, once the dashboard brings them).
package native

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/netip"
	"strconv"
	"strings"

	"hearth/internal/audit"
	"hearth/internal/auth"
	"hearth/internal/requestid"
	"hearth/internal/store"
)

// Options configure the API.
type Options struct {
	Meta     store.Meta
	Auth     *auth.Service
	Trail    *audit.Trail
	ClientIP func(*http.Request) netip.Addr
	// Session resolves a signed-in browser's principal (nil when not signed in).
	Session func(*http.Request) *auth.Principal
	Logger  *slog.Logger
}

// API is the /api/v1/ handler.
type API struct {
	opts Options
	mux  *http.ServeMux
}

// New builds the API.
func New(opts Options) *API {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	a := &API{opts: opts, mux: http.NewServeMux()}
	a.mux.HandleFunc("GET /api/v1/audit", a.handle(a.audit))
	a.mux.HandleFunc("GET /api/v1/tokens", a.handle(a.tokens))
	a.mux.HandleFunc("DELETE /api/v1/tokens/{id}", a.handle(a.revokeToken))
	a.mux.HandleFunc("/api/v1/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "no such endpoint")
	})
	return a
}

func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) { a.mux.ServeHTTP(w, r) }

type apiError struct {
	status int
	msg    string
}

func (e *apiError) Error() string { return e.msg }

func writeError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": msg})
}

type request struct {
	principal *auth.Principal
	ip        netip.Addr
}

// handle authenticates the request and renders errors.
func (a *API) handle(fn func(http.ResponseWriter, *http.Request, *request) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		req := &request{}
		if a.opts.ClientIP != nil {
			req.ip = a.opts.ClientIP(r)
		}
		token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if r.Header.Get("Authorization") == "" && a.opts.Session != nil {
			if p := a.opts.Session(r); p != nil {
				req.principal = p
				if err := fn(w, r, req); err != nil {
					a.fail(w, r, err)
				}
				return
			}
		}
		if !ok || token == "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="hearth"`)
			writeError(w, http.StatusUnauthorized, "authentication required: send Authorization: Bearer <token>")
			return
		}
		p, err := a.opts.Auth.Token(r.Context(), strings.TrimSpace(token), true, req.ip)
		if err != nil {
			if !errors.Is(err, auth.ErrBadCredentials) {
				a.opts.Logger.Error("token check failed", "err", err)
			}
			w.Header().Set("WWW-Authenticate", `Bearer realm="hearth", error="invalid_token"`)
			writeError(w, http.StatusUnauthorized, "the token is invalid or expired")
			return
		}
		req.principal = p
		if err := fn(w, r, req); err != nil {
			a.fail(w, r, err)
		}
	}
}

func (a *API) fail(w http.ResponseWriter, r *http.Request, err error) {
	var ae *apiError
	if errors.As(err, &ae) {
		writeError(w, ae.status, ae.msg)
		return
	}
	id := requestid.From(r.Context())
	a.opts.Logger.Error("api v1 request failed", "path", r.URL.Path, "request_id", id, "err", err)
	writeError(w, http.StatusInternalServerError, "internal error (request "+id+")")
}

// audit serves GET /api/v1/audit: superusers read every entry, site admins the entries
// about their sites. Query: since, until, action (exact, or a prefix ending in "."), actor,
// format (json, ndjson or csv).
func (a *API) audit(w http.ResponseWriter, r *http.Request, req *request) error {
	q := r.URL.Query()
	f := audit.Filter{Action: q.Get("action"), Actor: q.Get("actor")}
	var err error
	if f.From, err = audit.ParseTime(q.Get("since")); err != nil {
		return &apiError{http.StatusBadRequest, "since must be RFC 3339 or YYYY-MM-DD"}
	}
	if f.To, err = audit.ParseTime(q.Get("until")); err != nil {
		return &apiError{http.StatusBadRequest, "until must be RFC 3339 or YYYY-MM-DD"}
	}
	format := audit.Format(q.Get("format"))
	if format == "" {
		format = audit.JSON
	}
	contentType := map[audit.Format]string{audit.JSON: "application/json", audit.NDJSON: "application/x-ndjson", audit.CSV: "text/csv; charset=utf-8"}[format]
	if contentType == "" {
		return &apiError{http.StatusBadRequest, "format must be json, ndjson or csv"}
	}
	if !req.principal.IsSuperuser() {
		sites, err := a.opts.Meta.Sites(r.Context())
		if err != nil {
			return err
		}
		f.Sites = map[int64]bool{}
		for _, s := range sites {
			if req.principal.CanAdmin(s.ID) {
				f.Sites[int64(s.ID)] = true
			}
		}
		if len(f.Sites) == 0 {
			return &apiError{http.StatusForbidden, "reading the audit trail needs superuser access or admin access on a site"}
		}
	}
	// The read is recorded before it happens, so it is in its own result.
	details := map[string]string{"format": string(format)}
	for _, k := range []string{"action", "actor", "since", "until"} {
		if v := q.Get(k); v != "" {
			details[k] = v
		}
	}
	if err := a.opts.Trail.Record(r.Context(), audit.Event{Actor: req.principal.User.Login, IP: req.ip, Action: audit.ActionAuditExport,
		Target: "audit", Details: details}); err != nil {
		return err
	}
	w.Header().Set("Content-Type", contentType)
	if format == audit.CSV {
		w.Header().Set("Content-Disposition", `attachment; filename="hearth-audit.csv"`)
	}
	return a.opts.Trail.ExportFiltered(r.Context(), w, format, f)
}

// tokens serves GET /api/v1/tokens: the caller's own tokens; a superuser may ask for another
// user's (login=NAME) or everyone's (login=all). Token values are never shown again.
func (a *API) tokens(w http.ResponseWriter, r *http.Request, req *request) error {
	login := r.URL.Query().Get("login")
	switch {
	case login == "" || login == req.principal.User.Login:
		login = req.principal.User.Login
	case !req.principal.IsSuperuser():
		return &apiError{http.StatusForbidden, "only a superuser can list another user's tokens"}
	case login == "all":
		login = ""
	}
	list, err := a.opts.Meta.Tokens(r.Context(), login)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json")
	return json.NewEncoder(w).Encode(auth.ViewTokens(list))
}

// revokeToken serves DELETE /api/v1/tokens/{id}, for the token's owner or a superuser. A token
// the caller may not see answers 404, like one that does not exist.
func (a *API) revokeToken(w http.ResponseWriter, r *http.Request, req *request) error {
	if req.principal.ReadOnly {
		return &apiError{http.StatusForbidden, "a read-only token cannot revoke tokens"}
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return &apiError{http.StatusBadRequest, "the token id must be a positive number"}
	}
	login := req.principal.User.Login
	if req.principal.IsSuperuser() {
		login = ""
	}
	list, err := a.opts.Meta.Tokens(r.Context(), login)
	if err != nil {
		return err
	}
	found := false
	for _, t := range list {
		found = found || t.ID == id
	}
	if !found {
		return &apiError{http.StatusNotFound, "no such token"}
	}
	if err := a.opts.Meta.DeleteToken(r.Context(), id); err != nil {
		return err
	}
	if err := a.opts.Trail.Record(r.Context(), audit.Event{Actor: req.principal.User.Login, IP: req.ip, Action: audit.ActionTokenRevoke,
		Target: "token:" + strconv.FormatInt(id, 10)}); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
