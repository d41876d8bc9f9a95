package duckdb

import (
	"fmt"
	"maps"
	"math"
	"strconv"
	"strings"

	"hearth/internal/event"
	"hearth/internal/store"
)

// visitFieldExprs are the visit fields as expressions over the visits table (alias v).
var visitFieldExprs = map[store.Field]string{
	store.FieldVisitorType:       "CASE WHEN v.is_returning THEN 'returning' ELSE 'new' END",
	store.FieldVisitCount:        "v.visit_count",
	store.FieldUserID:            "v.user_id",
	store.FieldVisitDuration:     "date_diff('second', v.first_ts, v.last_ts)",
	store.FieldActions:           "v.actions",
	store.FieldConverted:         "CAST(v.conversions > 0 AS INTEGER)",
	store.FieldEcommerce:         "v.ecommerce",
	store.FieldDaysSinceFirst:    "v.days_since_first",
	store.FieldDaysSinceLast:     "v.days_since_last",
	store.FieldReferrerType:      "v.referrer_type",
	store.FieldReferrerName:      "v.referrer_name",
	store.FieldReferrerKeyword:   "v.referrer_keyword",
	store.FieldReferrerURL:       "v.referrer_url",
	store.FieldCountry:           "v.country",
	store.FieldRegion:            "v.region",
	store.FieldCity:              "v.city",
	store.FieldLanguage:          "v.language",
	store.FieldDeviceType:        "v.device_type",
	store.FieldDeviceBrand:       "v.device_brand",
	store.FieldDeviceModel:       "v.device_model",
	store.FieldOS:                "v.os",
	store.FieldOSVersion:         "v.os_version",
	store.FieldBrowser:           "v.browser",
	store.FieldBrowserVersion:    "v.browser_version",
	store.FieldResolution:        "v.resolution",
	store.FieldLocalHour:         "CASE WHEN v.local_time >= 0 THEN v.local_time // 3600 END",
	store.FieldServerHour:        "hour(v.last_ts)",
	store.FieldCampaignName:      "v.campaign_name",
	store.FieldCampaignKeyword:   "v.campaign_keyword",
	store.FieldCampaignSource:    "v.campaign_source",
	store.FieldCampaignMedium:    "v.campaign_medium",
	store.FieldCampaignContent:   "v.campaign_content",
	store.FieldCampaignID:        "v.campaign_id",
	store.FieldCampaignGroup:     "v.campaign_group",
	store.FieldCampaignPlace:     "v.campaign_placement",
	store.FieldEngine:            "v.engine",
	store.FieldReturning:         "CAST(v.is_returning AS INTEGER)",
	store.FieldRegionKey:         "concat_ws('|', coalesce(v.country, ''), coalesce(v.region, ''))",
	store.FieldCityKey:           "concat_ws('|', coalesce(v.country, ''), coalesce(v.region, ''), coalesce(v.city, ''))",
	store.FieldModelKey:          "concat_ws('|', coalesce(v.device_brand, ''), coalesce(v.device_model, ''))",
	store.FieldOSVersionKey:      "concat_ws('|', coalesce(v.os, ''), coalesce(v.os_version, ''))",
	store.FieldBrowserVersionKey: "concat_ws('|', coalesce(v.browser, ''), coalesce(v.browser_version, ''))",
	store.FieldLanguagePrimary:   "split_part(coalesce(v.language, ''), '-', 1)",
}

// visitDictColumns are visit fields stored as dictionary ids.
var visitDictColumns = map[store.Field]string{
	store.FieldEntryURL:   "v.entry_url_id",
	store.FieldEntryTitle: "v.entry_title_id",
	store.FieldExitURL:    "v.exit_url_id",
	store.FieldExitTitle:  "v.exit_title_id",
}

// groupDictColumns are the visit fields reports group by dictionary id: the dictionary
// columns and the referrer name, whose text segments compare (v.referrer_name) but whose id
// groups several times faster.
var groupDictColumns = func() map[store.Field]string {
	m := maps.Clone(visitDictColumns)
	m[store.FieldReferrerName] = "v.referrer_name_id"
	return m
}()

