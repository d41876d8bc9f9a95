package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"hearth/internal/auth"
	"hearth/internal/event"
	"hearth/internal/store"
)

// adminSiteRow is one site of the administration's list.
type adminSiteRow struct {
	ID                         event.SiteID
	Name, URL, Timezone, Money string
	Ecommerce                  bool
	Created                    string
}

type adminSitesPage struct {
	adminFrame
	Rows []adminSiteRow
	// Add is the form that adds a site (superusers only).
	Add addSiteForm
}

// sitesAdmin serves /admin/sites: the sites the user administers (a superuser: all), each
// linking to its settings, and for superusers the form that adds one (POST action=add,
// through SitesManager.addSite). The sites list at / posts its first-site form here too
// (from=home), and sees its own page again when the API refuses the input.
func (w *Web) sitesAdmin(rw http.ResponseWriter, r *http.Request) error {
	action, p, af, err := w.adminStart(rw, r, "admin.sites.title", "sites", "admin.err.no_site")
	if err != nil {
		return err
	}
	page := adminSitesPage{adminFrame: af, Add: defaultAddSite()}
	page.Add.From = ""
	status := http.StatusOK
	switch action {
	case "":
	case "add":
		form := readAddSite(r)
		id, err := w.addSite(r, p, form)
		if rf, ok := refused(err); ok {
			form.Error = rf.message
			if form.From == "home" {
				return w.renderFirstSite(rw, r, p, rf.status, form)
			}
			page.Add, page.Error, page.Failed, status = form, rf.message, "add", rf.status
			break
		}
		if err != nil {
			return err
		}
		return &redirect{fmt.Sprintf("/admin/sites/%d?done=added", id)}
	default:
		return pageErrorT(http.StatusBadRequest, "errorpage.unknown_action")
	}
	got, err := w.call(r, p, url.Values{"method": {"SitesManager.getSitesWithAtLeastViewAccess"}})
	if err != nil {
		return err
	}
	for _, row := range rows(got) {
		n, _ := toFloat(row["idsite"])
		id := event.SiteID(n)
		if !p.CanAdmin(id) {
			continue
		}
		page.Rows = append(page.Rows, adminSiteRow{ID: id, Name: fmt.Sprint(row["name"]), URL: fmt.Sprint(row["main_url"]),
			Timezone: fmt.Sprint(row["timezone"]), Money: fmt.Sprint(row["currency"]), Ecommerce: fmt.Sprint(row["ecommerce"]) == "1",
			Created: apiTime(af.L, fmt.Sprint(row["ts_created"]))})
	}
	return w.renderPage(rw, status, "admin_sites.html", page)
}

// readAddSite reads the add-site form.
func readAddSite(r *http.Request) addSiteForm {
	f := r.PostForm
	return addSiteForm{Name: strings.TrimSpace(f.Get("siteName")), URLs: strings.TrimSpace(f.Get("urls")), Timezone: strings.TrimSpace(f.Get("timezone")),
		Currency: strings.TrimSpace(f.Get("currency")), Ecommerce: f.Get("ecommerce") == "1", From: f.Get("from")}
}

// addSite adds the form's site with SitesManager.addSite (superusers, as the API decides) and
// returns its id; a refusal carries the API's message.
func (w *Web) addSite(r *http.Request, p *auth.Principal, form addSiteForm) (int64, error) {
	urls := formLines(form.URLs)
	if len(urls) == 0 {
		return 0, &refusal{http.StatusBadRequest, w.msgs.locale(r).Text("admin.err.no_urls")}
	}
	params := url.Values{"method": {"SitesManager.addSite"}, "siteName": {form.Name}, "timezone": {form.Timezone},
		"currency": {form.Currency}, "ecommerce": {checkbox(form.Ecommerce)}}
	listParam(params, "urls", urls)
	v, err := w.submit(r, p, params)
	if err != nil {
		return 0, err
	}
	n, ok := toFloat(object(v)["value"])
	if !ok || n <= 0 {
		return 0, fmt.Errorf("addSite answered no site id: %v", v)
	}
	return int64(n), nil
}

