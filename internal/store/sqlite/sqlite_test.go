package sqlite

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"hearth/internal/store"
)

func testKey(b byte) []byte { return bytes.Repeat([]byte{b}, 64) }

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

func TestSitesUsersTokensSalts(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, Options{Path: filepath.Join(t.TempDir(), "meta.db"), Key: testKey(3)})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	id, err := s.CreateSite(ctx, store.Site{Name: "Clinic", URLs: []string{"https://clinic.example"}, Timezone: "Europe/Berlin",
		Currency: "EUR", ExcludedIPs: []string{"10.0.0.0/8"}, Created: time.Unix(1700000000, 0)})
	if err != nil {
		t.Fatal(err)
	}
	site, err := s.Site(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if site.Name != "Clinic" || site.Timezone != "Europe/Berlin" || len(site.ExcludedIPs) != 1 || site.ExcludedIPs[0] != "10.0.0.0/8" {
		t.Fatalf("site round trip: %+v", site)
	}
	site.Name = "Clinic 2"
	site.Ecommerce = true
	if err := s.UpdateSite(ctx, site); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Site(ctx, id); got.Name != "Clinic 2" || !got.Ecommerce {
		t.Fatalf("update lost: %+v", got)
	}
	if _, err := s.Site(ctx, 99); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("missing site err = %v", err)
	}

	if err := s.CreateUser(ctx, store.User{Login: "root", Email: "r@example.org", PasswordHash: "h", Superuser: true}); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateUser(ctx, store.User{Login: "root", Email: "x", PasswordHash: "h"}); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("duplicate login err = %v", err)
	}
	if n, _ := s.CountSuperusers(ctx); n != 1 {
		t.Fatalf("superusers = %d", n)
	}
	tid, err := s.CreateToken(ctx, store.Token{Login: "root", Hash: []byte{1, 2, 3}, Description: "ci", Created: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := s.TokenByHash(ctx, []byte{1, 2, 3})
	if err != nil || tok.ID != tid || tok.Login != "root" {
		t.Fatalf("token lookup: %+v %v", tok, err)
	}
	now := time.Unix(1800000000, 0)
	a, err := s.Salt(ctx, id, "2026-11-23", now)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := s.Salt(ctx, id, "2026-11-23", now.Add(time.Hour))
	c, _ := s.Salt(ctx, id, "2026-11-24", now.Add(25*time.Hour))
	if !bytes.Equal(a, b) || bytes.Equal(a, c) || len(a) != 32 {
		t.Fatal("salt must be stable within a day and differ across days")
	}
	n, err := s.PurgeSalts(ctx, now.Add(49*time.Hour).Add(-48*time.Hour))
	if err != nil || n != 1 {
		t.Fatalf("purged %d, %v; want the first day's salt only", n, err)
	}
}

func TestUsersAndTokensLifecycle(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, Options{Path: filepath.Join(t.TempDir(), "meta.db"), Key: testKey(5)})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, u := range []store.User{{Login: "root", Email: "r@x", PasswordHash: "h", Superuser: true}, {Login: "ann", Email: "a@x", PasswordHash: "h"}} {
		if err := s.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	users, err := s.Users(ctx)
	if err != nil || len(users) != 2 || users[0].Login != "ann" || !users[1].Superuser {
		t.Fatalf("users: %+v %v", users, err)
	}
	root := users[1]
	root.Disabled = true
	if err := s.UpdateUser(ctx, root); !errors.Is(err, store.ErrLastSuperuser) {
		t.Fatalf("disabling the last superuser: %v", err)
	}
	root.Disabled, root.Superuser = false, false
	if err := s.UpdateUser(ctx, root); !errors.Is(err, store.ErrLastSuperuser) {
		t.Fatalf("demoting the last superuser: %v", err)
	}
	if u, _ := s.User(ctx, "root"); !u.Superuser || u.Disabled {
		t.Fatalf("refused change applied: %+v", u)
	}
	ann := users[0]
	ann.Superuser = true
	if err := s.UpdateUser(ctx, ann); err != nil {
		t.Fatal(err)
	}
	root.Superuser, root.Disabled = true, true
	if err := s.UpdateUser(ctx, root); err != nil {
		t.Fatalf("with a second superuser, disabling is allowed: %v", err)
	}
	if err := s.UpdateUser(ctx, store.User{Login: "ghost"}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown user: %v", err)
	}
	id1, _ := s.CreateToken(ctx, store.Token{Login: "root", Hash: []byte{1}, Description: "a"})
	id2, _ := s.CreateToken(ctx, store.Token{Login: "ann", Hash: []byte{2}, Description: "b"})
	if all, _ := s.Tokens(ctx, ""); len(all) != 2 {
		t.Fatalf("all tokens: %+v", all)
	}
	if mine, _ := s.Tokens(ctx, "ann"); len(mine) != 1 || mine[0].ID != id2 {
		t.Fatalf("ann's tokens: %+v", mine)
	}
	if err := s.DeleteToken(ctx, id1); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteToken(ctx, id1); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("second revoke: %v", err)
	}
	if _, err := s.TokenByHash(ctx, []byte{1}); !errors.Is(err, store.ErrNotFound) {
		t.Fatal("revoked token still found")
	}
}
