// Package geo looks up an IP address's location in a MaxMind-format (.mmdb) database:
// GeoLite2/GeoIP2 City or Country, DB-IP Lite and compatible files.
package geo

import (
	"fmt"
	"net/netip"
	"strings"

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
}

// Open opens an .mmdb file.
func Open(path string) (*DB, error) {
	r, err := maxminddb.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open geolocation database: %w", err)
	}
	return &DB{r: r}, nil
}

// Close releases the file.
func (d *DB) Close() error { return d.r.Close() }

type record struct {
	Country struct {
		ISOCode string `maxminddb:"iso_code"`
	} `maxminddb:"country"`
	Subdivisions []struct {
		ISOCode string `maxminddb:"iso_code"`
	} `maxminddb:"subdivisions"`
	City struct {
		Names map[string]string `maxminddb:"names"`
	} `maxminddb:"city"`
	Location struct {
		Latitude  float64 `maxminddb:"latitude"`
		Longitude float64 `maxminddb:"longitude"`
	} `maxminddb:"location"`
}

// Lookup returns the location of ip at the given precision; unknown addresses give a zero
// Location.
func (d *DB) Lookup(ip netip.Addr, p Precision) event.Location {
	var loc event.Location
	if d == nil || p == PrecisionNone || !ip.IsValid() {
		return loc
	}
	var rec record
	if err := d.r.Lookup(ip.Unmap()).Decode(&rec); err != nil {
		return loc
	}
	loc.Country = strings.ToLower(rec.Country.ISOCode)
	if p == PrecisionCountry {
		return loc
	}
	if len(rec.Subdivisions) > 0 {
		loc.Region = rec.Subdivisions[0].ISOCode
	}
	if p == PrecisionRegion {
		return loc
	}
	loc.City = rec.City.Names["en"]
	loc.Lat, loc.Lon = rec.Location.Latitude, rec.Location.Longitude
	return loc
}
