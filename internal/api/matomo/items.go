package matomo

import (
	"context"
	"math"
	"sort"
	"strings"

	"hearth/internal/store"
)

// itemsReport serves Goals.getItemsSku, getItemsName and getItemsCategory: ordered items by
// revenue, or with abandonedCarts=1 the items of the carts visits left without ordering.
func (a *API) itemsReport(by store.ItemKey) func(context.Context, *call) (any, error) {
	return func(ctx context.Context, c *call) (any, error) {
		opts, err := readTableOptions(c)
		if err != nil {
			return nil, err
		}
		if strings.TrimSpace(c.params.Get("filter_sort_column")) == "" {
			opts.sortColumn = "revenue"
		}
		abandoned := isTrue(c.params.Get("abandonedCarts"))
		result, err := a.perSitePeriod(ctx, c, func(ctx context.Context, sd siteDates) ([]any, error) {
			rows, err := a.opts.Events.ItemGroups(ctx, store.ItemQuery{ReportQuery: sd.query(), By: by, Abandoned: abandoned})
			if err != nil {
				return nil, err
			}
			sort.SliceStable(rows, func(i, j int) bool { return rows[i].Key < rows[j].Key })
			tables := make([][]*Row, len(sd.dates.Periods))
			for _, r := range rows {
				if r.Range < 0 || r.Range >= len(tables) {
					continue
				}
				label := r.Key
				if label == "" {
					label = "Value not defined"
				}
				count := "orders"
				if abandoned {
					count = "abandoned_carts"
				}
				row := NewRow().Set("label", label).Set("revenue", round2(r.Revenue)).Set("quantity", r.Quantity).Set(count, r.Orders).
					Set("avg_price", round2(r.Revenue/math.Max(float64(r.Quantity), 1))).
					Set("avg_quantity", round2(float64(r.Quantity)/math.Max(float64(r.Orders), 1))).Set("nb_visits", r.Visits)
				tables[r.Range] = append(tables[r.Range], row)
			}
			out := make([]any, len(tables))
			for i, t := range tables {
				if out[i], err = opts.filter(t, false); err != nil {
					return nil, err
				}
			}
			return out, nil
		})
		if err != nil {
			return nil, err
		}
		return selectColumns(result, c), nil
	}
}

func round2(f float64) float64 { return math.Round(f*100) / 100 }
