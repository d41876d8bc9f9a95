-- Conversion goals per site (Goals API). Ids are numbered per site and never reused:
-- deleting a goal only marks it, so recorded conversions keep their meaning.
CREATE TABLE goals (
    site_id INTEGER NOT NULL,
    id INTEGER NOT NULL,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    match_attribute TEXT NOT NULL,
    pattern TEXT NOT NULL,
    pattern_type TEXT NOT NULL,
    case_sensitive INTEGER NOT NULL,
    allow_multiple INTEGER NOT NULL,
    revenue REAL NOT NULL,
    event_value_as_revenue INTEGER NOT NULL,
    deleted INTEGER NOT NULL DEFAULT 0,
    created INTEGER NOT NULL,
    PRIMARY KEY (site_id, id)
);
