package native

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"hearth/internal/audit"
	"hearth/internal/auth"
	"hearth/internal/store"
	"hearth/internal/store/sqlite"
)

func TestAuditEndpoint(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	meta, err := sqlite.Open(ctx, sqlite.Options{Path: filepath.Join(dir, "m.db"), Key: bytes.Repeat([]byte{2}, 64)})
	if err != nil {
		t.Fatal(err)
	}
	defer meta.Close()
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	trail := audit.New(meta, audit.Options{Key: []byte("k"), HeadPath: filepath.Join(dir, "audit.head")})
	svc := auth.New(auth.Options{Meta: meta, TokenKey: []byte("tk"), Now: func() time.Time { return now }})
	tokens := map[string]string{}
	for _, u := range []store.User{{Login: "root", Superuser: true}, {Login: "siteadmin"}, {Login: "viewer"}} {
		u.Email, u.PasswordHash = u.Login+"@example.org", "x"
		if err := meta.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		tokens[u.Login], _, _ = svc.NewToken(ctx, u.Login, "t", time.Time{})
	}
	for i := 1; i <= 2; i++ {
		if _, err := meta.CreateSite(ctx, store.Site{Name: "s", Timezone: "UTC", Currency: "EUR"}); err != nil {
			t.Fatal(err)
		}
	}
	_ = meta.SetRole(ctx, store.Grant{Login: "siteadmin", SiteID: 1, Name: auth.RoleAdmin})
	_ = meta.SetRole(ctx, store.Grant{Login: "viewer", SiteID: 1, Name: auth.RoleView})
	for _, ev := range []audit.Event{
		{Actor: "root", Action: audit.ActionSiteUpdate, Target: "site:1"},
		{Actor: "root", Action: audit.ActionSiteUpdate, Target: "site:2"},
		{Actor: "root", Action: audit.ActionAccessGrant, Target: "user:viewer site:1"},
		{Actor: "anonymous", Action: audit.ActionAuthFailure, Target: "user:root", Outcome: audit.Failure},
	} {
		if err := trail.Record(ctx, ev); err != nil {
			t.Fatal(err)
		}
	}
	api := New(Options{Meta: meta, Auth: svc, Trail: trail})
	get := func(who, query string) (int, string, http.Header) {
		req := httptest.NewRequest("GET", "/api/v1/audit"+query, nil)
		if tok, ok := tokens[who]; ok {
			req.Header.Set("Authorization", "Bearer "+tok)
		} else if who != "" {
			req.Header.Set("Authorization", "Bearer "+who)
		}
		rec := httptest.NewRecorder()
		api.ServeHTTP(rec, req)
		return rec.Code, rec.Body.String(), rec.Header()
	}
	targets := func(body string) string {
		var entries []struct {
			Target string `json:"target"`
		}
		if err := json.Unmarshal([]byte(body), &entries); err != nil {
			t.Fatalf("not a JSON array: %s", body)
		}
		var out []string
		for _, e := range entries {
			out = append(out, e.Target)
		}
		return strings.Join(out, "|")
	}
	code, body, _ := get("root", "")
	if code != 200 || targets(body) != "site:1|site:2|user:viewer site:1|user:root|audit" {
		t.Fatalf("superuser: %d %s", code, body)
	}
	code, body, _ = get("siteadmin", "")
	if code != 200 || targets(body) != "site:1|user:viewer site:1" {
		t.Fatalf("site admin sees only entries about their sites: %d %s", code, body)
	}
	if code, _, _ := get("viewer", ""); code != 403 {
		t.Fatalf("viewer: %d", code)
	}
	if code, _, h := get("", ""); code != 401 || h.Get("WWW-Authenticate") == "" {
		t.Fatalf("no token: %d", code)
	}
	if code, _, _ := get("0123456789abcdef0123456789abcdef", ""); code != 401 {
		t.Fatalf("bad token: %d", code)
	}
	if code, body, _ := get("root", "?format=xml"); code != 400 || !strings.Contains(body, "format") {
		t.Fatalf("bad format: %d %s", code, body)
	}
	if code, _, _ := get("root", "?since=yesterday"); code != 400 {
		t.Fatalf("bad since: %d", code)
	}
	code, body, _ = get("root", "?action=auth.")
	if code != 200 || targets(body) != "user:root" {
		t.Fatalf("action prefix: %d %s", code, body)
	}
	code, body, h := get("root", "?format=csv&actor=anonymous")
	if code != 200 || !strings.HasPrefix(h.Get("Content-Type"), "text/csv") || strings.Count(body, "\n") != 2 {
		t.Fatalf("csv: %d %q", code, body)
	}
	// Every read of the trail is itself recorded.
	_, body, _ = get("root", "?action=audit.export&format=ndjson")
	if n := strings.Count(body, `"action":"audit.export"`); n < 6 {
		t.Fatalf("exports recorded %d times: %s", n, body)
	}
	if _, err := trail.Verify(ctx); err != nil {
		t.Fatal(err)
	}
	if code, _, _ := get("root", "/../nothing"); code == 200 {
		t.Fatal("unknown path answered")
	}
}

