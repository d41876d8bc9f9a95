package report

import (
	"errors"
	"os"
	"strings"
	"testing"
	"unicode/utf8"

	"hearth/internal/store"
)

func TestParseSegment(t *testing.T) {
	cases := []struct {
		def  string
		want string // groups joined by " AND ", conditions by " OR ", each dim|op|value
	}{
		{"browserCode==FF", "browserCode|==|FF"},
		{"browserCode==FF;countryCode==de", "browserCode|==|FF AND countryCode|==|de"},
		// OR binds tighter than AND: a;b,c is a AND (b OR c).
		{"visitCount>=3;referrerType==search,referrerType==social", "visitCount|>=|3 AND referrerType|==|search OR referrerType|==|social"},
		// Values are URL-encoded inside the definition.
		{"pageUrl=@%2Fblog%3Fa%3D1%2C2", "pageUrl|=@|/blog?a=1,2"},
		{"referrerName==a%3Bb", "referrerName|==|a;b"},
		// The whole definition encoded once more.
		{"browserCode%3D%3DFF%3BcountryCode%3D%3Dde", "browserCode|==|FF AND countryCode|==|de"},
		{"pageTitle=^Home", "pageTitle|=^|Home"},
		{"pageTitle=$Home", "pageTitle|=$|Home"},
		{"pageTitle!@Home", "pageTitle|!@|Home"},
		{"visitDuration<10", "visitDuration|<|10"},
		{"visitDuration>10", "visitDuration|>|10"},
		{"visitDuration<=10", "visitDuration|<=|10"},
		{"userId==", "userId|==|"},
		{"userId!=", "userId|!=|"},
		// An operator's characters inside the value stay in the value.
		{"pageUrl==https%3A%2F%2Fex.org%2F%3Fa%3D%3Db", "pageUrl|==|https://ex.org/?a==b"},
		{"eventName===x", "eventName|==|=x"},
	}
	for _, tc := range cases {
		seg, err := ParseSegment(tc.def)
		if err != nil {
			t.Errorf("%s: %v", tc.def, err)
			continue
		}
		var groups []string
		for _, g := range seg.And {
			var ors []string
			for _, c := range g {
				ors = append(ors, c.Dimension+"|"+string(c.Op)+"|"+c.Value)
			}
			groups = append(groups, strings.Join(ors, " OR "))
		}
		if got := strings.Join(groups, " AND "); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.def, got, tc.want)
		}
	}
	if seg, err := ParseSegment("  "); err != nil || len(seg.And) != 0 {
		t.Errorf("empty segment: %+v %v", seg, err)
	}
}

func TestSegmentErrors(t *testing.T) {
	cases := []struct{ def, want string }{
		{"browserCode", "needs an operator"},
		{"==FF", "no dimension"},
		{"browserCode==FF;", "needs an operator"},
		{"nonsense==1", "not a supported segment"},
		{"visitCount==many", "is not one"},
		{"visitCount=@3", "does not apply"},
		{"browserCode>FF", "does not apply"},
		{"referrerType==fax", "takes one of: campaign, direct, search, social, website"},
		{"referrerType=@sea", "only takes == and !="},
		{"visitorType==alien", "new or returning"},
		{"visitorId==xyz", "16 hexadecimal"},
		{"userId=@ali", "only takes == and !="},
		{"dimension0==x", "not a supported segment"},
		{"dimension01==x", "not a supported segment"},
		{"dimension3>1", "compares text"},
		{strings.Repeat("visitCount==1;", 70) + "visitCount==1", "more than 64 conditions"},
		{"continentCode==atlantis", "takes one of: afr, amc, amn, ams, ant, asi, eur, oce, unk"},
		{"continentCode=@eu", "only takes == and !="},
		// Each != is an AND over the continent's countries; ORing two multiplies them out.
		{"continentCode!=eur,continentCode!=afr", "more than 2048 conditions"},
		{strings.Repeat("a", MaxSegmentLength+1), "longer than"},
	}
	for _, tc := range cases {
		seg, err := ParseSegment(tc.def)
		if err == nil {
			_, err = Compile(seg, nil)
		}
		var se *SegmentError
		if !errors.As(err, &se) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%.60s: %v, want %q", tc.def, err, tc.want)
		}
	}
}

