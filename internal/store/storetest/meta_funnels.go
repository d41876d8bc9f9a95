package storetest

import (
	"context"
	"testing"
	"time"

	"hearth/internal/event"
	"hearth/internal/store"
)

func metaFunnels(t *testing.T, s store.Meta) {
	ctx := context.Background()
	create := func(f store.Funnel) store.Funnel {
		t.Helper()
		got, err := s.CreateFunnel(ctx, f)
		must(t, "create funnel", err)
		if got.ID <= 0 {
			t.Fatalf("funnel %q: id %d, want a positive id", f.Name, got.ID)
		}
		f.ID = got.ID
		same(t, "created funnel", got, f)
		return f
	}
	// Every kind and match, a case-sensitive step, text a JSON or SQL encoder must keep as it is.
	checkout := create(store.Funnel{SiteID: 1, Name: "Checkout", Created: metaT0, Steps: []store.FunnelStep{
		{Name: "Cart", Kind: store.FunnelURL, Match: store.FunnelContains, Pattern: "/cart"},
		{Name: "Détails", Kind: store.FunnelTitle, Match: store.FunnelExact, Pattern: `Your "details"`, CaseSensitive: true},
		{Name: "Pay", Kind: store.FunnelEventCategory, Match: store.FunnelStartsWith, Pattern: "pay'; --"},
		{Name: "Card", Kind: store.FunnelEventAction, Match: store.FunnelRegex, Pattern: `^card\s+(visa|mc)$`},
		{Name: "Named", Kind: store.FunnelEventName, Match: store.FunnelExact, Pattern: "ok"},
		{Name: "Receipt", Kind: store.FunnelDownload, Match: store.FunnelContains, Pattern: ".pdf"},
		{Name: "Partner", Kind: store.FunnelOutlink, Match: store.FunnelStartsWith, Pattern: "https://partner.example/"},
	}})
	signup := create(store.Funnel{SiteID: 1, Name: "Signup", Created: metaT0.Add(time.Minute), Steps: []store.FunnelStep{
		{Name: "Form", Kind: store.FunnelURL, Match: store.FunnelExact, Pattern: "https://ex.org/signup"},
	}})
	other := create(store.Funnel{SiteID: 2, Name: "Checkout", Created: metaT0, Steps: []store.FunnelStep{
		{Name: "Cart", Kind: store.FunnelURL, Match: store.FunnelContains, Pattern: "/basket"},
	}})
	if checkout.ID == signup.ID || signup.ID == other.ID || checkout.ID == other.ID {
		t.Fatalf("funnel ids %d %d %d: want three distinct", checkout.ID, signup.ID, other.ID)
	}
	list := func(site event.SiteID, want ...store.Funnel) {
		t.Helper()
		got, err := s.Funnels(ctx, site)
		must(t, "list funnels", err)
		sameList(t, "funnels of the site", got, want)
	}
	list(1, checkout, signup)
	list(2, other)
	list(3)
	got, err := s.Funnel(ctx, 1, checkout.ID)
	must(t, "read funnel", err)
	same(t, "funnel read back", got, checkout)
	missing := checkout.ID + signup.ID + other.ID + 100

	// A funnel is found only on its own site, so ids of another site's funnels lead nowhere.
	_, err = s.Funnel(ctx, 2, checkout.ID)
	wantErr(t, "read on another site", err, store.ErrNotFound)
	_, err = s.Funnel(ctx, 1, missing)
	wantErr(t, "read of a missing funnel", err, store.ErrNotFound)
	wrongSite := other
	wrongSite.SiteID, wrongSite.Name = 1, "Taken"
	wantErr(t, "update on another site", s.UpdateFunnel(ctx, wrongSite), store.ErrNotFound)
	wantErr(t, "delete on another site", s.DeleteFunnel(ctx, 1, other.ID), store.ErrNotFound)
	list(2, other)

	// An update replaces name and steps, in their new order; site and creation time stay.
	upd := signup
	upd.Name, upd.Created = "Sign-up", metaT0.Add(9*time.Hour)
	upd.Steps = []store.FunnelStep{
		{Name: "Landing", Kind: store.FunnelURL, Match: store.FunnelStartsWith, Pattern: "https://ex.org/"},
		{Name: "Form", Kind: store.FunnelURL, Match: store.FunnelRegex, Pattern: "/sign-?up", CaseSensitive: true},
	}
	must(t, "update funnel", s.UpdateFunnel(ctx, upd))
	upd.Created = signup.Created
	list(1, checkout, upd)
	wantErr(t, "update of a missing funnel", s.UpdateFunnel(ctx, store.Funnel{SiteID: 1, ID: missing, Name: "x"}), store.ErrNotFound)

	must(t, "delete funnel", s.DeleteFunnel(ctx, 1, checkout.ID))
	wantErr(t, "second delete", s.DeleteFunnel(ctx, 1, checkout.ID), store.ErrNotFound)
	_, err = s.Funnel(ctx, 1, checkout.ID)
	wantErr(t, "read of a deleted funnel", err, store.ErrNotFound)
	list(1, upd)
	list(2, other)
}
