package privacy

import (
	"net/url"
	"regexp"
	"strings"
)

// EmailPlaceholder replaces every e-mail address found in tracked text.
const EmailPlaceholder = "[email]"

// emailPattern finds e-mail addresses in text as sent, also percent-encoded as they arrive in
// URLs, once or more (a URL carried in another URL's parameter is encoded twice): the
// at-sign as %40 or %2540, the local part's + . - _ as %2B %2E %2D %5F (or %252B …)
// (jane.doe%40corp.example, jane%2Btag@corp.example, next=%3Femail%3Djane%2540corp.example).
// The domain needs a top-level label of letters, so versions (pkg@1.2.3) do not match.
var emailPattern = regexp.MustCompile(`(?i)[a-z0-9._+'-]+(?:%(?:25)*(?:2b|2e|2d|5f|27)[a-z0-9._+'-]*)*(?:@|%(?:25)*40)[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*\.[a-z]{2,24}\b`)

// userinfo is the user information of a URL: scheme://user:password@ up to the host.
var userinfo = regexp.MustCompile(`^([a-zA-Z][a-zA-Z0-9+.-]*://)[^/?#]*@`)

// atSign matches an at-sign, plain or percent-encoded once or more, at the start of a text.
var atSign = regexp.MustCompile(`(?i)^(?:@|%(?:25)*40)`)

// fileSuffixes are endings that make "name@2x.png" a file name, not an address.
var fileSuffixes = map[string]bool{
	"png": true, "jpg": true, "jpeg": true, "gif": true, "svg": true, "webp": true, "avif": true, "ico": true,
	"bmp": true, "tif": true, "tiff": true, "css": true, "js": true, "mjs": true, "map": true, "json": true,
	"xml": true, "pdf": true, "html": true, "htm": true, "php": true, "txt": true, "woff": true, "woff2": true,
	"ttf": true, "otf": true, "eot": true, "mp4": true, "webm": true, "mp3": true,
}

// RedactEmails replaces the e-mail addresses in s with EmailPlaceholder. Text without an
// at-sign, plain or percent-encoded, is returned as it is, without a regular-expression search.
func RedactEmails(s string) string {
	if !strings.Contains(s, "@") && !strings.Contains(s, "%40") && !strings.Contains(s, "2540") {
		return s // no at-sign, plain or encoded (%40, %2540, %252540 …)
	}
	found := emailPattern.FindAllStringIndex(s, -1)
	if found == nil {
		return s
	}
	var b strings.Builder
	last := 0
	for _, m := range found {
		start, end := m[0], m[1]
		if start > 0 && s[start-1] == '%' {
			// The match began with the hex digits of an escape (email%3Djane%40…, or
			// email%253Djane%2540… encoded twice): the address starts after them, unless
			// nothing of the address would be left.
			j := start
			for strings.HasPrefix(s[j:], "25") && j+4 <= end && isHex(s[j+2]) && isHex(s[j+3]) {
				j += 2
			}
			if j+2 <= end && isHex(s[j]) && isHex(s[j+1]) {
				j += 2
			}
			if j < end && !atSign.MatchString(s[j:]) {
				start = j
			}
		}
		if i := strings.LastIndexByte(s[start:end], '.'); i >= 0 && fileSuffixes[strings.ToLower(s[start+i+1:end])] {
			continue // logo@2x.png
		}
		b.WriteString(s[last:start])
		b.WriteString(EmailPlaceholder)
		last = end
	}
	b.WriteString(s[last:])
	return b.String()
}

// RedactURL removes a URL's user information (user:password@ before the host, which is
// credentials or an address, never analytics) and replaces the e-mail addresses in the rest.
func RedactURL(raw string) string {
	if raw == "" {
		return raw
	}
	if u, err := url.Parse(raw); err == nil && u.User != nil {
		u.User = nil
		raw = u.String()
	} else if err != nil {
		// Not a URL Go can parse: still drop what stands between scheme:// and an at-sign
		// before the path, which can only be user information.
		raw = userinfo.ReplaceAllString(raw, "$1")
	}
	return RedactEmails(raw)
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}
