package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"hearth/internal/event"
	"hearth/internal/store"
)

// seedShopVisit stores a visit with a page view and then the ecommerce actions given (their
// site, visit, visitor, index and time filled in, a second apart).
func (r *pagesRig) seedShopVisit(t *testing.T, v event.Visit, acts ...event.Action) {
	t.Helper()
	v.VisitorID = event.VisitorID{byte(v.ID), byte(v.SiteID), 0xec}
	v.Last, v.LocalTime, v.Actions, v.Pageviews = v.First.Add(time.Duration(len(acts))*time.Second), -1, 1, 1
	v.EntryURL, v.ExitURL, v.ExitTime = "https://ecom.example/", "https://ecom.example/", v.First
	if v.VisitCount == 0 {
		v.VisitCount = 1
	}
	all := append([]event.Action{{Type: event.ActionPageview, Title: "Shop", FirstURLInVisit: true, FirstTitleInVisit: true}}, acts...)
	for i := range all {
		a := &all[i]
		a.SiteID, a.VisitID, a.VisitorID, a.Index, a.Time, a.URL = v.SiteID, v.ID, v.VisitorID, int32(i+1), v.First.Add(time.Duration(i)*time.Second), "https://ecom.example/"
		a.SearchCount, a.PerfNetwork, a.PerfServer, a.PerfTransfer, a.PerfDOMProc, a.PerfDOMDone, a.PerfOnLoad = -1, -1, -1, -1, -1, -1, -1
		if a.Type == event.ActionOrder {
			v.Revenue += a.Revenue
			v.Conversions++
		}
	}
	r.seq++
	if err := r.events.Apply(context.Background(), store.Batch{Seq: r.seq, Visits: []event.Visit{v}, Actions: all}); err != nil {
		t.Fatal(err)
	}
}

const xssProduct = "Mask " + xss

// ecomRig is dashRig with site 3, ecommerce on, that the viewer may view, and:
//
//	today     visit 50 (new): order O-1 of 35 (subtotal 30, tax 5): 2 gloves (A, 10 each), 1 mask (B, 5)
//	          visit 60 (returning): cart of 1 glove (10), then 3 gloves and 1 mask (35), no order
//	          visit 70 (new): cart of 2 masks, then order O-2 of 12 (subtotal 10, shipping 2): 2 masks
//	          visit 80: a page view only
//	yesterday visit 40: order O-0 of 20: 2 gloves
//
// Today: 2 orders of 4 visits (50%), revenue 47, average order 23.50, 5 items; 1 abandoned
// cart worth 35 (3 gloves, 1 mask). Products ordered: A 20 (2, 1 order), B 15 (3, 2 orders);
// categories Care 35 (5), Hands 20 (2). Yesterday: 1 order of 1 visit, 20, 2 items.
func ecomRig(t *testing.T) (*pagesRig, map[string]string) {
	r, sess := dashRig(t)
	ctx := context.Background()
	site, err := r.meta.CreateSite(ctx, store.Site{Name: "Ecom", URLs: []string{"https://ecom.example"}, Timezone: "UTC", Currency: "EUR", Ecommerce: true, Created: r.now})
	if err != nil || site != 3 {
		t.Fatalf("site %d: %v", site, err)
	}
	if err := r.meta.SetRole(ctx, store.Grant{Login: "viewer", SiteID: site, Name: "view", Created: r.now}); err != nil {
		t.Fatal(err)
	}
	gloves := func(q int64) event.Item {
		return event.Item{SKU: "A", Name: "Gloves", Categories: []string{"Care", "Hands"}, Price: 10, Quantity: q}
	}
	mask := func(q int64) event.Item {
		return event.Item{SKU: "B", Name: xssProduct, Categories: []string{"Care"}, Price: 5, Quantity: q}
	}
	order := func(id string, revenue float64, items ...event.Item) event.Action {
		return event.Action{Type: event.ActionOrder, OrderID: id, Revenue: revenue, Items: items}
	}
	cart := func(revenue float64, items ...event.Item) event.Action {
		return event.Action{Type: event.ActionCartUpdate, Revenue: revenue, Items: items}
	}
	day := r.now.Truncate(24 * time.Hour)
	at := day.Add(time.Hour)
	if r.now.Sub(day) < 2*time.Hour {
		at = day
	}
	visit := func(id int, first time.Time, status event.EcommerceStatus) event.Visit {
		return event.Visit{SiteID: site, ID: event.VisitID(id), First: first, Ecommerce: status, Referrer: event.Referrer{Type: event.ReferrerDirect}}
	}
	o1 := order("O-1", 35, gloves(2), mask(1))
	o1.Subtotal, o1.Tax = 30, 5
	r.seedShopVisit(t, visit(50, at, event.EcommerceOrdered), o1)
	returning := visit(60, at.Add(time.Minute), event.EcommerceAbandonedCart)
	returning.Returning, returning.VisitCount = true, 2
	r.seedShopVisit(t, returning, cart(10, gloves(1)), cart(35, gloves(3), mask(1)))
	o2 := order("O-2", 12, mask(2))
	o2.Subtotal, o2.Shipping = 10, 2
	r.seedShopVisit(t, visit(70, at.Add(2*time.Minute), event.EcommerceOrdered), cart(10, mask(2)), o2)
	r.seedShopVisit(t, visit(80, at.Add(3*time.Minute), event.EcommerceNone))
	r.seedShopVisit(t, visit(40, day.Add(-12*time.Hour), event.EcommerceOrdered), order("O-0", 20, gloves(2)))
	return r, sess
}

