package matomo

import (
	"context"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"hearth/internal/audit"
	"hearth/internal/event"
	"hearth/internal/privacy"
	"hearth/internal/store"
	"hearth/internal/tracker"
)

func siteRow(s store.Site) *Row {
	main := ""
	if len(s.URLs) > 0 {
		main = s.URLs[0]
	}
	return NewRow().
		Set("idsite", int64(s.ID)).Set("name", s.Name).Set("main_url", main).
		Set("ts_created", s.Created.UTC().Format("2006-01-02 15:04:05")).
		Set("ecommerce", boolInt(s.Ecommerce)).Set("sitesearch", boolInt(s.SiteSearch)).
		Set("sitesearch_keyword_parameters", strings.Join(s.SearchKeywordParams, ",")).
		Set("sitesearch_category_parameters", strings.Join(s.SearchCategoryParams, ",")).
		Set("timezone", s.Timezone).Set("currency", s.Currency).
		Set("exclude_unknown_urls", boolInt(s.ExcludeUnknownURLs)).
		Set("excluded_ips", strings.Join(s.ExcludedIPs, ",")).
		Set("excluded_parameters", strings.Join(s.ExcludedQueryParams, ",")).
		Set("excluded_user_agents", strings.Join(s.ExcludedUserAgents, ",")).
		Set("excluded_referrers", strings.Join(s.ExcludedReferrers, ",")).
		Set("group", s.Group).Set("type", s.Type).
		Set("keep_url_fragment", boolInt(s.KeepURLFragment)).
		Set("keep_email_addresses", boolInt(s.KeepEmails)).
		Set("creator_login", s.CreatorLogin)
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// list reads an array parameter given as name[]=a&name[]=b, name[0]=a, or "a,b".
func list(p url.Values, name string) ([]string, bool) {
	var out []string
	found := false
	if v, ok := p[name+"[]"]; ok {
		out, found = append(out, v...), true
	}
	var idx []string
	for k := range p {
		if strings.HasPrefix(k, name+"[") && strings.HasSuffix(k, "]") && k != name+"[]" {
			idx = append(idx, k)
		}
	}
	sort.Slice(idx, func(i, j int) bool {
		a, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(idx[i], name+"["), "]"))
		b, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(idx[j], name+"["), "]"))
		return a < b
	})
	for _, k := range idx {
		out, found = append(out, p.Get(k)), true
	}
	if v, ok := p[name]; ok {
		found = true
		for _, s := range v {
			out = append(out, strings.Split(s, ",")...)
		}
	}
	var clean []string
	for _, s := range out {
		if s = strings.TrimSpace(s); s != "" {
			clean = append(clean, s)
		}
	}
	return clean, found
}

