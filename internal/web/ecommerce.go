package web

import (
	"net/http"
	"net/url"
	"strconv"
)

// ecomKPIs are the ecommerce page's tiles: orders (Goals.get idGoal=ecommerceOrder) and, for
// carts, the abandoned ones (idGoal=ecommerceAbandonedCart).
var ecomKPIs = []struct {
	key, column string
	carts       bool
}{
	{"ecom.kpi.revenue", "revenue", false},
	{"ecom.kpi.orders", "nb_conversions", false},
	{"ecom.kpi.rate", "conversion_rate", false},
	{"ecom.kpi.aov", "avg_order_revenue", false},
	{"ecom.kpi.items", "items", false},
	{"ecom.kpi.carts", "nb_conversions", true},
	{"ecom.kpi.cartrevenue", "revenue", true},
}

// itemTables are the product reports, ranked by revenue.
var itemTables = []struct {
	key, caption, method string
	abandoned            bool
}{
	{"ecom.items.sku", "ecom.items.caption", "Goals.getItemsSku", false},
	{"ecom.items.name", "ecom.items.caption", "Goals.getItemsName", false},
	{"ecom.items.category", "ecom.items.category.caption", "Goals.getItemsCategory", false},
	{"ecom.items.abandoned", "ecom.items.abandoned.caption", "Goals.getItemsSku", true},
}

// itemRowsShown is how many products a table shows.
const itemRowsShown = 50

type itemTable struct {
	Key, Caption, Method string
	Abandoned            bool
	// Cols are the columns shown after the label, in order.
	Cols []string
	Rows []map[string]any
	// Prev maps a label to its revenue in the previous period (compare=previous).
	Prev    map[string]any
	Compare bool
}

type ecommercePage struct {
	frame
	// Off: the site does not have ecommerce on; the page says so and shows nothing else.
	Off    bool
	KPIs   []kpi
	Charts []chart
	Over   []goalPeriod
	Items  []itemTable
	Shown  int
}

func ecomParams(s state, which string) url.Values {
	v := s.params("Goals.get")
	v.Set("idGoal", which)
	return v
}

func (t itemTable) params(s state) url.Values {
	v := s.params(t.Method)
	v.Set("filter_limit", strconv.Itoa(itemRowsShown))
	v.Set("filter_sort_column", "revenue")
	v.Set("filter_sort_order", "desc")
	if t.Abandoned {
		v.Set("abandonedCarts", "1")
	}
	return v
}

// ecommerce serves /site/{idSite}/ecommerce: orders, revenue, conversion rate, average order
// value and items against the previous period, those over time, abandoned carts, and the
// products ordered by SKU, name and category and left in carts, every figure from Goals.get and
// Goals.getItems* for the state's period and segment. The calls, at once: four Goals.get (orders
// and carts, now and before), one over time, four product tables (eight when comparing).
func (w *Web) ecommerce(rw http.ResponseWriter, r *http.Request) error {
	p, site, s, err := w.sitePage(r)
	if err != nil {
		return err
	}
	l := w.msgs.locale(r)
	if !site.Ecommerce {
		f, err := w.newFrame(r, p, l.Or("nav.ecommerce", "Ecommerce"), "ecommerce", site, s)
		if err != nil {
			return err
		}
		return w.renderPage(rw, http.StatusOK, "ecommerce.html", ecommercePage{frame: f, Off: true})
	}
	prev := s.previous()
	calls := []url.Values{ecomParams(s, "ecommerceOrder"), ecomParams(s, "ecommerceAbandonedCart"),
		ecomParams(prev, "ecommerceOrder"), ecomParams(prev, "ecommerceAbandonedCart")}
	evo := s.evolution("Goals.get")
	evo.Set("idGoal", "ecommerceOrder")
	calls = append(calls, evo)
	fixed := len(calls)
	tables := make([]itemTable, len(itemTables))
	for i, d := range itemTables {
		t := itemTable{Key: d.key, Caption: d.caption, Method: d.method, Abandoned: d.abandoned, Compare: s.Compare,
			Cols: []string{"revenue", "quantity", "orders", "avg_price", "avg_quantity", "nb_visits"}}
		if d.abandoned {
			t.Cols[2] = "abandoned_carts"
		}
		tables[i] = t
		calls = append(calls, t.params(s))
		if s.Compare {
			calls = append(calls, t.params(prev))
		}
	}
	got, err := w.callAll(r, p, calls)
	if err != nil {
		return err
	}
	f, err := w.newFrame(r, p, l.Or("nav.ecommerce", "Ecommerce"), "ecommerce", site, s)
	if err != nil {
		return err
	}
	page := ecommercePage{frame: f, Shown: itemRowsShown}
	orders, carts, ordersBefore, cartsBefore := object(got[0]), object(got[1]), object(got[2]), object(got[3])
	for _, d := range ecomKPIs {
		now, before := orders, ordersBefore
		if d.carts {
			now, before = carts, cartsBefore
		}
		page.KPIs = append(page.KPIs, newKPI(d.key, d.column, now, before))
	}
	page.Over, page.Charts = goalEvolution(f.L, got[4], goalChartSpec{"ecom.chart.revenue", "revenue"}, goalChartSpec{"ecom.chart.orders", "nb_conversions"},
		goalChartSpec{"ecom.chart.rate", "conversion_rate"}, goalChartSpec{"ecom.chart.aov", "avg_order_revenue"})
	i := fixed
	for _, t := range tables {
		t.Rows = rows(got[i])
		i++
		if s.Compare {
			t.Prev = map[string]any{}
			for _, row := range rows(got[i]) {
				t.Prev[goalStr(row["label"])] = row["revenue"]
			}
			i++
		}
		page.Items = append(page.Items, t)
	}
	return w.renderPage(rw, http.StatusOK, "ecommerce.html", page)
}
