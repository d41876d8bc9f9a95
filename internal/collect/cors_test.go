package collect

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
)

// TestCredentialedOrigins: a site's own origin (CredentialedOrigin true) is answered with
// Access-Control-Allow-Credentials, as Matomo's tracker needs for its XHR POSTs, in the
// preflight too; any other origin, and every origin without CredentialedOrigin, is not.
func TestCredentialedOrigins(t *testing.T) {
	const site, other = "https://www.clinic.example", "https://evil.example"
	var asked []string
	withFunc := newTestHandler(&recordingSink{})
	withFunc.opts.CredentialedOrigin = func(origin string) bool {
		asked = append(asked, origin)
		return origin == site
	}
	without := newTestHandler(&recordingSink{})
	const hit = "/matomo.php?idsite=1&rec=1&send_image=0"
	const bulk = `{"requests":["?idsite=1&rec=1"],"send_image":0}`
	cases := []struct {
		name          string
		h             *Handler
		method, body  string
		origin, ask   string // Origin, Access-Control-Request-Headers
		wantOrigin    string // Access-Control-Allow-Origin
		wantCreds     bool
		wantVary      bool // Vary names Origin
		wantAllowHdrs string
	}{
		{"site POST", withFunc, "POST", "action_name=A", site, "", site, true, true, ""},
		{"site bulk POST", withFunc, "POST", bulk, site, "", site, true, true, ""},
		{"site GET", withFunc, "GET", "", site, "", site, true, true, ""},
		{"site preflight", withFunc, "OPTIONS", "", site, "content-type", site, true, true, "content-type"},
		{"other POST", withFunc, "POST", "action_name=A", other, "", other, false, true, ""},
		{"other GET", withFunc, "GET", "", other, "", "*", false, true, ""},
		{"other preflight", withFunc, "OPTIONS", "", other, "content-type", "*", false, true, "*"},
		{"no origin POST", withFunc, "POST", "action_name=A", "", "", "*", false, true, ""},
		{"no func POST", without, "POST", "action_name=A", site, "", site, false, true, ""},
		{"no func GET", without, "GET", "", site, "", "*", false, false, ""},
		{"no func preflight", without, "OPTIONS", "", site, "content-type", "*", false, false, "*"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req := httptest.NewRequest(c.method, hit, strings.NewReader(c.body))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=UTF-8")
			if c.origin != "" {
				req.Header.Set("Origin", c.origin)
			}
			if c.ask != "" {
				req.Header.Set("Access-Control-Request-Method", "POST")
				req.Header.Set("Access-Control-Request-Headers", c.ask)
			}
			rec := httptest.NewRecorder()
			c.h.ServeHTTP(rec, req)
			hdr := rec.Header()
			if rec.Code != http.StatusNoContent && rec.Code != http.StatusOK {
				t.Fatalf("status %d %v", rec.Code, hdr)
			}
			if got := hdr.Get("Access-Control-Allow-Origin"); got != c.wantOrigin {
				t.Errorf("Access-Control-Allow-Origin %q, want %q", got, c.wantOrigin)
			}
			creds := hdr.Values("Access-Control-Allow-Credentials")
			if c.wantCreds && !slices.Equal(creds, []string{"true"}) || !c.wantCreds && creds != nil {
				t.Errorf("Access-Control-Allow-Credentials %q, want it: %v", creds, c.wantCreds)
			}
			if vary := slices.Contains(hdr.Values("Vary"), "Origin"); vary != c.wantVary {
				t.Errorf("Vary %q, want Origin in it: %v", hdr.Values("Vary"), c.wantVary)
			}
			if got := hdr.Get("Access-Control-Allow-Headers"); got != c.wantAllowHdrs {
				t.Errorf("Access-Control-Allow-Headers %q, want %q", got, c.wantAllowHdrs)
			}
		})
	}
	for _, o := range asked {
		if o != site && o != other {
			t.Fatalf("CredentialedOrigin asked about %q: only a request's Origin is asked", o)
		}
	}
}
