// Package ingest turns decoded tracking hits into stored visits and actions: filter ->
// enrich -> privacy -> visit assembly -> spool (fsynced, group commit) -> batched apply to the
// event store. A hit is acknowledged only once its record is durable in the spool.
package ingest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"hearth/internal/collect"
	"hearth/internal/enrich/device"
	"hearth/internal/enrich/geo"
	"hearth/internal/enrich/referrer"
	"hearth/internal/event"
	"hearth/internal/goal"
	"hearth/internal/privacy"
	"hearth/internal/store"
)

// Authorizer answers whether a token may send privileged tracking parameters for a site
// (superuser, or write/admin on the site).
type Authorizer interface {
	CanTrackPrivileged(ctx context.Context, tokenAuth string, site event.SiteID, ip netip.Addr) bool
}

// Options configure the pipeline.
type Options struct {
	Events    store.Events
	Meta      store.Meta
	Devices   *device.Detector
	Referrers *referrer.Lists
	Geo       *geo.DB // nil without a database
	Hasher    *privacy.Hasher
	Auth      Authorizer

	SpoolDir             string
	IPAnonymizeBytes     int
	VisitTimeout         time.Duration
	HonorDNT             bool
	GlobalExcludedParams []string

	Now    func() time.Time
	Logger *slog.Logger

	ApplyInterval time.Duration // how often spooled records are applied (default 1s)
	MaxBatch      int           // records per applied batch (default 50,000)
	MaxPending    int           // spooled but unapplied records before refusing hits (default 1,000,000)
	// MaxActionsPerVisit is the most actions a visit takes; later hits of the visit are
	// dropped and counted in Stats.OverActionLimit (default DefaultMaxActionsPerVisit).
	MaxActionsPerVisit int
	SpoolSegment       int64 // bytes per spool segment (default 16 MiB)
}

// Pipeline implements collect.Sink.
type Pipeline struct {
	opts   Options
	log    *slog.Logger
	batch  store.Batch // reused by applyRecords
	spool  *spool
	visits *visitTable
	known  *bloom

	sitesMu sync.RWMutex
	sites   map[event.SiteID]*siteConf
	missing map[event.SiteID]time.Time

	saltMu sync.Mutex
	salts  map[saltKey][]byte

	commit  *committer
	applyMu sync.Mutex
	queue   []*record
	pending atomic.Int64
	applied atomic.Uint64
	lastErr atomic.Value // string

	stop   chan struct{}
	wg     sync.WaitGroup
	closed atomic.Bool
	stats  Stats
}

// Stats are counters for metrics.
type Stats struct {
	Accepted atomic.Int64
	Ignored  atomic.Int64
	Bots     atomic.Int64
	Invalid  atomic.Int64
	// OverActionLimit counts the hits dropped because their visit held MaxActionsPerVisit
	// actions; they are counted in Ignored too.
	OverActionLimit atomic.Int64
	Applied         atomic.Int64
	Batches         atomic.Int64
	Syncs           atomic.Int64
}

type saltKey struct {
	site event.SiteID
	day  string
}

var _ collect.Sink = (*Pipeline)(nil)

