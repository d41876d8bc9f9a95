package cli

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"hearth/internal/api/matomo"
	"hearth/internal/api/native"
	"hearth/internal/audit"
	"hearth/internal/auth"
	"hearth/internal/collect"
	"hearth/internal/config"
	"hearth/internal/enrich/device"
	"hearth/internal/enrich/geo"
	"hearth/internal/enrich/referrer"
	"hearth/internal/ingest"
	"hearth/internal/privacy"
	"hearth/internal/report"
	"hearth/internal/server"
	"hearth/internal/store/duckdb"
	"hearth/internal/store/sqlite"
	"hearth/internal/web"
)

func serve(ctx context.Context, args []string, env Env) error {
	cfg, err := parse("serve", args, env, config.Common|config.Server, nil)
	if err != nil {
		return err
	}
	log := newLogger(cfg, env.Stderr).With("component", "hearth")
	// Signals are taken from the start, so a stop requested while storage opens or replays is
	// a clean stop once serving begins.
	stop := env.Stop
	if stop == nil {
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
		defer signal.Stop(sig)
		ch := make(chan struct{})
		go func() { <-sig; close(ch) }()
		stop = ch
	}
	if _, set := env.LookupEnv("GOGC"); !set {
		// Ingest allocates many short-lived values; collecting less often costs memory this
		// server has and buys throughput.
		debug.SetGCPercent(400)
	}
	if _, set := env.LookupEnv("GOMAXPROCS"); !set {
		// A request goroutine holds its processor through the spool's fdatasync, and the
		// applier through DuckDB's calls, until the runtime notices; twice as many processors
		// as cores keep the cores busy meanwhile (about a tenth more hits per second on two
		// cores, docs/PERFORMANCE.md).
		runtime.GOMAXPROCS(2 * runtime.GOMAXPROCS(0))
	}
	meta, key, err := openMeta(ctx, cfg)
	if err != nil {
		return err
	}
	defer meta.Close()
	events, err := duckdb.Open(ctx, duckdb.Options{Path: filepath.Join(cfg.DataDir, "events.duckdb")})
	if err != nil {
		return err
	}
	defer events.Close()
	volume := volumeEncryption(cfg.DataDir)
	log.Info("storage opened", "data_dir", cfg.DataDir, "encrypted_volume", volume)

	refs := referrer.Builtin()
	if cfg.ReferrerLists != "" {
		if err := refs.LoadDir(cfg.ReferrerLists); err != nil {
			return err
		}
	}
	var geoDB *geo.DB
	if cfg.GeoIPDB != "" {
		if geoDB, err = geo.Open(cfg.GeoIPDB); err != nil {
			return err
		}
		defer geoDB.Close()
		typ, built := geoDB.Info()
		log.Info("geolocation database opened", "type", typ, "built", built.Format(time.DateOnly))
		if age := time.Since(built); age > geoMaxAge {
			log.Warn("geolocation database is old: locations drift as address blocks move; install a current edition",
				"age_days", int(age.Hours()/24))
		}
	}
	trail := newTrail(cfg, meta, key)
	authSvc := auth.New(auth.Options{Meta: meta, TokenKey: key.Derive("token-hash"), Audit: trail,
		Sessions: auth.SessionOptions{Idle: cfg.SessionIdleTimeout, Lifetime: cfg.SessionMaxAge}})
	hasher := privacy.NewHasher(key.Derive("visitor-hash"), key.Derive("user-id-hash"))
	pipe, err := ingest.Open(ctx, ingest.Options{
		Events: events, Meta: meta, Devices: device.New(100_000), Referrers: refs, Geo: geoDB,
		Hasher: hasher, Auth: authSvc,
		SpoolDir: filepath.Join(cfg.DataDir, "spool"), IPAnonymizeBytes: cfg.IPAnonymizeBytes,
		VisitTimeout: cfg.VisitTimeout, HonorDNT: cfg.HonorDNT, GlobalExcludedParams: cfg.ExcludedQueryParameters,
		MaxActionsPerVisit: cfg.MaxActionsPerVisit, Logger: log.With("component", "ingest"),
	})
	if err != nil {
		return err
	}
	clientIP := server.ClientIP(cfg.TrustedProxies)
	var names report.Names
	if geoDB != nil {
		names.Region = geoDB.RegionName
	}
	api := matomo.New(matomo.Options{Meta: meta, Events: events, Auth: authSvc, Sites: pipe, APITokenPostOnly: cfg.APITokenPostOnly, PublicURL: cfg.PublicURL,
		Pseudonym: func(uid string) string { p, _ := hasher.UserPseudonym(uid); return p },
		Audit:     trail, ClientIP: clientIP, Logger: log.With("component", "api"), Names: names, VisitorLogMaxActions: cfg.VisitorLogMaxActions})
	// The readiness checks of /readyz, which the system page shows too.
	ready := []server.Readiness{{Name: "metadata store", Check: meta.Ping}, {Name: "event store", Check: events.Ping},
		{Name: "ingest", Check: func(context.Context) error { return pipe.Healthy() }}}
	system := web.SystemInfo{DataDir: cfg.DataDir, MetaEncrypted: true, VolumeEncryption: volume}
	for _, c := range ready {
		system.Ready = append(system.Ready, web.Check{Name: c.Name, Check: c.Check})
	}
	pages, err := web.New(web.Options{Meta: meta, Audit: trail, ClientIP: clientIP, Logger: log.With("component", "web"), System: system,
		Accounts: web.Accounts{Auth: authSvc, Trail: trail, Idle: cfg.SessionIdleTimeout, Lifetime: cfg.SessionMaxAge,
			Secure: cfg.TLSCert != "" || strings.HasPrefix(cfg.PublicURL, "https://"), PublicURL: cfg.PublicURL},
		Reports: api, Version: Version})
	if err != nil {
		return err
	}
	tracking := collect.NewHandler(collect.Options{Sink: pipe, ClientIP: clientIP, MaxBodyBytes: cfg.MaxBodyBytes,
		MaxBulkInflight: cfg.MaxBulkInflight, CredentialedOrigin: pipe.KnownOrigin, Logger: log.With("component", "collect")})
	srv, err := server.New(server.Options{
		Listen: cfg.Listen, TLSCert: cfg.TLSCert, TLSKey: cfg.TLSKey, TrustedProxies: cfg.TrustedProxies,
		Tracking: tracking,
		API:      api, Pages: pages.Handler(),
		Native: native.New(native.Options{Meta: meta, Auth: authSvc, Trail: trail, ClientIP: clientIP, Session: pages.Principal,
			Logger: log.With("component", "native")}),
		Ready:   ready,
		Metrics: metricsHandler(pipe, tracking), MetricsListen: cfg.MetricsListen, Logger: log.With("component", "server"),
		RedirectListen: cfg.HTTPRedirectListen, PublicURL: cfg.PublicURL,
	})
	if err != nil {
		pipe.Close(ctx)
		return err
	}
	if tok, err := web.NewSetupToken(ctx, meta, time.Now()); err != nil {
		pipe.Close(ctx)
		return err
	} else if tok != "" {
		base := cfg.PublicURL
		if base == "" {
			scheme := "http"
			if cfg.TLSCert != "" {
				scheme = "https"
			}
			base = scheme + "://" + displayAddr(srv.Addr())
		}
		// On the terminal only, never in the structured log.
		fmt.Fprintf(env.Stderr, "\nNo superuser exists yet. Create one within 24 hours at:\n\n    %s/setup?token=%s\n\nor run `hearth init`.\n\n", base, tok)
	}
	log.Info("serving", "addr", srv.Addr(), "version", Version, "tls", cfg.TLSCert != "")
	if a := srv.RedirectAddr(); a != "" {
		log.Info("redirecting HTTP to HTTPS", "addr", a)
	}
	if err := trail.Record(ctx, audit.Event{Actor: "system", Action: audit.ActionServerStart, Details: map[string]string{"version": Version}}); err != nil {
		log.Error("audit: record server start", "err", err)
	}
	if err := recordConfigChange(ctx, meta, trail, cfg); err != nil {
		log.Error("audit: record configuration change", "err", err)
	}

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve() }()
	go housekeeping(ctx, pipe, meta, authSvc, trail, log, stop)
	var serveErr error
	select {
	case <-stop:
		log.Info("stopping")
	case serveErr = <-errc:
	}
	sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		log.Warn("shutdown", "err", err)
	}
	if err := pipe.Close(sctx); err != nil {
		return fmt.Errorf("flush ingest: %w", err)
	}
	if err := trail.Record(sctx, audit.Event{Actor: "system", Action: audit.ActionServerStop}); err != nil {
		log.Error("audit: record server stop", "err", err)
	}
	log.Info("stopped")
	return serveErr
}

