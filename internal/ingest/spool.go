package ingest

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"sort"
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

// spool is an append-only, fsynced log of accepted records. A hit is acknowledged only after
// its record is synced; records are applied to the event store in batches and the segments
// holding only applied records are deleted.
type spool struct {
	dir      string
	maxBytes int64

	mu       sync.Mutex
	f        *os.File
	w        *bufio.Writer
	size     int64
	segStart uint64
	segments []segment // closed segments, oldest first
	nextSeq  uint64
}

type segment struct {
	path    string
	lastSeq uint64
}

// A frame is: 4 bytes body length, 4 bytes CRC-32C over sequence and body, 8 bytes sequence
// number, then the JSON body. Bodies are encoded by the request goroutines; the writer only
// numbers, checksums and writes them.
const spoolHeader = 16

var crcTable = crc32.MakeTable(crc32.Castagnoli)

func segmentName(dir string, first uint64) string {
	return filepath.Join(dir, fmt.Sprintf("%020d.spool", first))
}

// readSpool returns every intact record in dir in sequence order. A torn record at the end
// of a segment (a crash mid-write, never acknowledged) ends that segment.
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

func readSegment(path string) ([]record, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open spool segment: %w", err)
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 1<<16)
	var out []record
	hdr := make([]byte, spoolHeader)
	for {
		if _, err := io.ReadFull(r, hdr); err != nil {
			return out, nil // clean end or torn header
		}
		n := binary.LittleEndian.Uint32(hdr[:4])
		sum := binary.LittleEndian.Uint32(hdr[4:8])
		if n == 0 || n > maxRecord {
			return out, nil
		}
		body := make([]byte, n)
		if _, err := io.ReadFull(r, body); err != nil {
			return out, nil
		}
		crc := crc32.Update(crc32.Checksum(hdr[8:16], crcTable), crcTable, body)
		if crc != sum {
			return out, nil
		}
		var rec record
		if err := json.Unmarshal(body, &rec); err != nil {
			return out, nil
		}
		rec.Seq = binary.LittleEndian.Uint64(hdr[8:16])
		out = append(out, rec)
	}
}

// openSpool starts a fresh segment after nextSeq-1; existing segments must have been replayed.
func openSpool(dir string, nextSeq uint64, maxBytes int64) (*spool, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create spool dir: %w", err)
	}
	s := &spool{dir: dir, maxBytes: maxBytes, nextSeq: nextSeq}
	if err := s.rotateLocked(); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *spool) rotateLocked() error {
	if s.f != nil {
		if err := s.w.Flush(); err != nil {
			return err
		}
		if err := datasync(s.f); err != nil {
			return err
		}
		if err := s.f.Close(); err != nil {
			return err
		}
		s.segments = append(s.segments, segment{path: s.f.Name(), lastSeq: s.nextSeq - 1})
	}
	f, err := os.OpenFile(segmentName(s.dir, s.nextSeq), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("create spool segment: %w", err)
	}
	s.f, s.w, s.size, s.segStart = f, bufio.NewWriterSize(f, 1<<16), 0, s.nextSeq
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

const maxRecord = 64 << 20

// encode serialises a record's body; request goroutines call it in parallel.
func encode(rec *record) ([]byte, error) {
	body, err := json.Marshal(rec)
	if err != nil {
		return nil, fmt.Errorf("encode spool record: %w", err)
	}
	if len(body) > maxRecord {
		return nil, fmt.Errorf("spool record of %d bytes is too large", len(body))
	}
	return body, nil
}

// write numbers the records and writes their frames to the file (not yet synced). It
// returns the file written to, for the sync that follows.
func (s *spool) write(recs []*record, bodies [][]byte) (*os.File, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var hdr [spoolHeader]byte
	for i, rec := range recs {
		rec.Seq = s.nextSeq
		s.nextSeq++
		body := bodies[i]
		binary.LittleEndian.PutUint32(hdr[:4], uint32(len(body))) // #nosec G115 -- bounded by maxRecord in encode
		binary.LittleEndian.PutUint64(hdr[8:16], rec.Seq)
		binary.LittleEndian.PutUint32(hdr[4:8], crc32.Update(crc32.Checksum(hdr[8:16], crcTable), crcTable, body))
		if _, err := s.w.Write(hdr[:]); err != nil {
			return nil, fmt.Errorf("write spool: %w", err)
		}
		if _, err := s.w.Write(body); err != nil {
			return nil, fmt.Errorf("write spool: %w", err)
		}
		s.size += int64(len(body)) + spoolHeader
	}
	if err := s.w.Flush(); err != nil {
		return nil, fmt.Errorf("flush spool: %w", err)
	}
	return s.f, nil
}

// full reports whether the current segment should be rotated.
func (s *spool) full() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.size >= s.maxBytes
}

// rotate syncs and closes the current segment and starts a new one. The caller makes sure no
// sync of the old segment is still in flight.
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

func (s *spool) close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.f == nil {
		return nil
	}
	err := errors.Join(s.w.Flush(), datasync(s.f), s.f.Close())
	s.f = nil
	return err
}

// datasync makes a file's data durable (fdatasync: the appended bytes and the new size).
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
