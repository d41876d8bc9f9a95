package collect

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Request is what the pipeline needs to know about the HTTP request a hit came in.
type Request struct {
	IP          netip.Addr
	UserAgent   string
	Language    string // Accept-Language
	Referer     string
	DoNotTrack  bool
	ClientHints http.Header // Sec-CH-UA* headers
	Time        time.Time
	Bulk        bool
}

// Outcome of one hit. Err is nil for hits that were stored or deliberately not stored
// (no rec=1, Do-Not-Track, excluded, bot); an *Error for client mistakes; anything else is
// the server's fault.
type Outcome struct {
	Err error
}

// Sink processes decoded hits. It returns once every accepted hit is durable.
type Sink interface {
	Track(ctx context.Context, hits []Hit, req *Request) []Outcome
}

// ErrOverloaded is returned by sinks that cannot take more hits right now.
var ErrOverloaded = errors.New("ingest overloaded, try again")

// Options configure the handler.
type Options struct {
	Sink         Sink
	ClientIP     func(*http.Request) netip.Addr
	MaxBodyBytes int64
	MaxBulk      int
	Now          func() time.Time
	Logger       *slog.Logger
}

// Handler serves /matomo.php and /piwik.php.
type Handler struct {
	opts Options
}

// NewHandler builds the tracking endpoint.
func NewHandler(opts Options) *Handler {
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = 8 << 20
	}
	if opts.MaxBulk <= 0 {
		opts.MaxBulk = 10000
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Handler{opts: opts}
}

// transparentGIF is the 43-byte 1x1 GIF Matomo answers with.
var transparentGIF = []byte{
	0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x01, 0x00, 0x01, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x21, 0xf9, 0x04, 0x01, 0x00, 0x00, 0x00, 0x00, 0x2c, 0x00, 0x00, 0x00, 0x00,
	0x01, 0x00, 0x01, 0x00, 0x00, 0x02, 0x02, 0x44, 0x01, 0x00, 0x3b,
}

// ErrorHeader carries the reason a tracking request was refused.
const ErrorHeader = "X-Hearth-Error"

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hdr := w.Header()
	if r.Method == http.MethodOptions {
		hdr.Set("Access-Control-Allow-Methods", "GET, POST")
		hdr.Set("Access-Control-Allow-Headers", "*")
		hdr.Set("Access-Control-Allow-Origin", "*")
		w.WriteHeader(http.StatusNoContent)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodPost && r.Method != http.MethodHead {
		hdr.Set("Allow", "GET, POST, OPTIONS")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if origin := r.Header.Get("Origin"); origin != "" && r.Method != http.MethodGet {
		hdr.Set("Access-Control-Allow-Origin", origin)
		hdr.Set("Access-Control-Allow-Credentials", "true")
		hdr.Add("Vary", "Origin")
	} else {
		hdr.Set("Access-Control-Allow-Origin", "*")
	}

	var body []byte
	if r.Body != nil && r.Method == http.MethodPost {
		b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.opts.MaxBodyBytes))
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				h.refuse(w, true, http.StatusBadRequest, "request body too large")
				return
			}
			h.refuse(w, true, http.StatusBadRequest, "could not read request body")
			return
		}
		body = b
	}
	req := h.request(r)
	if bytes.Contains(body, []byte(`"requests"`)) {
		query, _ := parseQuery(r.URL.RawQuery)
		h.serveBulk(w, r, body, query, req)
		return
	}
	var ps params
	ps.addQuery(r.URL.RawQuery)
	ps.addQuery(string(body)) // after the URL's: GET wins on duplicates
	if ps.names() == 0 {
		if r.Method == http.MethodPost {
			h.refuse(w, true, http.StatusBadRequest, "no tracking parameters")
			return
		}
		hdr.Set("Content-Type", "text/html; charset=utf-8")
		_, _ = io.WriteString(w, "<!doctype html><title>Hearth</title><p>This is Hearth's tracking endpoint. It answers requests from the tracker; there is nothing to see here.</p>\n")
		return
	}
	if ps.get(pURL) == "" && ps.get(pURLRef) == "" && req.Referer != "" {
		ps.set(pURL, req.Referer)
	}
	sendImage := ps.get(pSendImage) != "0"
	hit, err := decode(&ps, req.Time)
	if err != nil {
		h.refuse(w, !sendImage, http.StatusBadRequest, err.Error())
		return
	}
	out := h.opts.Sink.Track(r.Context(), []Hit{hit}, req)
	if len(out) == 1 && out[0].Err != nil {
		h.fail(w, !sendImage, out[0].Err)
		return
	}
	h.success(w, r, sendImage)
}

func (h *Handler) request(r *http.Request) *Request {
	req := &Request{
		UserAgent: r.Header.Get("User-Agent"),
		Language:  r.Header.Get("Accept-Language"),
		Referer:   r.Header.Get("Referer"),
		Time:      h.opts.Now().UTC(),
	}
	if h.opts.ClientIP != nil {
		req.IP = h.opts.ClientIP(r)
	}
	for name, v := range r.Header {
		if strings.HasPrefix(name, "Sec-Ch-Ua") {
			if req.ClientHints == nil {
				req.ClientHints = http.Header{}
			}
			req.ClientHints[name] = v
		}
	}
	req.DoNotTrack = dnt(r.Header)
	return req
}

