package web

import (
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"hearth/internal/auth"
	"hearth/internal/event"
	"hearth/internal/store"
)

// liveVisit is one visit of the visitor log as a page shows it, read from a row of
// Live.getLastVisitsDetails (or a profile's lastVisits).
type liveVisit struct {
	L                        *locale
	ID                       string
	Visitor                  string
	First, Last              time.Time // in the site's timezone
	Duration                 float64
	Returning                bool
	Count                    int // the visitor's visit number
	Converted                bool
	Location, Country        string
	Device, Browser, OS      string
	Resolution, Language     string
	RefType                  string // direct, search, website, campaign, social
	RefName, RefKeyword      string
	Campaign, CampaignSource string
	Ecommerce                string // Matomo's visitEcommerceStatus
	Revenue                  any
	Currency                 string
	Goals                    int
	ActionCount              int
	Actions                  []liveAction
	Truncated                int
	// Profile links to the visitor's profile ("" on the profile itself).
	Profile template.URL
}

// liveAction is one action of a visit.
type liveAction struct {
	Type             string // Matomo's type: action, download, outlink, search, event, content, goal, ecommerceOrder, ...
	Time             time.Time
	URL, Title       string
	Spent            float64
	Search, Category string
	SearchCount      any
	EventCategory    string
	EventAction      string
	EventName        string
	EventValue       any
	Content          string
	ContentPiece     string
	Goal             string
	Revenue          any
	Order            string
	Items            []liveItem
}

type liveItem struct {
	SKU, Name, Category string
	Price, Quantity     any
}

// KindKey is the message key naming the action's type.
func (a liveAction) KindKey() string {
	switch a.Type {
	case "action", "download", "outlink", "search", "event", "content", "goal", "ecommerceOrder", "ecommerceAbandonedCart":
		return "live.kind." + a.Type
	}
	return "live.kind.other"
}

// RefKey is the message key naming the visit's referrer type.
func (v liveVisit) RefKey() string {
	switch v.RefType {
	case "search", "website", "campaign", "social":
		return "live.ref." + v.RefType
	}
	return "live.ref.direct"
}

// Sig changes when the visit does: the real-time script replaces a visit only then.
func (v liveVisit) Sig() string { return fmt.Sprintf("%d-%d", v.Last.Unix(), v.ActionCount) }

// liveText is an API value as text: "" for none.
func liveText(v any) string {
	if v == nil {
		return ""
	}
	return fmt.Sprint(v)
}

// liveInt is an API value as a whole number: 0 for none.
func liveInt(v any) int {
	f, _ := toFloat(v)
	return int(f)
}

// liveTime is an API timestamp in loc.
func liveTime(v any, loc *time.Location) time.Time {
	f, _ := toFloat(v)
	return time.Unix(int64(f), 0).In(loc)
}

// liveVisits reads the visits of a visitor log answer; profile makes each link to its
// visitor's profile ("" links none).
func liveVisits(l *locale, list []map[string]any, loc *time.Location, profile func(visitor string) template.URL) []liveVisit {
	out := make([]liveVisit, 0, len(list))
	for _, row := range list {
		dur, _ := toFloat(row["visitDuration"])
		v := liveVisit{L: l, ID: liveText(row["idVisit"]), Visitor: liveText(row["visitorId"]),
			First: liveTime(row["firstActionTimestamp"], loc), Last: liveTime(row["lastActionTimestamp"], loc), Duration: dur,
			Returning: row["visitorType"] == "returning", Count: liveInt(row["visitCount"]), Converted: liveInt(row["visitConverted"]) == 1,
			Location: liveText(row["location"]), Country: liveText(row["countryCode"]),
			Device:  strings.TrimSpace(strings.Join([]string{liveText(row["deviceType"]), liveDeviceName(row)}, " ")),
			Browser: liveText(row["browser"]), OS: liveText(row["operatingSystem"]),
			Resolution: liveText(row["resolution"]), Language: liveText(row["languageCode"]),
			RefType: liveText(row["referrerType"]), RefName: liveText(row["referrerName"]), RefKeyword: liveText(row["referrerKeyword"]),
			Campaign: liveText(row["campaignName"]), CampaignSource: liveText(row["campaignSource"]),
			Ecommerce: liveText(row["visitEcommerceStatus"]), Currency: liveText(row["siteCurrency"]),
			Goals: liveInt(row["goalConversions"]), ActionCount: liveInt(row["actions"]), Truncated: liveInt(row["truncatedActionsCount"])}
		if r, ok := toFloat(row["totalEcommerceRevenue"]); ok && r != 0 {
			v.Revenue = row["totalEcommerceRevenue"]
		}
		if profile != nil && v.Visitor != "" {
			v.Profile = profile(v.Visitor)
		}
		acts, _ := row["actionDetails"].([]any)
		for _, x := range acts {
			a := object(x)
			act := liveAction{Type: liveText(a["type"]), Time: liveTime(a["timestamp"], loc), URL: liveText(a["url"]), Title: liveText(a["pageTitle"]),
				Search: liveText(a["siteSearchKeyword"]), Category: liveText(a["siteSearchCategory"]), SearchCount: a["siteSearchCount"],
				EventCategory: liveText(a["eventCategory"]), EventAction: liveText(a["eventAction"]), EventName: liveText(a["eventName"]),
				EventValue: a["eventValue"], Content: liveText(a["contentName"]), ContentPiece: liveText(a["contentPiece"]),
				Goal: liveText(a["goalName"]), Revenue: a["revenue"], Order: liveText(a["orderId"])}
			act.Spent, _ = toFloat(a["timeSpent"])
			if act.Type == "goal" && act.Goal == "" {
				act.Goal = "#" + liveText(a["goalId"])
			}
			for _, it := range rows(a["itemDetails"]) {
				act.Items = append(act.Items, liveItem{SKU: liveText(it["itemSKU"]), Name: liveText(it["itemName"]), Category: liveText(it["itemCategory"]),
					Price: it["price"], Quantity: it["quantity"]})
			}
			v.Actions = append(v.Actions, act)
		}
		out = append(out, v)
	}
	return out
}

