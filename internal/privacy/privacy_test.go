package privacy

import (
	"crypto/hmac"
	"crypto/sha256"
	"net/http"
	"net/netip"
	"strconv"
	"testing"

	"hearth/internal/event"
)

func TestTruncateIP(t *testing.T) {
	cases := []struct {
		in   string
		n    int
		want string
	}{
		{"192.168.12.34", 1, "192.168.12.0"},
		{"192.168.12.34", 2, "192.168.0.0"},
		{"192.168.12.34", 3, "192.0.0.0"},
		{"::ffff:10.1.2.3", 2, "10.1.0.0"},
		{"2001:db8:85a3:1234:5678:8a2e:370:7334", 1, "2001:db8:85a3:1234::"},
		{"2001:db8:85a3:1234:5678:8a2e:370:7334", 2, "2001:db8:85a3::"},
		{"2001:db8:85a3:1234:5678:8a2e:370:7334", 3, "2001:d00::"},
	}
	for _, tc := range cases {
		got := TruncateIP(netip.MustParseAddr(tc.in), tc.n)
		if got.String() != tc.want {
			t.Errorf("TruncateIP(%s, %d) = %s, want %s", tc.in, tc.n, got, tc.want)
		}
	}
}

func TestHasher(t *testing.T) {
	h := NewHasher([]byte("visitor-key"), []byte("user-key"))
	h2 := NewHasher([]byte("other-visitor-key"), []byte("other-user-key"))
	p1, v1 := h.UserPseudonym("alice@example.org")
	p2, v2 := h.UserPseudonym("alice@example.org")
	p3, _ := h2.UserPseudonym("alice@example.org")
	if p1 != p2 || v1 != v2 || len(p1) != 32 {
		t.Fatalf("pseudonym not stable: %s %s", p1, p2)
	}
	if p1 == p3 {
		t.Fatal("pseudonym must depend on the instance key")
	}
	if p1[:16] != v1.String() {
		t.Fatalf("visitor id %s is not the pseudonym's prefix %s", v1, p1)
	}
	ip := netip.MustParseAddr("203.0.113.9")
	a := h.CookielessVisitor([]byte("salt-day-1"), 1, ip, "UA", "en")
	b := h.CookielessVisitor([]byte("salt-day-1"), 1, ip, "UA", "en")
	c := h.CookielessVisitor([]byte("salt-day-2"), 1, ip, "UA", "en")
	d := h.CookielessVisitor([]byte("salt-day-1"), 2, ip, "UA", "en")
	e := h.CookielessVisitor([]byte("salt-day-1"), 1, netip.MustParseAddr("203.0.113.10"), "UA", "en")
	if a != b {
		t.Fatal("same inputs must give the same visitor")
	}
	if a == c || a == d || a == e {
		t.Fatal("salt, site and full IP must all change the visitor id")
	}
	// The ID is the first 8 bytes of HMAC-SHA256(visitor key, salt NUL site NUL address bytes
	// NUL user agent NUL language): computed here independently, since a change would give
	// every visitor of the day a new ID at an upgrade.
	for _, in := range []struct {
		site      event.SiteID
		ip        string
		ua, lang  string
		addrBytes []byte
	}{
		{1, "203.0.113.9", "UA", "en", []byte{203, 0, 113, 9}},
		{42, "::ffff:198.51.100.7", "Mozilla/5.0 (X11; Linux x86_64) Firefox/121.0", "de-ch", []byte{198, 51, 100, 7}},
		{7, "2001:db8::1", "", "", netip.MustParseAddr("2001:db8::1").AsSlice()},
	} {
		m := hmac.New(sha256.New, []byte("visitor-key"))
		m.Write([]byte("salt-day-1\x00" + strconv.Itoa(int(in.site)) + "\x00"))
		m.Write(in.addrBytes)
		m.Write([]byte("\x00" + in.ua + "\x00" + in.lang))
		var want event.VisitorID
		copy(want[:], m.Sum(nil))
		for range 2 { // a fresh and a reused hash state
			if got := h.CookielessVisitor([]byte("salt-day-1"), in.site, netip.MustParseAddr(in.ip), in.ua, in.lang); got != want {
				t.Fatalf("visitor of %+v: %s, want %s", in, got, want)
			}
		}
	}
}

func TestCleanURL(t *testing.T) {
	c := NewURLCleaner([]string{"Token"})
	cases := []struct {
		in, want, campName, campSource string
		keepFragment                   bool
	}{
		{"https://ex.org/a?x=1&gclid=abc&token=s3cret#frag", "https://ex.org/a?x=1", "", "", false},
		{"https://ex.org/a?utm_campaign=Spring%20Sale&utm_source=news&b=2", "https://ex.org/a?b=2", "Spring Sale", "news", false},
		{"https://ex.org/a?mtm_campaign=x&pk_campaign=y", "https://ex.org/a", "x", "", false},
		{"https://ex.org/a#keep", "https://ex.org/a#keep", "", "", true},
		{"https://ex.org/a?PHPSESSID=1", "https://ex.org/a", "", "", false},
	}
	for _, tc := range cases {
		got, camp := c.Clean(tc.in, tc.keepFragment)
		if got != tc.want || camp.Name != tc.campName || camp.Source != tc.campSource {
			t.Errorf("Clean(%q) = %q %+v, want %q name=%q source=%q", tc.in, got, camp, tc.want, tc.campName, tc.campSource)
		}
	}
}

func TestDoNotTrack(t *testing.T) {
	for _, tc := range []struct {
		h    http.Header
		want bool
	}{
		{http.Header{"Dnt": {"1"}}, true},
		{http.Header{"Sec-Gpc": {"1"}}, true},
		{http.Header{"X-Do-Not-Track": {"1"}}, true},
		{http.Header{"Dnt": {"0"}}, false},
		{http.Header{}, false},
	} {
		if got := DoNotTrack(tc.h); got != tc.want {
			t.Errorf("DoNotTrack(%v) = %v", tc.h, got)
		}
	}
}

func TestIPMatcher(t *testing.T) {
	m, err := NewIPMatcher([]string{"10.0.0.0/8", "192.168.1.*", "2001:db8::/32", "203.0.113.7"})
	if err != nil {
		t.Fatal(err)
	}
	for ip, want := range map[string]bool{
		"10.9.9.9": true, "192.168.1.200": true, "192.168.2.1": false, "2001:db8::1": true,
		"203.0.113.7": true, "203.0.113.8": false, "::ffff:10.0.0.1": true,
	} {
		if got := m.Match(netip.MustParseAddr(ip)); got != want {
			t.Errorf("Match(%s) = %v", ip, got)
		}
	}
	if _, err := NewIPMatcher([]string{"1.*.3.4"}); err == nil {
		t.Fatal("wildcard in the middle accepted")
	}
}
