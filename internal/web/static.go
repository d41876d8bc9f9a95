package web

import (
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
