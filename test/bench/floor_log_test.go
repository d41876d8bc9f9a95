package bench

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// The durable floor is a fair baseline only if it really does the work: every entry it
// acknowledged is in its file, whole, once.
func TestSyncLogKeepsWhatItAcknowledges(t *testing.T) {
	dir := t.TempDir()
	l, err := openSyncLog(dir)
	if err != nil {
		t.Fatal(err)
	}
	const writers, each = 16, 200
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				<-l.append(fmt.Sprintf("idsite=1&rec=1&w=%d&i=%d", w, i))
			}
		}()
	}
	wg.Wait()
	data, err := os.ReadFile(filepath.Join(dir, "floor.log"))
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(data)) != syncLogSize {
		t.Fatalf("log is %d bytes, want the preallocated %d", len(data), syncLogSize)
	}
	lines := bytes.Split(bytes.TrimRight(data, "\x00"), []byte("\n"))
	seen := map[string]int{}
	for _, ln := range lines {
		if len(ln) > 0 {
			seen[string(ln)]++
		}
	}
	if len(seen) != writers*each {
		t.Fatalf("log holds %d distinct entries, want %d", len(seen), writers*each)
	}
	for w := range writers {
		for i := range each {
			if k := fmt.Sprintf("idsite=1&rec=1&w=%d&i=%d", w, i); seen[k] != 1 {
				t.Fatalf("entry %q appears %d times", k, seen[k])
			}
		}
	}
}
