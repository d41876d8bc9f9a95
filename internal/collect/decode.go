// Package collect is the tracking endpoint: it decodes Matomo Tracking HTTP API requests
// (single GET/POST and bulk JSON) into typed hits and hands them to a Sink. It knows
// nothing of visits, enrichment or storage.
package collect

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"hearth/internal/event"
)

// Limits on decoded values.
const (
	maxURLLen      = 4096
	maxTextLen     = 1024
	maxParamLen    = 64 << 10
	maxParams      = 512
	maxItems       = 1000
	maxDimensionID = 999
	maxMoney       = 1e13
)

// Error is a request the tracker sent wrong; its text is safe to show to the client.
type Error struct{ Reason string }

func (e *Error) Error() string { return e.Reason }

func bad(format string, args ...any) error { return &Error{Reason: fmt.Sprintf(format, args...)} }

// IsBadRequest reports whether err is a client error.
func IsBadRequest(err error) bool {
	var e *Error
	return errors.As(err, &e)
}

// Hit is one decoded tracking request. Zero values mean "not sent" unless a Has* flag says
// otherwise; numeric fields that can legitimately be zero use -1 for "not sent".
type Hit struct {
	SiteID                              event.SiteID
	Record                              bool // rec=1
	URL                                 string
	Title                               string
	Referrer                            string
	VisitorID                           string // _id
	ForcedID                            string // cid
	UserID                              string // uid, raw: the pipeline pseudonymises it
	NewVisit                            bool
	PageViewID                          string
	CustomTime                          time.Time // from cdt or cdo; zero when absent
	LocalHour, LocalMinute, LocalSecond int       // -1 when absent
	Resolution                          string
	Language                            string
	UserAgent                           string // ua parameter (overrides the header)
	UAData                              string // uadata JSON client hints
	Ping                                bool
	Bot                                 bool // bots=1: record even if a bot
	SendImage                           bool
	CustomAction                        bool // ca=1
	Consent                             bool
	Plugins                             string

	Link, Download string

	Search, SearchCategory string
	SearchCount            int32 // -1 when absent
	IsSearch               bool

	EventCategory, EventAction, EventName string
	EventValue                            float64
	HasEventValue                         bool

	ContentName, ContentPiece, ContentTarget, ContentInteraction string

	GoalID                            int32 // -1 none; 0 ecommerce
	Revenue                           float64
	HasRevenue                        bool
	OrderID                           string
	Subtotal, Tax, Shipping, Discount float64
	Items                             []event.Item
	HasItems                          bool

	ProductSKU, ProductName string
	ProductCategory         []string
	ProductPrice            float64

	Dimensions map[int]string
	VisitVars  map[string]string // _cvar
	PageVars   map[string]string // cvar
	Perf       [6]int32          // pf_net, pf_srv, pf_tfr, pf_dm1, pf_dm2, pf_onl; -1 absent

	AttributionCampaign, AttributionKeyword, AttributionReferrer string // _rcn, _rck, _ref

	TokenAuth             string
	ClientIP              string // cip
	Country, Region, City string
	Lat, Long             float64
	HasLatLong            bool

	Extra map[string]string // media, crash, A/B test parameters, stored as given
}

// Privileged reports which privileged parameters the hit carries (cip, location overrides).
// Custom times are checked by the pipeline, which knows the clock.
func (h *Hit) Privileged() []string {
	var out []string
	if h.ClientIP != "" {
		out = append(out, "cip")
	}
	if h.Country != "" {
		out = append(out, "country")
	}
	if h.Region != "" {
		out = append(out, "region")
	}
	if h.City != "" {
		out = append(out, "city")
	}
	if h.HasLatLong {
		out = append(out, "lat/long")
	}
	return out
}

var (
	hex16     = regexp.MustCompile(`^[0-9a-fA-F]{16}$`)
	extraKeys = []string{"ma_", "cra", "_exp", "abtest"}
)

// param indexes a tracking parameter Decode reads: the request's parameters are looked up
// once, in one pass over them, instead of once per known name.
type param uint8

