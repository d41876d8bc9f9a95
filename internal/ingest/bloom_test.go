package ingest

import (
	"encoding/binary"
	"testing"

	"hearth/internal/event"
)

func visitorN(i int) event.VisitorID {
	var v event.VisitorID
	binary.LittleEndian.PutUint64(v[:], uint64(i)*0x9e3779b97f4a7c15) // #nosec G115 -- test data
	return v
}

// TestBloomGrows: a filter sized for 65,536 visitors that is given eight times as many keeps
// every one of them (no false negatives) and a false-positive rate near 1 % per layer, where
// a filter of fixed size would answer "maybe" for most unseen visitors.
func TestBloomGrows(t *testing.T) {
	b := newBloom(1 << 16)
	const n = 8 << 16
	for i := range n {
		b.add(1, visitorN(i))
	}
	for i := range n {
		if !b.mayContain(1, visitorN(i)) {
			t.Fatalf("visitor %d added but not found", i)
		}
	}
	if len(b.layers) != 4 { // 64k + 128k + 256k + 512k ≥ 512k
		t.Errorf("%d layers for 8× the first layer's capacity, want 4", len(b.layers))
	}
	fp := 0
	const probes = 200_000
	for i := range probes {
		if b.mayContain(1, visitorN(n+i)) {
			fp++
		}
	}
	rate := float64(fp) / probes
	t.Logf("false positives %.2f%% over %d layers", 100*rate, len(b.layers))
	if rate > 0.05 {
		t.Errorf("false-positive rate %.2f%%, want at most 5%% (about 1%% per layer)", 100*rate)
	}
	// The site is part of the key.
	if b.mayContain(2, visitorN(1)) && b.mayContain(2, visitorN(2)) && b.mayContain(2, visitorN(3)) {
		t.Error("visitors of site 1 look known on site 2")
	}
}

// TestBloomCountsDistinct: adding a known visitor again does not use up a layer's capacity.
func TestBloomCountsDistinct(t *testing.T) {
	b := newBloom(1 << 16)
	for range 4 {
		for i := range 1 << 15 {
			b.add(1, visitorN(i))
		}
	}
	if len(b.layers) != 1 {
		t.Fatalf("%d layers after adding 32,768 visitors four times, want 1", len(b.layers))
	}
	if got := b.layers[0].entries; got > 1<<15 {
		t.Fatalf("first layer counts %d entries for 32,768 distinct visitors", got)
	}
}
