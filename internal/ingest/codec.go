package ingest

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"

	"hearth/internal/event"
)

// Spool record bodies are binary: a format byte, a byte of flags naming the parts present
// (visit, action, bot hit), then each part's fields in a fixed order — integers as varints,
// floats as 8 bytes, texts as a length and their bytes. Encoding this way costs a fraction
// of JSON and makes less garbage; it runs on every accepted hit. Bodies written as JSON by
// earlier versions (they begin with '{') are still read.
const recordBinary = 1

const (
	hasVisit = 1 << iota
	hasAction
	hasBot
)

// maxDecodedItems bounds the counts a body claims before they are trusted for allocation.
const maxDecodedItems = 1 << 16

var errShortRecord = errors.New("spool record ends early")

// appendRecord appends rec's binary body to b.
func appendRecord(b []byte, rec *record) []byte {
	e := encoder{b: b}
	var flags byte
	if rec.Visit != nil {
		flags |= hasVisit
	}
	if rec.Action != nil {
		flags |= hasAction
	}
	if rec.Bot != nil {
		flags |= hasBot
	}
	e.b = append(e.b, recordBinary, flags)
	if v := rec.Visit; v != nil {
		e.visit(v)
	}
	if a := rec.Action; a != nil {
		e.action(a)
	}
	if h := rec.Bot; h != nil {
		e.int(int64(h.SiteID))
		e.time(h.Time)
		e.str(h.Name)
	}
	return e.b
}

// decodeRecord reads a body written by appendRecord, or a JSON body of earlier versions.
func decodeRecord(body []byte) (record, error) {
	var rec record
	if len(body) > 0 && body[0] == '{' {
		err := json.Unmarshal(body, &rec)
		return rec, err
	}
	if len(body) < 2 || body[0] != recordBinary {
		return rec, errors.New("spool record of an unknown format")
	}
	d := decoder{b: body[2:]}
	flags := body[1]
	if flags&hasVisit != 0 {
		rec.Visit = new(event.Visit)
		d.visit(rec.Visit)
	}
	if flags&hasAction != 0 {
		rec.Action = new(event.Action)
		d.action(rec.Action)
	}
	if flags&hasBot != 0 {
		rec.Bot = &event.BotHit{SiteID: event.SiteID(d.int()), Time: d.time(), Name: d.str()}
	}
	if d.err == nil && len(d.b) > 0 {
		d.err = fmt.Errorf("spool record has %d bytes past its end", len(d.b))
	}
	return rec, d.err
}

type encoder struct{ b []byte }

func (e *encoder) int(v int64)     { e.b = binary.AppendVarint(e.b, v) }
func (e *encoder) float(v float64) { e.b = binary.LittleEndian.AppendUint64(e.b, math.Float64bits(v)) }
func (e *encoder) str(s string) {
	e.b = binary.AppendUvarint(e.b, uint64(len(s)))
	e.b = append(e.b, s...)
}

func (e *encoder) bool(v bool) {
	if v {
		e.b = append(e.b, 1)
	} else {
		e.b = append(e.b, 0)
	}
}

// time writes 0 for the zero time, else 1, seconds and nanoseconds since 1970 (UTC).
func (e *encoder) time(t time.Time) {
	if t.IsZero() {
		e.b = append(e.b, 0)
		return
	}
	e.b = append(e.b, 1)
	e.int(t.Unix())
	e.int(int64(t.Nanosecond()))
}

func (e *encoder) strs(v []string) {
	e.int(int64(len(v)))
	for _, s := range v {
		e.str(s)
	}
}

func (e *encoder) dims(m map[int]string) {
	e.int(int64(len(m)))
	for k, v := range m {
		e.int(int64(k))
		e.str(v)
	}
}

func (e *encoder) vars(m map[string]string) {
	e.int(int64(len(m)))
	for k, v := range m {
		e.str(k)
		e.str(v)
	}
}

func (e *encoder) visit(v *event.Visit) {
	e.int(int64(v.SiteID))
	e.int(int64(v.ID))
	e.b = append(e.b, v.VisitorID[:]...)
	e.str(v.UserID)
	e.time(v.First)
	e.time(v.Last)
	e.int(int64(v.VisitCount))
	e.bool(v.Returning)
	e.int(int64(v.DaysSinceLast))
	e.int(int64(v.DaysSinceFirst))
	e.int(int64(v.DaysSinceOrder))
	e.str(v.IP)
	e.int(int64(v.Referrer.Type))
	e.str(v.Referrer.Name)
	e.str(v.Referrer.Keyword)
	e.str(v.Referrer.URL)
	c := &v.Campaign
	for _, s := range []string{c.Name, c.Keyword, c.Source, c.Medium, c.Content, c.ID, c.Group, c.Place} {
		e.str(s)
	}
	d := &v.Device
	for _, s := range []string{d.Type, d.Brand, d.Model, d.OS, d.OSVersion, d.Browser, d.BrowserVersion, d.Engine, d.EngineVersion} {
		e.str(s)
	}
	e.str(v.Location.Country)
	e.str(v.Location.Region)
	e.str(v.Location.City)
	e.float(v.Location.Lat)
	e.float(v.Location.Lon)
	e.str(v.Resolution)
	e.str(v.Language)
	e.int(int64(v.LocalTime))
	e.str(v.Plugins)
	e.str(v.EntryURL)
	e.str(v.EntryTitle)
	e.str(v.ExitURL)
	e.str(v.ExitTitle)
	e.time(v.ExitTime)
	for _, n := range []int32{v.Actions, v.Pageviews, v.Searches, v.Events, v.Downloads, v.Outlinks, v.Contents, v.Interactions, v.Conversions} {
		e.int(int64(n))
	}
	e.float(v.Revenue)
	e.int(int64(v.Ecommerce))
	e.dims(v.Dimensions)
	e.vars(v.CustomVars)
	e.bool(v.Consent)
}

