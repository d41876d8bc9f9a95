package bench

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"syscall"
)

// syncLog is the least a tracking endpoint must do to acknowledge hits durably: append each
// request's query to a file and answer once an fdatasync has covered it, with one goroutine
// writing and syncing whatever arrived while the previous sync ran (group commit). It keeps
// nothing else: no enrichment, no visits, no store. The durable floor server answers through
// it, so that the benchmark shows in the same run what durability alone costs on this disk.
type syncLog struct {
	f    *os.File
	size int64
	off  int64

	mu   sync.Mutex
	buf  []byte        // appended since the last swap
	done chan struct{} // closed once buf's contents are durable
	kick chan struct{}
}

const syncLogSize = 64 << 20

// openSyncLog creates the log zero-filled ahead, as Hearth's spool segments are, so that a
// sync flushes data only.
func openSyncLog(dir string) (*syncLog, error) {
	f, err := os.OpenFile(filepath.Join(dir, "floor.log"), os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, err
	}
	if err := zeroFill(f, syncLogSize); err != nil {
		f.Close()
		return nil, err
	}
	l := &syncLog{f: f, size: syncLogSize, done: make(chan struct{}), kick: make(chan struct{}, 1)}
	go l.run()
	return l, nil
}

// append adds one entry and returns a channel closed once it is on disk.
func (l *syncLog) append(entry string) <-chan struct{} {
	l.mu.Lock()
	l.buf = append(l.buf, entry...)
	l.buf = append(l.buf, '\n')
	done := l.done
	l.mu.Unlock()
	select {
	case l.kick <- struct{}{}:
	default: // a kick is pending: the next round takes this entry
	}
	return done
}

func (l *syncLog) run() {
	var spare []byte
	for range l.kick {
		l.mu.Lock()
		buf, done := l.buf, l.done
		l.buf, l.done = spare[:0], make(chan struct{})
		l.mu.Unlock()
		if len(buf) > 0 {
			if l.off+int64(len(buf)) > l.size {
				l.off = 0 // a benchmark's log: wrapping around is fine
			}
			if _, err := l.f.WriteAt(buf, l.off); err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(1)
			}
			l.off += int64(len(buf))
			if err := syscall.Fdatasync(int(l.f.Fd())); err != nil { // #nosec G115 -- a file descriptor
				fmt.Fprintln(os.Stderr, err)
				os.Exit(1)
			}
		}
		close(done)
		spare = buf
	}
}

// zeroFill writes size zero bytes (rounded up to a MiB) from the file's offset and syncs
// them, as Hearth prepares its spool segments, so that later syncs flush data only.
func zeroFill(f *os.File, size int) error {
	zeros := make([]byte, 1<<20)
	for written := 0; written < size; written += len(zeros) {
		if _, err := f.Write(zeros); err != nil {
			return err
		}
	}
	return f.Sync()
}
