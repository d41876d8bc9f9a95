package ingest

import (
	"encoding/binary"
	"hash/maphash"
	"sync"

	"hearth/internal/event"
)

// bloom is a Bloom filter of (site, visitor) pairs with history, so that a visitor never
// seen before (most visitors, and every cookieless one) costs no event-store lookup.
type bloom struct {
	mu   sync.RWMutex
	bits []uint64
	k    int
	seed maphash.Seed
}

// newBloom sizes the filter for n entries at about 1% false positives.
func newBloom(n int) *bloom {
	if n < 1<<16 {
		n = 1 << 16
	}
	words := (n*10 + 63) / 64 // ~9.6 bits per entry
	return &bloom{bits: make([]uint64, words), k: 7, seed: maphash.MakeSeed()}
}

func (b *bloom) hashes(site event.SiteID, v event.VisitorID) (uint64, uint64) {
	var buf [16]byte
	binary.LittleEndian.PutUint64(buf[:8], uint64(site)) // #nosec G115 -- hashing the bits
	copy(buf[8:], v[:])
	h1 := maphash.Bytes(b.seed, buf[:])
	h2 := h1>>33 | h1<<31 | 1
	return h1, h2
}

func (b *bloom) add(site event.SiteID, v event.VisitorID) {
	h1, h2 := b.hashes(site, v)
	n := uint64(len(b.bits) * 64)
	b.mu.Lock()
	for i := 0; i < b.k; i++ {
		bit := (h1 + uint64(i)*h2) % n // #nosec G115 -- i is small
		b.bits[bit/64] |= 1 << (bit % 64)
	}
	b.mu.Unlock()
}

func (b *bloom) mayContain(site event.SiteID, v event.VisitorID) bool {
	h1, h2 := b.hashes(site, v)
	n := uint64(len(b.bits) * 64)
	b.mu.RLock()
	defer b.mu.RUnlock()
	for i := 0; i < b.k; i++ {
		bit := (h1 + uint64(i)*h2) % n // #nosec G115 -- i is small
		if b.bits[bit/64]&(1<<(bit%64)) == 0 {
			return false
		}
	}
	return true
}