// renderFirstSite shows the sites list's first-site form again, with the input and the
// API's message.
func (w *Web) renderFirstSite(rw http.ResponseWriter, r *http.Request, p *auth.Principal, status int, form addSiteForm) error {
	s, err := readState(r, store.Site{Timezone: "UTC"}, w.now())
	if err != nil {
		return err
	}
	f, err := w.newFrame(r, p, w.msgs.locale(r).Or("nav.sites", "Sites"), "sites", store.Site{}, s)
	if err != nil {
		return err
	}
	return w.renderPage(rw, status, "sites.html", sitesPage{frame: f, FirstSite: p.IsSuperuser() && len(f.Sites) == 0, Add: form})
}

// siteForm is the settings form of a site, as shown and as sent.
type siteForm struct {
	Name, URLs, Timezone, Currency                      string
	Ecommerce, SiteSearch, KeepFragment, ExcludeUnknown bool
	KeepEmails                                          bool
	SearchParams, SearchCategories                      string
	ExcludedIPs, ExcludedParams, ExcludedAgents         string
	ExcludedReferrers                                   string
	GeoPrecision                                        string
}

func siteFormOf(s store.Site) siteForm {
	j := func(v []string) string { return strings.Join(v, "\n") }
	return siteForm{Name: s.Name, URLs: j(s.URLs), Timezone: s.Timezone, Currency: s.Currency, Ecommerce: s.Ecommerce, SiteSearch: s.SiteSearch,
		KeepFragment: s.KeepURLFragment, ExcludeUnknown: s.ExcludeUnknownURLs, KeepEmails: s.KeepEmails,
		SearchParams: j(s.SearchKeywordParams), SearchCategories: j(s.SearchCategoryParams), ExcludedIPs: j(s.ExcludedIPs),
		ExcludedParams: j(s.ExcludedQueryParams), ExcludedAgents: j(s.ExcludedUserAgents), ExcludedReferrers: j(s.ExcludedReferrers),
		GeoPrecision: s.GeoPrecision}
}

func readSiteForm(r *http.Request) siteForm {
	f := r.PostForm
	t := func(k string) string { return strings.TrimSpace(f.Get(k)) }
	on := func(k string) bool { return f.Get(k) == "1" }
	return siteForm{Name: t("siteName"), URLs: t("urls"), Timezone: t("timezone"), Currency: t("currency"), Ecommerce: on("ecommerce"),
		SiteSearch: on("siteSearch"), KeepFragment: on("keepURLFragments"), ExcludeUnknown: on("excludeUnknownUrls"), KeepEmails: on("keepEmailAddresses"),
		SearchParams: t("searchKeywordParameters"), SearchCategories: t("searchCategoryParameters"), ExcludedIPs: t("excludedIps"),
		ExcludedParams: t("excludedQueryParameters"), ExcludedAgents: t("excludedUserAgents"), ExcludedReferrers: t("excludedReferrers"),
		GeoPrecision: t("geoPrecision")}
}

// params are the form as SitesManager.updateSite takes it: every setting, lists one item a
// line, so what the form shows is what the site has afterwards.
func (f siteForm) params(id event.SiteID) url.Values {
	v := url.Values{"method": {"SitesManager.updateSite"}, "idSite": {strconv.FormatInt(int64(id), 10)}, "siteName": {f.Name},
		"timezone": {f.Timezone}, "currency": {f.Currency}, "ecommerce": {checkbox(f.Ecommerce)}, "siteSearch": {checkbox(f.SiteSearch)},
		"keepURLFragments": {checkbox(f.KeepFragment)}, "excludeUnknownUrls": {checkbox(f.ExcludeUnknown)},
		"keepEmailAddresses": {checkbox(f.KeepEmails)}, "geoPrecision": {f.GeoPrecision}}
	listParam(v, "urls", formLines(f.URLs))
	listParam(v, "searchKeywordParameters", formLines(f.SearchParams))
	listParam(v, "searchCategoryParameters", formLines(f.SearchCategories))
	listParam(v, "excludedIps", formLines(f.ExcludedIPs))
	listParam(v, "excludedQueryParameters", formLines(f.ExcludedParams))
	listParam(v, "excludedUserAgents", formLines(f.ExcludedAgents))
	listParam(v, "excludedReferrers", formLines(f.ExcludedReferrers))
	return v
}

