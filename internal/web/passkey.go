package web

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"

	"hearth/internal/auth"
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

// passkeyError answers a failed passkey call: the texts of Hearth's passkey errors are safe
// to show; anything else is logged and answered generically.
func (w *Web) passkeyError(rw http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, auth.ErrPasskeyRejected), errors.Is(err, auth.ErrPasskeyCeremony), errors.Is(err, auth.ErrNoPasskey):
		writeJSON(rw, http.StatusUnauthorized, map[string]string{"error": firstLine(err)})
	case errors.Is(err, auth.ErrPasskeyName), errors.Is(err, auth.ErrPasskeyNeedsHost), errors.Is(err, auth.ErrPasskeyExists):
		writeJSON(rw, http.StatusBadRequest, map[string]string{"error": firstLine(err)})
	default:
		w.log.Error("passkey", "err", err)
		writeJSON(rw, http.StatusInternalServerError, map[string]string{"error": "Something went wrong; try again."})
	}
}

// firstLine is the first of a joined error's messages, as a sentence.
func firstLine(err error) string {
	msg := err.Error()
	for i, c := range msg {
		if c == '\n' {
			msg = msg[:i]
			break
		}
	}
	return sentence(msg)
}

// PasskeyRegistration serves POST /account/passkeys/options (the options for
// navigator.credentials.create) and POST /account/passkeys?name=… (the browser's answer) for
// the signed-in user.
func (w *Web) PasskeyRegistration(rw http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		rw.Header().Set("Allow", "POST")
		writeJSON(rw, http.StatusMethodNotAllowed, map[string]string{"error": "Use POST."})
		return
	}
	p := w.principal(r)
	if p == nil {
		writeJSON(rw, http.StatusUnauthorized, map[string]string{"error": "Sign in first."})
		return
	}
	rp, err := w.relyingParty(r)
	if err != nil {
		w.passkeyError(rw, err)
		return
	}
	if r.URL.Path == "/account/passkeys/options" {
		opts, err := w.accounts.Auth.BeginPasskeyRegistration(r.Context(), p.User.Login, rp)
		if err != nil {
			w.passkeyError(rw, err)
			return
		}
		writeJSON(rw, http.StatusOK, json.RawMessage(opts))
		return
	}
	codes, err := w.accounts.Auth.FinishPasskeyRegistration(r.Context(), p.User.Login, r.URL.Query().Get("name"), rp,
		http.MaxBytesReader(rw, r.Body, 64<<10), w.ip(r))
	if err != nil {
		w.passkeyError(rw, err)
		return
	}
	writeJSON(rw, http.StatusOK, map[string]any{"codes": codes})
}

// PasskeySignIn serves POST /login/2fa/passkey/options and POST /login/2fa/passkey: the passkey
// step of a sign-in whose password was accepted moments before.
func (w *Web) PasskeySignIn(rw http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		rw.Header().Set("Allow", "POST")
		writeJSON(rw, http.StatusMethodNotAllowed, map[string]string{"error": "Use POST."})
		return
	}
	login, err := w.pendingLogin(r)
	if err != nil {
		writeJSON(rw, http.StatusUnauthorized, map[string]any{"error": "The sign-in took too long; start again.", "redirect": "/login"})
		return
	}
	rp, err := w.relyingParty(r)
	if err != nil {
		w.passkeyError(rw, err)
		return
	}
	if r.URL.Path == "/login/2fa/passkey/options" {
		opts, err := w.accounts.Auth.BeginPasskeyLogin(r.Context(), login, rp)
		if err != nil {
			w.passkeyError(rw, err)
			return
		}
		writeJSON(rw, http.StatusOK, json.RawMessage(opts))
		return
	}
	if err := w.accounts.Auth.FinishPasskeyLogin(r.Context(), login, rp, http.MaxBytesReader(rw, r.Body, 64<<10), w.ip(r)); err != nil {
		w.passkeyError(rw, err)
		return
	}
	if err := w.beginSession(rw, r, login); err != nil {
		w.passkeyError(rw, err)
		return
	}
	writeJSON(rw, http.StatusOK, map[string]string{"redirect": "/"})
}

// passkeyRow is a passkey as the account page lists it.
type passkeyRow struct {
	ID, Name, Created, LastUsed string
}

func passkeyRows(keys []store.Passkey) []passkeyRow {
	rows := make([]passkeyRow, 0, len(keys))
	for _, k := range keys {
		row := passkeyRow{ID: base64.RawURLEncoding.EncodeToString(k.ID), Name: k.Name, Created: k.Created.Format("2006-01-02 15:04"), LastUsed: "never"}
		if !k.LastUsed.IsZero() {
			row.LastUsed = k.LastUsed.Format("2006-01-02 15:04")
		}
		rows = append(rows, row)
	}
	return rows
}
