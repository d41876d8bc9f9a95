package storetest

import (
	"context"
	"testing"
	"time"

	"hearth/internal/store"
)

func metaTokens(t *testing.T, s store.Meta) {
	ctx := context.Background()
	addUsers(t, s, "root", "ann")
	tok1 := store.Token{Login: "root", Hash: []byte{1, 2, 3}, Description: "ci", Created: metaT0, Expires: metaT0.Add(30 * 24 * time.Hour), ReadOnly: true}
	tok2 := store.Token{Login: "ann", Hash: []byte{4, 5, 6}, Description: "upload", Created: metaT0.Add(time.Minute), LastUsed: metaT0.Add(2 * time.Minute), PostOnly: true}
	var err error
	tok1.ID, err = s.CreateToken(ctx, tok1)
	must(t, "create token", err)
	tok2.ID, err = s.CreateToken(ctx, tok2)
	must(t, "create token", err)
	if tok1.ID == tok2.ID {
		t.Fatalf("two tokens got id %d", tok1.ID)
	}
	got, err := s.TokenByHash(ctx, tok1.Hash)
	must(t, "token by hash", err)
	same(t, "token", got, tok1)
	_, err = s.TokenByHash(ctx, []byte{9})
	wantErr(t, "unknown hash", err, store.ErrNotFound)
	if _, err := s.CreateToken(ctx, store.Token{Login: "ann", Hash: tok1.Hash, Description: "copy", Created: metaT0}); err == nil {
		t.Fatal("a second token of the same hash was stored")
	}

	list := func(login string, want ...store.Token) {
		t.Helper()
		got, err := s.Tokens(ctx, login)
		must(t, "list tokens", err)
		sameList(t, "tokens of "+login, got, want)
	}
	list("", tok1, tok2)
	list("ann", tok2)
	list("nobody")

	// Last use only moves forward.
	must(t, "touch token", s.TouchToken(ctx, tok1.ID, metaT0.Add(time.Hour)))
	must(t, "touch token", s.TouchToken(ctx, tok1.ID, metaT0.Add(30*time.Minute)))
	tok1.LastUsed = metaT0.Add(time.Hour)
	got, err = s.TokenByHash(ctx, tok1.Hash)
	must(t, "token by hash", err)
	same(t, "touched token", got, tok1)

	for _, tc := range []struct {
		id    int64
		ip    byte
		first bool
	}{{tok1.ID, 1, true}, {tok1.ID, 1, false}, {tok1.ID, 2, true}, {tok2.ID, 1, true}} {
		first, err := s.TokenSeenFrom(ctx, tc.id, []byte{tc.ip}, metaT0)
		if err != nil || first != tc.first {
			t.Fatalf("token %d seen from %d: first = %v, %v; want %v", tc.id, tc.ip, first, err, tc.first)
		}
	}

	must(t, "revoke token", s.DeleteToken(ctx, tok1.ID))
	wantErr(t, "second revoke", s.DeleteToken(ctx, tok1.ID), store.ErrNotFound)
	_, err = s.TokenByHash(ctx, tok1.Hash)
	wantErr(t, "revoked token", err, store.ErrNotFound)
	list("", tok2)
}

