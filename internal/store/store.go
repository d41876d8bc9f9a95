// Package store declares the storage contracts Hearth's services depend on: the event store
// (visits and actions, append-mostly, queried by reports) and the metadata store (sites,
// users, tokens, salts, settings). Engines live in subpackages; only the cli package picks one.
package store

import (
	"context"
	"errors"
	"time"

	"hearth/internal/event"
)

// Sentinel errors every engine returns, checked with errors.Is.
var (
	ErrNotFound = errors.New("not found")
	ErrConflict = errors.New("already exists")
	// ErrLastSuperuser refuses to disable or demote the last enabled superuser.
	ErrLastSuperuser = errors.New("the last enabled superuser cannot be disabled, demoted or deleted")
)

// Site is a tracked website or app with its settings.
type Site struct {
	ID                   event.SiteID
	Name                 string
	URLs                 []string // first is the main URL
	Timezone             string   // IANA name, e.g. "Europe/Berlin", or "UTC"
	Currency             string
	Ecommerce            bool
	SiteSearch           bool
	SearchKeywordParams  []string
	SearchCategoryParams []string
	ExcludedIPs          []string
	ExcludedQueryParams  []string
	ExcludedUserAgents   []string
	ExcludedReferrers    []string
	KeepURLFragment      bool
	ExcludeUnknownURLs   bool
	// KeepEmails turns off the replacement of e-mail addresses in tracked URLs, titles,
	// referrers, search keywords, events and custom values; off (addresses replaced) by default.
	KeepEmails   bool
	Type         string
	Group        string
	StartDate    string // YYYY-MM-DD, may be empty
	GeoPrecision string // country, region, city (default) or none
	Created      time.Time
	CreatorLogin string
}

// User is an account.
type User struct {
	Login        string
	Email        string
	PasswordHash string // argon2id PHC string
	Superuser    bool
	Disabled     bool
	Created      time.Time
}

// Grant is a role or capability a user holds on a site.
type Grant struct {
	Login     string
	SiteID    event.SiteID
	Name      string    // role (view, write, admin) or capability (view_raw)
	Expires   time.Time // zero when it does not expire
	GrantedBy string
	Created   time.Time
}

// Token is an API token; only the keyed hash of its secret is stored.
type Token struct {
	ID          int64
	Login       string
	Hash        []byte
	Description string
	Created     time.Time
	LastUsed    time.Time // zero when never used
	Expires     time.Time // zero when it does not expire
	ReadOnly    bool
	PostOnly    bool
}

// AuditEntry is one entry of the audit trail as stored.
type AuditEntry struct {
	Seq      int64
	Time     time.Time
	Actor    string
	ActorIP  string
	Action   string
	Target   string
	Outcome  string
	Details  string // JSON object
	PrevHash []byte
	Hash     []byte
}

// Session is a signed-in browser session; only a keyed hash of its cookie value is stored.
type Session struct {
	IDHash   []byte
	Login    string
	Created  time.Time
	LastSeen time.Time
}

// TOTP is a user's time-based one-time-password setup.
type TOTP struct {
	Login     string
	SecretEnc []byte // the shared secret, encrypted by the auth service
	Enabled   bool   // false while set-up awaits its first code
	LastStep  int64  // the last time step accepted: codes of it or before are refused
	Created   time.Time
}

// TimeRange is a half-open interval of instants [From, To).
type TimeRange struct{ From, To time.Time }

// ReportQuery selects the raw events a report aggregates: one site, one or more periods, and
// the visits a segment keeps.
type ReportQuery struct {
	Site event.SiteID
	// Ranges are in ascending order and do not overlap (a request's periods).
	Ranges  []TimeRange
	Segment Filter
	// Zone is the site's UTC offset over the ranges, for fields in the site's local time: each
	// span's offset holds from its From to the next span's From (DST changes make several).
	Zone []ZoneSpan
	// NoRowUniques spares the distinct visitor and user counts of grouped rows (VisitGroups,
	// ActionGroups, EventGroups), which then come back as -1: reports for years and ranges
	// carry none per row, as Matomo's do.
	NoRowUniques bool
}

// ZoneSpan is a UTC offset, in seconds, in force from an instant on.
type ZoneSpan struct {
	From   time.Time
	Offset int
}

