package report

import (
	"maps"
	"strconv"
	"strings"

	"golang.org/x/text/language"
	"golang.org/x/text/language/display"

	"hearth/internal/event"
)

func unknown(s string) string {
	if s == "" {
		return "Unknown"
	}
	return s
}

var referrerTypeLabels = map[string]string{
	strconv.Itoa(int(event.ReferrerDirect)): "Direct Entry", strconv.Itoa(int(event.ReferrerSearch)): "Search Engines",
	strconv.Itoa(int(event.ReferrerWebsite)): "Websites", strconv.Itoa(int(event.ReferrerCampaign)): "Campaigns",
	strconv.Itoa(int(event.ReferrerSocial)): "Social Networks",
}

var referrerTypeNames = map[string]string{
	strconv.Itoa(int(event.ReferrerDirect)): "direct", strconv.Itoa(int(event.ReferrerSearch)): "search",
	strconv.Itoa(int(event.ReferrerWebsite)): "website", strconv.Itoa(int(event.ReferrerCampaign)): "campaign",
	strconv.Itoa(int(event.ReferrerSocial)): "social",
}

// CountryName is the English name of a country code ("Unknown" when empty or unknown).
func CountryName(code string) string {
	if code == "" || code == "xx" {
		return "Unknown"
	}
	r, err := language.ParseRegion(code)
	if err != nil {
		return strings.ToUpper(code)
	}
	if n := display.English.Regions().Name(r); n != "" {
		return n
	}
	return strings.ToUpper(code)
}

// continents are Matomo's continent codes with their UN M49 regions and names.
var continents = []struct{ code, m49, name string }{
	{"afr", "002", "Africa"}, {"eur", "150", "Europe"}, {"asi", "142", "Asia"}, {"oce", "009", "Oceania"},
	{"amn", "021", "North America"}, {"ams", "005", "South America"}, {"amc", "013", "Central America"},
	{"amc", "029", "Central America"},
}

var continentNames = map[string]string{"afr": "Africa", "eur": "Europe", "asi": "Asia", "oce": "Oceania",
	"amn": "North America", "ams": "South America", "amc": "Central America", "ant": "Antarctica"}

// matomoContinents are the countries Matomo assigns to another continent than their UN M49
// region: Mexico to North America and Bermuda to Central America (its Central America is
// the isthmus and the Caribbean), Turkey and Cyprus to Europe, the Indian Ocean territories
// to Asia and the southern islands to Antarctica; and codes for internal use it lists.
var matomoContinents = map[string]string{
	"mx": "amn", "bm": "amc", "tr": "eur", "cy": "eur", "cc": "asi", "cx": "asi", "io": "asi",
	"bv": "ant", "gs": "ant", "hm": "ant", "tf": "ant", "ac": "afr", "cp": "amc", "dg": "asi", "ta": "afr",
}

// Continent is the continent of a country, as Matomo assigns it: its code and English name,
// "unk" and "Unknown" for an unknown country.
func Continent(country string) (code, name string) {
	if code = countryContinents[strings.ToLower(country)]; code == "" {
		return "unk", "Unknown"
	}
	return code, continentNames[code]
}

// countryContinents maps every country code to its continent code, as Matomo does.
var countryContinents = func() map[string]string {
	m := map[string]string{"aq": "ant"}
	for a := 'a'; a <= 'z'; a++ {
		for b := 'a'; b <= 'z'; b++ {
			code := string([]rune{a, b})
			r, err := language.ParseRegion(code)
			if err != nil || !r.IsCountry() || code == "aq" {
				continue
			}
			for _, c := range continents {
				if language.MustParseRegion(c.m49).Contains(r) {
					m[code] = c.code
					break
				}
			}
		}
	}
	maps.Copy(m, matomoContinents)
	return m
}()

// languageLabel names a language code with name(tag), "Unknown" when empty, the code itself
// when it is no language tag.
func languageLabel(code string, name func(language.Tag) string) string {
	if code == "" {
		return "Unknown"
	}
	tag, err := language.Parse(code)
	if err != nil {
		return code
	}
	if n := name(tag); n != "" {
		return n
	}
	return code
}

// LanguageName is the English name of a language code.
func LanguageName(code string) string {
	return languageLabel(code, func(tag language.Tag) string { return display.English.Tags().Name(tag) })
}

// languageCodeLabel names a language tag as Matomo does: "German - Germany (de-de)".
func languageCodeLabel(code string) string {
	return languageLabel(code, func(tag language.Tag) string { return languageAndRegion(tag) + " (" + code + ")" })
}

func languageAndRegion(tag language.Tag) string {
	base, _ := tag.Base()
	label := display.English.Languages().Name(base)
	if label == "" {
		label = base.String()
	}
	if region, conf := tag.Region(); conf == language.Exact {
		label += " - " + display.English.Regions().Name(region)
	}
	return label
}

func titleCase(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// place labels a region or city: "Berlin, BE, Germany", with "Unknown" for a missing name
// and the parts that are known after it ("Unknown, Germany"; "Unknown" alone).
func place(name, region, country string) string {
	parts := []string{unknown(name)}
	if region != "" {
		parts = append(parts, region)
	}
	if country != "" {
		parts = append(parts, CountryName(country))
	}
	return strings.Join(parts, ", ")
}

func keywordLabel(k string) string {
	if k == "" {
		return "Keyword not defined"
	}
	return k
}