// actionColumns are action fields: an expression over the actions table (alias a), a
// dictionary-id column (dict) or not, and the action type they need (0: any).
var actionColumns = map[store.Field]struct {
	expr  string
	dict  bool
	atype event.ActionType
}{
	store.FieldPageURL:       {"a.url_id", true, event.ActionPageview},
	store.FieldPageTitle:     {"a.title_id", true, event.ActionPageview},
	store.FieldActionType:    {"a.type", false, 0},
	store.FieldDownloadURL:   {"a.url_id", true, event.ActionDownload},
	store.FieldOutlinkURL:    {"a.url_id", true, event.ActionOutlink},
	store.FieldSearchKeyword: {"a.search_keyword", false, event.ActionSearch},
	store.FieldEventCategory: {"a.event_category", false, event.ActionEvent},
	store.FieldEventAction:   {"a.event_action", false, event.ActionEvent},
	store.FieldEventName:     {"a.event_name", false, event.ActionEvent},
	store.FieldEventValue:    {"a.event_value", false, event.ActionEvent},
	store.FieldContentName:   {"a.content_name", false, event.ActionContent},
	store.FieldContentPiece:  {"a.content_piece", false, event.ActionContent},
	store.FieldOrderID:       {"a.order_id", false, 0},
	store.FieldConvertedGoal: {"a.goal_id", false, event.ActionGoal},
}

// segmentSQL turns a filter into a condition on the visits table (alias v), with every value
// bound as a parameter.
func segmentSQL(f store.Filter) (string, []any, error) {
	var parts []string
	var args []any
	for _, group := range f.And {
		var ors []string
		for _, c := range group {
			sql, a, err := condSQL(c)
			if err != nil {
				return "", nil, err
			}
			ors = append(ors, sql)
			args = append(args, a...)
		}
		parts = append(parts, "("+strings.Join(ors, " OR ")+")")
	}
	if len(parts) == 0 {
		return "TRUE", nil, nil
	}
	return strings.Join(parts, " AND "), args, nil
}

// storedLower are visit fields ingest stores in lower case: text conditions compare them
// directly (which zone maps can use) instead of lower-casing every row.
var storedLower = map[store.Field]bool{store.FieldCountry: true, store.FieldLanguage: true, store.FieldDeviceType: true}

func condSQL(c store.Cond) (string, []any, error) {
	if expr, ok := visitFieldExprs[c.Field]; ok {
		if storedLower[c.Field] && !c.IsNum {
			c.Str = strings.ToLower(c.Str)
			return compareLower(expr, c)
		}
		return compare(expr, c)
	}
	if col, ok := visitDictColumns[c.Field]; ok {
		return dictCompare(col, c)
	}
	if c.Field == store.FieldVisitorID {
		return visitorCompare(c)
	}
	if scope, id, ok := store.ParseDimensionField(c.Field); ok && scope == "any" {
		return dimensionCompare(id, c)
	}
	// Action and item fields: the visit has (or, for != and !@ with a value, has no) action
	// or item that matches.
	positive := c
	exists := "EXISTS"
	if c.Op.Negative() && c.Str != "" {
		exists = "NOT EXISTS"
		positive.Op = map[store.Op]store.Op{store.OpNe: store.OpEq, store.OpNotContains: store.OpContains}[c.Op]
	}
	if ac, ok := actionColumns[c.Field]; ok {
		var cond string
		var args []any
		var err error
		if ac.dict {
			cond, args, err = dictCompare(ac.expr, positive)
		} else {
			cond, args, err = compare(ac.expr, positive)
		}
		if err != nil {
			return "", nil, err
		}
		if ac.atype != 0 {
			cond = fmt.Sprintf("a.type = %d AND %s", ac.atype, cond)
		}
		return exists + " (SELECT 1 FROM actions a WHERE a.site_id = v.site_id AND a.visit_id = v.visit_id AND " + cond + ")", args, nil
	}
	var cond string
	var args []any
	var err error
	switch c.Field {
	case store.FieldProductSKU:
		cond, args, err = compare("i.sku", positive)
	case store.FieldProductCategory:
		// categories is a JSON list: == looks for the quoted name in it.
		if positive.Op == store.OpEq && positive.Str != "" {
			positive.Op, positive.Str = store.OpContains, `"`+positive.Str+`"`
		}
		cond, args, err = compare("i.categories", positive)
	default:
		return "", nil, fmt.Errorf("segment field %q has no column", c.Field)
	}
	if err != nil {
		return "", nil, err
	}
	return exists + " (SELECT 1 FROM items i WHERE i.site_id = v.site_id AND i.visit_id = v.visit_id AND " + cond + ")", args, nil
}

