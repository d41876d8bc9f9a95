package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"path/filepath"
	"time"

	"hearth/internal/audit"
	"hearth/internal/config"
	"hearth/internal/demo"
	"hearth/internal/event"
	"hearth/internal/secret"
	"hearth/internal/store"
	"hearth/internal/store/duckdb"
	"hearth/internal/store/sqlite"
)

// demoCmd writes a synthetic dataset into the stores (the server must not be running: the
// event store takes one writer).
func demoCmd(ctx context.Context, args []string, env Env) error {
	var actions, days int
	var siteID int64
	var seed uint64
	return metaCommand(ctx, "demo", args, env, func(fs *flag.FlagSet) {
		fs.IntVar(&actions, "events", 100_000, "about this many actions (page views, events, searches, downloads, outlinks, orders)")
		fs.Int64Var(&siteID, "site", 0, "add to this site (default: create a site named Demo)")
		fs.IntVar(&days, "days", 90, "spread the visits over this many days up to now")
		fs.Uint64Var(&seed, "seed", 1, "random seed: the same seed gives the same data")
	}, func(cfg *config.Config, meta *sqlite.Store, key secret.Key) error {
		if actions < 1 || actions > 1_000_000_000 {
			return usageError{errors.New("--events must be between 1 and 1,000,000,000")}
		}
		site := event.SiteID(siteID)
		if site == 0 {
			id, err := meta.CreateSite(ctx, store.Site{Name: "Demo", URLs: []string{"https://demo.example"}, Timezone: "UTC", Currency: "EUR",
				SiteSearch: true, Ecommerce: true, Created: time.Now().UTC()})
			if err != nil {
				return err
			}
			site = id
			if err := newTrail(cfg, meta, key).Record(ctx, audit.Event{Actor: "cli", Action: audit.ActionSiteCreate, Target: fmt.Sprintf("site:%d", id),
				Details: map[string]string{"name": "Demo"}}); err != nil {
				return err
			}
		} else if _, err := meta.Site(ctx, site); err != nil {
			return fmt.Errorf("site %d: %w", site, err)
		}
		// Two goals, converted in the data as ingest would: a booking form and a leaflet download.
		existing, err := meta.Goals(ctx, site)
		if err != nil {
			return err
		}
		var goalIDs [2]int32
	goals:
		for i, g := range []store.Goal{
			{Name: "Booking", Description: "Demo: a booking form event", MatchAttribute: "event_category", Pattern: "Form", PatternType: "exact", Revenue: 25, AllowMultiple: true},
			{Name: "Leaflet download", Description: "Demo: a leaflet downloaded", MatchAttribute: "file", Pattern: "leaflet-", PatternType: "contains"},
		} {
			for _, e := range existing { // a second run into the site reuses its demo goals
				if e.Name == g.Name && e.MatchAttribute == g.MatchAttribute && e.Pattern == g.Pattern {
					goalIDs[i] = e.ID
					continue goals
				}
			}
			g.SiteID, g.Created = site, time.Now().UTC()
			created, err := meta.CreateGoal(ctx, g)
			if err != nil {
				return err
			}
			goalIDs[i] = created.ID
			if err := newTrail(cfg, meta, key).Record(ctx, audit.Event{Actor: "cli", Action: audit.ActionGoalCreate, Target: fmt.Sprintf("site:%d", site),
				Details: map[string]string{"id": fmt.Sprint(created.ID), "name": created.Name}}); err != nil {
				return err
			}
		}
		events, err := duckdb.Open(ctx, duckdb.Options{Path: filepath.Join(cfg.DataDir, "events.duckdb")})
		if err != nil {
			return fmt.Errorf("open the event store (is hearth serve running? stop it first): %w", err)
		}
		defer events.Close()
		seq, err := events.AppliedSeq(ctx)
		if err != nil {
			return err
		}
		start := time.Now()
		visits := 0
		err = demo.Generate(demo.Options{Site: site, Actions: actions, Days: days, Seed: seed, FirstVisit: event.VisitID(time.Now().UnixNano() / 1000),
			BookingGoal: goalIDs[0], DownloadGoal: goalIDs[1]},
			func(b store.Batch) error {
				// Keep the ingest sequence: demo batches must not look like unapplied spool records.
				b.Seq = seq
				visits += len(b.Visits)
				return events.Apply(ctx, b)
			})
		if err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "site %d: %d visits with about %d actions over %d days, written in %s\n", site, visits, actions, days, time.Since(start).Round(time.Millisecond))
		return nil
	})
}
