package matomo

import (
	"encoding/binary"
	"encoding/csv"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// Row is one ordered record of a response; order is kept in JSON and XML.
type Row struct {
	keys []string
	vals map[string]any
}

// NewRow returns an empty row.
func NewRow() *Row { return &Row{vals: map[string]any{}} }

// Set adds or replaces a field, keeping first-set order.
func (r *Row) Set(k string, v any) *Row {
	if _, ok := r.vals[k]; !ok {
		r.keys = append(r.keys, k)
	}
	r.vals[k] = v
	return r
}

// MarshalJSON writes the fields in order.
func (r *Row) MarshalJSON() ([]byte, error) {
	return orderedJSON(r.keys, func(i int) any { return r.vals[r.keys[i]] })
}

// orderedJSON writes a JSON object with keys in the given order.
func orderedJSON(keys []string, val func(i int) any) ([]byte, error) {
	var b strings.Builder
	b.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(',')
		}
		kb, _ := json.Marshal(k)
		b.Write(kb)
		b.WriteByte(':')
		vb, err := json.Marshal(val(i))
		if err != nil {
			return nil, err
		}
		b.Write(vb)
	}
	b.WriteByte('}')
	return []byte(b.String()), nil
}

// value is a scalar answer ({"value": X}).
type value struct{ V any }

// success is a void answer.
type success struct{}

// apiError is an error answer; status is the HTTP status Matomo uses.
type apiError struct {
	status int
	msg    string
}

func (e *apiError) Error() string { return e.msg }

func errorf(status int, format string, args ...any) *apiError {
	return &apiError{status: status, msg: fmt.Sprintf(format, args...)}
}

func write(w http.ResponseWriter, format string, status int, result any) {
	if rs, ok := result.(rowStream); ok {
		writeStream(w, format, status, rs)
		return
	}
	switch format {
	case "csv", "tsv", "csv8", "tsv8":
		writeTable(w, format, status, result)
	case "json":
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(jsonShape(result))
	default:
		w.Header().Set("Content-Type", "text/xml; charset=utf-8")
		w.WriteHeader(status)
		writeXML(w, result)
	}
}

func jsonShape(result any) any {
	switch r := result.(type) {
	case *apiError:
		return map[string]string{"result": "error", "message": r.msg}
	case success:
		return map[string]string{"result": "success", "message": "ok"}
	case value:
		return map[string]any{"value": r.V}
	case rowStream:
		return jsonShape(collectRows(r))
	}
	return result
}

func xmlEscape(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

func writeXML(w io.Writer, result any) {
	io.WriteString(w, "<?xml version=\"1.0\" encoding=\"utf-8\" ?>\n")
	switch r := result.(type) {
	case *apiError:
		fmt.Fprintf(w, "<result>\n\t<error message=\"%s\" />\n</result>\n", xmlEscape(r.msg))
	case success:
		io.WriteString(w, "<result>\n\t<success message=\"ok\" />\n</result>\n")
	case value:
		fmt.Fprintf(w, "<result>%s</result>\n", xmlEscape(scalar(r.V)))
	case []*Row:
		io.WriteString(w, "<result>\n")
		for _, row := range r {
			io.WriteString(w, "\t<row>\n")
			writeXMLFields(w, row, 2)
			io.WriteString(w, "\t</row>\n")
		}
		io.WriteString(w, "</result>\n")
	case *Row:
		io.WriteString(w, "<result>\n")
		writeXMLFields(w, r, 1)
		io.WriteString(w, "</result>\n")
	case *keyed:
		writeXMLKeyed(w, r, 0)
	case bulk:
		writeXMLKeyed(w, &keyed{keys: make([]string, len(r)), vals: r}, 0)
	default:
		b, _ := json.Marshal(r)
		fmt.Fprintf(w, "<result>%s</result>\n", xmlEscape(string(b)))
	}
}

func xmlName(k string) string {
	if k == "" || (k[0] >= '0' && k[0] <= '9') {
		return "row"
	}
	var b strings.Builder
	for _, c := range k {
		if c == '_' || c == '-' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
			b.WriteRune(c)
		} else {
			b.WriteByte('_')
		}
	}
	return b.String()
}