// geoPrecisions are the precisions SitesManager.updateSite takes, most precise first.
var geoPrecisions = []string{"city", "region", "country", "none"}

type siteSettingsPage struct {
	adminFrame
	// Target is the site of the settings (not frame.Site: the page shows no site's frame).
	Target store.Site
	Form   siteForm
	Geo    []string
	Codes  []trackingCode
	// Hearth is the address the tracking code sends to.
	Hearth string
}

// trackingCode is one form of a site's tracking code, as SitesManager.getJavascriptTag gives it.
type trackingCode struct {
	ID, Key, Help, Code string
}

// siteSettings serves /admin/sites/{idSite} for the site's admins: its settings, saved with
// SitesManager.updateSite (POST action=save), and its tracking code in Hearth's short form and
// in Matomo's, for pages that keep an existing Matomo snippet. A site the user cannot see is
// a 404, one they only view a 403.
func (w *Web) siteSettings(rw http.ResponseWriter, r *http.Request) error {
	action, err := formAction(rw, r)
	if err != nil {
		return err
	}
	p, err := w.signedIn(r)
	if err != nil {
		return err
	}
	site, err := w.siteOf(r, p)
	if err != nil {
		return err
	}
	if !p.CanAdmin(site.ID) {
		return adminForbidden("admin.err.site_admin")
	}
	af, err := w.newAdminFrame(r, p, "admin.site.title", "sites")
	if err != nil {
		return err
	}
	af.Title += " · " + site.Name
	page := siteSettingsPage{adminFrame: af, Target: site, Form: siteFormOf(site), Geo: geoPrecisions, Hearth: w.hearthAddress(r)}
	status := http.StatusOK
	switch action {
	case "":
	case "save":
		page.Form = readSiteForm(r)
		_, err := w.submit(r, p, page.Form.params(site.ID))
		if rf, ok := refused(err); ok {
			page.Error, page.Failed, status = rf.message, "save", rf.status
			break
		}
		if err != nil {
			return err
		}
		return &redirect{fmt.Sprintf("/admin/sites/%d?done=saved", site.ID)}
	default:
		return pageErrorT(http.StatusBadRequest, "errorpage.unknown_action")
	}
	id := strconv.FormatInt(int64(site.ID), 10)
	tag := func(form string) url.Values {
		return url.Values{"method": {"SitesManager.getJavascriptTag"}, "idSite": {id}, "piwikUrl": {page.Hearth}, "form": {form}}
	}
	got, err := w.callAll(r, p, []url.Values{tag("hearth"), tag("matomo")})
	if err != nil {
		return err
	}
	page.Codes = []trackingCode{
		{ID: "code-hearth", Key: "admin.code.hearth", Help: "admin.code.hearthhelp", Code: fmt.Sprint(object(got[0])["value"])},
		{ID: "code-matomo", Key: "admin.code.matomo", Help: "admin.code.matomohelp", Code: fmt.Sprint(object(got[1])["value"])},
	}
	return w.renderPage(rw, status, "admin_site.html", page)
}

// hearthAddress is where a site's pages reach Hearth: the configured public URL, else the
// address this request came to.
func (w *Web) hearthAddress(r *http.Request) string {
	if u := strings.TrimRight(w.accounts.PublicURL, "/"); u != "" {
		return u
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}
