package report

import (
	"fmt"
	"math"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"hearth/internal/event"
	"hearth/internal/store"
)

// Condition is one parsed segment condition, before it is checked against the dimensions.
type Condition struct {
	Dimension string
	Op        store.Op
	Value     string // decoded
}

// Segment is a parsed segment definition: groups joined by AND (";"), each a list of
// conditions joined by OR (","), which binds tighter, as in Matomo.
type Segment struct {
	Definition string
	And        [][]Condition
}

// personal are the dimensions whose value is one person: a segment on them makes any report
// that person's history.
var personal = map[string]bool{"visitorId": true, "userId": true}

// Personal reports whether the segment has a condition on a dimension that picks out one
// visitor or one user.
func (s Segment) Personal() bool {
	for _, or := range s.And {
		for _, c := range or {
			if personal[c.Dimension] {
				return true
			}
		}
	}
	return false
}

// SegmentError is a segment that cannot be used; its text is safe to show.
type SegmentError struct{ msg string }

func (e *SegmentError) Error() string { return e.msg }

func segErr(format string, args ...any) error {
	return &SegmentError{msg: fmt.Sprintf(format, args...)}
}

// Limits on a segment definition.
const (
	MaxSegmentLength     = 8 << 10
	MaxSegmentConditions = 64
)

// operators in the order they are tried at a position (two-character ones first).
var operators = []store.Op{store.OpEq, store.OpNe, store.OpLe, store.OpGe, store.OpContains, store.OpNotContains,
	store.OpStarts, store.OpEnds, store.OpLt, store.OpGt}

// ParseSegment reads a segment definition in Matomo's syntax. Values are URL-encoded inside the
// definition (so "," and ";" in a value arrive as %2C and %3B); a definition encoded once more
// as a whole is accepted too.
func ParseSegment(def string) (Segment, error) {
	def = strings.TrimSpace(def)
	if def == "" {
		return Segment{}, nil
	}
	if len(def) > MaxSegmentLength {
		return Segment{}, segErr("The segment definition is longer than %d characters.", MaxSegmentLength)
	}
	if !strings.ContainsAny(def, "=<>!") {
		// Encoded as a whole (e.g. browserCode%3D%3DFF): decode once.
		if d, err := url.QueryUnescape(def); err == nil {
			def = d
		}
	}
	seg := Segment{Definition: def}
	n := 0
	pos := 0 // byte offset of the current condition in def
	for andPart := range strings.SplitSeq(def, ";") {
		var group []Condition
		for orPart := range strings.SplitSeq(andPart, ",") {
			c, err := parseCondition(orPart)
			if err != nil {
				return Segment{}, err
			}
			if n++; n > MaxSegmentConditions {
				return Segment{}, segErr("The segment has more than %d conditions.", MaxSegmentConditions)
			}
			// Stores hold text as UTF-8: a value that is not cannot match anything, and
			// engines refuse to bind it, so it is the client's mistake to name.
			if !utf8.ValidString(c.Value) {
				return Segment{}, segErr("The value of segment condition %d (at character %d, '%s') is not valid UTF-8 once decoded: percent-encode the value's UTF-8 bytes.",
					n, utf8.RuneCountInString(strings.ToValidUTF8(def[:pos], "?"))+1, quote(orPart))
			}
			group = append(group, c)
			pos += len(orPart) + 1
		}
		seg.And = append(seg.And, group)
	}
	return seg, nil
}

func parseCondition(s string) (Condition, error) {
	s = strings.TrimSpace(s)
	for i := 0; i < len(s); i++ {
		for _, op := range operators {
			if strings.HasPrefix(s[i:], string(op)) {
				name := strings.TrimSpace(s[:i])
				if name == "" {
					return Condition{}, segErr("The segment condition '%s' has no dimension before its operator.", quote(s))
				}
				raw := s[i+len(op):]
				v, err := url.QueryUnescape(raw)
				if err != nil {
					v = raw
				}
				return Condition{Dimension: name, Op: op, Value: v}, nil
			}
		}
	}
	return Condition{}, segErr("The segment condition '%s' is not valid: it needs an operator (==, !=, <=, >=, <, >, =@, !@, =^, =$).", quote(s))
}

// Kind of a segment dimension's values.
type valueKind int

const (
	text valueKind = iota
	number
	enum
)

// Dimension is a segment dimension: its Matomo name, what it selects, and the documentation
// API.getSegmentsMetadata lists.
type Dimension struct {
	Name     string
	Field    store.Field
	Type     string // "dimension" or "metric", as Matomo's metadata
	Category string
	Label    string
	kind     valueKind
	enum     map[string]float64 // accepted names → stored values, for enum
	// Hint lists accepted values, for the metadata and error messages.
	Hint string
}

