// Package e2e drives the real hearth binary over HTTP.
package e2e

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/maxmind/mmdbwriter/mmdbtype"

	"hearth/internal/enrich/geo/geotest"
	"hearth/test/testbin"
)

const firefoxUA = "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0"

func TestTrackingEndToEnd(t *testing.T) {
	dir := testbin.InitDataDir(t)
	s := testbin.Start(t, dir)
	tok := s.Token(t)
	site := s.AddSite(t, tok, url.Values{"excludedQueryParameters": {"patient_id"}})
	ua := map[string]string{"User-Agent": firefoxUA}
	track := s.Base + "/matomo.php"

	// 1. Single GET: the 43-byte GIF.
	resp, body := testbin.Get(t, track+"?idsite=1&rec=1&_id=1111111111111111&action_name=Home&url="+url.QueryEscape("https://clinic.example/?patient_id=12345&x=1")+
		"&urlref="+url.QueryEscape("https://duckduckgo.com/?q=clinic+hours")+"&res=1440x900&h=9&m=30&s=0", ua)
	if resp.StatusCode != 200 || len(body) != 43 || resp.Header.Get("Content-Type") != "image/gif" {
		t.Fatalf("GET: %d %d %q", resp.StatusCode, len(body), resp.Header.Get("Content-Type"))
	}
	// 2. POST form body.
	resp, _ = testbin.Post(t, track, "application/x-www-form-urlencoded", "ua="+url.QueryEscape(firefoxUA)+"&idsite=1&rec=1&_id=1111111111111111&send_image=0&e_c=Appointment&e_a=Book&e_n=Cardiology&e_v=1&url="+url.QueryEscape("https://clinic.example/book"))
	if resp.StatusCode != 204 {
		t.Fatalf("POST form: %d", resp.StatusCode)
	}
	// 3. sendBeacon style: parameters in the URL, empty body.
	resp, _ = testbin.Post(t, track+"?ua="+url.QueryEscape(firefoxUA)+"&idsite=1&rec=1&_id=1111111111111111&send_image=0&action_name=Contact&url="+url.QueryEscape("https://clinic.example/contact"), "text/plain", "")
	if resp.StatusCode != 204 {
		t.Fatalf("beacon: %d", resp.StatusCode)
	}
	// 4. Bulk with query-string and object items, one invalid.
	bulk := `{"requests":["?idsite=1&rec=1&_id=2222222222222222&action_name=Bulk%20A&url=https%3A%2F%2Fclinic.example%2Fbulk-a&ua=` + url.QueryEscape(firefoxUA) + `",` +
		`{"idsite":"1","rec":"1","_id":"2222222222222222","idgoal":"0","ec_id":"ORD-1","revenue":"42.5","ec_items":"[[\"SKU-1\",\"Gloves\",\"Care\",21.25,2]]","url":"https://clinic.example/checkout","ua":"` + firefoxUA + `"},` +
		`"?idsite=abc&rec=1"]}`
	resp, body = testbin.Post(t, track, "application/json", bulk)
	if resp.StatusCode != 200 || !strings.Contains(body, `"tracked":2`) || !strings.Contains(body, `"invalid":1`) {
		t.Fatalf("bulk: %d %s", resp.StatusCode, body)
	}
	// 5. Malformed input: clear 400s, never a 5xx.
	bad := []struct {
		name, method, target, ctype, body string
		wantReason                        string
	}{
		{"unknown site", "GET", "?idsite=99&rec=1&send_image=0", "", "", "idsite 99 does not exist"},
		{"bad idsite", "GET", "?idsite=x&rec=1&send_image=0", "", "", "idsite is not a valid site id"},
		{"invalid utf-8", "GET", "?idsite=1&rec=1&send_image=0&action_name=%ff", "", "", "not valid UTF-8"},
		{"absurd number", "GET", "?idsite=1&rec=1&send_image=0&idgoal=1&revenue=9e99", "", "", "out of range"},
		{"privileged without token", "GET", "?idsite=1&rec=1&send_image=0&cip=8.8.8.8", "", "", "token_auth"},
		{"bad bulk json", "POST", "", "application/json", `{"requests":[`, "not valid JSON"},
		{"huge body", "POST", "", "application/json", `{"requests":["` + strings.Repeat("a", 9<<20) + `"]}`, "too large"},
	}
	for _, b := range bad {
		var resp *http.Response
		var body string
		if b.method == "GET" {
			resp, body = testbin.Get(t, track+b.target, ua)
		} else {
			resp, body = testbin.Post(t, track+b.target, b.ctype, b.body)
		}
		if resp.StatusCode != 400 || !strings.Contains(resp.Header.Get("X-Hearth-Error"), b.wantReason) || !strings.Contains(body, b.wantReason) {
			t.Errorf("%s: %d %q %.200s", b.name, resp.StatusCode, resp.Header.Get("X-Hearth-Error"), body)
		}
	}
	if resp, _ := testbin.Get(t, s.Base+"/healthz", nil); resp.StatusCode != 200 {
		t.Fatalf("healthz after bad input: %d", resp.StatusCode)
	}
	if resp, body := testbin.Get(t, s.Base+"/readyz", nil); resp.StatusCode != 200 {
		t.Fatalf("readyz: %d %s", resp.StatusCode, body)
	}

	// Read everything back.
	visits := s.WaitActions(t, tok, site, 5)
	if len(visits) != 2 {
		t.Fatalf("visits = %d, want 2: %v", len(visits), visits)
	}
	byVisitor := map[string]map[string]any{}
	for _, v := range visits {
		byVisitor[v["visitorId"].(string)] = v
	}
	v1, v2 := byVisitor["1111111111111111"], byVisitor["2222222222222222"]
	if v1 == nil || v2 == nil {
		t.Fatalf("visitor ids: %v", byVisitor)
	}
	a1 := testbin.ActionsOf(v1)
	if len(a1) != 3 || a1[0]["url"] != "https://clinic.example/?x=1" || a1[0]["pageTitle"] != "Home" || a1[1]["type"] != "event" ||
		a1[1]["eventCategory"] != "Appointment" || a1[1]["eventValue"] != 1.0 || a1[2]["pageTitle"] != "Contact" {
		t.Fatalf("visit 1 actions: %v", a1)
	}
	if v1["referrerType"] != "search" || v1["referrerName"] != "DuckDuckGo" || v1["referrerKeyword"] != "clinic hours" ||
		v1["browserName"] != "Firefox" || v1["operatingSystemName"] != "GNU/Linux" || v1["resolution"] != "1440x900" ||
		v1["visitIp"] != "127.0.0.0" || v1["visitLocalTime"] != "09:30:00" || v1["actions"] != 3.0 || v1["events"] != 1.0 {
		t.Fatalf("visit 1 fields: %v", v1)
	}
	// Without a geolocation database the place is unknown, in Matomo's words.
	if v1["country"] != "Unknown" || v1["continent"] != "Unknown" || v1["continentCode"] != "unk" || v1["location"] != "Unknown" {
		t.Errorf("visit 1 location: country %v, continent %v (%v), location %v", v1["country"], v1["continent"], v1["continentCode"], v1["location"])
	}
	a2 := testbin.ActionsOf(v2)
	if len(a2) != 2 || a2[1]["type"] != "ecommerceOrder" || a2[1]["orderId"] != "ORD-1" || a2[1]["revenue"] != 42.5 ||
		v2["visitEcommerceStatus"] != "ordered" || v2["visitConverted"] != 1.0 {
		t.Fatalf("visit 2: %v", v2)
	}
	items, _ := a2[1]["itemDetails"].([]any)
	if len(items) != 1 || items[0].(map[string]any)["itemSKU"] != "SKU-1" || items[0].(map[string]any)["quantity"] != 2.0 {
		t.Fatalf("items: %v", a2[1]["itemDetails"])
	}
	// The same answer in XML, Matomo's default format.
	_, xml := s.API(t, url.Values{"method": {"Live.getLastVisitsDetails"}, "idSite": {"1"}, "format": {"xml"}, "token_auth": {tok}})
	if x := xml.(string); !strings.Contains(x, "<visitorId>1111111111111111</visitorId>") || !strings.Contains(x, "<orderId>ORD-1</orderId>") {
		t.Fatalf("xml: %.500s", x)
	}
	// Counters.
	_, c := s.API(t, url.Values{"method": {"Live.getCounters"}, "idSite": {"1"}, "lastMinutes": {"30"}, "token_auth": {tok}})
	if row := c.([]any)[0].(map[string]any); row["visits"] != 2.0 || row["actions"] != 4.0 || row["visitsConverted"] != 1.0 {
		t.Fatalf("counters: %v", c)
	}
	// Nothing of the raw IP, the token or the patient id reached the log or the data dir.
	s.Stop()
	logText := s.Log()
	for _, secret := range []string{tok, "patient_id=12345", testbin.AdminPassword} {
		if strings.Contains(logText, secret) {
			t.Errorf("log contains %q", secret)
		}
	}
	grepDir(t, dir, []string{tok, "patient_id=12345", testbin.AdminPassword, "127.0.0.1"})
}