// GroupQuery asks for visit aggregates grouped by one field (a report's rows) or two (rows
// and their subtables).
type GroupQuery struct {
	ReportQuery
	By []Field
	// Remap, when set, replaces the values of the first field by its entries (a value it
	// lacks becomes ""), e.g. countries by their continent.
	Remap map[string]string
}

// ActionQuery asks for action aggregates of given types grouped by an action field (the
// actions of the visits the segment keeps).
type ActionQuery struct {
	ReportQuery
	Types []event.ActionType
	By    Field // FieldActionURL, FieldActionTitle, FieldSearchKeyword, FieldSearchCategory, ...
	// NoResults keeps only site searches that found nothing.
	NoResults bool
	// Entries adds the entry columns (visits that began with the URL or title) when grouping
	// page views by URL or title.
	Entries bool
}

// ActionRow is one group of actions of one range.
type ActionRow struct {
	Range          int
	Key            string
	Hits           int64 // actions
	Visits         int64 // visits with at least one of them
	UniqueVisitors int64
	// TimeSpent is the time spent after these actions until the visit's next action (or,
	// for its last one, until its last heartbeat), in seconds.
	TimeSpent int64
	// ExitVisits are the visits whose last action this was.
	ExitVisits int64
	// With ActionQuery.Entries: the visits that began here, their actions, their length in
	// seconds and how many of them bounced.
	EntryVisits, EntryActions, EntryLength, EntryBounces int64
}

// EventQuery asks for aggregates of events or content actions grouped by one field and,
// as subtables, a second.
type EventQuery struct {
	ReportQuery
	Type event.ActionType // event.ActionEvent or event.ActionContent
	By   [2]Field
}

// EventRow is one group of events or content actions of one range; a first-level row has one
// key, a subtable row two.
type EventRow struct {
	Range          int
	Keys           []string
	Hits           int64 // events; content impressions and interactions
	Visits         int64
	UniqueVisitors int64
	WithValue      int64 // events with a value
	Sum, Min, Max  float64
	Interactions   int64 // content interactions (the rest of the hits are impressions)
}

// ItemQuery asks for ecommerce item aggregates by SKU, name or category: of orders, or of the
// carts visits left without ordering (their last cart update).
type ItemQuery struct {
	ReportQuery
	By        ItemKey
	Abandoned bool
}

// FunnelQuery asks how far the visits of each range (the visits the segment keeps, by the
// range of their last action) went through a funnel's steps.
type FunnelQuery struct {
	ReportQuery
	Steps []FunnelStep
}

// FunnelResult is how far the visits of one range went through a funnel: Reached[k] is the
// number of visits that did step k+1 after doing every earlier step in order, each step the
// earliest action matching it after the previous step's, in the order of the actions' time.
type FunnelResult struct {
	Reached []int64
}

// ItemKey is what item reports group by.
type ItemKey string

// Item keys.
const (
	ItemSKU      ItemKey = "sku"
	ItemName     ItemKey = "name"
	ItemCategory ItemKey = "category" // each of an item's categories
)

// ItemRow is one group of items of one range.
type ItemRow struct {
	Range    int
	Key      string
	Revenue  float64 // price × quantity
	Quantity int64
	Orders   int64 // distinct orders (or abandoned carts: visits)
	Visits   int64
}

// Goal ids of conversion rows besides a site's goals (1 and up), as Matomo numbers them.
const (
	GoalEcommerceOrder int32 = 0  // ecommerce orders
	GoalAbandonedCart  int32 = -1 // the carts visits left without ordering
	GoalAll            int32 = -2 // every goal and order together, not abandoned carts
)

// ConversionRow is the conversions of one goal in one range: of all visits (Visitor "") or
// of new or returning visits only ("new", "returning").
type ConversionRow struct {
	Range       int
	Goal        int32
	Visitor     string
	Conversions int64
	Visits      int64 // distinct visits converted
	Revenue     float64
	Items       int64 // quantity of items, for orders and abandoned carts
	Subtotal    float64
	Tax         float64
	Shipping    float64
	Discount    float64
}

// GroupRow is one group of visits of one range. A row of the first level has one key; with
// two fields, each first-level row also comes with its second-level rows (two keys). Keys
// are text; a missing value is "".
type GroupRow struct {
	Range int
	Keys  []string
	VisitTotals
}

