package tracker

import (
	"strings"
	"testing"
)

func TestSnippet(t *testing.T) {
	got, err := Snippet(FormHearth, "https://stats.clinic.example/", 3, SnippetOptions{})
	want := "<!-- Hearth -->\n<script async src=\"https://stats.clinic.example/hearth.js\" data-site=\"3\"></script>\n<!-- End Hearth -->\n"
	if err != nil || got != want {
		t.Fatalf("hearth form:\n%s\nwant\n%s (%v)", got, want, err)
	}
	got, _ = Snippet(FormHearth, "http://10.0.0.5:8080/hearth", 3, SnippetOptions{DoNotTrack: true, NoScript: true})
	for _, part := range []string{`src="http://10.0.0.5:8080/hearth/hearth.js" data-site="3" data-dnt="true"`,
		`<noscript><p><img referrerpolicy="no-referrer-when-downgrade" src="http://10.0.0.5:8080/hearth/matomo.php?idsite=3&amp;rec=1"`} {
		if !strings.Contains(got, part) {
			t.Errorf("hearth form with options lacks %q:\n%s", part, got)
		}
	}
	got, _ = Snippet(FormMatomo, "https://stats.clinic.example", 12, SnippetOptions{DisableCookies: true})
	for _, part := range []string{"var _paq = window._paq = window._paq || [];", `_paq.push(["disableCookies"]);`,
		"_paq.push(['trackPageView']);\n  _paq.push(['enableLinkTracking']);", `var u="//stats.clinic.example/";`,
		"_paq.push(['setTrackerUrl', u+'matomo.php']);", "_paq.push(['setSiteId', '12']);", "g.src=u+'matomo.js'", "<!-- End Matomo Code -->"} {
		if !strings.Contains(got, part) {
			t.Errorf("matomo form lacks %q:\n%s", part, got)
		}
	}
	for _, bad := range []struct {
		form, base string
		site       int64
	}{
		{FormHearth, "javascript:alert(1)", 1},
		{FormHearth, `https://x.example/"><script>`, 1},
		{FormHearth, "https://user:pw@x.example/", 1},
		{FormHearth, "https://x.example/?q=1", 1},
		{FormHearth, "x.example", 1},
		{FormHearth, "https://x.example", 0},
		{"gtag", "https://x.example", 1},
	} {
		if out, err := Snippet(bad.form, bad.base, bad.site, SnippetOptions{}); err == nil {
			t.Errorf("%s %q site %d accepted: %s", bad.form, bad.base, bad.site, out)
		}
	}
}
