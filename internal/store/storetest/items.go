package storetest

import (
	"context"
	"testing"
	"time"

	"hearth/internal/event"
	"hearth/internal/store"
)

// runItems checks ItemGroups on three visits: one order of gloves and a mask; a visit that
// updated its cart twice and left (its last cart counts as abandoned); a visit whose cart
// became an order (only the order counts).
func runItems(t *testing.T, open func(t *testing.T, dir string) store.Events) {
	ctx := context.Background()
	s := open(t, t.TempDir())
	defer s.Close()
	t0 := time.Date(2026, 3, 6, 10, 0, 0, 0, time.UTC)
	gloves := func(q int64) event.Item {
		return event.Item{SKU: "A", Name: "Gloves", Categories: []string{"Care", "Hands"}, Price: 10, Quantity: q}
	}
	mask := func(q int64) event.Item {
		return event.Item{SKU: "B", Name: "Mask", Categories: []string{"Care"}, Price: 5, Quantity: q}
	}
	act := func(visit byte, idx int32, secs int, typ event.ActionType, order string, items ...event.Item) event.Action {
		a := action(visit, idx, t0.Add(time.Duration(secs)*time.Second), typ)
		a.URL, a.OrderID, a.Items = "https://ex.org/shop", order, items
		return a
	}
	visit := func(id byte, status event.EcommerceStatus) event.Visit {
		return event.Visit{SiteID: 1, ID: event.VisitID(id), VisitorID: event.VisitorID{id}, First: t0, Last: t0.Add(time.Minute), VisitCount: 1, LocalTime: -1, Ecommerce: status}
	}
	err := s.Apply(ctx, store.Batch{Seq: 1,
		Visits: []event.Visit{visit(50, event.EcommerceOrdered), visit(60, event.EcommerceAbandonedCart), visit(70, event.EcommerceOrdered)},
		Actions: []event.Action{
			act(50, 1, 0, event.ActionOrder, "O-1", gloves(2), mask(1)),
			act(60, 1, 0, event.ActionCartUpdate, "", gloves(1)),
			act(60, 2, 10, event.ActionCartUpdate, "", gloves(3), mask(1)),
			act(70, 1, 0, event.ActionCartUpdate, "", mask(2)),
			act(70, 2, 10, event.ActionOrder, "O-2", mask(2)),
		}})
	if err != nil {
		t.Fatal(err)
	}
	day := []store.TimeRange{{From: t0.Truncate(24 * time.Hour), To: t0.Truncate(24 * time.Hour).Add(24 * time.Hour)}}
	get := func(by store.ItemKey, abandoned bool) map[string]store.ItemRow {
		t.Helper()
		rows, err := s.ItemGroups(ctx, store.ItemQuery{ReportQuery: store.ReportQuery{Site: 1, Ranges: day}, By: by, Abandoned: abandoned})
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]store.ItemRow{}
		for _, r := range rows {
			k := r.Key
			r.Key, r.Range = "", 0
			out[k] = r
		}
		return out
	}
	sameGroups(t, "ordered by SKU", get(store.ItemSKU, false), map[string]store.ItemRow{
		"A": {Revenue: 20, Quantity: 2, Orders: 1, Visits: 1},
		"B": {Revenue: 15, Quantity: 3, Orders: 2, Visits: 2},
	})
	sameGroups(t, "ordered by name", get(store.ItemName, false), map[string]store.ItemRow{
		"Gloves": {Revenue: 20, Quantity: 2, Orders: 1, Visits: 1},
		"Mask":   {Revenue: 15, Quantity: 3, Orders: 2, Visits: 2},
	})
	sameGroups(t, "ordered by category", get(store.ItemCategory, false), map[string]store.ItemRow{
		"Care":  {Revenue: 35, Quantity: 5, Orders: 2, Visits: 2},
		"Hands": {Revenue: 20, Quantity: 2, Orders: 1, Visits: 1},
	})
	sameGroups(t, "abandoned by SKU", get(store.ItemSKU, true), map[string]store.ItemRow{
		"A": {Revenue: 30, Quantity: 3, Orders: 1, Visits: 1},
		"B": {Revenue: 5, Quantity: 1, Orders: 1, Visits: 1},
	})
}
