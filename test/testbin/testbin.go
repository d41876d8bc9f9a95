// Package testbin builds the real hearth binary and runs it for end-to-end tests and
// benchmarks: servers on loopback ports in temporary data dirs, stopped by PID.
package testbin

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Binary is the path of the built hearth binary, set by Build.
var Binary string

// Build compiles cmd/hearth into dir; root is the repository root relative to the caller.
func Build(dir, root string) error {
	Binary = filepath.Join(dir, "hearth")
	build := exec.Command("go", "build", "-o", Binary, "./cmd/hearth") // #nosec G204 -- a temp path of our own
	build.Dir = root
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		return fmt.Errorf("build hearth: %w", err)
	}
	return nil
}

// Main builds the binary into a temporary folder, runs the tests and cleans up. With
// HEARTH_TEST_BINARY set it runs them against that binary instead, so that two builds can be
// compared in turns or a profiler can resolve the binary's symbols after the run.
func Main(m *testing.M, root string) {
	if bin := os.Getenv("HEARTH_TEST_BINARY"); bin != "" {
		Binary = bin
		os.Exit(m.Run())
	}
	dir, err := os.MkdirTemp("", "hearth-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if err := Build(dir, root); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// AdminPassword is the password of the superuser InitDataDir creates.
const AdminPassword = "e2e correct horse battery" // #nosec G101 -- a test fixture

// Server is a running `hearth serve`.
type Server struct {
	t       testing.TB
	dataDir string
	cmd     *exec.Cmd
	// Base is the server's base URL, e.g. http://127.0.0.1:41234.
	Base   string
	mu     sync.Mutex
	stderr bytes.Buffer
	exited chan error
}

var addrRe = regexp.MustCompile(`msg=serving .*addr=(127\.0\.0\.1:\d+)`)

// Start runs hearth serve on a free loopback port and waits until it answers.
func Start(t testing.TB, dataDir string, args ...string) *Server {
	t.Helper()
	s := &Server{t: t, dataDir: dataDir, exited: make(chan error, 1)}
	all := append([]string{"serve", "--data-dir", dataDir, "--listen", "127.0.0.1:0"}, args...)
	s.cmd = exec.Command(Binary, all...) // #nosec G204 -- the binary this package built
	s.cmd.Env = append(os.Environ(), "HEARTH_LOG_LEVEL=info")
	pipe, err := s.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pipe)
		for sc.Scan() {
			line := sc.Text()
			s.mu.Lock()
			s.stderr.WriteString(line + "\n")
			s.mu.Unlock()
			if m := addrRe.FindStringSubmatch(line); m != nil {
				select {
				case found <- m[1]:
				default:
				}
			}
		}
	}()
	go func() { s.exited <- s.cmd.Wait() }()
	t.Cleanup(func() { s.Kill() })
	select {
	case addr := <-found:
		s.Base = "http://" + addr
	case err := <-s.exited:
		t.Fatalf("hearth serve exited early: %v\n%s", err, s.Log())
	case <-time.After(60 * time.Second):
		t.Fatalf("hearth serve did not start:\n%s", s.Log())
	}
	return s
}

// PID is the server process's id, for reading its /proc entries.
func (s *Server) PID() int { return s.cmd.Process.Pid }

// Log is what the server wrote to stderr so far.
func (s *Server) Log() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stderr.String()
}

// Stop sends SIGTERM and waits for a clean exit.
func (s *Server) Stop() {
	s.t.Helper()
	if s.cmd.Process == nil {
		return
	}
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		s.t.Fatalf("SIGTERM: %v", err)
	}
	select {
	case err := <-s.exited:
		if err != nil {
			s.t.Fatalf("hearth serve exited with %v after SIGTERM\n%s", err, s.Log())
		}
	case <-time.After(60 * time.Second):
		s.t.Fatalf("hearth serve did not stop after SIGTERM")
	}
	s.cmd.Process = nil
}

// Kill sends SIGKILL (cleanup, or a crash test).
func (s *Server) Kill() {
	if s.cmd.Process == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	select {
	case <-s.exited:
	case <-time.After(30 * time.Second):
	}
	s.cmd.Process = nil
}

// Run executes a hearth subcommand and returns its combined output and exit code.
func Run(t testing.TB, env []string, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(Binary, args...) // #nosec G204 -- the binary this package built
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return string(out), code
}

// InitDataDir creates a data dir with a superuser.
func InitDataDir(t testing.TB) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "data")
	out, code := Run(t, []string{"HEARTH_ADMIN_PASSWORD=" + AdminPassword}, "init", "--data-dir", dir, "--admin-login", "admin", "--admin-email", "admin@example.org")
	if code != 0 {
		t.Fatalf("init: %d %s", code, out)
	}
	return dir
}

