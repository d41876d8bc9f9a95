package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"hearth/internal/store"
)

// siteCard is one site of the sites list.
type siteCard struct {
	Site              store.Site
	Visits, Pageviews any
	Spark             sparkline
}

type sitesPage struct {
	frame
	Cards []siteCard
	// FirstSite: no site exists yet and the user may add one.
	FirstSite bool
	Add       addSiteForm
}

// sites serves /: every site the user can view with its visits, page views and a sparkline for
// the selected period (three API calls for all sites together), or, before any site exists, the
// form to add the first one.
func (w *Web) sites(rw http.ResponseWriter, r *http.Request) error {
	p, err := w.signedIn(r)
	if err != nil {
		return err
	}
	// The list's period is read in UTC; each site's figures use its own calendar (idSite=all).
	s, err := readState(r, store.Site{Timezone: "UTC"}, w.now())
	if err != nil {
		return err
	}
	f, err := w.newFrame(r, p, w.msgs.locale(r).Or("nav.sites", "Sites"), "sites", store.Site{}, s)
	if err != nil {
		return err
	}
	page := sitesPage{frame: f}
	if len(f.Sites) == 0 {
		page.FirstSite = p.IsSuperuser()
		page.Add = defaultAddSite()
		return w.renderPage(rw, http.StatusOK, "sites.html", page)
	}
	all := func(method string) url.Values {
		v := s.params(method)
		v.Set("idSite", "all")
		return v
	}
	evo := s.evolution("VisitsSummary.get")
	evo.Set("idSite", "all")
	got, err := w.callAll(r, p, []url.Values{all("VisitsSummary.get"), pageviews(all("Actions.get")), evo})
	if err != nil {
		return err
	}
	totals, views, evolution := keyed(got[0]), keyed(got[1]), keyed(got[2])
	for _, st := range f.Sites {
		id := strconv.FormatInt(int64(st.ID), 10)
		c := siteCard{Site: st, Visits: orZero(object(totals[id])["nb_visits"]), Pageviews: orZero(object(views[id])["nb_pageviews"])}
		_, recs := series(evolution[id])
		vals := make([]float64, len(recs))
		for i, rec := range recs {
			vals[i] = num(rec, "nb_visits")
		}
		c.Spark = newSparkline(fmt.Sprintf("%s: %s", st.Name, f.L.Or("chart.visits", "Visits over time")), vals)
		page.Cards = append(page.Cards, c)
	}
	return w.renderPage(rw, http.StatusOK, "sites.html", page)
}

// keyed reads an answer keyed by site id.
func keyed(v any) map[string]any {
	m, _ := v.(map[string]any)
	if m == nil {
		return map[string]any{}
	}
	return m
}

func orZero(v any) any {
	if v == nil {
		return 0
	}
	return v
}

// addSiteForm is the form that adds a site (POST /admin/sites, action=add): on the sites list
// before the first site, and on the admin page of sites.
type addSiteForm struct {
	Name, URLs, Timezone, Currency string
	Ecommerce                      bool
	Error                          string
	// From is "home" for the sites list's form, which sees its own page again on an error.
	From string
}

func defaultAddSite() addSiteForm { return addSiteForm{Timezone: "UTC", Currency: "EUR", From: "home"} }
