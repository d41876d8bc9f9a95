WITH fv AS (
		SELECT 0 AS i, v.visit_id FROM visits v
		WHERE (v.last_ts >= TIMESTAMP '2026-03-02 00:00:00' AND v.last_ts < TIMESTAMP '2026-03-03 00:00:00') AND v.site_id = ? AND TRUE),
	fm AS (
		SELECT fv.i, a.visit_id, a.ts, a.idx, coalesce(a.type = 1 AND a.url_id IN (SELECT d.id FROM dict d WHERE contains(lower(d.value), lower(?))), false) AS m1, coalesce(a.type = 1 AND a.title_id IN (SELECT d.id FROM dict d WHERE d.value = ?), false) AS m2, coalesce(a.type = 5 AND regexp_matches(a.event_action, ?), false) AS m3
		FROM actions a JOIN fv ON fv.visit_id = a.visit_id
		WHERE (a.ts >= TIMESTAMP '2026-03-01 00:00:00' AND a.ts < TIMESTAMP '2026-03-04 00:00:00') AND a.site_id = ? AND a.type IN (1, 5)),
	fo AS (
		SELECT i, visit_id, row_number() OVER (PARTITION BY visit_id ORDER BY ts, idx) AS o, m1, m2, m3
		FROM fm WHERE m1 OR m2 OR m3),
	s1 AS (SELECT i, visit_id, min(o) AS o FROM fo WHERE m1 GROUP BY i, visit_id),
	s2 AS (SELECT fo.i, fo.visit_id, min(fo.o) AS o FROM fo JOIN s1 p ON p.visit_id = fo.visit_id AND fo.o > p.o WHERE fo.m2 GROUP BY fo.i, fo.visit_id),
	s3 AS (SELECT fo.i, fo.visit_id, min(fo.o) AS o FROM fo JOIN s2 p ON p.visit_id = fo.visit_id AND fo.o > p.o WHERE fo.m3 GROUP BY fo.i, fo.visit_id)
	SELECT i, step, count(*) FROM (SELECT i, 1 AS step FROM s1
		UNION ALL SELECT i, 2 AS step FROM s2
		UNION ALL SELECT i, 3 AS step FROM s3)
	GROUP BY i, step;
-- $1 = int64 1
-- $2 = "/shop"
-- $3 = "Cart"
-- $4 = "(?i)^pay(ment)?$"
-- $5 = int64 1