func metaGrants(t *testing.T, s store.Meta) {
	ctx := context.Background()
	addUsers(t, s, "root", "ann", "bob")
	ann1 := store.Grant{Login: "ann", SiteID: 1, Name: "view", Expires: metaT0.Add(24 * time.Hour), GrantedBy: "root", Created: metaT0}
	ann2 := store.Grant{Login: "ann", SiteID: 2, Name: "admin", GrantedBy: "root", Created: metaT0}
	bob1 := store.Grant{Login: "bob", SiteID: 1, Name: "write", GrantedBy: "root", Created: metaT0}
	for _, g := range []store.Grant{ann2, bob1, ann1} {
		must(t, "set role", s.SetRole(ctx, g))
	}
	grants := func(login string, wantRoles, wantCaps []store.Grant) {
		t.Helper()
		roles, caps, err := s.Grants(ctx, login)
		must(t, "list grants", err)
		sameList(t, "roles of "+login, roles, wantRoles)
		sameList(t, "capabilities of "+login, caps, wantCaps)
	}
	grants("ann", []store.Grant{ann1, ann2}, nil)

	// A role replaces the one the user had on the site; an empty role removes it.
	ann1 = store.Grant{Login: "ann", SiteID: 1, Name: "write", GrantedBy: "bob", Created: metaT0.Add(time.Minute)}
	must(t, "replace role", s.SetRole(ctx, ann1))
	must(t, "remove role", s.SetRole(ctx, store.Grant{Login: "ann", SiteID: 2}))
	grants("ann", []store.Grant{ann1}, nil)
	wantErr(t, "role of a missing user", s.SetRole(ctx, store.Grant{Login: "ghost", SiteID: 1, Name: "view", Created: metaT0}), store.ErrNotFound)

	annCap := store.Grant{Login: "ann", SiteID: 1, Name: "view_raw", Expires: metaT0.Add(time.Hour), GrantedBy: "root", Created: metaT0}
	bobCap := store.Grant{Login: "bob", SiteID: 1, Name: "view_raw", GrantedBy: "root", Created: metaT0}
	must(t, "add capability", s.AddCapability(ctx, annCap))
	must(t, "add capability", s.AddCapability(ctx, bobCap))
	// Granting a capability again renews it.
	annCap.Expires, annCap.GrantedBy, annCap.Created = metaT0.Add(2*time.Hour), "bob", metaT0.Add(time.Minute)
	must(t, "renew capability", s.AddCapability(ctx, annCap))
	wantErr(t, "capability of a missing user", s.AddCapability(ctx, store.Grant{Login: "ghost", SiteID: 1, Name: "view_raw", Created: metaT0}), store.ErrNotFound)
	grants("", []store.Grant{ann1, bob1}, []store.Grant{annCap, bobCap})

	must(t, "remove capability", s.RemoveCapability(ctx, "bob", 1, "view_raw"))
	grants("bob", []store.Grant{bob1}, nil)
	grants("ann", []store.Grant{ann1}, []store.Grant{annCap})
}

func metaExpiredGrants(t *testing.T, s store.Meta) {
	ctx := context.Background()
	addUsers(t, s, "root", "ann", "bob")
	now := metaT0.Add(2 * time.Hour)
	lapsed := store.Grant{Login: "bob", SiteID: 3, Name: "view", Expires: metaT0.Add(time.Hour), GrantedBy: "root", Created: metaT0}
	current := store.Grant{Login: "ann", SiteID: 4, Name: "view", Expires: metaT0.Add(3 * time.Hour), GrantedBy: "root", Created: metaT0}
	forever := store.Grant{Login: "ann", SiteID: 5, Name: "admin", GrantedBy: "root", Created: metaT0}
	atNow := store.Grant{Login: "ann", SiteID: 1, Name: "view_raw", Expires: now, GrantedBy: "root", Created: metaT0} // at now: lapsed
	capKept := store.Grant{Login: "bob", SiteID: 1, Name: "view_raw", Expires: now.Add(time.Second), GrantedBy: "root", Created: metaT0}
	for _, g := range []store.Grant{lapsed, current, forever} {
		must(t, "set role", s.SetRole(ctx, g))
	}
	for _, g := range []store.Grant{atNow, capKept} {
		must(t, "add capability", s.AddCapability(ctx, g))
	}
	// Lapsed grants are listed until they are deleted.
	roles, caps, err := s.Grants(ctx, "")
	if err != nil || len(roles) != 3 || len(caps) != 2 {
		t.Fatalf("before expiry: %d roles, %d capabilities, %v; want 3 and 2", len(roles), len(caps), err)
	}
	roles, caps, err = s.DeleteExpiredGrants(ctx, now)
	must(t, "delete expired grants", err)
	sameList(t, "expired roles", roles, []store.Grant{lapsed})
	sameList(t, "expired capabilities", caps, []store.Grant{atNow})
	roles, caps, err = s.Grants(ctx, "")
	must(t, "list grants", err)
	sameList(t, "roles left", roles, []store.Grant{current, forever})
	sameList(t, "capabilities left", caps, []store.Grant{capKept})
	roles, caps, err = s.DeleteExpiredGrants(ctx, now)
	if err != nil || len(roles)+len(caps) != 0 {
		t.Fatalf("second expiry: %+v %+v %v; want nothing", roles, caps, err)
	}
}

