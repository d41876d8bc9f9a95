WITH sv AS MATERIALIZED (SELECT v.visit_id FROM visits v WHERE v.site_id = ? AND v.last_ts >= ? AND v.first_ts < ? AND (v.country = ?) AND (v.actions >= ?) AND (lower(CAST(v.browser AS VARCHAR)) = lower(?) OR EXISTS (SELECT 1 FROM actions a WHERE a.site_id = v.site_id AND a.visit_id = v.visit_id AND a.type = 1 AND a.url_id IN (SELECT d.id FROM dict d WHERE contains(lower(CAST(d.value AS VARCHAR)), lower(?)))))), va AS NOT MATERIALIZED (SELECT (CASE WHEN a.ts < TIMESTAMP '2026-03-03 00:00:00' THEN 0 WHEN a.ts < TIMESTAMP '2026-03-04 00:00:00' THEN 1 WHEN a.ts < TIMESTAMP '2026-03-05 00:00:00' THEN 2 END) AS i, a.visit_id, a.visitor_id, a.type, a.search_count, a.first_url AS first, a.url_id AS k, a.ref_url_id AS rk, a.ref_time_spent FROM actions a WHERE (a.ts >= TIMESTAMP '2026-03-02 00:00:00' AND a.ts < TIMESTAMP '2026-03-05 00:00:00') AND a.site_id = ? AND a.type IN (1) AND a.visit_id IN (SELECT visit_id FROM sv)),
		hs AS (SELECT i, k, rk, GROUPING(k) AS gk, count(*) AS h, count(*) FILTER (WHERE first) AS vis, -1 AS uv, sum(ref_time_spent)::BIGINT AS t
			FROM va GROUP BY GROUPING SETS ((i, k), (i, rk))),
		hits AS (SELECT i, k, h, vis, uv FROM hs WHERE gk = 0),
		spent AS (SELECT i, rk AS k, t FROM hs WHERE gk = 1 AND rk <> 0),
		exits AS (SELECT (CASE WHEN v.last_ts < TIMESTAMP '2026-03-03 00:00:00' THEN 0 WHEN v.last_ts < TIMESTAMP '2026-03-04 00:00:00' THEN 1 WHEN v.last_ts < TIMESTAMP '2026-03-05 00:00:00' THEN 2 END) AS i, v.exit_url_id AS k, count(*) AS n, sum(date_diff('second', coalesce(v.exit_ts, v.last_ts), v.last_ts))::BIGINT AS t
			FROM visits v WHERE (v.last_ts >= TIMESTAMP '2026-03-02 00:00:00' AND v.last_ts < TIMESTAMP '2026-03-05 00:00:00') AND v.site_id = ? AND (v.country = ?) AND (v.actions >= ?) AND (lower(CAST(v.browser AS VARCHAR)) = lower(?) OR EXISTS (SELECT 1 FROM actions a WHERE a.site_id = v.site_id AND a.visit_id = v.visit_id AND a.type = 1 AND a.url_id IN (SELECT d.id FROM dict d WHERE contains(lower(CAST(d.value AS VARCHAR)), lower(?))))) GROUP BY i, v.exit_url_id)
		SELECT hits.i, coalesce(d.value, ''), h, vis, uv, coalesce(spent.t, 0) + coalesce(exits.t, 0), coalesce(exits.n, 0), 0, 0, 0, 0
		FROM hits LEFT JOIN spent USING (i, k) LEFT JOIN exits USING (i, k) LEFT JOIN dict d ON d.id = hits.k;
-- $1 = int64 1
-- $2 = TIMESTAMP 2026-03-02T00:00:00Z
-- $3 = TIMESTAMP 2026-03-05T00:00:00Z
-- $4 = "de"
-- $5 = int64 1
-- $6 = "Firefox"
-- $7 = "/shop"
-- $8 = int64 1
-- $9 = int64 1
-- $10 = "de"
-- $11 = int64 1
-- $12 = "Firefox"
-- $13 = "/shop"
