package fuzzseed

import (
	"reflect"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	text := "# a comment\n\n\"a b\" \"\\x00\\xff\"\n  \"\" \"日本\\n\"  \n\"`\" \"\\\"\"\n"
	got, err := Parse(text, 2)
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{{"a b", "\x00\xff"}, {"", "日本\n"}, {"`", `"`}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Parse = %q, want %q", got, want)
	}
	for _, c := range []struct{ text, err string }{
		{`"a"`, "1 arguments, want 2"},
		{`"a" "b" "c"`, "3 arguments, want 2"},
		{`"a" b`, "argument 2 is not a quoted string"},
		{`"a""b"`, "separated by spaces"},
		{`"a" "b`, "argument 2 is not a quoted string"},
	} {
		if _, err := Parse(c.text, 2); err == nil || !strings.Contains(err.Error(), c.err) {
			t.Errorf("Parse(%q) error %v, want %q", c.text, err, c.err)
		}
	}
}

func TestReadPackageFile(t *testing.T) {
	got := Read(t, "Example", 1)
	if len(got) != 2 || got[0][0] != "first" || got[1][0] != "second\tline" {
		t.Fatalf("Read = %q", got)
	}
}
