// Package report turns raw events into Matomo's reports: periods and dates as the Reporting API
// reads them, the metrics each report carries, and the tables it returns. It knows nothing of
// a storage engine: numbers come from the store's query contract.
package report

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"hearth/internal/store"
)

// Kind is a period type of the Reporting API.
type Kind string

// Period types.
const (
	Day   Kind = "day"
	Week  Kind = "week"
	Month Kind = "month"
	Year  Kind = "year"
	Range Kind = "range"
)

// Limits that keep one request from asking for an absurd amount of work.
const (
	// MaxPeriods is the most periods one request may list (lastN, previousN, A,B).
	MaxPeriods = 3660
)

var (
	// minDate is the earliest date the Reporting API accepts, as Matomo's.
	minDate = time.Date(1991, 8, 6, 0, 0, 0, 0, time.UTC)
	maxDate = time.Date(2199, 12, 31, 0, 0, 0, 0, time.UTC)
)

// Earliest is the first day the Reporting API accepts in a date.
func Earliest() time.Time { return minDate }

// Period is one reporting period: whole calendar days in a site's timezone.
type Period struct {
	Kind Kind
	// First and Last are the first and last calendar day (midnight UTC stands for the date).
	First, Last time.Time
	// From and To are the instants the period covers, [From, To), in UTC.
	From, To time.Time
}

// Label is how Matomo names the period in multi-period answers.
func (p Period) Label() string {
	switch p.Kind {
	case Day:
		return p.First.Format("2006-01-02")
	case Month:
		return p.First.Format("2006-01")
	case Year:
		return p.First.Format("2006")
	}
	return p.First.Format("2006-01-02") + "," + p.Last.Format("2006-01-02")
}

// Days is the number of calendar days in the period.
func (p Period) Days() int { return int(p.Last.Sub(p.First).Hours()/24) + 1 }

// Dates is the parsed period and date parameters of a request.
type Dates struct {
	Periods []Period
	// Multi: the answer is keyed by period label (lastN, previousN, A,B with a non-range period).
	Multi bool
}

// ParseError is a bad period or date parameter; its text is Matomo's message.
type ParseError struct{ msg string }

func (e *ParseError) Error() string { return e.msg }

func bad(format string, args ...any) error { return &ParseError{msg: fmt.Sprintf(format, args...)} }

