// Package referrer classifies where a visit came from: direct entry, another website, a search
// engine (with the keyword when the referrer URL carries it), a social network or a campaign.
// It ships its own lists and can load extra ones in Matomo's published formats.
package referrer

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"

	"gopkg.in/yaml.v3"

	"hearth/internal/event"
)

// Engine is a search engine.
type Engine struct {
	Name   string
	Params []string         // query parameters carrying the keyword
	Paths  []*regexp.Regexp // regexes on the path whose first group is the keyword
}

type pattern struct {
	re  *regexp.Regexp
	val string
}

// Lists holds search engines, social networks and spam hosts. Build with Builtin, extend with
// Load*; it is safe for concurrent use once built.
type Lists struct {
	engines        map[string]*Engine
	enginePatterns []struct {
		re *regexp.Regexp
		e  *Engine
	}
	socials        map[string]string
	socialPatterns []pattern
	spam           map[string]bool

	mu    sync.RWMutex
	cache map[string]hostClass
}

type hostClass struct {
	engine *Engine
	social string
	spam   bool
}

// Builtin returns Hearth's own lists.
func Builtin() *Lists {
	l := &Lists{engines: map[string]*Engine{}, socials: map[string]string{}, spam: map[string]bool{}, cache: map[string]hostClass{}}
	for _, e := range builtinEngines {
		eng := &Engine{Name: e.name, Params: e.params}
		for _, h := range e.hosts {
			l.addEngineHost(h, eng)
		}
	}
	for name, hosts := range builtinSocials {
		for _, h := range hosts {
			l.addSocialHost(h, name)
		}
	}
	for _, h := range builtinSpam {
		l.spam[h] = true
	}
	return l
}

func wildcard(h string) *regexp.Regexp {
	parts := strings.Split(h, "{}")
	for i := range parts {
		parts[i] = regexp.QuoteMeta(parts[i])
	}
	return regexp.MustCompile("^" + strings.Join(parts, `[a-z0-9\-]+(?:\.[a-z0-9\-]+)?`) + "$")
}

func (l *Lists) addEngineHost(h string, e *Engine) {
	h = strings.ToLower(strings.TrimSpace(h))
	if h == "" {
		return
	}
	if strings.Contains(h, "{}") {
		l.enginePatterns = append(l.enginePatterns, struct {
			re *regexp.Regexp
			e  *Engine
		}{wildcard(h), e})
		return
	}
	if _, ok := l.engines[h]; !ok {
		l.engines[h] = e
	}
}

func (l *Lists) addSocialHost(h, name string) {
	h = strings.ToLower(strings.TrimSpace(h))
	if h == "" {
		return
	}
	if strings.Contains(h, "{}") {
		l.socialPatterns = append(l.socialPatterns, pattern{wildcard(h), name})
		return
	}
	if _, ok := l.socials[h]; !ok {
		l.socials[h] = name
	}
}

// LoadDir loads the list files present in dir: SearchEngines.yml, Socials.yml (Matomo's
// searchengine-and-social-list format) and spammers.txt (one host a line). A folder without
// any of them is an error, so a mistyped path is noticed.
func (l *Lists) LoadDir(dir string) error {
	found := 0
	for name, load := range map[string]func([]byte) error{
		"SearchEngines.yml": l.LoadSearchEngines,
		"Socials.yml":       l.LoadSocials,
		"spammers.txt":      l.LoadSpam,
	} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("referrer lists: %w", err)
		}
		if err := load(b); err != nil {
			return fmt.Errorf("referrer lists %s: %w", name, err)
		}
		found++
	}
	if found == 0 {
		return fmt.Errorf("referrer lists: %s has none of SearchEngines.yml, Socials.yml, spammers.txt", dir)
	}
	return nil
}

// LoadSearchEngines adds engines from Matomo's SearchEngines.yml format.
func (l *Lists) LoadSearchEngines(b []byte) error {
	var doc map[string][]struct {
		URLs   []string `yaml:"urls"`
		Params []string `yaml:"params"`
	}
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return fmt.Errorf("parse search engines: %w", err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for name, defs := range doc {
		for _, d := range defs {
			e := &Engine{Name: name}
			for _, p := range d.Params {
				if len(p) > 2 && strings.HasPrefix(p, "/") && strings.HasSuffix(p, "/") {
					re, err := regexp.Compile(p[1 : len(p)-1])
					if err != nil {
						continue // a pattern Go's regexp cannot express; the host still classifies
					}
					e.Paths = append(e.Paths, re)
					continue
				}
				e.Params = append(e.Params, p)
			}
			for _, h := range d.URLs {
				l.addEngineHost(h, e)
			}
		}
	}
	l.cache = map[string]hostClass{}
	return nil
}

// LoadSocials adds networks from Matomo's Socials.yml format.
func (l *Lists) LoadSocials(b []byte) error {
	var doc map[string][]string
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return fmt.Errorf("parse socials: %w", err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for name, hosts := range doc {
		for _, h := range hosts {
			l.addSocialHost(h, name)
		}
	}
	l.cache = map[string]hostClass{}
	return nil
}

// LoadSpam adds spam hosts, one a line.
func (l *Lists) LoadSpam(b []byte) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		h := strings.ToLower(strings.TrimSpace(sc.Text()))
		if h != "" && !strings.HasPrefix(h, "#") {
			l.spam[h] = true
		}
	}
	l.cache = map[string]hostClass{}
	return sc.Err()
}