// grepDir fails if any file under dir contains any of the needles.
func grepDir(t *testing.T, dir string, needles []string) {
	t.Helper()
	err := filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		for _, n := range needles {
			if strings.Contains(string(b), n) {
				t.Errorf("%s contains %q", p, n)
			}
		}
		if info.Mode().Perm()&0o077 != 0 {
			t.Errorf("%s has mode %v, want owner-only", p, info.Mode().Perm())
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestGracefulStopAndRestart(t *testing.T) {
	dir := testbin.InitDataDir(t)
	s := testbin.Start(t, dir)
	tok := s.Token(t)
	s.AddSite(t, tok, nil)
	for i := 0; i < 20; i++ {
		resp, _ := testbin.Get(t, fmt.Sprintf("%s/matomo.php?idsite=1&rec=1&_id=3333333333333333&url=https%%3A%%2F%%2Fclinic.example%%2Fp%d", s.Base, i), map[string]string{"User-Agent": firefoxUA})
		if resp.StatusCode != 200 {
			t.Fatalf("hit %d: %d", i, resp.StatusCode)
		}
	}
	s.Stop()
	if spool, _ := filepath.Glob(filepath.Join(dir, "spool", "*.spool")); len(spool) != 0 {
		t.Fatalf("a clean stop must leave an empty spool, found %v", spool)
	}
	s2 := testbin.Start(t, dir)
	// The open visit continues after the restart.
	resp, _ := testbin.Get(t, s2.Base+"/matomo.php?idsite=1&rec=1&_id=3333333333333333&url=https%3A%2F%2Fclinic.example%2Fafter", map[string]string{"User-Agent": firefoxUA})
	if resp.StatusCode != 200 {
		t.Fatal(resp.StatusCode)
	}
	visits := s2.WaitActions(t, tok, 1, 21)
	if len(visits) != 1 || len(testbin.ActionsOf(visits[0])) != 21 {
		t.Fatalf("after restart: %d visits, %d actions", len(visits), len(testbin.ActionsOf(visits[0])))
	}
}

// TestKillUnderLoad SIGKILLs the server while hits stream in and checks every hit that got a
// success answer is there after a restart.
func TestKillUnderLoad(t *testing.T) {
	dir := testbin.InitDataDir(t)
	s := testbin.Start(t, dir)
	tok := s.Token(t)
	s.AddSite(t, tok, nil)
	var acked sync.Map
	var n atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	tr := &http.Transport{MaxIdleConnsPerHost: 16}
	c := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	for w := 0; w < 16; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				u := fmt.Sprintf("https://clinic.example/w%d/%d", w, i)
				resp, err := c.Get(fmt.Sprintf("%s/matomo.php?idsite=1&rec=1&send_image=0&_id=%016x&url=%s&ua=%s", s.Base, w+1, url.QueryEscape(u), url.QueryEscape(firefoxUA)))
				if err != nil {
					return // the server is gone
				}
				resp.Body.Close()
				if resp.StatusCode == 204 {
					acked.Store(u, true)
					n.Add(1)
				}
				if i > 5000 {
					return
				}
			}
		}(w)
	}
	acks := testbin.Poll(time.Minute, func() bool { return n.Load() >= 1500 })
	s.Kill()
	close(stop)
	wg.Wait()
	if !acks {
		t.Fatalf("only %d hits acknowledged in a minute, want 1500 before the kill", n.Load())
	}
	total := 0
	acked.Range(func(_, _ any) bool { total++; return true })
	s2 := testbin.Start(t, dir)
	stored := testbin.AllActionURLs(s2.WaitActions(t, tok, 1, total))
	missing := 0
	acked.Range(func(k, _ any) bool {
		if stored[k.(string)] == 0 {
			missing++
		}
		return true
	})
	t.Logf("acknowledged %d hits before SIGKILL; %d stored after restart", total, len(stored))
	if missing > 0 {
		t.Fatalf("%d of %d acknowledged hits lost", missing, total)
	}
	for u, c := range stored {
		if c != 1 {
			t.Fatalf("%s stored %d times", u, c)
		}
	}
}

