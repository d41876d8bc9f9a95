package device

import "strings"

// tokens is a list of lower-case substrings matched against a lower-cased user agent, much
// faster than one large case-insensitive regular expression. A token may carry markers:
// a leading "<" requires a word boundary before it, a trailing ">" one after it, and a
// trailing "*" a letter after it.
type tokens []string

func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= '0' && c <= '9'
}

// find returns the first token found in l (already lower-cased), or "".
func (ts tokens) find(l string) string {
	for _, t := range ts {
		before := strings.HasPrefix(t, "<")
		after := strings.HasSuffix(t, ">")
		letter := strings.HasSuffix(t, "*")
		lit := strings.TrimPrefix(t, "<")
		lit = strings.TrimSuffix(strings.TrimSuffix(lit, ">"), "*")
		for from := 0; from <= len(l)-len(lit); {
			i := strings.Index(l[from:], lit)
			if i < 0 {
				break
			}
			i += from
			end := i + len(lit)
			ok := true
			if before && i > 0 && isWordByte(l[i-1]) {
				ok = false
			}
			if after && end < len(l) && isWordByte(l[end]) {
				ok = false
			}
			if letter && (end >= len(l) || l[end] < 'a' || l[end] > 'z') {
				ok = false
			}
			if ok {
				return t
			}
			from = i + 1
		}
	}
	return ""
}

func (ts tokens) match(l string) bool { return ts.find(l) != "" }
