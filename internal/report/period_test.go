package report

import (
	"errors"
	"strings"
	"testing"
	"time"

	"hearth/internal/fuzzseed"
)

func mustLoc(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// TestParseDates: expected periods are worked out by hand from a calendar (2024 is a leap
// year; 2024-03-06 is a Wednesday; Berlin moves to summer time on 2024-03-31 and back on
// 2024-10-27; Tokyo is UTC+9 without DST).
func TestParseDates(t *testing.T) {
	utc := time.UTC
	berlin := mustLoc(t, "Europe/Berlin")
	tokyo := mustLoc(t, "Asia/Tokyo")
	now := time.Date(2024, 3, 6, 10, 0, 0, 0, time.UTC) // a Wednesday
	cases := []struct {
		period, date string
		loc          *time.Location
		now          time.Time
		labels       string // labels joined by " | "
		multi        bool
	}{
		{"day", "2024-03-06", utc, now, "2024-03-06", false},
		{"day", "today", utc, now, "2024-03-06", false},
		{"day", "now", utc, now, "2024-03-06", false},
		{"day", "yesterday", utc, now, "2024-03-05", false},
		{"day", "lastWeek", utc, now, "2024-02-28", false},
		{"day", "lastMonth", utc, now, "2024-02-06", false},
		{"day", "lastYear", utc, now, "2023-03-06", false},
		{"week", "2024-03-06", utc, now, "2024-03-04,2024-03-10", false},
		{"week", "2024-03-10", utc, now, "2024-03-04,2024-03-10", false}, // Sunday ends the week
		{"week", "2024-03-11", utc, now, "2024-03-11,2024-03-17", false},
		{"week", "2024-01-01", utc, now, "2024-01-01,2024-01-07", false},
		{"week", "2023-01-01", utc, now, "2022-12-26,2023-01-01", false}, // a Sunday
		{"month", "2024-02-10", utc, now, "2024-02", false},
		{"year", "2024-02-10", utc, now, "2024", false},
		{"day", "last3", utc, now, "2024-03-04 | 2024-03-05 | 2024-03-06", true},
		{"day", "previous3", utc, now, "2024-03-03 | 2024-03-04 | 2024-03-05", true},
		{"day", "2024-02-27,2024-03-02", utc, now, "2024-02-27 | 2024-02-28 | 2024-02-29 | 2024-03-01 | 2024-03-02", true},
		{"week", "last2", utc, now, "2024-02-26,2024-03-03 | 2024-03-04,2024-03-10", true},
		{"week", "previous1", utc, now, "2024-02-26,2024-03-03", true},
		{"month", "last3", utc, now, "2024-01 | 2024-02 | 2024-03", true},
		{"month", "previous2", utc, now, "2024-01 | 2024-02", true},
		{"month", "2023-11-30,2024-01-01", utc, now, "2023-11 | 2023-12 | 2024-01", true},
		{"year", "last2", utc, now, "2023 | 2024", true},
		{"week", "2024-03-06,2024-03-12", utc, now, "2024-03-04,2024-03-10 | 2024-03-11,2024-03-17", true},
		{"range", "2024-02-27,2024-03-02", utc, now, "2024-02-27,2024-03-02", false},
		{"range", "last7", utc, now, "2024-02-29,2024-03-06", false},
		{"range", "previous7", utc, now, "2024-02-28,2024-03-05", false},
		{"range", "2024-03-01,today", utc, now, "2024-03-01,2024-03-06", false},
		{"range", "2024-03-06,2024-03-06", utc, now, "2024-03-06,2024-03-06", false},
		// 23:30 UTC on the 6th is 08:30 on the 7th in Tokyo: "today" is the 7th there.
		{"day", "today", tokyo, time.Date(2024, 3, 6, 23, 30, 0, 0, time.UTC), "2024-03-07", false},
		{"day", "last2", tokyo, time.Date(2024, 3, 6, 23, 30, 0, 0, time.UTC), "2024-03-06 | 2024-03-07", true},
		// 00:30 UTC on the 1st is still the 29th of February in New York (UTC-5).
		{"month", "today", mustLoc(t, "America/New_York"), time.Date(2024, 3, 1, 0, 30, 0, 0, time.UTC), "2024-02", false},
		{"day", "2024-03-31", berlin, now, "2024-03-31", false},
	}
	for _, tc := range cases {
		d, err := ParseDates(tc.period, tc.date, tc.loc, tc.now)
		if err != nil {
			t.Errorf("%s %s: %v", tc.period, tc.date, err)
			continue
		}
		var labels []string
		for _, p := range d.Periods {
			labels = append(labels, p.Label())
		}
		if got := strings.Join(labels, " | "); got != tc.labels || d.Multi != tc.multi {
			t.Errorf("%s %s in %s: %q multi=%v, want %q multi=%v", tc.period, tc.date, tc.loc, got, d.Multi, tc.labels, tc.multi)
		}
	}
}

// TestPeriodInstants: a day is local midnight to local midnight, so DST days in Berlin last 23
// and 25 hours; Tokyo's day starts at 15:00 UTC the day before.
func TestPeriodInstants(t *testing.T) {
	berlin := mustLoc(t, "Europe/Berlin")
	now := time.Date(2024, 11, 1, 0, 0, 0, 0, time.UTC)
	cases := []struct {
		loc        *time.Location
		period     string
		date       string
		from, to   string
		hours, day int
	}{
		{berlin, "day", "2024-03-31", "2024-03-30T23:00:00Z", "2024-03-31T22:00:00Z", 23, 1},
		{berlin, "day", "2024-10-27", "2024-10-26T22:00:00Z", "2024-10-27T23:00:00Z", 25, 1},
		{berlin, "day", "2024-06-01", "2024-05-31T22:00:00Z", "2024-06-01T22:00:00Z", 24, 1},
		{berlin, "month", "2024-03-15", "2024-02-29T23:00:00Z", "2024-03-31T22:00:00Z", 31*24 - 1, 31},
		{mustLoc(t, "Asia/Tokyo"), "day", "2024-03-07", "2024-03-06T15:00:00Z", "2024-03-07T15:00:00Z", 24, 1},
		{time.UTC, "year", "2024-05-05", "2024-01-01T00:00:00Z", "2025-01-01T00:00:00Z", 366 * 24, 366},
		{time.UTC, "range", "2024-02-28,2024-03-01", "2024-02-28T00:00:00Z", "2024-03-02T00:00:00Z", 72, 3},
	}
	for _, tc := range cases {
		d, err := ParseDates(tc.period, tc.date, tc.loc, now)
		if err != nil || len(d.Periods) != 1 {
			t.Fatalf("%s %s: %v %v", tc.period, tc.date, d, err)
		}
		p := d.Periods[0]
		if got := p.From.Format(time.RFC3339); got != tc.from {
			t.Errorf("%s %s from %s, want %s", tc.period, tc.date, got, tc.from)
		}
		if got := p.To.Format(time.RFC3339); got != tc.to {
			t.Errorf("%s %s to %s, want %s", tc.period, tc.date, got, tc.to)
		}
		if h := int(p.To.Sub(p.From).Hours()); h != tc.hours || p.Days() != tc.day {
			t.Errorf("%s %s: %d hours, %d days; want %d, %d", tc.period, tc.date, h, p.Days(), tc.hours, tc.day)
		}
	}
	// yesterdaySameTime stops at this time of day, yesterday.
	at := time.Date(2024, 3, 6, 10, 15, 0, 0, time.UTC)
	d, err := ParseDates("day", "yesterdaySameTime", time.UTC, at)
	if err != nil || d.Periods[0].Label() != "2024-03-05" || !d.Periods[0].To.Equal(at.Add(-24*time.Hour)) {
		t.Fatalf("yesterdaySameTime: %+v %v", d, err)
	}
}

func TestParseDatesErrors(t *testing.T) {
	now := time.Date(2024, 3, 6, 10, 0, 0, 0, time.UTC)
	cases := []struct{ period, date, want string }{
		{"", "today", "specify a value for 'period'"},
		{"decade", "today", "period 'decade' is not supported"},
		{"day", "", "specify a value for 'date'"},
		{"day", "2024-02-30", "not a correct date"},
		{"day", "06/03/2024", "not a correct date"},
		{"day", "1990-01-01", "reports cover"},
		{"day", "last0", "number from 1"},
		{"day", "last99999", "number from 1"},
		{"day", "lastfoo", "not a correct date"},
		{"range", "2024-03-06", "not a correct date range"},
		{"range", "2024-03-06,2024-03-01", "ends before it starts"},
		{"day", "1991-08-06,2199-12-31", "more than"},
		{"year", "last100", "reaches before"},
	}
	for _, tc := range cases {
		_, err := ParseDates(tc.period, tc.date, time.UTC, now)
		var pe *ParseError
		if !errors.As(err, &pe) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q %q: %v, want %q", tc.period, tc.date, err, tc.want)
		}
	}
}