func writeXMLFields(w io.Writer, r *Row, depth int) {
	ind := strings.Repeat("\t", depth)
	for _, k := range r.keys {
		name := xmlName(k)
		switch v := r.vals[k].(type) {
		case *Row:
			fmt.Fprintf(w, "%s<%s>\n", ind, name)
			writeXMLFields(w, v, depth+1)
			fmt.Fprintf(w, "%s</%s>\n", ind, name)
		case []*Row:
			fmt.Fprintf(w, "%s<%s>\n", ind, name)
			for _, row := range v {
				fmt.Fprintf(w, "%s\t<row>\n", ind)
				writeXMLFields(w, row, depth+2)
				fmt.Fprintf(w, "%s\t</row>\n", ind)
			}
			fmt.Fprintf(w, "%s</%s>\n", ind, name)
		case []string:
			fmt.Fprintf(w, "%s<%s>\n", ind, name)
			for _, s := range v {
				fmt.Fprintf(w, "%s\t<row>%s</row>\n", ind, xmlEscape(s))
			}
			fmt.Fprintf(w, "%s</%s>\n", ind, name)
		case map[string]string:
			keys := make([]string, 0, len(v))
			for mk := range v {
				keys = append(keys, mk)
			}
			sort.Strings(keys)
			fmt.Fprintf(w, "%s<%s>\n", ind, name)
			for _, mk := range keys {
				fmt.Fprintf(w, "%s\t<%s>%s</%s>\n", ind, xmlName(mk), xmlEscape(v[mk]), xmlName(mk))
			}
			fmt.Fprintf(w, "%s</%s>\n", ind, name)
		default:
			fmt.Fprintf(w, "%s<%s>%s</%s>\n", ind, name, xmlEscape(scalar(v)), name)
		}
	}
}

