// Package goal validates goal definitions and matches a visit's actions against a site's
// goals, as Matomo's goal manager does: URL and title goals on page views, file goals on
// downloads, external-website goals on outlinks, event goals on events, visit-duration goals
// on the visit's length, and manual goals only through the tracker's idgoal parameter.
package goal

import (
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"hearth/internal/event"
	"hearth/internal/store"
)

// Attributes are the match attributes Hearth accepts, as Matomo names them.
var Attributes = []string{"url", "title", "file", "external_website", "event_category", "event_action", "event_name", "visit_duration", "manually"}

// PatternTypes are the pattern types of every attribute except visit_duration, whose only
// pattern type is greater_than (minutes).
var PatternTypes = []string{"contains", "exact", "regex"}

// maxPattern bounds a pattern's length; Matomo's column holds 255 characters.
const maxPattern = 255

// Validate checks a goal's definition and normalises its attribute and pattern type
// (lower case). The error is fit to show to the user who sent the definition.
func Validate(g *store.Goal) error {
	g.MatchAttribute = strings.ToLower(strings.TrimSpace(g.MatchAttribute))
	g.PatternType = strings.ToLower(strings.TrimSpace(g.PatternType))
	if !contains(Attributes, g.MatchAttribute) {
		return fmt.Errorf("matchAttribute must be one of %s", strings.Join(Attributes, ", "))
	}
	if g.Revenue < 0 {
		return fmt.Errorf("revenue must not be negative")
	}
	switch g.MatchAttribute {
	case "manually":
		g.Pattern, g.PatternType = "", ""
		return nil
	case "visit_duration":
		if g.PatternType == "" {
			g.PatternType = "greater_than"
		}
		if g.PatternType != "greater_than" {
			return fmt.Errorf("the pattern type of a visit_duration goal must be greater_than")
		}
		if m, err := strconv.ParseFloat(strings.TrimSpace(g.Pattern), 64); err != nil || m <= 0 || m > 24*60 {
			return fmt.Errorf("the pattern of a visit_duration goal must be a number of minutes between 0 and 1440")
		}
		return nil
	}
	if !contains(PatternTypes, g.PatternType) {
		return fmt.Errorf("patternType must be one of %s", strings.Join(PatternTypes, ", "))
	}
	if g.Pattern == "" || len(g.Pattern) > maxPattern {
		return fmt.Errorf("pattern must have 1 to %d characters", maxPattern)
	}
	if g.PatternType == "regex" {
		if _, err := compileRegex(g.Pattern, g.CaseSensitive); err != nil {
			return fmt.Errorf("pattern is not a valid regular expression (RE2 syntax: no look-arounds or back-references): %v", err)
		}
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func compileRegex(pattern string, caseSensitive bool) (*regexp.Regexp, error) {
	if !caseSensitive {
		pattern = "(?i)" + pattern
	}
	return regexp.Compile(pattern)
}

// compiled is one goal ready to match.
type compiled struct {
	store.Goal
	re *regexp.Regexp // regex patterns, case folded unless case sensitive
	// patterns are the forms of a plain pattern to try: as given and, when it differs,
	// URL-decoded (patterns are often pasted encoded; Matomo retries decoded); lower case for
	// a case-insensitive "contains".
	patterns []string
	minutes  time.Duration // visit_duration goals
}

// Set is a site's goals, compiled. The zero value matches nothing.
type Set struct {
	goals     []compiled
	byID      map[int32]int
	durations []int // the visit_duration goals, checked on every hit of a visit
}

// Compile prepares a site's goals. A goal whose stored definition no longer validates is
// skipped and reported, so one bad definition does not stop the others converting.
func Compile(goals []store.Goal) (*Set, []error) {
	s := &Set{byID: map[int32]int{}}
	var errs []error
	for _, g := range goals {
		if g.Deleted {
			continue
		}
		c := compiled{Goal: g}
		if err := Validate(&c.Goal); err != nil {
			errs = append(errs, fmt.Errorf("goal %d of site %d: %w", g.ID, g.SiteID, err))
			continue
		}
		switch {
		case c.MatchAttribute == "visit_duration":
			m, _ := strconv.ParseFloat(strings.TrimSpace(c.Pattern), 64)
			c.minutes = time.Duration(m * float64(time.Minute))
		case c.PatternType == "regex":
			c.re, _ = compileRegex(c.Pattern, c.CaseSensitive)
		default:
			c.patterns = []string{c.Pattern}
			if d, err := url.QueryUnescape(c.Pattern); err == nil && d != c.Pattern {
				c.patterns = append(c.patterns, d)
			}
			if c.PatternType == "contains" && !c.CaseSensitive {
				for i, p := range c.patterns {
					c.patterns[i] = strings.ToLower(p)
				}
			}
		}
		if c.MatchAttribute == "visit_duration" {
			s.durations = append(s.durations, len(s.goals))
		}
		s.byID[c.ID] = len(s.goals)
		s.goals = append(s.goals, c)
	}
	return s, errs
}

// Len is the number of goals in the set.
func (s *Set) Len() int {
	if s == nil {
		return 0
	}
	return len(s.goals)
}

// Conversion is a goal an action or visit converted, with the revenue it brings.
type Conversion struct {
	Goal          int32
	Revenue       float64
	AllowMultiple bool
}

// Manual is the conversion of a goal the tracker triggered by id (any goal may be triggered
// so, as in Matomo); revenue, when sent, replaces the goal's default. ok is false for an id
// the site does not have.
func (s *Set) Manual(id int32, revenue float64, hasRevenue bool) (Conversion, bool) {
	if s == nil {
		return Conversion{}, false
	}
	i, ok := s.byID[id]
	if !ok {
		return Conversion{}, false
	}
	g := s.goals[i]
	c := Conversion{Goal: g.ID, Revenue: g.Revenue, AllowMultiple: g.AllowMultiple}
	if hasRevenue {
		c.Revenue = revenue
	}
	return c, true
}

// Action returns the goals an action converts, in goal order.
func (s *Set) Action(a *event.Action) []Conversion {
	if s == nil {
		return nil
	}
	var out []Conversion
	for i := range s.goals {
		g := &s.goals[i]
		value, ok := g.subject(a)
		if !ok || !g.matches(value) {
			continue
		}
		c := Conversion{Goal: g.ID, Revenue: g.Revenue, AllowMultiple: g.AllowMultiple}
		if g.EventValueAsRevenue && a.Type == event.ActionEvent && a.HasEventValue {
			c.Revenue = a.EventValue
		}
		out = append(out, c)
	}
	return out
}

// Duration returns the visit-duration goals a visit of this length has reached.
func (s *Set) Duration(d time.Duration) []Conversion {
	if s == nil {
		return nil
	}
	var out []Conversion
	for _, i := range s.durations {
		if g := &s.goals[i]; d > g.minutes {
			out = append(out, Conversion{Goal: g.ID, Revenue: g.Revenue})
		}
	}
	return out
}

// subject is the value of an action a goal's attribute looks at, if it looks at this kind
// of action at all.
func (g *compiled) subject(a *event.Action) (string, bool) {
	switch g.MatchAttribute {
	case "url":
		return a.URL, a.Type == event.ActionPageview
	case "title":
		return a.Title, a.Type == event.ActionPageview
	case "file":
		return a.URL, a.Type == event.ActionDownload
	case "external_website":
		return a.URL, a.Type == event.ActionOutlink
	case "event_category":
		return a.EventCategory, a.Type == event.ActionEvent
	case "event_action":
		return a.EventAction, a.Type == event.ActionEvent
	case "event_name":
		return a.EventName, a.Type == event.ActionEvent
	}
	return "", false
}

func (g *compiled) matches(value string) bool {
	if g.re != nil {
		return g.re.MatchString(value)
	}
	contains := g.PatternType == "contains"
	if contains && !g.CaseSensitive {
		value = strings.ToLower(value) // the patterns were lowered at compile time
	}
	for _, p := range g.patterns {
		switch {
		case contains:
			if strings.Contains(value, p) {
				return true
			}
		case g.CaseSensitive:
			if value == p {
				return true
			}
		case strings.EqualFold(value, p):
			return true
		}
	}
	return false
}
