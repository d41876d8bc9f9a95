-- Funnels per site: ordered steps, kept as a JSON list (name, kind, match, pattern,
-- case_sensitive). Reports compute them from raw events, so nothing else is stored.
CREATE TABLE funnels (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    site_id INTEGER NOT NULL,
    name TEXT NOT NULL,
    steps TEXT NOT NULL,
    created INTEGER NOT NULL
);
CREATE INDEX funnels_site ON funnels (site_id, id);
