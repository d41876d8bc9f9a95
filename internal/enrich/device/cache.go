package device

import (
	"sync"
)

// cache is a bounded map that is cleared in halves (two generations) when full.
type cache struct {
	mu  sync.RWMutex
	max int
	cur map[string]Result
	old map[string]Result
}

func newCache(max int) *cache {
	if max < 16 {
		max = 16
	}
	return &cache{max: max, cur: map[string]Result{}, old: map[string]Result{}}
}

func (c *cache) get(k string) (Result, bool) {
	c.mu.RLock()
	r, ok := c.cur[k]
	if !ok {
		r, ok = c.old[k]
	}
	c.mu.RUnlock()
	return r, ok
}

func (c *cache) put(k string, r Result) {
	c.mu.Lock()
	if len(c.cur) >= c.max/2 {
		c.old, c.cur = c.cur, map[string]Result{}
	}
	c.cur[k] = r
	c.mu.Unlock()
}
