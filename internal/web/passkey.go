package web

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"hearth/internal/auth"
	"hearth/internal/requestid"
	"hearth/internal/store"
)

// relyingParty is where this request's passkey ceremony happens: the configured public URL,
// or the scheme and host the browser used.
func (w *Web) relyingParty(r *http.Request) (auth.RelyingParty, error) {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return auth.NewRelyingParty(w.accounts.PublicURL, scheme, r.Host)
}

// writeJSON answers a passkey call.
func writeJSON(rw http.ResponseWriter, status int, v any) {
	rw.Header().Set("Content-Type", "application/json; charset=utf-8")
	rw.Header().Set("Cache-Control", "no-store")
	rw.WriteHeader(status)
	_ = json.NewEncoder(rw).Encode(v)
}

// passkeyError is a passkey call's refusal, answered as JSON with its status.
type passkeyError struct {
	status   int
	message  string
	redirect string // where the page's script should go, if anywhere
}

func (e *passkeyError) Error() string { return e.message }

// passkeyErr keeps the texts of Hearth's passkey errors, which are safe to show, in the
// request's language; anything else stays an internal error for serveJSON to log and answer
// generically.
func passkeyErr(l *locale, err error) error {
	switch {
	case errors.Is(err, auth.ErrPasskeyRejected), errors.Is(err, auth.ErrPasskeyCeremony), errors.Is(err, auth.ErrNoPasskey):
		return &passkeyError{status: http.StatusUnauthorized, message: authText(l, err)}
	case errors.Is(err, auth.ErrPasskeyName), errors.Is(err, auth.ErrPasskeyNeedsHost), errors.Is(err, auth.ErrPasskeyExists):
		return &passkeyError{status: http.StatusBadRequest, message: authText(l, err)}
	}
	return err
}

// serveJSON runs a JSON call of a page's script and answers its error as JSON: a passkeyError
// with its status and message, anything else as a 500 whose details go only to the log.
func (w *Web) serveJSON(h handler) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		err := h(rw, r)
		if err == nil {
			return
		}
		var pe *passkeyError
		if !errors.As(err, &pe) {
			id := requestid.From(r.Context())
			w.log.Error("passkey call failed", "path", r.URL.Path, "request_id", id, "err", err)
			pe = &passkeyError{status: http.StatusInternalServerError, message: w.msgs.locale(r).Text("twofa.passkey_failed", id)}
		}
		body := map[string]string{"error": pe.message}
		if pe.redirect != "" {
			body["redirect"] = pe.redirect
		}
		if pe.status == http.StatusMethodNotAllowed {
			rw.Header().Set("Allow", "POST")
		}
		writeJSON(rw, pe.status, body)
	})
}

// passkeyRegistration serves POST /account/passkeys/options (the options for
// navigator.credentials.create) and POST /account/passkeys?name=… (the browser's answer) for
// the signed-in user.
func (w *Web) passkeyRegistration(rw http.ResponseWriter, r *http.Request) error {
	l := w.msgs.locale(r)
	if r.Method != http.MethodPost {
		return &passkeyError{status: http.StatusMethodNotAllowed, message: l.Text("twofa.use_post")}
	}
	p := w.principal(r)
	if p == nil {
		return &passkeyError{status: http.StatusUnauthorized, message: l.Text("twofa.sign_in_first")}
	}
	rp, err := w.relyingParty(r)
	if err != nil {
		return passkeyErr(l, err)
	}
	if r.URL.Path == "/account/passkeys/options" {
		opts, err := w.accounts.Auth.BeginPasskeyRegistration(r.Context(), p.User.Login, rp)
		if err != nil {
			return passkeyErr(l, err)
		}
		writeJSON(rw, http.StatusOK, json.RawMessage(opts))
		return nil
	}
	codes, err := w.accounts.Auth.FinishPasskeyRegistration(r.Context(), p.User.Login, r.URL.Query().Get("name"), rp,
		http.MaxBytesReader(rw, r.Body, 64<<10), w.ip(r))
	if err != nil {
		return passkeyErr(l, err)
	}
	writeJSON(rw, http.StatusOK, map[string]any{"codes": codes})
	return nil
}

// passkeySignIn serves POST /login/2fa/passkey/options and POST /login/2fa/passkey: the passkey
// step of a sign-in whose password was accepted moments before.
func (w *Web) passkeySignIn(rw http.ResponseWriter, r *http.Request) error {
	l := w.msgs.locale(r)
	if r.Method != http.MethodPost {
		return &passkeyError{status: http.StatusMethodNotAllowed, message: l.Text("twofa.use_post")}
	}
	login, err := w.pendingLogin(r)
	if err != nil {
		return &passkeyError{status: http.StatusUnauthorized, message: l.Text("signin.expired"), redirect: "/login"}
	}
	rp, err := w.relyingParty(r)
	if err != nil {
		return passkeyErr(l, err)
	}
	if r.URL.Path == "/login/2fa/passkey/options" {
		opts, err := w.accounts.Auth.BeginPasskeyLogin(r.Context(), login, rp)
		if err != nil {
			return passkeyErr(l, err)
		}
		writeJSON(rw, http.StatusOK, json.RawMessage(opts))
		return nil
	}
	if err := w.accounts.Auth.FinishPasskeyLogin(r.Context(), login, rp, http.MaxBytesReader(rw, r.Body, 64<<10), w.ip(r)); err != nil {
		return passkeyErr(l, err)
	}
	if err := w.beginSession(rw, r, login); err != nil {
		return fmt.Errorf("start session: %w", err)
	}
	writeJSON(rw, http.StatusOK, map[string]string{"redirect": "/"})
	return nil
}

// passkeyRow is a passkey as the account page lists it.
type passkeyRow struct {
	ID, Name string
	// Created and LastUsed are in UTC; LastUsed is zero for a passkey never used.
	Created, LastUsed time.Time
}

func passkeyRows(keys []store.Passkey) []passkeyRow {
	rows := make([]passkeyRow, 0, len(keys))
	for _, k := range keys {
		row := passkeyRow{ID: base64.RawURLEncoding.EncodeToString(k.ID), Name: k.Name, Created: k.Created.UTC()}
		if !k.LastUsed.IsZero() {
			row.LastUsed = k.LastUsed.UTC()
		}
		rows = append(rows, row)
	}
	return rows
}
