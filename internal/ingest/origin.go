package ingest

import (
	"context"
	"net"
	"net/url"
	"strings"
	"time"
)

// The hosts of the sites' URLs answer whether a page's Origin may send the tracker its
// credentials: Matomo's tracker sends its XHR POSTs with them, and a browser that is not let
// read the answer takes it as failed and sends the hit again by GET.
const (
	// originRefresh bounds how often an Origin that is not a site's reloads the hosts, so a
	// site added a moment ago is known within it and ever new origins cost one query per
	// interval at most.
	originRefresh = 10 * time.Second
	// originLoadTimeout bounds how long a tracking request waits for that reload.
	originLoadTimeout = time.Second
	// maxOriginLen is longer than any origin a browser sends (a host has at most 253 bytes).
	maxOriginLen = 300
)

// originSet holds the hosts of every site URL, lowercase, with the port when it is not the
// scheme's default (hostKey).
type originSet map[string]struct{}

// KnownOrigin reports whether origin, the Origin header of a tracking request, is the host
// of a URL of a site (its main URL or an alias). The scheme is not compared, so the http
// and https origins of a site's host both count; hosts are compared case-insensitively and
// a default port is the same as none. An origin not known is looked up in the metadata
// store again when the hosts were last loaded originRefresh ago or longer.
func (p *Pipeline) KnownOrigin(origin string) bool {
	key, ok := originKey(origin)
	if !ok {
		return false
	}
	if set := p.origins.Load(); set != nil {
		if _, ok := (*set)[key]; ok {
			return true
		}
	}
	if !p.originsStale() || !p.originsMu.TryLock() {
		// Loaded a moment ago, or being loaded right now: a tracking request does not wait.
		return false
	}
	defer p.originsMu.Unlock()
	if p.originsStale() { // not loaded by another request while this one took the lock
		p.reloadOrigins()
	}
	_, ok = (*p.origins.Load())[key]
	return ok
}

// originsStale reports whether the hosts were loaded originRefresh ago or longer (or in
// the future: the clock went back).
func (p *Pipeline) originsStale() bool {
	d := p.opts.Now().Sub(time.Unix(0, p.originsAt.Load()))
	return d < 0 || d >= originRefresh
}

// reloadOrigins loads the hosts again; on an error the hosts loaded before stay. Callers
// hold originsMu.
func (p *Pipeline) reloadOrigins() {
	p.originsAt.Store(p.opts.Now().UnixNano())
	ctx, cancel := context.WithTimeout(context.Background(), originLoadTimeout)
	defer cancel()
	if err := p.loadOrigins(ctx); err != nil {
		p.log.Warn("reload the site hosts whose pages may send the tracker credentials", "err", err)
	}
}

// loadOrigins reads every site's URLs into the set of known origins.
func (p *Pipeline) loadOrigins(ctx context.Context) error {
	sites, err := p.opts.Meta.Sites(ctx)
	if err != nil {
		return err
	}
	set := originSet{}
	for _, s := range sites {
		for _, raw := range s.URLs {
			if !strings.Contains(raw, "://") {
				raw = "http://" + raw // a site URL may be stored without its scheme
			}
			if u, err := url.Parse(strings.TrimSpace(raw)); err == nil {
				if key, ok := hostKey(u); ok {
					set[key] = struct{}{}
				}
			}
		}
	}
	p.origins.Store(&set)
	return nil
}

// refreshOrigins loads the hosts again after a site changed, waiting for a load under way.
func (p *Pipeline) refreshOrigins() {
	p.originsMu.Lock()
	defer p.originsMu.Unlock()
	p.reloadOrigins()
}

// originKey is the key of an Origin header's host, false for anything but a serialised
// http or https origin (scheme, host and optional port; "null" is not one).
func originKey(origin string) (string, bool) {
	if len(origin) > maxOriginLen || !strings.Contains(origin, "://") {
		return "", false
	}
	u, err := url.Parse(origin)
	if err != nil || u.Opaque != "" || u.User != nil || u.Path != "" || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		return "", false
	}
	return hostKey(u)
}

// hostKey is u's host, lowercase, with its port unless that is the scheme's default; false
// when u is not an http or https URL with a host.
func hostKey(u *url.URL) (string, bool) {
	if u.Scheme != "http" && u.Scheme != "https" {
		return "", false
	}
	host := strings.ToLower(u.Hostname())
	if host == "" {
		return "", false
	}
	switch port := u.Port(); {
	case port == "", u.Scheme == "http" && port == "80", u.Scheme == "https" && port == "443":
		return host, true
	default:
		return net.JoinHostPort(host, port), true
	}
}