// liveDeviceName is a visit's device brand and model, without Matomo's placeholders.
func liveDeviceName(row map[string]any) string {
	var parts []string
	if b := liveText(row["deviceBrand"]); b != "" && b != "Unknown" {
		parts = append(parts, b)
	}
	if m := liveText(row["deviceModel"]); m != "" && m != "Generic" {
		parts = append(parts, m)
	}
	if len(parts) == 0 {
		return ""
	}
	return "(" + strings.Join(parts, " ") + ")"
}

// siteZone is the site's timezone (UTC when it names none Go knows).
func siteZone(site store.Site) *time.Location {
	loc, err := time.LoadLocation(site.Timezone)
	if err != nil {
		return time.UTC
	}
	return loc
}

// rawOnly refuses a page of raw data to a user without view_raw on the site (admins and
// superusers have it): the API would refuse its calls anyway.
func rawOnly(p *auth.Principal, site store.Site) error {
	if !p.CanViewRaw(site.ID) {
		return pageErrorT(http.StatusForbidden, "live.err.raw")
	}
	return nil
}

// visitorLogPage is how many visits a page of the visitor log shows.
const visitorLogPage = 25

type visitorsPage struct {
	frame
	Visits []liveVisit
	// Total is the number of visits of the period under the segment; First and Last number
	// the visits shown.
	Total       int64
	First, Last int
	Prev, Next  template.URL
}

// visitors serves /site/{idSite}/visitors: the visitor log of the state's period and segment,
// newest first, a page of visitorLogPage visits at a time (?page=N), each with its actions.
// Only for view_raw; the API records each page shown as a raw-data view.
func (w *Web) visitors(rw http.ResponseWriter, r *http.Request) error {
	p, site, s, err := w.sitePage(r)
	if err != nil {
		return err
	}
	if err := rawOnly(p, site); err != nil {
		return err
	}
	n := 1
	if q := r.URL.Query().Get("page"); q != "" {
		n, err = strconv.Atoi(q)
		if err != nil || n < 1 || n > 100_000 {
			return pageErrorT(http.StatusBadRequest, "live.err.page")
		}
	}
	log := s.params("Live.getLastVisitsDetails")
	log.Set("filter_limit", strconv.Itoa(visitorLogPage))
	log.Set("filter_offset", strconv.Itoa((n-1)*visitorLogPage))
	got, err := w.callAll(r, p, []url.Values{log, s.params("VisitsSummary.get")})
	if err != nil {
		return err
	}
	f, err := w.newFrame(r, p, w.msgs.locale(r).Or("nav.visitors", "Visitor log"), "visitors", site, s)
	if err != nil {
		return err
	}
	page := visitorsPage{frame: f, Total: int64(num(object(got[1]), "nb_visits"))}
	page.Visits = liveVisits(f.L, rows(got[0]), siteZone(site), func(id string) template.URL { return s.SiteLink("/visitors/" + id) })
	if len(page.Visits) > 0 {
		page.First = (n-1)*visitorLogPage + 1
		page.Last = page.First + len(page.Visits) - 1
	}
	if n > 1 {
		page.Prev = s.SiteLink("/visitors", "page", strconv.Itoa(n-1))
	}
	if int64(n*visitorLogPage) < page.Total && len(page.Visits) == visitorLogPage {
		page.Next = s.SiteLink("/visitors", "page", strconv.Itoa(n+1))
	}
	return w.renderPage(rw, http.StatusOK, "visitors.html", page)
}

// profileVisits is how many of a visitor's visits the profile lists (all the API sums up).
const profileVisits = 100

