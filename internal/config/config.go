// Package config holds Hearth's typed configuration and loads it from flags, HEARTH_*
// environment variables and a TOML file, in that order of precedence.
package config

import (
	"errors"
	"flag"
	"fmt"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
)

// Config is every setting Hearth reads. Secrets are not here: they come from the
// environment or files when a command needs them.
type Config struct {
	DataDir    string
	SecretFile string
	ConfigFile string
	LogLevel   string
	LogFormat  string

	Listen             string
	PublicURL          string
	TLSCert            string
	TLSKey             string
	HTTPRedirectListen string
	MetricsListen      string
	TrustedProxies     []netip.Prefix
	GeoIPDB            string
	ReferrerLists      string

	IPAnonymizeBytes        int
	VisitTimeout            time.Duration
	HonorDNT                bool
	APITokenPostOnly        bool
	ExcludedQueryParameters []string
	MaxBodyBytes            int64
	MaxBulkInflight         int
	SessionIdleTimeout      time.Duration
	SessionMaxAge           time.Duration

	// The most actions ingest takes in one visit, and the most a visit lists in the visitor log.
	MaxActionsPerVisit   int
	VisitorLogMaxActions int
}

// Defaults returns the configuration used when nothing is set.
func Defaults() Config {
	return Config{
		DataDir:            "./hearth-data",
		LogLevel:           "info",
		LogFormat:          "text",
		Listen:             ":8080",
		IPAnonymizeBytes:   2,
		VisitTimeout:       30 * time.Minute,
		HonorDNT:           true,
		MaxBodyBytes:       8 << 20,
		MaxBulkInflight:    2,
		SessionIdleTimeout: 30 * time.Minute,
		SessionMaxAge:      12 * time.Hour,

		// Far above what a person does in one visit; Matomo's visitor_log_maximum_actions_per_visit.
		MaxActionsPerVisit:   10_000,
		VisitorLogMaxActions: 500,
	}
}

// Group selects which settings a subcommand accepts.
type Group int

// Setting groups.
const (
	// Common settings are accepted by every subcommand.
	Common Group = 1 << iota
	// Server settings are accepted by commands that serve or ingest.
	Server
)

// Loader binds settings to a flag set and resolves them against env and file.
type Loader struct {
	fs     *flag.FlagSet
	cfg    *Config
	names  []string
	lookup func(string) (string, bool)
}

// Bind registers the settings of groups on fs, writing into cfg (which should hold Defaults).
// lookupEnv is os.LookupEnv in production and a map in tests.
func Bind(fs *flag.FlagSet, cfg *Config, groups Group, lookupEnv func(string) (string, bool)) *Loader {
	l := &Loader{fs: fs, cfg: cfg, lookup: lookupEnv}
	// Every flag registered here is a setting (environment variable and file key too): the
	// names are collected from fs afterwards, so each is written once.
	before := map[string]bool{}
	fs.VisitAll(func(f *flag.Flag) { before[f.Name] = true })
	str := func(p *string, name, usage string) { fs.StringVar(p, name, *p, usage) }
	if groups&Common != 0 {
		str(&cfg.DataDir, "data-dir", "folder holding Hearth's stores")
		str(&cfg.SecretFile, "secret-file", "instance secret file (default <data-dir>/secret.key)")
		str(&cfg.ConfigFile, "config", "TOML configuration file")
		str(&cfg.LogLevel, "log-level", "log level: debug, info, warn, error")
		str(&cfg.LogFormat, "log-format", "log format: text or json")
	}
	if groups&Server != 0 {
		str(&cfg.Listen, "listen", "address to serve HTTP on")
		str(&cfg.PublicURL, "public-url", "address users reach Hearth at, e.g. https://analytics.example.org")
		str(&cfg.TLSCert, "tls-cert", "TLS certificate file (PEM)")
		str(&cfg.TLSKey, "tls-key", "TLS private key file (PEM)")
		str(&cfg.HTTPRedirectListen, "http-redirect-listen", "address of a listener that redirects HTTP to HTTPS")
		str(&cfg.MetricsListen, "metrics-listen", "address serving /metrics (off unless set)")
		fs.Var(prefixList{&cfg.TrustedProxies}, "trusted-proxies", "comma-separated CIDRs whose X-Forwarded-For/Forwarded headers are trusted")
		str(&cfg.GeoIPDB, "geoip-db", "MaxMind-format .mmdb file for geolocation")
		str(&cfg.ReferrerLists, "referrer-lists", "folder with extra search engine, social and spam lists in Matomo's formats")
		fs.IntVar(&cfg.IPAnonymizeBytes, "ip-anonymize-bytes", cfg.IPAnonymizeBytes, "bytes of the IP address to zero before storage (1-3)")
		fs.DurationVar(&cfg.VisitTimeout, "visit-timeout", cfg.VisitTimeout, "inactivity after which a new visit starts")
		fs.BoolVar(&cfg.HonorDNT, "honor-dnt", cfg.HonorDNT, "drop hits from browsers sending DNT or Sec-GPC")
		fs.BoolVar(&cfg.APITokenPostOnly, "api-token-post-only", cfg.APITokenPostOnly, "accept token_auth only in POST bodies")
		fs.Var(stringList{&cfg.ExcludedQueryParameters}, "excluded-query-parameters", "comma-separated URL query parameters removed from every site's URLs, on top of the built-in list")
		fs.Int64Var(&cfg.MaxBodyBytes, "max-body-bytes", cfg.MaxBodyBytes, "largest request body accepted")
		fs.IntVar(&cfg.MaxBulkInflight, "max-bulk-inflight", cfg.MaxBulkInflight, "bulk tracking bodies of max-body-bytes decoded at once (smaller ones take their share); more are answered 503 to retry")
		fs.DurationVar(&cfg.SessionIdleTimeout, "session-idle-timeout", cfg.SessionIdleTimeout, "inactivity that signs a web session out")
		fs.DurationVar(&cfg.SessionMaxAge, "session-max-age", cfg.SessionMaxAge, "longest a web session lasts")
		fs.IntVar(&cfg.MaxActionsPerVisit, "max-actions-per-visit", cfg.MaxActionsPerVisit, "most actions one visit takes; its later hits are dropped and counted")
		fs.IntVar(&cfg.VisitorLogMaxActions, "visitor-log-max-actions", cfg.VisitorLogMaxActions, "most actions a visit lists in the visitor log (Live.getLastVisitsDetails)")
	}
	fs.VisitAll(func(f *flag.Flag) {
		if !before[f.Name] {
			l.names = append(l.names, f.Name)
		}
	})
	return l
}