// quote shortens a parameter for an error message.
// quote shortens a client's text for an error message, as valid UTF-8 (invalid bytes become
// U+FFFD, and a cut never splits a character).
func quote(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if len(s) > 40 {
		cut := 40
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return s
}

// ParseDates reads period and date as the Reporting API does, in the site's timezone loc at
// the instant now.
func ParseDates(period, date string, loc *time.Location, now time.Time) (Dates, error) {
	kind := Kind(strings.TrimSpace(period))
	switch kind {
	case Day, Week, Month, Year, Range:
	case "":
		return Dates{}, bad("Please specify a value for 'period'.")
	default:
		return Dates{}, bad("The period '%s' is not supported. Try any of the following instead: day, week, month, year, range", quote(period))
	}
	date = strings.TrimSpace(date)
	if date == "" {
		return Dates{}, bad("Please specify a value for 'date'.")
	}
	today := civil(now.In(loc))
	sameTime := date == "yesterdaySameTime"

	// lastN and previousN.
	for _, prefix := range []string{"last", "previous"} {
		rest, ok := strings.CutPrefix(date, prefix)
		if !ok || rest == "" || rest[0] < '0' || rest[0] > '9' {
			continue
		}
		n, err := strconv.Atoi(rest)
		if err != nil || n < 1 || n > MaxPeriods {
			return Dates{}, bad("The date '%s' is not a correct date: %s must be followed by a number from 1 to %d.", quote(date), prefix, MaxPeriods)
		}
		if kind == Range {
			end := today
			if prefix == "previous" {
				end = today.AddDate(0, 0, -1)
			}
			return Dates{Periods: []Period{span(Range, end.AddDate(0, 0, -(n-1)), end, loc)}}, nil
		}
		last := containing(kind, today, loc)
		if prefix == "previous" {
			last = containing(kind, last.First.AddDate(0, 0, -1), loc)
		}
		ps := make([]Period, n)
		ps[n-1] = last
		for i := n - 2; i >= 0; i-- {
			ps[i] = containing(kind, ps[i+1].First.AddDate(0, 0, -1), loc)
		}
		if ps[0].First.Before(minDate) {
			return Dates{}, bad("The date '%s' reaches before %s, the earliest date reports cover.", quote(date), minDate.Format("2006-01-02"))
		}
		return Dates{Periods: ps, Multi: true}, nil
	}

	// A,B.
	if a, b, ok := strings.Cut(date, ","); ok {
		from, err := parseDate(a, today)
		if err != nil {
			return Dates{}, err
		}
		to, err := parseDate(b, today)
		if err != nil {
			return Dates{}, err
		}
		if to.Before(from) {
			return Dates{}, bad("The date range '%s' ends before it starts.", quote(date))
		}
		if kind == Range {
			return Dates{Periods: []Period{span(Range, from, to, loc)}}, nil
		}
		var ps []Period
		for p := containing(kind, from, loc); !p.First.After(to); p = containing(kind, p.Last.AddDate(0, 0, 1), loc) {
			if len(ps) == MaxPeriods {
				return Dates{}, bad("The date range '%s' holds more than %d periods of a %s.", quote(date), MaxPeriods, kind)
			}
			ps = append(ps, p)
		}
		return Dates{Periods: ps, Multi: true}, nil
	}

	if kind == Range {
		return Dates{}, bad("The date '%s' is not a correct date range: period=range needs date=START,END, lastN or previousN.", quote(date))
	}
	d, err := parseDate(date, today)
	if err != nil {
		return Dates{}, err
	}
	p := containing(kind, d, loc)
	if sameTime && kind == Day {
		// Yesterday up to this time of day, to compare with today so far.
		if cut := now.Add(-24 * time.Hour).UTC(); cut.Before(p.To) {
			p.To = cut
		}
	}
	return Dates{Periods: []Period{p}}, nil
}

// civil is the calendar date of t (in t's location) as midnight UTC.
func civil(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// parseDate reads one date: YYYY-MM-DD or a keyword, relative to today.
func parseDate(s string, today time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	var d time.Time
	switch s {
	case "today", "now":
		d = today
	case "yesterday", "yesterdaySameTime":
		d = today.AddDate(0, 0, -1)
	case "lastWeek":
		d = today.AddDate(0, 0, -7)
	case "lastMonth":
		d = today.AddDate(0, -1, 0)
	case "lastYear":
		d = today.AddDate(-1, 0, 0)
	default:
		t, err := time.Parse("2006-01-02", s)
		if err != nil {
			return time.Time{}, bad("The date '%s' is not a correct date.", quote(s))
		}
		d = t
	}
	if d.Before(minDate) || d.After(maxDate) {
		return time.Time{}, bad("The date '%s' is not a correct date: reports cover %s to %s.", quote(s), minDate.Format("2006-01-02"), maxDate.Format("2006-01-02"))
	}
	return d, nil
}

// containing is the period of a kind that holds day d. Weeks start on Monday.
func containing(kind Kind, d time.Time, loc *time.Location) Period {
	switch kind {
	case Week:
		start := d.AddDate(0, 0, -((int(d.Weekday()) + 6) % 7))
		return span(Week, start, start.AddDate(0, 0, 6), loc)
	case Month:
		start := time.Date(d.Year(), d.Month(), 1, 0, 0, 0, 0, time.UTC)
		return span(Month, start, start.AddDate(0, 1, -1), loc)
	case Year:
		start := time.Date(d.Year(), 1, 1, 0, 0, 0, 0, time.UTC)
		return span(Year, start, start.AddDate(1, 0, -1), loc)
	}
	return span(Day, d, d, loc)
}

// span is the period from day first to day last, with its instants in loc.
func span(kind Kind, first, last time.Time, loc *time.Location) Period {
	at := func(d time.Time) time.Time {
		return time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, loc).UTC()
	}
	return Period{Kind: kind, First: first, Last: last, From: at(first), To: at(last.AddDate(0, 0, 1))}
}

// ZoneSpans lists the UTC offsets of loc in force over [from, to): the first span starts at
// from, each later one where the offset changes (DST).
func ZoneSpans(loc *time.Location, from, to time.Time) []store.ZoneSpan {
	var out []store.ZoneSpan
	for t := from; t.Before(to) && len(out) < 1000; {
		local := t.In(loc)
		_, off := local.Zone()
		out = append(out, store.ZoneSpan{From: t.UTC(), Offset: off})
		_, end := local.ZoneBounds()
		if end.IsZero() || !end.After(t) {
			break
		}
		t = end
	}
	return out
}
