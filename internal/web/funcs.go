package web

import (
	"fmt"
	"html/template"
	"sort"
	"strings"
)

// funcs are the helpers the templates call; everything they print is escaped by html/template
// as usual. asset names an embedded file by its content-hashed address.
func funcs(assets map[string]string) template.FuncMap {
	return template.FuncMap{
		"field":       field,
		"cell":        cell,
		"add":         func(a, b int) int { return a + b },
		"andSegment":  andSegment,
		"segmentOps":  func() []segmentOp { return segmentOps },
		"periodKinds": func() []string { return []string{"day", "week", "month", "year", "range"} },
		"asset": func(name string) string {
			if a, ok := assets[name]; ok {
				return a
			}
			return "/static/" + name
		},
	}
}

// field reads key from an API row (a decoded JSON object); "" for anything else.
func field(row any, key string) any {
	if m, ok := row.(map[string]any); ok {
		if v, ok := m[key]; ok {
			return v
		}
	}
	return ""
}

// Column kinds for formatting report cells.
var (
	durationColumns = map[string]bool{"avg_time_on_site": true, "avg_time_on_page": true, "sum_time_spent": true, "sum_visit_length": true,
		"avg_time_generation": true, "avg_visit_length": true, "entry_sum_visit_length": true}
	moneyColumns = map[string]bool{"revenue": true, "sum_event_value": true, "avg_price": true, "avg_order_revenue": true,
		"revenue_subtotal": true, "revenue_tax": true, "revenue_shipping": true, "revenue_discount": true}
)

// cell formats a report value for its column: durations, money, rates and counts.
func cell(l *locale, col string, v any) string {
	switch {
	case v == nil || v == "":
		return ""
	case durationColumns[col]:
		return l.Duration(v)
	case strings.HasSuffix(col, "_rate"):
		return l.Percent(v)
	case moneyColumns[col]:
		if f, ok := toFloat(v); ok {
			return l.p.Sprintf("%.2f", f)
		}
	}
	if _, ok := toFloat(v); ok {
		return l.Num(v)
	}
	return fmt.Sprint(v)
}

// rows reads an API answer that is a table: its rows, or none.
func rows(v any) []map[string]any {
	list, _ := v.([]any)
	out := make([]map[string]any, 0, len(list))
	for _, x := range list {
		if m, ok := x.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

// object reads an API answer that is one record (VisitsSummary.get of one period); an empty
// period's answer, an empty list, is an empty record.
func object(v any) map[string]any {
	if m, ok := v.(map[string]any); ok {
		return m
	}
	return map[string]any{}
}

// series reads a multi-period answer (keyed by period label) as its labels in order and each
// period's record.
func series(v any) ([]string, []map[string]any) {
	labels, answers := periods(v)
	recs := make([]map[string]any, len(labels))
	for i, a := range answers {
		recs[i] = object(a)
	}
	return labels, recs
}

// periods reads a multi-period answer as its period labels in time order and each period's
// answer as it is (a record or a table).
func periods(v any) ([]string, []any) {
	m, _ := v.(map[string]any)
	labels := make([]string, 0, len(m))
	for k := range m {
		labels = append(labels, k)
	}
	sort.Strings(labels) // the labels are dates: text order is time order
	answers := make([]any, len(labels))
	for i, k := range labels {
		answers[i] = m[k]
	}
	return labels, answers
}

// num is a record's number at key (0 when absent).
func num(rec map[string]any, key string) float64 {
	f, _ := toFloat(rec[key])
	return f
}
