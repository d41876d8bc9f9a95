package web

import (
	"bytes"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"hearth/internal/requestid"
)

// TestPageErrors: one renderer answers every page's error. A refusal shows its status and
// message; an internal error shows a generic message and the request ID, and only the log
// holds its detail, under the same ID; a redirect is a 303.
func TestPageErrors(t *testing.T) {
	var logBuf bytes.Buffer
	w, err := New(Options{Logger: slog.New(slog.NewTextHandler(&logBuf, nil))})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name     string
		err      error
		code     int
		body     string
		header   [2]string
		loggedAs string
	}{
		{"refusal", pageError(http.StatusForbidden, "This page is for superusers."), 403, "This page is for superusers.", [2]string{}, ""},
		{"method", methodNotAllowed("GET, POST"), 405, "does not take that method", [2]string{"Allow", "GET, POST"}, ""},
		{"internal", errors.New("disk on fire at /var/lib/secret"), 500, "Something went wrong on our side.", [2]string{}, "disk on fire"},
		{"redirect", &redirect{"/login"}, 303, "", [2]string{"Location", "/login"}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			logBuf.Reset()
			h := requestid.Handler(w.serve(func(http.ResponseWriter, *http.Request) error { return tc.err }))
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest("GET", "/x", nil))
			body := rec.Body.String()
			id := rec.Header().Get(requestid.Header)
			if rec.Code != tc.code || !strings.Contains(body, tc.body) {
				t.Fatalf("%d %s", rec.Code, body)
			}
			if tc.header[0] != "" && rec.Header().Get(tc.header[0]) != tc.header[1] {
				t.Fatalf("%s: %q", tc.header[0], rec.Header().Get(tc.header[0]))
			}
			if strings.Contains(body, "disk on fire") || strings.Contains(body, "/var/lib") {
				t.Fatalf("internal detail shown: %s", body)
			}
			if tc.loggedAs == "" {
				if logBuf.Len() > 0 {
					t.Fatalf("a client's mistake was logged: %s", logBuf.String())
				}
				return
			}
			if !strings.Contains(body, id) || !strings.Contains(logBuf.String(), "request_id="+id) || !strings.Contains(logBuf.String(), tc.loggedAs) {
				t.Fatalf("request ID %s: page %s, log %s", id, body, logBuf.String())
			}
		})
	}
}

// TestHandlerRoutes: the pages mount their own routes; an unknown path is the 404 page.
func TestHandlerRoutes(t *testing.T) {
	w, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	h := w.Handler()
	for _, tc := range []struct {
		path string
		code int
		body string
	}{
		{"/nothing/here", 404, "There is no page at this address."},
		{"/static/hearth.css", 200, ""},
		{"/static/", 404, ""},
		{"/login", 404, ""}, // no sign-in pages without accounts
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", tc.path, nil))
		if rec.Code != tc.code || !strings.Contains(rec.Body.String(), tc.body) {
			t.Errorf("%s: %d %.100s", tc.path, rec.Code, rec.Body.String())
		}
	}
}

// TestFormAction: a page's GET shows it (no action), a POST names its action, and a POST
// without one or another method is refused with the status the page shows.
func TestFormAction(t *testing.T) {
	cases := []struct {
		method, body string
		action       string
		status       int
	}{
		{"GET", "", "", 0},
		{"POST", "action=unlock&login=ann", "unlock", 0},
		{"POST", "login=ann", "", http.StatusBadRequest},
		{"POST", "action=%zz", "", http.StatusBadRequest},
		{"PUT", "action=unlock", "", http.StatusMethodNotAllowed},
	}
	for _, tc := range cases {
		r := httptest.NewRequest(tc.method, "/security", strings.NewReader(tc.body))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		action, err := formAction(httptest.NewRecorder(), r)
		var pe *PageError
		status := 0
		if errors.As(err, &pe) {
			status = pe.Status
		} else if err != nil {
			t.Fatalf("%s %q: %v", tc.method, tc.body, err)
		}
		if action != tc.action || status != tc.status {
			t.Errorf("%s %q: action %q, status %d; want %q, %d", tc.method, tc.body, action, status, tc.action, tc.status)
		}
	}
}
