package matomo

import (
	"bufio"
	"encoding/json"
	"errors"
	"io"
	"net/http"
)

// rowStream is an answer of many rows that are made while the answer is written, so that a
// long one (the visitor log) never sits in memory whole. Written on its own it streams;
// inside a bulk answer it is collected like any other.
type rowStream interface {
	// columns names every field of the rows in order of first appearance, for the header
	// line of CSV and TSV, without making the rows.
	columns() []string
	// each calls fn with the rows in order; it stops at the first error, of its own or fn's.
	// It runs once.
	each(fn func(*Row) error) error
	// failed logs an error of each and returns what the client may be told.
	failed(err error) *apiError
}

// collectRows makes all the rows of a stream: a []*Row, or the error that stopped it.
func collectRows(s rowStream) any {
	out := []*Row{}
	if err := s.each(func(r *Row) error { out = append(out, r); return nil }); err != nil {
		return s.failed(err)
	}
	return out
}

// writeFailed is an error writing to the client: it went away, nothing to report.
type writeFailed struct{ error }

func (e writeFailed) Unwrap() error { return e.error }

// writeStream writes a stream's rows as they come, in the same bytes write gives their
// []*Row. The status and headers go out first; an error after them cannot become an error
// answer, so the response is aborted rather than left to look complete.
func writeStream(w http.ResponseWriter, format string, status int, s rowStream) {
	var err error
	switch format {
	case "csv", "tsv", "csv8", "tsv8":
		err = streamTable(w, format, status, s)
	case "json":
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(status)
		err = streamJSON(w, s)
	default:
		w.Header().Set("Content-Type", "text/xml; charset=utf-8")
		w.WriteHeader(status)
		err = streamXML(w, s)
	}
	if err == nil {
		return
	}
	var wf writeFailed
	if errors.As(err, &wf) {
		return
	}
	s.failed(err)
	panic(http.ErrAbortHandler) // net/http closes the connection without ending the body
}

// checked turns the sticky error of a buffered writer into writeFailed.
func checked(bw *bufio.Writer) error {
	if _, err := bw.Write(nil); err != nil {
		return writeFailed{err}
	}
	return nil
}

func streamJSON(w io.Writer, s rowStream) error {
	bw := bufio.NewWriterSize(w, 32<<10)
	bw.WriteByte('[')
	first := true
	err := s.each(func(r *Row) error {
		b, err := json.Marshal(r)
		if err != nil {
			return err
		}
		if !first {
			bw.WriteByte(',')
		}
		first = false
		bw.Write(b)
		return checked(bw)
	})
	if err != nil {
		return err
	}
	bw.WriteString("]\n")
	if err := bw.Flush(); err != nil {
		return writeFailed{err}
	}
	return nil
}

func streamXML(w io.Writer, s rowStream) error {
	bw := bufio.NewWriterSize(w, 32<<10)
	bw.WriteString("<?xml version=\"1.0\" encoding=\"utf-8\" ?>\n<result>\n")
	err := s.each(func(r *Row) error {
		bw.WriteString("\t<row>\n")
		writeXMLFields(bw, r, 2)
		bw.WriteString("\t</row>\n")
		return checked(bw)
	})
	if err != nil {
		return err
	}
	bw.WriteString("</result>\n")
	if err := bw.Flush(); err != nil {
		return writeFailed{err}
	}
	return nil
}

func streamTable(w http.ResponseWriter, format string, status int, s rowStream) error {
	header := s.columns()
	pos := make(map[string]int, len(header))
	for i, k := range header {
		pos[k] = i
	}
	tw := newTableWriter(w, format, status)
	if err := tw.write(header); err != nil {
		return writeFailed{err}
	}
	cells := make([]string, len(header))
	err := s.each(func(r *Row) error {
		clear(cells)
		for _, k := range r.keys {
			if i, ok := pos[k]; ok {
				cells[i] = cell(r.vals[k])
			}
		}
		if err := tw.write(cells); err != nil {
			return writeFailed{err}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if err := tw.close(); err != nil {
		return writeFailed{err}
	}
	return nil
}
