package matomo

import (
	"context"
	"net/url"
	"sync"
	"testing"

	"hearth/internal/audit"
	"hearth/internal/event"
)

type auditLog struct {
	mu     sync.Mutex
	events []audit.Event
}

func (l *auditLog) Record(_ context.Context, ev audit.Event) error {
	l.mu.Lock()
	l.events = append(l.events, ev)
	l.mu.Unlock()
	return nil
}

// TestKeepEmailAddressesIsAudited: sites replace e-mail addresses by default; keeping them is
// a site setting whose every change is recorded as a setting change of that site.
func TestKeepEmailAddressesIsAudited(t *testing.T) {
	r := newAPIRig(t, false)
	log := &auditLog{}
	r.api.opts.Audit = log
	ctx := context.Background()
	_, v := r.json(t, url.Values{"method": {"SitesManager.addSite"}, "siteName": {"Clinic"}, "urls": {"https://clinic.example"}})
	id := event.SiteID(v.(map[string]any)["value"].(float64))
	s, err := r.api.opts.Meta.Site(ctx, id)
	if err != nil || s.KeepEmails {
		t.Fatalf("a new site keeps addresses: %+v %v", s, err)
	}
	settingChanges := func() []audit.Event {
		var out []audit.Event
		for _, e := range log.events {
			if e.Action == audit.ActionSettingChange {
				out = append(out, e)
			}
		}
		return out
	}
	if n := len(settingChanges()); n != 0 {
		t.Fatalf("%d setting changes for a default site", n)
	}
	for i, step := range []struct{ param, want string }{{"1", "kept"}, {"1", ""}, {"0", "redacted"}} {
		code, _ := r.json(t, url.Values{"method": {"SitesManager.updateSite"}, "idSite": {"1"}, "siteName": {"Clinic"}, "keepEmailAddresses": {step.param}})
		if code != 200 {
			t.Fatalf("update %d: %d", i, code)
		}
		s, _ := r.api.opts.Meta.Site(ctx, id)
		if s.KeepEmails != (step.param == "1") {
			t.Fatalf("update %d: keep = %v", i, s.KeepEmails)
		}
		got := settingChanges()
		want := map[int]int{0: 1, 1: 1, 2: 2}[i] // the repeated value changes nothing
		if len(got) != want {
			t.Fatalf("update %d: %d setting changes, want %d", i, len(got), want)
		}
		if step.want != "" {
			e := got[len(got)-1]
			if e.Target != "site:1" || e.Actor != "root" || e.Details["setting"] != "email_addresses" || e.Details["value"] != step.want {
				t.Fatalf("update %d: %+v", i, e)
			}
		}
	}
	_, v = r.json(t, url.Values{"method": {"SitesManager.getSiteFromId"}, "idSite": {"1"}})
	if v.(map[string]any)["keep_email_addresses"] != float64(0) {
		t.Fatalf("getSiteFromId: %v", v)
	}
}
