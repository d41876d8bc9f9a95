// Package geotest writes small MaxMind-format databases for tests.
package geotest

import (
	"net"
	"os"
	"path/filepath"
	"testing"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"
)

// Write builds a database of the given type with one record per network (CIDR) in a temp
// folder and returns its path.
func Write(t testing.TB, dbType string, records map[string]mmdbtype.Map) string {
	t.Helper()
	tree, err := mmdbwriter.New(mmdbwriter.Options{DatabaseType: dbType, RecordSize: 24})
	if err != nil {
		t.Fatal(err)
	}
	for cidr, rec := range records {
		_, network, err := net.ParseCIDR(cidr)
		if err != nil {
			t.Fatal(err)
		}
		if err := tree.Insert(network, rec); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(t.TempDir(), "test.mmdb")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := tree.WriteTo(f); err != nil {
		t.Fatal(err)
	}
	return path
}

// London is a GeoLite2-City style record.
var London = mmdbtype.Map{
	"country":      mmdbtype.Map{"iso_code": mmdbtype.String("GB")},
	"subdivisions": mmdbtype.Slice{mmdbtype.Map{"iso_code": mmdbtype.String("ENG"), "names": mmdbtype.Map{"en": mmdbtype.String("England"), "de": mmdbtype.String("England")}}},
	"city":         mmdbtype.Map{"names": mmdbtype.Map{"en": mmdbtype.String("London")}},
	"location":     mmdbtype.Map{"latitude": mmdbtype.Float64(51.5142), "longitude": mmdbtype.Float64(-0.0931)},
}

// Munich is another, in a region whose name differs from its code.
var Munich = mmdbtype.Map{
	"country":      mmdbtype.Map{"iso_code": mmdbtype.String("DE")},
	"subdivisions": mmdbtype.Slice{mmdbtype.Map{"iso_code": mmdbtype.String("BY"), "names": mmdbtype.Map{"en": mmdbtype.String("Bavaria"), "de": mmdbtype.String("Bayern")}}},
	"city":         mmdbtype.Map{"names": mmdbtype.Map{"en": mmdbtype.String("Munich")}},
	"location":     mmdbtype.Map{"latitude": mmdbtype.Float64(48.1371), "longitude": mmdbtype.Float64(11.5754)},
}
