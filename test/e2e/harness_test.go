// Package e2e drives the real hearth binary over HTTP: it builds the binary once, starts
// servers on loopback ports in temporary data dirs, and stops them by PID.
package e2e

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

var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "hearth-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "hearth")
	build := exec.Command("go", "build", "-o", binary, "../../cmd/hearth")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build hearth:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

const adminPassword = "e2e correct horse battery"

// server is a running `hearth serve`.
type server struct {
	t       *testing.T
	dataDir string
	cmd     *exec.Cmd
	base    string
	mu      sync.Mutex
	stderr  bytes.Buffer
	exited  chan error
}

var addrRe = regexp.MustCompile(`msg=serving .*addr=(127\.0\.0\.1:\d+)`)

// start runs hearth serve on a free loopback port and waits until it answers.
func start(t *testing.T, dataDir string, args ...string) *server {
	t.Helper()
	s := &server{t: t, dataDir: dataDir, exited: make(chan error, 1)}
	all := append([]string{"serve", "--data-dir", dataDir, "--listen", "127.0.0.1:0"}, args...)
	s.cmd = exec.Command(binary, all...)
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
	t.Cleanup(func() { s.kill() })
	select {
	case addr := <-found:
		s.base = "http://" + addr
	case err := <-s.exited:
		t.Fatalf("hearth serve exited early: %v\n%s", err, s.log())
	case <-time.After(60 * time.Second):
		t.Fatalf("hearth serve did not start:\n%s", s.log())
	}
	return s
}

func (s *server) log() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stderr.String()
}

// stop sends SIGTERM and waits for a clean exit.
func (s *server) stop() {
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
			s.t.Fatalf("hearth serve exited with %v after SIGTERM\n%s", err, s.log())
		}
	case <-time.After(60 * time.Second):
		s.t.Fatalf("hearth serve did not stop after SIGTERM")
	}
	s.cmd.Process = nil
}

// kill sends SIGKILL (cleanup, or a crash test).
func (s *server) kill() {
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

// run executes a hearth subcommand and returns its combined output and exit code.
func run(t *testing.T, env []string, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(binary, args...)
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

// initDataDir creates a data dir with a superuser.
func initDataDir(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "data")
	out, code := run(t, []string{"HEARTH_ADMIN_PASSWORD=" + adminPassword}, "init", "--data-dir", dir, "--admin-login", "admin", "--admin-email", "admin@example.org")
	if code != 0 {
		t.Fatalf("init: %d %s", code, out)
	}
	return dir
}

var client = &http.Client{Timeout: 30 * time.Second}

// api calls the Reporting API with POST and returns the decoded JSON.
func (s *server) api(t *testing.T, params url.Values) (int, any) {
	t.Helper()
	params.Set("module", "API")
	if params.Get("format") == "" {
		params.Set("format", "json")
	}
	resp, err := client.PostForm(s.base+"/index.php", params)
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

// token creates an API token for the admin.
func (s *server) token(t *testing.T) string {
	t.Helper()
	code, v := s.api(t, url.Values{"method": {"UsersManager.createAppSpecificTokenAuth"}, "userLogin": {"admin"},
		"passwordConfirmation": {adminPassword}, "description": {"e2e"}})
	m, _ := v.(map[string]any)
	tok, _ := m["value"].(string)
	if code != 200 || len(tok) != 32 {
		t.Fatalf("create token: %d %v", code, v)
	}
	return tok
}

func (s *server) addSite(t *testing.T, tok string, extra url.Values) int {
	t.Helper()
	p := url.Values{"method": {"SitesManager.addSite"}, "siteName": {"Clinic"}, "urls[0]": {"https://clinic.example"},
		"timezone": {"UTC"}, "token_auth": {tok}}
	for k, v := range extra {
		p[k] = v
	}
	code, v := s.api(t, p)
	m, _ := v.(map[string]any)
	id, ok := m["value"].(float64)
	if code != 200 || !ok {
		t.Fatalf("addSite: %d %v", code, v)
	}
	return int(id)
}

// visits returns Live.getLastVisitsDetails for a site, newest first.
func (s *server) visits(t *testing.T, tok string, site int) []map[string]any {
	t.Helper()
	code, v := s.api(t, url.Values{"method": {"Live.getLastVisitsDetails"}, "idSite": {fmt.Sprint(site)}, "filter_limit": {"-1"}, "token_auth": {tok}})
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

// waitActions polls the visitor log until it holds at least n actions (ingest applies in the
// background) or 15 seconds pass, and returns the visits.
func (s *server) waitActions(t *testing.T, tok string, site, n int) []map[string]any {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		visits := s.visits(t, tok, site)
		count := 0
		for _, v := range visits {
			count += len(actionsOf(v))
		}
		if count >= n || time.Now().After(deadline) {
			return visits
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// actionsOf returns a visit's action details.
func actionsOf(v map[string]any) []map[string]any {
	list, _ := v["actionDetails"].([]any)
	out := make([]map[string]any, len(list))
	for i, e := range list {
		out[i] = e.(map[string]any)
	}
	return out
}

// allActionURLs returns the URL of every action of every visit.
func allActionURLs(visits []map[string]any) map[string]int {
	out := map[string]int{}
	for _, v := range visits {
		for _, a := range actionsOf(v) {
			if u, ok := a["url"].(string); ok {
				out[u]++
			}
		}
	}
	return out
}

func get(t *testing.T, u string, hdr map[string]string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func post(t *testing.T, u, contentType, body string) (*http.Response, string) {
	t.Helper()
	resp, err := client.Post(u, contentType, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}