// EnvName is the environment variable for a setting: HEARTH_ + upper case, dashes to underscores.
func EnvName(setting string) string {
	return "HEARTH_" + strings.ToUpper(strings.ReplaceAll(setting, "-", "_"))
}

// Resolve applies env and file values to every setting not given as a flag, then validates.
// Call it after fs.Parse.
func (l *Loader) Resolve() error {
	set := map[string]bool{}
	l.fs.Visit(func(f *flag.Flag) { set[f.Name] = true })

	// The config file location itself may come from the environment.
	if !set["config"] {
		if v, ok := l.lookup(EnvName("config")); ok && l.fs.Lookup("config") != nil {
			l.cfg.ConfigFile = v
		}
	}
	var file map[string]any
	if l.cfg.ConfigFile != "" {
		if _, err := toml.DecodeFile(l.cfg.ConfigFile, &file); err != nil {
			return fmt.Errorf("read config file: %w", err)
		}
		known := map[string]bool{}
		for _, n := range l.names {
			known[n] = true
		}
		var unknown []string
		for k := range file {
			if !known[k] {
				unknown = append(unknown, k)
			}
		}
		if len(unknown) > 0 {
			sort.Strings(unknown)
			return fmt.Errorf("config file %s: unknown settings %s", l.cfg.ConfigFile, strings.Join(unknown, ", "))
		}
	}
	for _, name := range l.names {
		if set[name] || name == "config" {
			continue
		}
		if v, ok := l.lookup(EnvName(name)); ok {
			if err := l.fs.Set(name, v); err != nil {
				return fmt.Errorf("environment %s: %w", EnvName(name), err)
			}
			continue
		}
		if raw, ok := file[name]; ok {
			v, err := tomlString(raw)
			if err != nil {
				return fmt.Errorf("config file setting %s: %w", name, err)
			}
			if err := l.fs.Set(name, v); err != nil {
				return fmt.Errorf("config file setting %s: %w", name, err)
			}
		}
	}
	return l.cfg.finish()
}

func tomlString(v any) (string, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case int64:
		return strconv.FormatInt(x, 10), nil
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), nil
	case bool:
		return strconv.FormatBool(x), nil
	case []any:
		parts := make([]string, 0, len(x))
		for _, e := range x {
			s, err := tomlString(e)
			if err != nil {
				return "", err
			}
			parts = append(parts, s)
		}
		return strings.Join(parts, ","), nil
	}
	return "", fmt.Errorf("unsupported value type %T", v)
}

