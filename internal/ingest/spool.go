package ingest

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"hearth/internal/event"
)

// record is one spooled unit: an action with its visit's new snapshot, a visit snapshot
// alone (a heartbeat), or a bot hit. Nothing in it is personal data beyond what is stored.
type record struct {
	Seq    uint64        `json:"-"`
	Visit  *event.Visit  `json:"v,omitempty"`
	Action *event.Action `json:"a,omitempty"`
	Bot    *event.BotHit `json:"b,omitempty"`
}

// spool is an append-only, fsynced log of accepted records, in segment files named after
// their first sequence number. A hit is acknowledged only after its record is synced; records
// are applied to the event store in batches and segments holding only applied records are
// deleted.
//
// Segments are created full-size and zero-filled ahead of need by a background goroutine, so
// that appending overwrites allocated blocks and fdatasync flushes data only, not file-size
// metadata: on ext4 that halves the sync latency every acknowledged hit waits for.
type spool struct {
	dir     string
	segSize int64

	mu       sync.Mutex
	f        *os.File
	off      int64
	buf      []byte    // frames of the write in progress, reused
	segments []segment // closed segments, oldest first
	nextSeq  uint64

	spareMu sync.Mutex
	spares  []string
	need    chan struct{}
	done    chan struct{}
	prepErr error
}

type segment struct {
	path    string
	lastSeq uint64
}

// A frame is: 4 bytes body length, 4 bytes CRC-32C over sequence and body, 8 bytes sequence
// number, then the body (codec.go). Bodies are encoded by the request goroutines; the writer
// only numbers, checksums and writes them. A zero length marks the unwritten rest of a
// segment.
const spoolHeader = 16

const maxRecord = 4 << 20

var crcTable = crc32.MakeTable(crc32.Castagnoli)

func segmentName(dir string, first uint64) string {
	return filepath.Join(dir, fmt.Sprintf("%020d.spool", first))
}

// readSpool returns every intact record in dir in sequence order, and the segment paths.
func readSpool(dir string) ([]record, []string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, nil, fmt.Errorf("read spool: %w", err)
	}
	var paths []string
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".spool") {
			paths = append(paths, filepath.Join(dir, e.Name()))
		}
	}
	sort.Strings(paths)
	var out []record
	for _, p := range paths {
		recs, err := readSegment(p)
		if err != nil {
			return nil, nil, err
		}
		out = append(out, recs...)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Seq < out[j].Seq })
	return out, paths, nil
}

// readSegment reads frames until the zero-filled rest, a torn frame (a crash mid-write, never
// acknowledged) or a frame out of sequence; an intact frame it cannot decode is an error.
func readSegment(path string) ([]record, error) {
	first, err := strconv.ParseUint(strings.TrimSuffix(filepath.Base(path), ".spool"), 10, 64)
	if err != nil {
		return nil, fmt.Errorf("spool segment %s: bad name", filepath.Base(path))
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open spool segment: %w", err)
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 1<<16)
	var out []record
	hdr := make([]byte, spoolHeader)
	for want := first; ; want++ {
		if _, err := io.ReadFull(r, hdr); err != nil {
			return out, nil
		}
		n := binary.LittleEndian.Uint32(hdr[:4])
		sum := binary.LittleEndian.Uint32(hdr[4:8])
		seq := binary.LittleEndian.Uint64(hdr[8:16])
		if n == 0 || n > maxRecord || seq != want {
			return out, nil
		}
		body := make([]byte, n)
		if _, err := io.ReadFull(r, body); err != nil {
			return out, nil
		}
		if crcOf(hdr[8:16], body) != sum {
			return out, nil
		}
		rec, err := decodeRecord(body)
		if err != nil {
			// The checksum holds, so this record was written whole and acknowledged: stop
			// rather than replay past it and lose it (a newer version may have written it).
			return nil, fmt.Errorf("spool segment %s: record %d is intact but cannot be read (%v); start the version of Hearth that wrote it", filepath.Base(path), seq, err)
		}
		rec.Seq = seq
		out = append(out, rec)
	}
}

// openSpool starts a fresh segment at nextSeq; existing segments must have been replayed.
func openSpool(dir string, nextSeq uint64, segSize int64) (*spool, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create spool dir: %w", err)
	}
	// Spares left by an earlier run are reused.
	old, _ := filepath.Glob(filepath.Join(dir, "spare-*.free"))
	s := &spool{dir: dir, segSize: segSize, nextSeq: nextSeq, spares: old,
		need: make(chan struct{}, 1), done: make(chan struct{})}
	if len(s.spares) == 0 {
		spare, err := s.newSpare()
		if err != nil {
			return nil, err
		}
		s.spares = append(s.spares, spare)
	}
	go s.prepare(s.need)
	if err := s.rotateLocked(); err != nil {
		s.stopPreparer()
		return nil, err
	}
	return s, nil
}

// prepare keeps one zero-filled spare segment ready until need is closed. It takes the
// channel as an argument: stopPreparer clears the field, possibly before this goroutine runs.
func (s *spool) prepare(need <-chan struct{}) {
	defer close(s.done)
	for range need {
		s.spareMu.Lock()
		have := len(s.spares)
		s.spareMu.Unlock()
		if have > 0 {
			continue
		}
		path, err := s.newSpare()
		s.spareMu.Lock()
		if err != nil {
			s.prepErr = err
		} else {
			s.spares = append(s.spares, path)
		}
		s.spareMu.Unlock()
	}
}

var spareCount struct {
	sync.Mutex
	n int
}

