// Package demo generates a realistic synthetic dataset — visits with several actions,
// referrers, devices, countries, events, site searches, downloads, outlinks and orders over
// 90 days — for trying Hearth out and for measuring report speed. It is deterministic for a
// seed.
package demo

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"hearth/internal/event"
	"hearth/internal/store"
)

// Options shape a dataset.
type Options struct {
	Site    event.SiteID
	Actions int       // about this many actions in all
	Days    int       // spread over this many days (default 90)
	End     time.Time // ending here (default now)
	Seed    uint64
	// BatchVisits visits go to the store at a time (default 20,000).
	BatchVisits int
	// FirstVisit numbers the visits from here (so several runs into one store do not collide).
	FirstVisit event.VisitID
	// BookingGoal, when set, converts on every form event (revenue 25), and DownloadGoal once
	// per visit on a leaflet download, as ingest records goal conversions.
	BookingGoal, DownloadGoal int32
}

type weighted[T any] struct {
	w int
	v T
}

func pick[T any](r *rand.Rand, list []weighted[T]) T {
	total := 0
	for _, e := range list {
		total += e.w
	}
	n := r.IntN(total)
	for _, e := range list {
		if n < e.w {
			return e.v
		}
		n -= e.w
	}
	return list[len(list)-1].v
}

var (
	countries = []weighted[[2]string]{{30, [2]string{"de", "Berlin"}}, {15, [2]string{"fr", "Paris"}}, {15, [2]string{"us", "New York"}},
		{8, [2]string{"gb", "London"}}, {6, [2]string{"nl", "Amsterdam"}}, {5, [2]string{"es", "Madrid"}}, {5, [2]string{"it", "Rome"}},
		{4, [2]string{"pl", "Warsaw"}}, {4, [2]string{"br", "São Paulo"}}, {3, [2]string{"jp", "Tokyo"}}, {3, [2]string{"in", "Mumbai"}},
		{2, [2]string{"", ""}}}
	devices = []weighted[event.Device]{
		{30, event.Device{Type: "desktop", OS: "Windows", OSVersion: "10", Browser: "Chrome", BrowserVersion: "120.0", Engine: "Blink"}},
		{12, event.Device{Type: "desktop", OS: "Mac", OSVersion: "14.1", Browser: "Safari", BrowserVersion: "17.1", Engine: "WebKit"}},
		{10, event.Device{Type: "desktop", OS: "Windows", OSVersion: "11", Browser: "Firefox", BrowserVersion: "121.0", Engine: "Gecko"}},
		{4, event.Device{Type: "desktop", OS: "GNU/Linux", Browser: "Firefox", BrowserVersion: "120.0", Engine: "Gecko"}},
		{22, event.Device{Type: "smartphone", Brand: "Apple", Model: "iPhone", OS: "iOS", OSVersion: "17.1", Browser: "Mobile Safari", BrowserVersion: "17.1", Engine: "WebKit"}},
		{16, event.Device{Type: "smartphone", Brand: "Samsung", Model: "Galaxy S23", OS: "Android", OSVersion: "14", Browser: "Chrome Mobile", BrowserVersion: "120.0", Engine: "Blink"}},
		{6, event.Device{Type: "tablet", Brand: "Apple", Model: "iPad", OS: "iOS", OSVersion: "17.1", Browser: "Mobile Safari", BrowserVersion: "17.1", Engine: "WebKit"}},
	}
	resolutions = []weighted[string]{{30, "1920x1080"}, {15, "1366x768"}, {15, "390x844"}, {10, "1440x900"}, {10, "414x896"}, {10, "2560x1440"}, {10, ""}}
	languages   = []weighted[string]{{30, "de-de"}, {25, "en-us"}, {15, "fr-fr"}, {10, "en-gb"}, {5, "es-es"}, {5, "it-it"}, {10, "nl-nl"}}
	engines     = []weighted[string]{{70, "Google"}, {15, "Bing"}, {10, "DuckDuckGo"}, {5, "Ecosia"}}
	socials     = []weighted[string]{{40, "Facebook"}, {25, "LinkedIn"}, {20, "Instagram"}, {15, "Mastodon"}}
	websites    = []weighted[string]{{40, "news.example"}, {30, "partner.example"}, {30, "forum.example"}}
	campaigns   = []weighted[string]{{50, "spring-sale"}, {30, "newsletter"}, {20, "flu-season"}}
	keywords    = []string{"clinic", "flu shot", "opening hours", "appointment", "vaccination", "pharmacy", "dentist", "emergency", "", ""}
	sections    = []string{"services", "blog", "about", "care", "news", "shop", "help", "team"}
)

