package bench

import (
	"fmt"
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
// this time (docs/PERFORMANCE.md), so it is reported beside it.
func BenchmarkDiskSync(b *testing.B) {
	for _, size := range []int{4 << 10, 16 << 10} {
		b.Run(fmt.Sprintf("%dKB", size>>10), func(b *testing.B) {
			path := filepath.Join(b.TempDir(), "sync.dat")
			f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
			if err != nil {
				b.Fatal(err)
			}
			defer f.Close()
			if err := zeroFill(f, b.N*size); err != nil {
				b.Fatal(err)
			}
			group := make([]byte, size)
			for i := range group {
				group[i] = byte(i)
			}
			took := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for i := range b.N {
				t0 := time.Now()
				if _, err := f.WriteAt(group, int64(i*size)); err != nil {
					b.Fatal(err)
				}
				if err := syscall.Fdatasync(int(f.Fd())); err != nil { // #nosec G115 -- a file descriptor
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
