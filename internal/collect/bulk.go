package collect

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
)

// budget bounds the bulk bodies in flight by their size. It never waits: a body that does not
// fit is refused before any of it is read, so the client retries it whole and nothing of it
// is tracked twice.
type budget struct {
	limit int64
	used  atomic.Int64
}

// take reserves n bytes of the budget and reports whether they fit.
func (b *budget) take(n int64) bool {
	for {
		u := b.used.Load()
		if u+n > b.limit {
			return false
		}
		if b.used.CompareAndSwap(u, u+n) {
			return true
		}
	}
}

// give returns n bytes taken before.
func (b *budget) give(n int64) { b.used.Add(-n) }

type bulkReply struct {
	Status  string `json:"status"`
	Tracked int    `json:"tracked"`
	Invalid int    `json:"invalid"`
	Message string `json:"message,omitempty"`
}

// errReader remembers the first error of the reader it wraps other than io.EOF, so a body
// that could not be read is told apart from one that is not valid JSON.
type errReader struct {
	r   io.Reader
	err error
}

func (e *errReader) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err != nil && err != io.EOF && e.err == nil {
		e.err = err
	}
	return n, err
}

// serveBulk tracks a bulk body read from body. It first takes the body's size from the
// bulk budget, and answers 503 with Retry-After when that is spent; then it decodes the
// requests one by one as they are read and tracks them together.
func (h *Handler) serveBulk(w http.ResponseWriter, r *http.Request, body io.Reader, req *Request) {
	// A body of unknown length (chunked) may be as large as the limit.
	size := r.ContentLength
	if size <= 0 || size > h.opts.MaxBodyBytes {
		size = h.opts.MaxBodyBytes
	}
	if !h.bulk.take(size) {
		h.bulkRefused.Add(1)
		w.Header().Set("Retry-After", "1")
		h.bulkReply(w, http.StatusServiceUnavailable, bulkReply{Status: "error", Message: "server busy with other bulk requests, retry later"})
		return
	}
	defer h.bulk.give(size)

	req.Bulk = true
	var hits []Hit
	invalid := 0
	src := &errReader{r: body}
	info, err := readBulk(src, h.opts.MaxBulk, func(ps *params) {
		hit, err := decode(ps, req.Time)
		if err != nil {
			invalid++
			return
		}
		hits = append(hits, hit)
	})
	if err != nil {
		var mbe *http.MaxBytesError
		switch {
		case errors.As(src.err, &mbe):
			err = bad("request body too large")
		case src.err != nil:
			err = bad("could not read request body")
		}
		h.bulkReply(w, http.StatusBadRequest, bulkReply{Status: "error", Message: err.Error()})
		return
	}
	if info.TokenAuth != "" {
		// The body's token_auth is every request's that has none of its own; it may come after
		// the requests, so it is applied once they are decoded.
		var ps params
		ps.set(pTokenAuth, info.TokenAuth)
		tok := ps.text(pTokenAuth, 128)
		kept := hits[:0]
		for _, hit := range hits {
			if hit.TokenAuth == "" {
				if ps.err != nil {
					invalid++
					continue
				}
				hit.TokenAuth = tok
			}
			kept = append(kept, hit)
		}
		hits = kept
	}
	tracked := 0
	if len(hits) > 0 {
		outs := h.opts.Sink.Track(r.Context(), hits, req)
		for _, o := range outs {
			switch {
			case o.Err == nil:
				tracked++
			case IsBadRequest(o.Err):
				invalid++
			default:
				// The server failed: say so, with what was tracked before the failure.
				status := http.StatusInternalServerError
				msg := "internal error"
				if errors.Is(o.Err, ErrOverloaded) {
					status, msg = http.StatusServiceUnavailable, "server busy, retry later"
					w.Header().Set("Retry-After", "1")
				} else {
					h.opts.Logger.Error("bulk tracking failed", "err", o.Err)
				}
				h.bulkReply(w, status, bulkReply{Status: "error", Tracked: tracked, Invalid: invalid, Message: msg})
				return
			}
		}
	}
	query, _ := parseQuery(r.URL.RawQuery)
	if !info.SendImage || query.Get("send_image") == "0" {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	h.bulkReply(w, http.StatusOK, bulkReply{Status: "success", Tracked: tracked, Invalid: invalid})
}

func (h *Handler) bulkReply(w http.ResponseWriter, status int, rep bulkReply) {
	if rep.Message != "" {
		w.Header().Set(ErrorHeader, rep.Message)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(rep)
}

// bulkInfo is what a bulk body says besides its requests.
type bulkInfo struct {
	TokenAuth string
	SendImage bool
}

// errBulkJSON answers a bulk body that is not the JSON it should be.
var errBulkJSON = &Error{Reason: "bulk body is not valid JSON"}

// readBulk decodes a bulk body, {"requests": [...], "token_auth": "...", "send_image": 0}, as
// it is read: each item of requests is put into a params and handed to each, so memory holds
// one item and what each keeps of it, never the whole body. Items are query strings
// ("?idsite=1&rec=1...") or JSON objects of parameters; any other item is handed over empty,
// so that counting it as invalid keeps the positions right. A body with more than
// maxRequests items is refused once the one too many is read.
func readBulk(body io.Reader, maxRequests int, each func(*params)) (bulkInfo, error) {
	info := bulkInfo{SendImage: true}
	dec := json.NewDecoder(body)
	dec.UseNumber()
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return info, errBulkJSON
	}
	seen := false
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return info, errBulkJSON
		}
		switch t {
		case "requests":
			if seen {
				return info, bad("bulk body has more than one requests array")
			}
			if seen, err = readRequests(dec, maxRequests, each); err != nil {
				return info, err
			}
		case "token_auth":
			var v any
			if err := dec.Decode(&v); err != nil {
				return info, errBulkJSON
			}
			info.TokenAuth, _ = v.(string)
		case "send_image":
			var v any
			if err := dec.Decode(&v); err != nil {
				return info, errBulkJSON
			}
			switch v := v.(type) {
			case json.Number:
				info.SendImage = v.String() != "0"
			case string:
				info.SendImage = v != "0"
			default:
				info.SendImage = true
			}
		default:
			if err := skipValue(dec); err != nil {
				return info, errBulkJSON
			}
		}
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return info, errBulkJSON
	}
	if !seen {
		return info, bad("bulk body has no requests array")
	}
	return info, nil
}

