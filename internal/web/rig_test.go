package web_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"hearth/internal/api/matomo"
	"hearth/internal/api/native"
	"hearth/internal/audit"
	"hearth/internal/auth"
	"hearth/internal/server"
	"hearth/internal/store"
	"hearth/internal/store/duckdb"
	"hearth/internal/store/sqlite"
	"hearth/internal/web"
)

// host is where the rig's requests go; a same-origin browser request says Origin: origin.
const (
	host   = "hearth.example"
	origin = "http://" + host
)

// errorLog records the ERROR lines of a logger: a client's mistake must not produce one.
type errorLog struct {
	mu    sync.Mutex
	lines []string
}

func (l *errorLog) Enabled(_ context.Context, lv slog.Level) bool { return lv >= slog.LevelError }
func (l *errorLog) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, r.Message)
	return nil
}
func (l *errorLog) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *errorLog) WithGroup(string) slog.Handler      { return l }

func (l *errorLog) check(t *testing.T) {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.lines) > 0 {
		t.Errorf("ERROR log lines: %q", l.lines)
	}
}

// pagesRig is the whole HTTP surface of the pages, the native API and the Reporting API, on
// real stores in a temporary directory, behind the real routing and middleware.
type pagesRig struct {
	h      http.Handler
	meta   *sqlite.Store
	events *duckdb.Store
	auth   *auth.Service
	trail  *audit.Trail
	log    *errorLog
	now    time.Time
	seq    uint64
}

func newPagesRig(t *testing.T) *pagesRig {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	meta, err := sqlite.Open(ctx, sqlite.Options{Path: filepath.Join(dir, "meta.db"), Key: bytes.Repeat([]byte{7}, 64)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { meta.Close() })
	events, err := duckdb.Open(ctx, duckdb.Options{Path: filepath.Join(dir, "events.duckdb")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { events.Close() })
	r := &pagesRig{meta: meta, events: events, log: &errorLog{}, now: time.Now().UTC().Truncate(time.Second)}
	clock := func() time.Time { return r.now }
	log := slog.New(r.log)
	r.trail = audit.New(meta, audit.Options{Key: []byte("audit key"), HeadPath: filepath.Join(dir, "audit.head"), Now: clock})
	r.auth = auth.New(auth.Options{Meta: meta, TokenKey: []byte("token key"), Audit: r.trail, Now: clock,
		Sessions: auth.SessionOptions{Idle: time.Hour, Lifetime: 24 * time.Hour}})
	clientIP := server.ClientIP(nil)
	api := matomo.New(matomo.Options{Meta: meta, Events: events, Auth: r.auth, Audit: r.trail, ClientIP: clientIP, Now: clock, Logger: log,
		PublicURL: origin})
	pages, err := web.New(web.Options{Meta: meta, Audit: r.trail, ClientIP: clientIP, Now: clock, Logger: log, Reports: api, Version: "test",
		Accounts: web.Accounts{Auth: r.auth, Trail: r.trail, Idle: time.Hour, Lifetime: 24 * time.Hour}})
	if err != nil {
		t.Fatal(err)
	}
	r.h = server.Handler(server.Options{
		API: api,
		Native: native.New(native.Options{Meta: meta, Auth: r.auth, Trail: r.trail, ClientIP: clientIP, Session: pages.Principal,
			Logger: log}),
		Pages: pages.Handler(), Tracking: http.NotFoundHandler(), Logger: log,
	})
	return r
}

func password(login string) string { return "the password of " + login + " is long" }

// user creates an account; superusers see every site.
func (r *pagesRig) user(t *testing.T, u store.User) {
	t.Helper()
	hash, err := auth.HashPassword(password(u.Login))
	if err != nil {
		t.Fatal(err)
	}
	u.PasswordHash, u.Created = hash, r.now
	if u.Email == "" {
		u.Email = "someone@example.org"
	}
	if err := r.meta.CreateUser(context.Background(), u); err != nil {
		t.Fatal(err)
	}
}

// session signs a user in and returns the session cookie's value.
func (r *pagesRig) session(t *testing.T, login string) string {
	t.Helper()
	v, err := r.auth.StartSession(context.Background(), login, "", netip.MustParseAddr("192.0.2.1"))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// request is one request to the rig.
type request struct {
	method, path string
	form         url.Values
	header       map[string]string
	cookies      map[string]string
}

type response struct {
	code   int
	body   string
	header http.Header
}

func (r *pagesRig) do(t *testing.T, q request) response {
	t.Helper()
	var body io.Reader
	target := q.path
	if q.form != nil {
		if q.method == http.MethodGet {
			target += "?" + q.form.Encode()
		} else {
			body = strings.NewReader(q.form.Encode())
		}
	}
	req := httptest.NewRequest(q.method, "http://"+host+target, body)
	req.RemoteAddr = "192.0.2.1:5000"
	if body != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range q.header {
		req.Header.Set(k, v)
	}
	for k, v := range q.cookies {
		req.AddCookie(&http.Cookie{Name: k, Value: v})
	}
	rec := httptest.NewRecorder()
	r.h.ServeHTTP(rec, req)
	return response{code: rec.Code, body: rec.Body.String(), header: rec.Header()}
}

// sets reports whether an answer sets the named cookie to a value.
func (a response) sets(name string) bool {
	for _, c := range (&http.Response{Header: a.header}).Cookies() {
		if c.Name == name && c.Value != "" && c.MaxAge >= 0 {
			return true
		}
	}
	return false
}
