SELECT a.i, k1, k2, GROUPING(k2), count(*), count(DISTINCT a.visit_id), -1,
		count(a.event_value), coalesce(sum(a.event_value), 0), coalesce(min(a.event_value), 0), coalesce(max(a.event_value), 0),
		count(*) FILTER (WHERE coalesce(a.content_interaction, '') <> '')
		FROM (SELECT 0 AS i, coalesce(a.content_name, '') AS k1, coalesce(a.content_piece, '') AS k2, a.* FROM actions a WHERE (a.ts >= TIMESTAMP '2026-03-02 00:00:00' AND a.ts < TIMESTAMP '2026-03-03 00:00:00')) a
		WHERE a.site_id = ? AND a.type = 6
		GROUP BY GROUPING SETS ((a.i, k1), (a.i, k1, k2));
-- $1 = int64 1
