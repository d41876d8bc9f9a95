package web

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// chart is a line chart drawn on the server as SVG: no script, no external library, the same
// picture with JavaScript off. Points are in the SVG's own coordinates.
type chart struct {
	Width, Height int
	// Label names what is drawn, for screen readers (the figures are also in a table).
	Label   string
	Series  []chartSeries
	XLabels []chartLabel
	YLabels []chartLabel
	// Grid holds the y positions of the horizontal lines.
	Grid []float64
}

type chartSeries struct {
	Name  string
	Class string // "s0" current, "s1" the compared period
	// Points is the polyline; Area closes it down to the axis.
	Points, Area string
	Dots         []chartDot
}

type chartDot struct {
	X, Y  float64
	Title string
}

type chartLabel struct {
	X, Y float64
	Text string
}

const (
	chartLeft   = 48.0
	chartRight  = 8.0
	chartTop    = 8.0
	chartBottom = 24.0
)

// lineChart draws values (one slice per series, all of len(labels)) against labels.
func lineChart(label string, labels []string, names []string, values [][]float64, fmtY func(float64) string) chart {
	c := chart{Width: 720, Height: 220, Label: label}
	w := float64(c.Width) - chartLeft - chartRight
	h := float64(c.Height) - chartTop - chartBottom
	top := 0.0
	for _, vs := range values {
		for _, v := range vs {
			top = math.Max(top, v)
		}
	}
	// Four steps of 1, 2 or 5 times a power of ten: the grid lines fall on round numbers
	// (whole ones for counts).
	top = 4 * niceStep(top/4)
	y := func(v float64) float64 { return round1(chartTop + h - v/top*h) }
	x := func(i int) float64 {
		if len(labels) <= 1 {
			return round1(chartLeft + w/2)
		}
		return round1(chartLeft + float64(i)*w/float64(len(labels)-1))
	}
	for i := 0; i <= 4; i++ {
		v := top * float64(i) / 4
		c.Grid = append(c.Grid, y(v))
		c.YLabels = append(c.YLabels, chartLabel{X: chartLeft - 6, Y: y(v) + 4, Text: fmtY(v)})
	}
	step := int(math.Ceil(float64(len(labels)) / 6))
	if step < 1 {
		step = 1
	}
	for i := 0; i < len(labels); i += step {
		c.XLabels = append(c.XLabels, chartLabel{X: x(i), Y: float64(c.Height) - 6, Text: labels[i]})
	}
	for si, vs := range values {
		if len(vs) > len(labels) {
			vs = vs[:len(labels)] // a longer compared period is cut at the shown one's end
		}
		var pts []string
		s := chartSeries{Class: "s" + strconv.Itoa(si)}
		if si < len(names) {
			s.Name = names[si]
		}
		for i, v := range vs {
			pts = append(pts, fmt.Sprintf("%g,%g", x(i), y(v)))
			t := fmtY(v)
			if i < len(labels) {
				t = labels[i] + ": " + t
			}
			s.Dots = append(s.Dots, chartDot{X: x(i), Y: y(v), Title: t})
		}
		s.Points = strings.Join(pts, " ")
		if len(vs) > 0 {
			s.Area = fmt.Sprintf("%g,%g %s %g,%g", x(0), y(0), s.Points, x(len(vs)-1), y(0))
		}
		c.Series = append(c.Series, s)
	}
	return c
}

// sparkline is a small chart without axes, for the sites list.
type sparkline struct {
	Width, Height int
	Points, Label string
}

func newSparkline(label string, values []float64) sparkline {
	s := sparkline{Width: 120, Height: 28, Label: label}
	top := 0.0
	for _, v := range values {
		top = math.Max(top, v)
	}
	if top == 0 {
		top = 1
	}
	var pts []string
	for i, v := range values {
		x := 0.0
		if len(values) > 1 {
			x = float64(i) * float64(s.Width-2) / float64(len(values)-1)
		}
		pts = append(pts, fmt.Sprintf("%g,%g", round1(x+1), round1(float64(s.Height-2)-v/top*float64(s.Height-4))))
	}
	s.Points = strings.Join(pts, " ")
	return s
}

// niceStep rounds a grid step up to 1, 2, 2.5 or 5 times a power of ten, at least 1 and
// whole (a rate's 100 % has the top 100, not 200).
func niceStep(v float64) float64 {
	if v <= 1 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m == 2.5 && p < 10 {
			continue // 2.5, 7.5: not whole numbers
		}
		if v <= m*p {
			return m * p
		}
	}
	return 10 * p
}

func round1(v float64) float64 { return math.Round(v*10) / 10 }
