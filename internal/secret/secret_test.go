package secret

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadCreatesOnce(t *testing.T) {
	p := filepath.Join(t.TempDir(), "sub", "secret.key")
	if _, err := Load(p, false); err == nil {
		t.Fatal("missing file without create must fail")
	}
	k1, err := Load(p, true)
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v, want 0600", st.Mode().Perm())
	}
	k2, err := Load(p, true)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(k1.Derive("x"), k2.Derive("x")) {
		t.Fatal("second load returned a different key")
	}
	if bytes.Equal(k1.Derive("x"), k1.Derive("y")) {
		t.Fatal("purposes must give different keys")
	}
	if got := fmt.Sprint(k1); got != "***" {
		t.Fatalf("key printed as %q", got)
	}
	if err := os.Chmod(p, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(p, false); err == nil || !strings.Contains(err.Error(), "readable by others") {
		t.Fatalf("world-readable secret accepted: %v", err)
	}
}
