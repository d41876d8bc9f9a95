package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"hearth/internal/event"
	"hearth/internal/store"
)

// metaT0 is the suite's reference instant, in whole seconds as the metadata store keeps most
// times.
var metaT0 = time.Date(2026, 3, 6, 10, 0, 0, 0, time.UTC)

// RunMeta runs the metadata-store conformance suite. open returns a fresh, empty store; each
// subtest opens its own and closes it.
func RunMeta(t *testing.T, open func(t *testing.T) store.Meta) {
	for _, tc := range []struct {
		name string
		run  func(t *testing.T, s store.Meta)
	}{
		{"sites", metaSites},
		{"users", metaUsers},
		{"deleting a user takes what is theirs", metaDeleteUser},
		{"tokens", metaTokens},
		{"grants", metaGrants},
		{"expired grants", metaExpiredGrants},
		{"sessions", metaSessions},
		{"totp and recovery codes", metaTOTP},
		{"passkeys", metaPasskeys},
		{"salts", metaSalts},
		{"settings", metaSettings},
		{"audit trail", metaAudit},
		{"auth failures", metaAuthFailures},
		{"segments", metaSegments},
		{"custom dimensions", metaDimensions},
		{"goals", metaGoals},
		{"funnels", metaFunnels},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := open(t)
			defer s.Close()
			if err := s.Ping(context.Background()); err != nil {
				t.Fatalf("ping: %v", err)
			}
			tc.run(t, s)
		})
	}
}

// differ describes the first field where two records (flat structs of one type) differ, or
// returns "". Times compare as instants and an empty slice equals a nil one, as engines may
// read either back.
func differ[T any](got, want T) string {
	g, w := reflect.ValueOf(got), reflect.ValueOf(want)
	for i := range g.NumField() {
		gf, wf := g.Field(i), w.Field(i)
		var same bool
		switch x := gf.Interface().(type) {
		case time.Time:
			same = x.Equal(wf.Interface().(time.Time))
		default:
			same = reflect.DeepEqual(gf.Interface(), wf.Interface()) ||
				gf.Kind() == reflect.Slice && gf.Len() == 0 && wf.Len() == 0
		}
		if !same {
			return fmt.Sprintf("%s = %v, want %v", g.Type().Field(i).Name, gf.Interface(), wf.Interface())
		}
	}
	return ""
}

// same fails the test when a record read back is not the one expected.
func same[T any](t *testing.T, what string, got, want T) {
	t.Helper()
	if d := differ(got, want); d != "" {
		t.Fatalf("%s: %s\ngot  %+v\nwant %+v", what, d, got, want)
	}
}

// sameList fails the test when a list read back is not the one expected, in order.
func sameList[T any](t *testing.T, what string, got, want []T) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d records, want %d\ngot  %+v\nwant %+v", what, len(got), len(want), got, want)
	}
	for i := range want {
		if d := differ(got[i], want[i]); d != "" {
			t.Fatalf("%s: record %d: %s\ngot  %+v\nwant %+v", what, i, d, got[i], want[i])
		}
	}
}

// wantErr fails the test unless err is (or wraps) target.
func wantErr(t *testing.T, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("%s: err = %v, want %v", what, err, target)
	}
}