// The parameters Decode reads, in the order of paramNames.
const (
	pIDSite param = iota
	pRec
	pSendImage
	pURL
	pActionName
	pURLRef
	pVisitorID
	pCID
	pUID
	pNewVisit
	pPageViewID
	pHour
	pMinute
	pSecond
	pRes
	pLang
	pUA
	pUAData
	pPing
	pBots
	pCA
	pConsent
	pCookie
	pFla
	pJava
	pQt
	pRealp
	pPdf
	pWma
	pAg
	pLink
	pDownload
	pSearch
	pSearchCat
	pSearchCount
	pEventCategory
	pEventAction
	pEventName
	pEventValue
	pContentName
	pContentPiece
	pContentTarget
	pContentInteraction
	pIDGoal
	pRevenue
	pEcID
	pEcSt
	pEcTx
	pEcSh
	pEcDt
	pEcItems
	pProductSKU
	pProductName
	pProductCategory
	pProductPrice
	pPfNet
	pPfSrv
	pPfTfr
	pPfDm1
	pPfDm2
	pPfOnl
	pVisitCvar
	pPageCvar
	pAttrCampaign
	pAttrKeyword
	pAttrReferrer
	pTokenAuth
	pCIP
	pCountry
	pRegion
	pCity
	pLat
	pLong
	pCdt
	pCdo
	numParams
)

// paramNames are the parameters' names on the wire.
var paramNames = [numParams]string{
	pIDSite:             "idsite",
	pRec:                "rec",
	pSendImage:          "send_image",
	pURL:                "url",
	pActionName:         "action_name",
	pURLRef:             "urlref",
	pVisitorID:          "_id",
	pCID:                "cid",
	pUID:                "uid",
	pNewVisit:           "new_visit",
	pPageViewID:         "pv_id",
	pHour:               "h",
	pMinute:             "m",
	pSecond:             "s",
	pRes:                "res",
	pLang:               "lang",
	pUA:                 "ua",
	pUAData:             "uadata",
	pPing:               "ping",
	pBots:               "bots",
	pCA:                 "ca",
	pConsent:            "consent",
	pCookie:             "cookie",
	pFla:                "fla",
	pJava:               "java",
	pQt:                 "qt",
	pRealp:              "realp",
	pPdf:                "pdf",
	pWma:                "wma",
	pAg:                 "ag",
	pLink:               "link",
	pDownload:           "download",
	pSearch:             "search",
	pSearchCat:          "search_cat",
	pSearchCount:        "search_count",
	pEventCategory:      "e_c",
	pEventAction:        "e_a",
	pEventName:          "e_n",
	pEventValue:         "e_v",
	pContentName:        "c_n",
	pContentPiece:       "c_p",
	pContentTarget:      "c_t",
	pContentInteraction: "c_i",
	pIDGoal:             "idgoal",
	pRevenue:            "revenue",
	pEcID:               "ec_id",
	pEcSt:               "ec_st",
	pEcTx:               "ec_tx",
	pEcSh:               "ec_sh",
	pEcDt:               "ec_dt",
	pEcItems:            "ec_items",
	pProductSKU:         "_pks",
	pProductName:        "_pkn",
	pProductCategory:    "_pkc",
	pProductPrice:       "_pkp",
	pPfNet:              "pf_net",
	pPfSrv:              "pf_srv",
	pPfTfr:              "pf_tfr",
	pPfDm1:              "pf_dm1",
	pPfDm2:              "pf_dm2",
	pPfOnl:              "pf_onl",
	pVisitCvar:          "_cvar",
	pPageCvar:           "cvar",
	pAttrCampaign:       "_rcn",
	pAttrKeyword:        "_rck",
	pAttrReferrer:       "_ref",
	pTokenAuth:          "token_auth",
	pCIP:                "cip",
	pCountry:            "country",
	pRegion:             "region",
	pCity:               "city",
	pLat:                "lat",
	pLong:               "long",
	pCdt:                "cdt",
	pCdo:                "cdo",
}

// paramIndex finds a parameter's index by its name.
var paramIndex = func() map[string]param {
	m := make(map[string]param, numParams)
	for i, name := range paramNames {
		m[name] = param(i)
	}
	return m
}()