func housekeeping(ctx context.Context, pipe *ingest.Pipeline, meta *sqlite.Store, authSvc *auth.Service, trail *audit.Trail, log *slog.Logger, stop <-chan struct{}) {
	// Lapsed grants are removed (and audited) every minute; the purges run every 15 minutes.
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for tick := 0; ; tick++ {
		if n, err := authSvc.ExpireGrants(ctx); err != nil {
			log.Warn("expire grants", "err", err)
		} else if n > 0 {
			log.Info("expired access grants", "count", n)
		}
		if tick%15 == 0 {
			purge(ctx, pipe, meta, log)
			if n, err := trail.Prune(ctx); err != nil {
				log.Warn("audit retention", "err", err)
			} else if n > 0 {
				log.Info("audit retention removed the oldest entries", "count", n)
			}
		}
		select {
		case <-stop:
			return
		case <-t.C:
		}
	}
}

func purge(ctx context.Context, pipe *ingest.Pipeline, meta *sqlite.Store, log *slog.Logger) {
	if err := meta.PurgeSessions(ctx, time.Now().Add(-30*24*time.Hour)); err != nil {
		log.Warn("purge old sessions", "err", err)
	}
	// Failed logins are kept a week, as Matomo does, then forgotten.
	if err := meta.PurgeAuthFailures(ctx, time.Now().Add(-7*24*time.Hour)); err != nil {
		log.Warn("purge failed-login records", "err", err)
	}
	if n, err := pipe.PurgeSalts(ctx); err != nil {
		log.Warn("purge visitor salts", "err", err)
	} else if n > 0 {
		log.Info("purged expired visitor salts", "count", n)
	}
}