func TestSetupPageAndInit(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "fresh")
	s := testbin.Start(t, dir)
	var setupURL string
	testbin.Poll(5*time.Second, func() bool {
		for _, line := range strings.Split(s.Log(), "\n") {
			if strings.Contains(line, "/setup?token=") {
				setupURL = strings.TrimSpace(line)
			}
		}
		return setupURL != ""
	})
	if setupURL == "" {
		t.Fatalf("no setup URL printed:\n%s", s.Log())
	}
	tokenParam := setupURL[strings.Index(setupURL, "token=")+6:]
	for _, line := range strings.Split(s.Log(), "\n") {
		if strings.Contains(line, "level=") && strings.Contains(line, tokenParam) {
			t.Fatalf("setup token in the structured log: %s", line)
		}
	}
	resp, body := testbin.Get(t, s.Base+"/setup?token=wrong", nil)
	if resp.StatusCode != 403 || !strings.Contains(body, "invalid or has expired") {
		t.Fatalf("wrong token: %d", resp.StatusCode)
	}
	resp, body = testbin.Get(t, s.Base+"/setup?token="+tokenParam, nil)
	if resp.StatusCode != 200 || !strings.Contains(body, `name="password"`) {
		t.Fatalf("setup page: %d %s", resp.StatusCode, body)
	}
	csp := resp.Header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") || resp.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Fatalf("security headers: %v", resp.Header)
	}
	form := url.Values{"token": {tokenParam}, "login": {"admin"}, "email": {"admin@example.org"}, "password": {"short"}, "password2": {"short"}}
	resp, body = testbin.Post(t, s.Base+"/setup", "application/x-www-form-urlencoded", form.Encode())
	if resp.StatusCode != 400 || !strings.Contains(body, "at least 12 characters") {
		t.Fatalf("weak password: %d %s", resp.StatusCode, body)
	}
	// A cross-site form post is refused.
	req, _ := http.NewRequest("POST", s.Base+"/setup", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	if resp, err := testbin.Client.Do(req); err != nil || resp.StatusCode != 403 {
		t.Fatalf("cross-site post: %v %v", resp, err)
	}
	form.Set("password", testbin.AdminPassword)
	form.Set("password2", testbin.AdminPassword)
	resp, body = testbin.Post(t, s.Base+"/setup", "application/x-www-form-urlencoded", form.Encode())
	if resp.StatusCode != 200 || !strings.Contains(body, "was created") {
		t.Fatalf("create superuser: %d %s", resp.StatusCode, body)
	}
	if resp, _ := testbin.Get(t, s.Base+"/setup?token="+tokenParam, nil); resp.StatusCode != 404 {
		t.Fatalf("setup after a superuser exists: %d", resp.StatusCode)
	}
	tok := s.Token(t)
	if len(tok) != 32 {
		t.Fatal("token")
	}
	// init refuses on an initialised data dir, with a clear message and a non-zero exit.
	s.Stop()
	out, code := testbin.Run(t, []string{"HEARTH_ADMIN_PASSWORD=" + testbin.AdminPassword}, "init", "--data-dir", dir, "--admin-login", "other", "--admin-email", "o@example.org")
	if code == 0 || !strings.Contains(out, "a superuser already exists") {
		t.Fatalf("second init: %d %s", code, out)
	}
	out, code = testbin.Run(t, nil, "init", "--data-dir", filepath.Join(t.TempDir(), "x"), "--admin-login", "a", "--admin-email", "a@example.org", "--admin-password", "secret")
	if code != 2 || !strings.Contains(out, "flag provided but not defined: -admin-password") {
		t.Fatalf("password as a flag must not exist: %d %s", code, out)
	}
	out, code = testbin.Run(t, nil, "version")
	if code != 0 || !strings.HasPrefix(out, "hearth ") {
		t.Fatalf("version: %d %s", code, out)
	}
}

