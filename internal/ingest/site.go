package ingest

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"hearth/internal/collect"
	"hearth/internal/enrich/geo"
	"hearth/internal/event"
	"hearth/internal/goal"
	"hearth/internal/privacy"
	"hearth/internal/store"
)

type saltKey struct {
	site event.SiteID
	day  string
}

// InvalidateSite drops a site's cached settings after a change, and loads the hosts of the
// sites' URLs again (KnownOrigin).
func (p *Pipeline) InvalidateSite(id event.SiteID) {
	p.sitesMu.Lock()
	delete(p.sites, id)
	delete(p.missing, id)
	p.sitesMu.Unlock()
	p.refreshOrigins()
}

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
const missingSiteTTL, maxMissingSites = 10 * time.Second, 4096

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
