SELECT count(*), coalesce(sum(v.actions), 0), count(DISTINCT v.visitor_id), count(*) FILTER (WHERE v.conversions > 0)
		FROM visits v WHERE v.site_id IN (1) AND v.last_ts >= ? AND TRUE;
-- $1 = TIMESTAMP 2026-03-02T00:00:00Z