// params are one request's parameters as Decode reads them: the first value of each name,
// the names Decode knows by index and the others (custom dimensions, media, A/B tests...) in
// a map made only when a request has them.
type params struct {
	vals  [numParams]string
	has   [numParams]bool
	known int
	rest  url.Values
	err   error // the first decoding error
}

// add records name=value unless name already has a value: with the URL's query added before
// the body, a parameter in both takes the URL's value, as Matomo does.
func (ps *params) add(name, value string) {
	if p, ok := paramIndex[name]; ok {
		if !ps.has[p] {
			ps.has[p], ps.vals[p] = true, value
			ps.known++
		}
		return
	}
	if _, ok := ps.rest[name]; ok {
		return
	}
	if ps.rest == nil {
		ps.rest = url.Values{}
	}
	ps.rest[name] = []string{value}
}

// addQuery adds the pairs of a query string as parseQuery reads them (a pair holding ';' or
// one that does not unescape is skipped), without building a map of them first.
func (ps *params) addQuery(query string) {
	for query != "" {
		var pair string
		pair, query, _ = strings.Cut(query, "&")
		if pair == "" || strings.Contains(pair, ";") {
			continue
		}
		key, value, _ := strings.Cut(pair, "=")
		key, err := url.QueryUnescape(key)
		if err != nil {
			continue
		}
		if value, err = url.QueryUnescape(value); err != nil {
			continue
		}
		ps.add(key, value)
	}
}

// addValues adds the first value of each name in v.
func (ps *params) addValues(v url.Values) {
	for name, vals := range v {
		if len(vals) > 0 {
			ps.add(name, vals[0])
		} else {
			ps.add(name, "")
		}
	}
}

// names is the number of distinct names.
func (ps *params) names() int { return ps.known + len(ps.rest) }

// get is the value of a known parameter, "" when absent.
func (ps *params) get(p param) string { return ps.vals[p] }

// set gives a known parameter a value.
func (ps *params) set(p param, value string) {
	if !ps.has[p] {
		ps.has[p] = true
		ps.known++
	}
	ps.vals[p] = value
}

func (r *params) fail(err error) {
	if r.err == nil {
		r.err = err
	}
}

func (r *params) text(p param, limit int) string {
	return r.clean(paramNames[p], r.vals[p], limit)
}

// clean checks and trims the value s of the parameter name.
func (r *params) clean(name, s string, limit int) string {
	if s == "" {
		return ""
	}
	if !utf8.ValidString(s) {
		r.fail(bad("parameter %s is not valid UTF-8", name))
		return ""
	}
	if len(s) > maxParamLen {
		r.fail(bad("parameter %s is too long (%d bytes)", name, len(s)))
		return ""
	}
	s = strings.TrimSpace(s)
	return truncate(s, limit)
}

