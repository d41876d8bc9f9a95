package ingest

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/maphash"
	"maps"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"hearth/internal/collect"
	"hearth/internal/event"
	"hearth/internal/goal"
	"hearth/internal/store"
)

// hitInput is a hit after filtering, enrichment and privacy processing.
type hitInput struct {
	hit         *collect.Hit
	site        *siteConf
	at          time.Time
	visitor     event.VisitorID
	config      event.VisitorID // cookieless hash, for matching when a tracker ID is unknown
	fromTracker bool
	userID      string
	pageURL     string
	campaign    event.Campaign
	ref         event.Referrer
	loc         event.Location
	device      event.Device
	ip          interface{ String() string }
	lang        string
}

type visitKey struct {
	site    event.SiteID
	visitor event.VisitorID
}

// visitState is an open visit and what assembly needs to know about it.
type visitState struct {
	visit      event.Visit
	lastURL    string
	lastTitle  string
	lastAction time.Time
	// seenURLs and seenTitles hold 64-bit hashes of the URLs and titles the visit had, for
	// "first of its kind in the visit": a visit of many long URLs keeps 8 bytes each.
	seenURLs   map[uint64]struct{}
	seenTitles map[uint64]struct{}
	count      int32 // actions recorded so far, for Action.Index
	// stableID is set once a second hit arrives with the visit's tracker visitor ID: such a
	// visitor keeps its ID, so other IDs are other people even from the same device profile.
	stableID bool
	// converted holds the goals this visit converted, for goals that convert once per visit.
	converted map[int32]bool
	// full is set once the visit holds the most actions a visit may: its further hits are
	// dropped (and the first drop logged).
	full bool
}

const shards = 64

// visitTable holds open visits, sharded by visitor so hits of one visitor are assembled in
// order while different visitors proceed in parallel.
type visitTable struct {
	timeout    time.Duration
	maxOpen    int   // open visits a shard keeps; beyond it the longest idle close early
	maxActions int32 // actions a visit takes; hits beyond them are dropped
	seed       maphash.Seed
	// ids numbers the visits this process opens: the low bits of a visit id count up from a
	// random start, so visits starting in the same millisecond (a log import's whole-second
	// cdt puts thousands there) never share an id, which would make one replace the other.
	ids   atomic.Uint32
	shard [shards]struct {
		sync.Mutex
		open     map[visitKey]*visitState
		byConfig map[visitKey]visitKey
		history  map[visitKey]store.VisitorHistory
	}
}

func newVisitTable(timeout time.Duration) *visitTable {
	t := &visitTable{timeout: timeout, maxOpen: maxOpenVisits, maxActions: DefaultMaxActionsPerVisit, seed: maphash.MakeSeed()}
	var b [4]byte
	_, _ = rand.Read(b[:])
	t.ids.Store(binary.LittleEndian.Uint32(b[:]))
	for i := range t.shard {
		t.shard[i].open = map[visitKey]*visitState{}
		t.shard[i].byConfig = map[visitKey]visitKey{}
		t.shard[i].history = map[visitKey]store.VisitorHistory{}
	}
	return t
}

func (t *visitTable) shardOf(site event.SiteID) int {
	// All visitors of a site share the config index, so shard by site and visitor together
	// only where config matching is not needed: by site keeps both maps consistent.
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], uint64(site)) // #nosec G115 -- hashing the bits, sign irrelevant
	return int(maphash.Bytes(t.seed, b[:]) % shards)
}

func (t *visitTable) restore(v event.Visit, converted []int32) {
	s := &t.shard[t.shardOf(v.SiteID)]
	s.Lock()
	defer s.Unlock()
	st := &visitState{visit: v, lastURL: v.ExitURL, lastTitle: v.ExitTitle, lastAction: v.Last,
		seenURLs: map[uint64]struct{}{}, seenTitles: map[uint64]struct{}{}}
	for _, g := range converted {
		st.markConverted(g)
	}
	if v.ExitURL != "" {
		st.seenURLs[maphash.String(t.seed, v.ExitURL)] = struct{}{}
	}
	st.count = v.Actions + v.Contents + v.Conversions
	s.open[visitKey{v.SiteID, v.VisitorID}] = st
}

// maxOpenVisits bounds the open visits of one shard (the sites that hash to it), about
// 1.5 GB of memory at most: a flood of hits from ever new visitors must not exhaust memory
// within the 30 minutes their visits stay open.
const maxOpenVisits = 1_000_000

// DefaultMaxActionsPerVisit is the most actions a visit takes unless configured: far above
// what a person does in one visit (a visit ends after 30 idle minutes and at midnight), low
// enough that one visit cannot grow without bound.
const DefaultMaxActionsPerVisit = 10_000

