// Package server assembles the HTTP surface: routes, security headers, the real client IP
// behind trusted proxies, health and readiness, metrics, TLS and graceful shutdown.
package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"regexp"
	"strings"
	"time"

	"hearth/internal/requestid"
	"hearth/internal/tracker"
)

// Readiness is a dependency /readyz checks: its name is what a failing check answers, its
// error only goes to the log.
type Readiness struct {
	Name  string
	Check func(ctx context.Context) error
}

// Options configure the server.
type Options struct {
	Listen         string
	TLSCert        string
	TLSKey         string
	TrustedProxies []netip.Prefix
	// Tracking serves /matomo.php and /piwik.php; API the Reporting API at /index.php (and at
	// / for Matomo's clients); Native /api/v1/; Pages every other path (web.Handler).
	Tracking      http.Handler
	API           http.Handler
	Native        http.Handler
	Pages         http.Handler
	Ready         []Readiness
	Metrics       http.Handler
	MetricsListen string
	// RedirectListen, with TLS on, serves plain HTTP that redirects every request to HTTPS.
	RedirectListen string
	// PublicURL, when set, is where redirects point (its scheme and host).
	PublicURL string
	Logger    *slog.Logger
}

// Server is the running HTTP server.
type Server struct {
	opts     Options
	http     *http.Server
	metrics  *http.Server
	redirect *http.Server
	ln       net.Listener
	mln      net.Listener
	rln      net.Listener
}

// validHost is a host name or address with an optional port, nothing that could name another
// location (no slash, at sign or backslash).
var validHost = regexp.MustCompile(`^[A-Za-z0-9.\-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$`)

// redirectHandler sends every plain-HTTP request to the same path over HTTPS.
func redirectHandler(publicURL, tlsAddr string) http.Handler {
	_, tlsPort, _ := net.SplitHostPort(tlsAddr)
	return securityHeaders(false, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		target := publicURL
		if target == "" || !strings.HasPrefix(target, "https://") {
			host := r.Host
			if !validHost.MatchString(host) {
				http.Error(w, "bad host", http.StatusBadRequest)
				return
			}
			if h, _, err := net.SplitHostPort(host); err == nil {
				host = h
			}
			if strings.Contains(host, ":") {
				host = "[" + host + "]"
			}
			if tlsPort != "" && tlsPort != "443" {
				host += ":" + tlsPort
			}
			target = "https://" + host
		}
		// #nosec G710 -- the target is the public URL or the requested host (validated above) on HTTPS.
		http.Redirect(w, r, strings.TrimRight(target, "/")+r.URL.RequestURI(), http.StatusMovedPermanently)
	}))
}

// ClientIP returns the request's real client address: the connection's peer, or, when the
// peer is a trusted proxy, the right-most untrusted address of X-Forwarded-For / Forwarded.
func ClientIP(trusted []netip.Prefix) func(*http.Request) netip.Addr {
	isTrusted := func(a netip.Addr) bool {
		for _, p := range trusted {
			if p.Contains(a) {
				return true
			}
		}
		return false
	}
	return func(r *http.Request) netip.Addr {
		ap, err := netip.ParseAddrPort(r.RemoteAddr)
		var peer netip.Addr
		if err == nil {
			peer = ap.Addr().Unmap()
		} else if a, err := netip.ParseAddr(r.RemoteAddr); err == nil {
			peer = a.Unmap()
		}
		if len(trusted) == 0 || !isTrusted(peer) {
			return peer
		}
		var chain []string
		for _, v := range r.Header.Values("X-Forwarded-For") {
			chain = append(chain, strings.Split(v, ",")...)
		}
		if len(chain) == 0 {
			for _, v := range r.Header.Values("Forwarded") {
				for _, part := range strings.Split(v, ",") {
					for _, kv := range strings.Split(part, ";") {
						k, val, ok := strings.Cut(strings.TrimSpace(kv), "=")
						if ok && strings.EqualFold(k, "for") {
							val = strings.Trim(val, `"`)
							val = strings.TrimPrefix(val, "[")
							if i := strings.Index(val, "]"); i >= 0 {
								val = val[:i]
							} else if strings.Count(val, ":") == 1 {
								val = val[:strings.Index(val, ":")]
							}
							chain = append(chain, val)
						}
					}
				}
			}
		}
		for i := len(chain) - 1; i >= 0; i-- {
			a, err := netip.ParseAddr(strings.TrimSpace(chain[i]))
			if err != nil {
				return peer
			}
			a = a.Unmap()
			if !isTrusted(a) {
				return a
			}
		}
		return peer
	}
}

