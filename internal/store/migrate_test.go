package store

import (
	"strings"
	"testing"
	"testing/fstest"
)

func TestReadMigrations(t *testing.T) {
	good := fstest.MapFS{
		"m/0002_b.sql": {Data: []byte("B")},
		"m/0010_c.sql": {Data: []byte("C")},
		"m/0001_a.sql": {Data: []byte("A")},
		"m/README.txt": {Data: []byte("ignored")},
	}
	list, err := ReadMigrations(good, "m")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range list {
		got = append(got, m.SQL)
	}
	if strings.Join(got, "") != "ABC" || list[2].Version != 10 {
		t.Fatalf("order: %v", list)
	}
	for name, fsys := range map[string]fstest.MapFS{
		"duplicate": {"m/0001_a.sql": {}, "m/1_b.sql": {}},
		"bad name":  {"m/init.sql": {}},
		"zero":      {"m/0000_x.sql": {}},
	} {
		if _, err := ReadMigrations(fsys, "m"); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
