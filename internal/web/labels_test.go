package web

import (
	"net/http/httptest"
	"testing"
)

func TestRowLabelsInTheLanguage(t *testing.T) {
	c, err := loadCatalogue()
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("Accept-Language", "de")
	de := c.locale(r)
	for _, x := range []struct{ got, want string }{
		{de.Label("Direct Entry"), "Direkter Zugriff"},
		{de.Label("Monday"), "Montag"},
		{de.Label("/blog/post"), "/blog/post"}, // a page stays as it is
		{de.Country("de", "Germany"), "Deutschland"},
		{de.Country("fr", "France"), "Frankreich"},
		{de.Country("xx", "Unknown"), "Unknown"},
	} {
		if x.got != x.want {
			t.Errorf("got %q, want %q", x.got, x.want)
		}
	}
	en := c.locale(httptest.NewRequest("GET", "/", nil))
	if got := en.Country("de", "?"); got != "Germany" {
		t.Errorf("English name of de: %q", got)
	}
}