// must fails the test on an error.
func must(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// addUsers creates users by login, the first a superuser.
func addUsers(t *testing.T, s store.Meta, logins ...string) {
	t.Helper()
	for i, l := range logins {
		must(t, "create user "+l, s.CreateUser(context.Background(), store.User{Login: l, Email: l + "@example.org",
			PasswordHash: "$argon2id$" + l, Superuser: i == 0, Created: metaT0}))
	}
}

func metaSites(t *testing.T, s store.Meta) {
	ctx := context.Background()
	full := store.Site{Name: "Clinic", URLs: []string{"https://clinic.example", "https://www.clinic.example"},
		Timezone: "Europe/Berlin", Currency: "EUR", Ecommerce: true, SiteSearch: true,
		SearchKeywordParams: []string{"q", "query"}, SearchCategoryParams: []string{"cat"},
		ExcludedIPs: []string{"10.0.0.0/8", "192.0.2.1"}, ExcludedQueryParams: []string{"sessionid"},
		ExcludedUserAgents: []string{"curl"}, ExcludedReferrers: []string{"spam.example"},
		KeepURLFragment: true, ExcludeUnknownURLs: true, KeepEmails: true, Type: "website", Group: "Health",
		StartDate: "2026-01-01", GeoPrecision: "region", Created: metaT0, CreatorLogin: "root"}
	id, err := s.CreateSite(ctx, full)
	must(t, "create site", err)
	full.ID = id
	got, err := s.Site(ctx, id)
	must(t, "read site", err)
	same(t, "site with every field set", got, full)

	// Every flag off and every list empty reads back so, KeepEmails included.
	bare := store.Site{Name: "Bare", Timezone: "UTC", Currency: "USD", Type: "website", GeoPrecision: "city", Created: metaT0.Add(time.Hour)}
	id2, err := s.CreateSite(ctx, bare)
	must(t, "create site", err)
	if id <= 0 || id2 <= 0 || id2 == id {
		t.Fatalf("site ids %d and %d: want two distinct positive ids", id, id2)
	}
	bare.ID = id2
	got, err = s.Site(ctx, id2)
	must(t, "read site", err)
	same(t, "site with every field off", got, bare)

	// An update replaces every setting, turning each flag over, and keeps when and by whom
	// the site was created.
	upd := store.Site{ID: id, Name: "Clinic 2", URLs: []string{"https://new.example"}, Timezone: "America/New_York",
		Currency: "USD", SearchKeywordParams: []string{"s"}, ExcludedQueryParams: []string{"a", "b"},
		ExcludedReferrers: []string{"x.example"}, Type: "mobileapp", StartDate: "2026-02-01", GeoPrecision: "none",
		Created: metaT0.Add(48 * time.Hour), CreatorLogin: "someone"}
	must(t, "update site", s.UpdateSite(ctx, upd))
	want := upd
	want.Created, want.CreatorLogin = full.Created, full.CreatorLogin
	got, err = s.Site(ctx, id)
	must(t, "read site", err)
	same(t, "updated site", got, want)
	bare2 := bare
	bare2.Ecommerce, bare2.SiteSearch, bare2.KeepURLFragment, bare2.ExcludeUnknownURLs, bare2.KeepEmails = true, true, true, true, true
	bare2.ExcludedIPs, bare2.Group = []string{"2001:db8::/32"}, "Other"
	must(t, "update site", s.UpdateSite(ctx, bare2))
	got, err = s.Site(ctx, id2)
	must(t, "read site", err)
	same(t, "updated site with every flag on", got, bare2)

	all, err := s.Sites(ctx)
	must(t, "list sites", err)
	sameList(t, "sites by id", all, []store.Site{want, bare2})

	wantErr(t, "update of a missing site", s.UpdateSite(ctx, store.Site{ID: id2 + 100, Name: "x"}), store.ErrNotFound)
	_, err = s.Site(ctx, id2+100)
	wantErr(t, "read of a missing site", err, store.ErrNotFound)
}

func metaUsers(t *testing.T, s store.Meta) {
	ctx := context.Background()
	root := store.User{Login: "root", Email: "root@example.org", PasswordHash: "$argon2id$root", Superuser: true, Created: metaT0} // #nosec G101 -- a test fixture
	// ann is a superuser who is disabled: she does not count as one.
	ann := store.User{Login: "ann", Email: "ann@example.org", PasswordHash: "$argon2id$ann", Superuser: true, Disabled: true, Created: metaT0.Add(time.Minute)} // #nosec G101 -- a test fixture
	must(t, "create root", s.CreateUser(ctx, root))
	must(t, "create ann", s.CreateUser(ctx, ann))
	wantErr(t, "second user of a login", s.CreateUser(ctx, store.User{Login: "root", Email: "other@example.org", PasswordHash: "h", Created: metaT0}), store.ErrConflict)
	got, err := s.User(ctx, "root")
	must(t, "read root", err)
	same(t, "root after a refused duplicate", got, root)
	all, err := s.Users(ctx)
	must(t, "list users", err)
	sameList(t, "users by login", all, []store.User{ann, root})
	_, err = s.User(ctx, "ghost")
	wantErr(t, "read of a missing user", err, store.ErrNotFound)
	countSupers := func(want int) {
		t.Helper()
		if n, err := s.CountSuperusers(ctx); err != nil || n != want {
			t.Fatalf("enabled superusers = %d, %v; want %d", n, err, want)
		}
	}
	countSupers(1)

	// The last enabled superuser can be neither disabled, demoted nor deleted.
	r := root
	r.Disabled = true
	wantErr(t, "disabling the last superuser", s.UpdateUser(ctx, r), store.ErrLastSuperuser)
	r.Disabled, r.Superuser = false, false
	wantErr(t, "demoting the last superuser", s.UpdateUser(ctx, r), store.ErrLastSuperuser)
	wantErr(t, "deleting the last superuser", s.DeleteUser(ctx, "root"), store.ErrLastSuperuser)
	got, err = s.User(ctx, "root")
	must(t, "read root", err)
	same(t, "root after refused changes", got, root)

	// An update replaces e-mail, password hash and flags, and keeps the creation time.
	a := ann
	a.Email, a.PasswordHash, a.Disabled, a.Created = "ann@new.example", "$argon2id$ann2", false, metaT0.Add(99*time.Hour)
	must(t, "enable ann", s.UpdateUser(ctx, a))
	a.Created = ann.Created
	got, err = s.User(ctx, "ann")
	must(t, "read ann", err)
	same(t, "updated ann", got, a)
	countSupers(2)

	// With a second superuser, root may go.
	r = root
	r.Superuser = false
	must(t, "demote root with another superuser", s.UpdateUser(ctx, r))
	countSupers(1)
	wantErr(t, "disabling the remaining superuser", s.UpdateUser(ctx, store.User{Login: "ann", Email: a.Email, PasswordHash: a.PasswordHash, Superuser: true, Disabled: true}), store.ErrLastSuperuser)
	must(t, "delete root", s.DeleteUser(ctx, "root"))
	_, err = s.User(ctx, "root")
	wantErr(t, "read of a deleted user", err, store.ErrNotFound)
	all, err = s.Users(ctx)
	must(t, "list users", err)
	sameList(t, "users after a delete", all, []store.User{a})

	wantErr(t, "update of a missing user", s.UpdateUser(ctx, store.User{Login: "ghost", Email: "g@example.org", PasswordHash: "h"}), store.ErrNotFound)
	wantErr(t, "delete of a missing user", s.DeleteUser(ctx, "ghost"), store.ErrNotFound)
}

func metaDeleteUser(t *testing.T, s store.Meta) {
	ctx := context.Background()
	addUsers(t, s, "root", "bob")
	for _, login := range []string{"root", "bob"} {
		b := []byte(login)
		must(t, "role", s.SetRole(ctx, store.Grant{Login: login, SiteID: 1, Name: "view", Created: metaT0}))
		must(t, "capability", s.AddCapability(ctx, store.Grant{Login: login, SiteID: 1, Name: "view_raw", Created: metaT0}))
		_, err := s.CreateToken(ctx, store.Token{Login: login, Hash: append([]byte("token-"), b...), Description: "t", Created: metaT0})
		must(t, "token", err)
		must(t, "session", s.CreateSession(ctx, store.Session{IDHash: append([]byte("session-"), b...), Login: login, Created: metaT0, LastSeen: metaT0}))
		must(t, "totp", s.SetTOTP(ctx, store.TOTP{Login: login, SecretEnc: []byte("sealed"), Enabled: true, Created: metaT0}))
		must(t, "recovery codes", s.SetRecoveryCodes(ctx, login, [][]byte{append([]byte("code-"), b...)}))
		must(t, "passkey", s.AddPasskey(ctx, store.Passkey{ID: append([]byte("key-"), b...), Login: login, Name: "k", RPID: "hearth.example", Credential: []byte("c"), Created: metaT0}))
	}
	must(t, "delete bob", s.DeleteUser(ctx, "bob"))

	// Nothing of bob's is left, and root keeps everything.
	for _, login := range []string{"bob", "root"} {
		b := []byte(login)
		kept := login == "root"
		roles, caps, err := s.Grants(ctx, login)
		must(t, "grants", err)
		_, tokErr := s.TokenByHash(ctx, append([]byte("token-"), b...))
		toks, err := s.Tokens(ctx, login)
		must(t, "tokens", err)
		_, sesErr := s.Session(ctx, append([]byte("session-"), b...))
		_, totpErr := s.TOTP(ctx, login)
		codes, err := s.HasRecoveryCodes(ctx, login)
		must(t, "recovery codes", err)
		keys, err := s.Passkeys(ctx, login)
		must(t, "passkeys", err)
		has := []bool{len(roles) == 1, len(caps) == 1, tokErr == nil, len(toks) == 1, sesErr == nil, totpErr == nil, codes, len(keys) == 1}
		for i, h := range has {
			if h != kept {
				t.Fatalf("%s: thing %d (roles, capabilities, token, tokens, session, totp, recovery codes, passkeys) present = %v, want %v",
					login, i, h, kept)
			}
		}
	}
	// A new user of the same login starts with nothing.
	addUsers(t, s, "bob")
	if roles, caps, err := s.Grants(ctx, "bob"); err != nil || len(roles)+len(caps) != 0 {
		t.Fatalf("a new bob inherits grants: %+v %+v %v", roles, caps, err)
	}
}

func metaSalts(t *testing.T, s store.Meta) {
	ctx := context.Background()
	salt := func(site event.SiteID, day string, now time.Time) []byte {
		t.Helper()
		b, err := s.Salt(ctx, site, day, now)
		must(t, "salt", err)
		if len(b) < 16 {
			t.Fatalf("salt of %d bytes, want at least 16", len(b))
		}
		return b
	}
	a := salt(1, "2026-03-06", metaT0)
	if b := salt(1, "2026-03-06", metaT0.Add(time.Hour)); !bytes.Equal(a, b) {
		t.Fatal("a site's salt changed within its day")
	}
	c := salt(1, "2026-03-07", metaT0.Add(25*time.Hour))
	d := salt(2, "2026-03-06", metaT0)
	if bytes.Equal(a, c) || bytes.Equal(a, d) || bytes.Equal(c, d) {
		t.Fatal("salts of different days or sites are equal")
	}
	// Salts created before the cutoff go (reading one again did not make it newer).
	n, err := s.PurgeSalts(ctx, metaT0.Add(time.Second))
	if err != nil || n != 2 {
		t.Fatalf("purged %d salts, %v; want 2 (the first day's of both sites)", n, err)
	}
	if e := salt(1, "2026-03-06", metaT0.Add(2*time.Hour)); bytes.Equal(a, e) {
		t.Fatal("a purged salt came back")
	}
	if e := salt(1, "2026-03-07", metaT0.Add(26*time.Hour)); !bytes.Equal(c, e) {
		t.Fatal("a salt newer than the cutoff was purged")
	}
}

func metaSettings(t *testing.T, s store.Meta) {
	ctx := context.Background()
	_, err := s.Setting(ctx, "k")
	wantErr(t, "unset setting", err, store.ErrNotFound)
	read := func(key, want string) {
		t.Helper()
		if v, err := s.Setting(ctx, key); err != nil || v != want {
			t.Fatalf("setting %s = %q, %v; want %q", key, v, err, want)
		}
	}
	must(t, "set", s.SetSetting(ctx, "k", "v1"))
	read("k", "v1")
	must(t, "overwrite", s.SetSetting(ctx, "k", "v2"))
	read("k", "v2")
	must(t, "set empty", s.SetSetting(ctx, "empty", ""))
	read("empty", "")
	must(t, "delete", s.DeleteSetting(ctx, "k"))
	_, err = s.Setting(ctx, "k")
	wantErr(t, "deleted setting", err, store.ErrNotFound)
	read("empty", "")
	must(t, "delete of an unset setting", s.DeleteSetting(ctx, "never-set"))
}

func metaAudit(t *testing.T, s store.Meta) {
	ctx := context.Background()
	var want []store.AuditEntry
	// appendAt appends the next entry, checking the store hands build the last one's
	// sequence number and hash.
	appendAt := func(at time.Time, action string) store.AuditEntry {
		t.Helper()
		wantSeq, wantHash := int64(0), []byte(nil)
		if len(want) > 0 {
			wantSeq, wantHash = want[len(want)-1].Seq, want[len(want)-1].Hash
		}
		e, err := s.AppendAudit(ctx, func(prevSeq int64, prevHash []byte) (store.AuditEntry, error) {
			if prevSeq != wantSeq || !bytes.Equal(prevHash, wantHash) {
				return store.AuditEntry{}, fmt.Errorf("build saw head %d %x, want %d %x", prevSeq, prevHash, wantSeq, wantHash)
			}
			if prevHash == nil {
				prevHash = []byte{}
			}
			return store.AuditEntry{Seq: prevSeq + 1, Time: at, Actor: "root", ActorIP: "192.0.2.0", Action: action,
				Target: "user:root", Outcome: "success", Details: `{"method":"password"}`, PrevHash: prevHash,
				Hash: []byte(fmt.Sprintf("hash-%d", prevSeq+1))}, nil
		})
		must(t, "append audit entry", err)
		want = append(want, e)
		return e
	}
	entries := func(from, to time.Time) []store.AuditEntry {
		t.Helper()
		var got []store.AuditEntry
		must(t, "read audit trail", s.AuditEntries(ctx, from, to, func(e store.AuditEntry) error {
			got = append(got, e)
			return nil
		}))
		return got
	}
	// Audit times keep microseconds.
	e1 := appendAt(metaT0.Add(123456*time.Microsecond), "auth.login")
	e2 := appendAt(metaT0.Add(time.Hour), "site.update")
	e3 := appendAt(metaT0.Add(2*time.Hour), "token.create")
	if e1.Seq != 1 || e2.Seq != 2 || e3.Seq != 3 {
		t.Fatalf("sequence numbers %d %d %d", e1.Seq, e2.Seq, e3.Seq)
	}

	// A build that fails appends nothing.
	refused := errors.New("refused")
	_, err := s.AppendAudit(ctx, func(int64, []byte) (store.AuditEntry, error) { return store.AuditEntry{}, refused })
	wantErr(t, "failing build", err, refused)

	sameList(t, "whole trail", entries(time.Time{}, time.Time{}), want)
	sameList(t, "trail in [1h, 2h)", entries(e2.Time, e3.Time), []store.AuditEntry{e2})
	sameList(t, "trail from 1h", entries(e2.Time, time.Time{}), []store.AuditEntry{e2, e3})
	sameList(t, "trail before 1h", entries(time.Time{}, e2.Time), []store.AuditEntry{e1})

	// An error of fn stops the reading and comes back.
	stop, calls := errors.New("stop"), 0
	err = s.AuditEntries(ctx, time.Time{}, time.Time{}, func(store.AuditEntry) error { calls++; return stop })
	if !errors.Is(err, stop) || calls != 1 {
		t.Fatalf("fn's error: %v after %d calls; want it after 1", err, calls)
	}

	n, err := s.DeleteAuditThrough(ctx, 2)
	if err != nil || n != 2 {
		t.Fatalf("deleted %d entries, %v; want 2", n, err)
	}
	want = want[2:]
	sameList(t, "trail after retention", entries(time.Time{}, time.Time{}), want)
	e4 := appendAt(metaT0.Add(3*time.Hour), "auth.logout")
	if e4.Seq != 4 {
		t.Fatalf("after retention the chain continues at %d, want 4", e4.Seq)
	}
	sameList(t, "trail after another entry", entries(time.Time{}, time.Time{}), want)
}

func metaAuthFailures(t *testing.T, s store.Meta) {
	ctx := context.Background()
	ipA, ipB := []byte{0xa}, []byte{0xb}
	for _, f := range []struct {
		at    time.Duration
		ip    []byte
		login string
	}{{0, ipA, "root"}, {time.Minute, ipA, "ann"}, {2 * time.Minute, ipB, "root"}, {3 * time.Minute, ipA, ""}} {
		must(t, "record failure", s.RecordAuthFailure(ctx, metaT0.Add(f.at), f.ip, f.login))
	}
	count := func(since time.Time, ip []byte, login string, wantIP, wantLogin int) {
		t.Helper()
		byIP, byLogin, err := s.AuthFailures(ctx, since, ip, login)
		if err != nil || byIP != wantIP || byLogin != wantLogin {
			t.Fatalf("failures since %s of %x and %q = %d, %d, %v; want %d, %d", since.Format(time.TimeOnly), ip, login,
				byIP, byLogin, err, wantIP, wantLogin)
		}
	}
	count(metaT0, ipA, "root", 3, 2)
	count(metaT0.Add(time.Minute), ipA, "root", 2, 1) // since is inclusive
	count(metaT0, ipB, "", 1, 0)
	count(metaT0, []byte{0xc}, "nobody", 0, 0)

	clear := func(login string, ip []byte, want int) {
		t.Helper()
		if n, err := s.ClearAuthFailures(ctx, login, ip); err != nil || n != want {
			t.Fatalf("cleared %d failures of %q and %x, %v; want %d", n, login, ip, err, want)
		}
	}
	clear("root", nil, 2)
	count(metaT0, ipA, "root", 2, 0)
	clear("", ipA, 2)
	count(metaT0, ipA, "ann", 0, 0)
	clear("", nil, 0)
	count(metaT0, ipB, "root", 0, 0) // ipB's failure was root's

	must(t, "record failure", s.RecordAuthFailure(ctx, metaT0.Add(-time.Hour), ipB, "bob"))
	must(t, "record failure", s.RecordAuthFailure(ctx, metaT0.Add(time.Hour), ipB, "bob"))
	must(t, "purge failures", s.PurgeAuthFailures(ctx, metaT0))
	count(metaT0.Add(-2*time.Hour), ipB, "bob", 1, 1)
}