func (l *Lists) classifyHost(host string) hostClass {
	l.mu.RLock()
	c, ok := l.cache[host]
	l.mu.RUnlock()
	if ok {
		return c
	}
	c = l.lookup(host)
	l.mu.Lock()
	if len(l.cache) > 100_000 {
		l.cache = map[string]hostClass{}
	}
	l.cache[host] = c
	l.mu.Unlock()
	return c
}

func (l *Lists) lookup(host string) hostClass {
	var c hostClass
	l.mu.RLock()
	defer l.mu.RUnlock()
	bare := strings.TrimPrefix(host, "www.")
	// Spam matches the host or any parent domain.
	for h := bare; h != ""; {
		if l.spam[h] {
			c.spam = true
			break
		}
		i := strings.IndexByte(h, '.')
		if i < 0 {
			break
		}
		h = h[i+1:]
	}
	for _, h := range []string{host, bare} {
		if e, ok := l.engines[h]; ok {
			c.engine = e
			return c
		}
	}
	for _, p := range l.enginePatterns {
		if p.re.MatchString(host) || p.re.MatchString(bare) {
			c.engine = p.e
			return c
		}
	}
	for h := bare; h != ""; {
		if n, ok := l.socials[h]; ok {
			c.social = n
			return c
		}
		i := strings.IndexByte(h, '.')
		if i < 0 {
			break
		}
		h = h[i+1:]
	}
	for _, p := range l.socialPatterns {
		if p.re.MatchString(bare) {
			c.social = p.val
			return c
		}
	}
	return c
}

// Known reports whether a host is recognised as a search engine, social network or spam.
func (l *Lists) Known(host string) (engine, social, spam bool) {
	c := l.classifyHost(strings.ToLower(host))
	return c.engine != nil, c.social != "", c.spam
}

// Input is what classification looks at.
type Input struct {
	Referrer  string         // the referrer URL (urlref)
	Campaign  event.Campaign // campaign parameters found in the page URL
	SiteHosts []string       // hosts of the site's URLs: referrers from them are internal
}

// Classify returns the referrer of a visit and whether the referrer is a known spammer.
func (l *Lists) Classify(in Input) (event.Referrer, bool) {
	if in.Campaign.Name != "" {
		return event.Referrer{Type: event.ReferrerCampaign, Name: strings.ToLower(in.Campaign.Name),
			Keyword: strings.ToLower(in.Campaign.Keyword), URL: in.Referrer}, false
	}
	if in.Referrer == "" {
		return event.Referrer{Type: event.ReferrerDirect}, false
	}
	u, err := url.Parse(in.Referrer)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https" && u.Scheme != "android-app") {
		return event.Referrer{Type: event.ReferrerDirect}, false
	}
	host := strings.ToLower(u.Hostname())
	for _, h := range in.SiteHosts {
		if host == h || strings.TrimPrefix(host, "www.") == strings.TrimPrefix(h, "www.") {
			return event.Referrer{Type: event.ReferrerDirect}, false
		}
	}
	c := l.classifyHost(host)
	switch {
	case c.engine != nil:
		return event.Referrer{Type: event.ReferrerSearch, Name: c.engine.Name, Keyword: keyword(c.engine, u), URL: in.Referrer}, c.spam
	case c.social != "":
		return event.Referrer{Type: event.ReferrerSocial, Name: c.social, URL: in.Referrer}, c.spam
	}
	return event.Referrer{Type: event.ReferrerWebsite, Name: strings.TrimPrefix(host, "www."), URL: in.Referrer}, c.spam
}

func keyword(e *Engine, u *url.URL) string {
	q := u.Query()
	for _, p := range e.Params {
		if v := strings.TrimSpace(q.Get(p)); v != "" {
			return strings.ToLower(v)
		}
	}
	for _, re := range e.Paths {
		if m := re.FindStringSubmatch(u.Path); len(m) > 1 {
			if v, err := url.PathUnescape(m[1]); err == nil && v != "" {
				return strings.ToLower(v)
			}
		}
	}
	// Also check the fragment, where some engines put the query.
	if f, err := url.ParseQuery(u.Fragment); err == nil {
		for _, p := range e.Params {
			if v := strings.TrimSpace(f.Get(p)); v != "" {
				return strings.ToLower(v)
			}
		}
	}
	return ""
}
