package ingest

import (
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"hearth/internal/event"
	"hearth/internal/fuzzseed"
)

// fill sets every field reachable from v to a random non-zero value, so a field the codec
// does not carry (one added to the event types later, say) fails the round trip below.
func fill(r *rand.Rand, v reflect.Value) {
	switch v.Kind() {
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[time.Time]() {
			v.Set(reflect.ValueOf(time.Unix(r.Int64N(4e9), r.Int64N(1e9)).UTC()))
			return
		}
		for i := range v.NumField() {
			fill(r, v.Field(i))
		}
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fill(r, v.Elem())
	case reflect.String:
		runes := []rune("aZ9 ü✓/?&=%-_.")
		b := make([]rune, 1+r.IntN(12))
		for i := range b {
			b[i] = runes[r.IntN(len(runes))]
		}
		v.SetString(string(b))
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n := r.Int64N(100) + 1
		if r.IntN(2) == 0 {
			n = -n
		}
		v.SetInt(n)
	case reflect.Uint8, reflect.Uint64:
		v.SetUint(uint64(1 + r.IntN(5)))
	case reflect.Float64:
		v.SetFloat(r.NormFloat64() * 1000)
	case reflect.Array:
		for i := range v.Len() {
			fill(r, v.Index(i))
		}
	case reflect.Slice:
		s := reflect.MakeSlice(v.Type(), 1+r.IntN(3), 3)
		for i := range s.Len() {
			fill(r, s.Index(i))
		}
		v.Set(s)
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		for range 1 + r.IntN(3) {
			k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
			fill(r, k)
			fill(r, e)
			m.SetMapIndex(k, e)
		}
		v.Set(m)
	default:
		panic("fill: unhandled kind " + v.Kind().String())
	}
}

func TestRecordCodecRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for i := range 200 {
		var rec record
		fill(r, reflect.ValueOf(&rec).Elem())
		rec.Seq = 0    // not part of the body: the frame carries it
		switch i % 4 { // every combination of parts the pipeline writes
		case 1:
			rec.Action, rec.Bot = nil, nil
		case 2:
			rec.Visit, rec.Bot = nil, nil
		case 3:
			rec.Visit, rec.Action = nil, nil
		}
		body, err := encode(&rec)
		if err != nil {
			t.Fatal(err)
		}
		got, err := decodeRecord(body)
		if err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
		if !reflect.DeepEqual(got, rec) {
			t.Fatalf("record %d changed in the round trip:\n got %+v\nwant %+v", i, got, rec)
		}
		// Every strict prefix is refused, never read as a shorter record.
		for _, n := range []int{0, 1, 2, len(body) / 2, len(body) - 1} {
			if _, err := decodeRecord(body[:n]); err == nil {
				t.Fatalf("record %d: a body cut to %d of %d bytes was accepted", i, n, len(body))
			}
		}
	}
}

// TestRecordCodecReadsJSON: spools written as JSON by earlier versions still replay.
func TestRecordCodecReadsJSON(t *testing.T) {
	at := time.Date(2026, 3, 6, 10, 0, 0, 0, time.UTC)
	want := record{
		Visit:  &event.Visit{SiteID: 3, ID: 99, First: at, Last: at.Add(time.Minute), Actions: 2, Referrer: event.Referrer{Type: event.ReferrerSearch, Name: "Google"}},
		Action: &event.Action{SiteID: 3, VisitID: 99, Time: at.Add(time.Minute), Index: 2, Type: event.ActionPageview, URL: "https://clinic.example/b", SearchCount: -1},
	}
	body, err := json.Marshal(&want)
	if err != nil {
		t.Fatal(err)
	}
	got, err := decodeRecord(body)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("JSON record read as %+v, want %+v", got, want)
	}
}

// FuzzRecordCodec decodes arbitrary bodies: never a panic or a huge allocation, and a body
// that decodes re-encodes to a record that decodes the same.
func FuzzRecordCodec(f *testing.F) {
	r := rand.New(rand.NewPCG(5, 6))
	for range 4 { // built here: they follow the current encoding
		var rec record
		fill(r, reflect.ValueOf(&rec).Elem())
		body, _ := encode(&rec)
		f.Add(body)
	}
	for _, s := range fuzzseed.Read(f, "FuzzRecordCodec", 1) {
		f.Add([]byte(s[0]))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		rec, err := decodeRecord(body)
		if err != nil {
			return
		}
		again, err := decodeRecord(appendRecord(nil, &rec))
		if err != nil {
			t.Fatalf("re-encoded record does not decode: %v", err)
		}
		if !reflect.DeepEqual(again, rec) {
			t.Fatalf("re-encoded record differs:\n%+v\n%+v", again, rec)
		}
	})
}