// TestMatomoTrackerClient sends hits with the npm matomo-tracker package.
func TestMatomoTrackerClient(t *testing.T) {
	if _, err := os.Stat("node/node_modules/matomo-tracker"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("node/node_modules missing: run `make bootstrap`")
		}
		t.Skip("node/node_modules missing: run `make bootstrap`")
	}
	s, tok := testbin.StartWithSite(t, nil)
	cmd := exec.Command("node", "track.js", s.Base+"/matomo.php", "1")
	cmd.Dir = "node"
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("node client: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), `"status":"success","tracked":2,"invalid":0`) {
		t.Fatalf("bulk reply: %s", out)
	}
	visits := s.WaitActions(t, tok, 1, 4)
	urls := testbin.AllActionURLs(visits)
	if urls["https://clinic.example/node/one"] != 2 || urls["https://clinic.example/node/bulk-a"] != 1 || urls["https://clinic.example/node/bulk-b"] != 1 {
		t.Fatalf("stored: %v", urls)
	}
	for _, v := range visits {
		if v["visitorId"] == "a1b2c3d4e5f60718" && (v["languageCode"] != "fr-fr" || v["browserName"] != "Firefox" || v["events"] != 1.0) {
			t.Fatalf("node visit: %v", v)
		}
	}
}

func TestMain(m *testing.M) { testbin.Main(m, "../..") }

// TestProxiesExclusionsAndMetrics covers settings that change what is stored: a trusted proxy's
// X-Forwarded-For, per-site exclusions set through updateSite, Do-Not-Track, and the
// Prometheus endpoint on its own listener.
func TestProxiesExclusionsAndMetrics(t *testing.T) {
	dir := testbin.InitDataDir(t)
	metricsAddr := freeAddr(t)
	s := testbin.Start(t, dir, "--trusted-proxies", "127.0.0.0/8", "--metrics-listen", metricsAddr, "--ip-anonymize-bytes", "1")
	tok := s.Token(t)
	site := s.AddSite(t, tok, nil)
	code, v := s.API(t, url.Values{"method": {"SitesManager.updateSite"}, "idSite": {fmt.Sprint(site)}, "excludedIps": {"198.51.100.0/24"},
		"excludedUserAgents": {"UptimeProbe"}, "token_auth": {tok}})
	if code != 200 || v.(map[string]any)["result"] != "success" {
		t.Fatalf("updateSite: %d %v", code, v)
	}
	hit := func(path string, hdr map[string]string) {
		t.Helper()
		h := map[string]string{"User-Agent": firefoxUA}
		for k, v := range hdr {
			h[k] = v
		}
		resp, _ := testbin.Get(t, s.Base+"/matomo.php?idsite=1&rec=1&send_image=0&url="+url.QueryEscape("https://clinic.example"+path), h)
		if resp.StatusCode != 204 {
			t.Fatalf("%s: %d", path, resp.StatusCode)
		}
	}
	hit("/forwarded", map[string]string{"X-Forwarded-For": "203.0.113.77"})
	hit("/excluded-ip", map[string]string{"X-Forwarded-For": "198.51.100.9"})
	hit("/excluded-ua", map[string]string{"User-Agent": "Mozilla/5.0 UptimeProbe/2"})
	hit("/dnt", map[string]string{"DNT": "1", "X-Forwarded-For": "203.0.113.78"})
	hit("/gpc", map[string]string{"Sec-GPC": "1", "X-Forwarded-For": "203.0.113.79"})
	visits := s.WaitActions(t, tok, site, 1)
	urls := testbin.AllActionURLs(visits)
	if len(urls) != 1 || urls["https://clinic.example/forwarded"] != 1 {
		t.Fatalf("stored %v, want only /forwarded", urls)
	}
	if ip := visits[0]["visitIp"]; ip != "203.0.113.0" {
		t.Fatalf("visitIp %v, want the forwarded address with one byte zeroed", ip)
	}
	resp, body := testbin.Get(t, "http://"+metricsAddr+"/metrics", nil)
	if resp.StatusCode != 200 || !strings.Contains(body, `hearth_hits_total{outcome="accepted"} 1`) || !strings.Contains(body, `hearth_hits_total{outcome="ignored"} 4`) {
		t.Fatalf("metrics: %d %s", resp.StatusCode, body)
	}
	if resp, _ := testbin.Get(t, s.Base+"/metrics", nil); resp.StatusCode != 404 {
		t.Fatalf("metrics must not be on the public listener: %d", resp.StatusCode)
	}
	s.Stop()
	if strings.Contains(s.Log(), "203.0.113.77") {
		t.Fatal("the log contains a visitor's IP")
	}
}

func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// TestTLS serves HTTPS with a certificate the test makes, checks HSTS and the TLS floor, and
// that a plain-HTTP request to the TLS port leaves no client address in the log.
func TestTLS(t *testing.T) {
	dir := testbin.InitDataDir(t)
	certFile, keyFile, pool := selfSigned(t)
	redirectAddr := freeAddr(t)
	s := testbin.Start(t, dir, "--tls-cert", certFile, "--tls-key", keyFile, "--http-redirect-listen", redirectAddr)
	base := strings.Replace(s.Base, "http://", "https://", 1)
	noFollow := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noFollow.Get("http://" + redirectAddr + "/healthz?x=1")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMovedPermanently || resp.Header.Get("Location") != base+"/healthz?x=1" {
		t.Fatalf("redirect: %d %q, want %s", resp.StatusCode, resp.Header.Get("Location"), base+"/healthz?x=1")
	}
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}
	resp, err = c.Get(base + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Strict-Transport-Security"), "max-age=") {
		t.Fatalf("https healthz: %d %v", resp.StatusCode, resp.Header)
	}
	// Under TLS the session cookie is Secure as well as HttpOnly and SameSite.
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, _ = doForm(t, c, "POST", base+"/login", url.Values{"login": {"admin"}, "password": {testbin.AdminPassword}}, nil)
	if sc := resp.Header.Get("Set-Cookie"); resp.StatusCode != 303 || !strings.Contains(sc, "hearth_session=") || !strings.Contains(sc, "; Secure") ||
		!strings.Contains(sc, "HttpOnly") || !strings.Contains(sc, "SameSite=Lax") {
		t.Fatalf("sign-in over TLS: %d %q", resp.StatusCode, sc)
	}
	old := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MaxVersion: tls.VersionTLS11}}}
	if resp, err := old.Get(base + "/healthz"); err == nil {
		resp.Body.Close()
		t.Fatal("TLS 1.1 accepted")
	}
	if resp, err := http.Get(s.Base + "/healthz"); err == nil {
		resp.Body.Close()
		if resp.StatusCode != 400 {
			t.Fatalf("plain HTTP to the TLS port: %d", resp.StatusCode)
		}
	}
	s.Stop()
	found := false
	for _, line := range strings.Split(s.Log(), "\n") {
		if strings.Contains(line, "handshake") {
			found = true
			if strings.Contains(line, "127.0.0.1") || !strings.Contains(line, "[address]") {
				t.Fatalf("client address in the log: %s", line)
			}
		}
	}
	if !found {
		t.Fatalf("expected a redacted handshake error in the log:\n%s", s.Log())
	}
}