var referrerTypes = map[string]float64{"direct": float64(event.ReferrerDirect), "search": float64(event.ReferrerSearch),
	"website": float64(event.ReferrerWebsite), "campaign": float64(event.ReferrerCampaign), "social": float64(event.ReferrerSocial)}

var ecommerceStatuses = map[string]float64{"none": float64(event.EcommerceNone), "ordered": float64(event.EcommerceOrdered),
	"abandonedCart": float64(event.EcommerceAbandonedCart), "orderedThenAbandonedCart": float64(event.EcommerceOrderedThenAbandonedCart)}

var actionTypes = map[string]float64{"pageviews": float64(event.ActionPageview), "downloads": float64(event.ActionDownload),
	"outlinks": float64(event.ActionOutlink), "sitesearches": float64(event.ActionSearch), "events": float64(event.ActionEvent),
	"contents": float64(event.ActionContent)}

// Dimensions are the segment dimensions Hearth understands, by Matomo name.
var Dimensions = func() map[string]Dimension {
	d := map[string]Dimension{}
	add := func(name string, f store.Field, kind valueKind, category, label string) {
		typ := "dimension"
		if kind == number {
			typ = "metric"
		}
		d[name] = Dimension{Name: name, Field: f, Type: typ, Category: category, Label: label, kind: kind}
	}
	addEnum := func(name string, f store.Field, values map[string]float64, category, label string) {
		names := make([]string, 0, len(values))
		for k := range values {
			names = append(names, k)
		}
		sort.Strings(names)
		d[name] = Dimension{Name: name, Field: f, Type: "dimension", Category: category, Label: label, kind: enum, enum: values,
			Hint: strings.Join(names, ", ")}
	}
	const visitors, behaviour, referrers, location, devices, actions, ecommerce, events, contents = "Visitors", "Behaviour",
		"Referrers", "Visit Location", "Devices", "Actions", "Ecommerce", "Events", "Contents"
	d["visitorType"] = Dimension{Name: "visitorType", Field: store.FieldVisitorType, Type: "dimension", Category: visitors,
		Label: "Visit type", kind: text, Hint: "new, returning"}
	add("visitCount", store.FieldVisitCount, number, visitors, "Number of visits")
	add("visitorId", store.FieldVisitorID, text, visitors, "Visitor ID")
	add("userId", store.FieldUserID, text, visitors, "User ID")
	add("visitDuration", store.FieldVisitDuration, number, behaviour, "Visit duration (in seconds)")
	add("actions", store.FieldActions, number, behaviour, "Number of actions")
	add("visitConverted", store.FieldConverted, number, visitors, "Visit converted at least one goal")
	add("visitConvertedGoalId", store.FieldConvertedGoal, number, visitors, "Visit converted a specific goal (id)")
	addEnum("visitEcommerceStatus", store.FieldEcommerce, ecommerceStatuses, ecommerce, "Visit ecommerce status at the end of the visit")
	add("daysSinceFirstVisit", store.FieldDaysSinceFirst, number, visitors, "Days since first visit")
	add("daysSinceLastVisit", store.FieldDaysSinceLast, number, visitors, "Days since last visit")
	addEnum("referrerType", store.FieldReferrerType, referrerTypes, referrers, "Channel type")
	add("referrerName", store.FieldReferrerName, text, referrers, "Referrer name")
	add("referrerKeyword", store.FieldReferrerKeyword, text, referrers, "Keyword")
	add("referrerUrl", store.FieldReferrerURL, text, referrers, "Referrer URL")
	add("entryPageUrl", store.FieldEntryURL, text, actions, "Entry page URL")
	add("entryPageTitle", store.FieldEntryTitle, text, actions, "Entry page title")
	add("exitPageUrl", store.FieldExitURL, text, actions, "Exit page URL")
	add("exitPageTitle", store.FieldExitTitle, text, actions, "Exit page title")
	d["continentCode"] = Dimension{Name: "continentCode", Field: store.FieldCountry, Type: "dimension", Category: location,
		Label: "Continent code", kind: enum, Hint: continentCodes}
	add("countryCode", store.FieldCountry, text, location, "Country code")
	add("regionCode", store.FieldRegion, text, location, "Region code")
	add("city", store.FieldCity, text, location, "City")
	add("languageCode", store.FieldLanguage, text, location, "Language code")
	add("deviceType", store.FieldDeviceType, text, devices, "Device type")
	add("deviceBrand", store.FieldDeviceBrand, text, devices, "Device brand")
	add("deviceModel", store.FieldDeviceModel, text, devices, "Device model")
	add("operatingSystemCode", store.FieldOS, text, devices, "Operating system")
	add("operatingSystemVersion", store.FieldOSVersion, text, devices, "Operating system version")
	add("browserCode", store.FieldBrowser, text, devices, "Browser")
	add("browserVersion", store.FieldBrowserVersion, text, devices, "Browser version")
	add("resolution", store.FieldResolution, text, devices, "Resolution")
	add("visitLocalHour", store.FieldLocalHour, number, visitors, "Local time (hour)")
	add("visitServerHour", store.FieldServerHour, number, visitors, "Server time (hour, UTC)")
	add("campaignName", store.FieldCampaignName, text, referrers, "Campaign name")
	add("campaignKeyword", store.FieldCampaignKeyword, text, referrers, "Campaign keyword")
	add("campaignSource", store.FieldCampaignSource, text, referrers, "Campaign source")
	add("campaignMedium", store.FieldCampaignMedium, text, referrers, "Campaign medium")
	add("campaignContent", store.FieldCampaignContent, text, referrers, "Campaign content")
	add("campaignId", store.FieldCampaignID, text, referrers, "Campaign ID")
	add("campaignGroup", store.FieldCampaignGroup, text, referrers, "Campaign group")
	add("campaignPlacement", store.FieldCampaignPlace, text, referrers, "Campaign placement")
	add("pageUrl", store.FieldPageURL, text, actions, "Page URL")
	add("pageTitle", store.FieldPageTitle, text, actions, "Page title")
	addEnum("actionType", store.FieldActionType, actionTypes, actions, "Action type")
	add("downloadUrl", store.FieldDownloadURL, text, actions, "Download URL")
	add("outlinkUrl", store.FieldOutlinkURL, text, actions, "Outlink URL")
	add("siteSearchKeyword", store.FieldSearchKeyword, text, actions, "Site search keyword")
	add("eventCategory", store.FieldEventCategory, text, events, "Event category")
	add("eventAction", store.FieldEventAction, text, events, "Event action")
	add("eventName", store.FieldEventName, text, events, "Event name")
	add("eventValue", store.FieldEventValue, number, events, "Event value")
	add("contentName", store.FieldContentName, text, contents, "Content name")
	add("contentPiece", store.FieldContentPiece, text, contents, "Content piece")
	add("orderId", store.FieldOrderID, text, ecommerce, "Order ID")
	add("productSku", store.FieldProductSKU, text, ecommerce, "Product SKU")
	add("productCategory", store.FieldProductCategory, text, ecommerce, "Product category")
	return d
}()

