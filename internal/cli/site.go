package cli

import (
	"context"
	"flag"
	"fmt"
	"strconv"

	"hearth/internal/config"
	"hearth/internal/event"
	"hearth/internal/secret"
	"hearth/internal/store/sqlite"
	"hearth/internal/tracker"
)

func siteCmd(ctx context.Context, args []string, env Env) error {
	return subcommand(ctx, "site", args, env, []sub{{"snippet", siteSnippet}})
}

// siteSnippet prints a site's tracking code: Hearth's short form by default, Matomo's
// standard form with --form matomo.
func siteSnippet(ctx context.Context, args []string, env Env) error {
	idText, rest, err := positional(args, "site ID")
	if err != nil {
		return err
	}
	id, err := strconv.ParseInt(idText, 10, 64)
	if err != nil || id <= 0 {
		return usageError{fmt.Errorf("site ID must be a positive number, got %q", idText)}
	}
	var form, base string
	var opts tracker.SnippetOptions
	var code string
	err = metaCommand(ctx, "site snippet", rest, env, func(fs *flag.FlagSet) {
		fs.StringVar(&form, "form", tracker.FormHearth, "hearth (the short tag) or matomo (Matomo's standard snippet)")
		fs.StringVar(&base, "url", "", "the address pages reach Hearth at (default: public-url)")
		fs.BoolVar(&opts.DoNotTrack, "dnt", false, "honour the browser's Do Not Track and Global Privacy Control")
		fs.BoolVar(&opts.NoScript, "noscript", false, "add the <noscript> image for visitors without JavaScript")
		fs.BoolVar(&opts.DisableCookies, "disable-cookies", false, "Matomo form: push disableCookies")
	}, func(cfg *config.Config, meta *sqlite.Store, _ secret.Key) error {
		if _, err := meta.Site(ctx, event.SiteID(id)); err != nil {
			return fmt.Errorf("site %d: %w", id, err)
		}
		if base == "" {
			base = cfg.PublicURL
		}
		if base == "" {
			return usageError{fmt.Errorf("give --url, the address pages reach Hearth at, or set public-url")}
		}
		code, err = tracker.Snippet(form, base, id, opts)
		return err
	})
	if err != nil {
		return err
	}
	_, err = fmt.Fprint(env.Stdout, code)
	return err
}
