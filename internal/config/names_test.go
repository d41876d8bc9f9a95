package config

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestEverySettingFromEnvAndFile: settings of every kind (string, number, duration, boolean,
// lists) are read from HEARTH_* variables and accepted as config file keys, their names
// written once where the flag is registered.
func TestEverySettingFromEnvAndFile(t *testing.T) {
	cfg, err := load(t, nil, map[string]string{
		"HEARTH_MAX_ACTIONS_PER_VISIT": "7", "HEARTH_VISITOR_LOG_MAX_ACTIONS": "9", "HEARTH_SESSION_MAX_AGE": "2h",
		"HEARTH_TRUSTED_PROXIES": "10.0.0.0/8", "HEARTH_EXCLUDED_QUERY_PARAMETERS": "a,b", "HEARTH_HONOR_DNT": "false",
		"HEARTH_API_TOKEN_POST_ONLY": "true", "HEARTH_METRICS_LISTEN": "127.0.0.1:9100",
	})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.MaxActionsPerVisit != 7 || cfg.VisitorLogMaxActions != 9 || cfg.SessionMaxAge != 2*time.Hour || len(cfg.TrustedProxies) != 1 ||
		len(cfg.ExcludedQueryParameters) != 2 || cfg.HonorDNT || !cfg.APITokenPostOnly || cfg.MetricsListen != "127.0.0.1:9100" {
		t.Fatalf("from the environment: %+v", cfg)
	}
	file := filepath.Join(t.TempDir(), "hearth.toml")
	if err := os.WriteFile(file, []byte("max-actions-per-visit = 11\nvisitor-log-max-actions = 13\nsession-idle-timeout = \"5m\"\napi-token-post-only = true\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err = load(t, []string{"--config", file}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.MaxActionsPerVisit != 11 || cfg.VisitorLogMaxActions != 13 || cfg.SessionIdleTimeout != 5*time.Minute || !cfg.APITokenPostOnly {
		t.Fatalf("from the file: %+v", cfg)
	}
	if err := os.WriteFile(file, []byte("no-such-setting = 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := load(t, []string{"--config", file}, nil); err == nil {
		t.Fatal("an unknown file key was accepted")
	}
}
