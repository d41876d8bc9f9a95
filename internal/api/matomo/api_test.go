package matomo

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"hearth/internal/auth"
	"hearth/internal/event"
	"hearth/internal/store"
	"hearth/internal/store/duckdb"
	"hearth/internal/store/sqlite"
)

type observer struct{ invalidated []event.SiteID }

func (o *observer) InvalidateSite(id event.SiteID) { o.invalidated = append(o.invalidated, id) }

type apiRig struct {
	api   *API
	obs   *observer
	token string
	now   time.Time
}

// openStores opens both stores in a temporary directory, closed when the test ends.
func openStores(t testing.TB) (*sqlite.Store, *duckdb.Store) {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	meta, err := sqlite.Open(ctx, sqlite.Options{Path: filepath.Join(dir, "m.db"), Key: bytes.Repeat([]byte{5}, 64)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { meta.Close() })
	events, err := duckdb.Open(ctx, duckdb.Options{Path: filepath.Join(dir, "e.duckdb")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { events.Close() })
	return meta, events
}

func newAPIRig(t *testing.T, postOnly bool) *apiRig {
	ctx := context.Background()
	meta, events := openStores(t)
	r := &apiRig{obs: &observer{}, now: time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)}
	hash, _ := auth.HashPassword("correct horse battery")
	if err := meta.CreateUser(ctx, store.User{Login: "root", Email: "r@example.org", PasswordHash: hash, Superuser: true}); err != nil {
		t.Fatal(err)
	}
	svc := auth.New(auth.Options{Meta: meta, TokenKey: []byte("tk"), Now: func() time.Time { return r.now }})
	var err error
	r.token, _, err = svc.NewToken(ctx, "root", "test", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	r.api = New(Options{Meta: meta, Events: events, Auth: svc, Sites: r.obs, APITokenPostOnly: postOnly, Now: func() time.Time { return r.now }})
	return r
}

// call sends params as a POST body (or GET query when get is true) and returns status and body.
func (r *apiRig) call(t *testing.T, get bool, params url.Values) (int, string) {
	t.Helper()
	params.Set("module", "API")
	var req *http.Request
	if get {
		req = httptest.NewRequest("GET", "/index.php?"+params.Encode(), nil)
	} else {
		req = httptest.NewRequest("POST", "/index.php", strings.NewReader(params.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	rec := httptest.NewRecorder()
	r.api.ServeHTTP(rec, req)
	return rec.Code, rec.Body.String()
}

func (r *apiRig) json(t *testing.T, params url.Values) (int, any) {
	t.Helper()
	params.Set("format", "json")
	if params.Get("token_auth") == "" {
		params.Set("token_auth", r.token)
	}
	code, body := r.call(t, false, params)
	var v any
	if err := json.Unmarshal([]byte(body), &v); err != nil {
		t.Fatalf("not JSON: %s", body)
	}
	return code, v
}

func TestErrorsAndAuth(t *testing.T) {
	r := newAPIRig(t, false)
	cases := []struct {
		name       string
		get        bool
		params     url.Values
		wantStatus int
		wantBody   string
	}{
		{"no token", false, url.Values{"method": {"SitesManager.getSitesWithAtLeastViewAccess"}, "format": {"json"}}, 401, `"result":"error"`},
		{"bad token", false, url.Values{"method": {"SitesManager.getSitesWithAtLeastViewAccess"}, "format": {"json"}, "token_auth": {"0123456789abcdef0123456789abcdef"}}, 401, "token_auth is invalid"},
		{"unknown method", false, url.Values{"method": {"Nope.nothing"}, "format": {"json"}, "token_auth": {r.token}}, 400, "does not exist"},
		{"xml error default", false, url.Values{"method": {"Nope.nothing"}, "token_auth": {r.token}}, 400, `<error message="The method &#39;Nope.nothing&#39; does not exist`},
		{"bad format", false, url.Values{"method": {"API.getMatomoVersion"}, "format": {"php"}, "token_auth": {r.token}}, 400, "not supported"},
		{"token by GET", true, url.Values{"method": {"API.getMatomoVersion"}, "format": {"json"}, "token_auth": {r.token}}, 200, `"value":"5.2.0"`},
		{"token creation needs POST", true, url.Values{"method": {"UsersManager.createAppSpecificTokenAuth"}, "format": {"json"}, "userLogin": {"root"}, "passwordConfirmation": {"correct horse battery"}, "description": {"x"}}, 400, "must be called with POST"},
		{"wrong password", false, url.Values{"method": {"UsersManager.createAppSpecificTokenAuth"}, "format": {"json"}, "userLogin": {"root"}, "passwordConfirmation": {"wrong"}, "description": {"x"}}, 401, "not correct"},
		{"unknown user", false, url.Values{"method": {"UsersManager.createAppSpecificTokenAuth"}, "format": {"json"}, "userLogin": {"ghost"}, "passwordConfirmation": {"wrong"}, "description": {"x"}}, 401, "not correct"},
		{"past expiry", false, url.Values{"method": {"UsersManager.createAppSpecificTokenAuth"}, "format": {"json"}, "userLogin": {"root"}, "passwordConfirmation": {"correct horse battery"}, "description": {"x"}, "expireDate": {"2020-01-01"}}, 400, "in the future"},
		{"missing idSite", false, url.Values{"method": {"SitesManager.getSiteFromId"}, "format": {"json"}, "token_auth": {r.token}}, 400, "idSite"},
		{"unknown site", false, url.Values{"method": {"SitesManager.getSiteFromId"}, "idSite": {"42"}, "format": {"json"}, "token_auth": {r.token}}, 400, "couldn't be found"},
		{"bad timezone", false, url.Values{"method": {"SitesManager.addSite"}, "siteName": {"x"}, "timezone": {"Mars/Olympus"}, "format": {"json"}, "token_auth": {r.token}}, 400, "timezone"},
		{"bad excluded ip", false, url.Values{"method": {"SitesManager.addSite"}, "siteName": {"x"}, "excludedIps": {"1.*.3.4"}, "format": {"json"}, "token_auth": {r.token}}, 400, "invalid IP rule"},
		{"no name", false, url.Values{"method": {"SitesManager.addSite"}, "format": {"json"}, "token_auth": {r.token}}, 400, "siteName"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, body := r.call(t, tc.get, tc.params)
			if code != tc.wantStatus || !strings.Contains(body, tc.wantBody) {
				t.Fatalf("got %d %s, want %d containing %q", code, body, tc.wantStatus, tc.wantBody)
			}
			if strings.Contains(body, r.token) {
				t.Fatal("response echoes the token")
			}
		})
	}

	post := newAPIRig(t, true)
	code, body := post.call(t, true, url.Values{"method": {"API.getMatomoVersion"}, "format": {"json"}, "token_auth": {post.token}})
	if code != 401 {
		t.Fatalf("--api-token-post-only must refuse tokens in the query string: %d %s", code, body)
	}
	code, _ = post.call(t, false, url.Values{"method": {"API.getMatomoVersion"}, "format": {"json"}, "token_auth": {post.token}})
	if code != 200 {
		t.Fatalf("POST body token refused: %d", code)
	}
}

func TestSitesLifecycle(t *testing.T) {
	r := newAPIRig(t, false)
	code, v := r.json(t, url.Values{"method": {"SitesManager.addSite"}, "siteName": {"Clinic"}, "urls[0]": {"https://clinic.example"},
		"urls[1]": {"https://www.clinic-alias.example"}, "timezone": {"Europe/Berlin"}, "currency": {"eur"}, "ecommerce": {"1"},
		"excludedIps": {"10.0.0.0/8,192.168.1.*"}, "excludedQueryParameters": {"session"}, "searchKeywordParameters": {"term"}})
	if code != 200 || v.(map[string]any)["value"] != 1.0 {
		t.Fatalf("addSite: %d %v", code, v)
	}
	_, v = r.json(t, url.Values{"method": {"SitesManager.getSiteFromId"}, "idSite": {"1"}})
	site := v.(map[string]any)
	if site["name"] != "Clinic" || site["main_url"] != "https://clinic.example" || site["timezone"] != "Europe/Berlin" || site["currency"] != "EUR" ||
		site["ecommerce"] != 1.0 || site["excluded_ips"] != "10.0.0.0/8,192.168.1.*" || site["sitesearch_keyword_parameters"] != "term" || site["creator_login"] != "root" {
		t.Fatalf("site: %v", site)
	}
	code, v = r.json(t, url.Values{"method": {"SitesManager.updateSite"}, "idSite": {"1"}, "siteName": {"Clinic North"}, "excludedUserAgents": {"Monitor"}})
	if code != 200 || v.(map[string]any)["result"] != "success" {
		t.Fatalf("updateSite: %d %v", code, v)
	}
	if len(r.obs.invalidated) != 1 || r.obs.invalidated[0] != 1 {
		t.Fatalf("ingest cache not invalidated: %v", r.obs.invalidated)
	}
	_, v = r.json(t, url.Values{"method": {"SitesManager.getSiteFromId"}, "idSite": {"1"}})
	site = v.(map[string]any)
	if site["name"] != "Clinic North" || site["excluded_user_agents"] != "Monitor" || site["timezone"] != "Europe/Berlin" {
		t.Fatalf("update must change only what was given: %v", site)
	}
	_, v = r.json(t, url.Values{"method": {"SitesManager.getSitesIdFromSiteUrl"}, "url": {"http://clinic-alias.example/some/page"}})
	if list := v.([]any); len(list) != 1 || list[0].(map[string]any)["idsite"] != 1.0 {
		t.Fatalf("getSitesIdFromSiteUrl: %v", v)
	}
	_, v = r.json(t, url.Values{"method": {"SitesManager.getSitesIdFromSiteUrl"}, "url": {"https://other.example"}})
	if list := v.([]any); len(list) != 0 {
		t.Fatalf("unrelated URL matched: %v", v)
	}
	_, v = r.json(t, url.Values{"method": {"SitesManager.getSitesWithAtLeastViewAccess"}})
	if list := v.([]any); len(list) != 1 {
		t.Fatalf("sites: %v", v)
	}
	code, body := r.call(t, false, url.Values{"method": {"SitesManager.getSiteFromId"}, "idSite": {"1"}, "token_auth": {r.token}})
	if code != 200 || !strings.Contains(body, "<name>Clinic North</name>") || !strings.HasPrefix(body, "<?xml") {
		t.Fatalf("xml: %s", body)
	}
	// A fresh token with an expiry works until it expires.
	code, v = r.json(t, url.Values{"method": {"UsersManager.createAppSpecificTokenAuth"}, "userLogin": {"root"},
		"passwordConfirmation": {"correct horse battery"}, "description": {"short"}, "expireHours": {"1"}, "token_auth": {"anonymous"}})
	tok, _ := v.(map[string]any)["value"].(string)
	if code != 200 || len(tok) != 32 {
		t.Fatalf("token: %d %v", code, v)
	}
	if code, _ := r.json(t, url.Values{"method": {"API.getMatomoVersion"}, "token_auth": {tok}}); code != 200 {
		t.Fatalf("new token refused: %d", code)
	}
	r.now = r.now.Add(2 * time.Hour)
	if code, _ := r.json(t, url.Values{"method": {"API.getMatomoVersion"}, "token_auth": {tok}}); code != 401 {
		t.Fatalf("expired token accepted: %d", code)
	}
}

func TestLiveParameters(t *testing.T) {
	r := newAPIRig(t, false)
	r.json(t, url.Values{"method": {"SitesManager.addSite"}, "siteName": {"Clinic"}, "urls[0]": {"https://clinic.example"}})
	for _, tc := range []struct {
		params url.Values
		want   string
	}{
		{url.Values{"date": {"notadate"}}, "not a correct date"},
		{url.Values{"period": {"decade"}, "date": {"today"}}, "period 'decade' is not supported"},
		{url.Values{"segment": {"shoeSize==42"}}, "not a supported segment"},
		{url.Values{"filter_limit": {"x"}}, "filter_limit"},
		{url.Values{"minTimestamp": {"soon"}}, "minTimestamp"},
	} {
		p := url.Values{"method": {"Live.getLastVisitsDetails"}, "idSite": {"1"}}
		for k, v := range tc.params {
			p[k] = v
		}
		code, v := r.json(t, p)
		if code != 400 || !strings.Contains(v.(map[string]any)["message"].(string), tc.want) {
			t.Errorf("%v: %d %v", tc.params, code, v)
		}
	}
	code, v := r.json(t, url.Values{"method": {"Live.getLastVisitsDetails"}, "idSite": {"1"}, "date": {"today"}, "period": {"day"}})
	if code != 200 || len(v.([]any)) != 0 {
		t.Fatalf("empty log: %d %v", code, v)
	}
	code, v = r.json(t, url.Values{"method": {"Live.getLastVisitsDetails"}, "idSite": {"1"}, "date": {"last7"}, "period": {"week"}})
	if code != 200 || len(v.([]any)) != 0 {
		t.Fatalf("empty log over weeks: %d %v", code, v)
	}
	code, v = r.json(t, url.Values{"method": {"Live.getCounters"}, "idSite": {"1"}, "lastMinutes": {"5000"}})
	if code != 400 {
		t.Fatalf("lastMinutes bound: %d %v", code, v)
	}
}

func TestTokenFlags(t *testing.T) {
	r := newAPIRig(t, false)
	r.json(t, url.Values{"method": {"SitesManager.addSite"}, "siteName": {"Clinic"}})
	create := func(extra url.Values) string {
		p := url.Values{"method": {"UsersManager.createAppSpecificTokenAuth"}, "userLogin": {"root"},
			"passwordConfirmation": {"correct horse battery"}, "description": {"flags"}, "token_auth": {"anonymous"}}
		for k, v := range extra {
			p[k] = v
		}
		code, v := r.json(t, p)
		tok, _ := v.(map[string]any)["value"].(string)
		if code != 200 || len(tok) != 32 {
			t.Fatalf("create: %d %v", code, v)
		}
		return tok
	}
	ro := create(url.Values{"readOnly": {"1"}})
	if code, _ := r.json(t, url.Values{"method": {"SitesManager.getSiteFromId"}, "idSite": {"1"}, "token_auth": {ro}}); code != 200 {
		t.Fatalf("read-only token reading: %d", code)
	}
	code, v := r.json(t, url.Values{"method": {"SitesManager.updateSite"}, "idSite": {"1"}, "siteName": {"X"}, "token_auth": {ro}})
	if code != 401 || !strings.Contains(v.(map[string]any)["message"].(string), "read-only") {
		t.Fatalf("read-only token writing: %d %v", code, v)
	}
	po := create(url.Values{"postOnly": {"1"}})
	if code, _ := r.call(t, true, url.Values{"method": {"API.getMatomoVersion"}, "format": {"json"}, "token_auth": {po}}); code != 401 {
		t.Fatalf("post-only token in the URL: %d", code)
	}
	if code, _ := r.call(t, false, url.Values{"method": {"API.getMatomoVersion"}, "format": {"json"}, "token_auth": {po}}); code != 200 {
		t.Fatalf("post-only token in the body: %d", code)
	}
}

// TestQueryTimeout: a request that outlives its time limit is stopped and answered 503 with a
// hint, and the server goes on serving.
func TestQueryTimeout(t *testing.T) {
	r := newAPIRig(t, false)
	r.json(t, url.Values{"method": {"SitesManager.addSite"}, "siteName": {"Clinic"}, "urls[0]": {"https://clinic.example"}})
	r.api.opts.QueryTimeout = time.Nanosecond
	code, v := r.json(t, url.Values{"method": {"VisitsSummary.get"}, "idSite": {"1"}, "period": {"day"}, "date": {"last365"}})
	if code != 503 || !strings.Contains(fmt.Sprint(v), "took longer than") {
		t.Fatalf("timed-out report: %d %v", code, v)
	}
	r.api.opts.QueryTimeout = time.Minute
	if code, _ := r.json(t, url.Values{"method": {"VisitsSummary.get"}, "idSite": {"1"}, "period": {"day"}, "date": {"last365"}}); code != 200 {
		t.Fatalf("after a timeout: %d", code)
	}
}