type profilePage struct {
	frame
	Visitor                                   string
	Visits, Actions, Conversions              float64
	Duration                                  float64
	FirstVisit, LastVisit                     liveSummary
	More                                      bool
	Pageviews, Searches, Events, Downloads    float64
	Outlinks                                  float64
	Orders, OrderRevenue, Carts, CartsRevenue any
	// Tables are the devices, countries and site searches of the visits.
	Tables []liveTable
	List   []liveVisit
}

// liveTable is a table of named counts of a profile.
type liveTable struct {
	L        *locale
	Key, Col string // message keys of the title and of the count's column
	Rows     []liveCount
}

// liveSummary is a profile's first or last visit.
type liveSummary struct {
	Time     time.Time
	DaysAgo  int
	Referral string
}

// liveCount is a named count of a profile: a device, a country, a site search keyword.
type liveCount struct {
	Name  string
	Count any
}

// profile serves /site/{idSite}/visitors/{visitorId}: the visitor's visits summed up and
// listed, from Live.getVisitorProfile (which records the view in the audit trail). Only for
// view_raw; an ID that is not 16 hexadecimal characters is refused, a visitor without visits
// on the site is not found.
func (w *Web) profile(rw http.ResponseWriter, r *http.Request) error {
	p, site, s, err := w.sitePage(r)
	if err != nil {
		return err
	}
	if err := rawOnly(p, site); err != nil {
		return err
	}
	id, err := event.ParseVisitorID(r.PathValue("visitorId"))
	if err != nil {
		return pageErrorT(http.StatusBadRequest, "live.err.visitor_id")
	}
	got, err := w.call(r, p, url.Values{"method": {"Live.getVisitorProfile"}, "idSite": {strconv.FormatInt(int64(site.ID), 10)},
		"visitorId": {id.String()}, "limitVisits": {strconv.Itoa(profileVisits)}})
	if err != nil {
		return err
	}
	rec, ok := got.(map[string]any)
	if !ok {
		return pageErrorT(http.StatusNotFound, "live.err.no_visits")
	}
	f, err := w.newFrame(r, p, w.msgs.locale(r).Or("live.profile.title", "Visitor profile"), "visitors", site, s)
	if err != nil {
		return err
	}
	loc := siteZone(site)
	summary := func(v any) liveSummary {
		m := object(v)
		return liveSummary{Time: liveTime(m["date"], loc), DaysAgo: liveInt(m["daysAgo"]), Referral: liveText(m["referralSummary"])}
	}
	page := profilePage{frame: f, Visitor: id.String(), Visits: num(rec, "totalVisits"), Actions: num(rec, "totalActions"),
		Conversions: num(rec, "totalGoalConversions"), Duration: num(rec, "totalVisitDuration"),
		FirstVisit: summary(rec["firstVisit"]), LastVisit: summary(rec["lastVisit"]), More: num(rec, "hasMoreVisits") == 1,
		Pageviews: num(rec, "totalPageViews"), Searches: num(rec, "totalSearches"), Events: num(rec, "totalEvents"),
		Downloads: num(rec, "totalDownloads"), Outlinks: num(rec, "totalOutlinks"),
		Orders: rec["totalEcommerceConversions"], OrderRevenue: rec["totalEcommerceRevenue"],
		Carts: rec["totalAbandonedCarts"], CartsRevenue: rec["totalAbandonedCartsRevenue"]}
	devices := liveTable{L: f.L, Key: "live.profile.devices", Col: "col.nb_visits"}
	for _, d := range rows(rec["devices"]) {
		name := liveText(d["type"])
		var models []string
		for _, m := range rows(d["devices"]) {
			if n := liveText(m["name"]); n != "Unknown Generic" {
				models = append(models, n)
			}
		}
		if len(models) > 0 {
			name += " (" + strings.Join(models, ", ") + ")"
		}
		devices.Rows = append(devices.Rows, liveCount{Name: name, Count: d["count"]})
	}
	countries := liveTable{L: f.L, Key: "live.profile.countries", Col: "col.nb_visits"}
	for _, c := range rows(rec["countries"]) {
		countries.Rows = append(countries.Rows, liveCount{Name: liveText(c["prettyName"]), Count: c["nb_visits"]})
	}
	page.Tables = []liveTable{devices, countries}
	if list := rows(rec["searches"]); len(list) > 0 {
		keywords := liveTable{L: f.L, Key: "live.profile.keywords", Col: "live.profile.searchcount"}
		for _, k := range list {
			keywords.Rows = append(keywords.Rows, liveCount{Name: liveText(k["keyword"]), Count: k["searches"]})
		}
		page.Tables = append(page.Tables, keywords)
	}
	page.List = liveVisits(f.L, rows(rec["lastVisits"]), loc, nil)
	return w.renderPage(rw, http.StatusOK, "profile.html", page)
}
