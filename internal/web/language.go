package web

import (
	"net/http"
)

// langCookie keeps a user's choice of language in the browser (the session is not needed to
// read it, so the sign-in page could follow it too).
const langCookie = "hearth_lang"

// chosenLanguage is the language chosen on the account page, "" when the browser decides.
func chosenLanguage(r *http.Request) string {
	if c, err := r.Cookie(langCookie); err == nil {
		for _, l := range languages {
			if c.Value == l.String() {
				return c.Value
			}
		}
	}
	return ""
}

// setLanguage serves POST /account/language: the dashboard's language, kept for a year, or
// the browser's again.
func (w *Web) setLanguage(rw http.ResponseWriter, r *http.Request) error {
	if _, err := w.signedIn(r); err != nil {
		return err
	}
	if err := readForm(rw, r); err != nil {
		return err
	}
	lang := r.PostForm.Get("lang")
	if lang == "" {
		w.setNamedCookie(rw, langCookie, "", -1)
		return &redirect{"/account"}
	}
	for _, l := range languages {
		if lang == l.String() {
			w.setNamedCookie(rw, langCookie, lang, 365*24*3600)
			return &redirect{"/account"}
		}
	}
	return pageErrorT(http.StatusBadRequest, "dash.err.language")
}
