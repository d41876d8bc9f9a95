// Package tracker serves Hearth's JavaScript tracker, built from tracker/src by the pinned
// esbuild (`make tracker`) and embedded here, at /hearth.js and, byte for byte the same, at
// /matomo.js and /piwik.js so that existing Matomo snippets load it.
package tracker

import (
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"
)

//go:embed hearth.js
var script []byte

// Paths are the paths the tracker is served at.
var Paths = []string{"/hearth.js", "/matomo.js", "/piwik.js"}

// Script is the shipped tracker.
func Script() []byte { return script }

// Hash is the script's content hash (hex SHA-256, first 16 characters), its ETag.
func Hash() string {
	sum := sha256.Sum256(script)
	return hex.EncodeToString(sum[:8])
}

// Handler serves the tracker with a strong ETag of its content hash and a day of caching; a
// request whose If-None-Match names the hash gets 304. Any origin may load it, as a script.
func Handler() http.Handler {
	etag := `"` + Hash() + `"`
	size := strconv.Itoa(len(script))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		h := w.Header()
		h.Set("Content-Type", "application/javascript; charset=utf-8")
		h.Set("Cache-Control", "public, max-age=86400")
		h.Set("ETag", etag)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Cross-Origin-Resource-Policy", "cross-origin")
		for _, tag := range strings.Split(r.Header.Get("If-None-Match"), ",") {
			if t := strings.TrimSpace(tag); t == etag || t == "W/"+etag || t == "*" {
				w.WriteHeader(http.StatusNotModified)
				return
			}
		}
		h.Set("Content-Length", size)
		if r.Method == http.MethodHead {
			return
		}
		_, _ = w.Write(script)
	})
}
