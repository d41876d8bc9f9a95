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

type reader struct {
	v   url.Values
	err error
}

func (r *reader) fail(err error) {
	if r.err == nil {
		r.err = err
	}
}

func (r *reader) text(name string, limit int) string {
	s := r.v.Get(name)
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

func (r *reader) flag(name string) bool {
	return r.v.Get(name) == "1" || strings.EqualFold(r.v.Get(name), "true")
}

func (r *reader) number(name string, min, max float64) (float64, bool) {
	s := strings.TrimSpace(r.v.Get(name))
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

func (r *reader) integer(name string, min, max int64, absent int64) int64 {
	s := strings.TrimSpace(r.v.Get(name))
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
	if len(v) > maxParams {
		return Hit{}, bad("too many parameters (%d)", len(v))
	}
	r := &reader{v: v}
	h := Hit{LocalHour: -1, LocalMinute: -1, LocalSecond: -1, SearchCount: -1, GoalID: -1, SendImage: true}
	h.Perf = [6]int32{-1, -1, -1, -1, -1, -1}

	site := strings.TrimSpace(v.Get("idsite"))
	if site == "" {
		return h, bad("idsite is missing")
	}
	id, err := strconv.ParseInt(site, 10, 64)
	if err != nil || id <= 0 || id > math.MaxInt32 {
		return h, bad("idsite is not a valid site id")
	}
	h.SiteID = event.SiteID(id)
	h.Record = r.flag("rec")
	h.SendImage = v.Get("send_image") != "0"

	h.URL = r.text("url", maxURLLen)
	h.Title = r.text("action_name", maxTextLen)
	h.Referrer = r.text("urlref", maxURLLen)
	h.VisitorID = r.text("_id", 64)
	if h.VisitorID != "" && !hex16.MatchString(h.VisitorID) {
		// Matomo ignores a malformed _id rather than failing the hit.
		h.VisitorID = ""
	}
	h.ForcedID = r.text("cid", 64)
	if h.ForcedID != "" && !hex16.MatchString(h.ForcedID) {
		return h, bad("cid must be 16 hexadecimal characters")
	}
	h.UserID = r.text("uid", maxTextLen)
	h.NewVisit = r.flag("new_visit")
	h.PageViewID = r.text("pv_id", 32)
	h.LocalHour = int(r.integer("h", 0, 23, -1))
	h.LocalMinute = int(r.integer("m", 0, 59, -1))
	h.LocalSecond = int(r.integer("s", 0, 59, -1))
	h.Resolution = r.text("res", 32)
	h.Language = r.text("lang", 256)
	h.UserAgent = r.text("ua", maxTextLen)
	h.UAData = r.text("uadata", 4096)
	if h.UAData != "" && !json.Valid([]byte(h.UAData)) {
		r.fail(bad("uadata is not valid JSON"))
	}
	h.Ping = r.flag("ping")
	h.Bot = r.flag("bots")
	h.CustomAction = r.flag("ca")
	h.Consent = r.flag("consent")
	var plugins []string
	for _, p := range []string{"cookie", "fla", "java", "qt", "realp", "pdf", "wma", "ag"} {
		if r.flag(p) {
			plugins = append(plugins, p)
		}
	}
	h.Plugins = strings.Join(plugins, ",")

	h.Link = r.text("link", maxURLLen)
	h.Download = r.text("download", maxURLLen)

	if _, ok := v["search"]; ok {
		h.IsSearch = true
		h.Search = r.text("search", maxTextLen)
		h.SearchCategory = r.text("search_cat", maxTextLen)
		h.SearchCount = event.Clamp32(r.integer("search_count", 0, math.MaxInt32, -1))
	}

	h.EventCategory = r.text("e_c", maxTextLen)
	h.EventAction = r.text("e_a", maxTextLen)
	h.EventName = r.text("e_n", maxTextLen)
	h.EventValue, h.HasEventValue = r.number("e_v", -maxMoney, maxMoney)
	if (h.EventCategory == "") != (h.EventAction == "") && (h.EventCategory != "" || h.EventAction != "") {
		r.fail(bad("events need both e_c and e_a"))
	}

	h.ContentName = r.text("c_n", maxTextLen)
	h.ContentPiece = r.text("c_p", maxTextLen)
	h.ContentTarget = r.text("c_t", maxURLLen)
	h.ContentInteraction = r.text("c_i", maxTextLen)

	h.GoalID = event.Clamp32(r.integer("idgoal", 0, math.MaxInt32, -1))
	h.Revenue, h.HasRevenue = r.number("revenue", -maxMoney, maxMoney)
	h.OrderID = r.text("ec_id", maxTextLen)
	h.Subtotal, _ = r.number("ec_st", -maxMoney, maxMoney)
	h.Tax, _ = r.number("ec_tx", -maxMoney, maxMoney)
	h.Shipping, _ = r.number("ec_sh", -maxMoney, maxMoney)
	h.Discount, _ = r.number("ec_dt", -maxMoney, maxMoney)
	if raw := r.text("ec_items", maxParamLen); raw != "" {
		items, err := decodeItems(raw)
		if err != nil {
			r.fail(err)
		}
		h.Items, h.HasItems = items, true
	}
	h.ProductSKU = r.text("_pks", maxTextLen)
	h.ProductName = r.text("_pkn", maxTextLen)
	if raw := r.text("_pkc", maxTextLen*5); raw != "" {
		h.ProductCategory = decodeCategories(raw)
	}
	h.ProductPrice, _ = r.number("_pkp", -maxMoney, maxMoney)

	for i, name := range []string{"pf_net", "pf_srv", "pf_tfr", "pf_dm1", "pf_dm2", "pf_onl"} {
		h.Perf[i] = event.Clamp32(r.integer(name, 0, 3600_000, -1))
	}

	for name := range v {
		if n, ok := dimensionID(name); ok {
			if val := r.text(name, maxTextLen); val != "" {
				if h.Dimensions == nil {
					h.Dimensions = map[int]string{}
				}
				h.Dimensions[n] = val
			}
			continue
		}
		for _, prefix := range extraKeys {
			if strings.HasPrefix(name, prefix) {
				if val := r.text(name, maxURLLen); val != "" {
					if h.Extra == nil {
						h.Extra = map[string]string{}
					}
					h.Extra[name] = val
				}
				break
			}
		}
	}
	if raw := r.text("_cvar", maxParamLen); raw != "" {
		h.VisitVars = decodeCustomVars(raw)
	}
	if raw := r.text("cvar", maxParamLen); raw != "" {
		h.PageVars = decodeCustomVars(raw)
	}

	h.AttributionCampaign = r.text("_rcn", maxTextLen)
	h.AttributionKeyword = r.text("_rck", maxTextLen)
	h.AttributionReferrer = r.text("_ref", maxURLLen)

	h.TokenAuth = r.text("token_auth", 128)
	h.ClientIP = r.text("cip", 64)
	h.Country = strings.ToLower(r.text("country", 8))
	h.Region = r.text("region", 16)
	h.City = r.text("city", 256)
	lat, hasLat := r.number("lat", -90, 90)
	long, hasLong := r.number("long", -180, 180)
	if hasLat && hasLong {
		h.Lat, h.Long, h.HasLatLong = lat, long, true
	}

	if raw := strings.TrimSpace(v.Get("cdt")); raw != "" {
		t, err := parseCustomTime(raw)
		if err != nil {
			r.fail(err)
		} else {
			h.CustomTime = t
		}
	} else if raw := strings.TrimSpace(v.Get("cdo")); raw != "" {
		secs := r.integer("cdo", 0, 20*365*86400, 0)
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
