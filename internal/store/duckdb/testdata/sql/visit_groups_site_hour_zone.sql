SELECT q.* REPLACE (q.k1 AS k1, coalesce(q.k2, '') AS k2) FROM (SELECT v.i AS i, k1, '' AS k2, 0 AS g, count(*) AS n, count(DISTINCT v.visitor_id), count(DISTINCT v.user_id),
		sum(v.actions)::BIGINT, max(v.actions), sum(date_diff('second', v.first_ts, v.last_ts))::BIGINT,
		count(*) FILTER (WHERE v.actions <= 1), count(*) FILTER (WHERE v.conversions > 0)
		FROM (SELECT (CASE WHEN v.last_ts < TIMESTAMP '2026-03-03 00:00:00' THEN 0 WHEN v.last_ts < TIMESTAMP '2026-03-04 00:00:00' THEN 1 WHEN v.last_ts < TIMESTAMP '2026-03-05 00:00:00' THEN 2 END) AS i, CAST(hour(v.last_ts + to_seconds(CASE WHEN v.last_ts >= ? THEN ? ELSE ? END)) AS VARCHAR) AS k1, '' AS k2, v.* FROM visits v WHERE (v.last_ts >= TIMESTAMP '2026-03-02 00:00:00' AND v.last_ts < TIMESTAMP '2026-03-05 00:00:00')) v
		WHERE v.site_id = ? AND TRUE GROUP BY v.i, k1) q;
-- $1 = TIMESTAMP 2026-03-03T00:00:00Z
-- $2 = int 7200
-- $3 = int 3600
-- $4 = int64 1
