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
	c := coder{encode: true, b: append(b, recordBinary, flags)}
	c.parts(rec)
	return c.b
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
	flags := body[1]
	if flags&hasVisit != 0 {
		rec.Visit = new(event.Visit)
	}
	if flags&hasAction != 0 {
		rec.Action = new(event.Action)
	}
	if flags&hasBot != 0 {
		rec.Bot = new(event.BotHit)
	}
	c := coder{b: body[2:]}
	c.parts(&rec)
	if c.err == nil && len(c.b) > 0 {
		c.err = fmt.Errorf("spool record has %d bytes past its end", len(c.b))
	}
	return rec, c.err
}

// coder writes (encode) or reads the fields it is given, so that one list of fields per type
// serves both directions and they cannot disagree on the order. Reading, the first error
// sticks and every later read leaves its field zero.
type coder struct {
	encode bool
	b      []byte
	err    error
}

func (c *coder) parts(rec *record) {
	if v := rec.Visit; v != nil {
		c.visit(v)
	}
	if a := rec.Action; a != nil {
		c.action(a)
	}
	if h := rec.Bot; h != nil {
		num(c, &h.SiteID)
		c.time(&h.Time)
		c.str(&h.Name)
	}
}

func (c *coder) fail(err error) {
	if c.err == nil {
		c.err = err
	}
}

func (c *coder) take(n int) []byte {
	if c.err != nil {
		return nil
	}
	if n < 0 || n > len(c.b) {
		c.err = errShortRecord
		return nil
	}
	out := c.b[:n]
	c.b = c.b[n:]
	return out
}

func (c *coder) varint() int64 {
	if c.err != nil {
		return 0
	}
	v, n := binary.Varint(c.b)
	if n <= 0 {
		c.err = errShortRecord
		return 0
	}
	c.b = c.b[n:]
	return v
}

// num codes an integer of any width as a varint; a value read that does not fit the field
// is an error.
func num[T ~int | ~int32 | ~int64 | ~uint8](c *coder, p *T) {
	if c.encode {
		c.b = binary.AppendVarint(c.b, int64(*p))
		return
	}
	v := c.varint()
	if int64(T(v)) != v {
		c.fail(fmt.Errorf("spool record: %d does not fit its field", v))
		return
	}
	*p = T(v)
}

func (c *coder) float(p *float64) {
	if c.encode {
		c.b = binary.LittleEndian.AppendUint64(c.b, math.Float64bits(*p))
		return
	}
	if b := c.take(8); b != nil {
		*p = math.Float64frombits(binary.LittleEndian.Uint64(b))
	}
}

func (c *coder) bool(p *bool) {
	if c.encode {
		if *p {
			c.b = append(c.b, 1)
		} else {
			c.b = append(c.b, 0)
		}
		return
	}
	b := c.take(1)
	*p = b != nil && b[0] == 1
}

func (c *coder) str(p *string) {
	if c.encode {
		c.b = binary.AppendUvarint(c.b, uint64(len(*p)))
		c.b = append(c.b, *p...)
		return
	}
	if c.err != nil {
		return
	}
	n, k := binary.Uvarint(c.b)
	if k <= 0 || n > uint64(len(c.b)-k) { // #nosec G115 -- a length, never negative
		c.err = errShortRecord
		return
	}
	c.b = c.b[k:]
	*p = string(c.take(int(n))) // #nosec G115 -- n is at most len(c.b), checked above
}

func (c *coder) strs(p ...*string) {
	for _, s := range p {
		c.str(s)
	}
}

func (c *coder) visitorID(p *event.VisitorID) {
	if c.encode {
		c.b = append(c.b, p[:]...)
		return
	}
	if b := c.take(len(p)); b != nil {
		copy(p[:], b)
	}
}

// time codes 0 for the zero time, else 1, seconds and nanoseconds since 1970; times read
// are in UTC.
func (c *coder) time(p *time.Time) {
	set := !p.IsZero()
	c.bool(&set)
	if !set {
		return
	}
	sec, nsec := p.Unix(), int64(p.Nanosecond())
	num(c, &sec)
	num(c, &nsec)
	if c.encode || c.err != nil {
		return
	}
	if nsec < 0 || nsec >= 1e9 {
		c.fail(errors.New("spool record: nanoseconds out of range"))
		return
	}
	*p = time.Unix(sec, nsec).UTC()
}

// count codes how many entries follow. Read, it is bounded by the bytes left (each entry
// takes one at least) so that a damaged body cannot ask for a huge allocation.
func (c *coder) count(n int) int {
	num(c, &n)
	if !c.encode && (n < 0 || n > maxDecodedItems || n > len(c.b)) {
		c.fail(errors.New("spool record: bad count"))
		return 0
	}
	return n
}

