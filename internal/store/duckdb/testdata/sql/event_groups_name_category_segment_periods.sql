SELECT a.i, k1, k2, GROUPING(k2), count(*), count(DISTINCT a.visit_id), count(DISTINCT a.visitor_id),
		count(a.event_value), coalesce(sum(a.event_value), 0), coalesce(min(a.event_value), 0), coalesce(max(a.event_value), 0),
		count(*) FILTER (WHERE coalesce(a.content_interaction, '') <> '')
		FROM (SELECT (CASE WHEN a.ts < TIMESTAMP '2026-03-03 00:00:00' THEN 0 WHEN a.ts < TIMESTAMP '2026-03-04 00:00:00' THEN 1 WHEN a.ts < TIMESTAMP '2026-03-05 00:00:00' THEN 2 END) AS i, coalesce(a.event_name, '') AS k1, coalesce(a.event_category, '') AS k2, a.* FROM actions a WHERE (a.ts >= TIMESTAMP '2026-03-02 00:00:00' AND a.ts < TIMESTAMP '2026-03-05 00:00:00')) a
		WHERE a.site_id = ? AND a.type = 5 AND a.visit_id IN (SELECT v.visit_id FROM visits v WHERE v.site_id = ? AND v.last_ts >= ? AND v.first_ts < ? AND (v.country = ?) AND (v.actions >= ?) AND (lower(CAST(v.browser AS VARCHAR)) = lower(?) OR EXISTS (SELECT 1 FROM actions a WHERE a.site_id = v.site_id AND a.visit_id = v.visit_id AND a.type = 1 AND a.url_id IN (SELECT d.id FROM dict d WHERE contains(lower(CAST(d.value AS VARCHAR)), lower(?))))))
		GROUP BY GROUPING SETS ((a.i, k1), (a.i, k1, k2));
-- $1 = int64 1
-- $2 = int64 1
-- $3 = TIMESTAMP 2026-03-02T00:00:00Z
-- $4 = TIMESTAMP 2026-03-05T00:00:00Z
-- $5 = "de"
-- $6 = int64 1
-- $7 = "Firefox"
-- $8 = "/shop"
