SELECT v.site_id, v.visit_id, v.visitor_id, v.user_id, v.first_ts, v.last_ts, v.visit_count, v.is_returning,
	v.days_since_last, v.days_since_first, v.days_since_order, v.ip, v.referrer_type, v.referrer_name, v.referrer_keyword,
	v.referrer_url, v.campaign_name, v.campaign_keyword, v.campaign_source, v.campaign_medium, v.campaign_content,
	v.campaign_id, v.campaign_group, v.campaign_placement, v.device_type, v.device_brand, v.device_model, v.os,
	v.os_version, v.browser, v.browser_version, v.engine, v.engine_version, v.country, v.region, v.city, v.lat, v.lon,
	v.resolution, v.language, v.local_time, v.plugins, eu.value, et.value, xu.value, xt.value, v.exit_ts, v.actions,
	v.pageviews, v.searches, v.events, v.downloads, v.outlinks, v.contents, v.interactions, v.conversions, v.revenue,
	v.ecommerce, v.dimensions, v.custom_vars, v.consent FROM visits v LEFT JOIN dict eu ON eu.id = v.entry_url_id LEFT JOIN dict et ON et.id = v.entry_title_id
	LEFT JOIN dict xu ON xu.id = v.exit_url_id LEFT JOIN dict xt ON xt.id = v.exit_title_id WHERE v.site_id IN (1) ORDER BY v.last_ts DESC, v.visit_id DESC LIMIT ? OFFSET ?;
-- $1 = int 100
-- $2 = int 0
