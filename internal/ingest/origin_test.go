package ingest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"hearth/internal/enrich/device"
	"hearth/internal/enrich/referrer"
	"hearth/internal/privacy"
	"hearth/internal/store"
)

// countingMeta counts the Sites queries of the pipeline; fail makes them fail, and block
// holds each one until it is closed.
type countingMeta struct {
	store.Meta
	sites     atomic.Int64
	fail      atomic.Bool
	block     atomic.Pointer[chan struct{}]
	started   chan struct{} // receives once per blocked query
	deadlines chan time.Duration
}

func (m *countingMeta) Sites(ctx context.Context) ([]store.Site, error) {
	m.sites.Add(1)
	if d, ok := ctx.Deadline(); ok {
		select {
		case m.deadlines <- time.Until(d):
		default:
		}
	}
	if b := m.block.Load(); b != nil {
		m.started <- struct{}{}
		<-*b
	}
	if m.fail.Load() {
		return nil, errors.New("metadata store unavailable")
	}
	return m.Meta.Sites(ctx)
}

// openCounting reopens r's pipeline on a countingMeta, logging into a buffer.
func openCounting(t *testing.T, r *rig) (*countingMeta, *syncBuffer) {
	t.Helper()
	if err := r.p.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	m := &countingMeta{Meta: r.meta, started: make(chan struct{}, 1), deadlines: make(chan time.Duration, 1)}
	logs := &syncBuffer{}
	var err error
	r.p, err = Open(context.Background(), Options{
		Events: r.events, Meta: m, Devices: device.New(1000), Referrers: referrer.Builtin(),
		Hasher: privacy.NewHasher([]byte("vk"), []byte("uk")), Auth: fixedAuth{},
		SpoolDir: filepath.Join(r.dir, "spool"), Now: r.clock, ApplyInterval: r.applyEvery,
		Logger: slog.New(slog.NewTextHandler(logs, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	return m, logs
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

var originSite = store.Site{Name: "Clinic", URLs: []string{"https://www.clinic.example", "http://alias.clinic.example"}, Timezone: "UTC", Currency: "EUR"}

// TestKnownOrigin: the origins of a site's main URL and aliases are known, in either
// scheme, any case and with a default port; other hosts, look-alikes and what is not an
// origin are not, and asking about them costs no metadata query within the refresh interval.
func TestKnownOrigin(t *testing.T) {
	r := newRig(t, t.TempDir(), &originSite)
	m, _ := openCounting(t, r)
	if n := m.sites.Load(); n != 1 {
		t.Fatalf("Open queried the sites %d times, want 1", n)
	}
	cases := []struct {
		origin string
		want   bool
	}{
		{"https://www.clinic.example", true},
		{"http://www.clinic.example", true},
		{"https://WWW.Clinic.EXAMPLE", true},
		{"https://www.clinic.example:443", true},
		{"http://www.clinic.example:80", true},
		{"http://alias.clinic.example", true},
		{"https://alias.clinic.example", true},
		{"https://evil.example", false},
		{"https://clinic.example.evil", false},
		{"https://www.clinic.example.evil", false},
		{"https://clinic.example", false},
		{"https://evil.www.clinic.example", false},
		{"https://www.clinic.example:8443", false},
		{"http://www.clinic.example:443", false},
		{"https://www.clinic.example/", false},
		{"https://www.clinic.example?x", false},
		{"https://user@www.clinic.example", false},
		{"ftp://www.clinic.example", false},
		{"www.clinic.example", false},
		{"null", false},
		{"", false},
		{"https://" + strings.Repeat("a", 400) + ".www.clinic.example", false},
	}
	for _, c := range cases {
		if got := r.p.KnownOrigin(c.origin); got != c.want {
			t.Errorf("KnownOrigin(%q) = %v, want %v", c.origin, got, c.want)
		}
	}
	if n := m.sites.Load(); n != 1 {
		t.Fatalf("%d sites queries after asking about unknown origins within the interval, want 1 (Open's)", n)
	}
}

// TestKnownOriginRefresh: a site added after Open is known once the refresh interval has
// passed, a changed site at once (InvalidateSite); ever new unknown origins cost at most
// one sites query per interval, also when asked about at once; a failed or slow reload
// keeps the hosts loaded before, logs the error without the origin and holds no other
// request up.
func TestKnownOriginRefresh(t *testing.T) {
	r := newRig(t, t.TempDir(), &originSite)
	m, logs := openCounting(t, r)
	ctx := context.Background()
	t0 := r.clock()
	shop, err := r.meta.CreateSite(ctx, store.Site{Name: "Shop", URLs: []string{"https://shop.example"}, Timezone: "UTC", Currency: "EUR"})
	if err != nil {
		t.Fatal(err)
	}
	if r.p.KnownOrigin("https://shop.example") {
		t.Fatal("a site added after Open is known before the refresh interval passed")
	}
	r.setNow(t0.Add(originRefresh - time.Millisecond))
	if r.p.KnownOrigin("https://shop.example") || m.sites.Load() != 1 {
		t.Fatalf("reloaded before the interval passed: %d queries", m.sites.Load())
	}
	r.setNow(t0.Add(originRefresh))
	if !r.p.KnownOrigin("https://shop.example") {
		t.Fatal("a site added after Open is not known after the refresh interval")
	}
	if n := m.sites.Load(); n != 2 {
		t.Fatalf("%d sites queries, want 2", n)
	}
	select {
	case d := <-m.deadlines:
		if d <= 0 || d > originLoadTimeout {
			t.Fatalf("reload deadline %v away, want within %v", d, originLoadTimeout)
		}
	default:
		t.Fatal("the reload a tracking request waits for has no deadline")
	}

	// 300 random origins over 30 s: one reload at each 10 s.
	t1 := t0.Add(originRefresh)
	for i := 1; i <= 300; i++ {
		r.setNow(t1.Add(time.Duration(i) * 100 * time.Millisecond))
		if r.p.KnownOrigin(fmt.Sprintf("https://r%d.example", i)) {
			t.Fatalf("random origin %d known", i)
		}
	}
	if n := m.sites.Load() - 2; n != 3 {
		t.Fatalf("300 unknown origins over 30 s made %d sites queries, want 3", n)
	}
	// Many at once, once the interval passed: one query.
	r.setNow(t1.Add(45 * time.Second))
	before := m.sites.Load()
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 100 {
				r.p.KnownOrigin(fmt.Sprintf("https://g%d-%d.example", g, i))
			}
		}()
	}
	wg.Wait()
	if n := m.sites.Load() - before; n != 1 {
		t.Fatalf("800 concurrent unknown origins made %d sites queries, want 1", n)
	}

	// A changed site is known at once, and its old host no longer.
	if err := r.meta.UpdateSite(ctx, store.Site{ID: shop, Name: "Shop", URLs: []string{"https://shop2.example"}, Timezone: "UTC", Currency: "EUR"}); err != nil {
		t.Fatal(err)
	}
	r.p.InvalidateSite(shop)
	if !r.p.KnownOrigin("https://shop2.example") || r.p.KnownOrigin("https://shop.example") {
		t.Fatal("InvalidateSite did not reload the site hosts")
	}

	// A failed reload keeps the hosts and logs the error, not the origin.
	m.fail.Store(true)
	r.setNow(t1.Add(time.Minute))
	if r.p.KnownOrigin("https://failing.example") {
		t.Fatal("unknown origin known after a failed reload")
	}
	if !r.p.KnownOrigin("https://www.clinic.example") || !r.p.KnownOrigin("https://shop2.example") {
		t.Fatal("a failed reload dropped the hosts loaded before")
	}
	out := logs.String()
	if !strings.Contains(out, "level=WARN") || !strings.Contains(out, "metadata store unavailable") || strings.Contains(out, "failing.example") {
		t.Fatalf("log of a failed reload: %q", out)
	}
	m.fail.Store(false)

	// A slow reload holds up only the request that started it.
	release := make(chan struct{})
	m.block.Store(&release)
	r.setNow(t1.Add(2 * time.Minute))
	done := make(chan bool)
	go func() { done <- r.p.KnownOrigin("https://slow.example") }()
	<-m.started
	m.block.Store(nil)
	if !r.p.KnownOrigin("https://www.clinic.example") || r.p.KnownOrigin("https://other.example") {
		t.Fatal("origins misjudged while a reload is under way")
	}
	close(release)
	if <-done {
		t.Fatal("slow.example known")
	}
}
