-- Second factors: a TOTP secret (encrypted with a key from the instance secret, inside the
-- encrypted database), the last time step used (replays are refused), and single-use
-- recovery codes stored as keyed hashes.
CREATE TABLE totp (
    login TEXT PRIMARY KEY REFERENCES users(login) ON DELETE CASCADE,
    secret_enc BLOB NOT NULL,
    enabled INTEGER NOT NULL DEFAULT 0,
    last_step INTEGER NOT NULL DEFAULT 0,
    created INTEGER NOT NULL
);
CREATE TABLE recovery_codes (
    login TEXT NOT NULL REFERENCES users(login) ON DELETE CASCADE,
    code_hash BLOB NOT NULL,
    used INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (login, code_hash)
);
