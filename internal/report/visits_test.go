package report

import (
	"reflect"
	"testing"

	"hearth/internal/store"
)

// TestCountryContinents: countries sit on the continent Matomo's country list gives them
// (core/DataFiles/Countries.php), including where it departs from the UN regions.
func TestCountryContinents(t *testing.T) {
	for code, want := range map[string]string{
		"de": "eur", "fr": "eur", "ru": "eur", "ua": "eur", "tr": "eur", "cy": "eur",
		"us": "amn", "ca": "amn", "mx": "amn", "gl": "amn", "pm": "amn",
		"gt": "amc", "pa": "amc", "cu": "amc", "jm": "amc", "bm": "amc", "pr": "amc",
		"br": "ams", "ar": "ams", "gf": "ams", "fk": "ams",
		"cn": "asi", "in": "asi", "ge": "asi", "am": "asi", "il": "asi", "io": "asi", "cx": "asi", "cc": "asi",
		"za": "afr", "eg": "afr", "re": "afr", "eh": "afr", "sh": "afr",
		"au": "oce", "nz": "oce", "gu": "oce", "um": "oce",
		"aq": "ant", "bv": "ant", "gs": "ant", "hm": "ant", "tf": "ant",
	} {
		if got := countryContinents[code]; got != want {
			t.Errorf("%s: continent %q, want %q", code, got, want)
		}
	}
}

// TestReferrerKeywordSubtables: a keyword row under a search engine or a campaign is labelled
// (an empty keyword as Matomo's "Keyword not defined") and offers the segment of its type,
// referrer and keyword, escaped.
func TestReferrerKeywordSubtables(t *testing.T) {
	for _, tc := range []struct {
		method, typ string
	}{{"Referrers.getSearchEngines", "search"}, {"Referrers.getCampaigns", "campaign"}} {
		d := FindVisitReport(tc.method)
		if d == nil {
			t.Fatalf("no report %s", tc.method)
		}
		groups := []store.GroupRow{{Keys: []string{"Big One"}}, {Keys: []string{"Big One", "flu shot"}}, {Keys: []string{"Big One", ""}}}
		tables := d.Tables(groups, 1, Names{})
		if len(tables) != 1 || len(tables[0].Rows) != 1 || tables[0].Rows[0].Sub == nil {
			t.Fatalf("%s: tables %+v", tc.method, tables)
		}
		got := map[string]string{}
		for _, r := range tables[0].Rows[0].Sub.Rows {
			got[r.Label] = r.Segment
		}
		want := map[string]string{
			"flu shot":            "referrerType==" + tc.typ + ";referrerName==Big%20One;referrerKeyword==flu%20shot",
			"Keyword not defined": "referrerType==" + tc.typ + ";referrerName==Big%20One;referrerKeyword==",
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: subtable segments %v, want %v", tc.method, got, want)
		}
	}
}

// TestLanguageRows: a language row is labelled by its name, carries its code and offers a
// segment: any region of a primary language (=^), or the exact code.
func TestLanguageRows(t *testing.T) {
	for _, tc := range []struct {
		method, key, label, segment string
	}{
		{"UserLanguage.getLanguage", "de", "German", "languageCode=^de"},
		{"UserLanguage.getLanguageCode", "de-de", "German - Germany (de-de)", "languageCode==de-de"},
	} {
		tables := FindVisitReport(tc.method).Tables([]store.GroupRow{{Keys: []string{tc.key}}}, 1, Names{})
		if len(tables) != 1 || len(tables[0].Rows) != 1 {
			t.Fatalf("%s: tables %+v", tc.method, tables)
		}
		r := tables[0].Rows[0]
		if r.Label != tc.label || r.Segment != tc.segment || !reflect.DeepEqual(r.Columns, []Column{{"code", tc.key}}) {
			t.Errorf("%s: row %q, %q, %v; want %q, %q and code %s", tc.method, r.Label, r.Segment, r.Columns, tc.label, tc.segment, tc.key)
		}
	}
}