func TestTokensEndpoint(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	meta, err := sqlite.Open(ctx, sqlite.Options{Path: filepath.Join(dir, "m.db"), Key: bytes.Repeat([]byte{6}, 64)})
	if err != nil {
		t.Fatal(err)
	}
	defer meta.Close()
	trail := audit.New(meta, audit.Options{Key: []byte("k"), HeadPath: filepath.Join(dir, "audit.head")})
	svc := auth.New(auth.Options{Meta: meta, TokenKey: []byte("tk")})
	tokens, ids := map[string]string{}, map[string]int64{}
	for _, u := range []store.User{{Login: "root", Superuser: true}, {Login: "ann"}, {Login: "bob"}} {
		u.Email, u.PasswordHash = u.Login+"@example.org", "x"
		if err := meta.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		tokens[u.Login], ids[u.Login], _ = svc.NewToken(ctx, u.Login, u.Login+"'s token", time.Time{})
	}
	annRO, _, _ := svc.NewToken(ctx, "ann", "read only", time.Time{}, auth.ReadOnly)
	api := New(Options{Meta: meta, Auth: svc, Trail: trail})
	call := func(tok, method, path string) (int, string) {
		req := httptest.NewRequest(method, path, nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		rec := httptest.NewRecorder()
		api.ServeHTTP(rec, req)
		return rec.Code, rec.Body.String()
	}
	logins := func(body string) string {
		var list []struct {
			Login, Description string
		}
		if err := json.Unmarshal([]byte(body), &list); err != nil {
			t.Fatalf("not JSON: %s", body)
		}
		var out []string
		for _, x := range list {
			out = append(out, x.Login+":"+x.Description)
		}
		return strings.Join(out, "|")
	}
	if code, body := call(tokens["ann"], "GET", "/api/v1/tokens"); code != 200 || logins(body) != "ann:ann's token|ann:read only" {
		t.Fatalf("own list: %d %s", code, body)
	}
	for _, tok := range tokens {
		if _, body := call(tokens["root"], "GET", "/api/v1/tokens?login=all"); strings.Contains(body, tok) {
			t.Fatal("a token value is listed")
		}
	}
	if code, body := call(tokens["root"], "GET", "/api/v1/tokens?login=all"); code != 200 || strings.Count(logins(body), "|") != 3 {
		t.Fatalf("superuser, all: %d %s", code, body)
	}
	if code, _ := call(tokens["ann"], "GET", "/api/v1/tokens?login=bob"); code != 403 {
		t.Fatalf("ann listing bob's: %d", code)
	}
	bobs := fmt.Sprintf("/api/v1/tokens/%d", ids["bob"])
	if code, _ := call(tokens["ann"], "DELETE", bobs); code != 404 {
		t.Fatalf("ann revoking bob's token: %d", code)
	}
	if code, _ := call(annRO, "DELETE", fmt.Sprintf("/api/v1/tokens/%d", ids["ann"])); code != 403 {
		t.Fatalf("read-only token revoking: %d", code)
	}
	if code, _ := call(tokens["ann"], "DELETE", "/api/v1/tokens/x"); code != 400 {
		t.Fatalf("bad id: %d", code)
	}
	if code, _ := call(tokens["root"], "DELETE", bobs); code != 204 {
		t.Fatalf("superuser revoking bob's token: %d", code)
	}
	if code, _ := call(tokens["bob"], "GET", "/api/v1/tokens"); code != 401 {
		t.Fatalf("revoked token still works: %d", code)
	}
	if code, _ := call(tokens["ann"], "DELETE", fmt.Sprintf("/api/v1/tokens/%d", ids["ann"])); code != 204 {
		t.Fatalf("ann revoking her own: %d", code)
	}
	var buf bytes.Buffer
	if err := trail.ExportFiltered(ctx, &buf, audit.NDJSON, audit.Filter{Action: audit.ActionTokenRevoke}); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(buf.String(), `"action":"token.revoke"`); n != 2 {
		t.Fatalf("%d revocations audited, want 2: %s", n, buf.String())
	}
}