func selfSigned(t *testing.T) (string, string, *x509.CertPool) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, IsCA: true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

// TestGeolocation serves with a MaxMind-format database the test writes, and checks the
// location stored per site precision and that an explicit location needs a token.
func TestGeolocation(t *testing.T) {
	dbPath := geotest.Write(t, "GeoLite2-City", map[string]mmdbtype.Map{"81.2.69.0/24": geotest.London})

	dir := testbin.InitDataDir(t)
	s := testbin.Start(t, dir, "--geoip-db", dbPath, "--trusted-proxies", "127.0.0.1/32")
	log := s.Log()
	if !strings.Contains(log, `msg="geolocation database opened"`) || !strings.Contains(log, "type=GeoLite2-City built="+time.Now().UTC().Format(time.DateOnly)) ||
		strings.Contains(log, "geolocation database is old") {
		t.Errorf("start-up log does not describe the new geolocation database:\n%s", log)
	}
	tok := s.Token(t)
	city := s.AddSite(t, tok, nil)
	country := s.AddSite(t, tok, url.Values{"geoPrecision": {"country"}})
	for _, site := range []int{city, country} {
		resp, _ := testbin.Get(t, fmt.Sprintf("%s/matomo.php?idsite=%d&rec=1&send_image=0&url=https%%3A%%2F%%2Fclinic.example%%2F", s.Base, site),
			map[string]string{"User-Agent": firefoxUA, "X-Forwarded-For": "81.2.69.142"})
		if resp.StatusCode != 204 {
			t.Fatalf("site %d: %d", site, resp.StatusCode)
		}
	}
	v := s.WaitActions(t, tok, city, 1)
	if len(v) != 1 || v[0]["countryCode"] != "gb" || v[0]["regionCode"] != "ENG" || v[0]["city"] != "London" || v[0]["latitude"] != "51.5142" {
		t.Fatalf("city precision: %v", v)
	}
	// Matomo's names beside the codes.
	if v[0]["country"] != "United Kingdom" || v[0]["continent"] != "Europe" || v[0]["continentCode"] != "eur" ||
		v[0]["region"] != "England" || v[0]["location"] != "London, England, United Kingdom" {
		t.Errorf("city precision names: country %v, continent %v (%v), region %v, location %v", v[0]["country"], v[0]["continent"], v[0]["continentCode"], v[0]["region"], v[0]["location"])
	}
	// The region and city reports name the region from the database, beside its code.
	report := func(method string) string {
		return s.Report(t, tok, url.Values{"method": {method}, "idSite": {fmt.Sprint(city)}, "period": {"day"}, "date": {"today"},
			"format": {"json"}, "showColumns": {"nb_visits,region,region_name,city_name"}})
	}
	if out := report("UserCountry.getRegion"); !strings.Contains(out, `"label":"England, United Kingdom"`) || !strings.Contains(out, `"region":"ENG"`) ||
		!strings.Contains(out, `"region_name":"England"`) {
		t.Errorf("region report: %s", out)
	}
	if out := report("UserCountry.getCity"); !strings.Contains(out, `"label":"London, England, United Kingdom"`) || !strings.Contains(out, `"city_name":"London"`) {
		t.Errorf("city report: %s", out)
	}
	v = s.WaitActions(t, tok, country, 1)
	if len(v) != 1 || v[0]["countryCode"] != "gb" || v[0]["regionCode"] != "" || v[0]["city"] != nil || v[0]["latitude"] != nil {
		t.Fatalf("country precision: %v", v)
	}
	if v[0]["country"] != "United Kingdom" || v[0]["location"] != "United Kingdom" {
		t.Errorf("country precision names: country %v, location %v", v[0]["country"], v[0]["location"])
	}
	// An explicit location is a privileged parameter.
	resp, _ := testbin.Get(t, fmt.Sprintf("%s/matomo.php?idsite=%d&rec=1&send_image=0&country=fr", s.Base, city), map[string]string{"User-Agent": firefoxUA})
	if resp.StatusCode != 400 {
		t.Fatalf("country without token: %d", resp.StatusCode)
	}
	resp, _ = testbin.Get(t, fmt.Sprintf("%s/matomo.php?idsite=%d&rec=1&send_image=0&new_visit=1&country=fr&city=Lyon&token_auth=%s&url=https%%3A%%2F%%2Fclinic.example%%2Ffr", s.Base, city, tok), map[string]string{"User-Agent": firefoxUA})
	if resp.StatusCode != 204 {
		t.Fatalf("country with token: %d", resp.StatusCode)
	}
	v = s.WaitActions(t, tok, city, 2)
	if len(v) != 2 || v[0]["countryCode"] != "fr" || v[0]["city"] != "Lyon" {
		t.Fatalf("override: %v", v)
	}
}

