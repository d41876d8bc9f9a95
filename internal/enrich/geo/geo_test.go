package geo

import (
	"net/netip"
	"path/filepath"
	"testing"

	"github.com/maxmind/mmdbwriter/mmdbtype"

	"hearth/internal/enrich/geo/geotest"
)

func TestLookup(t *testing.T) {
	db, err := Open(geotest.Write(t, "GeoLite2-City", map[string]mmdbtype.Map{"81.2.69.0/24": geotest.London}))
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
	path := geotest.Write(t, "dbip-city", map[string]mmdbtype.Map{"2a00:1450::/32": {"country_code": mmdbtype.String("DE"),
		"city": mmdbtype.String("Berlin"), "latitude": mmdbtype.Float32(52.52), "longitude": mmdbtype.Float32(13.40)}})
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