// readRequests reads the value of "requests": null (reported as not seen) or an array.
func readRequests(dec *json.Decoder, maxRequests int, each func(*params)) (bool, error) {
	t, err := dec.Token()
	if err != nil {
		return false, errBulkJSON
	}
	if t == nil {
		return false, nil
	}
	if t != json.Delim('[') {
		return false, errBulkJSON
	}
	var ps params
	n := 0
	for dec.More() {
		if n++; n > maxRequests {
			return false, bad("bulk body has more than the limit of %d requests", maxRequests)
		}
		var item json.RawMessage
		if err := dec.Decode(&item); err != nil {
			return false, errBulkJSON
		}
		ps = params{}
		itemParams(&ps, item)
		each(&ps)
	}
	if _, err := dec.Token(); err != nil { // the closing bracket
		return false, errBulkJSON
	}
	return true, nil
}

// itemParams adds the parameters of one bulk item to ps.
func itemParams(ps *params, item json.RawMessage) {
	switch {
	case len(item) > 0 && item[0] == '"':
		var s string
		if json.Unmarshal(item, &s) != nil {
			return
		}
		if i := strings.IndexByte(s, '?'); i >= 0 {
			s = s[i+1:]
		}
		if strings.Count(s, "&") >= maxQueryParams {
			return // as parseQuery: past net/url's limit nothing is read
		}
		ps.addQuery(s)
	case len(item) > 0 && item[0] == '{':
		var obj map[string]json.RawMessage
		if json.Unmarshal(item, &obj) != nil {
			return
		}
		for k, rv := range obj {
			var str string
			if json.Unmarshal(rv, &str) == nil {
				ps.add(k, str)
				continue
			}
			// Numbers, booleans and nested structures (ec_items) keep their JSON text.
			ps.add(k, strings.TrimSpace(string(rv)))
		}
	}
}

// skipValue reads past the next value, token by token, so a large unknown member is never
// held whole.
func skipValue(dec *json.Decoder) error {
	depth := 0
	for {
		t, err := dec.Token()
		if err != nil {
			return err
		}
		switch t {
		case json.Delim('['), json.Delim('{'):
			depth++
		case json.Delim(']'), json.Delim('}'):
			depth--
		}
		if depth == 0 {
			return nil
		}
	}
}
