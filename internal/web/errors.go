package web

import (
	"bytes"
	"errors"
	"net/http"

	"hearth/internal/requestid"
)

// handler is a page: it writes its answer, or returns an error that one renderer turns into
// the answer (serve), as the native API's handlers do.
type handler func(rw http.ResponseWriter, r *http.Request) error

// PageError is an error whose message is safe to show on the error page with its status.
type PageError struct {
	Status  int
	Message string
	// Key, when set, names the message in the catalogue instead: the page shows it in the
	// request's language, Args filling its verbs.
	Key  string
	Args []any
	// Allow lists the methods a 405 answer names.
	Allow string
}

func (e *PageError) Error() string {
	if e.Message == "" {
		return e.Key
	}
	return e.Message
}

// text is the error's message in a request's language.
func (e *PageError) text(l *locale) string {
	if e.Key != "" {
		return l.Text(e.Key, e.Args...)
	}
	return e.Message
}

// pageError is a client's mistake or a refusal, shown as it is.
func pageError(status int, message string) error { return &PageError{Status: status, Message: message} }

// pageErrorT is a client's mistake or a refusal whose message is the catalogue's key, shown in
// the request's language.
func pageErrorT(status int, key string, args ...any) error {
	return &PageError{Status: status, Key: key, Args: args}
}

// methodNotAllowed refuses a method, naming the ones the page takes.
func methodNotAllowed(allow string) error {
	return &PageError{Status: http.StatusMethodNotAllowed, Key: "errorpage.method", Allow: allow}
}

// redirect sends the browser elsewhere (to sign in, or to set up two-factor authentication)
// instead of showing the page.
type redirect struct{ to string }

func (e *redirect) Error() string { return "redirect to " + e.to }

type errorPage struct {
	shell
	Status    int
	Message   string
	RequestID string
}

// serve runs a page and renders its error: a PageError with its status and message, a redirect
// as a 303, anything else as a 500 whose details go only to the log, under the request ID the
// page shows so a user's report finds the log line.
func (w *Web) serve(h handler) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		rw.Header().Set("Cache-Control", "no-store")
		err := h(rw, r)
		if err == nil {
			return
		}
		var rd *redirect
		if errors.As(err, &rd) {
			http.Redirect(rw, r, rd.to, http.StatusSeeOther)
			return
		}
		l := w.msgs.locale(r)
		page := &errorPage{Status: http.StatusInternalServerError, Message: l.Text("errorpage.internal"), RequestID: requestid.From(r.Context())}
		var pe *PageError
		if errors.As(err, &pe) {
			page.Status, page.Message = pe.Status, pe.text(l)
			if pe.Allow != "" {
				rw.Header().Set("Allow", pe.Allow)
			}
		} else {
			w.log.Error("page failed", "path", r.URL.Path, "request_id", page.RequestID, "err", err)
		}
		if err := w.renderShell(rw, r, page.Status, "error.html", page); err != nil {
			w.log.Error("render error page", "request_id", page.RequestID, "err", err)
			http.Error(rw, page.Message, page.Status)
		}
	})
}

// renderPage executes a template into a buffer first, so a template error becomes an error
// answer instead of half a page.
func (w *Web) renderPage(rw http.ResponseWriter, status int, name string, data any) error {
	var buf bytes.Buffer
	if err := w.tmpl.ExecuteTemplate(&buf, name, data); err != nil {
		return err
	}
	rw.Header().Set("Content-Type", "text/html; charset=utf-8")
	rw.WriteHeader(status)
	_, _ = buf.WriteTo(rw)
	return nil
}

// readForm limits and parses a POST form.
func readForm(rw http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(rw, r.Body, 16<<10)
	if err := r.ParseForm(); err != nil {
		return pageErrorT(http.StatusBadRequest, "errorpage.form")
	}
	return nil
}

// formAction reads the request of a page that shows itself on a GET and acts on a POST: ""
// for a GET, the form's action for a POST (a POST without one is refused), and a refusal for
// any other method.
func formAction(rw http.ResponseWriter, r *http.Request) (string, error) {
	switch r.Method {
	case http.MethodGet:
		return "", nil
	case http.MethodPost:
		if err := readForm(rw, r); err != nil {
			return "", err
		}
		if a := r.PostForm.Get("action"); a != "" {
			return a, nil
		}
		return "", pageErrorT(http.StatusBadRequest, "errorpage.unknown_action")
	default:
		return "", methodNotAllowed("GET, POST")
	}
}