func TestCompileSegment(t *testing.T) {
	if seg, err := ParseSegment("dimension3=@gold"); err != nil {
		t.Fatal(err)
	} else if f, err := Compile(seg, nil); err != nil || f.And[0][0] != (store.Cond{Field: store.DimensionField("any", 3), Op: store.OpContains, Str: "gold"}) {
		t.Fatalf("dimension3: %+v %v", f, err)
	}
	seg, err := ParseSegment("referrerType==search;visitCount>2,userId==alice;actionType==downloads")
	if err != nil {
		t.Fatal(err)
	}
	f, err := Compile(seg, func(uid string) string { return "pseudo(" + uid + ")" })
	if err != nil {
		t.Fatal(err)
	}
	want := store.Filter{And: [][]store.Cond{
		{{Field: store.FieldReferrerType, Op: store.OpEq, Num: 2, IsNum: true}},
		{{Field: store.FieldVisitCount, Op: store.OpGt, Num: 2, IsNum: true}, {Field: store.FieldUserID, Op: store.OpEq, Str: "pseudo(alice)"}},
		{{Field: store.FieldActionType, Op: store.OpEq, Num: 2, IsNum: true}},
	}}
	if len(f.And) != len(want.And) {
		t.Fatalf("%+v", f)
	}
	for i := range want.And {
		for j := range want.And[i] {
			if f.And[i][j] != want.And[i][j] {
				t.Errorf("group %d cond %d: %+v, want %+v", i, j, f.And[i][j], want.And[i][j])
			}
		}
	}
}

// TestCompileContinent checks continents spelled out as their countries, with Matomo's
// assignments (Mexico in North America, Turkey in Europe).
func TestCompileContinent(t *testing.T) {
	compile := func(def string) store.Filter {
		t.Helper()
		seg, err := ParseSegment(def)
		if err != nil {
			t.Fatal(err)
		}
		f, err := Compile(seg, nil)
		if err != nil {
			t.Fatalf("%s: %v", def, err)
		}
		return f
	}
	// countries is the set of countries the conditions name; each must compare the country with op.
	countries := func(conds []store.Cond, op store.Op) map[string]bool {
		m := map[string]bool{}
		for _, c := range conds {
			if c.Field != store.FieldCountry || c.Op != op {
				t.Fatalf("unexpected condition %+v", c)
			}
			m[c.Str] = true
		}
		return m
	}
	has := func(set map[string]bool, in, out []string) {
		t.Helper()
		for _, c := range in {
			if !set[c] {
				t.Errorf("%s missing", c)
			}
		}
		for _, c := range out {
			if set[c] {
				t.Errorf("%s present", c)
			}
		}
	}
	// == is one OR group of the continent's countries.
	f := compile("continentCode==eur")
	if len(f.And) != 1 {
		t.Fatalf("continentCode==eur: %d groups", len(f.And))
	}
	eur := countries(f.And[0], store.OpEq)
	has(eur, []string{"de", "fr", "it", "pl", "tr", "cy", "is"}, []string{"us", "au", "mx", "br", "cn", ""})
	f = compile("continentCode==AMN") // codes in any case
	has(countries(f.And[0], store.OpEq), []string{"us", "ca", "mx"}, []string{"br", "de"})
	// != is an AND of one group per country: none of them.
	f = compile("continentCode!=eur")
	if len(f.And) != len(eur) {
		t.Fatalf("continentCode!=eur: %d groups for %d countries", len(f.And), len(eur))
	}
	var ne []store.Cond
	for _, g := range f.And {
		if len(g) != 1 {
			t.Fatalf("group %+v", g)
		}
		ne = append(ne, g[0])
	}
	has(countries(ne, store.OpNe), []string{"de", "fr", "tr"}, []string{"us"})
	// The unknown continent is no known country; != unk is any known one.
	f = compile("continentCode==unk")
	if len(f.And) < 240 || len(f.And[0]) != 1 || f.And[0][0].Op != store.OpNe {
		t.Fatalf("continentCode==unk: %d groups, first %+v", len(f.And), f.And[0])
	}
	f = compile("continentCode!=unk")
	if len(f.And) != 1 || len(f.And[0]) < 240 {
		t.Fatalf("continentCode!=unk: %+v", f.And)
	}
	has(countries(f.And[0], store.OpEq), []string{"de", "us", "aq", "au"}, []string{""})
	// An OR with another condition is multiplied out: (country≠x OR browser) for each x.
	f = compile("continentCode!=oce,browserCode==FF;visitCount>2")
	last := f.And[len(f.And)-1]
	if len(last) != 1 || last[0].Field != store.FieldVisitCount {
		t.Fatalf("the AND part after the OR: %+v", last)
	}
	for _, g := range f.And[:len(f.And)-1] {
		if len(g) != 2 || g[0].Field != store.FieldCountry || g[0].Op != store.OpNe || g[1].Field != store.FieldBrowser {
			t.Fatalf("group %+v", g)
		}
	}
	if n := len(f.And) - 1; n < 10 || n > 40 {
		t.Errorf("%d groups for Oceania's countries", n)
	}
}

