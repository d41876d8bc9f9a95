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

	"hearth/internal/event"
)

// record is one spooled unit: an action with its visit's new snapshot, a visit snapshot
// alone (a heartbeat), or a bot hit. Nothing in it is personal data beyond what is stored.
type record struct {
	Seq    uint64        `json:"q"`
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

const spoolHeader = 8 // 4 bytes length, 4 bytes CRC-32C

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
		sum := binary.LittleEndian.Uint32(hdr[4:])
		if n == 0 || n > 64<<20 {
			return out, nil
		}
		body := make([]byte, n)
		if _, err := io.ReadFull(r, body); err != nil {
			return out, nil
		}
		if crc32.Checksum(body, crcTable) != sum {
			return out, nil
		}
		var rec record
		if err := json.Unmarshal(body, &rec); err != nil {
			return out, nil
		}
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
		if err := s.f.Sync(); err != nil {
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

// append numbers and writes records (not yet synced).
func (s *spool) append(recs []*record) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	hdr := make([]byte, spoolHeader)
	for _, rec := range recs {
		rec.Seq = s.nextSeq
		s.nextSeq++
		body, err := json.Marshal(rec)
		if err != nil {
			return fmt.Errorf("encode spool record: %w", err)
		}
		if len(body) > 64<<20 {
			return fmt.Errorf("spool record of %d bytes is too large", len(body))
		}
		binary.LittleEndian.PutUint32(hdr[:4], uint32(len(body))) // #nosec G115 -- bounded above
		binary.LittleEndian.PutUint32(hdr[4:], crc32.Checksum(body, crcTable))
		if _, err := s.w.Write(hdr); err != nil {
			return fmt.Errorf("write spool: %w", err)
		}
		if _, err := s.w.Write(body); err != nil {
			return fmt.Errorf("write spool: %w", err)
		}
		s.size += int64(len(body)) + spoolHeader
	}
	return nil
}

// sync makes everything appended so far durable, rotating a full segment afterwards.
func (s *spool) sync() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.w.Flush(); err != nil {
		return fmt.Errorf("flush spool: %w", err)
	}
	if err := s.f.Sync(); err != nil {
		return fmt.Errorf("sync spool: %w", err)
	}
	if s.size >= s.maxBytes {
		return s.rotateLocked()
	}
	return nil
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
	err := errors.Join(s.w.Flush(), s.f.Sync(), s.f.Close())
	s.f = nil
	return err
}
