package geo

import (
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"
)

// writeTestDB builds a small City-format database with one network.
func writeTestDB(t *testing.T) string {
	t.Helper()
	tree, err := mmdbwriter.New(mmdbwriter.Options{DatabaseType: "GeoLite2-City", RecordSize: 24})
	if err != nil {
		t.Fatal(err)
	}
	_, network, _ := net.ParseCIDR("81.2.69.0/24")
	rec := mmdbtype.Map{
		"country":      mmdbtype.Map{"iso_code": mmdbtype.String("GB")},
		"subdivisions": mmdbtype.Slice{mmdbtype.Map{"iso_code": mmdbtype.String("ENG")}},
		"city":         mmdbtype.Map{"names": mmdbtype.Map{"en": mmdbtype.String("London")}},
		"location":     mmdbtype.Map{"latitude": mmdbtype.Float64(51.5142), "longitude": mmdbtype.Float64(-0.0931)},
	}
	if err := tree.Insert(network, rec); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "test.mmdb")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tree.WriteTo(f); err != nil {
		t.Fatal(err)
	}
	f.Close()
	return path
}

func TestLookup(t *testing.T) {
	db, err := Open(writeTestDB(t))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ip := netip.MustParseAddr("81.2.69.142")
	cases := []struct {
		p                     Precision
		country, region, city string
		hasLat                bool
	}{
		{PrecisionCity, "gb", "ENG", "London", true},
		{PrecisionRegion, "gb", "ENG", "", false},
		{PrecisionCountry, "gb", "", "", false},
		{PrecisionNone, "", "", "", false},
	}
	for _, tc := range cases {
		loc := db.Lookup(ip, tc.p)
		if loc.Country != tc.country || loc.Region != tc.region || loc.City != tc.city || (loc.Lat != 0) != tc.hasLat {
			t.Errorf("precision %s: %+v", tc.p, loc)
		}
	}
	if loc := db.Lookup(netip.MustParseAddr("8.8.8.8"), PrecisionCity); loc.Country != "" {
		t.Errorf("unknown address located: %+v", loc)
	}
	if _, err := Open(filepath.Join(t.TempDir(), "missing.mmdb")); err == nil {
		t.Fatal("missing file opened")
	}
	if _, err := ParsePrecision("street"); err == nil {
		t.Fatal("bad precision accepted")
	}
}

// TestFlatLayout reads the flat record layout of DB-IP Lite as ip-location-db packages it.
func TestFlatLayout(t *testing.T) {
	tree, err := mmdbwriter.New(mmdbwriter.Options{DatabaseType: "dbip-city", RecordSize: 24})
	if err != nil {
		t.Fatal(err)
	}
	_, network, _ := net.ParseCIDR("2a00:1450::/32")
	if err := tree.Insert(network, mmdbtype.Map{"country_code": mmdbtype.String("DE"), "city": mmdbtype.String("Berlin"),
		"latitude": mmdbtype.Float32(52.52), "longitude": mmdbtype.Float32(13.40)}); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "flat.mmdb")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tree.WriteTo(f); err != nil {
		t.Fatal(err)
	}
	f.Close()
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	loc := db.Lookup(netip.MustParseAddr("2a00:1450::1"), PrecisionCity)
	if loc.Country != "de" || loc.City != "Berlin" || loc.Lat < 52.5 || loc.Lat > 52.6 {
		t.Fatalf("flat layout: %+v", loc)
	}
	if loc := db.Lookup(netip.MustParseAddr("2a00:1450::1"), PrecisionCountry); loc.City != "" || loc.Country != "de" {
		t.Fatalf("country precision: %+v", loc)
	}
}
