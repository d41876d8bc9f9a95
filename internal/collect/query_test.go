package collect

import (
	"net/url"
	"reflect"
	"strings"
	"testing"
)

var queryCases = []string{
	"", "a=1", "a=1&b=2", "a=1&a=2&a=3", "a", "a=", "=x", "&&a=1&&", "a=%41%42+c", "a%3Db=c",
	"a=1;b=2", "a=1&b=2;c=3&d=4", "a=%zz&b=1", "a=%&b=1", "%zz=1&b=2", "ä=ö&x=%E2%9C%93",
	"idsite=1&rec=1&url=https%3A%2F%2Fclinic.example%2Fa%3Fb%3D1&action_name=A+%2F+B&_id=0123456789abcdef",
	"a=1&b=2&a=3&b=4&c", "+=+&++=++", "a=%zz&b;c&d=%", "a;b&c=%zz",
}

// TestParseQueryMatchesNetURL: the same values and the same error as url.ParseQuery.
func TestParseQueryMatchesNetURL(t *testing.T) {
	for _, q := range queryCases {
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
	for _, q := range queryCases {
		f.Add(q)
	}
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
