// Package geo looks up an IP address's location in a MaxMind-format (.mmdb) database:
// GeoLite2/GeoIP2 City or Country, DB-IP Lite and compatible files.
package geo

import (
	"fmt"
	"net/netip"
	"strings"
	"sync/atomic"
	"time"

	"github.com/oschwald/maxminddb-golang/v2"

	"hearth/internal/event"
)

// Precision caps how much location is kept for a site.
type Precision string

// Precisions, from most to least detailed.
const (
	PrecisionCity    Precision = "city"
	PrecisionRegion  Precision = "region"
	PrecisionCountry Precision = "country"
	PrecisionNone    Precision = "none"
)

// ParsePrecision validates a site setting; empty means city.
func ParsePrecision(s string) (Precision, error) {
	switch Precision(s) {
	case "", PrecisionCity:
		return PrecisionCity, nil
	case PrecisionRegion, PrecisionCountry, PrecisionNone:
		return Precision(s), nil
	}
	return "", fmt.Errorf("geo precision must be city, region, country or none, got %q", s)
}

// DB is an open database. It is safe for concurrent use.
type DB struct {
	r *maxminddb.Reader
	// regions holds the English names of the regions the database knows, by "country|code",
	// once indexRegions has read them; visits store a region's code only.
	regions atomic.Pointer[map[string]string]
	stop    atomic.Bool
	indexed chan struct{}
}

// Open opens an .mmdb file and starts reading its region names in the background.
func Open(path string) (*DB, error) {
	r, err := maxminddb.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open geolocation database: %w", err)
	}
	d := &DB{r: r, indexed: make(chan struct{})}
	go d.indexRegions()
	return d, nil
}

// Info is the database's type as its maker names it ("GeoLite2-City", "country ipvAll") and
// when it was built: locations drift as address blocks move, so operators replace the file
// regularly.
func (d *DB) Info() (dbType string, built time.Time) {
	m := d.r.Metadata
	return m.DatabaseType, time.Unix(int64(m.BuildEpoch), 0).UTC() // #nosec G115 -- seconds since 1970 fit
}

// Close stops the region index and releases the file.
func (d *DB) Close() error {
	d.stop.Store(true)
	<-d.indexed
	return d.r.Close()
}

// RegionName is the English name of a country's region by its code ("de", "BY" →
// "Bavaria"), or "" while the names are being read or when the database has none.
func (d *DB) RegionName(country, code string) string {
	if d == nil || code == "" {
		return ""
	}
	if m := d.regions.Load(); m != nil {
		return (*m)[strings.ToLower(country)+"|"+code]
	}
	return ""
}

// indexRegions walks the database once for the names of its regions (MaxMind's layout:
// subdivisions with iso_code and names). Networks that share a record are read once.
func (d *DB) indexRegions() {
	defer close(d.indexed)
	names := map[string]string{}
	last := ^uintptr(0)
	for res := range d.r.Networks() {
		if d.stop.Load() || res.Err() != nil {
			break
		}
		off := res.Offset()
		if off == last {
			continue
		}
		last = off
		var code, name, country string
		if res.DecodePath(&code, "subdivisions", 0, "iso_code") != nil || code == "" ||
			res.DecodePath(&name, "subdivisions", 0, "names", "en") != nil || name == "" ||
			res.DecodePath(&country, "country", "iso_code") != nil || country == "" {
			continue
		}
		key := strings.ToLower(country) + "|" + code
		if _, ok := names[key]; !ok {
			names[key] = name
		}
	}
	d.regions.Store(&names)
}

// Lookup returns the location of ip at the given precision; unknown addresses give a zero
// Location.
func (d *DB) Lookup(ip netip.Addr, p Precision) event.Location {
	var loc event.Location
	if d == nil || p == PrecisionNone || !ip.IsValid() {
		return loc
	}
	// Two layouts are common: MaxMind's (country.iso_code, subdivisions, city.names.en,
	// location.latitude) and the flat one of DB-IP Lite as packaged by ip-location-db
	// (country_code, state1, city, latitude).
	var rec map[string]any
	if err := d.r.Lookup(ip.Unmap()).Decode(&rec); err != nil || rec == nil {
		return loc
	}
	country := str(path(rec, "country", "iso_code"))
	if country == "" {
		country = str(rec["country_code"])
	}
	loc.Country = strings.ToLower(country)
	if p == PrecisionCountry || loc.Country == "" {
		return loc
	}
	if subs, ok := rec["subdivisions"].([]any); ok && len(subs) > 0 {
		if m, ok := subs[0].(map[string]any); ok {
			loc.Region = str(m["iso_code"])
		}
	}
	if p == PrecisionRegion {
		return loc
	}
	if c, ok := rec["city"].(string); ok {
		loc.City = c
	} else {
		loc.City = str(path(rec, "city", "names", "en"))
	}
	loc.Lat, loc.Lon = num(path(rec, "location", "latitude")), num(path(rec, "location", "longitude"))
	if loc.Lat == 0 && loc.Lon == 0 {
		loc.Lat, loc.Lon = num(rec["latitude"]), num(rec["longitude"])
	}
	return loc
}

func path(m map[string]any, keys ...string) any {
	var v any = m
	for _, k := range keys {
		mm, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = mm[k]
	}
	return v
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

func num(v any) float64 {
	switch x := v.(type) {
	case float64:
		return x
	case float32:
		return float64(x)
	}
	return 0
}
