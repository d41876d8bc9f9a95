package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"hearth/test/testbin"
)

// TestConcurrentBulkMemory sends 12 bulk bodies of almost 8 MB (9,500 hits each) at once and
// checks that the server's peak resident memory stays bounded, that every answer is a 200
// or a 503 to retry, and that the hits of every 200, and those of every refused body sent
// again, are reported exactly once. Before bulk decoding was bounded and streamed, this load
// took the server from about 230 MB to 1.9 GB.
func TestConcurrentBulkMemory(t *testing.T) {
	const (
		bodies      = 12
		hitsPerBody = 9500
		hitsPerVis  = 50
		maxPeakMB   = 700
	)
	s, tok := testbin.StartWithSite(t, nil)
	day := time.Date(2024, 5, 1, 8, 0, 0, 0, time.UTC)

	// Visitor v's hits are a second apart from 08:00 + v seconds: each visit starts in a second
	// of its own, as a visit ID is its start's millisecond and 22 random bits.
	payload := make([][]byte, bodies)
	pad := strings.Repeat("p", 600)
	for b := range payload {
		reqs := make([]string, hitsPerBody)
		for i := range reqs {
			v := b*hitsPerBody/hitsPerVis + i/hitsPerVis
			q := url.Values{"idsite": {"1"}, "rec": {"1"}, "cid": {fmt.Sprintf("%016x", v+1)},
				"cdt": {strconv.FormatInt(day.Add(time.Duration(v+i%hitsPerVis)*time.Second).Unix(), 10)},
				"url": {fmt.Sprintf("https://clinic.example/b%d/%d?%s", b, i, pad)}, "action_name": {fmt.Sprintf("Page %d", i)}, "ua": {firefoxUA}}
			reqs[i] = "?" + q.Encode()
		}
		body, err := json.Marshal(map[string]any{"requests": reqs, "token_auth": tok})
		if err != nil {
			t.Fatal(err)
		}
		if len(body) < 7<<20 || len(body) > 8<<20 {
			t.Fatalf("body %d is %d bytes, want just under the 8 MB limit", b, len(body))
		}
		payload[b] = body
	}
	before := procStatusKB(t, s.PID(), "VmRSS")

	client := &http.Client{Timeout: 5 * time.Minute, Transport: &http.Transport{MaxConnsPerHost: bodies, MaxIdleConnsPerHost: bodies}}
	send := func(body []byte) (int, http.Header, string) {
		resp, err := client.Post(s.Base+"/matomo.php", "application/json", bytes.NewReader(body))
		if err != nil {
			t.Error(err)
			return 0, nil, ""
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header, string(b)
	}
	status := make([]int, bodies)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for b := range payload {
		wg.Add(1)
		go func(b int) {
			defer wg.Done()
			<-start
			code, hdr, reply := send(payload[b])
			status[b] = code
			switch code {
			case http.StatusOK:
				if !strings.Contains(reply, fmt.Sprintf(`"tracked":%d`, hitsPerBody)) {
					t.Errorf("body %d: 200 %s", b, reply)
				}
			case http.StatusServiceUnavailable:
				if hdr.Get("Retry-After") == "" || hdr.Get("X-Hearth-Error") == "" || !strings.Contains(reply, `"status":"error"`) {
					t.Errorf("body %d: 503 without Retry-After, reason or error body: %v %s", b, hdr, reply)
				}
			default:
				t.Errorf("body %d: %d %s", b, code, reply)
			}
		}(b)
	}
	close(start)
	wg.Wait()
	peak := procStatusKB(t, s.PID(), "VmHWM")
	accepted := 0
	for _, c := range status {
		if c == http.StatusOK {
			accepted++
		}
	}
	t.Logf("RSS %d MB before, peak %d MB; %d of %d bodies accepted at once", before>>10, peak>>10, accepted, bodies)
	if peak>>10 > maxPeakMB {
		t.Errorf("peak RSS %d MB under %d concurrent bulk bodies, want at most %d MB", peak>>10, bodies, maxPeakMB)
	}
	if accepted == 0 {
		t.Fatal("no bulk body accepted")
	}
	get := func() (visits, actions int) {
		t.Helper()
		out := strings.TrimSpace(s.Report(t, tok, url.Values{"method": {"VisitsSummary.get"}, "idSite": {"1"}, "period": {"day"},
			"date": {"2024-05-01"}, "format": {"json"}, "showColumns": {"nb_visits,nb_actions"}}))
		if out == "[]" { // nothing applied yet
			return 0, 0
		}
		var m map[string]int
		if err := json.Unmarshal([]byte(out), &m); err != nil {
			t.Fatalf("VisitsSummary.get: %s", out)
		}
		return m["nb_visits"], m["nb_actions"]
	}
	// wait polls the report until it counts the hits of n bodies, or two minutes pass.
	wait := func(n int) {
		t.Helper()
		deadline := time.Now().Add(2 * time.Minute)
		for {
			visits, actions := get()
			if actions >= n*hitsPerBody || time.Now().After(deadline) {
				if visits != n*hitsPerBody/hitsPerVis || actions != n*hitsPerBody {
					t.Fatalf("reported %d visits and %d actions after %d accepted bodies, want %d and %d",
						visits, actions, n, n*hitsPerBody/hitsPerVis, n*hitsPerBody)
				}
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	wait(accepted)

	// A refused body was refused whole: sent again, one at a time, each is taken in full.
	for b, c := range status {
		if c != http.StatusOK {
			if code, _, reply := send(payload[b]); code != http.StatusOK {
				t.Fatalf("body %d sent alone: %d %s", b, code, reply)
			}
		}
	}
	wait(bodies)
}

// procStatusKB reads a field in kB (VmRSS, VmHWM) from /proc/<pid>/status.
func procStatusKB(t *testing.T, pid int, field string) int {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Skipf("no /proc status: %v", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if name, rest, ok := strings.Cut(line, ":"); ok && name == field {
			kb, err := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")))
			if err != nil {
				t.Fatalf("%s: %q", field, line)
			}
			return kb
		}
	}
	t.Fatalf("no %s in /proc/%d/status", field, pid)
	return 0
}
