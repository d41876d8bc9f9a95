package sqlite

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"hearth/internal/store"
	"hearth/internal/store/storetest"
)

func testKey(b byte) []byte { return bytes.Repeat([]byte{b}, 64) }

func TestConformance(t *testing.T) {
	storetest.RunMeta(t, func(t *testing.T) store.Meta {
		s, err := Open(context.Background(), Options{Path: filepath.Join(t.TempDir(), "meta.db"), Key: testKey(9)})
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

func TestEncryptedAtRest(t *testing.T) {
	ctx := context.Background()
	const marker = "hearth-plaintext-marker@example.org"
	for _, tc := range []struct {
		name      string
		key       []byte
		wantFound bool
	}{
		{"unencrypted control", nil, true},
		{"encrypted", testKey(7), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "meta.db")
			s, err := Open(ctx, Options{Path: path, Key: tc.key})
			if err != nil {
				t.Fatal(err)
			}
			if err := s.CreateUser(ctx, store.User{Login: "admin", Email: marker, PasswordHash: "x", Superuser: true, Created: time.Now()}); err != nil {
				t.Fatal(err)
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			found := false
			entries, _ := os.ReadDir(dir)
			for _, e := range entries {
				b, err := os.ReadFile(filepath.Join(dir, e.Name()))
				if err != nil {
					t.Fatal(err)
				}
				if bytes.Contains(b, []byte(marker)) || bytes.Contains(b, []byte("SQLite format 3")) {
					found = true
				}
			}
			if found != tc.wantFound {
				t.Fatalf("plaintext found = %v, want %v", found, tc.wantFound)
			}
			st, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			if st.Mode().Perm() != 0o600 {
				t.Fatalf("mode %v", st.Mode().Perm())
			}
		})
	}
}

func TestWrongKeyRefused(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "meta.db")
	s, err := Open(ctx, Options{Path: path, Key: testKey(1)})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if s2, err := Open(ctx, Options{Path: path, Key: testKey(2)}); err == nil {
		s2.Close()
		t.Fatal("opened with the wrong key")
	} else if bytes.Contains([]byte(err.Error()), []byte("0202")) {
		t.Fatalf("error leaks key material: %v", err)
	}
}
