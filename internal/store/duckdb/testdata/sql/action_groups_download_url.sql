WITH va AS NOT MATERIALIZED (SELECT 0 AS i, a.visit_id, a.visitor_id, a.type, a.search_count, a.first_url AS first, a.url_id AS k, a.ref_url_id AS rk, a.ref_time_spent FROM actions a WHERE (a.ts >= TIMESTAMP '2026-03-02 00:00:00' AND a.ts < TIMESTAMP '2026-03-03 00:00:00') AND a.site_id = ? AND a.type IN (2,1)),
		hits AS (SELECT 0 AS i, k, count(*) AS h, count(DISTINCT visit_id) AS vis, count(DISTINCT visitor_id) AS uv
			FROM va WHERE type IN (2) GROUP BY k),
		spent AS (SELECT 0 AS i, rk AS k, sum(ref_time_spent)::BIGINT AS t FROM va WHERE rk <> 0 AND type = 1 GROUP BY rk),
		exits AS (SELECT 0 AS i, v.exit_url_id AS k, count(*) AS n, sum(date_diff('second', coalesce(v.exit_ts, v.last_ts), v.last_ts))::BIGINT AS t
			FROM visits v WHERE (v.last_ts >= TIMESTAMP '2026-03-02 00:00:00' AND v.last_ts < TIMESTAMP '2026-03-03 00:00:00') AND v.site_id = ? AND TRUE GROUP BY v.exit_url_id)
		SELECT hits.i, coalesce(d.value, ''), h, vis, uv, coalesce(spent.t, 0) + coalesce(exits.t, 0), coalesce(exits.n, 0), 0, 0, 0, 0
		FROM hits LEFT JOIN spent USING (i, k) LEFT JOIN exits USING (i, k) LEFT JOIN dict d ON d.id = hits.k;
-- $1 = int64 1
-- $2 = int64 1
