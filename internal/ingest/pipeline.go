// Package ingest turns decoded tracking hits into stored visits and actions: filter ->
// enrich -> privacy -> visit assembly -> spool (fsynced, group commit) -> batched apply to the
// event store. A hit is acknowledged only once its record is durable in the spool.
package ingest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/netip"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"hearth/internal/collect"
	"hearth/internal/enrich/device"
	"hearth/internal/enrich/geo"
	"hearth/internal/enrich/referrer"
	"hearth/internal/event"
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

	// origins are the hosts of the sites' URLs (origin.go), loaded at originsAt (Unix
	// nanoseconds); originsMu lets one request at a time load them again.
	origins   atomic.Pointer[originSet]
	originsAt atomic.Int64
	originsMu sync.Mutex

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
	p.originsAt.Store(opts.Now().UnixNano())
	if err := p.loadOrigins(ctx); err != nil {
		return nil, fmt.Errorf("load site hosts: %w", err)
	}

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
