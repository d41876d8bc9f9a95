package collect

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"hearth/internal/event"
)

func parseCustomTime(raw string) (time.Time, error) {
	if f, err := strconv.ParseFloat(raw, 64); err == nil {
		if math.IsNaN(f) || math.IsInf(f, 0) || f < 0 || f > 1e11 {
			return time.Time{}, bad("cdt is out of range")
		}
		sec, frac := math.Modf(f)
		return time.Unix(int64(sec), int64(frac*1e9)).UTC(), nil
	}
	for _, layout := range []string{"2006-01-02 15:04:05", "2006-01-02T15:04:05Z07:00", "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, raw); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, bad("cdt is not a date-time (YYYY-MM-DD HH:MM:SS or a Unix timestamp)")
}

// decodeItems parses ec_items: [[sku, name, category, price, quantity], ...].
func decodeItems(raw string) ([]event.Item, error) {
	var rows [][]any
	if err := json.Unmarshal([]byte(raw), &rows); err != nil {
		// Matomo also accepts an object keyed by index.
		var obj map[string][]any
		if err2 := json.Unmarshal([]byte(raw), &obj); err2 != nil {
			return nil, bad("ec_items is not valid JSON")
		}
		keys := make([]int, 0, len(obj))
		for k := range obj {
			n, err := strconv.Atoi(k)
			if err != nil {
				return nil, bad("ec_items is not valid JSON")
			}
			keys = append(keys, n)
		}
		sortInts(keys)
		for _, k := range keys {
			rows = append(rows, obj[strconv.Itoa(k)])
		}
	}
	if len(rows) > maxItems {
		return nil, bad("ec_items has more than %d items", maxItems)
	}
	items := make([]event.Item, 0, len(rows))
	for _, row := range rows {
		if len(row) == 0 {
			continue
		}
		it := event.Item{Quantity: 1}
		it.SKU = truncate(anyString(row[0]), maxTextLen)
		if it.SKU == "" {
			return nil, bad("ec_items: an item has no SKU")
		}
		if len(row) > 1 {
			it.Name = truncate(anyString(row[1]), maxTextLen)
		}
		if len(row) > 2 {
			switch c := row[2].(type) {
			case []any:
				for _, e := range c {
					if s := anyString(e); s != "" && len(it.Categories) < 5 {
						it.Categories = append(it.Categories, truncate(s, maxTextLen))
					}
				}
			default:
				if s := anyString(c); s != "" {
					it.Categories = decodeCategories(s)
				}
			}
		}
		if len(row) > 3 {
			if f, ok := anyNumber(row[3]); ok && math.Abs(f) <= maxMoney {
				it.Price = f
			}
		}
		if len(row) > 4 {
			if f, ok := anyNumber(row[4]); ok && f >= 0 && f <= 1e9 {
				it.Quantity = int64(f)
			}
		}
		items = append(items, it)
	}
	return items, nil
}

func sortInts(a []int) {
	for i := 1; i < len(a); i++ {
		for j := i; j > 0 && a[j] < a[j-1]; j-- {
			a[j], a[j-1] = a[j-1], a[j]
		}
	}
}

// decodeCategories accepts a plain category or a JSON array of up to five.
func decodeCategories(raw string) []string {
	if strings.HasPrefix(raw, "[") {
		var list []any
		if json.Unmarshal([]byte(raw), &list) == nil {
			var out []string
			for _, e := range list {
				if s := anyString(e); s != "" && len(out) < 5 {
					out = append(out, truncate(s, maxTextLen))
				}
			}
			return out
		}
	}
	return []string{truncate(raw, maxTextLen)}
}

// decodeCustomVars parses {"1":["name","value"],...} into name→value; malformed input is ignored.
func decodeCustomVars(raw string) map[string]string {
	var m map[string][]any
	if json.Unmarshal([]byte(raw), &m) != nil {
		return nil
	}
	out := map[string]string{}
	for _, pair := range m {
		if len(pair) == 2 && len(out) < 20 {
			if k := anyString(pair[0]); k != "" {
				out[truncate(k, 200)] = truncate(anyString(pair[1]), 200)
			}
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

func anyString(v any) string {
	switch x := v.(type) {
	case string:
		if !utf8.ValidString(x) {
			return ""
		}
		return strings.TrimSpace(x)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	}
	return ""
}

func anyNumber(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, !math.IsNaN(x) && !math.IsInf(x, 0)
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(x), 64)
		return f, err == nil && !math.IsNaN(f) && !math.IsInf(f, 0)
	}
	return 0, false
}
