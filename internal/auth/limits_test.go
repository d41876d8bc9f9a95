package auth

import (
	"context"
	"errors"
	"net/netip"
	"sync"
	"testing"
	"time"

	"hearth/internal/store"
)

// TestBlockedAttemptsCostNoHashing: once a client is blocked, or a login locked, a password
// attempt is refused without an argon2 check, and a blocked client's attempts do not count
// against the login, so one client cannot lock anybody out however often it tries.
func TestBlockedAttemptsCostNoHashing(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	s, meta, _ := testService(t, &now)
	hashes := 0
	s.verify = func(encoded, password string) bool {
		hashes++
		return VerifyPassword(encoded, password)
	}
	hash, _ := HashPassword("carol's right passphrase")
	if err := meta.CreateUser(ctx, store.User{Login: "carol", Email: "c@x", PasswordHash: hash}); err != nil {
		t.Fatal(err)
	}
	attacker := netip.MustParseAddr("203.0.113.9")
	for i := 0; i < MaxIPFailures+1; i++ {
		if _, err := s.Password(ctx, "carol", "guess", attacker); !errors.Is(err, ErrBadCredentials) {
			t.Fatalf("attempt %d: %v", i, err)
		}
	}
	if hashes != MaxIPFailures+1 {
		t.Fatalf("%d hashes for %d attempts below the limit", hashes, MaxIPFailures+1)
	}
	// Blocked now: the next attempts hash nothing, whether the login exists or not.
	for i := 0; i < 3*MaxLoginFailures; i++ {
		login := "carol"
		if i%2 == 1 {
			login = "nobody-by-that-name"
		}
		if _, err := s.Password(ctx, login, "guess", attacker); !errors.Is(err, ErrBadCredentials) {
			t.Fatalf("blocked attempt %d: %v", i, err)
		}
	}
	if hashes != MaxIPFailures+1 {
		t.Fatalf("a blocked client caused %d more password hashes", hashes-(MaxIPFailures+1))
	}
	// Nor are they written down: the block was recorded once.
	if byIP, _, err := meta.AuthFailures(ctx, now.Add(-FailureWindow), s.ipHash(attacker), ""); err != nil || byIP != MaxIPFailures+1 {
		t.Fatalf("failures stored for the blocked client: %d %v, want %d", byIP, err, MaxIPFailures+1)
	}
	_, byLogin, err := meta.AuthFailures(ctx, now.Add(-FailureWindow), nil, "carol")
	if err != nil || byLogin != MaxIPFailures+1 {
		t.Fatalf("failures counted against the login: %d, %v (want only the %d before the block)", byLogin, err, MaxIPFailures+1)
	}
	// The login is not locked: carol signs in from her own address.
	if _, err := s.Password(ctx, "carol", "carol's right passphrase", testIP); err != nil {
		t.Fatalf("carol locked out by one client: %v", err)
	}

	// A locked login (failures from many clients) is refused without hashing too.
	for i := 0; i < MaxLoginFailures+1; i++ {
		_, _ = s.Password(ctx, "carol", "guess", netip.AddrFrom4([4]byte{10, 1, byte(i / 250), byte(i % 250)}))
	}
	before := hashes
	for i := 0; i < 10; i++ {
		if _, err := s.Password(ctx, "carol", "carol's right passphrase", testIP); !errors.Is(err, ErrBadCredentials) {
			t.Fatalf("locked login accepted: %v", err)
		}
	}
	if hashes != before {
		t.Fatalf("a locked login caused %d password hashes", hashes-before)
	}
}

// TestParallelAttemptsMeetTheLimits: attempts sent all at once from one client pass the
// limits no more often than attempts one after another (checks under way count as
// failures), so they cannot lock the login; an IPv6 client is its /64, so changing the
// address within it changes nothing; and at most the hash slots' number of hashes run at once.
func TestParallelAttemptsMeetTheLimits(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	s, meta, _ := testService(t, &now)
	var mu sync.Mutex
	hashes, running, most := 0, 0, 0
	s.verify = func(encoded, password string) bool {
		mu.Lock()
		hashes++
		running++
		most = max(most, running)
		mu.Unlock()
		ok := VerifyPassword(encoded, password)
		mu.Lock()
		running--
		mu.Unlock()
		return ok
	}
	hash, _ := HashPassword("carol's right passphrase")
	if err := meta.CreateUser(ctx, store.User{Login: "carol", Email: "c@x", PasswordHash: hash}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		from func(i int) netip.Addr
	}{
		{"one IPv4 address", func(int) netip.Addr { return netip.MustParseAddr("203.0.113.9") }},
		{"addresses of one IPv6 /64", func(i int) netip.Addr {
			return netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 7, 0, 0, 0, 0, 0, 0, byte(i >> 8), byte(i)})
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hashes, most = 0, 0
			var wg sync.WaitGroup
			for i := range 100 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if _, err := s.Password(ctx, "carol", "guess", tc.from(i)); !errors.Is(err, ErrBadCredentials) {
						t.Errorf("attempt %d: %v", i, err)
					}
				}()
			}
			wg.Wait()
			if hashes > MaxIPFailures+1 {
				t.Fatalf("%d of 100 parallel attempts were hashed, want at most %d", hashes, MaxIPFailures+1)
			}
			if most > cap(s.hashSlots) {
				t.Fatalf("%d hashes ran at once, want at most %d", most, cap(s.hashSlots))
			}
		})
	}
	if _, byLogin, err := meta.AuthFailures(ctx, now.Add(-FailureWindow), nil, "carol"); err != nil || byLogin > 2*(MaxIPFailures+1) {
		t.Fatalf("failures against the login: %d %v", byLogin, err)
	}
	if _, err := s.Password(ctx, "carol", "carol's right passphrase", testIP); err != nil {
		t.Fatalf("carol locked out by two clients' parallel guesses: %v", err)
	}
}