func (s *spool) newSpare() (string, error) {
	spareCount.Lock()
	spareCount.n++
	n := spareCount.n
	spareCount.Unlock()
	tmp := filepath.Join(s.dir, fmt.Sprintf("spare-%d-%d.tmp", os.Getpid(), n))
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return "", fmt.Errorf("create spool spare: %w", err)
	}
	zeros := make([]byte, 1<<20)
	for written := int64(0); written < s.segSize; written += int64(len(zeros)) {
		chunk := zeros[:min(int64(len(zeros)), s.segSize-written)]
		if _, err := f.Write(chunk); err != nil {
			f.Close()
			os.Remove(tmp)
			return "", fmt.Errorf("fill spool spare: %w", err)
		}
	}
	if err := errors.Join(f.Sync(), f.Close()); err != nil {
		os.Remove(tmp)
		return "", fmt.Errorf("sync spool spare: %w", err)
	}
	path := strings.TrimSuffix(tmp, ".tmp") + ".free"
	if err := os.Rename(tmp, path); err != nil {
		return "", fmt.Errorf("rename spool spare: %w", err)
	}
	return path, nil
}

func (s *spool) stopPreparer() {
	s.spareMu.Lock()
	if s.need != nil {
		close(s.need)
		s.need = nil
	}
	s.spareMu.Unlock()
	<-s.done
}

// rotateLocked syncs and closes the current segment and starts the next one from a spare
// (or a new file when none is ready).
func (s *spool) rotateLocked() error {
	if s.f != nil {
		if err := datasync(s.f); err != nil {
			return err
		}
		if err := s.f.Close(); err != nil {
			return err
		}
		s.segments = append(s.segments, segment{path: s.f.Name(), lastSeq: s.nextSeq - 1})
		s.f = nil
	}
	name := segmentName(s.dir, s.nextSeq)
	s.spareMu.Lock()
	var spare string
	if len(s.spares) > 0 {
		spare, s.spares = s.spares[0], s.spares[1:]
	}
	if s.need != nil {
		select {
		case s.need <- struct{}{}:
		default:
		}
	}
	s.spareMu.Unlock()
	if spare != "" {
		if err := os.Rename(spare, name); err != nil {
			return fmt.Errorf("use spool spare: %w", err)
		}
	}
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("create spool segment: %w", err)
	}
	s.f, s.off = f, 0
	return syncDir(s.dir)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// encode serialises a record's body into a new buffer.
func encode(rec *record) ([]byte, error) {
	return appendBody(nil, rec)
}

// appendBody appends rec's body to b, refusing one larger than a frame may hold; request
// goroutines call it in parallel.
func appendBody(b []byte, rec *record) ([]byte, error) {
	start := len(b)
	b = appendRecord(b, rec)
	if n := len(b) - start; n > maxRecord {
		return b[:start], fmt.Errorf("spool record of %d bytes is too large", n)
	}
	return b, nil
}

// framesSize is the bytes the bodies take as frames.
func framesSize(bodies [][]byte) int64 {
	var n int64
	for _, b := range bodies {
		n += int64(len(b)) + spoolHeader
	}
	return n
}

// fits reports whether n more bytes fit in the current segment (an empty segment takes any).
func (s *spool) fits(n int64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.off == 0 || s.off+n <= s.segSize
}

// write numbers the records and writes their frames (not yet synced), returning the file
// written to for the sync that follows.
func (s *spool) write(recs []*record, bodies [][]byte) (*os.File, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	buf := s.buf[:0]
	if need := int(framesSize(bodies)); cap(buf) < need {
		buf = make([]byte, 0, need)
	}
	var hdr [spoolHeader]byte
	for i, rec := range recs {
		rec.Seq = s.nextSeq
		s.nextSeq++
		body := bodies[i]
		binary.LittleEndian.PutUint32(hdr[:4], uint32(len(body))) // #nosec G115 -- bounded by maxRecord in encode
		binary.LittleEndian.PutUint64(hdr[8:16], rec.Seq)
		binary.LittleEndian.PutUint32(hdr[4:8], crcOf(hdr[8:16], body))
		buf = append(buf, hdr[:]...)
		buf = append(buf, body...)
	}
	if _, err := s.f.WriteAt(buf, s.off); err != nil {
		return nil, fmt.Errorf("write spool: %w", err)
	}
	s.off += int64(len(buf))
	if cap(buf) <= 1<<20 {
		s.buf = buf // reused by the next write (under mu); a rare huge one is let go
	}
	return s.f, nil
}

// rotate starts a new segment. The caller makes sure no sync of the old one is in flight.
func (s *spool) rotate() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rotateLocked()
}

// release deletes closed segments whose records are all applied.
func (s *spool) release(applied uint64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	kept := s.segments[:0]
	var errs []error
	for _, seg := range s.segments {
		if seg.lastSeq <= applied {
			if err := os.Remove(seg.path); err != nil && !errors.Is(err, os.ErrNotExist) {
				errs = append(errs, err)
			}
			continue
		}
		kept = append(kept, seg)
	}
	s.segments = kept
	return errors.Join(errs...)
}

// close syncs and closes the current segment and stops preparing spares.
func (s *spool) close() error {
	s.stopPreparer()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.f == nil {
		return nil
	}
	err := errors.Join(datasync(s.f), s.f.Close())
	s.f = nil
	return err
}

// datasync makes a file's data durable (fdatasync).
func datasync(f *os.File) error {
	for {
		err := syscall.Fdatasync(int(f.Fd())) // #nosec G115 -- a file descriptor
		if err != syscall.EINTR {
			if err != nil {
				return fmt.Errorf("sync spool: %w", err)
			}
			return nil
		}
	}
}

// crcOf is the checksum a frame carries over its sequence number and body.
func crcOf(seq, body []byte) uint32 {
	return crc32.Update(crc32.Checksum(seq, crcTable), crcTable, body)
}