func TestEcommercePageShowsTheAPIsFigures(t *testing.T) {
	r, sess := ecomRig(t)
	page := r.do(t, request{method: http.MethodGet, path: "/site/3/ecommerce?period=day&date=today&compare=previous",
		cookies: map[string]string{"hearth_session": sess["root"]}})
	if page.code != 200 {
		t.Fatalf("ecommerce: %d %s", page.code, page.body)
	}
	for _, c := range []struct{ key, now, prev string }{
		{"ecom.kpi.revenue", "47.00", "20.00"},
		{"ecom.kpi.orders", "2", "1"},
		{"ecom.kpi.rate", "50%", "100%"},
		{"ecom.kpi.aov", "23.50", "20.00"},
		{"ecom.kpi.items", "5", "2"},
		{"ecom.kpi.carts", "1", "0"},
		{"ecom.kpi.cartrevenue", "35.00", "0.00"},
	} {
		if got := goalShown(t, page.body, "data-kpi", c.key); got != c.now {
			t.Errorf("tile %s = %q, want %q", c.key, got, c.now)
		}
		if got := goalShown(t, page.body, "data-prev", c.key); got != c.prev {
			t.Errorf("tile %s before = %q, want %q", c.key, got, c.prev)
		}
	}
	// Revenue 47 against 20: +135 %; the average order 23.50 against 20: +17.50 %.
	for _, want := range []string{`<span class="delta up good">+135 %`, `<span class="delta up good">+17.50 %`, `<span class="delta down bad">-50 %`} {
		if !strings.Contains(page.body, want) {
			t.Errorf("the tiles lack %q", want)
		}
	}
	// The same as the API's answers.
	q := url.Values{"idSite": {"3"}, "period": {"day"}, "date": {"today"}, "method": {"Goals.get"}}
	orders := r.apiJSON(t, "root", goalWith(q, "idGoal", "ecommerceOrder")).(map[string]any)
	carts := r.apiJSON(t, "root", goalWith(q, "idGoal", "ecommerceAbandonedCart")).(map[string]any)
	for key, v := range map[string]any{"ecom.kpi.revenue": orders["revenue"], "ecom.kpi.orders": orders["nb_conversions"], "ecom.kpi.rate": orders["conversion_rate"],
		"ecom.kpi.aov": orders["avg_order_revenue"], "ecom.kpi.items": orders["items"], "ecom.kpi.carts": carts["nb_conversions"], "ecom.kpi.cartrevenue": carts["revenue"]} {
		if got := goalFigure(t, goalShown(t, page.body, "data-kpi", key)); got != goalAPIFigure(t, v) {
			t.Errorf("tile %s = %v, the API says %v", key, got, v)
		}
	}

	// The product tables, hand-counted, then against the API.
	for _, c := range []struct {
		marker, method string
		abandoned      bool
		want           map[string]map[string]string
	}{
		{`data-report="Goals.getItemsSku"`, "Goals.getItemsSku", false, map[string]map[string]string{
			"A": {"revenue": "20.00", "quantity": "2", "orders": "1", "avg_price": "10.00", "avg_quantity": "2", "nb_visits": "1", "prev_revenue": "20.00"},
			"B": {"revenue": "15.00", "quantity": "3", "orders": "2", "avg_price": "5.00", "avg_quantity": "1.50", "nb_visits": "2", "prev_revenue": ""},
		}},
		{`data-report="Goals.getItemsName"`, "Goals.getItemsName", false, map[string]map[string]string{
			"Gloves": {"revenue": "20.00", "quantity": "2", "orders": "1"}, xssProduct: {"revenue": "15.00", "quantity": "3", "orders": "2"},
		}},
		{`data-report="Goals.getItemsCategory"`, "Goals.getItemsCategory", false, map[string]map[string]string{
			"Care": {"revenue": "35.00", "quantity": "5", "orders": "2"}, "Hands": {"revenue": "20.00", "quantity": "2", "orders": "1"},
		}},
		{`data-report="Goals.getItemsSku-carts"`, "Goals.getItemsSku", true, map[string]map[string]string{
			"A": {"revenue": "30.00", "quantity": "3", "abandoned_carts": "1"}, "B": {"revenue": "5.00", "quantity": "1", "abandoned_carts": "1"},
		}},
	} {
		got := goalTableRows(t, page.body, c.marker)
		if len(got) != len(c.want) {
			t.Errorf("%s: rows %v", c.marker, got)
		}
		for label, cols := range c.want {
			for col, v := range cols {
				if got[label][col] != v {
					t.Errorf("%s %q %s = %q, want %q", c.marker, label, col, got[label][col], v)
				}
			}
		}
		params := goalWith(q, "method", c.method)
		if c.abandoned {
			params.Set("abandonedCarts", "1")
		}
		for _, row := range goalAPIRows(t, r.apiJSON(t, "root", params)) {
			label := row["label"].(string)
			for col, v := range row {
				if col == "label" || got[label][col] == "" {
					continue
				}
				if goalFigure(t, got[label][col]) != goalAPIFigure(t, v) {
					t.Errorf("%s %q %s: page %q, API %v", c.method, label, col, got[label][col], v)
				}
			}
			if len(got[label]) == 0 {
				t.Errorf("%s: the page lacks the API's row %q", c.method, label)
			}
		}
	}
	if strings.Contains(page.body, xss) || !strings.Contains(page.body, "Mask &lt;script&gt;alert(1)&lt;/script&gt;") {
		t.Error("the product name is not shown escaped")
	}
	// Revenue over time: today's 47.00 in the figures.
	day := r.now.Truncate(24 * time.Hour).Format(time.DateOnly)
	if !strings.Contains(page.body, `data-period="`+day+`"><th scope="row">`+day+"</th>\n"+`<td class="num">47.00</td>`+"\n"+`<td class="num">2</td>`+"\n"+`<td class="num">50%</td>`+"\n"+`<td class="num">23.50</td>`) {
		t.Error("today's figures over time are missing")
	}
	r.log.check(t)
}

