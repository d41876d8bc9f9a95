package web

import (
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"unicode/utf8"
)

// filesOnly serves the files of fsys and answers 404 for a directory, which the file server
// would list, and for a path that is not valid UTF-8, which names no asset (fs.Sub calls
// it invalid, and the file server would answer with a 500).
func filesOnly(fsys fs.FS) http.Handler {
	files := http.FileServerFS(fsys)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !utf8.ValidString(r.URL.Path) {
			http.NotFound(w, r)
			return
		}
		name := strings.TrimPrefix(path.Clean("/"+r.URL.Path), "/")
		if name == "" {
			name = "."
		}
		if fi, err := fs.Stat(fsys, name); err != nil || fi.IsDir() {
			http.NotFound(w, r)
			return
		}
		files.ServeHTTP(w, r)
	})
}

// hashAssets names every embedded asset by its content: the pages link to
// /static/NAME?h=HASH, which browsers may keep for a year, and a new build's file has a new
// address.
func hashAssets() (map[string]string, error) {
	out := map[string]string{}
	err := fs.WalkDir(static, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := static.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		name := strings.TrimPrefix(p, "static/")
		out[name] = "/static/" + name + "?h=" + hex.EncodeToString(sum[:6])
		return nil
	})
	return out, err
}

// asset is the content-hashed address of an embedded asset.
func (w *Web) asset(name string) string {
	if a, ok := w.assets[name]; ok {
		return a
	}
	return "/static/" + name
}

// immutable marks an answer to the current content-hashed address of an asset as cacheable
// for a year.
func (w *Web) immutable(h http.Handler) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if a, ok := w.assets[strings.TrimPrefix(r.URL.Path, "/static/")]; ok && r.URL.RawQuery != "" && strings.HasSuffix(a, "?"+r.URL.RawQuery) {
			rw.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		}
		h.ServeHTTP(rw, r)
	})
}