func (c *coder) list(p *[]string) {
	n := c.count(len(*p))
	if !c.encode && n > 0 {
		*p = make([]string, n)
	}
	for i := range n {
		c.str(&(*p)[i])
	}
}

func (c *coder) dims(p *map[int]string) {
	n := c.count(len(*p))
	if c.encode {
		for k, v := range *p {
			num(c, &k)
			c.str(&v)
		}
		return
	}
	if n > 0 {
		*p = make(map[int]string, n)
	}
	for range n {
		var k int
		var v string
		num(c, &k)
		c.str(&v)
		(*p)[k] = v
	}
}

func (c *coder) vars(p *map[string]string) {
	n := c.count(len(*p))
	if c.encode {
		for k, v := range *p {
			c.str(&k)
			c.str(&v)
		}
		return
	}
	if n > 0 {
		*p = make(map[string]string, n)
	}
	for range n {
		var k, v string
		c.str(&k)
		c.str(&v)
		(*p)[k] = v
	}
}

func (c *coder) visit(v *event.Visit) {
	num(c, &v.SiteID)
	num(c, &v.ID)
	c.visitorID(&v.VisitorID)
	c.str(&v.UserID)
	c.time(&v.First)
	c.time(&v.Last)
	num(c, &v.VisitCount)
	c.bool(&v.Returning)
	num(c, &v.DaysSinceLast)
	num(c, &v.DaysSinceFirst)
	num(c, &v.DaysSinceOrder)
	c.str(&v.IP)
	num(c, &v.Referrer.Type)
	c.strs(&v.Referrer.Name, &v.Referrer.Keyword, &v.Referrer.URL)
	cp := &v.Campaign
	c.strs(&cp.Name, &cp.Keyword, &cp.Source, &cp.Medium, &cp.Content, &cp.ID, &cp.Group, &cp.Place)
	d := &v.Device
	c.strs(&d.Type, &d.Brand, &d.Model, &d.OS, &d.OSVersion, &d.Browser, &d.BrowserVersion, &d.Engine, &d.EngineVersion)
	c.strs(&v.Location.Country, &v.Location.Region, &v.Location.City)
	c.float(&v.Location.Lat)
	c.float(&v.Location.Lon)
	c.strs(&v.Resolution, &v.Language)
	num(c, &v.LocalTime)
	c.strs(&v.Plugins, &v.EntryURL, &v.EntryTitle, &v.ExitURL, &v.ExitTitle)
	c.time(&v.ExitTime)
	for _, n := range []*int32{&v.Actions, &v.Pageviews, &v.Searches, &v.Events, &v.Downloads, &v.Outlinks, &v.Contents, &v.Interactions, &v.Conversions} {
		num(c, n)
	}
	c.float(&v.Revenue)
	num(c, &v.Ecommerce)
	c.dims(&v.Dimensions)
	c.vars(&v.CustomVars)
	c.bool(&v.Consent)
}

func (c *coder) action(a *event.Action) {
	num(c, &a.SiteID)
	num(c, &a.VisitID)
	c.visitorID(&a.VisitorID)
	c.time(&a.Time)
	num(c, &a.Index)
	num(c, &a.Type)
	c.strs(&a.URL, &a.Title, &a.PageViewID)
	c.bool(&a.FirstURLInVisit)
	c.bool(&a.FirstTitleInVisit)
	c.strs(&a.RefURL, &a.RefTitle)
	num(c, &a.RefTimeSpent)
	c.strs(&a.SearchKeyword, &a.SearchCategory)
	num(c, &a.SearchCount)
	c.strs(&a.EventCategory, &a.EventAction, &a.EventName)
	c.float(&a.EventValue)
	c.bool(&a.HasEventValue)
	c.strs(&a.ContentName, &a.ContentPiece, &a.ContentTarget, &a.ContentInteraction)
	num(c, &a.GoalID)
	c.float(&a.Revenue)
	c.str(&a.OrderID)
	for _, f := range []*float64{&a.Subtotal, &a.Tax, &a.Shipping, &a.Discount} {
		c.float(f)
	}
	n := c.count(len(a.Items))
	if !c.encode && n > 0 {
		a.Items = make([]event.Item, n)
	}
	for i := range n {
		it := &a.Items[i]
		c.strs(&it.SKU, &it.Name)
		c.list(&it.Categories)
		c.float(&it.Price)
		num(c, &it.Quantity)
	}
	c.strs(&a.ProductSKU, &a.ProductName)
	c.list(&a.ProductCategory)
	c.float(&a.ProductPrice)
	for _, n := range []*int32{&a.PerfNetwork, &a.PerfServer, &a.PerfTransfer, &a.PerfDOMProc, &a.PerfDOMDone, &a.PerfOnLoad} {
		num(c, n)
	}
	c.dims(&a.Dimensions)
	c.vars(&a.CustomVars)
	c.str(&a.Extra)
}
