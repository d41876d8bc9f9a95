SELECT q.* REPLACE (coalesce(CAST(q.k1 AS VARCHAR), '') AS k1, coalesce(CAST(q.k2 AS VARCHAR), '') AS k2) FROM (SELECT v.i AS i, k1, k2, GROUPING(k2) AS g, count(*) AS n, -1, -1,
		sum(v.actions)::BIGINT, max(v.actions), sum(date_diff('second', v.first_ts, v.last_ts))::BIGINT,
		count(*) FILTER (WHERE v.actions <= 1), count(*) FILTER (WHERE v.conversions > 0)
		FROM (SELECT (CASE WHEN v.last_ts < TIMESTAMP '2026-03-03 00:00:00' THEN 0 WHEN v.last_ts < TIMESTAMP '2026-03-04 00:00:00' THEN 1 WHEN v.last_ts < TIMESTAMP '2026-03-05 00:00:00' THEN 2 END) AS i, v.browser AS k1, concat_ws('|', coalesce(v.browser, ''), coalesce(v.browser_version, '')) AS k2, v.* FROM visits v WHERE (v.last_ts >= TIMESTAMP '2026-03-02 00:00:00' AND v.last_ts < TIMESTAMP '2026-03-05 00:00:00')) v
		WHERE v.site_id = ? AND (v.country = ?) AND (v.actions >= ?) AND (lower(CAST(v.browser AS VARCHAR)) = lower(?) OR EXISTS (SELECT 1 FROM actions a WHERE a.site_id = v.site_id AND a.visit_id = v.visit_id AND a.type = 1 AND a.url_id IN (SELECT d.id FROM dict d WHERE contains(lower(CAST(d.value AS VARCHAR)), lower(?))))) GROUP BY v.i, k1, k2) q;
-- $1 = int64 1
-- $2 = "de"
-- $3 = int64 1
-- $4 = "Firefox"
-- $5 = "/shop"
