package ingest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"hearth/internal/collect"
	"hearth/internal/enrich/device"
	"hearth/internal/enrich/referrer"
	"hearth/internal/event"
	"hearth/internal/fuzzseed"
	"hearth/internal/privacy"
	"hearth/internal/store"
	"hearth/internal/store/duckdb"
	"hearth/internal/store/sqlite"
)

const chromeUA = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"

type fixedAuth struct{ token string }

func (a fixedAuth) CanTrackPrivileged(_ context.Context, tok string, _ event.SiteID, _ netip.Addr) bool {
	return tok == a.token
}

type rig struct {
	t      *testing.T
	dir    string
	meta   *sqlite.Store
	events *duckdb.Store
	p      *Pipeline
	mu     sync.Mutex
	now    time.Time
	site   event.SiteID
	// applyEvery is the applier's interval; long intervals keep records in the spool only.
	applyEvery time.Duration
	// maxActions is the pipeline's MaxActionsPerVisit (0: the default).
	maxActions int
}

func newRig(t *testing.T, dir string, site *store.Site) *rig {
	t.Helper()
	ctx := context.Background()
	r := &rig{t: t, dir: dir, now: time.Date(2026, 3, 6, 10, 0, 0, 0, time.UTC), applyEvery: 5 * time.Millisecond}
	var err error
	r.meta, err = sqlite.Open(ctx, sqlite.Options{Path: filepath.Join(dir, "meta.db"), Key: bytes.Repeat([]byte{4}, 64)})
	if err != nil {
		t.Fatal(err)
	}
	r.events, err = duckdb.Open(ctx, duckdb.Options{Path: filepath.Join(dir, "events.duckdb"), Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	if site != nil {
		if r.site, err = r.meta.CreateSite(ctx, *site); err != nil {
			t.Fatal(err)
		}
	} else {
		r.site = 1
	}
	r.open()
	t.Cleanup(r.close)
	return r
}

func (r *rig) open() {
	var err error
	r.p, err = Open(context.Background(), Options{
		Events: r.events, Meta: r.meta, Devices: device.New(1000), Referrers: referrer.Builtin(),
		Hasher: privacy.NewHasher([]byte("vk"), []byte("uk")), Auth: fixedAuth{"0123456789abcdef0123456789abcdef"},
		SpoolDir: filepath.Join(r.dir, "spool"), VisitTimeout: 30 * time.Minute, HonorDNT: true,
		Now: r.clock, ApplyInterval: r.applyEvery, MaxActionsPerVisit: r.maxActions,
	})
	if err != nil {
		r.t.Fatal(err)
	}
}

func (r *rig) clock() time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.now
}

func (r *rig) setNow(t time.Time) {
	r.mu.Lock()
	r.now = t
	r.mu.Unlock()
}

func (r *rig) close() {
	if r.p != nil {
		if err := r.p.Close(context.Background()); err != nil {
			r.t.Error(err)
		}
		r.p = nil
	}
	if r.events != nil {
		r.events.Close()
		r.events = nil
	}
	if r.meta != nil {
		r.meta.Close()
		r.meta = nil
	}
}

type hitOpt func(*collect.Request)

func (r *rig) track(q string, at time.Time, opts ...hitOpt) error {
	r.t.Helper()
	v, err := url.ParseQuery(q)
	if err != nil {
		r.t.Fatal(err)
	}
	h, err := collect.Decode(v, at)
	if err != nil {
		return err
	}
	req := &collect.Request{IP: netip.MustParseAddr("198.51.100.23"), UserAgent: chromeUA, Language: "de-DE,de;q=0.9", Time: at}
	for _, o := range opts {
		o(req)
	}
	return r.p.Track(context.Background(), []collect.Hit{h}, req)[0].Err
}

func (r *rig) mustTrack(q string, at time.Time, opts ...hitOpt) {
	r.t.Helper()
	if err := r.track(q, at, opts...); err != nil {
		r.t.Fatalf("track %q: %v", q, err)
	}
}

// visits flushes ingest (by reopening the pipeline) and returns every stored visit, oldest first.
func (r *rig) visits() []store.VisitDetail {
	r.t.Helper()
	if err := r.p.Close(context.Background()); err != nil {
		r.t.Fatal(err)
	}
	r.open()
	got, err := r.events.Visits(context.Background(), store.VisitQuery{Sites: []event.SiteID{r.site}, Limit: 1000, WithActions: true})
	if err != nil {
		r.t.Fatal(err)
	}
	for i, j := 0, len(got)-1; i < j; i, j = i+1, j-1 {
		got[i], got[j] = got[j], got[i]
	}
	return got
}

var testSite = store.Site{Name: "Clinic", URLs: []string{"https://clinic.example"}, Timezone: "Europe/Berlin", Currency: "EUR", SiteSearch: true,
	ExcludedIPs: []string{"10.0.0.0/8"}, ExcludedUserAgents: []string{"InternalMonitor"}, ExcludedReferrers: []string{"excluded.example"},
	ExcludedQueryParams: []string{"session_token"}}

func TestVisitAssembly(t *testing.T) {
	r := newRig(t, t.TempDir(), &testSite)
	t0 := r.now
	r.mustTrack("idsite=1&rec=1&url=https%3A%2F%2Fclinic.example%2F%3Fsession_token%3Dsecret%26gclid%3Dx&action_name=Home&urlref=https%3A%2F%2Fwww.google.de%2Fsearch%3Fq%3Dflu&res=1280x720&h=11&m=0&s=5", t0)
	r.mustTrack("idsite=1&rec=1&url=https%3A%2F%2Fclinic.example%2Fbook&action_name=Book", t0.Add(40*time.Second))
	r.mustTrack("idsite=1&rec=1&url=https%3A%2F%2Fclinic.example%2Fbook&e_c=Form&e_a=Submit&e_v=2", t0.Add(70*time.Second))
	r.mustTrack("idsite=1&rec=1&url=https%3A%2F%2Fclinic.example%2Fsearch%3Fq%3Dflu%2Bshot&action_name=Search", t0.Add(80*time.Second))
	r.mustTrack("idsite=1&rec=1&url=https%3A%2F%2Fclinic.example%2Fbook&ping=1", t0.Add(100*time.Second))

	got := r.visits()
	if len(got) != 1 {
		t.Fatalf("visits = %d, want 1", len(got))
	}
	v, acts := got[0].Visit, got[0].Actions
	if v.Actions != 4 || v.Pageviews != 2 || v.Events != 1 || v.Searches != 1 {
		t.Fatalf("counters: actions=%d pageviews=%d events=%d searches=%d", v.Actions, v.Pageviews, v.Events, v.Searches)
	}
	if v.Duration() != 100 {
		t.Fatalf("duration %d, want 100 (the heartbeat extends the visit)", v.Duration())
	}
	if v.Referrer.Type != event.ReferrerSearch || v.Referrer.Name != "Google" || v.Referrer.Keyword != "flu" {
		t.Fatalf("referrer %+v", v.Referrer)
	}
	if v.EntryURL != "https://clinic.example/" || v.ExitURL != "https://clinic.example/book" || v.ExitTitle != "Book" {
		t.Fatalf("entry/exit %q %q %q", v.EntryURL, v.ExitURL, v.ExitTitle)
	}
	if v.IP != "198.51.0.0" || v.Language != "de-de" || v.Resolution != "1280x720" || v.LocalTime != 11*3600+5 {
		t.Fatalf("visit fields: ip=%q lang=%q res=%q local=%d", v.IP, v.Language, v.Resolution, v.LocalTime)
	}
	if v.Device.Browser != "Chrome" || v.Device.OS != "Windows" {
		t.Fatalf("device %+v", v.Device)
	}
	if len(acts) != 4 {
		t.Fatalf("actions = %d", len(acts))
	}
	if acts[0].URL != "https://clinic.example/" || !acts[0].FirstURLInVisit {
		t.Fatalf("excluded parameters must be stripped: %+v", acts[0])
	}
	if acts[1].RefURL != "https://clinic.example/" || acts[1].RefTimeSpent != 40 || !acts[1].FirstURLInVisit {
		t.Fatalf("second action ref: %+v", acts[1])
	}
	if acts[2].Type != event.ActionEvent || acts[2].FirstURLInVisit || acts[2].EventValue != 2 || acts[2].RefTimeSpent != 30 {
		t.Fatalf("event action: %+v", acts[2])
	}
	if acts[3].Type != event.ActionSearch || acts[3].SearchKeyword != "flu shot" || strings.Contains(acts[3].URL, "q=") {
		t.Fatalf("site search from URL: %+v", acts[3])
	}
}

func TestNewVisitRules(t *testing.T) {
	r := newRig(t, t.TempDir(), &testSite)
	t0 := time.Date(2026, 3, 6, 22, 50, 0, 0, time.UTC) // 23:50 in Berlin
	id := "&_id=0123456789abcdef"
	r.mustTrack("idsite=1&rec=1&url=https%3A%2F%2Fclinic.example%2Fa"+id, t0)
	r.mustTrack("idsite=1&rec=1&url=https%3A%2F%2Fclinic.example%2Fb"+id, t0.Add(12*time.Minute))                      // past midnight in Berlin
	r.mustTrack("idsite=1&rec=1&url=https%3A%2F%2Fclinic.example%2Fc"+id, t0.Add(13*time.Minute))                      // same visit
	r.mustTrack("idsite=1&rec=1&url=https%3A%2F%2Fclinic.example%2Fd"+id, t0.Add(44*time.Minute))                      // idle > 30 min
	r.mustTrack("idsite=1&rec=1&url=https%3A%2F%2Fclinic.example%2Fe%3Fmtm_campaign%3Dflu"+id, t0.Add(45*time.Minute)) // campaign change
	r.mustTrack("idsite=1&rec=1&new_visit=1&url=https%3A%2F%2Fclinic.example%2Ff"+id, t0.Add(46*time.Minute))          // forced
	if err := r.track("idsite=1&rec=1&ping=1&_id=fedcba9876543210", t0.Add(47*time.Minute)); err != nil {
		t.Fatal(err) // a heartbeat of an unknown visitor is accepted and dropped
	}
	got := r.visits()
	if len(got) != 5 {
		t.Fatalf("visits = %d, want 5", len(got))
	}
	wantActions := []int32{1, 2, 1, 1, 1}
	for i, d := range got {
		if d.Visit.Actions != wantActions[i] {
			t.Errorf("visit %d actions %d, want %d", i, d.Visit.Actions, wantActions[i])
		}
		if d.Visit.VisitCount != int32(i+1) || d.Visit.Returning != (i > 0) {
			t.Errorf("visit %d: count %d returning %v", i, d.Visit.VisitCount, d.Visit.Returning)
		}
	}
	if got[3].Visit.Referrer.Type != event.ReferrerCampaign || got[3].Visit.Campaign.Name != "flu" {
		t.Errorf("campaign visit: %+v", got[3].Visit.Referrer)
	}
}

func TestFiltersAndPrivacy(t *testing.T) {
	r := newRig(t, t.TempDir(), &testSite)
	t0 := r.now
	dnt := func(req *collect.Request) { req.DoNotTrack = true }
	internal := func(req *collect.Request) { req.IP = netip.MustParseAddr("10.1.2.3") }
	monitor := func(req *collect.Request) { req.UserAgent = "InternalMonitor/1.0 Mozilla/5.0" }
	bot := func(req *collect.Request) {
		req.UserAgent = "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)"
	}
	cases := []struct {
		name string
		q    string
		opt  hitOpt
	}{
		{"no rec", "idsite=1&url=https%3A%2F%2Fclinic.example%2Fx", nil},
		{"dnt", "idsite=1&rec=1&url=https%3A%2F%2Fclinic.example%2Fx", dnt},
		{"excluded ip", "idsite=1&rec=1&url=https%3A%2F%2Fclinic.example%2Fx", internal},
		{"excluded ua", "idsite=1&rec=1&url=https%3A%2F%2Fclinic.example%2Fx", monitor},
		{"spam referrer", "idsite=1&rec=1&url=https%3A%2F%2Fclinic.example%2Fx&urlref=http%3A%2F%2Fsemalt.com%2F", nil},
		{"excluded referrer", "idsite=1&rec=1&url=https%3A%2F%2Fclinic.example%2Fx&urlref=https%3A%2F%2Fwww.excluded.example%2Fp", nil},
		{"bot", "idsite=1&rec=1&url=https%3A%2F%2Fclinic.example%2Fx", bot},
	}
	for _, tc := range cases {
		var opts []hitOpt
		if tc.opt != nil {
			opts = append(opts, tc.opt)
		}
		if err := r.track(tc.q, t0, opts...); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
	}
	if err := r.track("idsite=2&rec=1&url=x", t0); err == nil || !collect.IsBadRequest(err) || !strings.Contains(err.Error(), "idsite 2 does not exist") {
		t.Fatalf("unknown site: %v", err)
	}
	for _, q := range []string{"idsite=1&rec=1&cip=1.2.3.4", "idsite=1&rec=1&country=fr", "idsite=1&rec=1&cdt=2026-03-01+10:00:00"} {
		if err := r.track(q, t0); err == nil || !collect.IsBadRequest(err) || !strings.Contains(err.Error(), "token_auth") {
			t.Fatalf("%s without token: %v", q, err)
		}
	}
	r.mustTrack("idsite=1&rec=1&url=https%3A%2F%2Fclinic.example%2Fold&cdt=2026-03-01+10:00:00&cip=203.0.113.77&country=fr&city=Lyon&token_auth=0123456789abcdef0123456789abcdef&uid=alice%40example.org", t0)
	if got := r.visits(); len(got) != 1 {
		t.Fatalf("visits = %d, want only the privileged one", len(got))
	} else {
		v := got[0].Visit
		if v.IP != "203.0.0.0" || v.Location.Country != "fr" || v.Location.City != "Lyon" || !v.First.Equal(time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)) {
			t.Fatalf("privileged overrides: %+v", v)
		}
		if v.UserID == "" || strings.Contains(v.UserID, "alice") || len(v.UserID) != 32 || v.VisitorID.String() != v.UserID[:16] {
			t.Fatalf("user id must be a keyed pseudonym: %q %s", v.UserID, v.VisitorID)
		}
	}
	n, err := r.events.BotCount(context.Background(), r.site, t0.Truncate(24*time.Hour), t0.Add(24*time.Hour))
	if err != nil || n != 1 {
		t.Fatalf("bot count %d %v", n, err)
	}
	// Nothing on disk holds the raw IP or user ID.
	err = filepath.Walk(r.dir, func(p string, info os.FileInfo, err error) error {
		if errors.Is(err, fs.ErrNotExist) {
			return nil // a spool spare being prepared in the background
		}
		if err != nil || info.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		for _, s := range []string{"198.51.100.23", "203.0.113.77", "alice@example.org"} {
			if bytes.Contains(b, []byte(s)) {
				t.Errorf("%s contains %q", p, s)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestConcurrentHitsOfOneVisitor(t *testing.T) {
	r := newRig(t, t.TempDir(), &testSite)
	const n = 200
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			errs <- r.track("idsite=1&rec=1&_id=00000000000000aa&url=https%3A%2F%2Fclinic.example%2Fp"+strings.Repeat("x", i%7), r.now.Add(time.Duration(i)*time.Millisecond))
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	got := r.visits()
	if len(got) != 1 || got[0].Visit.Actions != n || len(got[0].Actions) != n {
		t.Fatalf("visits=%d actions=%d", len(got), got[0].Visit.Actions)
	}
	seen := map[int32]bool{}
	for _, a := range got[0].Actions {
		if seen[a.Index] {
			t.Fatalf("duplicate action index %d", a.Index)
		}
		seen[a.Index] = true
	}
}

func TestVisitContinuesAfterRestart(t *testing.T) {
	dir := t.TempDir()
	r := newRig(t, dir, &testSite)
	r.mustTrack("idsite=1&rec=1&_id=00000000000000bb&url=https%3A%2F%2Fclinic.example%2Fa", r.now)
	r.close()
	r2 := newRig(t, dir, nil)
	r2.setNow(r.now.Add(time.Minute))
	r2.mustTrack("idsite=1&rec=1&_id=00000000000000bb&url=https%3A%2F%2Fclinic.example%2Fb", r2.clock())
	got := r2.visits()
	if len(got) != 1 || got[0].Visit.Actions != 2 || got[0].Actions[1].RefURL != "https://clinic.example/a" {
		t.Fatalf("after restart: %d visits, %+v", len(got), got)
	}
}

func TestSpoolReplay(t *testing.T) {
	dir := t.TempDir()
	r := newRig(t, dir, &testSite)
	// Reopen with an applier that never runs, so acknowledged hits live only in the spool.
	if err := r.p.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	r.applyEvery = time.Hour
	r.open()
	r.mustTrack("idsite=1&rec=1&_id=00000000000000cc&url=https%3A%2F%2Fclinic.example%2Fspooled", r.now)
	recs, _, err := readSpool(filepath.Join(dir, "spool"))
	if err != nil || len(recs) != 1 || recs[0].Action == nil || recs[0].Action.URL != "https://clinic.example/spooled" {
		t.Fatalf("spool holds %d records, %v", len(recs), err)
	}
	// Simulate a crash: abandon the pipeline without closing it, close the stores under it.
	p := r.p
	r.p = nil
	close(p.stop)
	p.wg.Wait()
	_ = p.spool.close()
	// Write a torn record after the last frame, as a crash mid-write leaves.
	seg, _ := filepath.Glob(filepath.Join(dir, "spool", "*.spool"))
	path := seg[len(seg)-1]
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	end := 0
	for end+spoolHeader <= len(data) {
		n := int(data[end]) | int(data[end+1])<<8 | int(data[end+2])<<16 | int(data[end+3])<<24
		if n == 0 {
			break
		}
		end += spoolHeader + n
	}
	if end == 0 {
		t.Fatal("no frame found in the spool segment")
	}
	f, err := os.OpenFile(path, os.O_WRONLY, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte{200, 0, 0, 0, 1, 2, 3, 4, 2, 0, 0, 0, 0, 0, 0, 0, 9, 9}, int64(end)); err != nil {
		t.Fatal(err)
	}
	f.Close()
	r.close()
	r2 := newRig(t, dir, nil)
	got := r2.visits()
	if len(got) != 1 || len(got[0].Actions) != 1 || got[0].Actions[0].URL != "https://clinic.example/spooled" {
		t.Fatalf("replayed visits: %+v", got)
	}
}

// BenchmarkTrack measures the pipeline alone (no HTTP): decode excluded, everything from
// filtering to a durable spool record included.
func BenchmarkTrack(b *testing.B) {
	dir := b.TempDir()
	ctx := context.Background()
	meta, err := sqlite.Open(ctx, sqlite.Options{Path: filepath.Join(dir, "meta.db"), Key: bytes.Repeat([]byte{4}, 64)})
	if err != nil {
		b.Fatal(err)
	}
	defer meta.Close()
	events, err := duckdb.Open(ctx, duckdb.Options{Path: filepath.Join(dir, "events.duckdb")})
	if err != nil {
		b.Fatal(err)
	}
	defer events.Close()
	if _, err := meta.CreateSite(ctx, testSite); err != nil {
		b.Fatal(err)
	}
	p, err := Open(ctx, Options{Events: events, Meta: meta, Devices: device.New(1000), Referrers: referrer.Builtin(),
		Hasher: privacy.NewHasher([]byte("vk"), []byte("uk")), SpoolDir: filepath.Join(dir, "spool"), HonorDNT: true})
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close(ctx)
	hits := make([]collect.Hit, 1000)
	for i := range hits {
		v, _ := url.ParseQuery(fmtHit(i))
		hits[i], err = collect.Decode(v, time.Now())
		if err != nil {
			b.Fatal(err)
		}
	}
	b.SetParallelism(16)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			req := &collect.Request{IP: netip.AddrFrom4([4]byte{198, 51, byte(i), byte(i >> 8)}), UserAgent: chromeUA, Time: time.Now()}
			if out := p.Track(ctx, hits[i%len(hits):i%len(hits)+1], req); out[0].Err != nil {
				b.Fatal(out[0].Err)
			}
			i++
		}
	})
	b.StopTimer()
	if n := p.stats.Syncs.Load(); n > 0 {
		b.ReportMetric(float64(p.stats.Accepted.Load())/float64(n), "hits/sync")
	}
}

func fmtHit(i int) string {
	return "idsite=1&rec=1&_id=" + strings.Repeat("0", 12) + strings.ToLower(strings.TrimLeft(time.Duration(i%5000+4096).String(), "")[:0]) +
		func() string { s := "000" + itoaHex(i%4096); return s[len(s)-4:] }() +
		"&url=https%3A%2F%2Fclinic.example%2Fpage-" + itoaHex(i%300) + "&action_name=Page+" + itoaHex(i%300) + "&res=1920x1080"
}

func itoaHex(n int) string {
	const digits = "0123456789abcdef"
	if n == 0 {
		return "0"
	}
	var b []byte
	for n > 0 {
		b = append([]byte{digits[n%16]}, b...)
		n /= 16
	}
	return string(b)
}

// FuzzReadSegment feeds arbitrary bytes to the spool reader: it must never panic, and every
// record it returns must carry the sequence number its position implies.
func FuzzReadSegment(f *testing.F) {
	body, _ := encode(&record{Bot: &event.BotHit{SiteID: 1, Name: "x"}})
	frame := make([]byte, spoolHeader+len(body))
	frame[0] = byte(len(body))
	frame[8] = 7 // sequence 7
	copy(frame[spoolHeader:], body)
	sum := crcOf(frame[8:16], body)
	frame[4], frame[5], frame[6], frame[7] = byte(sum), byte(sum>>8), byte(sum>>16), byte(sum>>24)
	f.Add(frame) // built here: it follows the current encoding and checksum
	for _, s := range fuzzseed.Read(f, "FuzzReadSegment", 1) {
		f.Add([]byte(s[0]))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		path := segmentName(dir, 7)
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		recs, err := readSegment(path)
		if err != nil {
			if !strings.Contains(err.Error(), "is intact but cannot be read") {
				t.Fatal(err)
			}
			return // an intact frame the codec refuses: reported, not skipped
		}
		for i, r := range recs {
			if r.Seq != uint64(7+i) {
				t.Fatalf("record %d has sequence %d", i, r.Seq)
			}
		}
	})
}

// TestReadSegmentRefusesUnreadable: an intact frame (its checksum holds) whose body the
// codec cannot read stops the replay with an error naming it, instead of dropping it and
// every acknowledged record after it.
func TestReadSegmentRefusesUnreadable(t *testing.T) {
	dir := t.TempDir()
	s, err := openSpool(dir, 7, 1<<16)
	if err != nil {
		t.Fatal(err)
	}
	good, err := encode(&record{Bot: &event.BotHit{SiteID: 1, Name: "a"}})
	if err != nil {
		t.Fatal(err)
	}
	future := []byte{recordBinary + 1, hasBot, 1, 2, 3} // a format this version does not know
	recs := []*record{{}, {}, {}}
	if _, err := s.write(recs, [][]byte{good, future, good}); err != nil {
		t.Fatal(err)
	}
	if err := s.close(); err != nil {
		t.Fatal(err)
	}
	_, _, err = readSpool(dir)
	if err == nil || !strings.Contains(err.Error(), "record 8 is intact but cannot be read") {
		t.Fatalf("readSpool: %v", err)
	}
}

func TestReadSegmentFrames(t *testing.T) {
	dir := t.TempDir()
	s, err := openSpool(dir, 7, 1<<16)
	if err != nil {
		t.Fatal(err)
	}
	recs := []*record{{Bot: &event.BotHit{SiteID: 1, Name: "a"}}, {Bot: &event.BotHit{SiteID: 2, Name: "b"}}}
	var bodies [][]byte
	for _, r := range recs {
		b, err := encode(r)
		if err != nil {
			t.Fatal(err)
		}
		bodies = append(bodies, b)
	}
	if _, err := s.write(recs, bodies); err != nil {
		t.Fatal(err)
	}
	if err := s.close(); err != nil {
		t.Fatal(err)
	}
	got, paths, err := readSpool(dir)
	if err != nil || len(paths) != 1 || len(got) != 2 || got[0].Seq != 7 || got[1].Seq != 8 || got[1].Bot.Name != "b" {
		t.Fatalf("read back %+v %v %v", got, paths, err)
	}
	// The segment is full-size and zero-filled beyond the frames.
	st, err := os.Stat(paths[0])
	if err != nil || st.Size() != 1<<16 {
		t.Fatalf("segment size %v %v", st.Size(), err)
	}
}

// TestForcedVisitorIDsStayApart: forced visitor IDs (cid) from one address and browser are
// different visitors, even when one's visit has ended when the other's starts: each is
// looked up by its own ID, not matched on the shared cookieless fingerprint.
func TestForcedVisitorIDsStayApart(t *testing.T) {
	r := newRig(t, t.TempDir(), &testSite)
	t0 := time.Date(2026, 3, 6, 10, 0, 0, 0, time.UTC)
	r.mustTrack("idsite=1&rec=1&url=https%3A%2F%2Fclinic.example%2Fa&cid=aaaaaaaaaaaaaaaa", t0)
	r.mustTrack("idsite=1&rec=1&url=https%3A%2F%2Fclinic.example%2Fa&cid=aaaaaaaaaaaaaaaa", t0.Add(2*time.Hour))
	r.mustTrack("idsite=1&rec=1&url=https%3A%2F%2Fclinic.example%2Fb&cid=bbbbbbbbbbbbbbbb", t0.Add(4*time.Hour))
	got := r.visits()
	if len(got) != 3 {
		t.Fatalf("visits = %d, want 3", len(got))
	}
	want := []struct {
		visitor string
		count   int32
	}{{"aaaaaaaaaaaaaaaa", 1}, {"aaaaaaaaaaaaaaaa", 2}, {"bbbbbbbbbbbbbbbb", 1}}
	for i, w := range want {
		if v := got[i].Visit; v.VisitorID.String() != w.visitor || v.VisitCount != w.count || v.Returning != (w.count > 1) {
			t.Errorf("visit %d: visitor %s count %d returning %v; want %s, %d", i, v.VisitorID, v.VisitCount, v.Returning, w.visitor, w.count)
		}
	}
}

// TestVisitDimensionLastValue: a visit-scope custom dimension holds the value last sent
// in the visit (Matomo updates it on every request carrying one); a request without it
// leaves it, and each action keeps the value it was sent with.
func TestVisitDimensionLastValue(t *testing.T) {
	r := newRig(t, t.TempDir(), &testSite)
	t0 := time.Date(2026, 3, 6, 10, 0, 0, 0, time.UTC)
	r.mustTrack("idsite=1&rec=1&url=https%3A%2F%2Fclinic.example%2Fa&_id=aaaaaaaaaaaaaaaa&dimension1=trial&dimension3=x", t0)
	r.mustTrack("idsite=1&rec=1&url=https%3A%2F%2Fclinic.example%2Fb&_id=aaaaaaaaaaaaaaaa&dimension1=paid", t0.Add(time.Minute))
	r.mustTrack("idsite=1&rec=1&url=https%3A%2F%2Fclinic.example%2Fc&_id=aaaaaaaaaaaaaaaa", t0.Add(2*time.Minute))
	got := r.visits()
	if len(got) != 1 {
		t.Fatalf("visits = %d, want 1", len(got))
	}
	if d := got[0].Visit.Dimensions; d[1] != "paid" || d[3] != "x" || len(d) != 2 {
		t.Fatalf("visit dimensions %v, want 1=paid 3=x", d)
	}
	var perAction []string
	for _, a := range got[0].Actions {
		perAction = append(perAction, a.Dimensions[1])
	}
	if strings.Join(perAction, ",") != "trial,paid," {
		t.Fatalf("action values of dimension 1: %q, want trial,paid,(none)", perAction)
	}
}

// TestGoalConversions: goals convert from their definition on, once per visit unless they
// allow more, with the goal's revenue, the tracker's, or the event value; a request for an
// unknown goal id is refused with a reason, as Matomo refuses it.
func TestGoalConversions(t *testing.T) {
	r := newRig(t, t.TempDir(), &testSite)
	ctx := context.Background()
	for _, g := range []store.Goal{
		{Name: "Thanks", MatchAttribute: "url", Pattern: "/thanks", PatternType: "contains", Revenue: 10},
		{Name: "Call", MatchAttribute: "manually", Revenue: 2, AllowMultiple: true},
		{Name: "Form", MatchAttribute: "event_category", Pattern: "Form", PatternType: "exact", EventValueAsRevenue: true},
		{Name: "Stayed", MatchAttribute: "visit_duration", Pattern: "1", PatternType: "greater_than"},
	} {
		g.SiteID = r.site
		if _, err := r.meta.CreateGoal(ctx, g); err != nil {
			t.Fatal(err)
		}
	}
	t0 := r.now
	page := func(path string) string {
		return "idsite=1&rec=1&_id=1111111111111111&url=" + url.QueryEscape("https://clinic.example"+path)
	}
	r.mustTrack(page("/thanks"), t0)
	r.visits() // a restart: the open visit remembers it converted goal 1
	r.mustTrack(page("/thanks?again=1"), t0.Add(10*time.Second))
	r.mustTrack(page("/call")+"&idgoal=2", t0.Add(20*time.Second))
	r.mustTrack(page("/call")+"&idgoal=2&revenue=5", t0.Add(30*time.Second))
	if err := r.track(page("/call")+"&idgoal=99", t0.Add(40*time.Second)); err == nil || !strings.Contains(err.Error(), "idgoal 99 is not a goal of site 1") {
		t.Fatalf("unknown goal: %v", err)
	}
	r.mustTrack(page("/book")+"&e_c=Form&e_a=Submit&e_v=7", t0.Add(70*time.Second))
	r.mustTrack(page("/book")+"&ping=1", t0.Add(80*time.Second))
	// A goal defined now counts from when ingest learns of it, never for earlier hits.
	if _, err := r.meta.CreateGoal(ctx, store.Goal{SiteID: r.site, Name: "Late", MatchAttribute: "url", Pattern: "/late", PatternType: "contains"}); err != nil {
		t.Fatal(err)
	}
	r.mustTrack(page("/late"), t0.Add(90*time.Second))
	r.p.InvalidateSite(r.site)
	r.mustTrack(page("/late"), t0.Add(100*time.Second))

	got := r.visits()
	if len(got) != 1 {
		t.Fatalf("visits = %d, want 1", len(got))
	}
	v := got[0].Visit
	if v.Conversions != 6 || v.Revenue != 24 || v.Actions != 5 || v.Pageviews != 4 || v.Events != 1 {
		t.Fatalf("visit: conversions=%d revenue=%v actions=%d pageviews=%d events=%d; want 6, 24, 5, 4, 1",
			v.Conversions, v.Revenue, v.Actions, v.Pageviews, v.Events)
	}
	type conv struct {
		goal    int32
		revenue float64
		url     string
	}
	var convs []conv
	for _, a := range got[0].Actions {
		if a.Type == event.ActionGoal {
			convs = append(convs, conv{a.GoalID, a.Revenue, strings.TrimPrefix(a.URL, "https://clinic.example")})
		}
	}
	want := []conv{{1, 10, "/thanks"}, {2, 2, "/call"}, {2, 5, "/call"}, {3, 7, "/book"}, {4, 0, "/book"}, {5, 0, "/late"}}
	if fmt.Sprint(convs) != fmt.Sprint(want) {
		t.Fatalf("conversions %v, want %v", convs, want)
	}
}

// TestSiteLocalDay: the remembered day gives the same date as formatting each time in the
// site's timezone, across midnights and daylight-saving changes, in any order.
func TestSiteLocalDay(t *testing.T) {
	for _, zone := range []string{"UTC", "Europe/Berlin", "America/Santiago", "Pacific/Chatham", "Asia/Kolkata", "America/Havana"} {
		tz, err := time.LoadLocation(zone)
		if err != nil {
			t.Fatal(err)
		}
		c := &siteConf{tz: tz}
		start := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
		for i := range 24 * 4 * 300 {
			at := start.Add(time.Duration(i) * 15 * time.Minute)
			if i%7 == 3 {
				at = at.Add(-36 * time.Hour) // an earlier day now and then
			}
			if got, want := c.localDay(at), at.In(tz).Format("2006-01-02"); got != want {
				t.Fatalf("%s %v: %s, want %s", zone, at, got, want)
			}
		}
	}
}

// TestVisitSnapshotsKeepTheirValues: each hit's record carries the visit as it was after
// that hit. A later hit changing a visit-scope dimension or custom variable must not change
// the snapshot of an earlier one, which the event store may be reading at that moment.
func TestVisitSnapshotsKeepTheirValues(t *testing.T) {
	r := newRig(t, t.TempDir(), &testSite)
	t0 := time.Date(2026, 3, 6, 10, 0, 0, 0, time.UTC)
	process := func(q string, at time.Time) *record {
		t.Helper()
		v, err := url.ParseQuery(q)
		if err != nil {
			t.Fatal(err)
		}
		h, err := collect.Decode(v, at)
		if err != nil {
			t.Fatal(err)
		}
		req := &collect.Request{IP: netip.MustParseAddr("198.51.100.23"), UserAgent: chromeUA, Language: "de-DE", Time: at}
		pds, err := r.p.process(context.Background(), &h, req)
		if err != nil || len(pds) == 0 {
			t.Fatalf("process %q: %v", q, err)
		}
		if err := r.p.commit.wait(pds[0]); err != nil {
			t.Fatal(err)
		}
		return pds[0].recs[0]
	}
	cvar := func(v string) string { return url.QueryEscape(`{"1":["plan","` + v + `"]}`) }
	first := process("idsite=1&rec=1&url=https%3A%2F%2Fclinic.example%2Fa&_id=aaaaaaaaaaaaaaaa&dimension1=trial&_cvar="+cvar("basic"), t0)
	second := process("idsite=1&rec=1&url=https%3A%2F%2Fclinic.example%2Fb&_id=aaaaaaaaaaaaaaaa&dimension1=paid&_cvar="+cvar("pro"), t0.Add(time.Minute))
	third := process("idsite=1&rec=1&url=https%3A%2F%2Fclinic.example%2Fc&_id=aaaaaaaaaaaaaaaa", t0.Add(2*time.Minute))
	for _, c := range []struct {
		name      string
		rec       *record
		dim, cvar string
	}{{"first", first, "trial", "basic"}, {"second", second, "paid", "pro"}, {"third", third, "paid", "pro"}} {
		if c.rec.Visit == nil {
			t.Fatalf("%s hit: no visit snapshot", c.name)
		}
		if got := c.rec.Visit.Dimensions[1]; got != c.dim {
			t.Errorf("%s hit's snapshot: dimension1 %q, want %q", c.name, got, c.dim)
		}
		if got := c.rec.Visit.CustomVars["plan"]; got != c.cvar {
			t.Errorf("%s hit's snapshot: custom variable plan %q, want %q (all: %v)", c.name, got, c.cvar, c.rec.Visit.CustomVars)
		}
	}
}

// TestBatchReuse: a batch slice is emptied for the next batch with its rows cleared (no
// strings kept alive from the last batch), and let go when a burst left it far too large.
func TestBatchReuse(t *testing.T) {
	s := make([]event.BotHit, 0, 8)
	s = append(s, event.BotHit{Name: "a"}, event.BotHit{Name: "b"})
	r := reuse(s)
	if len(r) != 0 || cap(r) != 8 {
		t.Fatalf("reused slice len %d cap %d, want 0 and 8", len(r), cap(r))
	}
	if full := r[:2]; full[0].Name != "" || full[1].Name != "" {
		t.Fatalf("rows not cleared: %+v", full)
	}
	big := make([]event.BotHit, 100, 10_000)
	if got := reuse(big); got != nil {
		t.Fatalf("a slice holding 100 of 10,000 rows was kept (cap %d)", cap(got))
	}
	busy := make([]event.BotHit, 6_000, 10_000)
	if got := reuse(busy); cap(got) != 10_000 {
		t.Fatalf("a busy slice was let go (cap %d)", cap(got))
	}
}

// TestUnknownSitesBounded: hits for ever new unknown site ids are refused with a reason, and
// the memory of unknown ids stays bounded instead of growing with every id an attacker tries.
func TestUnknownSitesBounded(t *testing.T) {
	r := newRig(t, t.TempDir(), &testSite)
	t0 := time.Date(2026, 3, 6, 10, 0, 0, 0, time.UTC)
	for id := 1000; id < 1000+3*maxMissingSites; id++ {
		err := r.track(fmt.Sprintf("idsite=%d&rec=1&url=https%%3A%%2F%%2Fclinic.example%%2F", id), t0)
		if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("idsite %d does not exist", id)) {
			t.Fatalf("idsite %d: %v, want a refusal naming the site", id, err)
		}
	}
	r.p.sitesMu.RLock()
	n := len(r.p.missing)
	r.p.sitesMu.RUnlock()
	if n > maxMissingSites {
		t.Fatalf("%d unknown site ids remembered, want at most %d", n, maxMissingSites)
	}
	// The known site still works.
	r.mustTrack("idsite=1&rec=1&url=https%3A%2F%2Fclinic.example%2Fa&_id=aaaaaaaaaaaaaaaa", t0)
}
