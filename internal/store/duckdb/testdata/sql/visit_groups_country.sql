SELECT q.* REPLACE (coalesce(CAST(q.k1 AS VARCHAR), '') AS k1, coalesce(q.k2, '') AS k2) FROM (SELECT 0 AS i, k1, '' AS k2, 0 AS g, count(*) AS n, count(DISTINCT v.visitor_id), count(DISTINCT v.user_id),
		sum(v.actions)::BIGINT, max(v.actions), sum(date_diff('second', v.first_ts, v.last_ts))::BIGINT,
		count(*) FILTER (WHERE v.actions <= 1), count(*) FILTER (WHERE v.conversions > 0)
		FROM (SELECT 0 AS i, v.country AS k1, '' AS k2, v.* FROM visits v WHERE (v.last_ts >= TIMESTAMP '2026-03-02 00:00:00' AND v.last_ts < TIMESTAMP '2026-03-03 00:00:00')) v
		WHERE v.site_id = ? AND TRUE GROUP BY k1) q;
-- $1 = int64 1
