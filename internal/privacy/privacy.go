// Package privacy strips and pseudonymises personal data before anything is stored: IP
// truncation, keyed visitor and user-ID hashing, URL query-parameter exclusion, Do-Not-Track
// and Global Privacy Control, and IP/user-agent/referrer exclusion rules.
package privacy

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync"

	"hearth/internal/event"
)

// TruncateIP zeroes the low part of an address: for IPv4 the last n octets (1-3); for IPv6
// it keeps the first /64, /48 or /24 bits for n = 1, 2, 3, as Matomo does.
func TruncateIP(a netip.Addr, n int) netip.Addr {
	a = a.Unmap()
	if n < 1 {
		n = 1
	}
	if n > 3 {
		n = 3
	}
	if a.Is4() {
		p, _ := a.Prefix(32 - 8*n)
		return p.Addr()
	}
	if a.Is6() {
		bits := map[int]int{1: 64, 2: 48, 3: 24}[n]
		p, _ := a.Prefix(bits)
		return p.Addr()
	}
	return a
}

// Hasher derives visitor identifiers and user-ID pseudonyms with keys from the instance secret.
type Hasher struct {
	visitorKey  []byte
	userKey     []byte
	visitorPool sync.Pool // of *keyedHash
}

// NewHasher builds a hasher from two independent purpose keys.
func NewHasher(visitorKey, userKey []byte) *Hasher {
	return &Hasher{visitorKey: visitorKey, userKey: userKey}
}

// UserPseudonym returns the stored form of a tracker user ID (32 hex) and the visitor ID
// derived from it. Unlike Matomo's unkeyed SHA-1, it cannot be reversed from a list of
// candidate user IDs without the instance secret.
func (h *Hasher) UserPseudonym(uid string) (string, event.VisitorID) {
	m := hmac.New(sha256.New, h.userKey)
	m.Write([]byte(uid))
	sum := m.Sum(nil)
	var v event.VisitorID
	copy(v[:], sum[:8])
	return hex.EncodeToString(sum[:16]), v
}

// CookielessVisitor derives a visitor ID from the site, the full IP, user agent and language,
// keyed with the instance key and the site's daily salt, so the same person gets a new
// unlinkable ID every day and nobody without the salt can recompute it.
func (h *Hasher) CookielessVisitor(salt []byte, site event.SiteID, ip netip.Addr, userAgent, language string) event.VisitorID {
	st, _ := h.visitorPool.Get().(*keyedHash)
	if st == nil {
		st = &keyedHash{mac: hmac.New(sha256.New, h.visitorKey)}
	}
	defer h.visitorPool.Put(st)
	st.mac.Reset()
	// The bytes hashed: salt, NUL, the site number in decimal, NUL, the address's bytes, NUL,
	// user agent, NUL, language. IDs must stay the same across versions within a day.
	b := append(st.buf[:0], salt...)
	b = append(b, 0)
	b = strconv.AppendInt(b, int64(site), 10)
	b = append(b, 0)
	b = append(b, ip.Unmap().AsSlice()...)
	b = append(b, 0)
	b = append(b, userAgent...)
	b = append(b, 0)
	b = append(b, language...)
	st.mac.Write(b)
	if cap(b) <= 4096 {
		st.buf = b
	}
	var v event.VisitorID
	copy(v[:], st.mac.Sum(st.sum[:0]))
	return v
}

// keyedHash is a reusable HMAC keyed with the visitor key and its input buffer: the
// cookieless hash runs on every hit that has no tracker visitor ID.
type keyedHash struct {
	mac hash.Hash
	buf []byte
	sum [sha256.Size]byte
}

// DefaultExcludedParams are removed from every URL (Matomo's built-in list).
var DefaultExcludedParams = []string{
	"gclid", "fbclid", "msclkid", "twclid", "wbraid", "gbraid", "yclid", "fb_xd_fragment", "fb_comment_id",
	"phpsessid", "jsessionid", "sessionid", "aspsessionid", "doing_wp_cron", "sid", "pk_vid", "ignore_referrer",
}

// CampaignParams maps each campaign URL parameter Matomo recognises to the campaign field it fills.
var CampaignParams = map[string]string{
	"pk_campaign": "name", "pk_cpn": "name", "piwik_campaign": "name", "mtm_campaign": "name", "matomo_campaign": "name", "utm_campaign": "name", "mtm_cpn": "name",
	"pk_kwd": "keyword", "pk_keyword": "keyword", "piwik_kwd": "keyword", "mtm_kwd": "keyword", "mtm_keyword": "keyword", "matomo_kwd": "keyword", "utm_term": "keyword",
	"pk_source": "source", "mtm_source": "source", "utm_source": "source",
	"pk_medium": "medium", "mtm_medium": "medium", "utm_medium": "medium",
	"pk_content": "content", "mtm_content": "content", "utm_content": "content",
	"pk_cid": "id", "mtm_cid": "id", "utm_id": "id",
	"pk_group": "group", "mtm_group": "group",
	"pk_placement": "placement", "mtm_placement": "placement",
}

