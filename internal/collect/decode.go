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

	"hearth/internal/event"
)

// Limits on decoded values.
const (
	maxURLLen      = 4096
	maxTextLen     = 1024
	maxParamLen    = 64 << 10
	maxParams      = 512
	maxFormBody    = 1 << 20 // a POST body of form parameters (not bulk)
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
