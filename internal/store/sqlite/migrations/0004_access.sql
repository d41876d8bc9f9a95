-- Per-site roles (view, write, admin) and capabilities (view_raw), each optionally expiring.
CREATE TABLE access (
    login TEXT NOT NULL REFERENCES users(login) ON DELETE CASCADE,
    site_id INTEGER NOT NULL,
    role TEXT NOT NULL,
    expires INTEGER NOT NULL DEFAULT 0,
    granted_by TEXT NOT NULL DEFAULT '',
    created INTEGER NOT NULL,
    PRIMARY KEY (login, site_id)
);
CREATE TABLE capabilities (
    login TEXT NOT NULL REFERENCES users(login) ON DELETE CASCADE,
    site_id INTEGER NOT NULL,
    capability TEXT NOT NULL,
    expires INTEGER NOT NULL DEFAULT 0,
    granted_by TEXT NOT NULL DEFAULT '',
    created INTEGER NOT NULL,
    PRIMARY KEY (login, site_id, capability)
);
