package storetest

import (
	"context"
	"testing"
	"time"

	"hearth/internal/event"
	"hearth/internal/store"
)

func metaSegments(t *testing.T, s store.Meta) {
	ctx := context.Background()
	mobile := store.Segment{Login: "root", Name: "Mobile", Definition: "deviceType==smartphone", SiteID: 1, AllUsers: true,
		AutoArchive: true, Created: metaT0, Updated: metaT0}
	returning := store.Segment{Login: "ann", Name: "Returning", Definition: "visitCount>1", Created: metaT0.Add(time.Minute), Updated: metaT0.Add(time.Minute)}
	var err error
	mobile.ID, err = s.CreateSegment(ctx, mobile)
	must(t, "create segment", err)
	returning.ID, err = s.CreateSegment(ctx, returning)
	must(t, "create segment", err)
	if mobile.ID == returning.ID {
		t.Fatalf("two segments got id %d", mobile.ID)
	}
	read := func(want store.Segment) {
		t.Helper()
		got, err := s.Segment(ctx, want.ID)
		must(t, "read segment", err)
		same(t, "segment", got, want)
	}
	read(mobile)
	read(returning) // every site (0), not shared, not archived
	missing := returning.ID + mobile.ID + 100
	_, err = s.Segment(ctx, missing)
	wantErr(t, "read of a missing segment", err, store.ErrNotFound)

	// An update replaces name, definition, site, sharing and the update time; owner and
	// creation time stay.
	upd := store.Segment{ID: mobile.ID, Login: "someone", Name: "Phones", Definition: "deviceType==smartphone;browserCode==CH",
		SiteID: 2, Created: metaT0.Add(5 * time.Hour), Updated: metaT0.Add(time.Hour)}
	must(t, "update segment", s.UpdateSegment(ctx, upd))
	upd.Login, upd.Created = mobile.Login, mobile.Created
	read(upd)
	wantErr(t, "update of a missing segment", s.UpdateSegment(ctx, store.Segment{ID: missing, Name: "x", Definition: "x"}), store.ErrNotFound)

	all, err := s.Segments(ctx)
	must(t, "list segments", err)
	sameList(t, "segments oldest first", all, []store.Segment{upd, returning})
	must(t, "delete segment", s.DeleteSegment(ctx, mobile.ID))
	wantErr(t, "second delete", s.DeleteSegment(ctx, mobile.ID), store.ErrNotFound)
	all, err = s.Segments(ctx)
	must(t, "list segments", err)
	sameList(t, "segments after a delete", all, []store.Segment{returning})
}

func metaDimensions(t *testing.T, s store.Meta) {
	ctx := context.Background()
	create := func(d store.CustomDimension, wantIndex int) store.CustomDimension {
		t.Helper()
		got, err := s.CreateCustomDimension(ctx, d)
		must(t, "create custom dimension", err)
		if got.ID <= 0 || got.Index != wantIndex {
			t.Fatalf("dimension %q: id %d, index %d; want a positive id and index %d", d.Name, got.ID, got.Index, wantIndex)
		}
		d.ID, d.Index = got.ID, wantIndex
		same(t, "created dimension", got, d)
		return d
	}
	// Indexes count per site and scope.
	tier := create(store.CustomDimension{SiteID: 1, Name: "Tier", Scope: "visit", Active: true, CaseSensitive: true, Created: metaT0}, 1)
	plan := create(store.CustomDimension{SiteID: 1, Name: "Plan", Scope: "visit", Created: metaT0.Add(time.Minute)}, 2)
	kind := create(store.CustomDimension{SiteID: 1, Name: "Page kind", Scope: "action", Active: true, Created: metaT0}, 1)
	other := create(store.CustomDimension{SiteID: 2, Name: "Tier", Scope: "visit", Active: true, Created: metaT0}, 1)
	ids := map[int64]bool{tier.ID: true, plan.ID: true, kind.ID: true, other.ID: true}
	if len(ids) != 4 {
		t.Fatalf("dimension ids %d %d %d %d: want four distinct", tier.ID, plan.ID, kind.ID, other.ID)
	}
	list := func(site event.SiteID, want ...store.CustomDimension) {
		t.Helper()
		got, err := s.CustomDimensions(ctx, site)
		must(t, "list custom dimensions", err)
		sameList(t, "dimensions of the site", got, want)
	}
	list(1, tier, plan, kind)
	list(2, other)
	list(3)

	// An update replaces name and flags; scope and index stay.
	upd := tier
	upd.Name, upd.Active, upd.CaseSensitive, upd.Scope, upd.Index = "Level", false, false, "action", 9
	must(t, "update custom dimension", s.UpdateCustomDimension(ctx, upd))
	tier.Name, tier.Active, tier.CaseSensitive = "Level", false, false
	list(1, tier, plan, kind)
	wrongSite := tier
	wrongSite.SiteID = 2
	wantErr(t, "update on another site", s.UpdateCustomDimension(ctx, wrongSite), store.ErrNotFound)
	missing := tier
	missing.ID = tier.ID + plan.ID + kind.ID + other.ID + 100
	wantErr(t, "update of a missing dimension", s.UpdateCustomDimension(ctx, missing), store.ErrNotFound)
	list(2, other)
}

