package report

import "testing"

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
