-- Failed authentication attempts, for brute-force protection. The client address is kept
-- only as a keyed hash: enough to count and block, nothing to read back.
CREATE TABLE auth_failures (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at INTEGER NOT NULL,
    ip_hash BLOB NOT NULL,
    login TEXT NOT NULL
);
CREATE INDEX auth_failures_ip ON auth_failures(ip_hash, at);
CREATE INDEX auth_failures_login ON auth_failures(login, at);
