SELECT count(*), coalesce(sum(v.actions), 0), count(DISTINCT v.visitor_id), count(*) FILTER (WHERE v.conversions > 0)
		FROM visits v WHERE v.site_id IN (1,2,3) AND v.last_ts >= ? AND (v.country = ?) AND (v.actions >= ?) AND (lower(CAST(v.browser AS VARCHAR)) = lower(?) OR EXISTS (SELECT 1 FROM actions a WHERE a.site_id = v.site_id AND a.visit_id = v.visit_id AND a.type = 1 AND a.url_id IN (SELECT d.id FROM dict d WHERE contains(lower(CAST(d.value AS VARCHAR)), lower(?)))));
-- $1 = TIMESTAMP 2026-03-02T00:00:00Z
-- $2 = "de"
-- $3 = int64 1
-- $4 = "Firefox"
-- $5 = "/shop"
