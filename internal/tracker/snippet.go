package tracker

import (
	"fmt"
	"net/url"
	"strings"
)

// SnippetOptions are the choices a site's tracking code can carry.
type SnippetOptions struct {
	DoNotTrack bool // honour the browser's Do Not Track / Global Privacy Control
	NoScript   bool // add Matomo's <noscript> image (one page view without JavaScript)
	// DisableCookies keeps the Matomo form's cookies off; the tracker is cookieless unless a
	// site turns cookies on, so the Hearth form needs nothing for it.
	DisableCookies bool
}

// Forms of the tracking code.
const (
	FormHearth = "hearth" // <script async src=".../hearth.js" data-site="N">
	FormMatomo = "matomo" // Matomo's standard _paq snippet, loading matomo.js
)

// Snippet is the tracking code to paste into a site's pages, in Hearth's short form or in
// Matomo's standard form, for the Hearth server at base (an http or https URL).
func Snippet(form, base string, site int64, o SnippetOptions) (string, error) {
	u, err := url.Parse(strings.TrimSpace(base))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" ||
		strings.ContainsAny(u.Host+u.Path, "\"'<>\\ ") {
		return "", fmt.Errorf("the Hearth address must be an http or https URL such as https://analytics.example.org")
	}
	if site <= 0 {
		return "", fmt.Errorf("the site id must be positive")
	}
	root := strings.TrimSuffix(u.Scheme+"://"+u.Host+u.Path, "/") + "/"
	noscript := ""
	if o.NoScript {
		noscript = fmt.Sprintf("\n<noscript><p><img referrerpolicy=\"no-referrer-when-downgrade\" src=\"%smatomo.php?idsite=%d&amp;rec=1\" style=\"border:0;\" alt=\"\" /></p></noscript>", root, site)
	}
	switch form {
	case FormHearth, "":
		attrs := ""
		if o.DoNotTrack {
			attrs = ` data-dnt="true"`
		}
		return fmt.Sprintf("<!-- Hearth -->\n<script async src=\"%shearth.js\" data-site=\"%d\"%s></script>%s\n<!-- End Hearth -->\n", root, site, attrs, noscript), nil
	case FormMatomo:
		var extra strings.Builder
		if o.DoNotTrack {
			extra.WriteString("\n  _paq.push([\"setDoNotTrack\", true]);")
		}
		if o.DisableCookies {
			extra.WriteString("\n  _paq.push([\"disableCookies\"]);")
		}
		return fmt.Sprintf(`<!-- Matomo -->
<script>
  var _paq = window._paq = window._paq || [];
  /* tracker methods like "setCustomDimension" should be called before "trackPageView" */%s
  _paq.push(['trackPageView']);
  _paq.push(['enableLinkTracking']);
  (function() {
    var u="//%s";
    _paq.push(['setTrackerUrl', u+'matomo.php']);
    _paq.push(['setSiteId', '%d']);
    var d=document, g=d.createElement('script'), s=d.getElementsByTagName('script')[0];
    g.async=true; g.src=u+'matomo.js'; s.parentNode.insertBefore(g,s);
  })();
</script>%s
<!-- End Matomo Code -->
`, extra.String(), strings.TrimPrefix(root, u.Scheme+"://"), site, noscript), nil
	}
	return "", fmt.Errorf("the snippet form must be %s or %s", FormHearth, FormMatomo)
}