func metaSessions(t *testing.T, s store.Meta) {
	ctx := context.Background()
	addUsers(t, s, "root", "ann")
	a := store.Session{IDHash: []byte("a"), Login: "root", Created: metaT0, LastSeen: metaT0}
	b := store.Session{IDHash: []byte("b"), Login: "root", Created: metaT0, LastSeen: metaT0.Add(time.Minute)}
	c := store.Session{IDHash: []byte("c"), Login: "ann", Created: metaT0, LastSeen: metaT0.Add(6 * time.Minute)}
	d := store.Session{IDHash: []byte("d"), Login: "root", Created: metaT0, LastSeen: metaT0.Add(7 * time.Minute)}
	for _, ses := range []store.Session{a, b, c, d} {
		must(t, "create session", s.CreateSession(ctx, ses))
	}
	read := func(ses store.Session) {
		t.Helper()
		got, err := s.Session(ctx, ses.IDHash)
		must(t, "read session "+string(ses.IDHash), err)
		same(t, "session "+string(ses.IDHash), got, ses)
	}
	gone := func(ids ...string) {
		t.Helper()
		for _, id := range ids {
			_, err := s.Session(ctx, []byte(id))
			wantErr(t, "session "+id, err, store.ErrNotFound)
		}
	}
	read(a)
	gone("unknown")

	must(t, "touch session", s.TouchSession(ctx, a.IDHash, metaT0.Add(10*time.Minute)))
	a.LastSeen = metaT0.Add(10 * time.Minute)
	read(a)

	// Purging takes sessions last seen before the cutoff: b only, now that a was touched.
	must(t, "purge sessions", s.PurgeSessions(ctx, metaT0.Add(5*time.Minute)))
	gone("b")
	read(a)
	read(c)

	if n, err := s.DeleteSessions(ctx, "root"); err != nil || n != 2 {
		t.Fatalf("ended %d of root's sessions, %v; want 2", n, err)
	}
	gone("a", "d")
	read(c)
	must(t, "delete session", s.DeleteSession(ctx, c.IDHash))
	gone("c")
	must(t, "delete of a missing session", s.DeleteSession(ctx, []byte("unknown")))
}

func metaTOTP(t *testing.T, s store.Meta) {
	ctx := context.Background()
	addUsers(t, s, "root", "ann")
	_, err := s.TOTP(ctx, "root")
	wantErr(t, "totp not set up", err, store.ErrNotFound)
	wantErr(t, "totp of a missing user", s.SetTOTP(ctx, store.TOTP{Login: "ghost", SecretEnc: []byte("x"), Created: metaT0}), store.ErrNotFound)
	readTOTP := func(want store.TOTP) {
		t.Helper()
		got, err := s.TOTP(ctx, want.Login)
		must(t, "read totp", err)
		same(t, "totp", got, want)
	}
	pending := store.TOTP{Login: "root", SecretEnc: []byte("sealed-1"), Created: metaT0}
	must(t, "set totp", s.SetTOTP(ctx, pending))
	readTOTP(pending)
	enabled := store.TOTP{Login: "root", SecretEnc: []byte("sealed-2"), Enabled: true, LastStep: 100, Created: metaT0.Add(time.Minute)}
	must(t, "replace totp", s.SetTOTP(ctx, enabled))
	readTOTP(enabled)

	for _, tc := range []struct {
		login string
		step  int64
		ok    bool
	}{{"root", 101, true}, {"root", 101, false}, {"root", 50, false}, {"root", 102, true}, {"ann", 5, false}} {
		ok, err := s.UseTOTPStep(ctx, tc.login, tc.step)
		if err != nil || ok != tc.ok {
			t.Fatalf("%s uses step %d: %v, %v; want %v", tc.login, tc.step, ok, err, tc.ok)
		}
	}
	enabled.LastStep = 102
	readTOTP(enabled)

	has := func(login string, want bool) {
		t.Helper()
		if got, err := s.HasRecoveryCodes(ctx, login); err != nil || got != want {
			t.Fatalf("%s has recovery codes: %v, %v; want %v", login, got, err, want)
		}
	}
	use := func(login, code string, want bool) {
		t.Helper()
		if got, err := s.UseRecoveryCode(ctx, login, []byte(code)); err != nil || got != want {
			t.Fatalf("%s uses code %s: %v, %v; want %v", login, code, got, err, want)
		}
	}
	has("root", false)
	must(t, "set codes", s.SetRecoveryCodes(ctx, "root", [][]byte{[]byte("a"), []byte("b")}))
	must(t, "set codes", s.SetRecoveryCodes(ctx, "ann", [][]byte{[]byte("z")}))
	has("root", true)
	use("root", "a", true)
	use("root", "a", false) // spent
	use("ann", "b", false)  // not hers
	use("root", "zz", false)
	has("root", true)
	use("root", "b", true)
	has("root", false)
	// New codes replace the old, unused ones included.
	must(t, "set codes", s.SetRecoveryCodes(ctx, "root", [][]byte{[]byte("c"), []byte("d")}))
	must(t, "set codes", s.SetRecoveryCodes(ctx, "root", [][]byte{[]byte("e")}))
	use("root", "c", false)
	use("root", "e", true)
	has("ann", true)

	// DeleteTOTP removes the TOTP setup only; DeleteSecondFactors everything of one user.
	must(t, "set codes", s.SetRecoveryCodes(ctx, "root", [][]byte{[]byte("f")}))
	must(t, "delete totp", s.DeleteTOTP(ctx, "root"))
	_, err = s.TOTP(ctx, "root")
	wantErr(t, "deleted totp", err, store.ErrNotFound)
	has("root", true)
	if ok, err := s.UseTOTPStep(ctx, "root", 200); err != nil || ok {
		t.Fatalf("step without a totp setup: %v, %v", ok, err)
	}
	must(t, "set totp", s.SetTOTP(ctx, enabled))
	for _, login := range []string{"root", "ann"} {
		must(t, "add passkey", s.AddPasskey(ctx, store.Passkey{ID: []byte("key-" + login), Login: login, Name: "k", RPID: "hearth.example", Credential: []byte("c"), Created: metaT0}))
	}
	must(t, "delete second factors", s.DeleteSecondFactors(ctx, "root"))
	_, err = s.TOTP(ctx, "root")
	wantErr(t, "totp after deleting second factors", err, store.ErrNotFound)
	has("root", false)
	if keys, err := s.Passkeys(ctx, "root"); err != nil || len(keys) != 0 {
		t.Fatalf("passkeys after deleting second factors: %+v, %v", keys, err)
	}
	has("ann", true)
	if keys, err := s.Passkeys(ctx, "ann"); err != nil || len(keys) != 1 {
		t.Fatalf("another user's passkeys went too: %+v, %v", keys, err)
	}
}