// Client is the HTTP client tests use.
var Client = &http.Client{Timeout: 30 * time.Second}

// API calls the Reporting API with POST and returns the decoded JSON.
func (s *Server) API(t testing.TB, params url.Values) (int, any) {
	t.Helper()
	params.Set("module", "API")
	if params.Get("format") == "" {
		params.Set("format", "json")
	}
	resp, err := Client.PostForm(s.Base+"/index.php", params)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if params.Get("format") != "json" {
		return resp.StatusCode, string(body)
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("API %s: not JSON (%d): %s", params.Get("method"), resp.StatusCode, body)
	}
	return resp.StatusCode, v
}

// Report calls a Reporting API method with a token and returns the raw answer, failing the
// test unless it is a 200.
func (s *Server) Report(t testing.TB, tok string, params url.Values) string {
	t.Helper()
	params.Set("module", "API")
	params.Set("token_auth", tok)
	resp, err := Client.PostForm(s.Base+"/index.php", params)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("%s %v: %d %s", params.Get("method"), params, resp.StatusCode, body)
	}
	return string(body)
}

// Token creates an API token for the admin.
func (s *Server) Token(t testing.TB) string {
	t.Helper()
	code, v := s.API(t, url.Values{"method": {"UsersManager.createAppSpecificTokenAuth"}, "userLogin": {"admin"},
		"passwordConfirmation": {AdminPassword}, "description": {"e2e"}})
	m, _ := v.(map[string]any)
	tok, _ := m["value"].(string)
	if code != 200 || len(tok) != 32 {
		t.Fatalf("create token: %d %v", code, v)
	}
	return tok
}

// AddSite creates a site and returns its id.
func (s *Server) AddSite(t testing.TB, tok string, extra url.Values) int {
	t.Helper()
	p := url.Values{"method": {"SitesManager.addSite"}, "siteName": {"Clinic"}, "urls[0]": {"https://clinic.example"},
		"timezone": {"UTC"}, "token_auth": {tok}}
	for k, v := range extra {
		p[k] = v
	}
	code, v := s.API(t, p)
	m, _ := v.(map[string]any)
	id, ok := m["value"].(float64)
	if code != 200 || !ok {
		t.Fatalf("addSite: %d %v", code, v)
	}
	return int(id)
}

// StartWithSite starts a server on a fresh data folder (InitDataDir) and adds one site to it
// (AddSite, with extra); it returns the server and an admin's token.
func StartWithSite(t testing.TB, extra url.Values) (*Server, string) {
	t.Helper()
	s := Start(t, InitDataDir(t))
	tok := s.Token(t)
	s.AddSite(t, tok, extra)
	return s, tok
}

// Visits returns Live.getLastVisitsDetails for a site, newest first.
func (s *Server) Visits(t testing.TB, tok string, site int) []map[string]any {
	t.Helper()
	code, v := s.API(t, url.Values{"method": {"Live.getLastVisitsDetails"}, "idSite": {fmt.Sprint(site)}, "filter_limit": {"-1"}, "token_auth": {tok}})
	list, ok := v.([]any)
	if code != 200 || !ok {
		t.Fatalf("Live.getLastVisitsDetails: %d %v", code, v)
	}
	out := make([]map[string]any, len(list))
	for i, e := range list {
		out[i] = e.(map[string]any)
	}
	return out
}

// WaitActions polls the visitor log until it holds at least n actions (ingest applies in the
// background) or 15 seconds pass, and returns the visits.
func (s *Server) WaitActions(t testing.TB, tok string, site, n int) []map[string]any {
	t.Helper()
	var visits []map[string]any
	Poll(15*time.Second, func() bool {
		visits = s.Visits(t, tok, site)
		count := 0
		for _, v := range visits {
			count += len(ActionsOf(v))
		}
		return count >= n
	})
	return visits
}

// ActionsOf returns a visit's action details.
func ActionsOf(v map[string]any) []map[string]any {
	list, _ := v["actionDetails"].([]any)
	out := make([]map[string]any, len(list))
	for i, e := range list {
		out[i] = e.(map[string]any)
	}
	return out
}

// AllActionURLs returns the URL of every action of every visit.
func AllActionURLs(visits []map[string]any) map[string]int {
	out := map[string]int{}
	for _, v := range visits {
		for _, a := range ActionsOf(v) {
			if u, ok := a["url"].(string); ok {
				out[u]++
			}
		}
	}
	return out
}

// Get sends a GET with headers and returns the response and body.
func Get(t testing.TB, u string, hdr map[string]string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// Post sends a POST and returns the response and body.
func Post(t testing.TB, u, contentType, body string) (*http.Response, string) {
	t.Helper()
	resp, err := Client.Post(u, contentType, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}