// errVisitFull drops a hit whose visit holds the most actions a visit may. The hit is not
// stored and the tracker is answered as for any hit deliberately not stored.
var errVisitFull = errors.New("the visit holds the most actions a visit may")

// sweep closes visits idle for longer than the timeout, keeping their visitors' history.
// Where a shard holds more than maxOpen visits it also closes the longest idle ones early,
// by halving the idle time that closes a visit until few enough remain, and returns how many
// it closed that way: a later hit of such a visitor starts a new visit.
func (t *visitTable) sweep(now time.Time) (early int) {
	for i := range t.shard {
		s := &t.shard[i]
		s.Lock()
		idle := t.timeout
		for {
			for k, st := range s.open {
				if now.Sub(st.visit.Last) > idle {
					s.history[k] = historyOf(st.visit)
					delete(s.open, k)
					if idle < t.timeout {
						early++
					}
				}
			}
			if len(s.open) <= t.maxOpen || idle < time.Second {
				break
			}
			idle /= 2
		}
		for ck, k := range s.byConfig {
			if _, ok := s.open[k]; !ok {
				delete(s.byConfig, ck)
			}
		}
		s.Unlock()
	}
	return early
}

// newVisitID is the visit's start in milliseconds since 2020 followed by 22 bits of the
// process's visit counter: ids of one process differ unless four million visits open between
// two that start in the same millisecond; ids of other processes (a restart, another node)
// start from another random count.
func (t *visitTable) newVisitID(at time.Time) event.VisitID {
	ms := at.UnixMilli() - 1577836800000 // since 2020-01-01
	if ms < 0 {
		ms = 0
	}
	return event.VisitID(ms<<22 | int64(t.ids.Add(1)&0x3fffff))
}

// firstSeen reports whether h is new to seen, and keeps it (up to 10,000 of them).
func firstSeen(seen map[uint64]struct{}, h uint64) bool {
	if _, ok := seen[h]; ok {
		return false
	}
	if len(seen) < 10_000 {
		seen[h] = struct{}{}
	}
	return true
}

func daysBetween(a, b time.Time) int32 {
	if b.Before(a) {
		return 0
	}
	return event.Clamp32(int64(b.Sub(a) / (24 * time.Hour)))
}

