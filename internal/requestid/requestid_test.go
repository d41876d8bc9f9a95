package requestid

import (
	"net/http"
	"net/http/httptest"
	"regexp"
	"testing"
)

func TestHandler(t *testing.T) {
	var seen []string
	h := Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { seen = append(seen, From(r.Context())) }))
	valid := regexp.MustCompile(`^[0-9a-f]{16}$`)
	for i := 0; i < 2; i++ {
		req := httptest.NewRequest("GET", "/", nil)
		req.Header.Set(Header, "forged\nline")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if got := rec.Header().Get(Header); !valid.MatchString(got) || got != seen[i] {
			t.Fatalf("request %d: header %q, context %q", i, got, seen[i])
		}
	}
	if seen[0] == seen[1] {
		t.Fatalf("two requests share the identifier %s", seen[0])
	}
	if From(httptest.NewRequest("GET", "/", nil).Context()) != "" {
		t.Fatal("an identifier without the handler")
	}
}