// URLCleaner removes excluded query parameters and fragments and extracts campaign parameters.
type URLCleaner struct {
	excluded map[string]bool
}

// NewURLCleaner builds a cleaner removing the default list plus extra (case-insensitive).
func NewURLCleaner(extra ...[]string) *URLCleaner {
	c := &URLCleaner{excluded: map[string]bool{}}
	for _, p := range DefaultExcludedParams {
		c.excluded[p] = true
	}
	for _, list := range extra {
		for _, p := range list {
			c.excluded[strings.ToLower(strings.TrimSpace(p))] = true
		}
	}
	return c
}

// Clean returns the URL without excluded and campaign parameters (and without its fragment
// unless keepFragment), and the campaign found in it. Unparseable URLs are returned as given.
func (c *URLCleaner) Clean(raw string, keepFragment bool) (string, event.Campaign) {
	var camp event.Campaign
	u, err := url.Parse(raw)
	if err != nil {
		return raw, camp
	}
	if !keepFragment {
		u.Fragment, u.RawFragment = "", ""
	}
	if u.RawQuery != "" {
		parts := strings.Split(u.RawQuery, "&")
		kept := parts[:0]
		for _, part := range parts {
			if part == "" {
				continue
			}
			k, v, _ := strings.Cut(part, "=")
			name, err := url.QueryUnescape(k)
			if err != nil {
				name = k
			}
			lname := strings.ToLower(name)
			if field, ok := CampaignParams[lname]; ok {
				val, err := url.QueryUnescape(v)
				if err != nil {
					val = v
				}
				setCampaign(&camp, field, val)
				continue
			}
			if c.excluded[lname] {
				continue
			}
			kept = append(kept, part)
		}
		u.RawQuery = strings.Join(kept, "&")
		u.ForceQuery = false
	}
	return u.String(), camp
}

func setCampaign(c *event.Campaign, field, v string) {
	v = strings.TrimSpace(v)
	var p *string
	switch field {
	case "name":
		p = &c.Name
	case "keyword":
		p = &c.Keyword
	case "source":
		p = &c.Source
	case "medium":
		p = &c.Medium
	case "content":
		p = &c.Content
	case "id":
		p = &c.ID
	case "group":
		p = &c.Group
	case "placement":
		p = &c.Place
	}
	if p != nil && *p == "" {
		*p = v
	}
}

// DoNotTrack reports whether the request asks not to be tracked (DNT, X-Do-Not-Track or Sec-GPC).
func DoNotTrack(h http.Header) bool {
	for _, name := range []string{"DNT", "X-Do-Not-Track", "Sec-GPC"} {
		if v := strings.TrimSpace(h.Get(name)); v == "1" || strings.EqualFold(v, "yes") {
			return true
		}
	}
	return false
}

// IPMatcher matches addresses against CIDRs, single addresses and Matomo's wildcard form (1.2.3.*).
type IPMatcher struct {
	prefixes []netip.Prefix
}

// NewIPMatcher parses rules; it returns an error naming the first bad rule.
func NewIPMatcher(rules []string) (*IPMatcher, error) {
	m := &IPMatcher{}
	for _, r := range rules {
		r = strings.TrimSpace(r)
		if r == "" {
			continue
		}
		p, err := parseIPRule(r)
		if err != nil {
			return nil, err
		}
		m.prefixes = append(m.prefixes, p)
	}
	return m, nil
}

func parseIPRule(r string) (netip.Prefix, error) {
	if strings.Contains(r, "*") {
		octets := strings.Split(r, ".")
		if len(octets) != 4 {
			return netip.Prefix{}, fmt.Errorf("invalid IP rule %q", r)
		}
		bits := 32
		for i := 3; i >= 0 && octets[i] == "*"; i-- {
			octets[i] = "0"
			bits -= 8
		}
		if strings.Contains(strings.Join(octets, "."), "*") {
			return netip.Prefix{}, fmt.Errorf("invalid IP rule %q: wildcards only at the end", r)
		}
		a, err := netip.ParseAddr(strings.Join(octets, "."))
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("invalid IP rule %q", r)
		}
		return netip.PrefixFrom(a, bits), nil
	}
	if strings.Contains(r, "/") {
		p, err := netip.ParsePrefix(r)
		if err != nil {
			return p, fmt.Errorf("invalid IP rule %q", r)
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(r)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("invalid IP rule %q", r)
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// Match reports whether a matches any rule.
func (m *IPMatcher) Match(a netip.Addr) bool {
	if m == nil {
		return false
	}
	a = a.Unmap()
	for _, p := range m.prefixes {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
