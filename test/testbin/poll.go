package testbin

import (
	"testing"
	"time"
)

// Poll calls cond until it reports true or timeout passes, and returns whether it did. The
// server works in the background (ingest applies hits a moment after they are answered), so
// tests wait for what they expect this way instead of sleeping, then assert on it with their
// own message. The first checks come quickly and the pauses grow to 50 ms.
func Poll(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for pause := 2 * time.Millisecond; ; pause = min(2*pause, 50*time.Millisecond) {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(pause)
	}
}

// Eventually is Poll that fails the test when cond does not hold within timeout; what says
// what was awaited.
func Eventually(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	if !Poll(timeout, cond) {
		t.Fatalf("%s: not within %v", what, timeout)
	}
}
