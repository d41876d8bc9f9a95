package geo

import (
	"net/netip"
	"path/filepath"
	"testing"
	"time"

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

// TestRegionNames reads the English names of regions from the database, in the background.
func TestRegionNames(t *testing.T) {
	db, err := Open(geotest.Write(t, "GeoLite2-City", map[string]mmdbtype.Map{
		"81.2.69.0/24": geotest.London, "81.2.70.0/24": geotest.London, "5.1.0.0/16": geotest.Munich,
		"2a00:1450::/32": {"country_code": mmdbtype.String("DE"), "city": mmdbtype.String("Berlin")}, // no regions: skipped
	}))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	<-db.indexed
	for _, tc := range []struct{ country, code, want string }{
		{"gb", "ENG", "England"}, {"GB", "ENG", "England"}, {"de", "BY", "Bavaria"},
		{"de", "ENG", ""}, {"de", "", ""}, {"fr", "IDF", ""},
	} {
		if got := db.RegionName(tc.country, tc.code); got != tc.want {
			t.Errorf("RegionName(%q, %q) = %q, want %q", tc.country, tc.code, got, tc.want)
		}
	}
	if typ, built := db.Info(); typ != "GeoLite2-City" || time.Since(built) > time.Hour || time.Until(built) > time.Minute {
		t.Errorf("Info() = %q, built %v; want GeoLite2-City, built just now", typ, built)
	}
	var none *DB
	if got := none.RegionName("de", "BY"); got != "" {
		t.Errorf("no database: %q", got)
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
