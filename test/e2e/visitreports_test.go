package e2e

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"hearth/test/testbin"
)

// TestVisitReports checks the reports of visits by dimension on five one-visit visitors of
// 2024-03-06 (a Wednesday), site in UTC:
//
//	V1 10:00, 10:01  Google search "flu shot", de, Firefox/Linux, 1920x1080, de-de, local 10h
//	V2 11:00         Facebook, fr, iPhone, 390x844, fr-fr, local 14h
//	V3 12:00–12:05   campaign "Spring" (keyword nurse), 3 pages, de, Firefox/Linux, en-us, local 9h
//	V4 23:30         partner.example, no country, Chrome/Windows, de-de
//	V5 12:30         direct, us, Firefox/Linux, en-us
func TestVisitReports(t *testing.T) {
	s, tok := testbin.StartWithSite(t, nil)
	const win = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"
	const iphone = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1"
	v := kv
	sendHits(t, s, tok, []hit{
		{1, "1111111111111111", "", "2024-03-06T10:00:00Z", "/", "", v("urlref", "https://www.google.com/search?q=flu+shot", "country", "de", "region", "BE", "city", "Berlin", "res", "1920x1080", "lang", "de-de", "h", "10")},
		{1, "1111111111111111", "", "2024-03-06T10:01:00Z", "/care", "", v("country", "de", "lang", "de-de")},
		{1, "2222222222222222", "", "2024-03-06T11:00:00Z", "/", iphone, v("urlref", "https://www.facebook.com/", "country", "fr", "res", "390x844", "lang", "fr-fr", "h", "14")},
		{1, "3333333333333333", "", "2024-03-06T12:00:00Z", "/?mtm_campaign=Spring&mtm_kwd=nurse", "", v("country", "de", "lang", "en-us", "h", "9")},
		{1, "3333333333333333", "", "2024-03-06T12:01:00Z", "/care", "", v("country", "de", "lang", "en-us")},
		{1, "3333333333333333", "", "2024-03-06T12:05:00Z", "/contact", "", v("country", "de", "lang", "en-us")},
		{1, "4444444444444444", "", "2024-03-06T23:30:00Z", "/", win, v("urlref", "https://partner.example/links", "lang", "de-de")},
		{1, "5555555555555555", "", "2024-03-06T12:30:00Z", "/", "", v("country", "us", "lang", "en-us")},
	})
	call := dayReport(t, s, tok, "2024-03-06")
	// labels renders a report as "label:nb_visits" pairs, in order.
	labels := func(method string, extra ...string) string {
		t.Helper()
		var rows []map[string]any
		out := call(method, append(extra, "showColumns", "nb_visits")...)
		if err := json.Unmarshal([]byte(out), &rows); err != nil {
			t.Fatalf("%s: %v: %s", method, err, out)
		}
		var parts []string
		for _, r := range rows {
			parts = append(parts, fmt.Sprintf("%v:%v", r["label"], r["nb_visits"]))
		}
		return strings.Join(parts, " ")
	}
	hours := func(set map[int]int) string {
		var parts []string
		for h := range 24 {
			parts = append(parts, fmt.Sprintf("%dh:%d", h, set[h]))
		}
		return strings.Join(parts, " ")
	}
	cases := []struct {
		method string
		extra  []string
		want   string
	}{
		{"Referrers.getReferrerType", nil, "Campaigns:1 Direct Entry:1 Search Engines:1 Social Networks:1 Websites:1"},
		{"Referrers.getSearchEngines", nil, "Google:1"},
		{"Referrers.getSearchEngines", []string{"flat", "1"}, "Google - flu shot:1"},
		{"Referrers.getKeywords", nil, "flu shot:1"},
		{"Referrers.getSocials", nil, "Facebook:1"},
		{"Referrers.getWebsites", nil, "partner.example:1"},
		{"UserCountry.getCountry", nil, "Germany:2 France:1 United States:1 Unknown:1"},
		{"UserCountry.getCountry", []string{"filter_limit", "2"}, "Germany:2 France:1"},
		{"UserCountry.getCountry", []string{"filter_offset", "1", "filter_limit", "2"}, "France:1 United States:1"},
		{"UserCountry.getCountry", []string{"filter_sort_column", "label", "filter_sort_order", "asc"}, "France:1 Germany:2 United States:1 Unknown:1"},
		{"UserCountry.getCountry", []string{"filter_pattern", "^(ger|fra)"}, "Germany:2 France:1"},
		{"UserCountry.getCountry", []string{"filter_column", "code", "filter_pattern", "^us$"}, "United States:1"},
		{"UserCountry.getCountry", []string{"filter_truncate", "1"}, "Germany:2 Others:3"},
		{"UserCountry.getCountry", []string{"label", "France"}, "France:1"},
		{"UserCountry.getCountry", []string{"segment", "browserCode==firefox"}, "Germany:2 United States:1"},
		// Matomo's short codes: FF Firefox, MF Mobile Safari, WIN Windows, IOS iOS.
		{"UserCountry.getCountry", []string{"segment", "browserCode==FF"}, "Germany:2 United States:1"},
		{"UserCountry.getCountry", []string{"segment", "browserCode==MF"}, "France:1"},
		{"UserCountry.getCountry", []string{"segment", "operatingSystemCode==WIN"}, "Unknown:1"},
		{"UserCountry.getCountry", []string{"segment", "operatingSystemCode!=IOS"}, "Germany:2 United States:1 Unknown:1"},
		{"UserCountry.getContinent", nil, "Europe:3 North America:1 Unknown:1"},
		// Continents as segments, Matomo's codes.
		{"UserCountry.getCountry", []string{"segment", "continentCode==eur"}, "Germany:2 France:1"},
		{"UserCountry.getCountry", []string{"segment", "continentCode!=eur"}, "United States:1 Unknown:1"},
		{"UserCountry.getCountry", []string{"segment", "continentCode==unk"}, "Unknown:1"},
		{"UserCountry.getCountry", []string{"segment", "continentCode==amn,browserCode==MF"}, "France:1 United States:1"},
		{"UserCountry.getCountry", []string{"segment", "continentCode!=eur;continentCode!=unk"}, "United States:1"},
		{"UserLanguage.getLanguage", nil, "English:2 German:2 French:1"},
		{"UserLanguage.getLanguageCode", nil, "English - United States (en-us):2 German - Germany (de-de):2 French - France (fr-fr):1"},
		{"Resolution.getResolution", nil, "Unknown:3 1920x1080:1 390x844:1"},
		{"DevicesDetection.getOsFamilies", []string{"filter_limit", "1"}, "GNU/Linux:3"},
		{"DevicesDetection.getBrowsers", []string{"filter_limit", "1"}, "Firefox:3"},
		{"VisitTime.getVisitInformationPerServerTime", []string{"filter_limit", "-1"}, hours(map[int]int{10: 1, 11: 1, 12: 2, 23: 1})},
		{"VisitTime.getVisitInformationPerLocalTime", []string{"filter_limit", "-1"}, hours(map[int]int{9: 1, 10: 1, 14: 1})},
		{"VisitTime.getByDayOfWeek", nil, "Monday:0 Tuesday:0 Wednesday:5 Thursday:0 Friday:0 Saturday:0 Sunday:0"},
		{"VisitorInterest.getNumberOfVisitsPerVisitDuration", nil, "0-10s:3 11-30s:0 31-60s:1 1-2 min:0 2-4 min:0 4-7 min:1 7-10 min:0 10-15 min:0 15-30 min:0 30+ min:0"},
		{"VisitorInterest.getNumberOfVisitsPerPage", nil, "1 page:3 2 pages:1 3 pages:1 4 pages:0 5 pages:0 6-7 pages:0 8-10 pages:0 11-14 pages:0 15-20 pages:0 21-30 pages:0 31+ pages:0"},
		{"VisitorInterest.getNumberOfVisitsByVisitCount", []string{"filter_limit", "2"}, "1 visit:5 2 visits:0"},
		{"DevicesDetection.getType", nil, "Desktop:4 Smartphone:1"},
		{"DevicesDetection.getBrand", nil, "Unknown:4 Apple:1"},
		{"DevicesDetection.getModel", []string{"filter_pattern", "Apple"}, "Apple - iPhone:1"},
		{"DevicesDetection.getOsVersions", []string{"filter_sort_column", "label", "filter_sort_order", "asc"}, "GNU/Linux:3 Windows 10:1 iOS 17.1:1"},
		{"DevicesDetection.getBrowserVersions", []string{"filter_sort_column", "label", "filter_sort_order", "asc"}, "Chrome 120.0:1 Firefox 120.0:3 Mobile Safari 17.1:1"},
		{"DevicesDetection.getBrowserEngines", nil, "Gecko:3 Blink:1 WebKit:1"},
		// Every visit is a first one: none has a last visit to count days since.
		{"VisitorInterest.getNumberOfVisitsByDaysSinceLast", []string{"filter_limit", "2"}, "0 days:0 1 day:0"},
		{"Referrers.getCampaigns", nil, "spring:1"},
		{"Referrers.getAll", []string{"filter_sort_column", "label", "filter_sort_order", "asc"}, "Direct Entry:1 Facebook:1 Google:1 partner.example:1 spring:1"},
		// Regions are named by their code (Hearth has no table of region names), with the country.
		{"UserCountry.getRegion", []string{"filter_pattern", "Germany"}, "BE, Germany:1 Unknown, Germany:1"},
		{"UserCountry.getCity", []string{"filter_pattern", "Germany"}, "Berlin, BE, Germany:1 Unknown, Germany:1"},
	}
	for _, tc := range cases {
		if got := labels(tc.method, tc.extra...); got != tc.want {
			t.Errorf("%s %v:\n got %s\nwant %s", tc.method, tc.extra, got, tc.want)
		}
	}

	// Browser and OS rows offer segments in Matomo's short codes, which select the same visits.
	for method, want := range map[string]map[string]string{
		"DevicesDetection.getBrowsers":   {"Firefox": "browserCode==FF", "Chrome": "browserCode==CH", "Mobile Safari": "browserCode==MF"},
		"DevicesDetection.getOsFamilies": {"GNU/Linux": "operatingSystemCode==LIN", "Windows": "operatingSystemCode==WIN", "iOS": "operatingSystemCode==IOS"},
	} {
		var rows []map[string]any
		if err := json.Unmarshal([]byte(call(method)), &rows); err != nil {
			t.Fatalf("%s: %v", method, err)
		}
		got := map[string]string{}
		for _, r := range rows {
			got[fmt.Sprint(r["label"])] = fmt.Sprint(r["segment"])
		}
		for label, seg := range want {
			if got[label] != seg {
				t.Errorf("%s: row %q has segment %q, want %q", method, label, got[label], seg)
			}
		}
	}

	// Rows carry Matomo's columns, a segment to drill down with, and subtable ids that
	// idSubtable and expanded=1 resolve.
	var engines []map[string]any
	if err := json.Unmarshal([]byte(call("Referrers.getSearchEngines")), &engines); err != nil || len(engines) != 1 {
		t.Fatalf("search engines: %v %v", engines, err)
	}
	g := engines[0]
	if g["nb_uniq_visitors"] != 1.0 || g["nb_actions"] != 2.0 || g["sum_visit_length"] != 60.0 || g["bounce_count"] != 0.0 ||
		g["segment"] != "referrerType==search;referrerName==Google" || g["idsubdatatable"] == nil {
		t.Fatalf("Google row: %v", g)
	}
	sub := labels("Referrers.getSearchEngines", "idSubtable", fmt.Sprint(int(g["idsubdatatable"].(float64))))
	if sub != "flu shot:1" {
		t.Errorf("keywords of Google: %s", sub)
	}
	if out := call("Referrers.getSearchEngines", "expanded", "1", "showColumns", "nb_visits"); out != `[{"label":"Google","nb_visits":1,"subtable":[{"label":"flu shot","nb_visits":1}]}]` {
		t.Errorf("expanded: %s", out)
	}
	if out := call("UserCountry.getCountry", "label", "Germany"); !strings.Contains(out, `"code":"de"`) || !strings.Contains(out, `"segment":"countryCode==de"`) {
		t.Errorf("country columns: %s", out)
	}
	if out := call("UserCountry.getContinent", "label", "Europe"); !strings.Contains(out, `"code":"eur"`) || !strings.Contains(out, `"segment":"continentCode==eur"`) {
		t.Errorf("continent columns: %s", out)
	}
	if out := call("VisitsSummary.getVisits", "segment", "continentCode==eur"); out != `{"value":3}` {
		t.Errorf("visits of the Europe row's segment: %s", out)
	}
	// Rows of months carry unique visitors and users; rows of years and ranges do not, as in
	// Matomo, while VisitsSummary keeps exact uniques for every period.
	for _, tc := range []struct {
		method, period, date string
		has                  bool
	}{
		{"UserCountry.getCountry", "month", "2024-03-06", true},
		{"UserCountry.getCountry", "range", "2024-03-01,2024-03-31", false},
		{"UserCountry.getCountry", "year", "2024-03-06", false},
		{"Actions.getPageUrls", "week", "2024-03-06", true},
		{"Actions.getPageUrls", "range", "2024-03-01,2024-03-31", false},
		{"VisitsSummary.get", "range", "2024-03-01,2024-03-31", true},
		{"VisitsSummary.get", "year", "2024-03-06", true},
	} {
		out := call(tc.method, "period", tc.period, "date", tc.date, "flat", "1")
		if got := strings.Contains(out, `"nb_uniq_visitors":`); got != tc.has || !strings.Contains(out, `"nb_visits":`) {
			t.Errorf("%s %s: nb_uniq_visitors present %v, want %v: %s", tc.method, tc.period, got, tc.has, out)
		}
		if tc.method == "UserCountry.getCountry" && strings.Contains(out, `"nb_users":`) != tc.has {
			t.Errorf("%s %s: nb_users present %v: %s", tc.method, tc.period, !tc.has, out)
		}
	}
	if out := call("UserCountry.getCountry", "period", "month", "label", "Germany", "showColumns", "nb_visits,nb_uniq_visitors"); out != `[{"label":"Germany","nb_uniq_visitors":2,"nb_visits":2}]` {
		t.Errorf("Germany in March: %s", out)
	}
	if out := call("VisitsSummary.get", "period", "range", "date", "2024-03-01,2024-03-31", "showColumns", "nb_uniq_visitors"); out != `{"nb_uniq_visitors":5}` {
		t.Errorf("uniques of a range: %s", out)
	}
	// Drilling down with a row's segment gives that row's visits.
	if out := call("VisitsSummary.getVisits", "segment", "countryCode==de"); out != `{"value":2}` {
		t.Errorf("visits of the Germany row's segment: %s", out)
	}
	if out := call("VisitFrequency.get", "showColumns", "nb_visits_new,nb_visits_returning,nb_actions_new,bounce_rate_new"); out != `{"nb_visits_new":5,"nb_actions_new":8,"bounce_rate_new":"60%","nb_visits_returning":0}` {
		t.Errorf("VisitFrequency.get: %s", out)
	}
	// Bulk requests, metadata and processed reports.
	bulkAnswer := call("API.getBulkRequest", "urls[0]", "method=VisitsSummary.getVisits&idSite=1&period=day&date=2024-03-06",
		"urls[1]", "method=UserCountry.getCountry&idSite=1&period=day&date=2024-03-06&filter_limit=1&showColumns=nb_visits",
		"urls[2]", "method=VisitsSummary.getVisits&idSite=1&period=decade&date=today")
	if bulkAnswer != `[{"value":5},[{"label":"Germany","nb_visits":2}],{"message":"The period 'decade' is not supported. Try any of the following instead: day, week, month, year, range","result":"error"}]` {
		t.Errorf("bulk: %s", bulkAnswer)
	}
	meta := call("API.getReportMetadata")
	for _, want := range []string{`"uniqueId":"UserCountry_getCountry"`, `"uniqueId":"Actions_getPageUrls"`, `"uniqueId":"Hearth_getBotCounts"`, `"bounce_rate":"Bounce Rate"`} {
		if !strings.Contains(meta, want) {
			t.Errorf("report metadata lacks %s", want)
		}
	}
	if segs := call("API.getSegmentsMetadata"); !strings.Contains(segs, `"segment":"pageUrl"`) || !strings.Contains(segs, `"acceptValues":"campaign, direct, search, social, website"`) ||
		!strings.Contains(segs, `"acceptValues":"afr, amc, amn, ams, ant, asi, eur, oce, unk"`) {
		t.Errorf("segments metadata: %.300s", segs)
	}
	var processed struct {
		Website     string           `json:"website"`
		Columns     map[string]any   `json:"columns"`
		ReportData  []map[string]any `json:"reportData"`
		ReportTotal map[string]any   `json:"reportTotal"`
	}
	if err := json.Unmarshal([]byte(call("API.getProcessedReport", "apiModule", "UserCountry", "apiAction", "getCountry")), &processed); err != nil {
		t.Fatal(err)
	}
	if processed.Website != "Clinic" || processed.Columns["label"] != "Country" || len(processed.ReportData) != 4 || processed.ReportTotal["nb_visits"] != 5.0 {
		t.Errorf("processed report: %+v", processed)
	}

	// A crawler's request is not a visit, but it is counted.
	bot := kv("idsite", "1", "rec", "1", "url", "https://clinic.example/", "cdt", "1709719200", "token_auth", tok,
		"ua", "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)")
	if resp, body := testbin.Get(t, s.Base+"/matomo.php?"+bot.Encode(), nil); resp.StatusCode != 200 && resp.StatusCode != 204 {
		t.Fatalf("bot hit: %d %s", resp.StatusCode, body)
	}
	botCount := ""
	testbin.Poll(5*time.Second, func() bool {
		botCount = call("Hearth.getBotCounts")
		return botCount == `{"nb_bot_requests":1}`
	})
	if botCount != `{"nb_bot_requests":1}` || call("VisitsSummary.getVisits") != `{"value":5}` {
		t.Errorf("bot counts: %s, visits %s", botCount, call("VisitsSummary.getVisits"))
	}

	// An unknown subtable and a bad pattern are refused with Matomo's error.
	for _, extra := range [][]string{{"idSubtable", "12345"}, {"filter_pattern", "("}, {"filter_limit", "x"}} {
		p := url.Values{"method": {"Referrers.getSearchEngines"}, "idSite": {"1"}, "period": {"day"}, "date": {"2024-03-06"}, "token_auth": {tok}}
		p.Set(extra[0], extra[1])
		if code, v := s.API(t, p); code != 400 || !strings.Contains(fmt.Sprint(v), "error") {
			t.Errorf("%v: %d %v", extra, code, v)
		}
	}
}
