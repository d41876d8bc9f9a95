WITH fv AS (
		SELECT (CASE WHEN v.last_ts < TIMESTAMP '2026-03-03 00:00:00' THEN 0 WHEN v.last_ts < TIMESTAMP '2026-03-04 00:00:00' THEN 1 WHEN v.last_ts < TIMESTAMP '2026-03-05 00:00:00' THEN 2 END) AS i, v.visit_id FROM visits v
		WHERE (v.last_ts >= TIMESTAMP '2026-03-02 00:00:00' AND v.last_ts < TIMESTAMP '2026-03-05 00:00:00') AND v.site_id = ? AND (v.country = ?) AND (v.actions >= ?) AND (lower(CAST(v.browser AS VARCHAR)) = lower(?) OR EXISTS (SELECT 1 FROM actions a WHERE a.site_id = v.site_id AND a.visit_id = v.visit_id AND a.type = 1 AND a.url_id IN (SELECT d.id FROM dict d WHERE contains(lower(CAST(d.value AS VARCHAR)), lower(?)))))),
	fm AS (
		SELECT fv.i, a.visit_id, a.ts, a.idx, coalesce(a.type = 2 AND a.url_id IN (SELECT d.id FROM dict d WHERE starts_with(lower(d.value), lower(?))), false) AS m1, coalesce(a.type = 3 AND a.url_id IN (SELECT d.id FROM dict d WHERE regexp_matches(d.value, ?)), false) AS m2, coalesce(a.type = 5 AND lower(a.event_category) = lower(?), false) AS m3, coalesce(a.type = 5 AND contains(a.event_name, ?), false) AS m4
		FROM actions a JOIN fv ON fv.visit_id = a.visit_id
		WHERE (a.ts >= TIMESTAMP '2026-03-01 00:00:00' AND a.ts < TIMESTAMP '2026-03-06 00:00:00') AND a.site_id = ? AND a.type IN (2, 3, 5)),
	fo AS (
		SELECT i, visit_id, row_number() OVER (PARTITION BY visit_id ORDER BY ts, idx) AS o, m1, m2, m3, m4
		FROM fm WHERE m1 OR m2 OR m3 OR m4),
	s1 AS (SELECT i, visit_id, min(o) AS o FROM fo WHERE m1 GROUP BY i, visit_id),
	s2 AS (SELECT fo.i, fo.visit_id, min(fo.o) AS o FROM fo JOIN s1 p ON p.visit_id = fo.visit_id AND fo.o > p.o WHERE fo.m2 GROUP BY fo.i, fo.visit_id),
	s3 AS (SELECT fo.i, fo.visit_id, min(fo.o) AS o FROM fo JOIN s2 p ON p.visit_id = fo.visit_id AND fo.o > p.o WHERE fo.m3 GROUP BY fo.i, fo.visit_id),
	s4 AS (SELECT fo.i, fo.visit_id, min(fo.o) AS o FROM fo JOIN s3 p ON p.visit_id = fo.visit_id AND fo.o > p.o WHERE fo.m4 GROUP BY fo.i, fo.visit_id)
	SELECT i, step, count(*) FROM (SELECT i, 1 AS step FROM s1
		UNION ALL SELECT i, 2 AS step FROM s2
		UNION ALL SELECT i, 3 AS step FROM s3
		UNION ALL SELECT i, 4 AS step FROM s4)
	GROUP BY i, step;
-- $1 = int64 1
-- $2 = "de"
-- $3 = int64 1
-- $4 = "Firefox"
-- $5 = "/shop"
-- $6 = "https://ex.org/files/"
-- $7 = "partner\\.example"
-- $8 = "Video"
-- $9 = "intro"
-- $10 = int64 1
