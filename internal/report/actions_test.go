package report

import (
	"strings"
	"testing"

	"hearth/internal/store"
)

func TestPageSegments(t *testing.T) {
	for raw, want := range map[string]string{
		"https://ex.org/":              "/index",
		"https://ex.org":               "/index",
		"https://ex.org/care":          "/care",
		"https://ex.org/blog/post":     "blog|/post",
		"https://ex.org/blog/":         "blog|/index",
		"https://ex.org/a/b/c":         "a|b|/c",
		"https://ex.org/?utm=x":        "/index?utm=x",
		"https://ex.org/search?q=flu":  "/search?q=flu",
		"https://ex.org/a%20b/c%2Fd":   "a%20b|/c%2Fd",
		"not a url with a host, /x/y/": "not a url with a host, |x|y|/index",
	} {
		if got := strings.Join(pageSegments(raw), "|"); got != want {
			t.Errorf("%s: %s, want %s", raw, got, want)
		}
	}
}

// TestPageTree: folders sum their pages, pages keep their URL, and the same path under two
// hosts is one row.
func TestPageTree(t *testing.T) {
	d := FindActionReport("Actions.getPageUrls")
	rows := []store.ActionRow{
		{Key: "https://ex.org/", Hits: 5, Visits: 4, UniqueVisitors: 3, TimeSpent: 100},
		{Key: "https://www.ex.org/", Hits: 1, Visits: 1, UniqueVisitors: 1},
		{Key: "https://ex.org/blog/a", Hits: 2, Visits: 2, UniqueVisitors: 2, TimeSpent: 40, ExitVisits: 1},
		{Key: "https://ex.org/blog/b", Hits: 3, Visits: 1, UniqueVisitors: 1, TimeSpent: 10},
	}
	entries := []store.GroupRow{{Keys: []string{"https://ex.org/"}, VisitTotals: store.VisitTotals{Visits: 3, Actions: 9, VisitLength: 300, Bounces: 1}}}
	tables := d.ActionTables(rows, entries, 1)
	top := tables[0].Rows
	if len(top) != 2 || top[0].Label != "/index" || top[1].Label != "blog" {
		t.Fatalf("top rows: %v", labelsOf(top))
	}
	if m := top[0].Action; m.Hits != 6 || m.Visits != 5 || m.TimeSpent != 100 || m.EntryVisits != 3 || m.EntryActions != 9 || m.EntryBounces != 1 {
		t.Errorf("/index: %+v", m)
	}
	blog := top[1]
	if m := blog.Action; m.Hits != 5 || m.Visits != 3 || m.TimeSpent != 50 || m.ExitVisits != 1 || blog.Sub == nil || blog.SubID == 0 {
		t.Fatalf("blog folder: %+v", blog)
	}
	if got := labelsOf(blog.Sub.Rows); got != "/a /b" {
		t.Errorf("blog pages: %s (ordered by visits)", got)
	}
	if blog.Sub.Rows[0].Columns[0].Value != "https://ex.org/blog/a" || blog.Sub.Rows[0].Segment != "pageUrl==https://ex.org/blog/a" {
		t.Errorf("page row: %+v", blog.Sub.Rows[0])
	}
	entryTables := FindActionReport("Actions.getEntryPageUrls").ActionTables(nil, entries, 1)
	if got := labelsOf(entryTables[0].Rows); got != "/index" {
		t.Errorf("entry pages: %s", got)
	}
}

func labelsOf(rows []*Row) string {
	var out []string
	for _, r := range rows {
		out = append(out, r.Label)
	}
	return strings.Join(out, " ")
}
