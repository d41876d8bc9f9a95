package web

import (
	"strconv"
	"strings"
	"testing"
)

func TestChartGridFallsOnRoundNumbers(t *testing.T) {
	for _, c := range []struct {
		max  float64
		want string // the y labels from the bottom
	}{
		{0, "0 1 2 3 4"},
		{2, "0 1 2 3 4"},
		{5, "0 2 4 6 8"},
		{37, "0 10 20 30 40"},
		{1234, "0 500 1000 1500 2000"},
		{100, "0 25 50 75 100"},
		{9, "0 5 10 15 20"},
	} {
		ch := lineChart("x", []string{"a", "b"}, nil, [][]float64{{0, c.max}}, fmtG)
		var got []string
		for _, l := range ch.YLabels {
			got = append(got, l.Text)
		}
		if strings.Join(got, " ") != c.want {
			t.Errorf("max %v: labels %v, want %s", c.max, got, c.want)
		}
		// The highest point is never above the top grid line (y grows downwards).
		if top := ch.Grid[len(ch.Grid)-1]; ch.Series[0].Dots[1].Y < top {
			t.Errorf("max %v: the point at y=%v is above the top line at %v", c.max, ch.Series[0].Dots[1].Y, top)
		}
	}
}

func fmtG(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
