package ingest

import (
	"errors"
	"sync"
)

// errClosed refuses records after the pipeline started closing.
var errClosed = errors.New("ingest is shutting down")

// committer is a leader-based group commit: records are queued in order; a request that
// waits for its record and finds no commit in progress becomes the leader, writes everything
// queued, fdatasyncs once and releases every request the sync covered. No goroutine handoff
// sits between a request and the disk.
type committer struct {
	mu      sync.Mutex
	cond    *sync.Cond
	queue   []*pending
	leading bool
	closed  bool
	flush   func(batch []*pending) error // writes and syncs; called without mu held
}

type pending struct {
	recs   []*record
	bodies [][]byte
	// buf holds the bodies; it goes back to bodyBufs once they are in the spool's buffer.
	buf      *[]byte
	finished bool
	err      error
}

func newCommitter(flush func([]*pending) error) *committer {
	c := &committer{flush: flush}
	c.cond = sync.NewCond(&c.mu)
	return c
}

// enqueue appends a pending in order. Callers hold the visitor's lock.
func (c *committer) enqueue(pd *pending) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return errClosed
	}
	c.queue = append(c.queue, pd)
	return nil
}

// wait returns once pd is durable (or failed), leading commits as needed.
func (c *committer) wait(pd *pending) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for !pd.finished {
		if c.leading || len(c.queue) == 0 {
			c.cond.Wait()
			continue
		}
		c.lead()
	}
	return pd.err
}

// lead commits the queue; called with mu held, returns with mu held.
func (c *committer) lead() {
	batch := c.queue
	c.queue = nil
	c.leading = true
	c.mu.Unlock()
	err := c.flush(batch)
	c.mu.Lock()
	for _, pd := range batch {
		pd.finished, pd.err = true, err
	}
	c.leading = false
	// Wake the waiters with mu released, so they do not queue on it behind the leader.
	c.mu.Unlock()
	c.cond.Broadcast()
	c.mu.Lock()
}

// close refuses new records and commits what is queued.
func (c *committer) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	for c.leading || len(c.queue) > 0 {
		if c.leading {
			c.cond.Wait()
			continue
		}
		c.lead()
	}
}
