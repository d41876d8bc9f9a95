package web

import (
	"bytes"
	"mime"
	"net/http"
	"regexp"
	"strings"
)

// exportFormats are the formats a report exports to, by the file name's extension.
var exportFormats = map[string]bool{"csv": true, "tsv": true, "json": true}

// reportExport serves /site/{idSite}/report/{method}/export?format=csv|tsv|json: the
// Reporting API's own answer for the report's state (every row under the sort, search and
// flattening shown), answered by the API as the signed-in user and sent as a file.
func (w *Web) reportExport(rw http.ResponseWriter, r *http.Request) error {
	p, site, s, err := w.sitePage(r)
	if err != nil {
		return err
	}
	ri, err := w.findReport(r, p, site)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	format := strings.ToLower(strings.TrimSpace(q.Get("format")))
	if !exportFormats[format] {
		return pageErrorT(http.StatusBadRequest, "rep.err.format")
	}
	params := s.params(ri.Method())
	if !ri.Record() {
		t, err := readTable(q, ri)
		if err != nil {
			return err
		}
		params = t.api(s, ri.Method())
		params.Set("filter_limit", "-1")
	}
	params.Set("format", format)
	name := exportName(params.Get("method"), params.Get("idSite"), params.Get("period"), params.Get("date"), format)
	out := &exportWriter{rw: rw, header: http.Header{}, disposition: mime.FormatMediaType("attachment", map[string]string{"filename": name})}
	w.reports.ServeAs(out, apiRequest(r, params, false), p)
	if out.status == http.StatusOK {
		return nil
	}
	// The refusal is written in the export's format: asked again as JSON, it says why.
	if _, err := w.call(r, p, params); err != nil {
		return err
	}
	return apiFailure(out.status, out.body.Bytes())
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9.-]+`)

// exportName is an export's file name: the report, site, period and date.
func exportName(method, site, period, date, ext string) string {
	return unsafeName.ReplaceAllString(method+"_"+site+"_"+period+"_"+date, "_") + "." + ext
}

// exportWriter passes the API's successful answer through as an attachment, and holds any
// other so the page renders it as an error page (never a file holding an error).
type exportWriter struct {
	rw          http.ResponseWriter
	header      http.Header
	disposition string
	status      int
	body        bytes.Buffer
}

func (e *exportWriter) Header() http.Header { return e.header }

func (e *exportWriter) WriteHeader(status int) {
	if e.status != 0 {
		return
	}
	e.status = status
	if status != http.StatusOK {
		return
	}
	h := e.rw.Header()
	for k, v := range e.header {
		h[k] = v
	}
	h.Set("Content-Disposition", e.disposition)
	e.rw.WriteHeader(status)
}

func (e *exportWriter) Write(b []byte) (int, error) {
	if e.status == 0 {
		e.WriteHeader(http.StatusOK)
	}
	if e.status != http.StatusOK {
		return e.body.Write(b)
	}
	return e.rw.Write(b)
}
