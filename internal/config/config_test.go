package config

import (
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"hearth/internal/fuzzseed"
)

func load(t *testing.T, args []string, env map[string]string) (Config, error) {
	t.Helper()
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	cfg := Defaults()
	l := Bind(fs, &cfg, Common|Server, func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	return cfg, l.Resolve()
}

func TestPrecedence(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "hearth.toml")
	if err := os.WriteFile(file, []byte(`
listen = "127.0.0.1:9000"
ip-anonymize-bytes = 3
visit-timeout = "45m"
honor-dnt = false
trusted-proxies = ["10.0.0.0/8", "192.168.1.1"]
public-url = "https://stats.example.org/"
max-bulk-inflight = 6
`), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name       string
		args       []string
		env        map[string]string
		wantListen string
		wantBytes  int
	}{
		{"file only", []string{"--config", file}, nil, "127.0.0.1:9000", 3},
		{"env beats file", []string{"--config", file}, map[string]string{"HEARTH_LISTEN": "127.0.0.1:9001", "HEARTH_IP_ANONYMIZE_BYTES": "1"}, "127.0.0.1:9001", 1},
		{"flag beats env", []string{"--config", file, "--listen", "127.0.0.1:9002"}, map[string]string{"HEARTH_LISTEN": "127.0.0.1:9001"}, "127.0.0.1:9002", 3},
		{"config from env", nil, map[string]string{"HEARTH_CONFIG": file}, "127.0.0.1:9000", 3},
		{"defaults", nil, nil, ":8080", 2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := load(t, tc.args, tc.env)
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Listen != tc.wantListen || cfg.IPAnonymizeBytes != tc.wantBytes {
				t.Fatalf("listen=%q bytes=%d, want %q %d", cfg.Listen, cfg.IPAnonymizeBytes, tc.wantListen, tc.wantBytes)
			}
		})
	}
	cfg, err := load(t, []string{"--config", file}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.VisitTimeout != 45*time.Minute || cfg.HonorDNT || len(cfg.TrustedProxies) != 2 ||
		cfg.TrustedProxies[1].String() != "192.168.1.1/32" || cfg.PublicURL != "https://stats.example.org" || cfg.MaxBulkInflight != 6 {
		t.Fatalf("file values not applied: %+v", cfg)
	}
	if cfg.SecretFile != filepath.Join("hearth-data", "secret.key") {
		t.Fatalf("secret file default = %q", cfg.SecretFile)
	}
}

func TestInvalid(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.toml")
	if err := os.WriteFile(bad, []byte("lisen = \"x\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"bytes too high", []string{"--ip-anonymize-bytes", "4"}, nil, "ip-anonymize-bytes must be 1, 2 or 3"},
		{"bytes zero from env", nil, map[string]string{"HEARTH_IP_ANONYMIZE_BYTES": "0"}, "ip-anonymize-bytes must be 1, 2 or 3"},
		{"bad proxy", []string{"--trusted-proxies", "10.0.0.0/99"}, nil, "invalid CIDR"},
		{"unknown file key", []string{"--config", bad}, nil, "unknown settings lisen"},
		{"tls half", []string{"--tls-cert", "c.pem"}, nil, "given together"},
		{"bad duration env", nil, map[string]string{"HEARTH_VISIT_TIMEOUT": "soon"}, "HEARTH_VISIT_TIMEOUT"},
		{"missing file", []string{"--config", filepath.Join(dir, "nope.toml")}, nil, "read config file"},
		{"public url scheme", []string{"--public-url", "stats.example.org"}, nil, "must start with http"},
		{"public url credentials", []string{"--public-url", "https://ann:s3cret-pw@stats.example.org"}, nil, "must not contain a user name or password"},
		{"public url query", []string{"--public-url", "https://stats.example.org/?a=1"}, nil, "must not have a query"},
		{"no bulk in flight", nil, map[string]string{"HEARTH_MAX_BULK_INFLIGHT": "0"}, "max-bulk-inflight must be between 1 and 1024"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := load(t, tc.args, tc.env)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want containing %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "s3cret-pw") {
				t.Fatalf("the error repeats the password: %v", err)
			}
		})
	}
}

func FuzzConfigFile(f *testing.F) {
	fuzzseed.Strings(f, "FuzzConfigFile", 1)
	f.Fuzz(func(t *testing.T, body string) {
		dir := t.TempDir()
		p := filepath.Join(dir, "c.toml")
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		cfg, err := load(t, []string{"--config", p}, nil)
		if err == nil && (cfg.IPAnonymizeBytes < 1 || cfg.IPAnonymizeBytes > 3) {
			t.Fatalf("accepted invalid bytes %d", cfg.IPAnonymizeBytes)
		}
	})
}