// assemble attaches the hit to its visit (opening one when Matomo's rules say so), builds
// the action and enqueues the records while still holding the visitor's lock, so the spool
// sees one visitor's snapshots in order.
func (t *visitTable) assemble(ctx context.Context, p *Pipeline, in hitInput) (*pending, error) {
	h := in.hit
	var manual goal.Conversion
	if h.GoalID > 0 {
		// A goal triggered by id must exist on the site; Matomo refuses the request otherwise.
		var ok bool
		if manual, ok = in.site.goals.Manual(h.GoalID, h.Revenue, h.HasRevenue); !ok {
			return nil, &collect.Error{Reason: fmt.Sprintf("idgoal %d is not a goal of site %d", h.GoalID, h.SiteID)}
		}
	}
	s := &t.shard[t.shardOf(h.SiteID)]
	s.Lock()
	defer s.Unlock()

	key := visitKey{h.SiteID, in.visitor}
	st := s.open[key]
	if st == nil && in.fromTracker && h.UserID == "" && h.ForcedID == "" {
		// An unknown tracker ID (cookies off, a new page load) may still be a visit we know
		// from its cookieless fingerprint, as Matomo matches on config_id. A forced visitor
		// ID (cid, or a user ID) is looked up by itself only, as Matomo does.
		if k, ok := s.byConfig[visitKey{h.SiteID, in.config}]; ok {
			if cand := s.open[k]; cand != nil && cand.visit.UserID == "" && !cand.stableID {
				st, key = cand, k
			}
		}
	} else if st != nil && in.fromTracker {
		st.stableID = true
	}
	if st != nil && t.needsNewVisit(st, in) {
		s.history[key] = historyOf(st.visit)
		delete(s.open, key)
		st = nil
	}
	if st == nil {
		if h.Ping {
			return nil, nil // a heartbeat never opens a visit
		}
		hist, known := s.history[key]
		if !known && in.fromTracker && p.known.mayContain(h.SiteID, in.visitor) {
			var err error
			hist, known, err = p.opts.Events.VisitorHistory(ctx, h.SiteID, in.visitor)
			if err != nil {
				return nil, err
			}
		}
		st = t.open(in, hist, known)
		key = visitKey{h.SiteID, in.visitor}
		p.known.add(h.SiteID, in.visitor)
		s.open[key] = st
		s.byConfig[visitKey{h.SiteID, in.config}] = key
		if len(s.history) > 200_000 {
			s.history = map[visitKey]store.VisitorHistory{}
		}
	}
	if !h.Ping && st.count >= t.maxActions {
		// Every hit but a heartbeat adds an action. A hit that only repeats a goal already
		// converted would add none, but it extends a visit long past real use all the same.
		if !st.full {
			st.full = true
			p.log.Warn("a visit reached the most actions a visit takes; its further hits are dropped",
				"site", int64(h.SiteID), "limit", t.maxActions)
		}
		return nil, errVisitFull
	}
	v := &st.visit
	if in.at.After(v.Last) {
		v.Last = in.at
	}
	if in.at.Before(v.First) {
		v.First = in.at // hits of one visit can arrive out of order
	}
	if h.Ping {
		goals := st.convert(in, in.site.goals.Duration(v.Last.Sub(v.First)), "", "")
		snap := *v
		return p.enqueue(append([]*record{{Visit: &snap}}, goals...)...)
	}
	a := buildAction(in)
	if a.Type == event.ActionGoal {
		if !manual.AllowMultiple && st.converted[manual.Goal] {
			snap := *v // converted already in this visit: the hit only extends it
			return p.enqueue(&record{Visit: &snap})
		}
		a.Revenue = manual.Revenue
		st.markConverted(manual.Goal)
	}
	a.SiteID, a.VisitID, a.VisitorID, a.Time = h.SiteID, v.ID, v.VisitorID, in.at
	v.Actions++ // countAction takes it back for types Matomo does not count
	countAction(v, a)
	st.count++
	a.Index = st.count
	if !st.lastAction.IsZero() {
		a.RefURL, a.RefTitle = st.lastURL, st.lastTitle
		a.RefTimeSpent = event.Seconds32(in.at.Sub(st.lastAction))
	}
	a.FirstURLInVisit = a.URL != "" && firstSeen(st.seenURLs, maphash.String(t.seed, a.URL))
	a.FirstTitleInVisit = a.Title != "" && firstSeen(st.seenTitles, maphash.String(t.seed, a.Title))
	if a.Type == event.ActionPageview {
		if v.EntryURL == "" && v.EntryTitle == "" {
			v.EntryURL, v.EntryTitle = a.URL, a.Title
		}
		v.ExitURL, v.ExitTitle, v.ExitTime = a.URL, a.Title, in.at
	}
	if a.URL != "" || a.Title != "" {
		st.lastURL, st.lastTitle = a.URL, a.Title
	}
	st.lastAction = in.at
	if in.userID != "" {
		v.UserID = in.userID
	}
	// A visit-scope dimension takes the value last sent in the visit, as Matomo updates it on
	// every request that carries one; custom variables likewise.
	v.Dimensions = updated(v.Dimensions, h.Dimensions)
	v.CustomVars = updated(v.CustomVars, h.VisitVars)
	var goals []*record
	if a.Type != event.ActionGoal {
		goals = st.convert(in, in.site.goals.Action(&a), a.URL, a.Title)
	}
	goals = append(goals, st.convert(in, in.site.goals.Duration(v.Last.Sub(v.First)), a.URL, a.Title)...)
	snap := *v
	return p.enqueue(append([]*record{{Visit: &snap, Action: &a}}, goals...)...)
}

// convert records the conversions an action or the visit's length brought, skipping goals
// that convert once per visit and already did.
func (st *visitState) convert(in hitInput, convs []goal.Conversion, url, title string) []*record {
	var out []*record
	v := &st.visit
	for _, c := range convs {
		if !c.AllowMultiple && st.converted[c.Goal] {
			continue
		}
		st.markConverted(c.Goal)
		st.count++
		g := event.Action{SiteID: v.SiteID, VisitID: v.ID, VisitorID: v.VisitorID, Time: in.at, Index: st.count,
			Type: event.ActionGoal, GoalID: c.Goal, Revenue: c.Revenue, URL: url, Title: title, SearchCount: -1,
			PerfNetwork: -1, PerfServer: -1, PerfTransfer: -1, PerfDOMProc: -1, PerfDOMDone: -1, PerfOnLoad: -1}
		v.Actions++
		countAction(v, g)
		out = append(out, &record{Action: &g})
	}
	return out
}

func (st *visitState) markConverted(id int32) {
	if st.converted == nil {
		st.converted = map[int32]bool{}
	}
	st.converted[id] = true
}