// applySiteParams copies the Matomo parameters present in p onto s and validates them.
func applySiteParams(s *store.Site, p url.Values) error {
	if _, ok := p["siteName"]; ok {
		s.Name = strings.TrimSpace(p.Get("siteName"))
	}
	if urls, ok := list(p, "urls"); ok {
		for _, u := range urls {
			pu, err := url.Parse(u)
			if err != nil || (pu.Scheme != "http" && pu.Scheme != "https" && pu.Scheme != "") {
				return errorf(400, "The URL %q is not valid.", truncate(u, 200))
			}
			if pu.Scheme == "" {
				u = "http://" + u
			}
			_ = u
		}
		s.URLs = urls
	}
	setList := func(name string, dst *[]string) {
		if v, ok := list(p, name); ok {
			*dst = v
		}
	}
	setList("excludedIps", &s.ExcludedIPs)
	setList("excludedQueryParameters", &s.ExcludedQueryParams)
	setList("excludedUserAgents", &s.ExcludedUserAgents)
	setList("excludedReferrers", &s.ExcludedReferrers)
	setList("searchKeywordParameters", &s.SearchKeywordParams)
	setList("searchCategoryParameters", &s.SearchCategoryParams)
	setBool := func(name string, dst *bool) {
		if _, ok := p[name]; ok {
			v := strings.ToLower(p.Get(name))
			*dst = v == "1" || v == "true"
		}
	}
	setBool("ecommerce", &s.Ecommerce)
	setBool("siteSearch", &s.SiteSearch)
	setBool("keepURLFragments", &s.KeepURLFragment)
	setBool("excludeUnknownUrls", &s.ExcludeUnknownURLs)
	setBool("keepEmailAddresses", &s.KeepEmails)
	if _, ok := p["timezone"]; ok {
		s.Timezone = strings.TrimSpace(p.Get("timezone"))
	}
	if _, ok := p["currency"]; ok {
		s.Currency = strings.ToUpper(strings.TrimSpace(p.Get("currency")))
	}
	if _, ok := p["group"]; ok {
		s.Group = p.Get("group")
	}
	if _, ok := p["type"]; ok {
		s.Type = p.Get("type")
	}
	if _, ok := p["startDate"]; ok {
		s.StartDate = p.Get("startDate")
	}
	if _, ok := p["geoPrecision"]; ok {
		s.GeoPrecision = p.Get("geoPrecision")
	}

	if s.Name == "" {
		return errorf(400, "Please specify a value for 'siteName'.")
	}
	if len(s.Name) > 90 {
		return errorf(400, "The site name must be at most 90 characters.")
	}
	if s.Timezone == "" {
		s.Timezone = "UTC"
	}
	if _, err := time.LoadLocation(s.Timezone); err != nil {
		return errorf(400, "The timezone %q is not valid.", truncate(s.Timezone, 64))
	}
	if s.Currency == "" {
		s.Currency = "USD"
	}
	if len(s.Currency) != 3 {
		return errorf(400, "The currency must be a three-letter ISO 4217 code.")
	}
	if _, err := privacy.NewIPMatcher(s.ExcludedIPs); err != nil {
		return errorf(400, "%s", err.Error())
	}
	if s.StartDate != "" {
		if _, err := time.Parse("2006-01-02", s.StartDate); err != nil {
			return errorf(400, "startDate must be YYYY-MM-DD.")
		}
	}
	switch s.GeoPrecision {
	case "":
		s.GeoPrecision = "city"
	case "city", "region", "country", "none":
	default:
		return errorf(400, "geoPrecision must be city, region, country or none.")
	}
	if s.Type == "" {
		s.Type = "website"
	}
	return nil
}

func (a *API) addSite(ctx context.Context, c *call) (any, error) {
	if !c.principal.IsSuperuser() {
		return nil, errorf(401, "You can't access this resource as it requires 'superuser' access.")
	}
	s := store.Site{SiteSearch: true, Created: a.opts.Now().UTC(), CreatorLogin: c.principal.User.Login}
	if err := applySiteParams(&s, c.params); err != nil {
		return nil, err
	}
	id, err := a.opts.Meta.CreateSite(ctx, s)
	if err != nil {
		return nil, err
	}
	a.record(ctx, c, audit.ActionSiteCreate, fmt.Sprintf("site:%d", id), audit.Success, map[string]string{"name": s.Name})
	if s.KeepEmails {
		a.recordKeepEmails(ctx, c, id, true)
	}
	return value{int64(id)}, nil
}

func (a *API) updateSite(ctx context.Context, c *call) (any, error) {
	s, err := a.oneSite(ctx, c)
	if err != nil {
		return nil, err
	}
	if !c.principal.CanAdmin(s.ID) {
		return nil, errorf(401, "You can't access this resource as it requires 'admin' access for the website id = %d.", s.ID)
	}
	keptEmails := s.KeepEmails
	if err := applySiteParams(&s, c.params); err != nil {
		return nil, err
	}
	if err := a.opts.Meta.UpdateSite(ctx, s); err != nil {
		return nil, err
	}
	if s.KeepEmails != keptEmails {
		a.recordKeepEmails(ctx, c, s.ID, s.KeepEmails)
	}
	changed := map[string]string{}
	for k := range c.params {
		switch k {
		case "module", "method", "format", "idSite", "idsite":
		default:
			changed[k] = "changed"
		}
	}
	a.record(ctx, c, audit.ActionSiteUpdate, fmt.Sprintf("site:%d", s.ID), audit.Success, changed)
	if a.opts.Sites != nil {
		a.opts.Sites.InvalidateSite(s.ID)
	}
	return success{}, nil
}

