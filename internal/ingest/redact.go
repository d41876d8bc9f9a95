package ingest

import (
	"hearth/internal/collect"
	"hearth/internal/privacy"
)

// redactEmails replaces the e-mail addresses in a hit's text before anything derived from it
// (campaigns, site-search and search-engine keywords, titles, the spool) sees it, and removes
// user information from its URLs. It runs for every site that does not keep addresses.
func redactEmails(h *collect.Hit) {
	for _, u := range []*string{&h.URL, &h.Referrer, &h.Link, &h.Download, &h.AttributionReferrer, &h.ContentTarget} {
		*u = privacy.RedactURL(*u)
	}
	for _, s := range []*string{&h.Title, &h.Search, &h.SearchCategory, &h.AttributionCampaign, &h.AttributionKeyword,
		&h.EventCategory, &h.EventAction, &h.EventName, &h.ContentName, &h.ContentPiece} {
		*s = privacy.RedactEmails(*s)
	}
	for k, v := range h.Dimensions {
		h.Dimensions[k] = privacy.RedactEmails(v)
	}
	for _, m := range []map[string]string{h.VisitVars, h.PageVars} {
		for k, v := range m {
			m[k] = privacy.RedactEmails(v)
		}
	}
}
