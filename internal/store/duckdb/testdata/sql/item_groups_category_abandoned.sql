SELECT i, k, sum(price * quantity), sum(quantity)::BIGINT, count(DISTINCT visit_id), count(DISTINCT visit_id)
		FROM (SELECT 0 AS i, unnest(CASE WHEN i.categories IS NULL THEN [''] ELSE from_json(i.categories, '["VARCHAR"]') END) AS k, i.price, i.quantity, i.order_id, i.visit_id
			FROM items i
			WHERE (i.ts >= TIMESTAMP '2026-03-02 00:00:00' AND i.ts < TIMESTAMP '2026-03-03 00:00:00') AND i.site_id = ? AND i.kind = 9 AND i.ts = (SELECT max(l.ts) FROM items l WHERE (l.ts >= TIMESTAMP '2026-03-01 00:00:00' AND l.ts < TIMESTAMP '2026-03-04 00:00:00') AND l.site_id = i.site_id AND l.visit_id = i.visit_id AND l.kind = 9)
			AND i.visit_id IN (SELECT v.visit_id FROM visits v WHERE v.site_id = i.site_id AND v.ecommerce IN (2, 3)))
		GROUP BY i, k;
-- $1 = int64 1
