SELECT 0 AS i, count(*), count(DISTINCT v.visitor_id), count(DISTINCT v.user_id),
		coalesce(sum(v.actions), 0)::BIGINT, coalesce(max(v.actions), 0), coalesce(sum(date_diff('second', v.first_ts, v.last_ts)), 0)::BIGINT,
		count(*) FILTER (WHERE v.actions <= 1), count(*) FILTER (WHERE v.conversions > 0)
		FROM visits v
		WHERE (v.last_ts >= TIMESTAMP '2026-03-02 00:00:00' AND v.last_ts < TIMESTAMP '2026-03-03 00:00:00') AND v.site_id = ? AND (v.country = ?) AND (v.actions >= ?) AND (lower(CAST(v.browser AS VARCHAR)) = lower(?) OR EXISTS (SELECT 1 FROM actions a WHERE a.site_id = v.site_id AND a.visit_id = v.visit_id AND a.type = 1 AND a.url_id IN (SELECT d.id FROM dict d WHERE contains(lower(CAST(d.value AS VARCHAR)), lower(?)))));
-- $1 = int64 1
-- $2 = "de"
-- $3 = int64 1
-- $4 = "Firefox"
-- $5 = "/shop"