func FuzzParseSegment(f *testing.F) {
	for _, s := range segmentSeeds(f, "testdata/segments.txt") {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, def string) {
		seg, err := ParseSegment(def)
		if err != nil {
			var se *SegmentError
			if !errors.As(err, &se) {
				t.Fatalf("error of another kind: %v", err)
			}
			return
		}
		n := 0
		for _, g := range seg.And {
			if len(g) == 0 {
				t.Fatal("empty OR group")
			}
			for _, c := range g {
				n++
				if c.Dimension == "" || c.Op == "" {
					t.Fatalf("condition without dimension or operator: %+v", c)
				}
				if !utf8.ValidString(c.Value) {
					t.Fatalf("a value that is not UTF-8 was accepted: %q", c.Value)
				}
			}
		}
		if n > MaxSegmentConditions {
			t.Fatalf("%d conditions", n)
		}
		if _, err := Compile(seg, func(s string) string { return s }); err != nil {
			var se *SegmentError
			if !errors.As(err, &se) {
				t.Fatalf("compile error of another kind: %v", err)
			}
		}
	})
}

func TestPlaceLabels(t *testing.T) {
	for _, tc := range []struct{ name, region, country, want string }{
		{"Berlin", "BE", "de", "Berlin, BE, Germany"},
		{"", "", "de", "Unknown, Germany"},
		{"", "BE", "de", "Unknown, BE, Germany"},
		{"", "", "", "Unknown"},
		{"Paris", "", "fr", "Paris, France"},
	} {
		if got := place(tc.name, tc.region, tc.country); got != tc.want {
			t.Errorf("place(%q, %q, %q) = %q, want %q", tc.name, tc.region, tc.country, got, tc.want)
		}
	}
	for code, want := range map[string]string{"de": "eur", "us": "amn", "br": "ams", "jp": "asi", "au": "oce", "eg": "afr", "aq": "ant"} {
		if got := countryContinents[code]; got != want {
			t.Errorf("continent of %s: %s, want %s", code, got, want)
		}
	}
	if got := languageCodeLabel("de-de"); got != "German - Germany (de-de)" {
		t.Errorf("language code label: %s", got)
	}
}

// TestShortCodes: browserCode and operatingSystemCode take Matomo's short codes (any case)
// and Hearth's names; other operators and other dimensions keep the value as given.
func TestShortCodes(t *testing.T) {
	for def, want := range map[string]store.Cond{
		"browserCode==FF":          {Field: store.FieldBrowser, Op: store.OpEq, Str: "Firefox"},
		"browserCode!=ps":          {Field: store.FieldBrowser, Op: store.OpNe, Str: "Microsoft Edge"},
		"browserCode==Firefox":     {Field: store.FieldBrowser, Op: store.OpEq, Str: "Firefox"},
		"browserCode=@FF":          {Field: store.FieldBrowser, Op: store.OpContains, Str: "FF"},
		"operatingSystemCode==WIN": {Field: store.FieldOS, Op: store.OpEq, Str: "Windows"},
		"operatingSystemCode==IOS": {Field: store.FieldOS, Op: store.OpEq, Str: "iOS"},
		"deviceBrand==CH":          {Field: store.FieldDeviceBrand, Op: store.OpEq, Str: "CH"},
	} {
		seg, err := ParseSegment(def)
		if err != nil {
			t.Fatal(err)
		}
		f, err := Compile(seg, nil)
		if err != nil || len(f.And) != 1 || f.And[0][0] != want {
			t.Errorf("%s: %+v %v, want %+v", def, f, err, want)
		}
	}
	// Every code names one browser or system, and back.
	for field, codes := range codesOf {
		if len(namesOf[field]) != len(codes) {
			t.Errorf("%s: two codes share a name", field)
		}
		for code, name := range codes {
			if codeOfName(field, name) != code || nameOfCode(field, code) != name {
				t.Errorf("%s: %s ↔ %s does not round-trip", field, code, name)
			}
		}
	}
	if codeOfName(store.FieldDeviceType, "Chrome") != "Chrome" {
		t.Error("a field without codes must keep its value")
	}
}

// segmentSeeds reads the seed definitions of the segment fuzz targets: one a line, # comments.
func segmentSeeds(tb testing.TB, path string) []string {
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	var out []string
	for line := range strings.Lines(string(b)) {
		if line = strings.TrimRight(line, "\n"); line != "" && !strings.HasPrefix(line, "#") {
			out = append(out, line)
		}
	}
	return out
}

// TestNumbersAreNumbers: NaN and infinities parse as floats but compare as nothing a visit
// has; they are refused like any other text given to a number.
func TestNumbersAreNumbers(t *testing.T) {
	for _, def := range []string{"visitDuration>NaN", "visitCount<Inf", "actions>=-Inf", "visitDuration>nan"} {
		seg, err := ParseSegment(def)
		if err != nil {
			t.Fatalf("%s: %v", def, err)
		}
		if _, err := Compile(seg, nil); err == nil || !strings.Contains(err.Error(), "compares numbers") {
			t.Errorf("%s: %v, want a refusal", def, err)
		}
	}
	seg, _ := ParseSegment("visitDuration>1.5e2")
	if _, err := Compile(seg, nil); err != nil {
		t.Errorf("1.5e2: %v", err)
	}
}