// Generate produces the dataset in batches, calling emit for each.
func Generate(opts Options, emit func(store.Batch) error) error {
	if opts.Days <= 0 {
		opts.Days = 90
	}
	if opts.End.IsZero() {
		opts.End = time.Now().UTC()
	}
	if opts.BatchVisits <= 0 {
		opts.BatchVisits = 20_000
	}
	r := rand.New(rand.NewPCG(opts.Seed, opts.Seed^0x9e3779b97f4a7c15)) // #nosec G115 G404 -- a reproducible synthetic dataset, not a secret
	start := opts.End.Add(-time.Duration(opts.Days) * 24 * time.Hour)
	span := opts.End.Sub(start)
	visitors := max(opts.Actions/8, 1)
	pages := make([]string, 0, 400)
	for _, s := range sections {
		for i := range 50 {
			pages = append(pages, fmt.Sprintf("/%s/page-%d", s, i))
		}
	}
	seen := map[int]int{} // visitor → visits so far
	var b store.Batch
	var seq uint64
	flush := func() error {
		if len(b.Visits) == 0 {
			return nil
		}
		seq++
		b.Seq = seq
		err := emit(b)
		b = store.Batch{}
		return err
	}
	done := 0
	for id := max(int64(opts.FirstVisit), 1); done < opts.Actions; id++ {
		vis := r.IntN(visitors)
		var visitorID event.VisitorID
		binary.BigEndian.PutUint64(visitorID[:], uint64(vis)<<24|uint64(opts.Site&0xffff)<<8|1) // #nosec G115 -- vis and the site id are non-negative
		// Visits arrive in time order, as ingest writes them, spread evenly over the days
		// with a little jitter.
		first := start.Add(time.Duration(float64(span)*float64(done)/float64(opts.Actions)) + time.Duration(r.IntN(60))*time.Second)
		seen[vis]++
		v := event.Visit{SiteID: opts.Site, ID: event.VisitID(id), VisitorID: visitorID, First: first, VisitCount: event.Clamp32(int64(seen[vis])),
			Returning: seen[vis] > 1, LocalTime: event.Clamp32(int64(first.Hour()*3600 + first.Minute()*60))}
		if v.Returning {
			v.DaysSinceLast, v.DaysSinceFirst = event.Clamp32(r.Int64N(30)), event.Clamp32(r.Int64N(90))
		}
		if r.IntN(20) == 0 {
			v.UserID = fmt.Sprintf("%032x", vis)
		}
		c := pick(r, countries)
		v.Location = event.Location{Country: c[0], City: c[1]}
		v.Device = pick(r, devices)
		v.Resolution, v.Language = pick(r, resolutions), pick(r, languages)
		switch n := r.IntN(100); {
		case n < 40:
			v.Referrer = event.Referrer{Type: event.ReferrerDirect}
		case n < 70:
			v.Referrer = event.Referrer{Type: event.ReferrerSearch, Name: pick(r, engines), Keyword: keywords[r.IntN(len(keywords))]}
		case n < 80:
			v.Referrer = event.Referrer{Type: event.ReferrerSocial, Name: pick(r, socials), URL: "https://social.example/post"}
		case n < 90:
			w := pick(r, websites)
			v.Referrer = event.Referrer{Type: event.ReferrerWebsite, Name: w, URL: "https://" + w + "/links"}
		default:
			name := pick(r, campaigns)
			v.Referrer = event.Referrer{Type: event.ReferrerCampaign, Name: name, Keyword: "banner"}
			v.Campaign = event.Campaign{Name: name, Source: "newsletter", Medium: "email"}
		}
		n := 1 + min(r.IntN(4)+r.IntN(4)+r.IntN(3), 9) // 1 to 10 actions, mostly 2–5
		if r.IntN(3) == 0 {
			n = 1 // bounces
		}
		t := first
		var prevURL, prevTitle string
		var prevTime time.Time
		seenURL := map[string]bool{}
		downloaded := false
		for i := range n {
			a := event.Action{SiteID: opts.Site, VisitID: v.ID, VisitorID: visitorID, Time: t, Index: int32(i + 1), SearchCount: -1,
				PerfNetwork: -1, PerfServer: -1, PerfTransfer: -1, PerfDOMProc: -1, PerfDOMDone: -1, PerfOnLoad: -1}
			page := pages[int(r.ExpFloat64()*40)%len(pages)]
			if i == 0 && r.IntN(3) == 0 {
				page = "/"
			}
			url := "https://demo.example" + page
			switch k := r.IntN(100); {
			case k < 75 || i == 0:
				a.Type, a.URL, a.Title = event.ActionPageview, url, title(page)
				a.FirstURLInVisit, a.FirstTitleInVisit = !seenURL[url], !seenURL[url]
				seenURL[url] = true
				v.Pageviews++
				if v.EntryURL == "" {
					v.EntryURL, v.EntryTitle = url, a.Title
				}
				v.ExitURL, v.ExitTitle, v.ExitTime = url, a.Title, t
			case k < 83:
				a.Type, a.URL = event.ActionEvent, url
				a.EventCategory, a.EventAction = []string{"Video", "Form", "Menu"}[r.IntN(3)], []string{"Play", "Submit", "Open", "Pause"}[r.IntN(4)]
				a.EventName = []string{"Intro", "Booking", "", "Main"}[r.IntN(4)]
				if r.IntN(2) == 0 {
					a.EventValue, a.HasEventValue = float64(r.IntN(100)), true
				}
				v.Events++
			case k < 88:
				a.Type, a.URL = event.ActionSearch, "https://demo.example/search"
				a.SearchKeyword, a.SearchCount = keywords[r.IntN(8)], event.Clamp32(r.Int64N(20))
				v.Searches++
			case k < 92:
				a.Type, a.URL = event.ActionDownload, fmt.Sprintf("https://demo.example/files/leaflet-%d.pdf", r.IntN(20))
				v.Downloads++
			case k < 96:
				a.Type, a.URL = event.ActionOutlink, fmt.Sprintf("https://%s/page", pick(r, websites))
				v.Outlinks++
			default:
				a.Type, a.URL = event.ActionOrder, "https://demo.example/shop/checkout"
				a.OrderID = fmt.Sprintf("D-%d-%d", id, i)
				price := float64(5+r.IntN(95)) + 0.99
				qty := int64(1 + r.IntN(3))
				a.Revenue, a.Subtotal = price*float64(qty), price*float64(qty)
				a.Items = []event.Item{{SKU: fmt.Sprintf("SKU-%d", r.IntN(50)), Name: "Care product", Categories: []string{"Care"}, Price: price, Quantity: qty}}
				v.Conversions++
				v.Revenue += a.Revenue
				v.Ecommerce = event.EcommerceOrdered
			}
			if prevURL != "" && a.Type == event.ActionPageview {
				a.RefURL, a.RefTitle, a.RefTimeSpent = prevURL, prevTitle, event.Clamp32(int64(t.Sub(prevTime)/time.Second))
			}
			if a.Type == event.ActionPageview {
				prevURL, prevTitle, prevTime = a.URL, a.Title, t
			}
			if a.Type != event.ActionOrder {
				v.Actions++
			}
			b.Actions = append(b.Actions, a)
			conversion := int32(0)
			revenue := 0.0
			switch {
			case opts.BookingGoal > 0 && a.Type == event.ActionEvent && a.EventCategory == "Form":
				conversion, revenue = opts.BookingGoal, 25
			case opts.DownloadGoal > 0 && a.Type == event.ActionDownload && !downloaded:
				conversion, downloaded = opts.DownloadGoal, true
			}
			if conversion > 0 {
				g := event.Action{SiteID: opts.Site, VisitID: v.ID, VisitorID: visitorID, Time: t, Index: a.Index, Type: event.ActionGoal,
					GoalID: conversion, Revenue: revenue, URL: a.URL, SearchCount: -1,
					PerfNetwork: -1, PerfServer: -1, PerfTransfer: -1, PerfDOMProc: -1, PerfDOMDone: -1, PerfOnLoad: -1}
				b.Actions = append(b.Actions, g)
				v.Conversions++
				v.Revenue += revenue
			}
			v.Last = t
			t = t.Add(time.Duration(5+r.IntN(120)) * time.Second)
			done++
		}
		b.Visits = append(b.Visits, v)
		if len(b.Visits) >= opts.BatchVisits {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	return flush()
}

func title(page string) string {
	if page == "/" {
		return "Home"
	}
	parts := strings.Split(strings.Trim(page, "/"), "/")
	return strings.ToUpper(parts[0][:1]) + parts[0][1:] + " – " + parts[len(parts)-1]
}