func metaGoals(t *testing.T, s store.Meta) {
	ctx := context.Background()
	create := func(g store.Goal, wantID int32) store.Goal {
		t.Helper()
		got, err := s.CreateGoal(ctx, g)
		must(t, "create goal", err)
		g.ID = wantID
		same(t, "created goal", got, g)
		return g
	}
	signup := create(store.Goal{SiteID: 1, Name: "Signup", Description: "an account", MatchAttribute: "url", Pattern: "/signup",
		PatternType: "contains", CaseSensitive: true, AllowMultiple: true, Revenue: 12.5, EventValueAsRevenue: true, Created: metaT0}, 1)
	read := create(store.Goal{SiteID: 1, Name: "Read", MatchAttribute: "visit_duration", Pattern: "60", PatternType: "greater_than",
		Created: metaT0.Add(time.Minute)}, 2)
	order := create(store.Goal{SiteID: 2, Name: "Order", MatchAttribute: "manually", Created: metaT0}, 1) // ids count per site
	list := func(site event.SiteID, want ...store.Goal) {
		t.Helper()
		got, err := s.Goals(ctx, site)
		must(t, "list goals", err)
		sameList(t, "goals of the site", got, want)
	}
	list(1, signup, read)
	list(2, order)
	list(3)

	// An update replaces the definition and keeps the creation time.
	upd := store.Goal{SiteID: 1, ID: 1, Name: "Sign-up", Description: "", MatchAttribute: "title", Pattern: "^Welcome",
		PatternType: "regex", Revenue: 3.25, Created: metaT0.Add(9 * time.Hour)}
	must(t, "update goal", s.UpdateGoal(ctx, upd))
	upd.Created = signup.Created
	list(1, upd, read)
	wantErr(t, "update of a goal another site lacks", s.UpdateGoal(ctx, store.Goal{SiteID: 2, ID: 2, Name: "x"}), store.ErrNotFound)

	// A deleted goal is no longer listed or updated, and its id is not given again.
	must(t, "delete goal", s.DeleteGoal(ctx, 1, 2))
	wantErr(t, "second delete", s.DeleteGoal(ctx, 1, 2), store.ErrNotFound)
	wantErr(t, "update of a deleted goal", s.UpdateGoal(ctx, read), store.ErrNotFound)
	wantErr(t, "delete of a missing goal", s.DeleteGoal(ctx, 3, 1), store.ErrNotFound)
	list(1, upd)
	third := create(store.Goal{SiteID: 1, Name: "Third", MatchAttribute: "event_category", Pattern: "video", PatternType: "exact", Created: metaT0}, 3)
	list(1, upd, third)
	list(2, order)
}
