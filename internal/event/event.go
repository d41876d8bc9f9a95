// Package event is Hearth's vocabulary: the typed values that flow from collection through
// ingest into the stores and out to reports. It depends on the standard library only.
package event

import (
	"encoding/hex"
	"fmt"
	"time"
)

// SiteID identifies a tracked website or app.
type SiteID int64

// VisitID identifies one visit. It is unique across nodes: the high bits are the visit's
// start time in milliseconds, the low bits random.
type VisitID int64

// VisitorID is the 8-byte visitor identifier Matomo shows as 16 hex characters.
type VisitorID [8]byte

// String renders the identifier as 16 lower-case hex characters.
func (v VisitorID) String() string { return hex.EncodeToString(v[:]) }

// IsZero reports whether the identifier is unset.
func (v VisitorID) IsZero() bool { return v == VisitorID{} }

// ParseVisitorID parses 16 hex characters.
func ParseVisitorID(s string) (VisitorID, error) {
	var v VisitorID
	if len(s) != 16 {
		return v, fmt.Errorf("visitor id must be 16 hex characters, got %d", len(s))
	}
	if _, err := hex.Decode(v[:], []byte(s)); err != nil {
		return v, fmt.Errorf("visitor id must be hex")
	}
	return v, nil
}

// ActionType is the kind of an action within a visit.
type ActionType uint8

// Action types. The numbers are stored: never renumber.
const (
	ActionPageview   ActionType = 1
	ActionDownload   ActionType = 2
	ActionOutlink    ActionType = 3
	ActionSearch     ActionType = 4
	ActionEvent      ActionType = 5
	ActionContent    ActionType = 6
	ActionGoal       ActionType = 7
	ActionOrder      ActionType = 8
	ActionCartUpdate ActionType = 9
	ActionMedia      ActionType = 10
	ActionCrash      ActionType = 11
)

// String is the Matomo name of the action type as shown in visitor logs.
func (t ActionType) String() string {
	switch t {
	case ActionPageview:
		return "action"
	case ActionDownload:
		return "download"
	case ActionOutlink:
		return "outlink"
	case ActionSearch:
		return "search"
	case ActionEvent:
		return "event"
	case ActionContent:
		return "content"
	case ActionGoal:
		return "goal"
	case ActionOrder:
		return "ecommerceOrder"
	case ActionCartUpdate:
		return "ecommerceAbandonedCart"
	case ActionMedia:
		return "media"
	case ActionCrash:
		return "crash"
	}
	return "unknown"
}

// ReferrerType is Matomo's referrer classification; the numbers are Matomo's.
type ReferrerType uint8

// Referrer types with Matomo's numeric codes.
const (
	ReferrerDirect   ReferrerType = 1
	ReferrerSearch   ReferrerType = 2
	ReferrerWebsite  ReferrerType = 3
	ReferrerCampaign ReferrerType = 6
	ReferrerSocial   ReferrerType = 7
)

// String is the Matomo segment name of the referrer type.
func (r ReferrerType) String() string {
	switch r {
	case ReferrerSearch:
		return "search"
	case ReferrerWebsite:
		return "website"
	case ReferrerCampaign:
		return "campaign"
	case ReferrerSocial:
		return "social"
	}
	return "direct"
}

// EcommerceStatus is the visit's ecommerce outcome (Matomo's visitEcommerceStatus).
type EcommerceStatus uint8

// Ecommerce statuses.
const (
	EcommerceNone                     EcommerceStatus = 0
	EcommerceOrdered                  EcommerceStatus = 1
	EcommerceAbandonedCart            EcommerceStatus = 2
	EcommerceOrderedThenAbandonedCart EcommerceStatus = 3
)

// String is the Matomo name of the status.
func (s EcommerceStatus) String() string {
	switch s {
	case EcommerceOrdered:
		return "ordered"
	case EcommerceAbandonedCart:
		return "abandonedCart"
	case EcommerceOrderedThenAbandonedCart:
		return "orderedThenAbandonedCart"
	}
	return "none"
}

// Item is one ecommerce line item of an order or cart.
type Item struct {
	SKU        string   `json:"sku"`
	Name       string   `json:"name,omitempty"`
	Categories []string `json:"categories,omitempty"`
	Price      float64  `json:"price"`
	Quantity   int64    `json:"quantity"`
}

