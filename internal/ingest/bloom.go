package ingest

import (
	"encoding/binary"
	"hash/maphash"
	"sync"

	"hearth/internal/event"
)

// bloom is a Bloom filter of (site, visitor) pairs with history, so that a visitor never
// seen before (most visitors, and every cookieless one) costs no event-store lookup.
//
// It grows as a scalable Bloom filter: once a layer holds the entries it was sized for, a
// layer twice as large takes the new ones, so the false-positive rate stays near 1 % per
// layer however many visitors a site collects over its retention period, instead of rising
// until nearly every new visitor costs a lookup.
type bloom struct {
	mu     sync.RWMutex
	layers []*bloomLayer // oldest first; entries go to the last
	seed   maphash.Seed
}

type bloomLayer struct {
	bits     []uint64
	entries  int
	capacity int
}

const bloomHashes = 7

// newBloom sizes the first layer for n entries at about 1% false positives.
func newBloom(n int) *bloom {
	b := &bloom{seed: maphash.MakeSeed()}
	b.layers = []*bloomLayer{newBloomLayer(max(n, 1<<16))}
	return b
}

func newBloomLayer(n int) *bloomLayer {
	words := (n*10 + 63) / 64 // ~9.6 bits per entry
	return &bloomLayer{bits: make([]uint64, words), capacity: n}
}

func (b *bloom) hashes(site event.SiteID, v event.VisitorID) (uint64, uint64) {
	var buf [16]byte
	binary.LittleEndian.PutUint64(buf[:8], uint64(site)) // #nosec G115 -- hashing the bits
	copy(buf[8:], v[:])
	h1 := maphash.Bytes(b.seed, buf[:])
	h2 := h1>>33 | h1<<31 | 1
	return h1, h2
}

func (l *bloomLayer) has(h1, h2 uint64) bool {
	n := uint64(len(l.bits) * 64)
	for i := range uint64(bloomHashes) {
		bit := (h1 + i*h2) % n
		if l.bits[bit/64]&(1<<(bit%64)) == 0 {
			return false
		}
	}
	return true
}

func (l *bloomLayer) set(h1, h2 uint64) {
	n := uint64(len(l.bits) * 64)
	for i := range uint64(bloomHashes) {
		bit := (h1 + i*h2) % n
		l.bits[bit/64] |= 1 << (bit % 64)
	}
	l.entries++
}

func (b *bloom) add(site event.SiteID, v event.VisitorID) {
	h1, h2 := b.hashes(site, v)
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.containsLocked(h1, h2) {
		return // known already (or a false positive): entries count distinct visitors
	}
	last := b.layers[len(b.layers)-1]
	if last.entries >= last.capacity {
		last = newBloomLayer(2 * last.capacity)
		b.layers = append(b.layers, last)
	}
	last.set(h1, h2)
}

func (b *bloom) mayContain(site event.SiteID, v event.VisitorID) bool {
	h1, h2 := b.hashes(site, v)
	b.mu.RLock()
	defer b.mu.RUnlock()
	return b.containsLocked(h1, h2)
}

func (b *bloom) containsLocked(h1, h2 uint64) bool {
	for _, l := range b.layers {
		if l.has(h1, h2) {
			return true
		}
	}
	return false
}
