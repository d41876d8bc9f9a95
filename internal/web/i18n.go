package web

import (
	"embed"
	"fmt"
	"io/fs"
	"math"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
	"golang.org/x/text/language"
	"golang.org/x/text/language/display"
	"golang.org/x/text/message"
)

//go:embed i18n/*.toml
var messagesFiles embed.FS

// Languages the dashboard speaks; the first is the fallback.
var languages = []language.Tag{language.English, language.German}

var languageMatcher = language.NewMatcher(languages)

// catalogue holds every text of the pages, per key and language: the files of i18n/, one per
// part of the dashboard, make one catalogue (a key may appear in one file only).
type catalogue map[string]map[string]string

func loadCatalogue() (catalogue, error) {
	files, err := fs.Glob(messagesFiles, "i18n/*.toml")
	if err != nil {
		return nil, err
	}
	c := catalogue{}
	for _, name := range files {
		b, err := messagesFiles.ReadFile(name)
		if err != nil {
			return nil, err
		}
		var part catalogue
		if _, err := toml.Decode(string(b), &part); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		for key, texts := range part {
			if _, dup := c[key]; dup {
				return nil, fmt.Errorf("%s: %q is defined twice in the catalogue", name, key)
			}
			for _, l := range languages {
				if texts[l.String()] == "" {
					return nil, fmt.Errorf("%s: %q has no %s text", name, key, l)
				}
			}
			c[key] = texts
		}
	}
	return c, nil
}

// locale is the language of one request: its texts, numbers and dates.
type locale struct {
	Lang string // BCP 47, for <html lang>
	c    catalogue
	p    *message.Printer
}

func (c catalogue) locale(r *http.Request) *locale {
	tag := languages[0]
	if r != nil {
		if ck, err := r.Cookie("hearth_lang"); err == nil {
			if t, err := language.Parse(ck.Value); err == nil {
				if _, i, conf := languageMatcher.Match(t); conf != language.No {
					tag = languages[i]
				}
			}
		} else if h := r.Header.Get("Accept-Language"); h != "" {
			if tags, _, err := language.ParseAcceptLanguage(h); err == nil && len(tags) > 0 {
				if _, i, conf := languageMatcher.Match(tags...); conf != language.No {
					tag = languages[i]
				}
			}
		}
	}
	return &locale{Lang: tag.String(), c: c, p: message.NewPrinter(tag)}
}

// T is the text of key in the request's language; a key the catalogue lacks is an error, so a
// template naming one fails its tests rather than showing the key. Arguments fill the text's
// %-verbs.
func (l *locale) T(key string, args ...any) (string, error) {
	texts, ok := l.c[key]
	if !ok {
		return "", fmt.Errorf("no message %q", key)
	}
	s := texts[l.Lang]
	if len(args) > 0 {
		s = l.p.Sprintf(s, args...)
	}
	return s, nil
}

// Has reports whether the catalogue has key (report names it may not know).
func (l *locale) Has(key string) bool { _, ok := l.c[key]; return ok }

// Or is the text of key, or fallback when the catalogue has none (a name from the API).
func (l *locale) Or(key, fallback string) string {
	if texts, ok := l.c[key]; ok {
		return texts[l.Lang]
	}
	return fallback
}

// Label is a report row's label in the language: the names Hearth gives (channel types,
// device types, weekdays, "Unknown") from the catalogue's label.* keys; anything else (a
// page, a site, a keyword) as it is.
func (l *locale) Label(s string) string { return l.Or("label."+s, s) }

// Country is a country's name in the language from its ISO code, else fallback.
func (l *locale) Country(code, fallback string) string {
	r, err := language.ParseRegion(code)
	if err != nil {
		return fallback
	}
	if n := display.Regions(language.Make(l.Lang)).Name(r); n != "" {
		return n
	}
	return fallback
}

// Num formats a number with the language's grouping and decimal signs: integers as they
// are, fractions with at most digits decimals.
func (l *locale) Num(v any) string {
	f, ok := toFloat(v)
	if !ok {
		return fmt.Sprint(v)
	}
	if f == math.Trunc(f) && math.Abs(f) < 1e15 {
		return l.p.Sprintf("%d", int64(f))
	}
	return l.p.Sprintf("%.2f", f)
}

// Percent formats a ratio (0.25) or an API percentage text ("25%") as a percentage.
func (l *locale) Percent(v any) string {
	if s, ok := v.(string); ok && strings.HasSuffix(s, "%") {
		// The API's rounded text: shown with its own precision, in the language's signs.
		var f float64
		if _, err := fmt.Sscan(strings.TrimSuffix(s, "%"), &f); err == nil {
			if l.Lang == "de" {
				return l.Num(f) + " %"
			}
			return l.Num(f) + "%"
		}
		return s
	}
	f, ok := toFloat(v)
	if !ok {
		return fmt.Sprint(v)
	}
	return l.pct(f * 100)
}

func (l *locale) pct(f float64) string {
	if l.Lang == "de" {
		return l.p.Sprintf("%.1f %%", f) // German sets a space before the sign
	}
	return l.p.Sprintf("%.1f%%", f)
}

// Duration formats seconds as Matomo shows visit lengths: "1 min 5 s", "2 h 3 min".
func (l *locale) Duration(v any) string {
	f, ok := toFloat(v)
	if !ok {
		return fmt.Sprint(v)
	}
	d := time.Duration(math.Round(f)) * time.Second
	h, m, s := int(d.Hours()), int(d.Minutes())%60, int(d.Seconds())%60
	switch {
	case h > 0:
		return fmt.Sprintf("%d h %d min", h, m)
	case m > 0:
		return fmt.Sprintf("%d min %d s", m, s)
	}
	return fmt.Sprintf("%d s", s)
}

// Span formats a setting's length in whole hours and minutes: "12 h", "30 min", "1 h 30 min".
func (l *locale) Span(d time.Duration) string {
	h, m := int(d.Hours()), int(d.Minutes())%60
	switch {
	case h > 0 && m > 0:
		return fmt.Sprintf("%d h %d min", h, m)
	case h > 0:
		return fmt.Sprintf("%d h", h)
	}
	return fmt.Sprintf("%d min", int(d.Minutes()))
}

var monthKeys = [...]string{"month.1", "month.2", "month.3", "month.4", "month.5", "month.6", "month.7", "month.8", "month.9", "month.10", "month.11", "month.12"}

// Date formats a calendar day: "6 Dec 2026" / "6. Dez. 2026".
func (l *locale) Date(t time.Time) string {
	m := l.Or(monthKeys[t.Month()-1], t.Month().String()[:3])
	if l.Lang == "de" {
		return fmt.Sprintf("%d. %s %d", t.Day(), m, t.Year())
	}
	return fmt.Sprintf("%d %s %d", t.Day(), m, t.Year())
}

// Time formats a moment in a site's timezone: date and hh:mm.
func (l *locale) Time(t time.Time) string { return l.Date(t) + " " + t.Format("15:04") }

// Keys lists the catalogue's keys, for tests.
func (c catalogue) Keys() []string {
	out := make([]string, 0, len(c))
	for k := range c {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// toFloat reads a number from a decoded API answer (json.Number, float64, int, numeric text).
func toFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case int:
		return float64(x), true
	case int64:
		return float64(x), true
	case interface{ Float64() (float64, error) }:
		f, err := x.Float64()
		return f, err == nil
	case string:
		var f float64
		if _, err := fmt.Sscan(x, &f); err == nil && x != "" {
			return f, true
		}
	}
	return 0, false
}