// Device is what enrichment learnt about the visitor's device and software.
type Device struct {
	Type           string `json:"type,omitempty"` // Matomo names: desktop, smartphone, tablet, ...
	Brand          string `json:"brand,omitempty"`
	Model          string `json:"model,omitempty"`
	OS             string `json:"os,omitempty"` // Matomo OS family name, e.g. "Windows"
	OSVersion      string `json:"os_version,omitempty"`
	Browser        string `json:"browser,omitempty"` // e.g. "Chrome"
	BrowserVersion string `json:"browser_version,omitempty"`
	Engine         string `json:"engine,omitempty"`
	EngineVersion  string `json:"engine_version,omitempty"`
}

// Referrer is the classified origin of a visit.
type Referrer struct {
	Type    ReferrerType `json:"type"`
	Name    string       `json:"name,omitempty"`    // search engine, social network, website host or campaign name
	Keyword string       `json:"keyword,omitempty"` // search keyword or campaign keyword
	URL     string       `json:"url,omitempty"`
}

// Campaign holds the campaign dimensions read from URL parameters.
type Campaign struct {
	Name    string `json:"name,omitempty"`
	Keyword string `json:"keyword,omitempty"`
	Source  string `json:"source,omitempty"`
	Medium  string `json:"medium,omitempty"`
	Content string `json:"content,omitempty"`
	ID      string `json:"id,omitempty"`
	Group   string `json:"group,omitempty"`
	Place   string `json:"placement,omitempty"`
}

// IsZero reports whether no campaign parameter was present.
func (c Campaign) IsZero() bool { return c == Campaign{} }

// Location is the geolocation of a visit at the precision the site allows.
type Location struct {
	Country string  `json:"country,omitempty"` // lower-case ISO 3166-1 alpha-2
	Region  string  `json:"region,omitempty"`  // ISO 3166-2 subdivision code without the country
	City    string  `json:"city,omitempty"`
	Lat     float64 `json:"lat,omitempty"`
	Lon     float64 `json:"lon,omitempty"`
}

// Visit is one visit as stored: visit-level dimensions and counters, updated as actions arrive.
type Visit struct {
	SiteID         SiteID            `json:"site"`
	ID             VisitID           `json:"id"`
	VisitorID      VisitorID         `json:"visitor"`
	UserID         string            `json:"user_id,omitempty"` // keyed pseudonym of the tracker's uid
	First          time.Time         `json:"first"`
	Last           time.Time         `json:"last"`
	VisitCount     int32             `json:"visit_count"` // 1 for the visitor's first visit
	Returning      bool              `json:"returning"`
	DaysSinceLast  int32             `json:"days_since_last"`
	DaysSinceFirst int32             `json:"days_since_first"`
	DaysSinceOrder int32             `json:"days_since_order"`
	IP             string            `json:"ip,omitempty"` // truncated; never the full address
	Referrer       Referrer          `json:"referrer"`
	Campaign       Campaign          `json:"campaign"`
	Device         Device            `json:"device"`
	Location       Location          `json:"location"`
	Resolution     string            `json:"resolution,omitempty"`
	Language       string            `json:"language,omitempty"` // e.g. "en-gb"
	LocalTime      int32             `json:"local_time"`         // seconds after local midnight of the first action, -1 unknown
	Plugins        string            `json:"plugins,omitempty"`  // Matomo feature flags present, e.g. "cookie,pdf"
	EntryURL       string            `json:"entry_url,omitempty"`
	EntryTitle     string            `json:"entry_title,omitempty"`
	ExitURL        string            `json:"exit_url,omitempty"`
	ExitTitle      string            `json:"exit_title,omitempty"`
	ExitTime       time.Time         `json:"exit_time"` // time of the exit page view
	Actions        int32             `json:"actions"`
	Pageviews      int32             `json:"pageviews"`
	Searches       int32             `json:"searches"`
	Events         int32             `json:"events"`
	Downloads      int32             `json:"downloads"`
	Outlinks       int32             `json:"outlinks"`
	Contents       int32             `json:"contents"`
	Interactions   int32             `json:"interactions"`
	Conversions    int32             `json:"conversions"`
	Revenue        float64           `json:"revenue"`
	Ecommerce      EcommerceStatus   `json:"ecommerce"`
	Dimensions     map[int]string    `json:"dimensions,omitempty"` // visit-scope custom dimensions
	CustomVars     map[string]string `json:"custom_vars,omitempty"`
	Consent        bool              `json:"consent,omitempty"`
}

