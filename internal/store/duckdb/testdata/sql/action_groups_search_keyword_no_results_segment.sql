WITH sv AS MATERIALIZED (SELECT v.visit_id FROM visits v WHERE v.site_id = ? AND v.last_ts >= ? AND v.first_ts < ? AND (v.country = ?) AND (v.actions >= ?) AND (lower(CAST(v.browser AS VARCHAR)) = lower(?) OR EXISTS (SELECT 1 FROM actions a WHERE a.site_id = v.site_id AND a.visit_id = v.visit_id AND a.type = 1 AND a.url_id IN (SELECT d.id FROM dict d WHERE contains(lower(CAST(d.value AS VARCHAR)), lower(?)))))), va AS NOT MATERIALIZED (SELECT 0 AS i, a.visit_id, a.visitor_id, a.type, a.search_count, a.first_url AS first, coalesce(a.search_keyword, '') AS k FROM actions a WHERE (a.ts >= TIMESTAMP '2026-03-02 00:00:00' AND a.ts < TIMESTAMP '2026-03-03 00:00:00') AND a.site_id = ? AND a.type IN (4) AND a.visit_id IN (SELECT visit_id FROM sv)),
		hits AS (SELECT 0 AS i, k, count(*) AS h, count(DISTINCT visit_id) AS vis, count(DISTINCT visitor_id) AS uv
			FROM va WHERE type IN (4) AND search_count = 0 GROUP BY k) SELECT i, k, h, vis, uv, 0, 0, 0, 0, 0, 0 FROM hits;
-- $1 = int64 1
-- $2 = TIMESTAMP 2026-03-02T00:00:00Z
-- $3 = TIMESTAMP 2026-03-03T00:00:00Z
-- $4 = "de"
-- $5 = int64 1
-- $6 = "Firefox"
-- $7 = "/shop"
-- $8 = int64 1
