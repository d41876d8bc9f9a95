package privacy

import (
	"net/url"
	"regexp"
	"strings"
)

// EmailPlaceholder replaces every e-mail address found in tracked text.
const EmailPlaceholder = "[email]"

// emailPattern finds e-mail addresses in text as sent, also percent-encoded as they arrive in
// URLs: the at-sign as %40 and the local part's + . - _ as %2B %2E %2D %5F
// (jane.doe%40corp.example, jane%2Btag@corp.example). The domain needs a top-level label of
// letters, so versions (pkg@1.2.3) do not match.
var emailPattern = regexp.MustCompile(`(?i)[a-z0-9._+-]+(?:%(?:2b|2e|2d|5f)[a-z0-9._+-]*)*(?:@|%40)[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*\.[a-z]{2,24}\b`)

// fileSuffixes are endings that make "name@2x.png" a file name, not an address.
var fileSuffixes = map[string]bool{
	"png": true, "jpg": true, "jpeg": true, "gif": true, "svg": true, "webp": true, "avif": true, "ico": true,
	"bmp": true, "tif": true, "tiff": true, "css": true, "js": true, "mjs": true, "map": true, "json": true,
	"xml": true, "pdf": true, "html": true, "htm": true, "php": true, "txt": true, "woff": true, "woff2": true,
	"ttf": true, "otf": true, "eot": true, "mp4": true, "webm": true, "mp3": true,
}

// RedactEmails replaces the e-mail addresses in s with EmailPlaceholder. Text without an
// at-sign is returned as it is, without a regular-expression search.
func RedactEmails(s string) string {
	if !strings.Contains(s, "@") && !strings.Contains(s, "%40") {
		return s
	}
	found := emailPattern.FindAllStringIndex(s, -1)
	if found == nil {
		return s
	}
	var b strings.Builder
	last := 0
	for _, m := range found {
		start, end := m[0], m[1]
		if start > 0 && s[start-1] == '%' && isHex(s[start]) && isHex(s[start+1]) &&
			s[start+2] != '@' && !strings.HasPrefix(s[start+2:], "%40") {
			// The match began with the two hex digits of an escape (email%3Djane%40…):
			// the address starts after them.
			start += 2
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
	}
	return RedactEmails(raw)
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}