// VisitTotals are the visit aggregates of one period (Matomo's VisitsSummary columns).
type VisitTotals struct {
	Visits         int64 // nb_visits
	UniqueVisitors int64 // nb_uniq_visitors: distinct visitor IDs, exact
	Users          int64 // nb_users: distinct user IDs
	Actions        int64 // nb_actions
	MaxActions     int64 // max_actions
	VisitLength    int64 // sum_visit_length, seconds
	Bounces        int64 // bounce_count: visits of one action
	Converted      int64 // nb_visits_converted: visits with a goal conversion
}

// CustomDimension is a custom dimension configured for a site.
type CustomDimension struct {
	ID            int64 // the N of the tracker's dimensionN parameter
	SiteID        event.SiteID
	Name          string
	Scope         string // "visit" or "action"
	Index         int    // position among the site's dimensions of its scope, from 1
	Active        bool
	CaseSensitive bool
	Created       time.Time
}

// Goal is a conversion goal configured for a site (Matomo's Goals API). Conversions are
// recorded at ingest from the goal's creation on; a deleted goal keeps its id and its
// recorded conversions but converts no more.
type Goal struct {
	ID                  int32 // idgoal, numbered per site from 1 and never reused
	SiteID              event.SiteID
	Name                string
	Description         string
	MatchAttribute      string // url, title, file, external_website, event_category, event_action, event_name, visit_duration, manually
	Pattern             string
	PatternType         string // contains, exact, regex; greater_than for visit_duration
	CaseSensitive       bool
	AllowMultiple       bool // convert on every match instead of once per visit
	Revenue             float64
	EventValueAsRevenue bool
	Deleted             bool
	Created             time.Time
}

// Funnel is an ordered list of steps a visit may take, defined for a site. A visit reaches a
// step when it did every earlier step in order; reports count them from the raw actions, so a
// funnel applies to every visit already stored from the moment it is defined.
type Funnel struct {
	ID      int64 // unique across sites; a funnel is found only on its own site
	SiteID  event.SiteID
	Name    string
	Steps   []FunnelStep
	Created time.Time
}

// FunnelStep is one step of a funnel: the actions of a kind whose value matches a pattern.
type FunnelStep struct {
	Name          string
	Kind          FunnelKind
	Match         FunnelMatch
	Pattern       string
	CaseSensitive bool
}

// FunnelKind is the value of an action a funnel step looks at.
type FunnelKind string

// Funnel step kinds.
const (
	FunnelURL           FunnelKind = "url"   // URL of a page view
	FunnelTitle         FunnelKind = "title" // title of a page view
	FunnelEventCategory FunnelKind = "event_category"
	FunnelEventAction   FunnelKind = "event_action"
	FunnelEventName     FunnelKind = "event_name"
	FunnelDownload      FunnelKind = "download" // URL of a download
	FunnelOutlink       FunnelKind = "outlink"  // URL of an outlink
)

// FunnelMatch is how a step's pattern is compared with the value: as text, case-insensitively
// unless the step is case sensitive, or as an RE2 regular expression (partial match, as Go's
// regexp.MatchString).
type FunnelMatch string

// Funnel step matches.
const (
	FunnelContains   FunnelMatch = "contains"
	FunnelExact      FunnelMatch = "exact"
	FunnelStartsWith FunnelMatch = "starts_with"
	FunnelRegex      FunnelMatch = "regex"
)

// Segment is a stored, named segment definition.
type Segment struct {
	ID          int64
	Login       string // owner
	Name        string
	Definition  string
	SiteID      event.SiteID // 0: every site
	AllUsers    bool         // shared with everyone who can view the site
	AutoArchive bool         // kept for Matomo compatibility; reports are always computed live
	Created     time.Time
	Updated     time.Time
}

// Passkey is a WebAuthn credential a user registered as a second factor.
type Passkey struct {
	ID         []byte // the credential ID
	Login      string
	Name       string // the user's label for it
	RPID       string // the relying-party ID (host) it was registered for
	Credential []byte // the credential record, encoded by the auth service
	Created    time.Time
	LastUsed   time.Time // zero until first used
}