// Duration is the visit length in seconds, as Matomo computes it.
func (v *Visit) Duration() int64 { return int64(v.Last.Sub(v.First) / time.Second) }

// Action is one tracked interaction within a visit. Only the fields of its Type are set.
type Action struct {
	SiteID     SiteID     `json:"site"`
	VisitID    VisitID    `json:"visit"`
	VisitorID  VisitorID  `json:"visitor"`
	Time       time.Time  `json:"time"`
	Index      int32      `json:"index"` // position within the visit, from 1
	Type       ActionType `json:"type"`
	URL        string     `json:"url,omitempty"`
	Title      string     `json:"title,omitempty"`
	PageViewID string     `json:"pv_id,omitempty"`
	// FirstURLInVisit and FirstTitleInVisit mark the first action of this URL or title
	// within its visit, so "unique visits per page" is a plain sum.
	FirstURLInVisit   bool `json:"first_url,omitempty"`
	FirstTitleInVisit bool `json:"first_title,omitempty"`
	// Ref* describe the previous action of the visit and the seconds spent on it, as
	// Matomo's time_spent_ref_action does.
	RefURL       string `json:"ref_url,omitempty"`
	RefTitle     string `json:"ref_title,omitempty"`
	RefTimeSpent int32  `json:"ref_time_spent,omitempty"`

	SearchKeyword  string `json:"search,omitempty"`
	SearchCategory string `json:"search_cat,omitempty"`
	SearchCount    int32  `json:"search_count"` // -1 when unknown

	EventCategory string  `json:"e_c,omitempty"`
	EventAction   string  `json:"e_a,omitempty"`
	EventName     string  `json:"e_n,omitempty"`
	EventValue    float64 `json:"e_v,omitempty"`
	HasEventValue bool    `json:"has_e_v,omitempty"`

	ContentName        string `json:"c_n,omitempty"`
	ContentPiece       string `json:"c_p,omitempty"`
	ContentTarget      string `json:"c_t,omitempty"`
	ContentInteraction string `json:"c_i,omitempty"`

	GoalID   int32   `json:"goal,omitempty"`
	Revenue  float64 `json:"revenue,omitempty"`
	OrderID  string  `json:"order_id,omitempty"`
	Subtotal float64 `json:"subtotal,omitempty"`
	Tax      float64 `json:"tax,omitempty"`
	Shipping float64 `json:"shipping,omitempty"`
	Discount float64 `json:"discount,omitempty"`
	Items    []Item  `json:"items,omitempty"`

	// Product page view (setEcommerceView).
	ProductSKU      string   `json:"product_sku,omitempty"`
	ProductName     string   `json:"product_name,omitempty"`
	ProductCategory []string `json:"product_category,omitempty"`
	ProductPrice    float64  `json:"product_price,omitempty"`

	// Page performance in milliseconds, -1 when not sent.
	PerfNetwork  int32 `json:"pf_net"`
	PerfServer   int32 `json:"pf_srv"`
	PerfTransfer int32 `json:"pf_tfr"`
	PerfDOMProc  int32 `json:"pf_dm1"`
	PerfDOMDone  int32 `json:"pf_dm2"`
	PerfOnLoad   int32 `json:"pf_onl"`

	Dimensions map[int]string    `json:"dimensions,omitempty"` // action-scope custom dimensions
	CustomVars map[string]string `json:"custom_vars,omitempty"`
	// Extra carries parameter groups stored as given (media, crash, A/B test), as JSON.
	Extra string `json:"extra,omitempty"`
}

// BotHit is one request recognised as coming from a bot, counted but kept out of visits.
type BotHit struct {
	SiteID SiteID    `json:"site"`
	Time   time.Time `json:"time"`
	Name   string    `json:"name"`
}

// Clamp32 converts to int32, saturating at the int32 range.
func Clamp32(n int64) int32 {
	if n > 2147483647 {
		return 2147483647
	}
	if n < -2147483648 {
		return -2147483648
	}
	return int32(n)
}

// Seconds32 is a duration in whole seconds as int32, never negative.
func Seconds32(d time.Duration) int32 {
	if d < 0 {
		return 0
	}
	return Clamp32(int64(d / time.Second))
}