func (e *encoder) action(a *event.Action) {
	e.int(int64(a.SiteID))
	e.int(int64(a.VisitID))
	e.b = append(e.b, a.VisitorID[:]...)
	e.time(a.Time)
	e.int(int64(a.Index))
	e.int(int64(a.Type))
	e.str(a.URL)
	e.str(a.Title)
	e.str(a.PageViewID)
	e.bool(a.FirstURLInVisit)
	e.bool(a.FirstTitleInVisit)
	e.str(a.RefURL)
	e.str(a.RefTitle)
	e.int(int64(a.RefTimeSpent))
	e.str(a.SearchKeyword)
	e.str(a.SearchCategory)
	e.int(int64(a.SearchCount))
	e.str(a.EventCategory)
	e.str(a.EventAction)
	e.str(a.EventName)
	e.float(a.EventValue)
	e.bool(a.HasEventValue)
	e.str(a.ContentName)
	e.str(a.ContentPiece)
	e.str(a.ContentTarget)
	e.str(a.ContentInteraction)
	e.int(int64(a.GoalID))
	e.float(a.Revenue)
	e.str(a.OrderID)
	e.float(a.Subtotal)
	e.float(a.Tax)
	e.float(a.Shipping)
	e.float(a.Discount)
	e.int(int64(len(a.Items)))
	for i := range a.Items {
		it := &a.Items[i]
		e.str(it.SKU)
		e.str(it.Name)
		e.strs(it.Categories)
		e.float(it.Price)
		e.int(it.Quantity)
	}
	e.str(a.ProductSKU)
	e.str(a.ProductName)
	e.strs(a.ProductCategory)
	e.float(a.ProductPrice)
	for _, n := range []int32{a.PerfNetwork, a.PerfServer, a.PerfTransfer, a.PerfDOMProc, a.PerfDOMDone, a.PerfOnLoad} {
		e.int(int64(n))
	}
	e.dims(a.Dimensions)
	e.vars(a.CustomVars)
	e.str(a.Extra)
}

// decoder reads what encoder wrote; the first error sticks and every later read returns zero.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) int() int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.err = errShortRecord
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) int32() int32 {
	v := d.int()
	if v < math.MinInt32 || v > math.MaxInt32 {
		d.fail(fmt.Errorf("spool record: %d does not fit 32 bits", v))
		return 0
	}
	return int32(v)
}

func (d *decoder) uint8() uint8 {
	v := d.int()
	if v < 0 || v > math.MaxUint8 {
		d.fail(fmt.Errorf("spool record: %d does not fit 8 bits", v))
		return 0
	}
	return uint8(v)
}

func (d *decoder) fail(err error) {
	if d.err == nil {
		d.err = err
	}
}

func (d *decoder) take(n int) []byte {
	if d.err != nil {
		return nil
	}
	if n < 0 || n > len(d.b) {
		d.err = errShortRecord
		return nil
	}
	out := d.b[:n]
	d.b = d.b[n:]
	return out
}

func (d *decoder) float() float64 {
	b := d.take(8)
	if b == nil {
		return 0
	}
	return math.Float64frombits(binary.LittleEndian.Uint64(b))
}

func (d *decoder) bool() bool {
	b := d.take(1)
	return b != nil && b[0] == 1
}

func (d *decoder) str() string {
	if d.err != nil {
		return ""
	}
	n, k := binary.Uvarint(d.b)
	if k <= 0 || n > uint64(len(d.b)-k) { // #nosec G115 -- a length, never negative
		d.err = errShortRecord
		return ""
	}
	d.b = d.b[k:]
	return string(d.take(int(n))) // #nosec G115 -- n is at most len(d.b), checked above
}

func (d *decoder) time() time.Time {
	if !d.bool() {
		return time.Time{}
	}
	sec, nsec := d.int(), d.int()
	if nsec < 0 || nsec >= 1e9 {
		d.fail(errors.New("spool record: nanoseconds out of range"))
		return time.Time{}
	}
	return time.Unix(sec, nsec).UTC()
}

// count reads a count of following entries, bounded by the bytes left (each takes one at
// least) so that a damaged body cannot ask for a huge allocation.
func (d *decoder) count() int {
	n := d.int()
	if n < 0 || n > maxDecodedItems || n > int64(len(d.b)) {
		d.fail(errors.New("spool record: bad count"))
		return 0
	}
	return int(n)
}