// TestAuditTrail checks that authentication, token, site and raw-data events land in the
// trail with a truncated IP and no secrets, and that `hearth audit verify` and `export` work
// while the server runs and name the first bad entry when the trail was tampered with.
func TestAuditTrail(t *testing.T) {
	dir := testbin.InitDataDir(t)
	s := testbin.Start(t, dir)
	code, _ := s.API(t, url.Values{"method": {"UsersManager.createAppSpecificTokenAuth"}, "userLogin": {"admin"},
		"passwordConfirmation": {"not the password"}, "description": {"x"}})
	if code != 401 {
		t.Fatalf("wrong password: %d", code)
	}
	tok := s.Token(t)
	site := s.AddSite(t, tok, nil)
	s.Visits(t, tok, site)
	if code, _ := s.API(t, url.Values{"method": {"API.getMatomoVersion"}, "token_auth": {"0123456789abcdef0123456789abcdef"}}); code != 401 {
		t.Fatalf("bad token: %d", code)
	}
	// Both commands work against the running server's data dir.
	out, code := testbin.Run(t, nil, "audit", "verify", "--data-dir", dir)
	if code != 0 || !strings.Contains(out, "audit trail intact") {
		t.Fatalf("verify while running: %d %s", code, out)
	}
	out, code = testbin.Run(t, nil, "audit", "export", "--data-dir", dir, "--format", "ndjson")
	if code != 0 {
		t.Fatalf("export: %d %s", code, out)
	}
	for _, want := range []string{`"action":"user.create"`, `"action":"server.start"`, `"action":"auth.failure"`, `"action":"token.create"`,
		`"action":"site.create"`, `"action":"rawdata.view"`, `"actor_ip":"127.0.0.0"`} {
		if !strings.Contains(out, want) {
			t.Errorf("export lacks %s:\n%s", want, out)
		}
	}
	for _, secret := range []string{tok, testbin.AdminPassword, "not the password", "127.0.0.1"} {
		if strings.Contains(out, secret) {
			t.Errorf("export contains %q", secret)
		}
	}
	s.Stop()
	out, code = testbin.Run(t, nil, "audit", "export", "--data-dir", dir, "--format", "csv")
	if code != 0 || !strings.HasPrefix(out, "seq,time,actor") || !strings.Contains(out, "server.stop") {
		t.Fatalf("csv export: %d %s", code, out)
	}
	// Removing the head file is noticed, and verify names the entry.
	if err := os.Remove(filepath.Join(dir, "audit.head")); err != nil {
		t.Fatal(err)
	}
	out, code = testbin.Run(t, nil, "audit", "verify", "--data-dir", dir, "--json")
	if code == 0 || !strings.Contains(out, `"intact":false`) || !strings.Contains(out, `"first_bad_seq"`) || !strings.Contains(out, "audit trail broken at entry") {
		t.Fatalf("verify after tampering: %d %s", code, out)
	}
}

// TestUserAndTokenCommands runs `hearth user` and `hearth token` against a running server's
// data dir and checks the effects through the API and the audit trail.
func TestUserAndTokenCommands(t *testing.T) {
	dir := testbin.InitDataDir(t)
	s := testbin.Start(t, dir)
	tok := s.Token(t)
	good := []string{"HEARTH_USER_PASSWORD=ward round kettle 42"}
	out, code := testbin.Run(t, []string{"HEARTH_USER_PASSWORD=short"}, "user", "add", "ann", "--email", "ann@example.org", "--data-dir", dir)
	if code != 2 || !strings.Contains(out, "at least 12 characters") {
		t.Fatalf("weak password: %d %s", code, out)
	}
	out, code = testbin.Run(t, []string{"HEARTH_USER_PASSWORD=password1234"}, "user", "add", "ann", "--email", "ann@example.org", "--data-dir", dir)
	if code != 2 || !strings.Contains(out, "too common") {
		t.Fatalf("common password: %d %s", code, out)
	}
	out, code = testbin.Run(t, nil, "user", "add", "ann", "--email", "ann@example.org", "--data-dir", dir)
	if code != 2 || !strings.Contains(out, "HEARTH_USER_PASSWORD") {
		t.Fatalf("no password and no terminal: %d %s", code, out)
	}
	if out, code = testbin.Run(t, good, "user", "add", "ann", "--email", "ann@example.org", "--data-dir", dir); code != 0 {
		t.Fatalf("add: %d %s", code, out)
	}
	if out, code = testbin.Run(t, good, "user", "add", "ann", "--email", "ann@example.org", "--data-dir", dir); code != 1 || !strings.Contains(out, "already exists") {
		t.Fatalf("duplicate: %d %s", code, out)
	}
	out, code = testbin.Run(t, nil, "user", "disable", "admin", "--data-dir", dir)
	if code != 1 || !strings.Contains(out, "last enabled superuser") {
		t.Fatalf("disabling the last superuser: %d %s", code, out)
	}
	if out, code = testbin.Run(t, good, "user", "add", "breakglass", "--email", "bg@example.org", "--superuser", "--data-dir", dir); code != 0 {
		t.Fatalf("add superuser: %d %s", code, out)
	}
	if out, code = testbin.Run(t, nil, "user", "disable", "admin", "--data-dir", dir); code != 0 {
		t.Fatalf("disable: %d %s", code, out)
	}
	// A disabled user's tokens stop working at once, on the running server.
	if code, _ := s.API(t, url.Values{"method": {"API.getMatomoVersion"}, "token_auth": {tok}}); code != 401 {
		t.Fatalf("disabled user's token: %d", code)
	}
	if out, code = testbin.Run(t, nil, "user", "enable", "admin", "--data-dir", dir); code != 0 {
		t.Fatalf("enable: %d %s", code, out)
	}
	if code, _ := s.API(t, url.Values{"method": {"API.getMatomoVersion"}, "token_auth": {tok}}); code != 200 {
		t.Fatalf("re-enabled user's token: %d", code)
	}
	out, code = testbin.Run(t, nil, "user", "list", "--json", "--data-dir", dir)
	if code != 0 || !strings.Contains(out, `"login":"ann"`) || !strings.Contains(out, `"login":"breakglass","email":"bg@example.org","superuser":true`) {
		t.Fatalf("list: %d %s", code, out)
	}
	out, code = testbin.Run(t, nil, "token", "list", "--user", "admin", "--json", "--data-dir", dir)
	var tokens []map[string]any
	if code != 0 || json.Unmarshal([]byte(out), &tokens) != nil || len(tokens) != 1 || tokens[0]["last_used"] == nil {
		t.Fatalf("token list: %d %s", code, out)
	}
	if strings.Contains(out, tok) {
		t.Fatal("token list shows the token")
	}
	id := fmt.Sprint(tokens[0]["id"])
	if out, code = testbin.Run(t, nil, "token", "revoke", id, "--data-dir", dir); code != 0 {
		t.Fatalf("revoke: %d %s", code, out)
	}
	if code, _ := s.API(t, url.Values{"method": {"API.getMatomoVersion"}, "token_auth": {tok}}); code != 401 {
		t.Fatalf("revoked token: %d", code)
	}
	out, _ = testbin.Run(t, nil, "audit", "export", "--data-dir", dir)
	for _, want := range []string{`"action":"user.disable","target":"user:admin","outcome":"failure"`, `"action":"user.disable","target":"user:admin","outcome":"success"`,
		`"action":"user.enable"`, `"action":"token.revoke","target":"token:` + id + `"`, `"target":"user:breakglass"`} {
		if !strings.Contains(out, want) {
			t.Errorf("audit lacks %s", want)
		}
	}
	if out, code := testbin.Run(t, nil, "audit", "verify", "--data-dir", dir); code != 0 {
		t.Fatalf("verify: %d %s", code, out)
	}
}

