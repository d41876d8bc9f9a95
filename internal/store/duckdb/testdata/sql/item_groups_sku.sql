SELECT i, k, sum(price * quantity), sum(quantity)::BIGINT, count(DISTINCT order_id), count(DISTINCT visit_id)
		FROM (SELECT 0 AS i, i.sku AS k, i.price, i.quantity, i.order_id, i.visit_id
			FROM items i
			WHERE (i.ts >= TIMESTAMP '2026-03-02 00:00:00' AND i.ts < TIMESTAMP '2026-03-03 00:00:00') AND i.site_id = ? AND i.kind = 8)
		GROUP BY i, k;
-- $1 = int64 1
