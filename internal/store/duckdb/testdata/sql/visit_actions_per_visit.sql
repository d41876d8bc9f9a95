SELECT a.site_id, a.visit_id, a.visitor_id, a.ts, a.idx, a.type, u.value, t.value, a.pv_id,
		a.first_url, a.first_title, ru.value, rt.value, a.ref_time_spent, a.search_keyword, a.search_category, a.search_count,
		a.event_category, a.event_action, a.event_name, a.event_value, a.content_name, a.content_piece, a.content_target,
		a.content_interaction, a.goal_id, a.revenue, a.order_id, a.subtotal, a.tax, a.shipping, a.discount,
		a.product_sku, a.product_name, a.product_category, a.product_price,
		a.pf_net, a.pf_srv, a.pf_tfr, a.pf_dm1, a.pf_dm2, a.pf_onl, a.dimensions, a.custom_vars, a.extra
		FROM actions a LEFT JOIN dict u ON u.id = a.url_id LEFT JOIN dict t ON t.id = a.title_id
		LEFT JOIN dict ru ON ru.id = a.ref_url_id LEFT JOIN dict rt ON rt.id = a.ref_title_id
		WHERE a.visit_id IN (1,2) AND a.ts >= ? QUALIFY row_number() OVER (PARTITION BY a.visit_id ORDER BY a.idx, a.ts) <= ? ORDER BY a.visit_id, a.idx, a.ts;
-- $1 = TIMESTAMP 2026-03-02T00:00:00Z
-- $2 = int 500
