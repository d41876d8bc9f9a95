package collect

import (
	"math"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"
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
