package report

import (
	"hash/fnv"
	"sort"
	"strconv"
	"strings"

	"hearth/internal/event"
	"hearth/internal/store"
)

// Column is an extra column of a report row, such as a country's code.
type Column struct {
	Name  string
	Value any
}

// Row is one row of a report table.
type Row struct {
	Key    string // the stored value the row stands for
	Label  string
	Totals store.VisitTotals
	// Action holds the metrics of rows of action reports (nil in visit reports), Event those
	// of event and content reports.
	Action  *ActionMetrics
	Event   *EventMetrics
	Columns []Column
	// Segment selects the row's visits, for drilling down ("" when none applies).
	Segment string
	// Sub is the row's subtable (nil when it has none) and SubID the idSubtable that asks for it.
	Sub   *Table
	SubID int
}

// Table is a report's rows for one period.
type Table struct {
	Rows []*Row
	// VisitsOnly tables carry only nb_visits (VisitorInterest).
	VisitsOnly bool
	// Ordered tables keep their natural order (hours, weekdays, buckets) unless a sort is asked.
	Ordered bool
	// Metrics names the column set of action reports: "pages", "entry", "exit" or "hits"
	// (subtables take their parent's).
	Metrics string
}

// VisitReport is a report of visits grouped by a visit dimension.
type VisitReport struct {
	Module, Action string
	Name           string // as API.getReportMetadata names it
	Category       string
	Dimension      string
	By             []store.Field
	// Where restricts the visits (e.g. to search-engine referrals) before grouping.
	Where []store.Cond
	Remap map[string]string
	// row describes a first-level row from its key; sub a second-level one.
	row func(r *Row)
	// named labels a row with names the events do not store, instead of row.
	named func(r *Row, names Names)
	sub   func(r *Row, parent string)
	// fill lists the keys always shown, in order (hours, weekdays); others are dropped.
	fill []string
	// bucket folds keys into labelled buckets (VisitorInterest): it returns the bucket's
	// position, or -1 to drop the key; buckets lists the labels.
	bucket  func(key string) int
	buckets []string
	// skipEmpty drops rows whose key is empty.
	skipEmpty bool
	// flat shows the second-level rows only (Referrers.getAll).
	flat bool
}

// Method is the report's API method name, e.g. "UserCountry.getCountry".
func (d *VisitReport) Method() string { return d.Module + "." + d.Action }

// Query is the store query of the report on top of a request's query.
func (d *VisitReport) Query(base store.ReportQuery) store.GroupQuery {
	q := store.GroupQuery{ReportQuery: base, By: d.By, Remap: d.Remap}
	if len(d.Where) > 0 {
		and := append([][]store.Cond{}, base.Segment.And...)
		for _, c := range d.Where {
			and = append(and, []store.Cond{c})
		}
		q.Segment = store.Filter{And: and}
	}
	return q
}

// SubID is the idSubtable of a row's subtable: a stable hash of the row's key, so a later
// request finds the same subtable without any stored state.
func SubID(key string) int {
	h := fnv.New32a()
	h.Write([]byte(key))
	return int(h.Sum32()&0x3fffffff) + 1
}

// Names supplies names the event store does not keep.
type Names struct {
	// Region is the English name of a country's region by its code ("de", "BY" →
	// "Bavaria"), "" when unknown; nil when no source of names is configured.
	Region func(country, code string) string
}

// RegionName names a region, falling back to its code.
func (n Names) RegionName(country, code string) string {
	if n.Region != nil && code != "" {
		if name := n.Region(country, code); name != "" {
			return name
		}
	}
	return code
}

// label fills a new row's label, columns and segment.
func (d *VisitReport) label(r *Row, names Names) {
	switch {
	case d.named != nil:
		d.named(r, names)
	case d.row != nil:
		d.row(r)
	}
}