// compare is a condition on an expression: numbers as numbers, text case-insensitively, and
// an empty text value testing for an empty or missing one.
func compare(expr string, c store.Cond) (string, []any, error) {
	if c.IsNum {
		switch c.Op {
		case store.OpEq, store.OpNe, store.OpLt, store.OpGt, store.OpLe, store.OpGe:
			op := string(c.Op)
			if c.Op == store.OpEq {
				op = "="
			}
			if c.Op == store.OpNe {
				return "(" + expr + " IS NULL OR " + expr + " <> ?)", []any{numArg(c.Num)}, nil
			}
			return expr + " " + op + " ?", []any{numArg(c.Num)}, nil
		}
		return "", nil, fmt.Errorf("operator %s does not compare numbers", c.Op)
	}
	if c.Str == "" {
		switch c.Op {
		case store.OpEq:
			return "(" + expr + " IS NULL OR CAST(" + expr + " AS VARCHAR) = '')", nil, nil
		case store.OpNe:
			return "(" + expr + " IS NOT NULL AND CAST(" + expr + " AS VARCHAR) <> '')", nil, nil
		}
	}
	return textCompare(expr, "lower(CAST("+expr+" AS VARCHAR))", "lower(?)", c)
}

// numArg binds a whole number as an integer: against a DOUBLE parameter every row of an
// integer column is converted to a double before comparing; against an integer one the
// comparison stays integral (a fraction or a huge value stays a double).
func numArg(n float64) any {
	if n == math.Trunc(n) && math.Abs(n) < 1<<53 {
		return int64(n)
	}
	return n
}

// compareLower compares a lower-case stored column with an already lower-cased value.
func compareLower(expr string, c store.Cond) (string, []any, error) {
	if c.Str == "" && (c.Op == store.OpEq || c.Op == store.OpNe) {
		return compare(expr, c)
	}
	return textCompare(expr, expr, "?", c)
}

// textCompare writes a text condition on text (the expression as compared) against value
// (the placeholder as compared); expr is the raw expression for NULL tests.
func textCompare(expr, text, value string, c store.Cond) (string, []any, error) {
	switch c.Op {
	case store.OpEq:
		return text + " = " + value, []any{c.Str}, nil
	case store.OpNe:
		return "(" + expr + " IS NULL OR " + text + " <> " + value + ")", []any{c.Str}, nil
	case store.OpContains:
		return "contains(" + text + ", " + value + ")", []any{c.Str}, nil
	case store.OpNotContains:
		return "(" + expr + " IS NULL OR NOT contains(" + text + ", " + value + "))", []any{c.Str}, nil
	case store.OpStarts:
		return "starts_with(" + text + ", " + value + ")", []any{c.Str}, nil
	case store.OpEnds:
		return "ends_with(" + text + ", " + value + ")", []any{c.Str}, nil
	}
	return "", nil, fmt.Errorf("operator %s does not compare text", c.Op)
}

// dictCompare is a condition on a dictionary-id column: the text condition runs on the
// (small) dictionary, and the column is tested for membership.
func dictCompare(col string, c store.Cond) (string, []any, error) {
	if c.Str == "" && (c.Op == store.OpEq || c.Op == store.OpNe) {
		if c.Op == store.OpEq {
			return col + " = 0", nil, nil
		}
		return col + " <> 0", nil, nil
	}
	positive := c
	in := " IN "
	if c.Op.Negative() {
		in = " NOT IN "
		positive.Op = map[store.Op]store.Op{store.OpNe: store.OpEq, store.OpNotContains: store.OpContains}[c.Op]
	}
	cond, args, err := compare("d.value", positive)
	if err != nil {
		return "", nil, err
	}
	if positive.Op == store.OpEq {
		// A URL given without its scheme matches the stored one with it.
		cond = "(" + cond + " OR lower(regexp_replace(d.value, '^https?://', '')) = lower(?))"
		args = append(args, c.Str)
	}
	return col + in + "(SELECT d.id FROM dict d WHERE " + cond + ")", args, nil
}

// visitorCompare compares visitor IDs (16 hex characters) exactly, or as text.
func visitorCompare(c store.Cond) (string, []any, error) {
	if (c.Op == store.OpEq || c.Op == store.OpNe) && c.Str != "" {
		id, err := event.ParseVisitorID(c.Str)
		if err != nil {
			return "", nil, err
		}
		op := "="
		if c.Op == store.OpNe {
			op = "<>"
		}
		return "v.visitor_id " + op + " ?", []any{visitorInt(id)}, nil
	}
	return compare("lower(lpad(hex(v.visitor_id), 16, '0'))", c)
}

