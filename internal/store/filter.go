package store

import (
	"strconv"
	"strings"
)

// Field names a segmentable value of the event schema, independent of any engine: each
// engine maps it to a column or expression. Visit fields describe the visit; action fields
// an action of it (the visit matches when one of its actions does); item fields an
// ecommerce item of it.
type Field string

// Visit fields.
const (
	FieldVisitorType     Field = "visit.visitor_type" // "new" or "returning"
	FieldVisitCount      Field = "visit.visit_count"
	FieldVisitorID       Field = "visit.visitor_id" // value: 16 hex characters
	FieldUserID          Field = "visit.user_id"    // value: the stored pseudonym
	FieldVisitDuration   Field = "visit.duration"   // seconds
	FieldActions         Field = "visit.actions"
	FieldConverted       Field = "visit.converted" // 0 or 1
	FieldEcommerce       Field = "visit.ecommerce" // event.EcommerceStatus
	FieldDaysSinceFirst  Field = "visit.days_since_first"
	FieldDaysSinceLast   Field = "visit.days_since_last"
	FieldReferrerType    Field = "visit.referrer_type" // event.ReferrerType
	FieldReferrerName    Field = "visit.referrer_name"
	FieldReferrerKeyword Field = "visit.referrer_keyword"
	FieldReferrerURL     Field = "visit.referrer_url"
	FieldEntryURL        Field = "visit.entry_url"
	FieldEntryTitle      Field = "visit.entry_title"
	FieldExitURL         Field = "visit.exit_url"
	FieldExitTitle       Field = "visit.exit_title"
	FieldCountry         Field = "visit.country"
	FieldRegion          Field = "visit.region"
	FieldCity            Field = "visit.city"
	FieldLanguage        Field = "visit.language"
	FieldDeviceType      Field = "visit.device_type"
	FieldDeviceBrand     Field = "visit.device_brand"
	FieldDeviceModel     Field = "visit.device_model"
	FieldOS              Field = "visit.os"
	FieldOSVersion       Field = "visit.os_version"
	FieldBrowser         Field = "visit.browser"
	FieldBrowserVersion  Field = "visit.browser_version"
	FieldResolution      Field = "visit.resolution"
	FieldLocalHour       Field = "visit.local_hour"  // the visitor's clock at the first action
	FieldServerHour      Field = "visit.server_hour" // UTC hour of the last action
	FieldCampaignName    Field = "visit.campaign_name"
	FieldCampaignKeyword Field = "visit.campaign_keyword"
	FieldCampaignSource  Field = "visit.campaign_source"
	FieldCampaignMedium  Field = "visit.campaign_medium"
	FieldCampaignContent Field = "visit.campaign_content"
	FieldCampaignID      Field = "visit.campaign_id"
	FieldCampaignGroup   Field = "visit.campaign_group"
	FieldCampaignPlace   Field = "visit.campaign_placement"
	// Grouping only.
	FieldEngine    Field = "visit.engine"
	FieldSiteHour  Field = "visit.site_hour"    // hour of the last action in the site's timezone
	FieldSiteDay   Field = "visit.site_weekday" // ISO day of week (1 = Monday) in the site's timezone
	FieldReturning Field = "visit.returning"    // "0" or "1"
	// Composite keys, parts joined by "|".
	FieldRegionKey         Field = "visit.country_region"      // country|region
	FieldCityKey           Field = "visit.country_region_city" // country|region|city
	FieldModelKey          Field = "visit.brand_model"         // brand|model
	FieldOSVersionKey      Field = "visit.os_os_version"       // os|version
	FieldBrowserVersionKey Field = "visit.browser_version_key" // browser|version
	FieldLanguagePrimary   Field = "visit.language_primary"    // "de" of "de-de"
)

// Action grouping fields.
const (
	FieldActionURL      Field = "action.url"
	FieldActionTitle    Field = "action.title"
	FieldSearchCategory Field = "action.search_category"
)

// Action fields.
const (
	FieldPageURL         Field = "action.page_url"   // URL of a pageview
	FieldPageTitle       Field = "action.page_title" // title of a pageview
	FieldActionType      Field = "action.type"       // event.ActionType
	FieldDownloadURL     Field = "action.download_url"
	FieldOutlinkURL      Field = "action.outlink_url"
	FieldSearchKeyword   Field = "action.search_keyword"
	FieldEventCategory   Field = "action.event_category"
	FieldEventAction     Field = "action.event_action"
	FieldEventName       Field = "action.event_name"
	FieldEventValue      Field = "action.event_value"
	FieldContentName     Field = "action.content_name"
	FieldContentPiece    Field = "action.content_piece"
	FieldOrderID         Field = "action.order_id"
	FieldConvertedGoal   Field = "action.goal_id" // id of a goal the visit converted
	FieldProductSKU      Field = "item.sku"
	FieldProductCategory Field = "item.category"
)

// Op is a segment comparison, as Matomo writes it.
type Op string

// Segment operators.
const (
	OpEq          Op = "=="
	OpNe          Op = "!="
	OpLe          Op = "<="
	OpGe          Op = ">="
	OpLt          Op = "<"
	OpGt          Op = ">"
	OpContains    Op = "=@"
	OpNotContains Op = "!@"
	OpStarts      Op = "=^"
	OpEnds        Op = "=$"
)

// Negative reports whether the operator excludes (!=, !@): on an action field it means "no
// action of the visit matches" rather than "some action does not".
func (o Op) Negative() bool { return o == OpNe || o == OpNotContains }

// Cond is one condition. Str holds the value of text fields (compared case-insensitively);
// Num that of numeric fields (IsNum). An empty text value with == or != tests for an empty
// or missing value.
type Cond struct {
	Field Field
	Op    Op
	Str   string
	Num   float64
	IsNum bool
}

// Filter is a segment: every group must hold (AND), and a group holds when any of its
// conditions does (OR). An empty filter keeps everything.
type Filter struct {
	And [][]Cond
}

// DimensionField is the field of custom dimension id in a scope: "visit" or "action" (for
// grouping), or "any" (for segments: the visit's value or any of its actions').
func DimensionField(scope string, id int64) Field {
	return Field(scope + ".dimension." + strconv.FormatInt(id, 10))
}

// ParseDimensionField reads a DimensionField back; ok is false for other fields.
func ParseDimensionField(f Field) (scope string, id int64, ok bool) {
	for _, sc := range []string{"visit", "action", "any"} {
		if rest, found := strings.CutPrefix(string(f), sc+".dimension."); found {
			n, err := strconv.ParseInt(rest, 10, 64)
			return sc, n, err == nil && n > 0
		}
	}
	return "", 0, false
}