// recordKeepEmails audits a change of a site's e-mail redaction: keeping addresses loosens a
// privacy default, so it is recorded on its own, beside the site update.
func (a *API) recordKeepEmails(ctx context.Context, c *call, site event.SiteID, keep bool) {
	state := "redacted"
	if keep {
		state = "kept"
	}
	a.record(ctx, c, audit.ActionSettingChange, fmt.Sprintf("site:%d", site), audit.Success,
		map[string]string{"setting": "email_addresses", "value": state})
}

func (a *API) getSiteFromID(ctx context.Context, c *call) (any, error) {
	s, err := a.oneSite(ctx, c)
	if err != nil {
		return nil, err
	}
	return siteRow(s), nil
}

func (a *API) sitesWithView(ctx context.Context, c *call) (any, error) {
	sites, err := a.opts.Meta.Sites(ctx)
	if err != nil {
		return nil, err
	}
	out := []*Row{}
	for _, s := range sites {
		if c.principal.CanView(s.ID) {
			out = append(out, siteRow(s))
		}
	}
	return out, nil
}

func (a *API) allSites(ctx context.Context, c *call) (any, error) {
	if !c.principal.IsSuperuser() {
		return nil, errorf(401, "You can't access this resource as it requires 'superuser' access.")
	}
	return a.sitesWithView(ctx, c)
}

func hostOf(raw string) string {
	if !strings.Contains(raw, "://") {
		raw = "http://" + raw
	}
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return strings.TrimPrefix(strings.ToLower(u.Hostname()), "www.")
}

func (a *API) sitesFromURL(ctx context.Context, c *call) (any, error) {
	want := hostOf(c.params.Get("url"))
	if want == "" {
		return nil, errorf(400, "Please specify a valid 'url'.")
	}
	sites, err := a.opts.Meta.Sites(ctx)
	if err != nil {
		return nil, err
	}
	out := []*Row{}
	for _, s := range sites {
		if !c.principal.CanView(s.ID) {
			continue
		}
		for _, u := range s.URLs {
			if hostOf(u) == want {
				out = append(out, NewRow().Set("idsite", int64(s.ID)))
				break
			}
		}
	}
	return out, nil
}

// javascriptTag serves SitesManager.getJavascriptTag: the tracking code of a site, in
// Matomo's standard form or (form=hearth) Hearth's short one, for the Hearth address given as
// piwikUrl or configured as public-url.
func (a *API) javascriptTag(ctx context.Context, c *call) (any, error) {
	site, err := a.oneSite(ctx, c)
	if err != nil {
		return nil, err
	}
	base := strings.TrimSpace(c.params.Get("piwikUrl"))
	if base == "" {
		base = strings.TrimSpace(c.params.Get("matomoUrl"))
	}
	if base == "" {
		base = a.opts.PublicURL
	}
	if base == "" {
		return nil, errorf(400, "Please specify piwikUrl, the address your pages reach Hearth at, or configure public-url.")
	}
	if !strings.Contains(base, "://") {
		base = "https://" + strings.TrimPrefix(base, "//")
	}
	form := c.params.Get("form")
	if form == "" {
		form = tracker.FormMatomo
	}
	code, err := tracker.Snippet(form, base, int64(site.ID), tracker.SnippetOptions{
		DoNotTrack: isTrue(c.params.Get("doNotTrack")), DisableCookies: isTrue(c.params.Get("disableCookies")),
		NoScript: isTrue(c.params.Get("trackNoScript"))})
	if err != nil {
		return nil, errorf(400, "%s", err.Error())
	}
	return value{code}, nil
}
