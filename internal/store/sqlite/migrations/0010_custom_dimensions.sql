-- Custom dimensions configured per site (CustomDimensions API): the tracker sends
-- dimension<id>=value; visit-scope values describe the visit, action-scope values an action.
CREATE TABLE custom_dimensions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    site_id INTEGER NOT NULL,
    name TEXT NOT NULL,
    scope TEXT NOT NULL,
    idx INTEGER NOT NULL,
    active INTEGER NOT NULL,
    case_sensitive INTEGER NOT NULL,
    created INTEGER NOT NULL
);