func FuzzParseDates(f *testing.F) {
	fuzzseed.Strings(f, "FuzzParseDates", 2)
	berlin := mustLoc(f, "Europe/Berlin")
	now := time.Date(2024, 3, 31, 1, 30, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, period, date string) {
		d, err := ParseDates(period, date, berlin, now)
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error of another kind: %v", err)
			}
			return
		}
		if len(d.Periods) == 0 || len(d.Periods) > MaxPeriods {
			t.Fatalf("%d periods", len(d.Periods))
		}
		for i, p := range d.Periods {
			if !p.From.Before(p.To) || p.Last.Before(p.First) {
				t.Fatalf("empty period %+v", p)
			}
			if i > 0 && !d.Periods[i-1].To.Equal(p.From) {
				t.Fatalf("periods not contiguous: %v then %v", d.Periods[i-1], p)
			}
		}
	})
}

// TestZoneSpans: Berlin is at +1 h until 2024-03-31 01:00 UTC and at +2 h after; a March
// range has two spans, a June one a single one.
func TestZoneSpans(t *testing.T) {
	berlin := mustLoc(t, "Europe/Berlin")
	from := time.Date(2024, 2, 29, 23, 0, 0, 0, time.UTC)
	spans := ZoneSpans(berlin, from, time.Date(2024, 3, 31, 22, 0, 0, 0, time.UTC))
	if len(spans) != 2 || !spans[0].From.Equal(from) || spans[0].Offset != 3600 ||
		!spans[1].From.Equal(time.Date(2024, 3, 31, 1, 0, 0, 0, time.UTC)) || spans[1].Offset != 7200 {
		t.Fatalf("March spans: %+v", spans)
	}
	spans = ZoneSpans(berlin, time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC), time.Date(2024, 7, 1, 0, 0, 0, 0, time.UTC))
	if len(spans) != 1 || spans[0].Offset != 7200 {
		t.Fatalf("June spans: %+v", spans)
	}
	if spans := ZoneSpans(time.UTC, from, from.AddDate(1, 0, 0)); len(spans) != 1 || spans[0].Offset != 0 {
		t.Fatalf("UTC spans: %+v", spans)
	}
}