func (d *decoder) strs() []string {
	n := d.count()
	if n == 0 {
		return nil
	}
	out := make([]string, n)
	for i := range out {
		out[i] = d.str()
	}
	return out
}

func (d *decoder) dims() map[int]string {
	n := d.count()
	if n == 0 {
		return nil
	}
	m := make(map[int]string, n)
	for range n {
		k := d.int()
		m[int(k)] = d.str()
	}
	return m
}

func (d *decoder) vars() map[string]string {
	n := d.count()
	if n == 0 {
		return nil
	}
	m := make(map[string]string, n)
	for range n {
		k := d.str()
		m[k] = d.str()
	}
	return m
}

func (d *decoder) visitorID(id *event.VisitorID) {
	if b := d.take(len(id)); b != nil {
		copy(id[:], b)
	}
}

func (d *decoder) visit(v *event.Visit) {
	v.SiteID = event.SiteID(d.int())
	v.ID = event.VisitID(d.int())
	d.visitorID(&v.VisitorID)
	v.UserID = d.str()
	v.First = d.time()
	v.Last = d.time()
	v.VisitCount = d.int32()
	v.Returning = d.bool()
	v.DaysSinceLast = d.int32()
	v.DaysSinceFirst = d.int32()
	v.DaysSinceOrder = d.int32()
	v.IP = d.str()
	v.Referrer.Type = event.ReferrerType(d.uint8())
	v.Referrer.Name = d.str()
	v.Referrer.Keyword = d.str()
	v.Referrer.URL = d.str()
	c := &v.Campaign
	for _, s := range []*string{&c.Name, &c.Keyword, &c.Source, &c.Medium, &c.Content, &c.ID, &c.Group, &c.Place} {
		*s = d.str()
	}
	dv := &v.Device
	for _, s := range []*string{&dv.Type, &dv.Brand, &dv.Model, &dv.OS, &dv.OSVersion, &dv.Browser, &dv.BrowserVersion, &dv.Engine, &dv.EngineVersion} {
		*s = d.str()
	}
	v.Location.Country = d.str()
	v.Location.Region = d.str()
	v.Location.City = d.str()
	v.Location.Lat = d.float()
	v.Location.Lon = d.float()
	v.Resolution = d.str()
	v.Language = d.str()
	v.LocalTime = d.int32()
	v.Plugins = d.str()
	v.EntryURL = d.str()
	v.EntryTitle = d.str()
	v.ExitURL = d.str()
	v.ExitTitle = d.str()
	v.ExitTime = d.time()
	for _, n := range []*int32{&v.Actions, &v.Pageviews, &v.Searches, &v.Events, &v.Downloads, &v.Outlinks, &v.Contents, &v.Interactions, &v.Conversions} {
		*n = d.int32()
	}
	v.Revenue = d.float()
	v.Ecommerce = event.EcommerceStatus(d.uint8())
	v.Dimensions = d.dims()
	v.CustomVars = d.vars()
	v.Consent = d.bool()
}

func (d *decoder) action(a *event.Action) {
	a.SiteID = event.SiteID(d.int())
	a.VisitID = event.VisitID(d.int())
	d.visitorID(&a.VisitorID)
	a.Time = d.time()
	a.Index = d.int32()
	a.Type = event.ActionType(d.uint8())
	a.URL = d.str()
	a.Title = d.str()
	a.PageViewID = d.str()
	a.FirstURLInVisit = d.bool()
	a.FirstTitleInVisit = d.bool()
	a.RefURL = d.str()
	a.RefTitle = d.str()
	a.RefTimeSpent = d.int32()
	a.SearchKeyword = d.str()
	a.SearchCategory = d.str()
	a.SearchCount = d.int32()
	a.EventCategory = d.str()
	a.EventAction = d.str()
	a.EventName = d.str()
	a.EventValue = d.float()
	a.HasEventValue = d.bool()
	a.ContentName = d.str()
	a.ContentPiece = d.str()
	a.ContentTarget = d.str()
	a.ContentInteraction = d.str()
	a.GoalID = d.int32()
	a.Revenue = d.float()
	a.OrderID = d.str()
	a.Subtotal = d.float()
	a.Tax = d.float()
	a.Shipping = d.float()
	a.Discount = d.float()
	if n := d.count(); n > 0 {
		a.Items = make([]event.Item, n)
		for i := range a.Items {
			it := &a.Items[i]
			it.SKU = d.str()
			it.Name = d.str()
			it.Categories = d.strs()
			it.Price = d.float()
			it.Quantity = d.int()
		}
	}
	a.ProductSKU = d.str()
	a.ProductName = d.str()
	a.ProductCategory = d.strs()
	a.ProductPrice = d.float()
	for _, n := range []*int32{&a.PerfNetwork, &a.PerfServer, &a.PerfTransfer, &a.PerfDOMProc, &a.PerfDOMDone, &a.PerfOnLoad} {
		*n = d.int32()
	}
	a.Dimensions = d.dims()
	a.CustomVars = d.vars()
	a.Extra = d.str()
}