// Tables builds the report's table of each of n ranges from the store's groups.
func (d *VisitReport) Tables(groups []store.GroupRow, n int, names Names) []*Table {
	tables := make([]*Table, n)
	byKey := make([]map[string]*Row, n)
	for i := range tables {
		tables[i] = &Table{VisitsOnly: d.bucket != nil, Ordered: d.fill != nil || d.bucket != nil}
		byKey[i] = map[string]*Row{}
	}
	// First-level rows, then their subtables.
	for _, g := range groups {
		if g.Range < 0 || g.Range >= n || len(g.Keys) != 1 {
			continue
		}
		key := g.Keys[0]
		if d.skipEmpty && key == "" {
			continue
		}
		r := &Row{Key: key, Label: key, Totals: g.VisitTotals}
		d.label(r, names)
		byKey[g.Range][key] = r
	}
	for _, g := range groups {
		if g.Range < 0 || g.Range >= n || len(g.Keys) != 2 {
			continue
		}
		parent := byKey[g.Range][g.Keys[0]]
		if parent == nil {
			continue
		}
		r := &Row{Key: g.Keys[1], Label: g.Keys[1], Totals: g.VisitTotals}
		if d.sub != nil {
			d.sub(r, parent.Key)
		}
		if parent.Sub == nil {
			parent.Sub, parent.SubID = &Table{}, SubID(parent.Key)
		}
		parent.Sub.Rows = append(parent.Sub.Rows, r)
	}
	for i, t := range tables {
		switch {
		case d.flat:
			for _, p := range byKey[i] {
				if p.Sub != nil {
					t.Rows = append(t.Rows, p.Sub.Rows...)
				}
			}
		case d.bucket != nil:
			rows := make([]*Row, len(d.buckets))
			for j, label := range d.buckets {
				rows[j] = &Row{Key: label, Label: label}
			}
			for key, r := range byKey[i] {
				if b := d.bucket(key); b >= 0 && b < len(rows) {
					rows[b].Totals.Visits += r.Totals.Visits
				}
			}
			t.Rows = rows
		case d.fill != nil:
			for _, key := range d.fill {
				r := byKey[i][key]
				if r == nil {
					r = &Row{Key: key, Label: key}
					d.label(r, names)
				}
				t.Rows = append(t.Rows, r)
			}
		default:
			for _, r := range byKey[i] {
				t.Rows = append(t.Rows, r)
			}
		}
		if !t.Ordered {
			SortByVisits(t.Rows)
			for _, r := range t.Rows {
				if r.Sub != nil {
					SortByVisits(r.Sub.Rows)
				}
			}
		}
	}
	return tables
}

// SortByVisits orders rows by visits, most first, then by label.
func SortByVisits(rows []*Row) {
	sort.SliceStable(rows, func(i, j int) bool {
		if rows[i].Totals.Visits != rows[j].Totals.Visits {
			return rows[i].Totals.Visits > rows[j].Totals.Visits
		}
		return rows[i].Label < rows[j].Label
	})
}

// FindVisitReport returns the visit report of an API method.
func FindVisitReport(method string) *VisitReport {
	for _, d := range VisitReports {
		if d.Method() == method {
			return d
		}
	}
	return nil
}

// segmentValue encodes a value for a segment definition.
func segmentValue(v string) string {
	r := strings.NewReplacer("%", "%25", ",", "%2C", ";", "%3B", "&", "%26", "=", "%3D", "+", "%2B", " ", "%20")
	return r.Replace(v)
}

func split(key string, n int) []string {
	parts := strings.SplitN(key, "|", n)
	for len(parts) < n {
		parts = append(parts, "")
	}
	return parts
}

var weekdays = []string{"Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"}

func hours() []string {
	out := make([]string, 24)
	for i := range out {
		out[i] = strconv.Itoa(i)
	}
	return out
}

// ranged folds a number into the bucket whose lower bound it reaches.
func ranged(lower []int) func(string) int {
	return func(key string) int {
		n, err := strconv.Atoi(key)
		if err != nil || n < lower[0] {
			return -1
		}
		b := 0
		for i, l := range lower {
			if n >= l {
				b = i
			}
		}
		return b
	}
}

func referrerRow(typ string) func(r *Row) {
	return func(r *Row) {
		r.Label = unknown(r.Key)
		r.Segment = "referrerName==" + segmentValue(r.Key)
		if typ != "" {
			r.Segment = "referrerType==" + typ + ";" + r.Segment
		}
	}
}

// referrerKeywordRow describes a keyword under a referrer of the type typ (search or
// campaign): its segment names the type, the referrer and the keyword.
func referrerKeywordRow(typ string) func(r *Row, parent string) {
	return func(r *Row, parent string) {
		r.Label = keywordLabel(r.Key)
		r.Segment = "referrerType==" + typ + ";referrerName==" + segmentValue(parent) + ";referrerKeyword==" + segmentValue(r.Key)
	}
}