// addrPattern matches IPv4 and IPv6 addresses (with an optional port) in net/http's own
// error messages, such as "http: TLS handshake error from 203.0.113.9:51234: EOF".
var addrPattern = regexp.MustCompile(`\[?[0-9a-fA-F:]*:[0-9a-fA-F:.]+\]?(:\d+)?|\b\d{1,3}(\.\d{1,3}){3}(:\d+)?\b`)

// redactingWriter turns net/http's error log lines into structured warnings without the
// client addresses they contain: no raw IP reaches the log.
type redactingWriter struct{ log *slog.Logger }

func (w redactingWriter) Write(p []byte) (int, error) {
	msg := strings.TrimSpace(addrPattern.ReplaceAllString(string(p), "[address]"))
	w.log.Warn("http server", "detail", msg)
	return len(p), nil
}

// securityHeaders sets the headers every response carries.
func securityHeaders(tlsOn bool, next http.Handler) http.Handler {
	set := func(h http.Header) {
		h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		if tlsOn {
			h.Set("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
		}
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if trackingPaths[r.URL.Path] {
			next.ServeHTTP(&bodyHeaders{ResponseWriter: w, set: set}, r)
			return
		}
		set(w.Header())
		next.ServeHTTP(w, r)
	})
}

// trackingPaths answer the tracker, mostly with a bodiless 204.
var trackingPaths = map[string]bool{"/matomo.php": true, "/piwik.php": true, "/js/tracker.php": true}

// bodyHeaders adds the security headers only to a response that has a body. They govern how a
// document is rendered, framed or sniffed; a tracking beacon's 204 carries none, and on the
// busiest path every header costs the server to write and the browser to parse.
type bodyHeaders struct {
	http.ResponseWriter
	set  func(http.Header)
	sent bool
}

func (w *bodyHeaders) WriteHeader(code int) {
	if !w.sent {
		w.sent = true
		if code != http.StatusNoContent && code != http.StatusNotModified {
			w.set(w.Header())
		}
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *bodyHeaders) Write(b []byte) (int, error) {
	if !w.sent {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (w *bodyHeaders) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// closeAfterTransferEncoding closes the connection after answering a request that came with
// a Transfer-Encoding. RFC 9112 section 6.1 asks a server to close the connection after a
// request with both Transfer-Encoding and Content-Length, which a proxy reading the other
// length could have let smuggle a second request in; net/http drops such a request's
// Content-Length before any handler sees it, so every request with a Transfer-Encoding is
// treated so. Browsers and Matomo's clients send a Content-Length: only a client streaming
// its upload pays for a new connection.
func closeAfterTransferEncoding(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if len(r.TransferEncoding) > 0 {
			w.Header().Set("Connection", "close")
		}
		next.ServeHTTP(w, r)
	})
}

// recoverer turns a panic in a handler into a 500 so one bad request cannot stop the server.
func recoverer(log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				log.Error("handler panic", "panic", fmt.Sprint(v), "path", r.URL.Path, "request_id", requestid.From(r.Context()))
				http.Error(w, "internal error", http.StatusInternalServerError)
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// crossOriginProtection refuses state-changing browser requests from another origin: those
// net/http's CrossOriginProtection refuses (Sec-Fetch-Site, Origin), and, for browsers that
// send neither, those whose Referer names another host. The public URL's origin counts as
// Hearth's own, for a proxy that changes the Host header. Requests without any of these
// headers (API clients, curl) pass: they carry no ambient browser credentials. Browsers that
// send none of them on a cross-site form post still send no session: its cookie is
// SameSite=Lax.
func crossOriginProtection(publicURL string, next http.Handler) http.Handler {
	csrf := http.NewCrossOriginProtection()
	publicHost := ""
	if u, err := url.Parse(publicURL); err == nil && u.Host != "" {
		publicHost = u.Host
		_ = csrf.AddTrustedOrigin(u.Scheme + "://" + u.Host)
	}
	checked := csrf.Handler(next)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
		default:
			if ref := r.Header.Get("Referer"); ref != "" && r.Header.Get("Origin") == "" && r.Header.Get("Sec-Fetch-Site") == "" {
				if u, err := url.Parse(ref); err != nil || !strings.EqualFold(u.Host, r.Host) && !strings.EqualFold(u.Host, publicHost) {
					http.Error(w, "cross-origin request refused", http.StatusForbidden)
					return
				}
			}
		}
		checked.ServeHTTP(w, r)
	})
}

