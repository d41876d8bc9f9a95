package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"hearth/internal/event"
	"hearth/internal/store"
)

// itemsDataset opens a store in a fresh folder, closed when the test ends, and stores three
// visits of 2026-03-06 in it: one order of gloves and a mask (and goal 1); a returning visit
// that updated its cart twice and left (its last cart counts as abandoned), converting goal 1
// twice and goal 2 once; a visit whose cart became an order (only the order counts). It
// returns the store and that day.
func itemsDataset(t *testing.T, open func(t *testing.T, dir string) store.Events) (store.Events, store.TimeRange) {
	t.Helper()
	s := open(t, t.TempDir())
	t.Cleanup(func() { s.Close() })
	t0 := time.Date(2026, 3, 6, 10, 0, 0, 0, time.UTC)
	gloves := func(q int64) event.Item {
		return event.Item{SKU: "A", Name: "Gloves", Categories: []string{"Care", "Hands"}, Price: 10, Quantity: q}
	}
	mask := func(q int64) event.Item {
		return event.Item{SKU: "B", Name: "Mask", Categories: []string{"Care"}, Price: 5, Quantity: q}
	}
	act := func(visit byte, idx int32, secs int, typ event.ActionType, revenue float64, order string, items ...event.Item) event.Action {
		a := action(visit, idx, t0.Add(time.Duration(secs)*time.Second), typ)
		a.URL, a.OrderID, a.Items, a.Revenue = "https://ex.org/shop", order, items, revenue
		return a
	}
	goal := func(visit byte, idx int32, secs int, id int32, revenue float64) event.Action {
		a := act(visit, idx, secs, event.ActionGoal, revenue, "")
		a.GoalID = id
		return a
	}
	visit := func(id byte, status event.EcommerceStatus) event.Visit {
		return event.Visit{SiteID: 1, ID: event.VisitID(id), VisitorID: event.VisitorID{id}, First: t0, Last: t0.Add(time.Minute), VisitCount: 1, LocalTime: -1, Ecommerce: status}
	}
	returning := visit(60, event.EcommerceAbandonedCart)
	returning.Returning, returning.VisitCount = true, 2
	o1 := act(50, 1, 0, event.ActionOrder, 35, "O-1", gloves(2), mask(1))
	o1.Subtotal, o1.Tax = 30, 5
	o2 := act(70, 2, 10, event.ActionOrder, 12, "O-2", mask(2))
	o2.Subtotal, o2.Shipping = 10, 2
	err := s.Apply(context.Background(), store.Batch{Seq: 1,
		Visits: []event.Visit{visit(50, event.EcommerceOrdered), returning, visit(70, event.EcommerceOrdered)},
		Actions: []event.Action{
			o1, goal(50, 2, 5, 1, 3),
			act(60, 1, 0, event.ActionCartUpdate, 10, "", gloves(1)),
			goal(60, 2, 5, 1, 2), goal(60, 3, 6, 2, 0),
			act(60, 4, 10, event.ActionCartUpdate, 35, "", gloves(3), mask(1)),
			goal(60, 5, 20, 1, 2),
			act(70, 1, 10, event.ActionCartUpdate, 10, "", mask(2)), // same instant as its order (one bulk request)
			o2,
		}})
	if err != nil {
		t.Fatal(err)
	}
	return s, store.TimeRange{From: t0.Truncate(24 * time.Hour), To: t0.Truncate(24 * time.Hour).Add(24 * time.Hour)}
}

