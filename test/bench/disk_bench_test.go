package bench

import (
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
	"time"
)

// BenchmarkDiskSync measures what acknowledged durability costs on the disk the benchmarks
// run on, without Hearth: one write of a group's size into a zero-filled file, then
// fdatasync, as the spool does for each group commit. Ingest's ratio to the ceiling follows
// this time (docs/PERFORMANCE.md), so it is reported beside it. Two more cases take the sync
// apart: "flush" is an fdatasync with nothing written (on a disk with a write-back cache, the
// cache flush alone), "direct-8KB" writes with O_DIRECT from a page-aligned buffer (no page
// cache) before the same fdatasync.
func BenchmarkDiskSync(b *testing.B) {
	for _, c := range []struct {
		name   string
		size   int
		direct bool
	}{{"4KB", 4 << 10, false}, {"16KB", 16 << 10, false}, {"flush", 0, false}, {"direct-8KB", 8 << 10, true}} {
		b.Run(c.name, func(b *testing.B) {
			path := filepath.Join(b.TempDir(), "sync.dat")
			f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
			if err != nil {
				b.Fatal(err)
			}
			defer f.Close()
			if err := zeroFill(f, max(b.N*c.size, 1)); err != nil {
				b.Fatal(err)
			}
			w := f
			if c.direct {
				if w, err = os.OpenFile(path, os.O_RDWR|syscall.O_DIRECT, 0); err != nil {
					b.Skipf("this filesystem has no O_DIRECT: %v", err)
				}
				defer w.Close()
			}
			// A page-aligned buffer, as O_DIRECT needs.
			group, err := syscall.Mmap(-1, 0, max(c.size, 4096), syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
			if err != nil {
				b.Fatal(err)
			}
			defer func() { _ = syscall.Munmap(group) }()
			group = group[:c.size]
			for i := range group {
				group[i] = byte(i)
			}
			took := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for i := range b.N {
				t0 := time.Now()
				if c.size > 0 {
					if _, err := w.WriteAt(group, int64(i*c.size)); err != nil {
						b.Fatal(err)
					}
				}
				if err := syscall.Fdatasync(int(w.Fd())); err != nil { // #nosec G115 -- a file descriptor
					b.Fatal(err)
				}
				took = append(took, time.Since(t0))
			}
			b.StopTimer()
			slices.Sort(took)
			b.ReportMetric(float64(took[len(took)/2].Microseconds()), "µs-median")
			b.ReportMetric(float64(took[len(took)*9/10].Microseconds()), "µs-p90")
		})
	}
}
