-- Server-side sessions of the web interface; the cookie's value is stored only as a keyed hash.
CREATE TABLE sessions (
    id_hash BLOB PRIMARY KEY,
    login TEXT NOT NULL REFERENCES users(login) ON DELETE CASCADE,
    created INTEGER NOT NULL,
    last_seen INTEGER NOT NULL
);
CREATE INDEX sessions_login ON sessions(login);