// zoneOffset is the site's UTC offset at v.last_ts, in seconds, as a CASE over the zone spans.
func zoneOffset(zone []store.ZoneSpan) (string, []any) {
	if len(zone) == 0 {
		return "0", nil
	}
	if len(zone) == 1 {
		return "CAST(? AS INTEGER)", []any{zone[0].Offset}
	}
	var b strings.Builder
	var args []any
	b.WriteString("CASE")
	for i := len(zone) - 1; i > 0; i-- {
		b.WriteString(" WHEN v.last_ts >= ? THEN ?")
		args = append(args, zone[i].From.UTC(), zone[i].Offset)
	}
	b.WriteString(" ELSE ? END")
	args = append(args, zone[0].Offset)
	return b.String(), args
}

// groupKey is a grouping field as a text expression (” when missing).
func groupKey(f store.Field, zone []store.ZoneSpan) (string, []any, error) {
	switch f {
	case store.FieldSiteHour, store.FieldSiteDay:
		off, args := zoneOffset(zone)
		fn := "hour"
		if f == store.FieldSiteDay {
			fn = "isodow"
		}
		return "CAST(" + fn + "(v.last_ts + to_seconds(" + off + ")) AS VARCHAR)", args, nil
	}
	if col, ok := visitDictColumns[f]; ok {
		return "coalesce((SELECT d.value FROM dict d WHERE d.id = " + col + "), '')", nil, nil
	}
	if scope, id, ok := store.ParseDimensionField(f); ok && scope == "visit" {
		return dimensionValue("v", id), nil, nil
	}
	expr, ok := visitFieldExprs[f]
	if !ok {
		return "", nil, fmt.Errorf("cannot group by %q", f)
	}
	return "coalesce(CAST(" + expr + " AS VARCHAR), '')", nil, nil
}

// actionKeys are the action fields reports group by: a dictionary-id column (with the columns
// of the referring action and of the visit's exit and entry page, for time spent, exits and
// entries) or a text column.
var actionKeys = map[store.Field]struct{ col, ref, exit, entry string }{
	store.FieldActionURL:      {"url_id", "ref_url_id", "exit_url_id", "entry_url_id"},
	store.FieldActionTitle:    {"title_id", "ref_title_id", "exit_title_id", "entry_title_id"},
	store.FieldSearchKeyword:  {"search_keyword", "", "", ""},
	store.FieldSearchCategory: {"search_category", "", "", ""},
	store.FieldEventCategory:  {"event_category", "", "", ""},
	store.FieldEventAction:    {"event_action", "", "", ""},
	store.FieldEventName:      {"event_name", "", "", ""},
	store.FieldContentName:    {"content_name", "", "", ""},
	store.FieldContentPiece:   {"content_piece", "", "", ""},
}

// dimensionValue is a custom dimension's value in the JSON dimensions column of a table alias.
func dimensionValue(alias string, id int64) string {
	return "coalesce(json_extract_string(" + alias + ".dimensions, '$.\"" + strconv.FormatInt(id, 10) + "\"'), '')"
}

// dimensionCompare is a condition on custom dimension id: the visit's value or one of its
// actions' matches; != and !@ (and == with no value) hold when none does.
func dimensionCompare(id int64, c store.Cond) (string, []any, error) {
	positive, negate := c, false
	switch {
	case c.Str == "" && c.Op == store.OpEq:
		positive.Op, negate = store.OpNe, true // no value anywhere
	case c.Op.Negative() && c.Str != "":
		positive.Op, negate = map[store.Op]store.Op{store.OpNe: store.OpEq, store.OpNotContains: store.OpContains}[c.Op], true
	}
	visit, vargs, err := compare(dimensionValue("v", id), positive)
	if err != nil {
		return "", nil, err
	}
	action, aargs, err := compare(dimensionValue("a", id), positive)
	if err != nil {
		return "", nil, err
	}
	sql := "(" + visit + " OR EXISTS (SELECT 1 FROM actions a WHERE a.site_id = v.site_id AND a.visit_id = v.visit_id AND " + action + "))"
	if negate {
		sql = "NOT " + sql
	}
	return sql, append(vargs, aargs...), nil
}