func scalar(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case bool:
		if x {
			return "1"
		}
		return "0"
	case int:
		return strconv.Itoa(x)
	case int32:
		return strconv.FormatInt(int64(x), 10)
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// writeXMLKeyed writes a multi-period or multi-site answer as Matomo does:
// <results><result date="…">…</result></results>, nested for sites and periods.
func writeXMLKeyed(w io.Writer, k *keyed, depth int) {
	ind := strings.Repeat("\t", depth)
	if depth == 0 {
		io.WriteString(w, "<results>\n")
	}
	for i, key := range k.keys {
		open := fmt.Sprintf("%s\t<result %s=\"%s\"", ind, k.attr, xmlEscape(key))
		if k.attr == "" {
			open = ind + "\t<result"
		}
		val := k.vals[i]
		if rs, ok := val.(rowStream); ok {
			val = collectRows(rs) // inside a bulk answer: one of many, held like the others
		}
		switch v := val.(type) {
		case *Row:
			io.WriteString(w, open+">\n")
			writeXMLFields(w, v, depth+2)
			fmt.Fprintf(w, "%s\t</result>\n", ind)
		case *apiError:
			fmt.Fprintf(w, "%s>\n%s\t\t<error message=\"%s\" />\n%s\t</result>\n", open, ind, xmlEscape(v.msg), ind)
		case value:
			fmt.Fprintf(w, "%s>%s</result>\n", open, xmlEscape(scalar(v.V)))
		case []*Row:
			if len(v) == 0 {
				io.WriteString(w, open+" />\n")
				continue
			}
			io.WriteString(w, open+">\n")
			for _, row := range v {
				fmt.Fprintf(w, "%s\t\t<row>\n", ind)
				writeXMLFields(w, row, depth+3)
				fmt.Fprintf(w, "%s\t\t</row>\n", ind)
			}
			fmt.Fprintf(w, "%s\t</result>\n", ind)
		case *keyed:
			io.WriteString(w, open+">\n")
			writeXMLKeyed(w, v, depth+1)
			fmt.Fprintf(w, "%s\t</result>\n", ind)
		default:
			fmt.Fprintf(w, "%s>%s</result>\n", open, xmlEscape(scalar(v)))
		}
	}
	if depth == 0 {
		io.WriteString(w, "</results>\n")
	}
}

// writeTable writes an answer as CSV or TSV: a header line of column names, then one line per
// row; multi-site and multi-period answers get leading "idSite" and "date" columns.
func writeTable(w http.ResponseWriter, format string, status int, result any) {
	t := &table{seen: map[string]bool{}}
	t.add(nil, nil, result)
	header := append(append([]string{}, t.keyCols...), t.cols...)
	tw := newTableWriter(w, format, status)
	_ = tw.write(header)
	row := make([]string, len(header))
	for _, cells := range t.lines {
		for i, k := range header {
			row[i] = cells[k]
		}
		_ = tw.write(row)
	}
	_ = tw.close()
}

// tableWriter writes CSV or TSV lines as they come. As Matomo, the text is UTF-16LE with a
// byte-order mark unless convertToUnicode=0 (formats "csv8" and "tsv8" here).
type tableWriter struct {
	cw  *csv.Writer
	enc *utf16Writer // nil for UTF-8
}

// newTableWriter sends the headers of a table answer with status.
func newTableWriter(w http.ResponseWriter, format string, status int) *tableWriter {
	ctype, comma := "text/csv", ','
	if strings.HasPrefix(format, "tsv") {
		ctype, comma = "text/tab-separated-values", '\t'
	}
	tw := &tableWriter{}
	charset, out := "utf-8", io.Writer(w)
	if !strings.HasSuffix(format, "8") {
		tw.enc = &utf16Writer{w: w}
		charset, out = "utf-16le", tw.enc
	}
	tw.cw = csv.NewWriter(out)
	tw.cw.Comma = comma
	w.Header().Set("Content-Type", ctype+"; charset="+charset)
	w.WriteHeader(status)
	return tw
}

func (tw *tableWriter) write(cells []string) error { return tw.cw.Write(cells) }

// close writes what is buffered.
func (tw *tableWriter) close() error {
	tw.cw.Flush()
	if err := tw.cw.Error(); err != nil {
		return err
	}
	if tw.enc != nil {
		return tw.enc.close()
	}
	return nil
}

// table collects the lines of a CSV/TSV answer.
type table struct {
	keyCols []string // idSite, date: the keys of multi-site and multi-period answers
	cols    []string // metric columns, in order of first appearance
	seen    map[string]bool
	lines   []map[string]string
}

func (t *table) line(prefix map[string]string, r *Row) {
	cells := map[string]string{}
	for k, v := range prefix {
		cells[k] = v
	}
	if r != nil {
		for _, k := range r.keys {
			if !t.seen[k] {
				t.seen[k] = true
				t.cols = append(t.cols, k)
			}
			cells[k] = cell(r.vals[k])
		}
	}
	t.lines = append(t.lines, cells)
}

func (t *table) add(prefix map[string]string, keys []string, v any) {
	switch x := v.(type) {
	case *apiError:
		t.line(prefix, NewRow().Set("error", x.msg))
	case success:
		t.line(prefix, NewRow().Set("result", "success").Set("message", "ok"))
	case value:
		t.line(prefix, NewRow().Set("value", x.V))
	case *Row:
		t.line(prefix, x)
	case []*Row:
		if len(x) == 0 && len(keys) > 0 {
			t.line(prefix, nil) // an empty period keeps its line
		}
		for _, r := range x {
			t.line(prefix, r)
		}
	case bulk:
		for _, v := range x {
			t.add(prefix, keys, v)
		}
	case rowStream:
		t.add(prefix, keys, collectRows(x)) // inside a bulk answer
	case *keyed:
		if !t.seen[x.attr] {
			t.seen[x.attr] = true
			t.keyCols = append(t.keyCols, x.attr)
		}
		for i, key := range x.keys {
			p := map[string]string{x.attr: key}
			for k, val := range prefix {
				p[k] = val
			}
			t.add(p, append(keys, x.attr), x.vals[i])
		}
	default:
		t.line(prefix, NewRow().Set("value", v))
	}
}

// cell is a value as CSV text. Text that a spreadsheet would run as a formula is prefixed
// with a quote, as Matomo does.
func cell(v any) string {
	switch x := v.(type) {
	case string:
		if x != "" && strings.ContainsRune("=+-@\t\r", rune(x[0])) {
			return "'" + x
		}
		return x
	case *Row, []*Row, []string, map[string]string:
		b, _ := json.Marshal(x)
		return string(b)
	}
	return scalar(v)
}

// utf16Writer re-encodes UTF-8 text as UTF-16 little-endian after a byte-order mark, as it
// passes. A sequence split between two writes waits for its end; bytes that are not UTF-8
// become U+FFFD, each on its own, as Go's conversion of a string to runes makes them.
type utf16Writer struct {
	w       io.Writer
	started bool
	rest    []byte // the start of a sequence the next write completes
	buf     []byte
}

func (u *utf16Writer) Write(p []byte) (int, error) {
	n := len(p)
	u.buf = u.buf[:0]
	if !u.started {
		u.buf, u.started = append(u.buf, 0xFF, 0xFE), true
	}
	if len(u.rest) > 0 {
		p = append(u.rest, p...)
		u.rest = nil
	}
	for len(p) > 0 {
		if !utf8.FullRune(p) {
			u.rest = append([]byte(nil), p...)
			break
		}
		r, size := utf8.DecodeRune(p)
		u.buf = appendUTF16LE(u.buf, r)
		p = p[size:]
	}
	if _, err := u.w.Write(u.buf); err != nil {
		return 0, err
	}
	return n, nil
}

// close writes the byte-order mark of an empty text and what is left of a cut sequence.
func (u *utf16Writer) close() error {
	u.buf = u.buf[:0]
	if !u.started {
		u.buf, u.started = append(u.buf, 0xFF, 0xFE), true
	}
	for p := u.rest; len(p) > 0; {
		r, size := utf8.DecodeRune(p)
		u.buf = appendUTF16LE(u.buf, r)
		p = p[size:]
	}
	u.rest = nil
	if len(u.buf) == 0 {
		return nil
	}
	_, err := u.w.Write(u.buf)
	return err
}

func appendUTF16LE(b []byte, r rune) []byte {
	if r >= 0x10000 {
		r1, r2 := utf16.EncodeRune(r)
		return binary.LittleEndian.AppendUint16(binary.LittleEndian.AppendUint16(b, uint16(r1)), uint16(r2)) // #nosec G115 -- surrogates fit 16 bits
	}
	return binary.LittleEndian.AppendUint16(b, uint16(r)) // #nosec G115 -- below 0x10000
}
