WITH va AS NOT MATERIALIZED (SELECT 0 AS i, a.visit_id, a.visitor_id, a.type, a.search_count, a.first_url AS first, a.url_id AS k, a.ref_url_id AS rk, a.ref_time_spent FROM actions a WHERE (a.ts >= TIMESTAMP '2026-03-02 00:00:00' AND a.ts < TIMESTAMP '2026-03-03 00:00:00') AND a.site_id = ? AND a.type IN (1)),
		hits AS (SELECT 0 AS i, k, count(*) AS h, count(*) FILTER (WHERE first) AS vis, count(DISTINCT visitor_id) AS uv
			FROM va WHERE type IN (1) GROUP BY k),
		spent AS (SELECT 0 AS i, rk AS k, sum(ref_time_spent)::BIGINT AS t FROM va WHERE rk <> 0 AND type = 1 GROUP BY rk),
		vg AS (SELECT 0 AS i, v.exit_url_id AS xk, v.entry_url_id AS ek, GROUPING(v.exit_url_id) AS gx, count(*) AS n,
				sum(date_diff('second', coalesce(v.exit_ts, v.last_ts), v.last_ts))::BIGINT AS t, sum(v.actions)::BIGINT AS ea,
				sum(date_diff('second', v.first_ts, v.last_ts))::BIGINT AS el, count(*) FILTER (WHERE v.actions <= 1) AS eb
			FROM visits v WHERE (v.last_ts >= TIMESTAMP '2026-03-02 00:00:00' AND v.last_ts < TIMESTAMP '2026-03-03 00:00:00') AND v.site_id = ? AND TRUE
			GROUP BY GROUPING SETS ((v.exit_url_id), (v.entry_url_id))),
		exits AS (SELECT i, xk AS k, n, t FROM vg WHERE gx = 0),
		entries AS (SELECT i, ek AS k, n AS en, ea, el, eb FROM vg WHERE gx = 1 AND ek <> 0)
		SELECT i, coalesce(d.value, ''), coalesce(h, 0), coalesce(vis, 0), coalesce(uv, -1), coalesce(spent.t, 0) + coalesce(exits.t, 0),
			coalesce(exits.n, 0), coalesce(en, 0), coalesce(ea, 0), coalesce(el, 0), coalesce(eb, 0)
		FROM hits FULL JOIN entries USING (i, k) LEFT JOIN spent USING (i, k) LEFT JOIN exits USING (i, k) LEFT JOIN dict d ON d.id = k;
-- $1 = int64 1
-- $2 = int64 1