func TestEcommerceOffSaysSo(t *testing.T) {
	r, sess := ecomRig(t)
	root := r.do(t, request{method: http.MethodGet, path: "/site/1/ecommerce", cookies: map[string]string{"hearth_session": sess["root"]}})
	if root.code != 200 || !strings.Contains(root.body, "Ecommerce is off for this site") || !strings.Contains(root.body, `<a href="/admin/sites/1">Turn ecommerce on in the site settings</a>`) ||
		strings.Contains(root.body, `data-kpi=`) {
		t.Fatalf("ecommerce off, as superuser: %d %s", root.code, root.body)
	}
	viewer := r.do(t, request{method: http.MethodGet, path: "/site/1/ecommerce", cookies: map[string]string{"hearth_session": sess["viewer"]}})
	if viewer.code != 200 || !strings.Contains(viewer.body, "Ecommerce is off for this site") || strings.Contains(viewer.body, "/admin/sites/1") ||
		!strings.Contains(viewer.body, "An administrator of this site can turn ecommerce on.") {
		t.Fatalf("ecommerce off, as viewer: %d %s", viewer.code, viewer.body)
	}
	// The viewer reads the ecommerce of a site they may view, and the section is in the menu.
	on := r.do(t, request{method: http.MethodGet, path: "/site/3/ecommerce?period=day&date=today", cookies: map[string]string{"hearth_session": sess["viewer"]}})
	if on.code != 200 || goalShown(t, on.body, "data-kpi", "ecom.kpi.orders") != "2" || !strings.Contains(on.body, `aria-current="page">Ecommerce</a>`) {
		t.Fatalf("ecommerce as viewer: %d", on.code)
	}
	r.log.check(t)
}