// geoMaxAge is when start-up warns that the geolocation database should be replaced.
const geoMaxAge = 180 * 24 * time.Hour

func displayAddr(addr string) string {
	if strings.HasPrefix(addr, "[::]:") {
		return "localhost:" + strings.TrimPrefix(addr, "[::]:")
	}
	if strings.HasPrefix(addr, "0.0.0.0:") {
		return "localhost:" + strings.TrimPrefix(addr, "0.0.0.0:")
	}
	return addr
}

func metricsHandler(p *ingest.Pipeline, tracking *collect.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := p.StatsSnapshot()
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		fmt.Fprintf(w, "# HELP hearth_hits_total Tracking hits by outcome.\n# TYPE hearth_hits_total counter\n")
		fmt.Fprintf(w, "hearth_hits_total{outcome=\"accepted\"} %d\n", s.Accepted.Load())
		fmt.Fprintf(w, "hearth_hits_total{outcome=\"ignored\"} %d\n", s.Ignored.Load())
		fmt.Fprintf(w, "hearth_hits_total{outcome=\"bot\"} %d\n", s.Bots.Load())
		fmt.Fprintf(w, "hearth_hits_total{outcome=\"invalid\"} %d\n", s.Invalid.Load())
		fmt.Fprintf(w, "# HELP hearth_hits_dropped_total Tracking hits answered as accepted but not stored, by reason (also counted as ignored).\n# TYPE hearth_hits_dropped_total counter\n")
		fmt.Fprintf(w, "hearth_hits_dropped_total{reason=\"visit_action_limit\"} %d\n", s.OverActionLimit.Load())
		fmt.Fprintf(w, "# HELP hearth_ingest_lag_records Records accepted but not yet applied to the event store.\n# TYPE hearth_ingest_lag_records gauge\nhearth_ingest_lag_records %d\n", p.Lag())
		fmt.Fprintf(w, "# HELP hearth_ingest_batches_total Batches applied to the event store.\n# TYPE hearth_ingest_batches_total counter\nhearth_ingest_batches_total %d\n", s.Batches.Load())
		fmt.Fprintf(w, "# HELP hearth_spool_syncs_total Group commits (fsyncs) of the ingest spool.\n# TYPE hearth_spool_syncs_total counter\nhearth_spool_syncs_total %d\n", s.Syncs.Load())
		fmt.Fprintf(w, "# HELP hearth_bulk_refused_total Bulk tracking bodies answered 503 because max-bulk-inflight was reached.\n# TYPE hearth_bulk_refused_total counter\nhearth_bulk_refused_total %d\n", tracking.BulkRefused())
	})
}