func dnt(h http.Header) bool {
	for _, name := range []string{"DNT", "X-Do-Not-Track", "Sec-GPC"} {
		if v := strings.TrimSpace(h.Get(name)); v == "1" || strings.EqualFold(v, "yes") {
			return true
		}
	}
	return false
}

func (h *Handler) success(w http.ResponseWriter, r *http.Request, sendImage bool) {
	if !sendImage {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	hdr := w.Header()
	hdr.Set("Content-Type", "image/gif")
	hdr.Set("Content-Length", strconv.Itoa(len(transparentGIF)))
	if r.Method == http.MethodGet {
		hdr.Set("Cache-Control", "no-store")
	}
	if r.Method == http.MethodHead {
		return
	}
	_, _ = w.Write(transparentGIF)
}

// fail answers a hit the sink did not accept.
func (h *Handler) fail(w http.ResponseWriter, text bool, err error) {
	var e *Error
	switch {
	case errors.As(err, &e):
		h.refuse(w, text, http.StatusBadRequest, e.Reason)
	case errors.Is(err, ErrOverloaded):
		w.Header().Set("Retry-After", "1")
		h.refuse(w, true, http.StatusServiceUnavailable, "server busy, retry later")
	default:
		h.opts.Logger.Error("tracking request failed", "err", err)
		h.refuse(w, true, http.StatusInternalServerError, "internal error")
	}
}

// refuse answers with status and reason: in a header always, and in the body as text when
// the client does not expect an image.
func (h *Handler) refuse(w http.ResponseWriter, text bool, status int, reason string) {
	hdr := w.Header()
	hdr.Set(ErrorHeader, reason)
	hdr.Set("Cache-Control", "no-store")
	if text {
		hdr.Set("Content-Type", "text/plain; charset=utf-8")
		hdr.Set("X-Content-Type-Options", "nosniff")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, reason+"\n") // #nosec G705 -- text/plain with nosniff: never rendered as HTML
		return
	}
	hdr.Set("Content-Type", "image/gif")
	w.WriteHeader(status)
	_, _ = w.Write(transparentGIF)
}

type bulkReply struct {
	Status  string `json:"status"`
	Tracked int    `json:"tracked"`
	Invalid int    `json:"invalid"`
	Message string `json:"message,omitempty"`
}

func (h *Handler) serveBulk(w http.ResponseWriter, r *http.Request, body []byte, query url.Values, req *Request) {
	req.Bulk = true
	b, err := DecodeBulk(body, h.opts.MaxBulk)
	if err != nil {
		h.bulkReply(w, http.StatusBadRequest, bulkReply{Status: "error", Message: err.Error()})
		return
	}
	var hits []Hit
	invalid := 0
	for _, params := range b.Requests {
		if params.Get("token_auth") == "" && b.TokenAuth != "" {
			params.Set("token_auth", b.TokenAuth)
		}
		hit, err := Decode(params, req.Time)
		if err != nil {
			invalid++
			continue
		}
		hits = append(hits, hit)
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
	if !b.SendImage || query.Get("send_image") == "0" {
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

// Bulk is a decoded bulk tracking body.
type Bulk struct {
	Requests  []url.Values
	TokenAuth string
	SendImage bool
}

// DecodeBulk parses {"requests": [...], "token_auth": "...", "send_image": 0}; items are
// query strings ("?idsite=1&rec=1...") or JSON objects of parameters.
func DecodeBulk(body []byte, maxRequests int) (Bulk, error) {
	out := Bulk{SendImage: true}
	var raw struct {
		Requests  []json.RawMessage `json:"requests"`
		TokenAuth any               `json:"token_auth"`
		SendImage any               `json:"send_image"`
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&raw); err != nil {
		return out, bad("bulk body is not valid JSON")
	}
	if raw.Requests == nil {
		return out, bad("bulk body has no requests array")
	}
	if len(raw.Requests) > maxRequests {
		return out, bad("bulk body has %d requests, more than the limit of %d", len(raw.Requests), maxRequests)
	}
	if s, ok := raw.TokenAuth.(string); ok {
		out.TokenAuth = s
	}
	switch v := raw.SendImage.(type) {
	case json.Number:
		out.SendImage = v.String() != "0"
	case string:
		out.SendImage = v != "0"
	}
	for _, item := range raw.Requests {
		var s string
		if err := json.Unmarshal(item, &s); err == nil {
			if i := strings.IndexByte(s, '?'); i >= 0 {
				s = s[i+1:]
			}
			v, _ := parseQuery(s)
			out.Requests = append(out.Requests, v)
			continue
		}
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(item, &obj); err != nil {
			// Keep the position so invalid_indices stay aligned; Decode refuses it.
			out.Requests = append(out.Requests, url.Values{})
			continue
		}
		v := url.Values{}
		for k, rv := range obj {
			var str string
			if json.Unmarshal(rv, &str) == nil {
				v.Set(k, str)
				continue
			}
			// Numbers, booleans and nested structures (ec_items) keep their JSON text.
			v.Set(k, strings.TrimSpace(string(rv)))
		}
		out.Requests = append(out.Requests, v)
	}
	return out, nil
}
