package matomo

import (
	"bytes"
	"compress/gzip"
	"net/http/httptest"
	"net/url"
	"runtime"
	"strings"
	"testing"
)

// TestRequestBodiesAreBounded: the API never inflates a request body, so a gzip bomb is read
// as the few hundred KiB it is (and makes no sense as a form: 400), a compressed form is not
// obeyed, and a form body above net/http's 10 MB form limit is refused, each with bounded
// memory.
func TestRequestBodiesAreBounded(t *testing.T) {
	r := newMatrixRig(t)
	// gz inflates to prefix and mib MiB of b, as concatenated gzip members (read as one
	// stream), so a bomb costs compressing one MiB.
	gz := func(prefix string, b byte, mib int) []byte {
		member := func(data []byte) []byte {
			var buf bytes.Buffer
			zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
			_, _ = zw.Write(data)
			_ = zw.Close()
			return buf.Bytes()
		}
		out := member([]byte(prefix))
		more := member(bytes.Repeat([]byte{b}, 1<<20))
		for range mib {
			out = append(out, more...)
		}
		return out
	}
	form := url.Values{"module": {"API"}, "method": {"SitesManager.getSiteFromId"}, "idSite": {"2"}, "format": {"json"}, "token_auth": {r.tokens["root"]}}
	opaque := []string{"could not read the request body", "does not exist"}
	cases := []struct {
		name     string
		body     []byte
		encoding string
		code     int
		messages []string // what the compressed bytes spell as a form depends on the compressor
	}{
		{"gzip bomb", gz("module=API&format=json&method=API.getMatomoVersion&x=", 'a', 64), "gzip", 400, opaque},
		{"compressed form", gz(form.Encode(), '&', 0), "gzip", 400, opaque},
		{"form over 10 MB", []byte(form.Encode() + "&pad=" + strings.Repeat("a", 11<<20)), "", 400, []string{"could not read the request body"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req := httptest.NewRequest("POST", "/index.php?format=json", bytes.NewReader(c.body))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if c.encoding != "" {
				req.Header.Set("Content-Encoding", c.encoding)
			}
			rec := httptest.NewRecorder()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			r.api.ServeHTTP(rec, req)
			runtime.ReadMemStats(&after)
			said := false
			for _, m := range c.messages {
				said = said || strings.Contains(rec.Body.String(), m)
			}
			if rec.Code != c.code || !said {
				t.Errorf("%d %.300q, want %d with one of %q", rec.Code, rec.Body.String(), c.code, c.messages)
			}
			if leaksSite2(rec.Body.String()) {
				t.Errorf("site 2's data in the answer: %.300q", rec.Body.String())
			}
			// The form parser reads at most 10 MB; inflating the bomb would allocate 64 MiB.
			if grew := after.TotalAlloc - before.TotalAlloc; grew > 48<<20 {
				t.Errorf("allocated %d MiB for a %d KiB body", grew>>20, len(c.body)>>10)
			}
		})
	}
}
