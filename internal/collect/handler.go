package collect

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync/atomic"
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
	// MaxBulkInflight is how many bulk bodies of MaxBodyBytes are decoded and tracked at
	// once; smaller bodies take their share of that room by their size. A bulk body that does
	// not fit is answered 503 with Retry-After before any of it is read. Default 2: a body
	// of 8 MB holds about 150 MB while it is tracked.
	MaxBulkInflight int
	// CredentialedOrigin reports whether a page of origin may send the tracker credentials
	// (true for the origins of a site's URLs). Matomo's tracker sends its XHR POSTs with
	// them, and a browser that may not read the answer takes it as failed and sends the hit
	// again by GET. Without it, and for any other origin, no credentials are allowed.
	CredentialedOrigin func(origin string) bool
	Now                func() time.Time
	Logger             *slog.Logger
}

// Handler serves /matomo.php and /piwik.php.
type Handler struct {
	opts        Options
	bulk        budget
	bulkRefused atomic.Int64
}

// NewHandler builds the tracking endpoint.
func NewHandler(opts Options) *Handler {
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = 8 << 20
	}
	if opts.MaxBulk <= 0 {
		opts.MaxBulk = 10000
	}
	if opts.MaxBulkInflight <= 0 {
		opts.MaxBulkInflight = 2
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	h := &Handler{opts: opts}
	h.bulk.limit = math.MaxInt64
	if opts.MaxBodyBytes <= math.MaxInt64/int64(opts.MaxBulkInflight) {
		h.bulk.limit = int64(opts.MaxBulkInflight) * opts.MaxBodyBytes
	}
	return h
}

// BulkRefused is the number of bulk bodies answered 503 because the bulk budget was spent.
func (h *Handler) BulkRefused() int64 { return h.bulkRefused.Load() }

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
		h.preflight(w, r)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodPost && r.Method != http.MethodHead {
		hdr.Set("Allow", "GET, POST, OPTIONS")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	h.allowOrigin(hdr, r)

	var body []byte
	if r.Body != nil && r.Method == http.MethodPost {
		if r.ContentLength > h.opts.MaxBodyBytes {
			h.refuse(w, true, http.StatusBadRequest, "request body too large")
			return
		}
		// A body opening with '{' is a bulk body: it is decoded as it is read, under the bulk
		// budget. Any other is form parameters, read whole.
		br := bufio.NewReaderSize(http.MaxBytesReader(w, r.Body, h.opts.MaxBodyBytes), 16)
		lead, first, err := skipSpace(br)
		if err == nil && first == '{' {
			h.serveBulk(w, r, br, h.request(r))
			return
		}
		var rest []byte
		if err == nil {
			// One request's parameters are bounded (maxParamLen each, maxParams of them), so
			// a form body needs far less room than a bulk body; read it under its own limit,
			// which also bounds what many at once hold.
			rest, err = io.ReadAll(io.LimitReader(br, maxFormBody+1))
			if err == nil && len(lead)+len(rest) > maxFormBody {
				h.refuse(w, true, http.StatusBadRequest, "request body too large: one tracking request takes at most 1 MiB; send many hits as a bulk JSON body")
				return
			}
		}
		if err != nil && err != io.EOF {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				h.refuse(w, true, http.StatusBadRequest, "request body too large")
				return
			}
			h.refuse(w, true, http.StatusBadRequest, "could not read request body")
			return
		}
		body = append(lead, rest...)
		if bytes.Contains(body, []byte(`"requests"`)) {
			// Meant as a bulk body (Matomo's test), but not one.
			h.bulkReply(w, http.StatusBadRequest, bulkReply{Status: "error", Message: errBulkJSON.Reason})
			return
		}
	}
	req := h.request(r)
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

// allowOrigin sets the CORS headers of an answer. Only a site's own origins
// (Options.CredentialedOrigin) are allowed credentials; other origins are named in answers
// to POST, or given "*".
func (h *Handler) allowOrigin(hdr http.Header, r *http.Request) {
	origin := r.Header.Get("Origin")
	switch {
	case origin != "" && h.opts.CredentialedOrigin != nil && h.opts.CredentialedOrigin(origin):
		hdr.Set("Access-Control-Allow-Origin", origin)
		hdr.Set("Access-Control-Allow-Credentials", "true")
	case origin != "" && r.Method != http.MethodGet && r.Method != http.MethodOptions:
		hdr.Set("Access-Control-Allow-Origin", origin)
	default:
		hdr.Set("Access-Control-Allow-Origin", "*")
	}
	if h.opts.CredentialedOrigin != nil || (r.Method != http.MethodGet && r.Method != http.MethodOptions) {
		hdr.Add("Vary", "Origin")
	}
}

// preflight answers a CORS preflight consistently with the answer to the request it asks
// for. An answer that allows credentials names the headers asked for, since a browser
// reads "*" there literally.
func (h *Handler) preflight(w http.ResponseWriter, r *http.Request) {
	hdr := w.Header()
	h.allowOrigin(hdr, r)
	hdr.Set("Access-Control-Allow-Methods", "GET, POST")
	if hdr.Get("Access-Control-Allow-Credentials") == "" {
		hdr.Set("Access-Control-Allow-Headers", "*")
	} else if asked := r.Header.Get("Access-Control-Request-Headers"); asked != "" {
		hdr.Set("Access-Control-Allow-Headers", asked)
		hdr.Add("Vary", "Access-Control-Request-Headers")
	}
	w.WriteHeader(http.StatusNoContent)
}

// skipSpace reads the JSON white space at the start of br and returns it with the first
// other byte, which it leaves unread.
func skipSpace(br *bufio.Reader) (lead []byte, first byte, err error) {
	for {
		c, err := br.ReadByte()
		if err != nil {
			return lead, 0, err
		}
		switch c {
		case ' ', '\t', '\n', '\r':
			lead = append(lead, c)
			continue
		}
		return lead, c, br.UnreadByte()
	}
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
