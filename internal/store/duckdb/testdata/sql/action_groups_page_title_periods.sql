WITH va AS NOT MATERIALIZED (SELECT (CASE WHEN a.ts < TIMESTAMP '2026-03-03 00:00:00' THEN 0 WHEN a.ts < TIMESTAMP '2026-03-04 00:00:00' THEN 1 WHEN a.ts < TIMESTAMP '2026-03-05 00:00:00' THEN 2 END) AS i, a.visit_id, a.visitor_id, a.type, a.search_count, a.first_title AS first, a.title_id AS k, a.ref_title_id AS rk, a.ref_time_spent FROM actions a WHERE (a.ts >= TIMESTAMP '2026-03-02 00:00:00' AND a.ts < TIMESTAMP '2026-03-05 00:00:00') AND a.site_id = ? AND a.type IN (1)),
		hits AS (SELECT i, k, count(*) AS h, count(*) FILTER (WHERE first) AS vis, count(DISTINCT visitor_id) AS uv
			FROM va WHERE type IN (1) GROUP BY i, k),
		spent AS (SELECT i, rk AS k, sum(ref_time_spent)::BIGINT AS t FROM va WHERE rk <> 0 AND type = 1 GROUP BY i, rk),
		exits AS (SELECT (CASE WHEN v.last_ts < TIMESTAMP '2026-03-03 00:00:00' THEN 0 WHEN v.last_ts < TIMESTAMP '2026-03-04 00:00:00' THEN 1 WHEN v.last_ts < TIMESTAMP '2026-03-05 00:00:00' THEN 2 END) AS i, v.exit_title_id AS k, count(*) AS n, sum(date_diff('second', coalesce(v.exit_ts, v.last_ts), v.last_ts))::BIGINT AS t
			FROM visits v WHERE (v.last_ts >= TIMESTAMP '2026-03-02 00:00:00' AND v.last_ts < TIMESTAMP '2026-03-05 00:00:00') AND v.site_id = ? AND TRUE GROUP BY i, v.exit_title_id)
		SELECT hits.i, coalesce(d.value, ''), h, vis, uv, coalesce(spent.t, 0) + coalesce(exits.t, 0), coalesce(exits.n, 0), 0, 0, 0, 0
		FROM hits LEFT JOIN spent USING (i, k) LEFT JOIN exits USING (i, k) LEFT JOIN dict d ON d.id = hits.k;
-- $1 = int64 1
-- $2 = int64 1