func (c *Config) finish() error {
	var errs []error
	if c.DataDir == "" {
		errs = append(errs, errors.New("data-dir must not be empty"))
	}
	if c.SecretFile == "" {
		c.SecretFile = filepath.Join(c.DataDir, "secret.key")
	}
	if c.IPAnonymizeBytes < 1 || c.IPAnonymizeBytes > 3 {
		errs = append(errs, fmt.Errorf("ip-anonymize-bytes must be 1, 2 or 3, got %d", c.IPAnonymizeBytes))
	}
	if c.VisitTimeout < time.Minute || c.VisitTimeout > 24*time.Hour {
		errs = append(errs, fmt.Errorf("visit-timeout must be between 1m and 24h, got %s", c.VisitTimeout))
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		errs = append(errs, errors.New("tls-cert and tls-key must be given together"))
	}
	if c.SessionIdleTimeout < time.Minute || c.SessionMaxAge < c.SessionIdleTimeout || c.SessionMaxAge > 30*24*time.Hour {
		errs = append(errs, fmt.Errorf("sessions: need 1m <= session-idle-timeout <= session-max-age <= 720h"))
	}
	if c.MaxBodyBytes < 1024 {
		errs = append(errs, fmt.Errorf("max-body-bytes must be at least 1024, got %d", c.MaxBodyBytes))
	}
	if c.MaxBulkInflight < 1 || c.MaxBulkInflight > 1024 {
		errs = append(errs, fmt.Errorf("max-bulk-inflight must be between 1 and 1024, got %d", c.MaxBulkInflight))
	}
	if c.MaxActionsPerVisit < 1 || c.MaxActionsPerVisit > 1_000_000 {
		errs = append(errs, fmt.Errorf("max-actions-per-visit must be between 1 and 1000000, got %d", c.MaxActionsPerVisit))
	}
	if c.VisitorLogMaxActions < 1 || c.VisitorLogMaxActions > 100_000 {
		errs = append(errs, fmt.Errorf("visitor-log-max-actions must be between 1 and 100000, got %d", c.VisitorLogMaxActions))
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Errorf("log-level must be debug, info, warn or error, got %q", c.LogLevel))
	}
	switch c.LogFormat {
	case "text", "json":
	default:
		errs = append(errs, fmt.Errorf("log-format must be text or json, got %q", c.LogFormat))
	}
	if c.PublicURL != "" {
		// The value is not repeated in the errors: a mistaken one could hold a password.
		u, err := url.Parse(c.PublicURL)
		switch {
		case !strings.HasPrefix(c.PublicURL, "http://") && !strings.HasPrefix(c.PublicURL, "https://"):
			errs = append(errs, errors.New("public-url must start with http:// or https://"))
		case err != nil || u.Host == "":
			errs = append(errs, errors.New("public-url is not a URL with a host"))
		case u.User != nil:
			errs = append(errs, errors.New("public-url must not contain a user name or password"))
		case u.RawQuery != "" || u.Fragment != "":
			errs = append(errs, errors.New("public-url must not have a query or fragment"))
		}
	}
	c.PublicURL = strings.TrimRight(c.PublicURL, "/")
	return errors.Join(errs...)
}

// EnsureDataDir creates the data dir with mode 0700 if needed and tightens it if it exists.
func (c *Config) EnsureDataDir() error {
	if err := os.MkdirAll(c.DataDir, 0o700); err != nil {
		return fmt.Errorf("create data dir: %w", err)
	}
	if err := os.Chmod(c.DataDir, 0o700); err != nil { // #nosec G302 -- a folder needs its x bit; owner only
		return fmt.Errorf("restrict data dir: %w", err)
	}
	return nil
}

type prefixList struct{ p *[]netip.Prefix }

func (l prefixList) String() string {
	if l.p == nil {
		return ""
	}
	parts := make([]string, len(*l.p))
	for i, p := range *l.p {
		parts[i] = p.String()
	}
	return strings.Join(parts, ",")
}

func (l prefixList) Set(s string) error {
	var out []netip.Prefix
	for _, part := range splitList(s) {
		p, err := ParsePrefixOrAddr(part)
		if err != nil {
			return err
		}
		out = append(out, p)
	}
	*l.p = out
	return nil
}

// ParsePrefixOrAddr parses a CIDR, or a single address as a full-length prefix.
func ParsePrefixOrAddr(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return p, fmt.Errorf("invalid CIDR %q", s)
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("invalid IP address %q", s)
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}

type stringList struct{ p *[]string }

func (l stringList) String() string {
	if l.p == nil {
		return ""
	}
	return strings.Join(*l.p, ",")
}

func (l stringList) Set(s string) error {
	*l.p = splitList(s)
	return nil
}

func splitList(s string) []string {
	var out []string
	for _, part := range strings.Split(s, ",") {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}
