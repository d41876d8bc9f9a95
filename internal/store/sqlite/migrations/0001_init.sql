CREATE TABLE sites (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    urls TEXT NOT NULL DEFAULT '[]',
    timezone TEXT NOT NULL DEFAULT 'UTC',
    currency TEXT NOT NULL DEFAULT 'USD',
    ecommerce INTEGER NOT NULL DEFAULT 0,
    sitesearch INTEGER NOT NULL DEFAULT 1,
    search_keyword_params TEXT NOT NULL DEFAULT '[]',
    search_category_params TEXT NOT NULL DEFAULT '[]',
    excluded_ips TEXT NOT NULL DEFAULT '[]',
    excluded_params TEXT NOT NULL DEFAULT '[]',
    excluded_user_agents TEXT NOT NULL DEFAULT '[]',
    excluded_referrers TEXT NOT NULL DEFAULT '[]',
    keep_url_fragment INTEGER NOT NULL DEFAULT 0,
    exclude_unknown_urls INTEGER NOT NULL DEFAULT 0,
    type TEXT NOT NULL DEFAULT 'website',
    site_group TEXT NOT NULL DEFAULT '',
    start_date TEXT NOT NULL DEFAULT '',
    geo_precision TEXT NOT NULL DEFAULT 'city',
    created INTEGER NOT NULL,
    creator_login TEXT NOT NULL DEFAULT ''
);

CREATE TABLE users (
    login TEXT PRIMARY KEY,
    email TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    superuser INTEGER NOT NULL DEFAULT 0,
    disabled INTEGER NOT NULL DEFAULT 0,
    created INTEGER NOT NULL
);

CREATE TABLE tokens (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    login TEXT NOT NULL REFERENCES users(login) ON DELETE CASCADE,
    hash BLOB NOT NULL UNIQUE,
    description TEXT NOT NULL,
    created INTEGER NOT NULL,
    last_used INTEGER NOT NULL DEFAULT 0,
    expires INTEGER NOT NULL DEFAULT 0,
    read_only INTEGER NOT NULL DEFAULT 0,
    post_only INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE salts (
    site_id INTEGER NOT NULL,
    day TEXT NOT NULL,
    salt BLOB NOT NULL,
    created INTEGER NOT NULL,
    PRIMARY KEY (site_id, day)
);

CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
