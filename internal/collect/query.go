package collect

import (
	"errors"
	"net/url"
	"strings"
)

// maxQueryParams is net/url's default limit on the pairs of a query.
const maxQueryParams = 10000

// parseQuery parses a query string exactly as url.ParseQuery does with its default limit
// (pairs split on '&', a pair holding ';' refused, key and value unescaped, a pair that does
// not unescape skipped, repeated keys kept in order; the same error), with fewer
// allocations: the map is sized once and single values share one backing array. It runs on
// every tracking request; FuzzParseQuery compares it with url.ParseQuery.
func parseQuery(query string) (url.Values, error) {
	pairs := strings.Count(query, "&") + 1
	if pairs > maxQueryParams {
		return url.Values{}, errors.New("number of URL query parameters exceeded limit")
	}
	m := make(url.Values, pairs)
	backing := make([]string, 0, pairs)
	var firstErr error
	for query != "" {
		var pair string
		pair, query, _ = strings.Cut(query, "&")
		if strings.Contains(pair, ";") {
			firstErr = errors.New("invalid semicolon separator in query") // as net/url: it replaces an earlier error
			continue
		}
		if pair == "" {
			continue
		}
		key, value, _ := strings.Cut(pair, "=")
		key, err := url.QueryUnescape(key)
		if err != nil {
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		value, err = url.QueryUnescape(value)
		if err != nil {
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		if prev, ok := m[key]; ok {
			m[key] = append(prev[:len(prev):len(prev)], value) // never into the shared backing
			continue
		}
		backing = append(backing, value)
		n := len(backing)
		m[key] = backing[n-1 : n : n]
	}
	return m, firstErr
}
