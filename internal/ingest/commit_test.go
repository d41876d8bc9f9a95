package ingest

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestCommitterGroups drives the group commit from many goroutines: every pending is flushed
// exactly once, in enqueue order, by one flush at a time; each waiter gets the result of the
// flush that carried its record; and nobody is left waiting.
func TestCommitterGroups(t *testing.T) {
	var (
		mu       sync.Mutex
		flushed  []int // sequence numbers in flush order
		results  = map[int]error{}
		inFlush  atomic.Int32
		flushes  atomic.Int32
		failEach = int32(7) // every 7th flush fails
	)
	c := newCommitter(func(batch []*pending) error {
		if inFlush.Add(1) != 1 {
			t.Error("two flushes at once")
		}
		defer inFlush.Add(-1)
		n := flushes.Add(1)
		var err error
		if n%failEach == 0 {
			err = errors.New("disk full")
		}
		time.Sleep(50 * time.Microsecond) // a sync's latency, so groups form
		mu.Lock()
		for _, pd := range batch {
			seq := int(pd.recs[0].Seq)
			flushed = append(flushed, seq)
			results[seq] = err
		}
		mu.Unlock()
		return err
	})
	const workers, each = 32, 300
	var seqMu sync.Mutex // enqueue order = sequence order, as under the visitor lock
	next := 0
	got := make([]error, workers*each)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				seqMu.Lock()
				seq := next
				next++
				pd := &pending{recs: []*record{{Seq: uint64(seq)}}}
				if err := c.enqueue(pd); err != nil {
					seqMu.Unlock()
					t.Error(err)
					return
				}
				seqMu.Unlock()
				got[seq] = c.wait(pd)
			}
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("waiters still blocked after 30 s")
	}
	c.close()
	if len(flushed) != workers*each {
		t.Fatalf("%d pendings flushed, want %d", len(flushed), workers*each)
	}
	for i, seq := range flushed {
		if seq != i {
			t.Fatalf("flush order broken at %d: got sequence %d", i, seq)
		}
		if !errors.Is(got[seq], results[seq]) {
			t.Fatalf("pending %d got %v, its flush returned %v", seq, got[seq], results[seq])
		}
	}
	if n := int(flushes.Load()); n >= workers*each/2 {
		t.Errorf("%d flushes for %d pendings: groups did not form", n, workers*each)
	}
	if err := c.enqueue(&pending{recs: []*record{{}}}); !errors.Is(err, errClosed) {
		t.Fatalf("enqueue after close: %v", err)
	}
}

// TestCommitterCloseDrains: records queued when closing are committed by close itself.
func TestCommitterCloseDrains(t *testing.T) {
	var n atomic.Int32
	c := newCommitter(func(batch []*pending) error { n.Add(int32(len(batch))); return nil })
	var pds []*pending
	for range 5 {
		pd := &pending{recs: []*record{{}}}
		if err := c.enqueue(pd); err != nil {
			t.Fatal(err)
		}
		pds = append(pds, pd)
	}
	c.close()
	if n.Load() != 5 {
		t.Fatalf("close committed %d of 5", n.Load())
	}
	for _, pd := range pds {
		select {
		case <-pd.group.done:
			if err := c.wait(pd); err != nil {
				t.Fatalf("a queued record failed: %v", err)
			}
		default:
			t.Fatal("a queued record is not committed after close")
		}
	}
}
