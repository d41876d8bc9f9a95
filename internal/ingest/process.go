package ingest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"hearth/internal/collect"
	"hearth/internal/enrich/referrer"
	"hearth/internal/event"
	"hearth/internal/privacy"
)

// process runs one hit through the stages of the data flow in docs/ARCHITECTURE.md: authorise,
// exclude, detect, enrich, identify and assemble. It returns no records for hits that are
// deliberately not stored.
func (p *Pipeline) process(ctx context.Context, h *collect.Hit, req *collect.Request) ([]*pending, error) {
	site, err := p.site(ctx, h.SiteID)
	if err != nil {
		return nil, err
	}
	in := hitInput{hit: h, site: site}
	if err := p.authorise(ctx, &in, req); err != nil {
		return nil, err
	}
	c, keep, err := p.exclude(&in, req)
	if err != nil || !keep {
		return nil, err
	}
	if pd, bot, err := p.detect(&in, req, c.ua); bot {
		if err != nil {
			return nil, err
		}
		return []*pending{pd}, nil
	}
	if !p.enrich(&in, req, c.ip) {
		return nil, nil
	}
	if err := p.identify(ctx, &in, c); err != nil {
		return nil, err
	}
	in.ip = privacy.TruncateIP(c.ip, p.opts.IPAnonymizeBytes)
	pd, err := p.visits.assemble(ctx, p, in)
	if err != nil || pd == nil {
		return nil, err
	}
	return []*pending{pd}, nil
}

// client is what the stages know of the sender beyond the hit: the full address (in memory
// only: for exclusions, geolocation and the cookieless hash) and the user agent.
type client struct {
	ip netip.Addr
	ua string
}

// authorise sets the hit's time and refuses parameters that need a write token without one:
// cip, location overrides, and a cdt more than 24 hours old.
func (p *Pipeline) authorise(ctx context.Context, in *hitInput, req *collect.Request) error {
	h := in.hit
	in.at = req.Time
	privileged := h.Privileged()
	if !h.CustomTime.IsZero() {
		in.at = h.CustomTime
		if req.Time.Sub(in.at) > 24*time.Hour {
			privileged = append(privileged, "cdt older than 24 hours")
		}
	}
	if len(privileged) > 0 {
		if h.TokenAuth == "" || p.opts.Auth == nil || !p.opts.Auth.CanTrackPrivileged(ctx, h.TokenAuth, h.SiteID, req.IP) {
			return &collect.Error{Reason: "parameters " + strings.Join(privileged, ", ") + " need the token_auth of a user with write access to the site"}
		}
	}
	return nil
}

// exclude drops hits that are not to be recorded (rec=0), that Do-Not-Track or GPC asks to
// drop, and those from the site's excluded addresses and user agents.
func (p *Pipeline) exclude(in *hitInput, req *collect.Request) (client, bool, error) {
	h := in.hit
	c := client{ip: req.IP, ua: h.UserAgent}
	if !h.Record || p.opts.HonorDNT && req.DoNotTrack {
		return c, false, nil
	}
	if h.ClientIP != "" {
		a, err := netip.ParseAddr(h.ClientIP)
		if err != nil {
			return c, false, &collect.Error{Reason: "cip is not an IP address"}
		}
		c.ip = a.Unmap()
	}
	if in.site.ips.Match(c.ip) {
		return c, false, nil
	}
	if c.ua == "" {
		c.ua = req.UserAgent
	}
	if len(in.site.uas) > 0 {
		lua := strings.ToLower(c.ua)
		for _, ex := range in.site.uas {
			if strings.Contains(lua, ex) {
				return c, false, nil
			}
		}
	}
	return c, true, nil
}

// detect reads the device from the user agent and client hints. A bot's hit is counted for
// its site and day (bot is true) and goes no further.
func (p *Pipeline) detect(in *hitInput, req *collect.Request, ua string) (pd *pending, bot bool, err error) {
	h := in.hit
	det := p.opts.Devices.Detect(ua, req.ClientHints, h.UAData)
	if det.Bot && !h.Bot {
		p.stats.Bots.Add(1)
		pd, err := p.enqueue(&record{Bot: &event.BotHit{SiteID: h.SiteID, Time: in.at, Name: det.BotName}})
		return pd, true, err
	}
	in.device = det.Device
	return nil, false, nil
}

// enrich takes personal data out of the hit's text, then reads its language, cleans its URL
// and referrer, extracts the campaign, classifies the referrer and locates the visitor. It
// reports false for hits from spam or excluded referrers.
func (p *Pipeline) enrich(in *hitInput, req *collect.Request, ip netip.Addr) bool {
	h, site := in.hit, in.site
	if !site.site.KeepEmails {
		redactEmails(h)
	}
	in.lang = h.Language
	if in.lang == "" {
		in.lang = req.Language
	}
	in.lang = normaliseLanguage(in.lang)

	in.pageURL, in.campaign = site.cleaner.Clean(h.URL, site.site.KeepURLFragment)
	if in.campaign.Name == "" && h.AttributionCampaign != "" {
		in.campaign.Name, in.campaign.Keyword = h.AttributionCampaign, h.AttributionKeyword
	}
	refURL := h.Referrer
	if refURL != "" {
		refURL, _ = site.cleaner.Clean(refURL, false)
	}
	ref, spam := p.opts.Referrers.Classify(referrer.Input{Referrer: refURL, Campaign: in.campaign, SiteHosts: site.hosts})
	if spam {
		return false
	}
	if len(site.refs) > 0 && ref.Type != event.ReferrerDirect && ref.Type != event.ReferrerCampaign {
		host := ""
		if u, err := url.Parse(refURL); err == nil {
			host = strings.ToLower(u.Hostname())
		}
		for _, ex := range site.refs {
			if host == ex || strings.HasSuffix(host, "."+ex) || strings.HasPrefix(strings.ToLower(refURL), ex) {
				return false
			}
		}
	}
	in.ref = ref

	if h.Country != "" || h.City != "" || h.Region != "" || h.HasLatLong {
		in.loc = event.Location{Country: h.Country, Region: h.Region, City: h.City, Lat: h.Lat, Lon: h.Long}
	} else if p.opts.Geo != nil {
		in.loc = p.opts.Geo.Lookup(ip, site.precision)
	}
	return true
}

// identify finds the visitor: the user ID's pseudonym, the tracker's forced or own visitor
// ID, or else the cookieless keyed hash with the site's salt of the day (kept in any case, to
// match visits of trackers whose ID changes on every page).
func (p *Pipeline) identify(ctx context.Context, in *hitInput, c client) error {
	h := in.hit
	switch {
	case h.UserID != "":
		in.userID, in.visitor = p.opts.Hasher.UserPseudonym(h.UserID)
		in.fromTracker = true
	case h.ForcedID != "":
		in.visitor, _ = event.ParseVisitorID(strings.ToLower(h.ForcedID))
		in.fromTracker = true
	case h.VisitorID != "":
		in.visitor, _ = event.ParseVisitorID(strings.ToLower(h.VisitorID))
		in.fromTracker = true
	}
	salt, err := p.salt(ctx, h.SiteID, in.site.localDay(in.at))
	if err != nil {
		return fmt.Errorf("visitor salt: %w", err)
	}
	in.config = p.opts.Hasher.CookielessVisitor(salt, h.SiteID, c.ip, c.ua, in.lang)
	if !in.fromTracker {
		in.visitor = in.config
	}
	return nil
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