// Meta is the metadata store.
type Meta interface {
	// SetTOTP stores (replacing) a user's TOTP setup; ErrNotFound for an unknown user.
	SetTOTP(ctx context.Context, t TOTP) error
	TOTP(ctx context.Context, login string) (TOTP, error)
	// DeleteTOTP removes a user's TOTP setup only.
	DeleteTOTP(ctx context.Context, login string) error
	// DeleteSecondFactors removes a user's TOTP setup, passkeys and recovery codes.
	DeleteSecondFactors(ctx context.Context, login string) error
	// AddPasskey stores a new passkey; ErrConflict when its ID is already registered,
	// ErrNotFound for an unknown user.
	AddPasskey(ctx context.Context, p Passkey) error
	// Passkeys lists a user's passkeys, oldest first.
	Passkeys(ctx context.Context, login string) ([]Passkey, error)
	// UpdatePasskey replaces a passkey's credential record and last use after a sign-in.
	UpdatePasskey(ctx context.Context, p Passkey) error
	// DeletePasskey removes one of a user's passkeys; ErrNotFound when they have no such one.
	DeletePasskey(ctx context.Context, login string, id []byte) error
	// HasRecoveryCodes reports whether a user has unused recovery codes.
	HasRecoveryCodes(ctx context.Context, login string) (bool, error)
	// UseTOTPStep records an accepted time step if it is newer than the last one; false means a replay.
	UseTOTPStep(ctx context.Context, login string, step int64) (bool, error)
	// SetRecoveryCodes replaces a user's recovery codes (keyed hashes).
	SetRecoveryCodes(ctx context.Context, login string, hashes [][]byte) error
	// UseRecoveryCode marks an unused code used; false when there is none such.
	UseRecoveryCode(ctx context.Context, login string, hash []byte) (bool, error)

	CreateSession(ctx context.Context, s Session) error
	Session(ctx context.Context, idHash []byte) (Session, error)
	TouchSession(ctx context.Context, idHash []byte, at time.Time) error
	DeleteSession(ctx context.Context, idHash []byte) error
	// DeleteSessions ends every session of a login (password change, disable) and returns how many.
	DeleteSessions(ctx context.Context, login string) (int, error)
	// PurgeSessions deletes sessions last seen before cutoff.
	PurgeSessions(ctx context.Context, cutoff time.Time) error

	// AppendAudit adds an entry atomically after the current last one: build receives the last
	// entry's sequence number and hash (0 and nil for the first) and returns the entry to store.
	AppendAudit(ctx context.Context, build func(prevSeq int64, prevHash []byte) (AuditEntry, error)) (AuditEntry, error)
	// AuditEntries calls fn for entries with time in [from, to) (zero means open), in sequence order.
	AuditEntries(ctx context.Context, from, to time.Time, fn func(AuditEntry) error) error
	// DeleteAuditThrough deletes the entries up to and including seq (retention only) and
	// returns how many went.
	DeleteAuditThrough(ctx context.Context, seq int64) (int, error)

	CreateSite(ctx context.Context, s Site) (event.SiteID, error)
	// UpdateSite replaces a site's settings, every field but Created and CreatorLogin.
	UpdateSite(ctx context.Context, s Site) error
	Site(ctx context.Context, id event.SiteID) (Site, error)
	// Sites lists every site by id.
	Sites(ctx context.Context) ([]Site, error)

	// CreateUser stores a new user; ErrConflict when the login exists.
	CreateUser(ctx context.Context, u User) error
	User(ctx context.Context, login string) (User, error)
	// Users lists every user by login.
	Users(ctx context.Context) ([]User, error)
	// UpdateUser replaces a user's e-mail, password hash, superuser and disabled flags. It
	// refuses (ErrLastSuperuser) a change that would leave no enabled superuser.
	UpdateUser(ctx context.Context, u User) error
	CountSuperusers(ctx context.Context) (int, error)
	// DeleteUser removes a user with their grants, tokens, sessions and second factors;
	// ErrLastSuperuser for the last one.
	DeleteUser(ctx context.Context, login string) error

	// SetRole gives a user a role on a site, replacing any other; an empty role removes it.
	// SetRole and AddCapability return ErrNotFound for an unknown user.
	SetRole(ctx context.Context, g Grant) error
	// AddCapability and RemoveCapability manage capabilities such as view_raw.
	AddCapability(ctx context.Context, g Grant) error
	RemoveCapability(ctx context.Context, login string, site event.SiteID, capability string) error
	// Grants lists a user's roles and capabilities (login "" for everyone's), expired ones
	// included, by login and site.
	Grants(ctx context.Context, login string) (roles, capabilities []Grant, err error)
	// DeleteExpiredGrants removes the roles and capabilities whose expiry is at or before now
	// and returns them.
	DeleteExpiredGrants(ctx context.Context, now time.Time) (roles, capabilities []Grant, err error)

	// CreateToken stores a token and returns its id; it fails for a hash already stored.
	CreateToken(ctx context.Context, t Token) (int64, error)
	TokenByHash(ctx context.Context, hash []byte) (Token, error)
	// TouchToken records a token's last use; it never moves back.
	TouchToken(ctx context.Context, id int64, at time.Time) error
	// Tokens lists tokens, of one user or (login "") of all, by id.
	Tokens(ctx context.Context, login string) ([]Token, error)
	DeleteToken(ctx context.Context, id int64) error
	// TokenSeenFrom records that a token was used from a client (keyed hash of its address)
	// and reports whether that was the first time.
	TokenSeenFrom(ctx context.Context, id int64, ipHash []byte, at time.Time) (bool, error)

	// Salt returns the random salt of a site's local day (YYYY-MM-DD), creating it on first
	// use; every node gets the same salt for the same day.
	Salt(ctx context.Context, site event.SiteID, day string, now time.Time) ([]byte, error)
	// PurgeSalts deletes salts created before cutoff and returns how many went.
	PurgeSalts(ctx context.Context, cutoff time.Time) (int, error)

	// RecordAuthFailure stores a failed attempt from a client (keyed hash of its IP) for a
	// login (empty when unknown, as with a bad API token).
	RecordAuthFailure(ctx context.Context, at time.Time, ipHash []byte, login string) error
	// AuthFailures counts failures since a time from one client and for one login.
	AuthFailures(ctx context.Context, since time.Time, ipHash []byte, login string) (byIP, byLogin int, err error)
	// ClearAuthFailures deletes the failures of a login (unlock) or of a client (unblock);
	// either may be empty. It returns how many went.
	ClearAuthFailures(ctx context.Context, login string, ipHash []byte) (int, error)
	// PurgeAuthFailures deletes failures older than cutoff.
	PurgeAuthFailures(ctx context.Context, cutoff time.Time) error

	// CreateCustomDimension stores a new dimension (giving it the next index of its scope on
	// the site) and returns it with its id; UpdateCustomDimension replaces name and flags.
	// CustomDimensions lists a site's dimensions by id.
	CreateCustomDimension(ctx context.Context, d CustomDimension) (CustomDimension, error)
	UpdateCustomDimension(ctx context.Context, d CustomDimension) error
	CustomDimensions(ctx context.Context, site event.SiteID) ([]CustomDimension, error)

	// CreateGoal stores a new goal with the next id of its site and returns it; UpdateGoal
	// replaces a goal's definition (not its creation time); DeleteGoal marks it deleted.
	// Goals lists a site's goals that are not deleted, by id.
	CreateGoal(ctx context.Context, g Goal) (Goal, error)
	UpdateGoal(ctx context.Context, g Goal) error
	DeleteGoal(ctx context.Context, site event.SiteID, id int32) error
	Goals(ctx context.Context, site event.SiteID) ([]Goal, error)

	// CreateFunnel stores a new funnel and returns it with its id; UpdateFunnel replaces a
	// funnel's name and steps (not its site or creation time); DeleteFunnel removes one.
	// Funnel, UpdateFunnel and DeleteFunnel find a funnel only on the site given (ErrNotFound
	// otherwise). Funnels lists a site's funnels by id.
	CreateFunnel(ctx context.Context, f Funnel) (Funnel, error)
	UpdateFunnel(ctx context.Context, f Funnel) error
	DeleteFunnel(ctx context.Context, site event.SiteID, id int64) error
	Funnel(ctx context.Context, site event.SiteID, id int64) (Funnel, error)
	Funnels(ctx context.Context, site event.SiteID) ([]Funnel, error)

	// CreateSegment stores a new segment and returns its id; UpdateSegment replaces one, all
	// but its owner and creation time.
	CreateSegment(ctx context.Context, s Segment) (int64, error)
	UpdateSegment(ctx context.Context, s Segment) error
	Segment(ctx context.Context, id int64) (Segment, error)
	// Segments lists every stored segment, oldest first.
	Segments(ctx context.Context) ([]Segment, error)
	DeleteSegment(ctx context.Context, id int64) error

	Setting(ctx context.Context, key string) (string, error)
	SetSetting(ctx context.Context, key, value string) error
	DeleteSetting(ctx context.Context, key string) error

	Ping(ctx context.Context) error
	Close() error
}