// languageRow describes a browser language row, labelled by label, with its code as a column
// and a segment on languageCode with the operator op (=^ for a primary language, whatever its
// region; == for an exact code).
func languageRow(label func(string) string, op string) func(r *Row) {
	return func(r *Row) {
		r.Label = label(r.Key)
		r.Columns = []Column{{"code", r.Key}}
		r.Segment = "languageCode" + op + segmentValue(r.Key)
	}
}

func cond(f store.Field, v event.ReferrerType) store.Cond {
	return store.Cond{Field: f, Op: store.OpEq, Num: float64(v), IsNum: true}
}

// VisitReports are the reports of visits grouped by a visit dimension.
var VisitReports = []*VisitReport{
	{Module: "Referrers", Action: "getReferrerType", Name: "Channel Type", Category: "Referrers", Dimension: "Channel Type",
		By: []store.Field{store.FieldReferrerType, store.FieldReferrerName},
		row: func(r *Row) {
			r.Label = unknown(referrerTypeLabels[r.Key])
			r.Columns = []Column{{"referer_type", atoi(r.Key)}}
			r.Segment = "referrerType==" + referrerTypeNames[r.Key]
		},
		sub: func(r *Row, parent string) {
			r.Label = unknown(r.Key)
			r.Segment = "referrerType==" + referrerTypeNames[parent] + ";referrerName==" + segmentValue(r.Key)
		}},
	{Module: "Referrers", Action: "getAll", Name: "Referrers", Category: "Referrers", Dimension: "Referrer",
		By: []store.Field{store.FieldReferrerType, store.FieldReferrerName}, flat: true,
		sub: func(r *Row, parent string) {
			r.Label = r.Key
			if r.Key == "" {
				r.Label = referrerTypeLabels[parent]
			}
			r.Columns = []Column{{"referer_type", atoi(parent)}}
			r.Segment = "referrerType==" + referrerTypeNames[parent]
			if r.Key != "" {
				r.Segment += ";referrerName==" + segmentValue(r.Key)
			}
		}},
	{Module: "Referrers", Action: "getSearchEngines", Name: "Search Engines", Category: "Referrers", Dimension: "Search Engine",
		By: []store.Field{store.FieldReferrerName, store.FieldReferrerKeyword}, Where: []store.Cond{cond(store.FieldReferrerType, event.ReferrerSearch)},
		row: referrerRow("search"), sub: referrerKeywordRow("search")},
	{Module: "Referrers", Action: "getKeywords", Name: "Keywords", Category: "Referrers", Dimension: "Keyword",
		By: []store.Field{store.FieldReferrerKeyword, store.FieldReferrerName}, Where: []store.Cond{cond(store.FieldReferrerType, event.ReferrerSearch)},
		row: func(r *Row) {
			r.Label = keywordLabel(r.Key)
			r.Segment = "referrerType==search;referrerKeyword==" + segmentValue(r.Key)
		},
		sub: func(r *Row, parent string) {
			r.Label = unknown(r.Key)
			r.Segment = "referrerType==search;referrerKeyword==" + segmentValue(parent) + ";referrerName==" + segmentValue(r.Key)
		}},
	{Module: "Referrers", Action: "getWebsites", Name: "Websites", Category: "Referrers", Dimension: "Website",
		By: []store.Field{store.FieldReferrerName, store.FieldReferrerURL}, Where: []store.Cond{cond(store.FieldReferrerType, event.ReferrerWebsite)},
		row: referrerRow("website"), sub: referrerURLRow},
	{Module: "Referrers", Action: "getSocials", Name: "Social Networks", Category: "Referrers", Dimension: "Social Network",
		By: []store.Field{store.FieldReferrerName, store.FieldReferrerURL}, Where: []store.Cond{cond(store.FieldReferrerType, event.ReferrerSocial)},
		row: referrerRow("social"), sub: referrerURLRow},
	{Module: "Referrers", Action: "getCampaigns", Name: "Campaigns", Category: "Referrers", Dimension: "Campaign",
		By: []store.Field{store.FieldReferrerName, store.FieldReferrerKeyword}, Where: []store.Cond{cond(store.FieldReferrerType, event.ReferrerCampaign)},
		row: referrerRow("campaign"), sub: referrerKeywordRow("campaign")},
	{Module: "UserCountry", Action: "getCountry", Name: "Country", Category: "Locations", Dimension: "Country",
		By: []store.Field{store.FieldCountry},
		row: func(r *Row) {
			code := r.Key
			if code == "" {
				code = "xx"
			}
			r.Label = CountryName(code)
			r.Columns = []Column{{"code", code}}
			r.Segment = "countryCode==" + segmentValue(r.Key)
		}},
	{Module: "UserCountry", Action: "getContinent", Name: "Continent", Category: "Locations", Dimension: "Continent",
		By: []store.Field{store.FieldCountry}, Remap: countryContinents,
		row: func(r *Row) {
			code := r.Key
			if code == "" {
				code = "unk"
			}
			r.Label = unknown(continentNames[r.Key])
			r.Columns = []Column{{"code", code}}
			r.Segment = "continentCode==" + code
		}},
	{Module: "UserCountry", Action: "getRegion", Name: "Region", Category: "Locations", Dimension: "Region",
		By: []store.Field{store.FieldRegionKey},
		named: func(r *Row, names Names) {
			p := split(r.Key, 2)
			region := names.RegionName(p[0], p[1])
			r.Label = place(region, "", p[0])
			r.Columns = []Column{{"region", p[1]}, {"region_name", region}, {"country", p[0]}, {"country_name", CountryName(p[0])}}
			r.Segment = "regionCode==" + segmentValue(p[1]) + ";countryCode==" + segmentValue(p[0])
		}},
	{Module: "UserCountry", Action: "getCity", Name: "City", Category: "Locations", Dimension: "City",
		By: []store.Field{store.FieldCityKey},
		named: func(r *Row, names Names) {
			p := split(r.Key, 3)
			region := names.RegionName(p[0], p[1])
			r.Label = place(p[2], region, p[0])
			r.Columns = []Column{{"city_name", p[2]}, {"region", p[1]}, {"region_name", region}, {"country", p[0]}, {"country_name", CountryName(p[0])}}
			r.Segment = "city==" + segmentValue(p[2]) + ";regionCode==" + segmentValue(p[1]) + ";countryCode==" + segmentValue(p[0])
		}},
	{Module: "UserLanguage", Action: "getLanguage", Name: "Browser language", Category: "Locations", Dimension: "Language",
		By: []store.Field{store.FieldLanguagePrimary}, row: languageRow(LanguageName, "=^")},
	{Module: "UserLanguage", Action: "getLanguageCode", Name: "Language code", Category: "Locations", Dimension: "Language code",
		By: []store.Field{store.FieldLanguage}, row: languageRow(languageCodeLabel, "==")},
	deviceReport("getType", "Device type", store.FieldDeviceType, "deviceType", titleCase),
	deviceReport("getBrand", "Device brand", store.FieldDeviceBrand, "deviceBrand", nil),
	{Module: "DevicesDetection", Action: "getModel", Name: "Device model", Category: "Devices", Dimension: "Device model",
		By: []store.Field{store.FieldModelKey},
		row: func(r *Row) {
			p := split(r.Key, 2)
			r.Label = unknown(p[0]) + " - " + unknown(p[1])
			if p[0] == "" && p[1] == "" {
				r.Label = "Unknown"
			}
			r.Segment = "deviceBrand==" + segmentValue(p[0]) + ";deviceModel==" + segmentValue(p[1])
		}},
	deviceReport("getOsFamilies", "Operating system families", store.FieldOS, "operatingSystemCode", nil),
	versionReport("getOsVersions", "Operating system versions", store.FieldOSVersionKey, "operatingSystemCode", "operatingSystemVersion"),
	deviceReport("getBrowsers", "Browsers", store.FieldBrowser, "browserCode", nil),
	versionReport("getBrowserVersions", "Browser versions", store.FieldBrowserVersionKey, "browserCode", "browserVersion"),
	deviceReport("getBrowserEngines", "Browser engines", store.FieldEngine, "", nil),
	{Module: "Resolution", Action: "getResolution", Name: "Screen Resolution", Category: "Devices", Dimension: "Resolution",
		By: []store.Field{store.FieldResolution},
		row: func(r *Row) {
			r.Label = unknown(r.Key)
			r.Segment = "resolution==" + segmentValue(r.Key)
		}},
	{Module: "VisitTime", Action: "getVisitInformationPerLocalTime", Name: "Visits per local time", Category: "Visits", Dimension: "Local time",
		By: []store.Field{store.FieldLocalHour}, fill: hours(),
		row: func(r *Row) {
			r.Label = r.Key + "h"
			r.Segment = "visitLocalHour==" + r.Key
		}},
	{Module: "VisitTime", Action: "getVisitInformationPerServerTime", Name: "Visits per server time", Category: "Visits", Dimension: "Site time",
		By: []store.Field{store.FieldSiteHour}, fill: hours(),
		row: func(r *Row) { r.Label = r.Key + "h" }},
	{Module: "VisitTime", Action: "getByDayOfWeek", Name: "Visits by day of week", Category: "Visits", Dimension: "Day of the week",
		By: []store.Field{store.FieldSiteDay}, fill: []string{"1", "2", "3", "4", "5", "6", "7"},
		row: func(r *Row) {
			d := atoi(r.Key)
			r.Label = weekdays[d-1]
			r.Columns = []Column{{"day_of_week", d}}
		}},
	{Module: "VisitorInterest", Action: "getNumberOfVisitsPerVisitDuration", Name: "Length of Visits", Category: "Behaviour",
		Dimension: "Visit duration", By: []store.Field{store.FieldVisitDuration},
		bucket:  ranged([]int{0, 11, 31, 61, 121, 241, 421, 601, 901, 1801}),
		buckets: []string{"0-10s", "11-30s", "31-60s", "1-2 min", "2-4 min", "4-7 min", "7-10 min", "10-15 min", "15-30 min", "30+ min"}},
	{Module: "VisitorInterest", Action: "getNumberOfVisitsPerPage", Name: "Pages per Visit", Category: "Behaviour",
		Dimension: "Actions per visit", By: []store.Field{store.FieldActions},
		bucket:  ranged([]int{1, 2, 3, 4, 5, 6, 8, 11, 15, 21, 31}),
		buckets: []string{"1 page", "2 pages", "3 pages", "4 pages", "5 pages", "6-7 pages", "8-10 pages", "11-14 pages", "15-20 pages", "21-30 pages", "31+ pages"}},
	{Module: "VisitorInterest", Action: "getNumberOfVisitsByDaysSinceLast", Name: "Visits by days since last visit", Category: "Behaviour",
		Dimension: "Days since last visit", By: []store.Field{store.FieldDaysSinceLast},
		Where:   []store.Cond{{Field: store.FieldVisitorType, Op: store.OpEq, Str: "returning"}},
		bucket:  ranged([]int{0, 1, 2, 3, 4, 5, 6, 7, 8, 15, 31, 61, 121, 365}),
		buckets: []string{"0 days", "1 day", "2 days", "3 days", "4 days", "5 days", "6 days", "7 days", "8-14 days", "15-30 days", "31-60 days", "61-120 days", "121-364 days", "365+ days"}},
	{Module: "VisitorInterest", Action: "getNumberOfVisitsByVisitCount", Name: "Visits by visit number", Category: "Behaviour",
		Dimension: "Visit number", By: []store.Field{store.FieldVisitCount},
		bucket:  ranged([]int{1, 2, 3, 4, 5, 6, 7, 8, 9, 15, 26, 51, 101, 201}),
		buckets: []string{"1 visit", "2 visits", "3 visits", "4 visits", "5 visits", "6 visits", "7 visits", "8 visits", "9-14 visits", "15-25 visits", "26-50 visits", "51-100 visits", "101-200 visits", "201+ visits"}},
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

func referrerURLRow(r *Row, parent string) {
	r.Label = unknown(r.Key)
	r.Segment = "referrerUrl==" + segmentValue(r.Key)
}

func deviceReport(action, name string, f store.Field, segment string, label func(string) string) *VisitReport {
	return &VisitReport{Module: "DevicesDetection", Action: action, Name: name, Category: "Devices", Dimension: name, By: []store.Field{f},
		row: func(r *Row) {
			r.Label = r.Key
			if label != nil {
				r.Label = label(r.Key)
			}
			r.Label = unknown(r.Label)
			if segment != "" {
				r.Segment = segment + "==" + segmentValue(codeOfName(Dimensions[segment].Field, r.Key))
			}
		}}
}

func versionReport(action, name string, f store.Field, segment, versionSegment string) *VisitReport {
	return &VisitReport{Module: "DevicesDetection", Action: action, Name: name, Category: "Devices", Dimension: name, By: []store.Field{f},
		row: func(r *Row) {
			p := split(r.Key, 2)
			r.Label = strings.TrimSpace(unknown(p[0]) + " " + p[1])
			r.Segment = segment + "==" + segmentValue(codeOfName(Dimensions[segment].Field, p[0])) + ";" + versionSegment + "==" + segmentValue(p[1])
		}}
}
