SELECT q.* REPLACE (coalesce(CAST(q.k1 AS VARCHAR), '') AS k1, coalesce(d2.value, '') AS k2) FROM (SELECT v.i AS i, k1, k2, GROUPING(k2) AS g, count(*) AS n, count(DISTINCT v.visitor_id), count(DISTINCT v.user_id),
		sum(v.actions)::BIGINT, max(v.actions), sum(date_diff('second', v.first_ts, v.last_ts))::BIGINT,
		count(*) FILTER (WHERE v.actions <= 1), count(*) FILTER (WHERE v.conversions > 0)
		FROM (SELECT (CASE WHEN v.last_ts < TIMESTAMP '2026-03-03 00:00:00' THEN 0 WHEN v.last_ts < TIMESTAMP '2026-03-04 00:00:00' THEN 1 WHEN v.last_ts < TIMESTAMP '2026-03-05 00:00:00' THEN 2 END) AS i, v.referrer_type AS k1, v.referrer_name_id AS k2, v.* FROM visits v WHERE (v.last_ts >= TIMESTAMP '2026-03-02 00:00:00' AND v.last_ts < TIMESTAMP '2026-03-05 00:00:00')) v
		WHERE v.site_id = ? AND TRUE GROUP BY GROUPING SETS ((v.i, k1), (v.i, k1, k2))) q LEFT JOIN dict d2 ON d2.id = q.k2;
-- $1 = int64 1
