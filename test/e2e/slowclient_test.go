package e2e

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"hearth/test/testbin"
)

// TestSlowlorisAgainstTheServer opens many connections that send their headers one byte every
// 200 ms and never finish: the real server drops each after its header timeout (10 s), logs
// no error for them, and tracks and answers everyone else meanwhile.
func TestSlowlorisAgainstTheServer(t *testing.T) {
	s := testbin.Start(t, testbin.InitDataDir(t))
	tok := s.Token(t)
	site := s.AddSite(t, tok, nil)
	addr := strings.TrimPrefix(s.Base, "http://")
	const slow, headerTimeout = 64, 10 * time.Second
	began := time.Now()
	var wg sync.WaitGroup
	cutAfter := make(chan time.Duration, slow)
	for i := range slow {
		wg.Add(1)
		go func() {
			defer wg.Done()
			conn, err := net.Dial("tcp", addr)
			if err != nil {
				t.Error(err)
				return
			}
			defer conn.Close()
			fmt.Fprintf(conn, "GET /healthz HTTP/1.1\r\nHost: %s\r\nX-Slow-%d: ", addr, i)
			closed := make(chan struct{})
			go func() {
				_, _ = io.Copy(io.Discard, bufio.NewReader(conn)) // returns when the server closes
				close(closed)
			}()
			tick := time.NewTicker(200 * time.Millisecond)
			defer tick.Stop()
			giveUp := time.After(headerTimeout + 10*time.Second)
			for {
				select {
				case <-closed:
					cutAfter <- time.Since(began)
					return
				case <-giveUp:
					cutAfter <- -1
					return
				case <-tick.C:
					_, _ = conn.Write([]byte("a"))
				}
			}
		}()
	}
	// Meanwhile hits are tracked and answered.
	for i := range 20 {
		resp, _ := testbin.Get(t, fmt.Sprintf("%s/matomo.php?idsite=%d&rec=1&_id=%016x&send_image=0&url=%s", s.Base, site, i+1,
			url.QueryEscape("https://slow.example/page")), map[string]string{"User-Agent": firefoxUA})
		if resp.StatusCode != 204 {
			t.Fatalf("tracking while slow clients drip: %d", resp.StatusCode)
		}
	}
	if got := testbin.AllActionURLs(s.WaitActions(t, tok, site, 20))["https://slow.example/page"]; got != 20 {
		t.Fatalf("%d actions tracked while slow clients dripped, want 20", got)
	}
	wg.Wait()
	close(cutAfter)
	for took := range cutAfter {
		if took < 0 || took < headerTimeout-time.Second || took > headerTimeout+5*time.Second {
			t.Errorf("a slow client was cut off after %s, want about %s", took, headerTimeout)
		}
	}
	if log := s.Log(); strings.Contains(log, "level=ERROR") {
		t.Errorf("the server logged errors for slow clients:\n%s", log)
	}
}
