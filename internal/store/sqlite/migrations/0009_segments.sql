-- Named segments (SegmentEditor): a definition owned by a user, for one site or all (site 0),
-- visible to its owner or to everyone with view access when shared.
CREATE TABLE segments (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    login TEXT NOT NULL,
    name TEXT NOT NULL,
    definition TEXT NOT NULL,
    site_id INTEGER NOT NULL,
    all_users INTEGER NOT NULL DEFAULT 0,
    auto_archive INTEGER NOT NULL DEFAULT 0,
    created INTEGER NOT NULL,
    updated INTEGER NOT NULL
);
