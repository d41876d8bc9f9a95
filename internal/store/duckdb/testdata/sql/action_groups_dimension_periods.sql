WITH va AS NOT MATERIALIZED (SELECT (CASE WHEN a.ts < TIMESTAMP '2026-03-03 00:00:00' THEN 0 WHEN a.ts < TIMESTAMP '2026-03-04 00:00:00' THEN 1 WHEN a.ts < TIMESTAMP '2026-03-05 00:00:00' THEN 2 END) AS i, a.visit_id, a.visitor_id, a.type, a.search_count, a.first_url AS first, coalesce(json_extract_string(a.dimensions, '$."3"'), '') AS k FROM actions a WHERE (a.ts >= TIMESTAMP '2026-03-02 00:00:00' AND a.ts < TIMESTAMP '2026-03-05 00:00:00') AND a.site_id = ? AND a.type IN (1)),
		hits AS (SELECT i, k, count(*) AS h, count(DISTINCT visit_id) AS vis, count(DISTINCT visitor_id) AS uv
			FROM va WHERE type IN (1) GROUP BY i, k) SELECT i, k, h, vis, uv, 0, 0, 0, 0, 0, 0 FROM hits;
-- $1 = int64 1
