package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/netip"

	"hearth/internal/audit"
	"hearth/internal/config"
	"hearth/internal/secret"
	"hearth/internal/store/sqlite"
)

func auditCmd(ctx context.Context, args []string, env Env) error {
	return subcommand(ctx, "audit", args, env, []sub{{"verify", auditVerify}, {"export", auditExport}, {"retention", auditRetention}})
}

func auditVerify(ctx context.Context, args []string, env Env) error {
	var asJSON bool
	var report audit.Report
	var verr error
	err := metaCommand(ctx, "audit verify", args, env, func(fs *flag.FlagSet) {
		fs.BoolVar(&asJSON, "json", false, "print the result as JSON")
	}, func(cfg *config.Config, meta *sqlite.Store, key secret.Key) error {
		report, verr = newTrail(cfg, meta, key).Verify(ctx)
		return nil
	})
	if err != nil {
		return err
	}
	var problem *audit.Problem
	if verr != nil && !errors.As(verr, &problem) {
		return verr
	}
	if asJSON {
		out := map[string]any{"intact": problem == nil, "entries": report.Entries, "last_seq": report.LastSeq, "pruned_through": report.PrunedThrough}
		if problem != nil {
			out["first_bad_seq"] = problem.Seq
			out["reason"] = problem.Reason
		}
		if err := json.NewEncoder(env.Stdout).Encode(out); err != nil {
			return err
		}
	} else if problem == nil {
		fmt.Fprintf(env.Stdout, "audit trail intact: %d entries, last %d", report.Entries, report.LastSeq)
		if report.PrunedThrough > 0 {
			fmt.Fprintf(env.Stdout, " (entries up to %d removed by retention, as recorded)", report.PrunedThrough)
		}
		fmt.Fprintln(env.Stdout)
	}
	if problem != nil {
		return fmt.Errorf("audit trail broken at entry %d: %s", problem.Seq, problem.Reason)
	}
	return nil
}

func auditExport(ctx context.Context, args []string, env Env) error {
	var format, since, until string
	return metaCommand(ctx, "audit export", args, env, func(fs *flag.FlagSet) {
		fs.StringVar(&format, "format", "ndjson", "ndjson or csv")
		fs.StringVar(&since, "since", "", "only entries at or after this time (RFC 3339 or YYYY-MM-DD)")
		fs.StringVar(&until, "until", "", "only entries before this time (RFC 3339 or YYYY-MM-DD)")
	}, func(cfg *config.Config, meta *sqlite.Store, key secret.Key) error {
		from, err := audit.ParseTime(since)
		if err != nil {
			return usageError{fmt.Errorf("--since: %w", err)}
		}
		to, err := audit.ParseTime(until)
		if err != nil {
			return usageError{fmt.Errorf("--until: %w", err)}
		}
		if format != string(audit.NDJSON) && format != string(audit.CSV) {
			return usageError{fmt.Errorf("--format must be ndjson or csv, got %q", format)}
		}
		return newTrail(cfg, meta, key).Export(ctx, env.Stdout, audit.Format(format), from, to)
	})
}

// auditRetention shows or sets how long the trail keeps entries (a superuser-level operator
// decision taken on the server's machine, recorded in the trail).
func auditRetention(ctx context.Context, args []string, env Env) error {
	days := -1
	return metaCommand(ctx, "audit retention", args, env, func(fs *flag.FlagSet) {
		fs.IntVar(&days, "days", -1, fmt.Sprintf("keep entries this many days (0: forever, else at least %d); without it, print the setting", audit.MinRetentionDays))
	}, func(cfg *config.Config, meta *sqlite.Store, key secret.Key) error {
		trail := newTrail(cfg, meta, key)
		if days >= 0 {
			if err := trail.SetRetention(ctx, days, "cli", netip.Addr{}); err != nil {
				if errors.Is(err, audit.ErrRetentionTooShort) {
					return usageError{err}
				}
				return err
			}
		}
		cur, err := trail.Retention(ctx)
		if err != nil {
			return err
		}
		if cur == 0 {
			fmt.Fprintln(env.Stdout, "audit entries are kept forever")
		} else {
			fmt.Fprintf(env.Stdout, "audit entries are kept %d days; older ones are removed by the running server every 15 minutes\n", cur)
		}
		return nil
	})
}
