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
		&h.EventCategory, &h.EventAction, &h.EventName, &h.ContentName, &h.ContentPiece, &h.ContentInteraction,
		&h.ProductName, &h.ProductSKU} {
		*s = privacy.RedactEmails(*s)
	}
	for i := range h.ProductCategory {
		h.ProductCategory[i] = privacy.RedactEmails(h.ProductCategory[i])
	}
	for i := range h.Items {
		it := &h.Items[i]
		it.SKU, it.Name = privacy.RedactEmails(it.SKU), privacy.RedactEmails(it.Name)
		for j := range it.Categories {
			it.Categories[j] = privacy.RedactEmails(it.Categories[j])
		}
	}
	// Media, crash and A/B test values, stored as given: media resource URLs and titles, crash
	// messages, URLs and stacks often carry a page's address with its query.
	for k, v := range h.Extra {
		h.Extra[k] = privacy.RedactEmails(v)
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