// Pseudonymizer turns a user ID as the tracker sent it into the stored pseudonym, so that
// userId==alice finds alice's visits without the plain ID being stored.
type Pseudonymizer func(userID string) string

// Compile checks a parsed segment against the dimensions and turns it into the store's filter.
func Compile(seg Segment, pseudonym Pseudonymizer) (store.Filter, error) {
	var f store.Filter
	total := 0
	for _, group := range seg.And {
		// A group is an OR of conditions; a condition that stands for several (continentCode)
		// is itself an AND of ORs, so the group is multiplied out into groups of its own.
		groups := [][]store.Cond{nil}
		for _, c := range group {
			terms, err := compileTerm(c, pseudonym)
			if err != nil {
				return store.Filter{}, err
			}
			// Each group meets each term: count what that makes before making it.
			size := total + len(terms)*condCount(groups) + len(groups)*condCount(terms)
			if size > MaxCompiledConditions {
				return store.Filter{}, segErr("The segment stands for more than %d conditions once continents are spelled out as countries.", MaxCompiledConditions)
			}
			next := make([][]store.Cond, 0, len(groups)*len(terms))
			for _, g := range groups {
				for _, t := range terms {
					next = append(next, append(slices.Clip(g), t...))
				}
			}
			groups = next
		}
		total += condCount(groups)
		f.And = append(f.And, groups...)
	}
	return f, nil
}

func condCount(groups [][]store.Cond) int {
	n := 0
	for _, g := range groups {
		n += len(g)
	}
	return n
}

// MaxCompiledConditions bounds the conditions a segment may stand for.
const MaxCompiledConditions = 2048

// continentCodes are the values continentCode takes, for the metadata and errors.
var continentCodes = func() string {
	codes := []string{"unk"}
	for code := range continentNames {
		codes = append(codes, code)
	}
	sort.Strings(codes)
	return strings.Join(codes, ", ")
}()

// compileTerm compiles one condition into groups that must all hold, each holding when any
// of its conditions does. Every dimension but continentCode gives one group of one.
func compileTerm(c Condition, pseudonym Pseudonymizer) ([][]store.Cond, error) {
	if c.Dimension == "continentCode" {
		return continentTerm(c)
	}
	cond, err := compileCondition(c, pseudonym)
	if err != nil {
		return nil, err
	}
	return [][]store.Cond{{cond}}, nil
}

