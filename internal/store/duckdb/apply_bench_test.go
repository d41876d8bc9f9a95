package duckdb_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"hearth/internal/demo"
	"hearth/internal/store"
	"hearth/internal/store/duckdb"
)

// BenchmarkApply measures the event store's side of ingest: HEARTH_BENCH_APPLY_ACTIONS demo
// actions (default 100,000) applied in batches of 4,000 visits into a fresh store, then every
// visit applied a second time as a later batch that replaces it (as a visit that goes on does),
// and a final checkpoint. It reports the cost per action.
func BenchmarkApply(b *testing.B) {
	n := 100_000
	if v := os.Getenv("HEARTH_BENCH_APPLY_ACTIONS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil {
			b.Fatal(err)
		}
	}
	ctx := context.Background()
	var batches []store.Batch
	actions := 0
	err := demo.Generate(demo.Options{Site: 1, Actions: n, End: benchEnd, Seed: 42, BatchVisits: 4000}, func(batch store.Batch) error {
		batches = append(batches, batch)
		actions += len(batch.Actions)
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		events, err := duckdb.Open(ctx, duckdb.Options{Path: filepath.Join(b.TempDir(), "e.duckdb")})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		seq := uint64(0)
		for _, replay := range []bool{false, true} {
			for _, batch := range batches {
				seq++
				batch.Seq = seq
				if replay {
					batch.Actions, batch.Bots = nil, nil
				}
				if err := events.Apply(ctx, batch); err != nil {
					b.Fatal(err)
				}
			}
		}
		if _, err := events.DB().ExecContext(ctx, "CHECKPOINT"); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if got, err := events.AppliedSeq(ctx); err != nil || got != seq {
			b.Fatalf("applied sequence %d (%v), want %d", got, err, seq)
		}
		events.Close()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*actions), "ns/action")
}
