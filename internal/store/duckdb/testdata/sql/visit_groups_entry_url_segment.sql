SELECT q.* REPLACE (coalesce(d.value, '') AS k1, coalesce(q.k2, '') AS k2) FROM (SELECT 0 AS i, k1, '' AS k2, 0 AS g, count(*) AS n, count(DISTINCT v.visitor_id), count(DISTINCT v.user_id),
		sum(v.actions)::BIGINT, max(v.actions), sum(date_diff('second', v.first_ts, v.last_ts))::BIGINT,
		count(*) FILTER (WHERE v.actions <= 1), count(*) FILTER (WHERE v.conversions > 0)
		FROM (SELECT 0 AS i, v.entry_url_id AS k1, '' AS k2, v.* FROM visits v WHERE (v.last_ts >= TIMESTAMP '2026-03-02 00:00:00' AND v.last_ts < TIMESTAMP '2026-03-03 00:00:00')) v
		WHERE v.site_id = ? AND (v.country = ?) AND (v.actions >= ?) AND (lower(CAST(v.browser AS VARCHAR)) = lower(?) OR EXISTS (SELECT 1 FROM actions a WHERE a.site_id = v.site_id AND a.visit_id = v.visit_id AND a.type = 1 AND a.url_id IN (SELECT d.id FROM dict d WHERE contains(lower(CAST(d.value AS VARCHAR)), lower(?))))) GROUP BY k1) q LEFT JOIN dict d ON d.id = q.k1;
-- $1 = int64 1
-- $2 = "de"
-- $3 = int64 1
-- $4 = "Firefox"
-- $5 = "/shop"
