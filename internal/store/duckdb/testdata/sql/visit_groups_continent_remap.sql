SELECT q.* REPLACE (q.k1 AS k1, coalesce(q.k2, '') AS k2) FROM (SELECT 0 AS i, k1, '' AS k2, 0 AS g, count(*) AS n, count(DISTINCT v.visitor_id), count(DISTINCT v.user_id),
		sum(v.actions)::BIGINT, max(v.actions), sum(date_diff('second', v.first_ts, v.last_ts))::BIGINT,
		count(*) FILTER (WHERE v.actions <= 1), count(*) FILTER (WHERE v.conversions > 0)
		FROM (SELECT 0 AS i, coalesce(m.mv, '') AS k1, '' AS k2, v.* FROM visits v LEFT JOIN (VALUES (?, ?),(?, ?),(?, ?)) AS m(mk, mv) ON m.mk = coalesce(CAST(v.country AS VARCHAR), '') WHERE (v.last_ts >= TIMESTAMP '2026-03-02 00:00:00' AND v.last_ts < TIMESTAMP '2026-03-03 00:00:00')) v
		WHERE v.site_id = ? AND TRUE GROUP BY k1) q;
-- $1 = "de"
-- $2 = "eur"
-- $3 = "fr"
-- $4 = "eur"
-- $5 = "us"
-- $6 = "amn"
-- $7 = int64 1