// dimensionID recognises "dimensionN" parameter names (N from 1 to 999).
func dimensionID(name string) (int, bool) {
	digits, ok := strings.CutPrefix(name, "dimension")
	if !ok || len(digits) == 0 || len(digits) > 3 {
		return 0, false
	}
	n := 0
	for _, c := range digits {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	if n < 1 || n > maxDimensionID {
		return 0, false
	}
	return n, true
}

// truncate cuts s to at most n bytes without splitting a character.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

func (r *params) flag(p param) bool {
	return r.vals[p] == "1" || strings.EqualFold(r.vals[p], "true")
}

func (r *params) number(p param, min, max float64) (float64, bool) {
	name, s := paramNames[p], strings.TrimSpace(r.vals[p])
	if s == "" {
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		r.fail(bad("parameter %s is not a number", name))
		return 0, false
	}
	if f < min || f > max {
		r.fail(bad("parameter %s is out of range", name))
		return 0, false
	}
	return f, true
}

func (r *params) integer(p param, min, max int64, absent int64) int64 {
	name, s := paramNames[p], strings.TrimSpace(r.vals[p])
	if s == "" {
		return absent
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		// Trackers sometimes send "12.0".
		f, ferr := strconv.ParseFloat(s, 64)
		if ferr != nil || f != math.Trunc(f) {
			r.fail(bad("parameter %s is not an integer", name))
			return absent
		}
		n = int64(f)
	}
	if n < min || n > max {
		r.fail(bad("parameter %s is out of range", name))
		return absent
	}
	return n
}

// Decode turns one request's parameters into a Hit. now is used for cdo and to bound cdt.
func Decode(v url.Values, now time.Time) (Hit, error) {
	var ps params
	ps.addValues(v)
	return decode(&ps, now)
}

func decode(ps *params, now time.Time) (Hit, error) {
	if n := ps.names(); n > maxParams {
		return Hit{}, bad("too many parameters (%d)", n)
	}
	r := ps
	h := Hit{LocalHour: -1, LocalMinute: -1, LocalSecond: -1, SearchCount: -1, GoalID: -1, SendImage: true}
	h.Perf = [6]int32{-1, -1, -1, -1, -1, -1}

	site := strings.TrimSpace(r.vals[pIDSite])
	if site == "" {
		return h, bad("idsite is missing")
	}
	id, err := strconv.ParseInt(site, 10, 64)
	if err != nil || id <= 0 || id > math.MaxInt32 {
		return h, bad("idsite is not a valid site id")
	}
	h.SiteID = event.SiteID(id)
	h.Record = r.flag(pRec)
	h.SendImage = r.vals[pSendImage] != "0"

	h.URL = r.text(pURL, maxURLLen)
	h.Title = r.text(pActionName, maxTextLen)
	h.Referrer = r.text(pURLRef, maxURLLen)
	h.VisitorID = r.text(pVisitorID, 64)
	if h.VisitorID != "" && !hex16.MatchString(h.VisitorID) {
		// Matomo ignores a malformed _id rather than failing the hit.
		h.VisitorID = ""
	}
	h.ForcedID = r.text(pCID, 64)
	if h.ForcedID != "" && !hex16.MatchString(h.ForcedID) {
		return h, bad("cid must be 16 hexadecimal characters")
	}
	h.UserID = r.text(pUID, maxTextLen)
	h.NewVisit = r.flag(pNewVisit)
	h.PageViewID = r.text(pPageViewID, 32)
	h.LocalHour = int(r.integer(pHour, 0, 23, -1))
	h.LocalMinute = int(r.integer(pMinute, 0, 59, -1))
	h.LocalSecond = int(r.integer(pSecond, 0, 59, -1))
	h.Resolution = r.text(pRes, 32)
	h.Language = r.text(pLang, 256)
	h.UserAgent = r.text(pUA, maxTextLen)
	h.UAData = r.text(pUAData, 4096)
	if h.UAData != "" && !json.Valid([]byte(h.UAData)) {
		r.fail(bad("uadata is not valid JSON"))
	}
	h.Ping = r.flag(pPing)
	h.Bot = r.flag(pBots)
	h.CustomAction = r.flag(pCA)
	h.Consent = r.flag(pConsent)
	var plugins []string
	for p := pCookie; p <= pAg; p++ {
		if r.flag(p) {
			plugins = append(plugins, paramNames[p])
		}
	}
	h.Plugins = strings.Join(plugins, ",")

	h.Link = r.text(pLink, maxURLLen)
	h.Download = r.text(pDownload, maxURLLen)

	if r.has[pSearch] {
		h.IsSearch = true
		h.Search = r.text(pSearch, maxTextLen)
		h.SearchCategory = r.text(pSearchCat, maxTextLen)
		h.SearchCount = event.Clamp32(r.integer(pSearchCount, 0, math.MaxInt32, -1))
	}

	h.EventCategory = r.text(pEventCategory, maxTextLen)
	h.EventAction = r.text(pEventAction, maxTextLen)
	h.EventName = r.text(pEventName, maxTextLen)
	h.EventValue, h.HasEventValue = r.number(pEventValue, -maxMoney, maxMoney)
	if (h.EventCategory == "") != (h.EventAction == "") && (h.EventCategory != "" || h.EventAction != "") {
		r.fail(bad("events need both e_c and e_a"))
	}

	h.ContentName = r.text(pContentName, maxTextLen)
	h.ContentPiece = r.text(pContentPiece, maxTextLen)
	h.ContentTarget = r.text(pContentTarget, maxURLLen)
	h.ContentInteraction = r.text(pContentInteraction, maxTextLen)

	h.GoalID = event.Clamp32(r.integer(pIDGoal, 0, math.MaxInt32, -1))
	h.Revenue, h.HasRevenue = r.number(pRevenue, -maxMoney, maxMoney)
	h.OrderID = r.text(pEcID, maxTextLen)
	h.Subtotal, _ = r.number(pEcSt, -maxMoney, maxMoney)
	h.Tax, _ = r.number(pEcTx, -maxMoney, maxMoney)
	h.Shipping, _ = r.number(pEcSh, -maxMoney, maxMoney)
	h.Discount, _ = r.number(pEcDt, -maxMoney, maxMoney)
	if raw := r.text(pEcItems, maxParamLen); raw != "" {
		items, err := decodeItems(raw)
		if err != nil {
			r.fail(err)
		}
		h.Items, h.HasItems = items, true
	}
	h.ProductSKU = r.text(pProductSKU, maxTextLen)
	h.ProductName = r.text(pProductName, maxTextLen)
	if raw := r.text(pProductCategory, maxTextLen*5); raw != "" {
		h.ProductCategory = decodeCategories(raw)
	}
	h.ProductPrice, _ = r.number(pProductPrice, -maxMoney, maxMoney)

	for i := range h.Perf {
		h.Perf[i] = event.Clamp32(r.integer(pPfNet+param(i), 0, 3600_000, -1))
	}

	for name, vals := range ps.rest {
		if n, ok := dimensionID(name); ok {
			if val := r.clean(name, vals[0], maxTextLen); val != "" {
				if h.Dimensions == nil {
					h.Dimensions = map[int]string{}
				}
				h.Dimensions[n] = val
			}
			continue
		}
		for _, prefix := range extraKeys {
			if strings.HasPrefix(name, prefix) {
				if val := r.clean(name, vals[0], maxURLLen); val != "" {
					if h.Extra == nil {
						h.Extra = map[string]string{}
					}
					h.Extra[name] = val
				}
				break
			}
		}
	}
	if raw := r.text(pVisitCvar, maxParamLen); raw != "" {
		h.VisitVars = decodeCustomVars(raw)
	}
	if raw := r.text(pPageCvar, maxParamLen); raw != "" {
		h.PageVars = decodeCustomVars(raw)
	}

	h.AttributionCampaign = r.text(pAttrCampaign, maxTextLen)
	h.AttributionKeyword = r.text(pAttrKeyword, maxTextLen)
	h.AttributionReferrer = r.text(pAttrReferrer, maxURLLen)

	h.TokenAuth = r.text(pTokenAuth, 128)
	h.ClientIP = r.text(pCIP, 64)
	h.Country = strings.ToLower(r.text(pCountry, 8))
	h.Region = r.text(pRegion, 16)
	h.City = r.text(pCity, 256)
	lat, hasLat := r.number(pLat, -90, 90)
	long, hasLong := r.number(pLong, -180, 180)
	if hasLat && hasLong {
		h.Lat, h.Long, h.HasLatLong = lat, long, true
	}

	if raw := strings.TrimSpace(r.vals[pCdt]); raw != "" {
		t, err := parseCustomTime(raw)
		if err != nil {
			r.fail(err)
		} else {
			h.CustomTime = t
		}
	} else if raw := strings.TrimSpace(r.vals[pCdo]); raw != "" {
		secs := r.integer(pCdo, 0, 20*365*86400, 0)
		if secs > 0 {
			h.CustomTime = now.Add(-time.Duration(secs) * time.Second)
		}
	}
	if !h.CustomTime.IsZero() {
		if h.CustomTime.After(now.Add(time.Minute)) {
			r.fail(bad("cdt is in the future"))
		}
		if h.CustomTime.Before(now.AddDate(-20, 0, 0)) {
			r.fail(bad("cdt is more than 20 years old"))
		}
	}
	if r.err != nil {
		return h, r.err
	}
	return h, nil
}

func parseCustomTime(raw string) (time.Time, error) {
	if f, err := strconv.ParseFloat(raw, 64); err == nil {
		if math.IsNaN(f) || math.IsInf(f, 0) || f < 0 || f > 1e11 {
			return time.Time{}, bad("cdt is out of range")
		}
		sec, frac := math.Modf(f)
		return time.Unix(int64(sec), int64(frac*1e9)).UTC(), nil
	}
	for _, layout := range []string{"2006-01-02 15:04:05", "2006-01-02T15:04:05Z07:00", "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, raw); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, bad("cdt is not a date-time (YYYY-MM-DD HH:MM:SS or a Unix timestamp)")
}

// decodeItems parses ec_items: [[sku, name, category, price, quantity], ...].
func decodeItems(raw string) ([]event.Item, error) {
	var rows [][]any
	if err := json.Unmarshal([]byte(raw), &rows); err != nil {
		// Matomo also accepts an object keyed by index.
		var obj map[string][]any
		if err2 := json.Unmarshal([]byte(raw), &obj); err2 != nil {
			return nil, bad("ec_items is not valid JSON")
		}
		keys := make([]int, 0, len(obj))
		for k := range obj {
			n, err := strconv.Atoi(k)
			if err != nil {
				return nil, bad("ec_items is not valid JSON")
			}
			keys = append(keys, n)
		}
		sortInts(keys)
		for _, k := range keys {
			rows = append(rows, obj[strconv.Itoa(k)])
		}
	}
	if len(rows) > maxItems {
		return nil, bad("ec_items has more than %d items", maxItems)
	}
	items := make([]event.Item, 0, len(rows))
	for _, row := range rows {
		if len(row) == 0 {
			continue
		}
		it := event.Item{Quantity: 1}
		it.SKU = truncate(anyString(row[0]), maxTextLen)
		if it.SKU == "" {
			return nil, bad("ec_items: an item has no SKU")
		}
		if len(row) > 1 {
			it.Name = truncate(anyString(row[1]), maxTextLen)
		}
		if len(row) > 2 {
			switch c := row[2].(type) {
			case []any:
				for _, e := range c {
					if s := anyString(e); s != "" && len(it.Categories) < 5 {
						it.Categories = append(it.Categories, truncate(s, maxTextLen))
					}
				}
			default:
				if s := anyString(c); s != "" {
					it.Categories = decodeCategories(s)
				}
			}
		}
		if len(row) > 3 {
			if f, ok := anyNumber(row[3]); ok && math.Abs(f) <= maxMoney {
				it.Price = f
			}
		}
		if len(row) > 4 {
			if f, ok := anyNumber(row[4]); ok && f >= 0 && f <= 1e9 {
				it.Quantity = int64(f)
			}
		}
		items = append(items, it)
	}
	return items, nil
}

func sortInts(a []int) {
	for i := 1; i < len(a); i++ {
		for j := i; j > 0 && a[j] < a[j-1]; j-- {
			a[j], a[j-1] = a[j-1], a[j]
		}
	}
}

// decodeCategories accepts a plain category or a JSON array of up to five.
func decodeCategories(raw string) []string {
	if strings.HasPrefix(raw, "[") {
		var list []any
		if json.Unmarshal([]byte(raw), &list) == nil {
			var out []string
			for _, e := range list {
				if s := anyString(e); s != "" && len(out) < 5 {
					out = append(out, truncate(s, maxTextLen))
				}
			}
			return out
		}
	}
	return []string{truncate(raw, maxTextLen)}
}

// decodeCustomVars parses {"1":["name","value"],...} into name→value; malformed input is ignored.
func decodeCustomVars(raw string) map[string]string {
	var m map[string][]any
	if json.Unmarshal([]byte(raw), &m) != nil {
		return nil
	}
	out := map[string]string{}
	for _, pair := range m {
		if len(pair) == 2 && len(out) < 20 {
			if k := anyString(pair[0]); k != "" {
				out[truncate(k, 200)] = truncate(anyString(pair[1]), 200)
			}
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

func anyString(v any) string {
	switch x := v.(type) {
	case string:
		if !utf8.ValidString(x) {
			return ""
		}
		return strings.TrimSpace(x)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	}
	return ""
}

func anyNumber(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, !math.IsNaN(x) && !math.IsInf(x, 0)
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(x), 64)
		return f, err == nil && !math.IsNaN(f) && !math.IsInf(f, 0)
	}
	return 0, false
}