// Open replays the spool into the event store, restores open visits and starts the writer
// and applier.
func Open(ctx context.Context, opts Options) (*Pipeline, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.ApplyInterval <= 0 {
		opts.ApplyInterval = time.Second
	}
	if opts.MaxBatch <= 0 {
		opts.MaxBatch = 50_000
	}
	if opts.MaxPending <= 0 {
		opts.MaxPending = 1_000_000
	}
	if opts.SpoolSegment <= 0 {
		opts.SpoolSegment = 16 << 20
	}
	if opts.VisitTimeout <= 0 {
		opts.VisitTimeout = 30 * time.Minute
	}
	if opts.IPAnonymizeBytes == 0 {
		opts.IPAnonymizeBytes = 2
	}
	if opts.MaxActionsPerVisit <= 0 {
		opts.MaxActionsPerVisit = DefaultMaxActionsPerVisit
	}
	p := &Pipeline{
		opts: opts, log: opts.Logger.With("component", "ingest"),
		sites: map[event.SiteID]*siteConf{}, missing: map[event.SiteID]time.Time{},
		salts: map[saltKey][]byte{}, stop: make(chan struct{}),
	}
	p.visits = newVisitTable(opts.VisitTimeout)
	p.visits.maxActions = int32(min(opts.MaxActionsPerVisit, math.MaxInt32)) // #nosec G115 -- bounded just before

	applied, err := opts.Events.AppliedSeq(ctx)
	if err != nil {
		return nil, fmt.Errorf("read applied sequence: %w", err)
	}
	if err := os.MkdirAll(opts.SpoolDir, 0o700); err != nil {
		return nil, fmt.Errorf("create spool dir: %w", err)
	}
	recs, paths, err := readSpool(opts.SpoolDir)
	if err != nil {
		return nil, err
	}
	next := applied + 1
	var replay []*record
	for i := range recs {
		if recs[i].Seq >= next {
			next = recs[i].Seq + 1
		}
		if recs[i].Seq > applied {
			replay = append(replay, &recs[i])
		}
	}
	for len(replay) > 0 {
		n := min(len(replay), opts.MaxBatch)
		if err := p.applyRecords(ctx, replay[:n]); err != nil {
			return nil, fmt.Errorf("replay spool: %w", err)
		}
		replay = replay[n:]
	}
	if len(recs) > 0 {
		p.log.Info("spool replayed", "records", len(recs))
	}
	for _, path := range paths {
		if err := os.Remove(path); err != nil {
			return nil, fmt.Errorf("remove replayed spool segment: %w", err)
		}
	}
	p.applied.Store(next - 1)
	if p.spool, err = openSpool(opts.SpoolDir, next, opts.SpoolSegment); err != nil {
		return nil, err
	}
	// Known visitors, so that new ones skip the history lookup.
	p.known = newBloom(4 << 20)
	if err := opts.Events.EachVisitor(ctx, p.known.add); err != nil {
		return nil, fmt.Errorf("load known visitors: %w", err)
	}
	// Visits still open continue after a restart.
	open, err := opts.Events.OpenVisits(ctx, opts.Now().Add(-opts.VisitTimeout))
	if err != nil {
		return nil, fmt.Errorf("restore open visits: %w", err)
	}
	converted, err := convertedGoals(ctx, opts.Events, open, opts.Now().Add(-opts.VisitTimeout))
	if err != nil {
		return nil, fmt.Errorf("restore open visits: %w", err)
	}
	for _, v := range open {
		p.visits.restore(v, converted[v.ID])
	}
	p.commit = newCommitter(p.flush)
	p.wg.Add(1)
	go p.applier(context.WithoutCancel(ctx))
	return p, nil
}