// TestBruteForceAndUnlock drives failed logins (token creation with wrong passwords) from
// forwarded client addresses until the client is blocked and the login locked, and lifts both
// with `hearth unblock-ip` and `hearth user unlock` while the server runs.
func TestBruteForceAndUnlock(t *testing.T) {
	dir := testbin.InitDataDir(t)
	s := testbin.Start(t, dir, "--trusted-proxies", "127.0.0.1/32")
	attempt := func(from, password string) (int, string) {
		form := url.Values{"module": {"API"}, "method": {"UsersManager.createAppSpecificTokenAuth"}, "format": {"json"},
			"userLogin": {"admin"}, "passwordConfirmation": {password}, "description": {"bf"}}
		req, _ := http.NewRequest("POST", s.Base+"/index.php", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Forwarded-For", from)
		resp, err := testbin.Client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	for i := 0; i < 21; i++ {
		if code, _ := attempt("198.51.100.9", "wrong guess"); code != 401 {
			t.Fatalf("attempt %d: %d", i, code)
		}
	}
	code, blockedBody := attempt("198.51.100.9", testbin.AdminPassword)
	_, wrongBody := attempt("198.51.100.10", "wrong guess")
	if code != 401 || blockedBody != wrongBody {
		t.Fatalf("a blocked client must get the wrong-password answer: %d %q vs %q", code, blockedBody, wrongBody)
	}
	if code, _ := attempt("198.51.100.11", testbin.AdminPassword); code != 200 {
		t.Fatalf("another client: %d", code)
	}
	if out, code := testbin.Run(t, nil, "unblock-ip", "198.51.100.9", "--data-dir", dir); code != 0 {
		t.Fatalf("unblock-ip: %d %s", code, out)
	}
	if code, _ := attempt("198.51.100.9", testbin.AdminPassword); code != 200 {
		t.Fatalf("after unblock: %d", code)
	}
	// More than 60 failures from many clients lock the login itself.
	for i := 0; i < 61; i++ {
		attempt(fmt.Sprintf("203.0.113.%d", i+1), "wrong guess")
	}
	if code, _ := attempt("198.51.100.12", testbin.AdminPassword); code != 401 {
		t.Fatalf("locked login accepted: %d", code)
	}
	if out, code := testbin.Run(t, nil, "user", "unlock", "admin", "--data-dir", dir); code != 0 {
		t.Fatalf("unlock: %d %s", code, out)
	}
	if code, _ := attempt("198.51.100.12", testbin.AdminPassword); code != 200 {
		t.Fatalf("after unlock: %d", code)
	}
	out, _ := testbin.Run(t, nil, "audit", "export", "--data-dir", dir)
	for _, want := range []string{`"action":"auth.block"`, `"action":"auth.lockout","target":"user:admin"`, `"action":"auth.unblock"`, `"action":"auth.unlock"`} {
		if !strings.Contains(out, want) {
			t.Errorf("audit lacks %s", want)
		}
	}
	if strings.Contains(out, "198.51.100.9") || strings.Contains(out, "wrong guess") {
		t.Error("audit holds a full address or a password")
	}
}

// TestAuditAPI reads the trail over /api/v1/audit with a bearer token on the real server.
func TestAuditAPI(t *testing.T) {
	dir := testbin.InitDataDir(t)
	s := testbin.Start(t, dir)
	tok := s.Token(t)
	req, _ := http.NewRequest("GET", s.Base+"/api/v1/audit?format=ndjson&action=token.", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := testbin.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/x-ndjson" || !strings.Contains(string(body), `"action":"token.create"`) ||
		resp.Header.Get("Content-Security-Policy") == "" {
		t.Fatalf("audit api: %d %v %s", resp.StatusCode, resp.Header, body)
	}
	if resp, _ := testbin.Get(t, s.Base+"/api/v1/audit", nil); resp.StatusCode != 401 {
		t.Fatalf("without a token: %d", resp.StatusCode)
	}
}

// TestSignInPages signs in through /login with a real cookie jar, reads the account and audit
// pages, checks cookie flags, CSRF refusal, sign-out, and that a password change ends the
// session.
func TestSignInPages(t *testing.T) {
	dir := testbin.InitDataDir(t)
	s := testbin.Start(t, dir)
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 10 * time.Second}
	resp, body := doForm(t, c, "GET", s.Base+"/", nil, nil)
	if resp.Request.URL.Path != "/login" || !strings.Contains(body, `name="password"`) {
		t.Fatalf("anonymous /: ended at %s", resp.Request.URL)
	}
	if csp := resp.Header.Get("Content-Security-Policy"); strings.Contains(csp, "unsafe-inline") || csp == "" {
		t.Fatalf("csp %q", csp)
	}
	resp, body = doForm(t, c, "POST", s.Base+"/login", url.Values{"login": {"admin"}, "password": {"wrong one"}}, nil)
	if resp.StatusCode != 401 || !strings.Contains(body, "Wrong login or password.") {
		t.Fatalf("wrong password: %d", resp.StatusCode)
	}
	// A cross-site form post is refused before it reaches the handler.
	resp, _ = doForm(t, c, "POST", s.Base+"/login", url.Values{"login": {"admin"}, "password": {testbin.AdminPassword}}, map[string]string{"Sec-Fetch-Site": "cross-site"})
	if resp.StatusCode != 403 {
		t.Fatalf("cross-site sign-in: %d", resp.StatusCode)
	}
	noRedirect := &http.Client{Jar: jar, Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, _ = doForm(t, noRedirect, "POST", s.Base+"/login", url.Values{"login": {"admin"}, "password": {testbin.AdminPassword}}, nil)
	setCookie := resp.Header.Get("Set-Cookie")
	if resp.StatusCode != 303 || !strings.Contains(setCookie, "hearth_session=") || !strings.Contains(setCookie, "HttpOnly") || !strings.Contains(setCookie, "SameSite=Lax") {
		t.Fatalf("sign in: %d %q", resp.StatusCode, setCookie)
	}
	resp, body = doForm(t, c, "GET", s.Base+"/account", nil, nil)
	if resp.StatusCode != 200 || !strings.Contains(body, "Signed in as admin") || !strings.Contains(body, "superuser") {
		t.Fatalf("home: %d %s", resp.StatusCode, body)
	}
	resp, body = doForm(t, c, "GET", s.Base+"/audit?action=auth.", nil, nil)
	if resp.StatusCode != 200 || !strings.Contains(body, "auth.login") || !strings.Contains(body, "auth.failure") || strings.Contains(body, "token.create") {
		t.Fatalf("audit page: %d %s", resp.StatusCode, body)
	}
	// The session also authenticates the native API.
	resp, body = doForm(t, c, "GET", s.Base+"/api/v1/audit?action=audit.export", nil, nil)
	if resp.StatusCode != 200 || !strings.Contains(body, `"format":"page"`) {
		t.Fatalf("api with a session: %d %s", resp.StatusCode, body)
	}
	// State changes through the session-authenticated API are refused cross-site.
	if resp, _ := doForm(t, c, "DELETE", s.Base+"/api/v1/tokens/999", nil, map[string]string{"Sec-Fetch-Site": "cross-site"}); resp.StatusCode != 403 {
		t.Fatalf("cross-site API call with the session: %d", resp.StatusCode)
	}
	if resp, body := doForm(t, c, "DELETE", s.Base+"/api/v1/tokens/999", nil, map[string]string{"Sec-Fetch-Site": "same-origin"}); resp.StatusCode != 404 || !strings.Contains(body, "no such token") {
		t.Fatalf("same-origin API call with the session: %d %s", resp.StatusCode, body)
	}
	// A password change signs every browser out.
	if out, code := testbin.Run(t, []string{"HEARTH_USER_PASSWORD=a brand new passphrase 7"}, "user", "passwd", "admin", "--data-dir", dir); code != 0 {
		t.Fatalf("passwd: %d %s", code, out)
	}
	resp, _ = doForm(t, c, "GET", s.Base+"/", nil, nil)
	if resp.Request.URL.Path != "/login" {
		t.Fatalf("session survived a password change: %s", resp.Request.URL)
	}
	// Sign in again, then out.
	resp, _ = doForm(t, c, "POST", s.Base+"/login", url.Values{"login": {"admin"}, "password": {"a brand new passphrase 7"}}, nil)
	if resp.Request.URL.Path != "/" || resp.StatusCode != 200 {
		t.Fatalf("sign in again: %d %s", resp.StatusCode, resp.Request.URL)
	}
	resp, _ = doForm(t, c, "POST", s.Base+"/logout", url.Values{}, nil)
	if resp.Request.URL.Path != "/login" {
		t.Fatalf("sign out ended at %s", resp.Request.URL)
	}
	if resp, _ := doForm(t, c, "GET", s.Base+"/audit", nil, nil); resp.Request.URL.Path != "/login" {
		t.Fatalf("audit page after sign-out: %s", resp.Request.URL)
	}
	out, _ := testbin.Run(t, nil, "audit", "export", "--data-dir", dir)
	for _, want := range []string{`"action":"auth.login"`, `"action":"auth.logout"`, `"action":"user.password"`} {
		if !strings.Contains(out, want) {
			t.Errorf("audit lacks %s", want)
		}
	}
}

func doForm(t *testing.T, c *http.Client, method, u string, form url.Values, hdr map[string]string) (*http.Response, string) {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}