func historyOf(v event.Visit) store.VisitorHistory {
	h := store.VisitorHistory{VisitCount: v.VisitCount, FirstVisit: v.First.AddDate(0, 0, -int(v.DaysSinceFirst)), LastVisit: v.Last}
	if v.Ecommerce == event.EcommerceOrdered || v.Ecommerce == event.EcommerceOrderedThenAbandonedCart {
		h.LastOrder = v.Last
	}
	return h
}

func (t *visitTable) needsNewVisit(st *visitState, in hitInput) bool {
	h, v := in.hit, &st.visit
	if h.NewVisit && !h.Ping {
		return true
	}
	if in.at.Sub(v.Last) > t.timeout {
		return true
	}
	if !sameDay(in.at.In(in.site.tz), v.First.In(in.site.tz)) {
		return true
	}
	if in.campaign.Name != "" && !strings.EqualFold(in.campaign.Name, v.Campaign.Name) {
		return true
	}
	return false
}

// sameDay reports whether two times fall on the same calendar day in their location.
func sameDay(a, b time.Time) bool {
	ay, am, ad := a.Date()
	by, bm, bd := b.Date()
	return ay == by && am == bm && ad == bd
}

func (t *visitTable) open(in hitInput, hist store.VisitorHistory, known bool) *visitState {
	h := in.hit
	v := event.Visit{
		SiteID: h.SiteID, ID: t.newVisitID(in.at), VisitorID: in.visitor, UserID: in.userID,
		First: in.at, Last: in.at, VisitCount: 1, Referrer: in.ref, Campaign: in.campaign, Device: in.device,
		Location: in.loc, Resolution: h.Resolution, Language: in.lang, Plugins: h.Plugins, IP: in.ip.String(),
		LocalTime: -1, Consent: h.Consent,
	}
	if known && hist.VisitCount > 0 {
		v.VisitCount = hist.VisitCount + 1
		v.Returning = true
		v.DaysSinceLast = daysBetween(hist.LastVisit, in.at)
		v.DaysSinceFirst = daysBetween(hist.FirstVisit, in.at)
		if !hist.LastOrder.IsZero() {
			v.DaysSinceOrder = daysBetween(hist.LastOrder, in.at)
		}
	}
	if h.LocalHour >= 0 {
		v.LocalTime = event.Clamp32(int64(h.LocalHour*3600 + max(h.LocalMinute, 0)*60 + max(h.LocalSecond, 0)))
	}
	return &visitState{visit: v, seenURLs: map[uint64]struct{}{}, seenTitles: map[uint64]struct{}{}}
}

// buildAction decides the action type from the hit's parameters, as Matomo does.
func buildAction(in hitInput) event.Action {
	h := in.hit
	a := event.Action{URL: in.pageURL, Title: h.Title, PageViewID: h.PageViewID, SearchCount: -1,
		PerfNetwork: h.Perf[0], PerfServer: h.Perf[1], PerfTransfer: h.Perf[2], PerfDOMProc: h.Perf[3],
		PerfDOMDone: h.Perf[4], PerfOnLoad: h.Perf[5], Dimensions: h.Dimensions, CustomVars: h.PageVars,
		Extra: extraJSON(h.Extra)}
	switch {
	case h.GoalID == 0 && h.OrderID != "":
		a.Type = event.ActionOrder
	case h.GoalID == 0:
		a.Type = event.ActionCartUpdate
	case h.GoalID > 0:
		a.Type = event.ActionGoal
		a.GoalID = h.GoalID
	case h.IsSearch:
		a.Type = event.ActionSearch
	case h.EventCategory != "":
		a.Type = event.ActionEvent
	case h.ContentName != "":
		a.Type = event.ActionContent
	case h.Link != "":
		a.Type, a.URL = event.ActionOutlink, h.Link
	case h.Download != "":
		a.Type, a.URL = event.ActionDownload, h.Download
	case hasPrefixKey(h.Extra, "ma_"):
		a.Type = event.ActionMedia
	case hasPrefixKey(h.Extra, "cra"):
		a.Type = event.ActionCrash
	default:
		a.Type = event.ActionPageview
		if in.site.site.SiteSearch {
			if kw, cat, clean, ok := siteSearch(in.pageURL, in.site.kwParams, in.site.catParams); ok {
				a.Type, a.SearchKeyword, a.SearchCategory, a.URL = event.ActionSearch, kw, cat, clean
			}
		}
	}
	switch a.Type {
	case event.ActionSearch:
		if h.IsSearch {
			a.SearchKeyword, a.SearchCategory, a.SearchCount = h.Search, h.SearchCategory, h.SearchCount
		}
	case event.ActionEvent:
		a.EventCategory, a.EventAction, a.EventName = h.EventCategory, h.EventAction, h.EventName
		a.EventValue, a.HasEventValue = h.EventValue, h.HasEventValue
	case event.ActionContent:
		a.ContentName, a.ContentPiece, a.ContentTarget, a.ContentInteraction = h.ContentName, h.ContentPiece, h.ContentTarget, h.ContentInteraction
	case event.ActionOrder, event.ActionCartUpdate, event.ActionGoal:
		a.Revenue, a.OrderID = h.Revenue, h.OrderID
		a.Subtotal, a.Tax, a.Shipping, a.Discount, a.Items = h.Subtotal, h.Tax, h.Shipping, h.Discount, h.Items
	case event.ActionPageview:
		a.ProductSKU, a.ProductName, a.ProductCategory, a.ProductPrice = h.ProductSKU, h.ProductName, h.ProductCategory, h.ProductPrice
	}
	return a
}