// runItems checks ItemGroups on the items dataset.
func runItems(t *testing.T, open func(t *testing.T, dir string) store.Events) {
	ctx := context.Background()
	s, day := itemsDataset(t, open)
	get := func(t *testing.T, by store.ItemKey, abandoned bool) map[string]store.ItemRow {
		t.Helper()
		rows, err := s.ItemGroups(ctx, store.ItemQuery{ReportQuery: store.ReportQuery{Site: 1, Ranges: []store.TimeRange{day}}, By: by, Abandoned: abandoned})
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
	// check groups the items by a key as a subtest of its own and compares them with want.
	check := func(name string, by store.ItemKey, abandoned bool, want map[string]store.ItemRow) {
		t.Run(name, func(t *testing.T) { sameGroups(t, name, get(t, by, abandoned), want) })
	}
	check("ordered by SKU", store.ItemSKU, false, map[string]store.ItemRow{
		"A": {Revenue: 20, Quantity: 2, Orders: 1, Visits: 1},
		"B": {Revenue: 15, Quantity: 3, Orders: 2, Visits: 2},
	})
	check("ordered by name", store.ItemName, false, map[string]store.ItemRow{
		"Gloves": {Revenue: 20, Quantity: 2, Orders: 1, Visits: 1},
		"Mask":   {Revenue: 15, Quantity: 3, Orders: 2, Visits: 2},
	})
	check("ordered by category", store.ItemCategory, false, map[string]store.ItemRow{
		"Care":  {Revenue: 35, Quantity: 5, Orders: 2, Visits: 2},
		"Hands": {Revenue: 20, Quantity: 2, Orders: 1, Visits: 1},
	})
	// The visitor log gives each of visit 70's cart update and order its own items, though
	// both happened at the same instant.
	t.Run("items of actions at one instant", func(t *testing.T) {
		logs, err := s.Visits(ctx, store.VisitQuery{Sites: []event.SiteID{1}, WithActions: true, Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range logs {
			if v.Visit.ID != 70 {
				continue
			}
			for _, a := range v.Actions {
				if len(a.Items) != 1 || a.Items[0].SKU != "B" || a.Items[0].Quantity != 2 {
					t.Errorf("visit 70 %s: items %+v, want 2 masks", a.Type, a.Items)
				}
			}
		}
	})
	check("abandoned by SKU", store.ItemSKU, true, map[string]store.ItemRow{
		"A": {Revenue: 30, Quantity: 3, Orders: 1, Visits: 1},
		"B": {Revenue: 5, Quantity: 1, Orders: 1, Visits: 1},
	})
}

// runConversions checks Conversions on the items dataset: per goal, orders (0), abandoned
// carts (-1) and overall (-2), each also split into new and returning visits.
func runConversions(t *testing.T, open func(t *testing.T, dir string) store.Events) {
	ctx := context.Background()
	s, day := itemsDataset(t, open)
	before := store.TimeRange{From: day.From.Add(-24 * time.Hour), To: day.From}
	rows, err := s.Conversions(ctx, store.ReportQuery{Site: 1, Ranges: []store.TimeRange{before, day}})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]store.ConversionRow{}
	for _, r := range rows {
		if r.Range != 1 {
			t.Errorf("conversion outside its day: %+v", r)
		}
		k := fmt.Sprintf("%d/%s", r.Goal, r.Visitor)
		r.Range, r.Goal, r.Visitor = 0, 0, ""
		got[k] = r
	}
	sameGroups(t, "conversions", got, map[string]store.ConversionRow{
		"1/":           {Conversions: 3, Visits: 2, Revenue: 7},
		"1/new":        {Conversions: 1, Visits: 1, Revenue: 3},
		"1/returning":  {Conversions: 2, Visits: 1, Revenue: 4},
		"2/":           {Conversions: 1, Visits: 1},
		"2/returning":  {Conversions: 1, Visits: 1},
		"0/":           {Conversions: 2, Visits: 2, Revenue: 47, Items: 5, Subtotal: 40, Tax: 5, Shipping: 2},
		"0/new":        {Conversions: 2, Visits: 2, Revenue: 47, Items: 5, Subtotal: 40, Tax: 5, Shipping: 2},
		"-1/":          {Conversions: 1, Visits: 1, Revenue: 35, Items: 4},
		"-1/returning": {Conversions: 1, Visits: 1, Revenue: 35, Items: 4},
		"-2/":          {Conversions: 6, Visits: 3, Revenue: 54, Items: 5, Subtotal: 40, Tax: 5, Shipping: 2},
		"-2/new":       {Conversions: 3, Visits: 2, Revenue: 50, Items: 5, Subtotal: 40, Tax: 5, Shipping: 2},
		"-2/returning": {Conversions: 3, Visits: 1, Revenue: 4},
	})
}
