// Package requestid gives every HTTP request an identifier that is sent to the client (the
// X-Request-Id header, and on error pages) and written beside every log line about the
// request, so a user's report finds the log line. An identifier sent by the client is never
// used: it could forge or flood log lines.
package requestid

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
)

// Header is the response header that carries the identifier.
const Header = "X-Request-Id"

type key struct{}

// New returns a fresh identifier: 16 hexadecimal characters.
func New() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// With returns ctx carrying id.
func With(ctx context.Context, id string) context.Context { return context.WithValue(ctx, key{}, id) }

// From returns the identifier ctx carries, or "".
func From(ctx context.Context) string {
	id, _ := ctx.Value(key{}).(string)
	return id
}

// Handler gives each request a new identifier, in its context and in the response header.
func Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := New()
		w.Header().Set(Header, id)
		next.ServeHTTP(w, r.WithContext(With(r.Context(), id)))
	})
}