func metaPasskeys(t *testing.T, s store.Meta) {
	ctx := context.Background()
	addUsers(t, s, "root", "ann")
	laptop := store.Passkey{ID: []byte{0xa1, 0}, Login: "root", Name: "laptop", RPID: "hearth.example", Credential: []byte("cred-1"), Created: metaT0}
	phone := store.Passkey{ID: []byte{0xa2, 0}, Login: "root", Name: "phone", RPID: "hearth.example", Credential: []byte("cred-2"), Created: metaT0.Add(time.Hour), LastUsed: metaT0.Add(2 * time.Hour)}
	anns := store.Passkey{ID: []byte{0xa3, 0}, Login: "ann", Name: "key", RPID: "hearth.example", Credential: []byte("cred-3"), Created: metaT0}
	for _, p := range []store.Passkey{phone, laptop, anns} {
		must(t, "add passkey", s.AddPasskey(ctx, p))
	}
	wantErr(t, "a registered credential ID", s.AddPasskey(ctx, store.Passkey{ID: laptop.ID, Login: "ann", Name: "copy", RPID: "hearth.example", Credential: []byte("x"), Created: metaT0}), store.ErrConflict)
	wantErr(t, "passkey of a missing user", s.AddPasskey(ctx, store.Passkey{ID: []byte{0xff}, Login: "ghost", Name: "k", RPID: "hearth.example", Credential: []byte("x"), Created: metaT0}), store.ErrNotFound)
	list := func(login string, want ...store.Passkey) {
		t.Helper()
		got, err := s.Passkeys(ctx, login)
		must(t, "list passkeys", err)
		sameList(t, "passkeys of "+login, got, want)
	}
	list("root", laptop, phone) // oldest first
	list("ann", anns)

	// A sign-in replaces the credential record and the last use, nothing else.
	upd := laptop
	upd.Credential, upd.LastUsed, upd.Name = []byte("cred-1b"), metaT0.Add(3*time.Hour), "renamed"
	must(t, "update passkey", s.UpdatePasskey(ctx, upd))
	laptop.Credential, laptop.LastUsed = upd.Credential, upd.LastUsed
	list("root", laptop, phone)
	notHers := anns
	notHers.ID = laptop.ID
	wantErr(t, "update of another user's passkey", s.UpdatePasskey(ctx, notHers), store.ErrNotFound)
	wantErr(t, "delete of another user's passkey", s.DeletePasskey(ctx, "ann", laptop.ID), store.ErrNotFound)
	must(t, "delete passkey", s.DeletePasskey(ctx, "root", phone.ID))
	wantErr(t, "second delete", s.DeletePasskey(ctx, "root", phone.ID), store.ErrNotFound)
	list("root", laptop)
	list("ann", anns)
}
