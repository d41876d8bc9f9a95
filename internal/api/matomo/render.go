package matomo

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
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
	var b strings.Builder
	b.WriteByte('{')
	for i, k := range r.keys {
		if i > 0 {
			b.WriteByte(',')
		}
		kb, _ := json.Marshal(k)
		b.Write(kb)
		b.WriteByte(':')
		vb, err := json.Marshal(r.vals[k])
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
	switch format {
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
