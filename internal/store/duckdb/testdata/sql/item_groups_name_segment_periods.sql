SELECT i, k, sum(price * quantity), sum(quantity)::BIGINT, count(DISTINCT order_id), count(DISTINCT visit_id)
		FROM (SELECT (CASE WHEN i.ts < TIMESTAMP '2026-03-03 00:00:00' THEN 0 WHEN i.ts < TIMESTAMP '2026-03-04 00:00:00' THEN 1 WHEN i.ts < TIMESTAMP '2026-03-05 00:00:00' THEN 2 END) AS i, coalesce(i.name, '') AS k, i.price, i.quantity, i.order_id, i.visit_id
			FROM items i
			WHERE (i.ts >= TIMESTAMP '2026-03-02 00:00:00' AND i.ts < TIMESTAMP '2026-03-05 00:00:00') AND i.site_id = ? AND i.kind = 8 AND i.visit_id IN (SELECT v.visit_id FROM visits v WHERE v.site_id = ? AND v.last_ts >= ? AND v.first_ts < ? AND (v.country = ?) AND (v.actions >= ?) AND (lower(CAST(v.browser AS VARCHAR)) = lower(?) OR EXISTS (SELECT 1 FROM actions a WHERE a.site_id = v.site_id AND a.visit_id = v.visit_id AND a.type = 1 AND a.url_id IN (SELECT d.id FROM dict d WHERE contains(lower(CAST(d.value AS VARCHAR)), lower(?)))))))
		GROUP BY i, k;
-- $1 = int64 1
-- $2 = int64 1
-- $3 = TIMESTAMP 2026-03-02T00:00:00Z
-- $4 = TIMESTAMP 2026-03-05T00:00:00Z
-- $5 = "de"
-- $6 = int64 1
-- $7 = "Firefox"
-- $8 = "/shop"