// Close stops accepting hits, syncs and applies everything accepted, and closes the spool.
// The stores are the caller's to close.
func (p *Pipeline) Close(ctx context.Context) error {
	if p.closed.Swap(true) {
		return nil
	}
	p.commit.close()
	close(p.stop)
	p.wg.Wait()
	var errs []error
	if err := p.spool.close(); err != nil {
		errs = append(errs, err)
	}
	// Apply whatever is left so the spool is empty on a clean stop.
	for {
		batch := p.takeQueue()
		if len(batch) == 0 {
			break
		}
		if err := p.applyRecords(ctx, batch); err != nil {
			errs = append(errs, err)
			break
		}
		p.pending.Add(-int64(len(batch)))
	}
	if len(errs) == 0 {
		// Everything spooled was applied: the segments can go.
		segs, err := filepath.Glob(filepath.Join(p.opts.SpoolDir, "*.spool"))
		if err != nil {
			errs = append(errs, err)
		}
		for _, path := range segs {
			if err := os.Remove(path); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

// Lag is the number of accepted records not yet applied to the event store.
func (p *Pipeline) Lag() int64 { return p.pending.Load() }

// Healthy reports whether ingest keeps up: the last apply succeeded and the backlog is
// below a quarter of the limit.
func (p *Pipeline) Healthy() error {
	if s, _ := p.lastErr.Load().(string); s != "" {
		return errors.New(s)
	}
	if p.pending.Load() > int64(p.opts.MaxPending/4) {
		return fmt.Errorf("ingest backlog of %d records", p.pending.Load())
	}
	return nil
}

// StatsSnapshot returns the counters.
func (p *Pipeline) StatsSnapshot() *Stats { return &p.stats }

// InvalidateSite drops a site's cached settings after a change.
func (p *Pipeline) InvalidateSite(id event.SiteID) {
	p.sitesMu.Lock()
	delete(p.sites, id)
	delete(p.missing, id)
	p.sitesMu.Unlock()
}

// flush writes a group of pending records to the spool, makes them durable with one
// fdatasync, and queues them for the applier. The committer's goroutine calls it, one group
// at a time.
func (p *Pipeline) flush(group []*pending) error {
	var recs []*record
	var bodies [][]byte
	for _, g := range group {
		recs = append(recs, g.recs...)
		bodies = append(bodies, g.bodies...)
	}
	if !p.spool.fits(framesSize(bodies)) {
		if err := p.spool.rotate(); err != nil {
			p.log.Error("spool rotation failed", "err", err)
			p.lastErr.Store("spool write failed")
			return err
		}
	}
	f, err := p.spool.write(recs, bodies)
	for _, g := range group {
		// The bodies are copied into the spool's buffer (or failed): their buffers are free.
		if g.buf != nil {
			bodyBufs.Put(g.buf)
			g.buf, g.bodies = nil, nil
		}
	}
	if err == nil {
		err = datasync(f)
		p.stats.Syncs.Add(1)
	}
	if err != nil {
		p.log.Error("spool write failed", "err", err)
		p.lastErr.Store("spool write failed")
		return err
	}
	p.applyMu.Lock()
	p.queue = append(p.queue, recs...)
	p.applyMu.Unlock()
	p.pending.Add(int64(len(recs)))
	return nil
}

func (p *Pipeline) takeQueue() []*record {
	p.applyMu.Lock()
	defer p.applyMu.Unlock()
	n := min(len(p.queue), p.opts.MaxBatch)
	batch := p.queue[:n:n]
	p.queue = p.queue[n:]
	if len(p.queue) == 0 {
		p.queue = nil
	}
	return batch
}

func (p *Pipeline) applier(ctx context.Context) {
	defer p.wg.Done()
	t := time.NewTicker(p.opts.ApplyInterval)
	defer t.Stop()
	lastSweep := p.opts.Now()
	for {
		select {
		case <-p.stop:
			return
		case <-t.C:
		}
		if now := p.opts.Now(); now.Sub(lastSweep) > time.Minute {
			if early := p.visits.sweep(now); early > 0 {
				p.log.Warn("more open visits than a shard keeps: the longest idle were closed early", "closed", early, "limit", p.visits.maxOpen)
			}
			lastSweep = now
		}
		for {
			batch := p.takeQueue()
			if len(batch) == 0 {
				break
			}
			if err := p.applyRecords(ctx, batch); err != nil {
				p.log.Error("apply batch failed; will retry", "err", err, "records", len(batch))
				p.lastErr.Store("event store apply failed")
				// Put the batch back in front and retry on the next tick.
				p.applyMu.Lock()
				p.queue = append(batch, p.queue...)
				p.applyMu.Unlock()
				break
			}
			p.lastErr.Store("")
			p.pending.Add(-int64(len(batch)))
			if err := p.spool.release(p.applied.Load()); err != nil {
				p.log.Warn("remove applied spool segment", "err", err)
			}
			if len(batch) < p.opts.MaxBatch {
				break
			}
		}
	}
}

func (p *Pipeline) applyRecords(ctx context.Context, recs []*record) error {
	if len(recs) == 0 {
		return nil
	}
	// The batch's slices are reused from one batch to the next: one a second holds tens of
	// thousands of large rows. applyRecords runs on one goroutine at a time (the replay in
	// Open, then the applier, then Close once the applier has stopped).
	b := &p.batch
	actions := 0
	for _, r := range recs {
		if r.Action != nil {
			actions++
		}
	}
	if cap(b.Actions) < actions {
		b.Actions = make([]event.Action, 0, actions) // sized once: an Action is large to regrow
	}
	b.Seq = 0
	latest := map[event.VisitID]int{}
	for _, r := range recs {
		if r.Seq > b.Seq {
			b.Seq = r.Seq
		}
		if r.Action != nil {
			b.Actions = append(b.Actions, *r.Action)
		}
		if r.Bot != nil {
			b.Bots = append(b.Bots, *r.Bot)
		}
		if r.Visit != nil {
			if i, ok := latest[r.Visit.ID]; ok {
				b.Visits[i] = *r.Visit
			} else {
				latest[r.Visit.ID] = len(b.Visits)
				b.Visits = append(b.Visits, *r.Visit)
			}
		}
	}
	err := p.opts.Events.Apply(ctx, *b)
	b.Actions, b.Visits, b.Bots = reuse(b.Actions), reuse(b.Visits), reuse(b.Bots)
	if err != nil {
		return err
	}
	p.applied.Store(b.Seq)
	p.stats.Applied.Add(int64(len(recs)))
	p.stats.Batches.Add(1)
	return nil
}

// reuse empties a batch slice for the next batch, dropping what its rows referenced. A slice
// far larger than what it held (after a burst) is let go rather than kept.
func reuse[T any](s []T) []T {
	if cap(s) > 4096 && len(s) < cap(s)/4 {
		return nil
	}
	clear(s)
	return s[:0]
}

// Track processes hits and returns once the accepted ones are durable.
func (p *Pipeline) Track(ctx context.Context, hits []collect.Hit, req *collect.Request) []collect.Outcome {
	out := make([]collect.Outcome, len(hits))
	if p.closed.Load() {
		for i := range out {
			out[i].Err = collect.ErrOverloaded
		}
		return out
	}
	if p.pending.Load() > int64(p.opts.MaxPending) {
		for i := range out {
			out[i].Err = collect.ErrOverloaded
		}
		return out
	}
	var waits []*pending
	var waitIdx []int
	for i := range hits {
		recs, err := p.process(ctx, &hits[i], req)
		if errors.Is(err, errVisitFull) {
			p.stats.Ignored.Add(1)
			p.stats.OverActionLimit.Add(1)
			continue
		}
		if err != nil {
			out[i].Err = err
			if collect.IsBadRequest(err) {
				p.stats.Invalid.Add(1)
			}
			continue
		}
		if len(recs) == 0 {
			p.stats.Ignored.Add(1)
			continue
		}
		// process enqueued the records under the visitor's lock; wait for them here.
		waits = append(waits, recs[0])
		waitIdx = append(waitIdx, i)
	}
	for k, pd := range waits {
		if err := p.commit.wait(pd); err != nil {
			out[waitIdx[k]].Err = fmt.Errorf("spool: %w", err)
			continue
		}
		p.stats.Accepted.Add(1)
	}
	return out
}

// enqueue encodes records and queues them for the next group commit; Track waits for them.
// Callers hold the visitor's lock, so one visit's records keep their order.
func (p *Pipeline) enqueue(recs ...*record) (*pending, error) {
	pd := &pending{recs: recs, buf: bodyBufs.Get().(*[]byte), bodies: make([][]byte, 0, len(recs))}
	b := (*pd.buf)[:0]
	for _, r := range recs {
		start := len(b)
		var err error
		if b, err = appendBody(b, r); err != nil {
			bodyBufs.Put(pd.buf)
			return nil, err
		}
		pd.bodies = append(pd.bodies, b[start:len(b):len(b)])
	}
	if cap(b) != cap(*pd.buf) {
		// The buffer grew: keep the larger one for the pool. The bodies already point into b.
		*pd.buf = b
	}
	if err := p.commit.enqueue(pd); err != nil {
		return nil, collect.ErrOverloaded
	}
	return pd, nil
}

// bodyBufs are the buffers requests encode their spool records into, reused once the group
// commit has copied them into the spool's own buffer.
var bodyBufs = sync.Pool{New: func() any { b := make([]byte, 0, 2048); return &b }}

type siteConf struct {
	site      store.Site
	tz        *time.Location
	ips       *privacy.IPMatcher
	cleaner   *privacy.URLCleaner
	uas       []string
	refs      []string
	hosts     []string
	kwParams  []string
	catParams []string
	precision geo.Precision
	goals     *goal.Set
	day       atomic.Pointer[siteDay]
}

// siteDay is a day in a site's timezone, remembered so that hits of the same day skip
// formatting its date.
type siteDay struct {
	start, end time.Time
	key        string // 2006-01-02
}

// localDay is the date of t in the site's timezone.
func (c *siteConf) localDay(t time.Time) string {
	if d := c.day.Load(); d != nil && !t.Before(d.start) && t.Before(d.end) {
		return d.key
	}
	local := t.In(c.tz)
	y, m, dd := local.Date()
	start := time.Date(y, m, dd, 0, 0, 0, 0, c.tz)
	d := &siteDay{start: start, end: start.AddDate(0, 0, 1), key: local.Format("2006-01-02")}
	c.day.Store(d)
	return d.key
}

var defaultSearchParams = []string{"q", "query", "s", "search", "searchword", "k", "keyword", "keywords"}
var defaultCategoryParams = []string{"search_category", "search_cat"}

// An unknown site id is remembered for missingSiteTTL, so that a tracker sending to a
// deleted site costs no metadata lookup per hit; at most maxMissingSites ids are remembered.
const (
	missingSiteTTL  = 10 * time.Second
	maxMissingSites = 4096
)

func (p *Pipeline) site(ctx context.Context, id event.SiteID) (*siteConf, error) {
	p.sitesMu.RLock()
	c, ok := p.sites[id]
	miss, missed := p.missing[id]
	p.sitesMu.RUnlock()
	if ok {
		return c, nil
	}
	if missed && p.opts.Now().Sub(miss) < missingSiteTTL {
		return nil, &collect.Error{Reason: fmt.Sprintf("idsite %d does not exist", id)}
	}
	s, err := p.opts.Meta.Site(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		now := p.opts.Now()
		p.sitesMu.Lock()
		if len(p.missing) >= maxMissingSites {
			// Requests for ever new unknown ids must not grow this without bound: forget the
			// expired ones, and all of them if that is not enough.
			for k, at := range p.missing {
				if now.Sub(at) >= missingSiteTTL {
					delete(p.missing, k)
				}
			}
			if len(p.missing) >= maxMissingSites {
				clear(p.missing)
			}
		}
		p.missing[id] = now
		p.sitesMu.Unlock()
		return nil, &collect.Error{Reason: fmt.Sprintf("idsite %d does not exist", id)}
	}
	if err != nil {
		return nil, fmt.Errorf("load site %d: %w", id, err)
	}
	c, err = compileSite(s, p.opts.GlobalExcludedParams)
	if err != nil {
		return nil, err
	}
	goals, err := p.opts.Meta.Goals(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("load goals of site %d: %w", id, err)
	}
	var bad []error
	c.goals, bad = goal.Compile(goals)
	for _, err := range bad {
		p.log.Warn("goal skipped", "err", err)
	}
	p.sitesMu.Lock()
	p.sites[id] = c
	p.sitesMu.Unlock()
	return c, nil
}

func compileSite(s store.Site, global []string) (*siteConf, error) {
	c := &siteConf{site: s}
	tz, err := time.LoadLocation(s.Timezone)
	if err != nil || s.Timezone == "" {
		tz = time.UTC
	}
	c.tz = tz
	c.ips, err = privacy.NewIPMatcher(s.ExcludedIPs)
	if err != nil {
		return nil, fmt.Errorf("site %d excluded IPs: %w", s.ID, err)
	}
	c.cleaner = privacy.NewURLCleaner(global, s.ExcludedQueryParams)
	for _, ua := range s.ExcludedUserAgents {
		if ua = strings.ToLower(strings.TrimSpace(ua)); ua != "" {
			c.uas = append(c.uas, ua)
		}
	}
	for _, r := range s.ExcludedReferrers {
		if r = strings.ToLower(strings.TrimSpace(r)); r != "" {
			c.refs = append(c.refs, r)
		}
	}
	for _, raw := range s.URLs {
		if u, err := url.Parse(raw); err == nil && u.Hostname() != "" {
			c.hosts = append(c.hosts, strings.ToLower(u.Hostname()))
		}
	}
	c.kwParams = s.SearchKeywordParams
	if len(c.kwParams) == 0 {
		c.kwParams = defaultSearchParams
	}
	c.catParams = s.SearchCategoryParams
	if len(c.catParams) == 0 {
		c.catParams = defaultCategoryParams
	}
	c.precision, err = geo.ParsePrecision(s.GeoPrecision)
	if err != nil {
		c.precision = geo.PrecisionCity
	}
	return c, nil
}

func (p *Pipeline) salt(ctx context.Context, site event.SiteID, day string) ([]byte, error) {
	k := saltKey{site, day}
	p.saltMu.Lock()
	s, ok := p.salts[k]
	p.saltMu.Unlock()
	if ok {
		return s, nil
	}
	s, err := p.opts.Meta.Salt(ctx, site, day, p.opts.Now())
	if err != nil {
		return nil, err
	}
	p.saltMu.Lock()
	if len(p.salts) > 10_000 {
		p.salts = map[saltKey][]byte{}
	}
	p.salts[k] = s
	p.saltMu.Unlock()
	return s, nil
}

// PurgeSalts deletes salts older than two days from the metadata store and the cache.
func (p *Pipeline) PurgeSalts(ctx context.Context) (int, error) {
	cutoff := p.opts.Now().Add(-48 * time.Hour)
	n, err := p.opts.Meta.PurgeSalts(ctx, cutoff)
	p.saltMu.Lock()
	p.salts = map[saltKey][]byte{}
	p.saltMu.Unlock()
	return n, err
}

// process filters, enriches and assembles one hit. It returns no records for hits that are
// deliberately not stored.
func (p *Pipeline) process(ctx context.Context, h *collect.Hit, req *collect.Request) ([]*pending, error) {
	site, err := p.site(ctx, h.SiteID)
	if err != nil {
		return nil, err
	}
	now := req.Time
	at := now
	privileged := h.Privileged()
	if !h.CustomTime.IsZero() {
		at = h.CustomTime
		if now.Sub(at) > 24*time.Hour {
			privileged = append(privileged, "cdt older than 24 hours")
		}
	}
	if len(privileged) > 0 {
		if h.TokenAuth == "" || p.opts.Auth == nil || !p.opts.Auth.CanTrackPrivileged(ctx, h.TokenAuth, h.SiteID, req.IP) {
			return nil, &collect.Error{Reason: "parameters " + strings.Join(privileged, ", ") + " need the token_auth of a user with write access to the site"}
		}
	}
	if !h.Record {
		return nil, nil
	}
	if p.opts.HonorDNT && req.DoNotTrack {
		return nil, nil
	}
	ip := req.IP
	if h.ClientIP != "" {
		a, err := netip.ParseAddr(h.ClientIP)
		if err != nil {
			return nil, &collect.Error{Reason: "cip is not an IP address"}
		}
		ip = a.Unmap()
	}
	if site.ips.Match(ip) {
		return nil, nil
	}
	ua := h.UserAgent
	if ua == "" {
		ua = req.UserAgent
	}
	if len(site.uas) > 0 {
		lua := strings.ToLower(ua)
		for _, ex := range site.uas {
			if strings.Contains(lua, ex) {
				return nil, nil
			}
		}
	}
	det := p.opts.Devices.Detect(ua, req.ClientHints, h.UAData)
	if det.Bot && !h.Bot {
		p.stats.Bots.Add(1)
		pd, err := p.enqueue(&record{Bot: &event.BotHit{SiteID: h.SiteID, Time: at, Name: det.BotName}})
		if err != nil {
			return nil, err
		}
		return []*pending{pd}, nil
	}

	if !site.site.KeepEmails {
		redactEmails(h)
	}
	lang := h.Language
	if lang == "" {
		lang = req.Language
	}
	lang = normaliseLanguage(lang)

	pageURL, campaign := site.cleaner.Clean(h.URL, site.site.KeepURLFragment)
	if campaign.Name == "" && h.AttributionCampaign != "" {
		campaign.Name, campaign.Keyword = h.AttributionCampaign, h.AttributionKeyword
	}
	refURL := h.Referrer
	if refURL != "" {
		refURL, _ = site.cleaner.Clean(refURL, false)
	}
	ref, spam := p.opts.Referrers.Classify(referrer.Input{Referrer: refURL, Campaign: campaign, SiteHosts: site.hosts})
	if spam {
		return nil, nil
	}
	if len(site.refs) > 0 && ref.Type != event.ReferrerDirect && ref.Type != event.ReferrerCampaign {
		host := ""
		if u, err := url.Parse(refURL); err == nil {
			host = strings.ToLower(u.Hostname())
		}
		for _, ex := range site.refs {
			if host == ex || strings.HasSuffix(host, "."+ex) || strings.HasPrefix(strings.ToLower(refURL), ex) {
				return nil, nil
			}
		}
	}

	var loc event.Location
	if h.Country != "" || h.City != "" || h.Region != "" || h.HasLatLong {
		loc = event.Location{Country: h.Country, Region: h.Region, City: h.City, Lat: h.Lat, Lon: h.Long}
	} else if p.opts.Geo != nil {
		loc = p.opts.Geo.Lookup(ip, site.precision)
	}

	// Visitor identity.
	var visitor event.VisitorID
	userID := ""
	fromTracker := false
	switch {
	case h.UserID != "":
		userID, visitor = p.opts.Hasher.UserPseudonym(h.UserID)
		fromTracker = true
	case h.ForcedID != "":
		visitor, _ = event.ParseVisitorID(strings.ToLower(h.ForcedID))
		fromTracker = true
	case h.VisitorID != "":
		visitor, _ = event.ParseVisitorID(strings.ToLower(h.VisitorID))
		fromTracker = true
	}
	salt, err := p.salt(ctx, h.SiteID, site.localDay(at))
	if err != nil {
		return nil, fmt.Errorf("visitor salt: %w", err)
	}
	config := p.opts.Hasher.CookielessVisitor(salt, h.SiteID, ip, ua, lang)
	if !fromTracker {
		visitor = config
	}

	in := hitInput{
		hit: h, site: site, at: at, visitor: visitor, config: config, fromTracker: fromTracker,
		userID: userID, pageURL: pageURL, campaign: campaign, ref: ref, loc: loc, device: det.Device,
		ip: privacy.TruncateIP(ip, p.opts.IPAnonymizeBytes), lang: lang,
	}
	pd, err := p.visits.assemble(ctx, p, in)
	if err != nil {
		return nil, err
	}
	if pd == nil {
		return nil, nil
	}
	return []*pending{pd}, nil
}

func normaliseLanguage(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexAny(s, ",;"); i >= 0 {
		s = s[:i]
	}
	s = strings.ToLower(strings.TrimSpace(s))
	if len(s) > 20 {
		s = s[:20]
	}
	return s
}

func extraJSON(m map[string]string) string {
	if len(m) == 0 {
		return ""
	}
	b, _ := json.Marshal(m)
	return string(b)
}

// convertedGoals reads which goals the open visits converted, so a goal that converts once
// per visit does not convert again after a restart.
func convertedGoals(ctx context.Context, events store.Events, open []event.Visit, since time.Time) (map[event.VisitID][]int32, error) {
	bySite := map[event.SiteID]int{}
	for _, v := range open {
		if v.Conversions > 0 {
			bySite[v.SiteID]++
		}
	}
	out := map[event.VisitID][]int32{}
	convertedOnly := store.Filter{And: [][]store.Cond{{{Field: store.FieldConverted, Op: store.OpEq, Num: 1, IsNum: true}}}}
	for site, n := range bySite {
		details, err := events.Visits(ctx, store.VisitQuery{Sites: []event.SiteID{site}, From: since, Limit: n, WithActions: true, Segment: convertedOnly})
		if err != nil {
			return nil, fmt.Errorf("converted goals of site %d: %w", site, err)
		}
		for _, d := range details {
			for _, a := range d.Actions {
				if a.Type == event.ActionGoal {
					out[d.Visit.ID] = append(out[d.Visit.ID], a.GoalID)
				}
			}
		}
	}
	return out, nil
}