func hasPrefixKey(m map[string]string, prefix string) bool {
	for k := range m {
		if strings.HasPrefix(k, prefix) {
			return true
		}
	}
	return false
}

// siteSearch recognises a site-search results page from its URL parameters.
func siteSearch(raw string, kwParams, catParams []string) (kw, cat, clean string, ok bool) {
	if !mayHaveParam(raw, kwParams) {
		return "", "", raw, false
	}
	return parseSiteSearch(raw, kwParams, catParams)
}

// parseSiteSearch is siteSearch without the quick check: the URL parsed in full.
func parseSiteSearch(raw string, kwParams, catParams []string) (kw, cat, clean string, ok bool) {
	u, err := url.Parse(raw)
	if err != nil || u.RawQuery == "" {
		return "", "", raw, false
	}
	q := u.Query()
	for _, p := range kwParams {
		if v := strings.TrimSpace(q.Get(p)); v != "" {
			kw = v
			q.Del(p)
			break
		}
	}
	if kw == "" {
		return "", "", raw, false
	}
	for _, p := range catParams {
		if v := strings.TrimSpace(q.Get(p)); v != "" {
			cat = v
			q.Del(p)
			break
		}
	}
	u.RawQuery = q.Encode()
	return kw, cat, u.String(), true
}

// mayHaveParam reports whether raw's query could carry one of names, without parsing the
// URL: most page views are no search and are answered here. It errs towards true: a name
// written with escapes ('%' or '+') always counts as a possible match.
func mayHaveParam(raw string, names []string) bool {
	_, q, found := strings.Cut(raw, "?")
	if !found {
		return false
	}
	for q != "" {
		var part string
		part, q, _ = strings.Cut(q, "&")
		key, _, _ := strings.Cut(part, "=")
		if strings.ContainsAny(key, "%+") || slices.Contains(names, key) {
			return true
		}
	}
	return false
}

// countAction updates the visit's counters for a new action. Visit.Actions was already
// incremented; types Matomo does not count as actions take it back.
func countAction(v *event.Visit, a event.Action) {
	switch a.Type {
	case event.ActionPageview:
		v.Pageviews++
	case event.ActionSearch:
		v.Searches++
	case event.ActionEvent:
		v.Events++
	case event.ActionDownload:
		v.Downloads++
	case event.ActionOutlink:
		v.Outlinks++
	case event.ActionContent:
		if a.ContentInteraction != "" {
			v.Interactions++
		} else {
			v.Actions--
			v.Contents++
		}
	case event.ActionGoal:
		v.Actions--
		v.Conversions++
		v.Revenue += a.Revenue
	case event.ActionOrder:
		v.Actions--
		v.Conversions++
		v.Revenue += a.Revenue
		v.Ecommerce = event.EcommerceOrdered
	case event.ActionCartUpdate:
		v.Actions--
		switch v.Ecommerce {
		case event.EcommerceNone:
			v.Ecommerce = event.EcommerceAbandonedCart
		case event.EcommerceOrdered:
			v.Ecommerce = event.EcommerceOrderedThenAbandonedCart
		}
	case event.ActionMedia, event.ActionCrash:
		v.Actions--
	}
}

// updated returns m with the values of set. When anything changes it returns a new map and
// leaves m as it was: the snapshots of the visit taken for earlier hits share m, and the
// event store may be reading them while this hit is assembled.
func updated[K comparable](m, set map[K]string) map[K]string {
	changed := false
	for k, v := range set {
		if old, ok := m[k]; !ok || old != v {
			changed = true
			break
		}
	}
	if !changed {
		return m
	}
	out := make(map[K]string, len(m)+len(set))
	maps.Copy(out, m)
	maps.Copy(out, set)
	return out
}
