-- Referrer names (search engines, social networks, websites, campaigns) are also kept as
-- dictionary ids, which reports group by: grouping a visit report by the name's text cost
-- several times more than by an integer. The id is the name's StringID (first 8 bytes of its
-- SHA-256, shifted right by one; 1 if that is 0), computed here for visits stored before.
ALTER TABLE visits ADD COLUMN IF NOT EXISTS referrer_name_id BIGINT DEFAULT 0;

INSERT OR IGNORE INTO dict
SELECT id, any_value(referrer_name) FROM (
    SELECT referrer_name, greatest((('0x' || left(sha256(referrer_name), 16))::UBIGINT >> 1)::BIGINT, 1) AS id
    FROM visits WHERE referrer_name IS NOT NULL AND referrer_name <> '')
GROUP BY id;

UPDATE visits SET referrer_name_id = greatest((('0x' || left(sha256(referrer_name), 16))::UBIGINT >> 1)::BIGINT, 1)
WHERE referrer_name IS NOT NULL AND referrer_name <> '';