// Handler builds the routed handler.
func Handler(opts Options) http.Handler {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	mux := http.NewServeMux()
	for p := range trackingPaths {
		mux.Handle(p, opts.Tracking)
	}
	script := tracker.Handler()
	for _, p := range tracker.Paths {
		mux.Handle(p, script)
	}
	mux.Handle("/index.php", opts.API)
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		var failed []string
		for _, dep := range opts.Ready {
			if err := dep.Check(ctx); err != nil {
				opts.Logger.Warn("not ready", "dependency", dep.Name, "request_id", requestid.From(r.Context()), "err", err)
				failed = append(failed, dep.Name)
			}
		}
		if len(failed) > 0 {
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte("not ready: " + strings.Join(failed, ", ") + "\n"))
			return
		}
		_, _ = w.Write([]byte("ready\n"))
	})
	// Cross-origin browser requests that change state are refused on the pages and on the
	// native API (which accepts the session cookie); clients without browser headers pass.
	if opts.Native != nil {
		mux.Handle("/api/v1/", crossOriginProtection(opts.PublicURL, opts.Native))
	}
	pages := http.NotFoundHandler()
	if opts.Pages != nil {
		pages = crossOriginProtection(opts.PublicURL, opts.Pages)
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		// Matomo clients (the log importer among them) call the API at the root.
		if r.URL.Path == "/" && (r.URL.Query().Get("module") == "API" || r.Method == http.MethodPost) {
			opts.API.ServeHTTP(w, r)
			return
		}
		pages.ServeHTTP(w, r)
	})
	inner := closeAfterTransferEncoding(recoverer(opts.Logger, securityHeaders(opts.TLSCert != "", mux)))
	withID := requestid.Handler(inner)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// A tracking beacon's answer (mostly a bodiless 204) has nothing to show an ID on, and
		// on the busiest path every header and random read counts.
		if trackingPaths[r.URL.Path] {
			inner.ServeHTTP(w, r)
			return
		}
		withID.ServeHTTP(w, r)
	})
}

// New prepares the server and binds its listeners, so the caller knows the address before Serve.
func New(opts Options) (*Server, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{opts: opts}
	s.http = &http.Server{
		Handler:           Handler(opts),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          log.New(redactingWriter{opts.Logger}, "", 0),
	}
	if opts.TLSCert != "" {
		cert, err := tls.LoadX509KeyPair(opts.TLSCert, opts.TLSKey)
		if err != nil {
			return nil, fmt.Errorf("load TLS certificate: %w", err)
		}
		s.http.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}}
	}
	ln, err := net.Listen("tcp", opts.Listen)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", opts.Listen, err)
	}
	s.ln = ln
	if opts.RedirectListen != "" {
		if opts.TLSCert == "" {
			ln.Close()
			return nil, errors.New("http-redirect-listen needs tls-cert and tls-key")
		}
		rln, err := net.Listen("tcp", opts.RedirectListen)
		if err != nil {
			ln.Close()
			return nil, fmt.Errorf("listen on %s: %w", opts.RedirectListen, err)
		}
		s.rln = rln
		s.redirect = &http.Server{Handler: closeAfterTransferEncoding(redirectHandler(opts.PublicURL, ln.Addr().String())), ReadHeaderTimeout: 10 * time.Second,
			ReadTimeout: 10 * time.Second, WriteTimeout: 10 * time.Second, ErrorLog: log.New(redactingWriter{opts.Logger}, "", 0)}
	}
	if opts.MetricsListen != "" && opts.Metrics != nil {
		mln, err := net.Listen("tcp", opts.MetricsListen)
		if err != nil {
			ln.Close()
			return nil, fmt.Errorf("listen on %s: %w", opts.MetricsListen, err)
		}
		s.mln = mln
		mux := http.NewServeMux()
		mux.Handle("/metrics", opts.Metrics)
		s.metrics = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	}
	return s, nil
}

// RedirectAddr is the bound address of the HTTP redirect listener, or "".
func (s *Server) RedirectAddr() string {
	if s.rln == nil {
		return ""
	}
	return s.rln.Addr().String()
}

// Addr is the bound address.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Serve serves until Shutdown.
func (s *Server) Serve() error {
	if s.redirect != nil {
		go func() {
			if err := s.redirect.Serve(s.rln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				s.opts.Logger.Error("redirect listener failed", "err", err)
			}
		}()
	}
	if s.metrics != nil {
		go func() {
			if err := s.metrics.Serve(s.mln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				s.opts.Logger.Error("metrics listener failed", "err", err)
			}
		}()
	}
	var err error
	if s.http.TLSConfig != nil {
		err = s.http.ServeTLS(s.ln, "", "")
	} else {
		err = s.http.Serve(s.ln)
	}
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// Shutdown stops accepting connections and waits for in-flight requests.
func (s *Server) Shutdown(ctx context.Context) error {
	var errs []error
	if s.metrics != nil {
		errs = append(errs, s.metrics.Shutdown(ctx))
	}
	if s.redirect != nil {
		errs = append(errs, s.redirect.Shutdown(ctx))
	}
	errs = append(errs, s.http.Shutdown(ctx))
	return errors.Join(errs...)
}
