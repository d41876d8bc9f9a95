package report

import (
	"hearth/internal/event"
	"hearth/internal/store"
)

// EventMetrics are the metrics of a row of an event or content report.
type EventMetrics struct {
	Hits, Visits, UniqueVisitors int64
	WithValue                    int64
	Sum, Min, Max                float64
	Interactions                 int64
}

// EventReport is a report of events or of content pieces, with a secondary dimension as
// subtable.
type EventReport struct {
	Module, Action, Name, Category, Dimension string
	Type                                      event.ActionType
	Primary                                   store.Field
	// Secondary is the default subtable dimension; Secondaries the ones secondaryDimension may name.
	Secondary   string
	Secondaries map[string]store.Field
}

// Method is the report's API method name.
func (d *EventReport) Method() string { return d.Module + "." + d.Action }

var eventDimensions = map[string]store.Field{"eventCategory": store.FieldEventCategory, "eventAction": store.FieldEventAction,
	"eventName": store.FieldEventName}

var contentDimensions = map[string]store.Field{"contentName": store.FieldContentName, "contentPiece": store.FieldContentPiece}

var fieldSegments = map[store.Field]string{store.FieldEventCategory: "eventCategory", store.FieldEventAction: "eventAction",
	store.FieldEventName: "eventName", store.FieldContentName: "contentName", store.FieldContentPiece: "contentPiece"}

// EventReports are the Events and Contents reports.
var EventReports = []*EventReport{
	{Module: "Events", Action: "getCategory", Name: "Event Categories", Category: "Events", Dimension: "Event Category",
		Type: event.ActionEvent, Primary: store.FieldEventCategory, Secondary: "eventAction", Secondaries: eventDimensions},
	{Module: "Events", Action: "getAction", Name: "Event Actions", Category: "Events", Dimension: "Event Action",
		Type: event.ActionEvent, Primary: store.FieldEventAction, Secondary: "eventName", Secondaries: eventDimensions},
	{Module: "Events", Action: "getName", Name: "Event Names", Category: "Events", Dimension: "Event Name",
		Type: event.ActionEvent, Primary: store.FieldEventName, Secondary: "eventAction", Secondaries: eventDimensions},
	{Module: "Contents", Action: "getContentNames", Name: "Content Name", Category: "Contents", Dimension: "Content Name",
		Type: event.ActionContent, Primary: store.FieldContentName, Secondary: "contentPiece", Secondaries: contentDimensions},
	{Module: "Contents", Action: "getContentPieces", Name: "Content Piece", Category: "Contents", Dimension: "Content Piece",
		Type: event.ActionContent, Primary: store.FieldContentPiece, Secondary: "contentName", Secondaries: contentDimensions},
}

// Query is the store query of the report with a secondary dimension ("" for the default);
// false when the secondary dimension is not one of the report's or is its primary one.
func (d *EventReport) Query(base store.ReportQuery, secondary string) (store.EventQuery, bool) {
	if secondary == "" {
		secondary = d.Secondary
	}
	f, ok := d.Secondaries[secondary]
	if !ok || f == d.Primary {
		return store.EventQuery{}, false
	}
	return store.EventQuery{ReportQuery: base, Type: d.Type, By: [2]store.Field{d.Primary, f}}, true
}

// Tables builds the report's table of each of n ranges.
func (d *EventReport) Tables(q store.EventQuery, groups []store.EventRow, n int) []*Table {
	tables := make([]*Table, n)
	parents := make([]map[string]*Row, n)
	for i := range tables {
		tables[i], parents[i] = &Table{Metrics: metricsOf(d.Type)}, map[string]*Row{}
	}
	row := func(g store.EventRow, key string, f store.Field) *Row {
		m := EventMetrics{Hits: g.Hits, Visits: g.Visits, UniqueVisitors: g.UniqueVisitors, WithValue: g.WithValue,
			Sum: g.Sum, Min: g.Min, Max: g.Max, Interactions: g.Interactions}
		label := key
		if label == "" {
			label = "Not defined"
		}
		return &Row{Key: key, Label: label, Event: &m, Segment: fieldSegments[f] + "==" + segmentValue(key)}
	}
	for _, g := range groups {
		if g.Range >= 0 && g.Range < n && len(g.Keys) == 1 {
			r := row(g, g.Keys[0], q.By[0])
			parents[g.Range][g.Keys[0]] = r
			tables[g.Range].Rows = append(tables[g.Range].Rows, r)
		}
	}
	for _, g := range groups {
		if g.Range < 0 || g.Range >= n || len(g.Keys) != 2 {
			continue
		}
		p := parents[g.Range][g.Keys[0]]
		if p == nil {
			continue
		}
		if p.Sub == nil {
			p.Sub, p.SubID = &Table{Metrics: metricsOf(d.Type)}, SubID(p.Key)
		}
		r := row(g, g.Keys[1], q.By[1])
		r.Segment = p.Segment + ";" + r.Segment
		p.Sub.Rows = append(p.Sub.Rows, r)
	}
	for _, t := range tables {
		sortByHits(t.Rows)
		for _, r := range t.Rows {
			if r.Sub != nil {
				sortByHits(r.Sub.Rows)
			}
		}
	}
	return tables
}

func metricsOf(t event.ActionType) string {
	if t == event.ActionContent {
		return "contents"
	}
	return "events"
}

func sortByHits(rows []*Row) {
	for i := 1; i < len(rows); i++ {
		for j := i; j > 0 && less(rows[j], rows[j-1]); j-- {
			rows[j], rows[j-1] = rows[j-1], rows[j]
		}
	}
}

func less(a, b *Row) bool {
	if a.Event.Hits != b.Event.Hits {
		return a.Event.Hits > b.Event.Hits
	}
	return a.Label < b.Label
}

// FindEventReport returns the event or content report of an API method.
func FindEventReport(method string) *EventReport {
	for _, d := range EventReports {
		if d.Method() == method {
			return d
		}
	}
	return nil
}