// Batch is a unit of ingest applied atomically. Seq is the highest spool sequence number it
// contains; the engine records it in the same transaction so replays skip what was applied.
type Batch struct {
	Seq     uint64
	Visits  []event.Visit // latest snapshot of every visit touched; replaces earlier ones
	Actions []event.Action
	Bots    []event.BotHit
}

// VisitorHistory is what a returning visitor's earlier visits tell about them.
type VisitorHistory struct {
	VisitCount int32
	FirstVisit time.Time
	LastVisit  time.Time
	LastOrder  time.Time // zero when they never ordered
}

// VisitQuery selects visits for the visitor log.
type VisitQuery struct {
	Sites  []event.SiteID
	From   time.Time // inclusive, on the visit's last action
	To     time.Time // exclusive
	Limit  int
	Offset int
	// WithActions fills VisitDetail.Actions.
	WithActions bool
	// MaxActions bounds the actions WithActions reads: the first MaxActions of each visit, as
	// Matomo's visitor log shows at most visitor_log_maximum_actions_per_visit; 0 reads all.
	MaxActions int
	// CountActions fills VisitDetail.StoredActions, with or without WithActions.
	CountActions bool
	// Segment keeps only the visits it selects.
	Segment Filter
}

// VisitDetail is a visit with its actions in order.
type VisitDetail struct {
	Visit   event.Visit
	Actions []event.Action
	// StoredActions is how many actions the visit has in the store (with CountActions): more
	// than len(Actions) where MaxActions cut the list.
	StoredActions int
}

