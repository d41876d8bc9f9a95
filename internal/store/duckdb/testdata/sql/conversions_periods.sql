WITH conv AS (
		SELECT (CASE WHEN a.ts < TIMESTAMP '2026-03-03 00:00:00' THEN 0 WHEN a.ts < TIMESTAMP '2026-03-04 00:00:00' THEN 1 WHEN a.ts < TIMESTAMP '2026-03-05 00:00:00' THEN 2 END) AS i, CASE WHEN a.type = 8 THEN 0 ELSE a.goal_id END AS g, a.visit_id, a.ts, a.type, a.revenue, a.subtotal, a.tax, a.shipping, a.discount
			FROM actions a
			WHERE (a.ts >= TIMESTAMP '2026-03-02 00:00:00' AND a.ts < TIMESTAMP '2026-03-05 00:00:00') AND a.site_id = ? AND a.type IN (7, 8)
		UNION ALL
		SELECT (CASE WHEN a.ts < TIMESTAMP '2026-03-03 00:00:00' THEN 0 WHEN a.ts < TIMESTAMP '2026-03-04 00:00:00' THEN 1 WHEN a.ts < TIMESTAMP '2026-03-05 00:00:00' THEN 2 END) AS i, -1 AS g, a.visit_id, a.ts, a.type, a.revenue, a.subtotal, a.tax, a.shipping, a.discount
			FROM actions a
			WHERE (a.ts >= TIMESTAMP '2026-03-02 00:00:00' AND a.ts < TIMESTAMP '2026-03-05 00:00:00') AND a.site_id = ? AND a.type = 9
			AND a.visit_id IN (SELECT v.visit_id FROM visits v WHERE v.site_id = a.site_id AND v.ecommerce IN (2, 3))
			AND a.ts = (SELECT max(l.ts) FROM actions l WHERE (l.ts >= TIMESTAMP '2026-03-01 00:00:00' AND l.ts < TIMESTAMP '2026-03-06 00:00:00') AND l.site_id = a.site_id AND l.visit_id = a.visit_id AND l.type = 9)),
	convs AS (
		SELECT c.*, v.is_returning AS ret, c.g <> -1 AS overall,
			coalesce((SELECT sum(it.quantity) FROM items it WHERE it.site_id = v.site_id AND it.visit_id = c.visit_id AND it.ts = c.ts AND it.kind = c.type), 0) AS n
		FROM conv c JOIN visits v ON v.visit_id = c.visit_id AND v.site_id = ?)
	SELECT i, CASE WHEN GROUPING(g) = 1 THEN -2 ELSE g END, CASE WHEN GROUPING(ret) = 1 THEN '' WHEN ret THEN 'returning' ELSE 'new' END,
		count(*), count(DISTINCT visit_id), sum(revenue), sum(n)::BIGINT, sum(subtotal), sum(tax), sum(shipping), sum(discount)
	FROM convs
	GROUP BY GROUPING SETS ((i, g, ret), (i, g), (i, overall, ret), (i, overall))
	HAVING GROUPING(overall) = 1 OR overall;
-- $1 = int64 1
-- $2 = int64 1
-- $3 = int64 1
