package collect

import (
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"hearth/internal/fuzzseed"
)

// TestParseQueryMatchesNetURL: the same values and the same error as url.ParseQuery, on
// FuzzParseQuery's seeds.
func TestParseQueryMatchesNetURL(t *testing.T) {
	for _, s := range fuzzseed.Read(t, "FuzzParseQuery", 1) {
		q := s[0]
		want, wantErr := url.ParseQuery(q)
		got, err := parseQuery(q)
		if !reflect.DeepEqual(got, want) || (err == nil) != (wantErr == nil) || (err != nil && err.Error() != wantErr.Error()) {
			t.Errorf("parseQuery(%q) = %v, %v; url.ParseQuery gives %v, %v", q, got, err, want, wantErr)
		}
	}
	// Over net/url's limit of pairs: refused whole, as it does.
	many := strings.Repeat("a=1&", maxQueryParams)
	for _, q := range []string{many, many[:len(many)-1]} {
		want, wantErr := url.ParseQuery(q)
		got, err := parseQuery(q)
		if len(got) != len(want) || (err == nil) != (wantErr == nil) {
			t.Errorf("%d pairs: %d keys, %v; url.ParseQuery gives %d keys, %v", strings.Count(q, "&")+1, len(got), err, len(want), wantErr)
		}
	}
	// Appending to one key's values must not change another's.
	v, _ := parseQuery("a=1&b=2&a=3")
	v["b"] = append(v["b"], "x")
	if v.Get("a") != "1" || len(v["a"]) != 2 || v["a"][1] != "3" {
		t.Fatalf("values share storage: %v", v)
	}
}

// FuzzParseQuery compares parseQuery with url.ParseQuery on arbitrary input.
func FuzzParseQuery(f *testing.F) {
	fuzzseed.Strings(f, "FuzzParseQuery", 1)
	f.Fuzz(func(t *testing.T, q string) {
		want, wantErr := url.ParseQuery(q)
		got, err := parseQuery(q)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("parseQuery(%q) = %v; url.ParseQuery gives %v", q, got, want)
		}
		if (err == nil) != (wantErr == nil) || (err != nil && err.Error() != wantErr.Error()) {
			t.Fatalf("parseQuery(%q) error %v; url.ParseQuery gives %v", q, err, wantErr)
		}
	})
}

// FuzzParams checks that a request's parameters read in one pass over its URL query and body
// are what url.ParseQuery gives with the URL's values winning over the body's, as the handler
// merged them before.
func FuzzParams(f *testing.F) {
	fuzzseed.Strings(f, "FuzzParams", 2)
	f.Fuzz(func(t *testing.T, query, body string) {
		var got params
		got.addQuery(query)
		got.addQuery(body)
		merged, _ := url.ParseQuery(body)
		fromURL, _ := url.ParseQuery(query)
		for k, v := range fromURL {
			merged[k] = v
		}
		var want params
		want.addValues(merged)
		if got.vals != want.vals || got.has != want.has || got.names() != len(merged) || len(got.rest) != len(want.rest) {
			t.Fatalf("query %q body %q: got %+v, want %+v", query, body, got, want)
		}
		for name, v := range want.rest {
			if g := got.rest[name]; len(g) != 1 || g[0] != v[0] {
				t.Fatalf("query %q body %q: %s = %q, want %q", query, body, name, g, v)
			}
		}
	})
}

// BenchmarkDecode reads and decodes a page view as the JavaScript tracker sends it, as the
// handler does.
func BenchmarkDecode(b *testing.B) {
	const query = "idsite=1&rec=1&send_image=0&url=https%3A%2F%2Fclinic.example%2Fservices%2Fpage-12%3Fref%3D3" +
		"&action_name=Services+%E2%80%93+page+12&_id=00000000000004d2&res=1920x1080&h=12&m=1&s=2" +
		"&ua=Mozilla%2F5.0+%28Windows+NT+10.0%3B+Win64%3B+x64%29+AppleWebKit%2F537.36+%28KHTML%2C+like+Gecko%29+Chrome%2F120.0.0.0+Safari%2F537.36" +
		"&lang=en-GB&pv_id=a1b2c3&urlref=https%3A%2F%2Fwww.google.com%2Fsearch%3Fq%3Dclinic&dimension1=member&pf_net=12"
	now := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		var ps params
		ps.addQuery(query)
		h, err := decode(&ps, now)
		if err != nil || h.URL == "" || h.Dimensions[1] != "member" || h.Perf[0] != 12 {
			b.Fatalf("%v %+v", err, h)
		}
	}
}