// continentTerm spells a continent out as its countries: == is any of them (or, for "unk",
// none of the known countries), != none of them (or any known country). Countries the
// mapping does not know are on the unknown continent, as in the Continent report.
func continentTerm(c Condition) ([][]store.Cond, error) {
	if c.Op != store.OpEq && c.Op != store.OpNe {
		return nil, segErr("The segment 'continentCode' only takes == and !=.")
	}
	code := strings.ToLower(strings.TrimSpace(c.Value))
	if _, ok := continentNames[code]; !ok && code != "unk" {
		return nil, segErr("The segment 'continentCode' takes one of: %s.", continentCodes)
	}
	var countries []string
	for country, cont := range countryContinents {
		if code == "unk" || cont == code {
			countries = append(countries, country)
		}
	}
	sort.Strings(countries)
	anyOf := make([]store.Cond, len(countries))
	none := make([][]store.Cond, len(countries))
	for i, country := range countries {
		anyOf[i] = store.Cond{Field: store.FieldCountry, Op: store.OpEq, Str: country}
		none[i] = []store.Cond{{Field: store.FieldCountry, Op: store.OpNe, Str: country}}
	}
	if (c.Op == store.OpEq) == (code != "unk") {
		return [][]store.Cond{anyOf}, nil
	}
	return none, nil
}

func compileCondition(c Condition, pseudonym Pseudonymizer) (store.Cond, error) {
	d, ok := Dimensions[c.Dimension]
	if !ok {
		// dimensionN: custom dimension N, in the visit or any of its actions.
		if rest, found := strings.CutPrefix(c.Dimension, "dimension"); found {
			if n, err := strconv.ParseInt(rest, 10, 64); err == nil && n > 0 && strconv.FormatInt(n, 10) == rest {
				switch c.Op {
				case store.OpEq, store.OpNe, store.OpContains, store.OpNotContains, store.OpStarts, store.OpEnds:
					return store.Cond{Field: store.DimensionField("any", n), Op: c.Op, Str: c.Value}, nil
				}
				return store.Cond{}, segErr("The segment '%s' compares text: %s does not apply.", quote(c.Dimension), c.Op)
			}
		}
		return store.Cond{}, segErr("Segment '%s' is not a supported segment.", quote(c.Dimension))
	}
	out := store.Cond{Field: d.Field, Op: c.Op}
	ordering := c.Op == store.OpLt || c.Op == store.OpGt || c.Op == store.OpLe || c.Op == store.OpGe
	switch d.kind {
	case number:
		n, err := strconv.ParseFloat(strings.TrimSpace(c.Value), 64)
		if err != nil || math.IsNaN(n) || math.IsInf(n, 0) {
			return store.Cond{}, segErr("The segment '%s' compares numbers: '%s' is not one.", quote(c.Dimension), quote(c.Value))
		}
		switch c.Op {
		case store.OpContains, store.OpNotContains, store.OpStarts, store.OpEnds:
			return store.Cond{}, segErr("The segment '%s' compares numbers: %s does not apply.", quote(c.Dimension), c.Op)
		}
		out.Num, out.IsNum = n, true
	case enum:
		if c.Op != store.OpEq && c.Op != store.OpNe {
			return store.Cond{}, segErr("The segment '%s' only takes == and !=.", quote(c.Dimension))
		}
		v, ok := d.enum[c.Value]
		if !ok {
			return store.Cond{}, segErr("The segment '%s' takes one of: %s.", quote(c.Dimension), d.Hint)
		}
		out.Num, out.IsNum = v, true
	default:
		if ordering {
			return store.Cond{}, segErr("The segment '%s' compares text: %s does not apply.", quote(c.Dimension), c.Op)
		}
		out.Str = c.Value
		switch d.Field {
		case store.FieldVisitorType:
			if c.Op != store.OpEq && c.Op != store.OpNe || (c.Value != "new" && c.Value != "returning") {
				return store.Cond{}, segErr("The segment 'visitorType' takes == or != with new or returning.")
			}
		case store.FieldVisitorID:
			v := strings.ToLower(strings.TrimSpace(c.Value))
			if _, err := event.ParseVisitorID(v); err != nil && v != "" {
				return store.Cond{}, segErr("The segment 'visitorId' takes a visitor ID of 16 hexadecimal characters.")
			}
			out.Str = v
		case store.FieldBrowser, store.FieldOS:
			if c.Op == store.OpEq || c.Op == store.OpNe {
				out.Str = nameOfCode(d.Field, c.Value) // Matomo's short codes (FF, WIN) or names
			}
		case store.FieldUserID:
			if c.Value != "" && (c.Op == store.OpEq || c.Op == store.OpNe) && pseudonym != nil {
				out.Str = pseudonym(c.Value)
			} else if c.Value != "" {
				// Stored user IDs are keyed pseudonyms: only an exact match can find them.
				return store.Cond{}, segErr("The segment 'userId' only takes == and != with a user ID (user IDs are stored pseudonymised).")
			}
		}
	}
	return out, nil
}
