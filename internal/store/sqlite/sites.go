package sqlite

import (
	"context"
	"fmt"

	"hearth/internal/event"
	"hearth/internal/store"
)

const siteColumns = `id, name, urls, timezone, currency, ecommerce, sitesearch, search_keyword_params,
	search_category_params, excluded_ips, excluded_params, excluded_user_agents, excluded_referrers,
	keep_url_fragment, exclude_unknown_urls, type, site_group, start_date, geo_precision, created, creator_login, keep_emails`

// CreateSite stores a new site and returns its id.
func (s *Store) CreateSite(ctx context.Context, st store.Site) (event.SiteID, error) {
	res, err := s.db.ExecContext(ctx, `INSERT INTO sites (name, urls, timezone, currency, ecommerce, sitesearch,
		search_keyword_params, search_category_params, excluded_ips, excluded_params, excluded_user_agents,
		excluded_referrers, keep_url_fragment, exclude_unknown_urls, type, site_group, start_date, geo_precision,
		created, creator_login, keep_emails) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`,
		st.Name, jsonList(st.URLs), st.Timezone, st.Currency, b2i(st.Ecommerce), b2i(st.SiteSearch),
		jsonList(st.SearchKeywordParams), jsonList(st.SearchCategoryParams), jsonList(st.ExcludedIPs),
		jsonList(st.ExcludedQueryParams), jsonList(st.ExcludedUserAgents), jsonList(st.ExcludedReferrers),
		b2i(st.KeepURLFragment), b2i(st.ExcludeUnknownURLs), st.Type, st.Group, st.StartDate, st.GeoPrecision,
		unix(st.Created), st.CreatorLogin, b2i(st.KeepEmails))
	if err != nil {
		return 0, fmt.Errorf("create site: %w", err)
	}
	id, err := res.LastInsertId()
	return event.SiteID(id), err
}

// UpdateSite replaces a site's settings.
func (s *Store) UpdateSite(ctx context.Context, st store.Site) error {
	res, err := s.db.ExecContext(ctx, `UPDATE sites SET name=?, urls=?, timezone=?, currency=?, ecommerce=?,
		sitesearch=?, search_keyword_params=?, search_category_params=?, excluded_ips=?, excluded_params=?,
		excluded_user_agents=?, excluded_referrers=?, keep_url_fragment=?, exclude_unknown_urls=?, type=?,
		site_group=?, start_date=?, geo_precision=?, keep_emails=? WHERE id=?`,
		st.Name, jsonList(st.URLs), st.Timezone, st.Currency, b2i(st.Ecommerce), b2i(st.SiteSearch),
		jsonList(st.SearchKeywordParams), jsonList(st.SearchCategoryParams), jsonList(st.ExcludedIPs),
		jsonList(st.ExcludedQueryParams), jsonList(st.ExcludedUserAgents), jsonList(st.ExcludedReferrers),
		b2i(st.KeepURLFragment), b2i(st.ExcludeUnknownURLs), st.Type, st.Group, st.StartDate, st.GeoPrecision, b2i(st.KeepEmails), st.ID)
	if err != nil {
		return fmt.Errorf("update site %d: %w", st.ID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("update site %d: %w", st.ID, store.ErrNotFound)
	}
	return nil
}

func scanSite(r scanner) (store.Site, error) {
	var st store.Site
	var urls, kw, cat, ips, params, uas, refs string
	var ecom, search, keep, unknown, emails int
	var created int64
	err := r.Scan(&st.ID, &st.Name, &urls, &st.Timezone, &st.Currency, &ecom, &search, &kw, &cat, &ips, &params,
		&uas, &refs, &keep, &unknown, &st.Type, &st.Group, &st.StartDate, &st.GeoPrecision, &created, &st.CreatorLogin, &emails)
	if err != nil {
		return st, err
	}
	st.URLs, st.SearchKeywordParams, st.SearchCategoryParams = parseList(urls), parseList(kw), parseList(cat)
	st.ExcludedIPs, st.ExcludedQueryParams = parseList(ips), parseList(params)
	st.ExcludedUserAgents, st.ExcludedReferrers = parseList(uas), parseList(refs)
	st.Ecommerce, st.SiteSearch, st.KeepURLFragment, st.ExcludeUnknownURLs = ecom == 1, search == 1, keep == 1, unknown == 1
	st.KeepEmails = emails == 1
	st.Created = fromUnix(created)
	return st, nil
}

// Site returns one site.
func (s *Store) Site(ctx context.Context, id event.SiteID) (store.Site, error) {
	return queryRow(ctx, s.db, fmt.Sprintf("site %d", id), scanSite, `SELECT `+siteColumns+` FROM sites WHERE id = ?`, id)
}

// Sites returns every site ordered by id.
func (s *Store) Sites(ctx context.Context) ([]store.Site, error) {
	return query(ctx, s.db, "list sites", scanSite, `SELECT `+siteColumns+` FROM sites ORDER BY id`)
}