// Counters are Live.getCounters figures.
type Counters struct {
	Visits          int64
	Actions         int64
	Visitors        int64
	VisitsConverted int64
}

// Events is the event store.
type Events interface {
	Apply(ctx context.Context, b Batch) error
	AppliedSeq(ctx context.Context) (uint64, error)
	// OpenVisits returns the visits whose last action is at or after since, for continuing
	// visits across a restart.
	OpenVisits(ctx context.Context, since time.Time) ([]event.Visit, error)
	VisitorHistory(ctx context.Context, site event.SiteID, visitor event.VisitorID) (VisitorHistory, bool, error)
	// EachVisitor calls fn for every visitor with history, so ingest can build its
	// in-memory filter of known visitors at start-up.
	EachVisitor(ctx context.Context, fn func(event.SiteID, event.VisitorID)) error
	Visits(ctx context.Context, q VisitQuery) ([]VisitDetail, error)
	// VisitActions fills the Actions of visits that Visits returned without them: the first
	// perVisit actions of each in order, all of them when perVisit is 0. A long visitor log
	// reads its actions this way a few visits at a time, so memory stays bounded by one read.
	VisitActions(ctx context.Context, visits []VisitDetail, perVisit int) error
	Counters(ctx context.Context, sites []event.SiteID, since time.Time, segment Filter) (Counters, error)
	BotCount(ctx context.Context, site event.SiteID, from, to time.Time) (int64, error)
	// VisitTotals aggregates the visits of a site whose last action falls in each range (as
	// Matomo assigns a visit to a period), one result per range, in order.
	VisitTotals(ctx context.Context, q ReportQuery) ([]VisitTotals, error)
	// VisitGroups aggregates the same visits grouped by fields (visit fields only).
	VisitGroups(ctx context.Context, q GroupQuery) ([]GroupRow, error)
	// ActionGroups aggregates actions by the period of their own time.
	ActionGroups(ctx context.Context, q ActionQuery) ([]ActionRow, error)
	// Conversions aggregates goal conversions, orders and abandoned carts by the period of
	// their time and goal, overall and split into new and returning visits.
	Conversions(ctx context.Context, q ReportQuery) ([]ConversionRow, error)
	// ItemGroups aggregates ecommerce items by the period of their order or cart update.
	ItemGroups(ctx context.Context, q ItemQuery) ([]ItemRow, error)
	// EventGroups aggregates events or content actions by the period of their own time.
	EventGroups(ctx context.Context, q EventQuery) ([]EventRow, error)
	// Funnel computes a funnel from the actions of each range's visits: one result per range,
	// in order, each with one count per step.
	Funnel(ctx context.Context, q FunnelQuery) ([]FunnelResult, error)
	Ping(ctx context.Context) error
	Close() error
}
