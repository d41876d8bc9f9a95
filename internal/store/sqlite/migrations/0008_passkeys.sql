-- WebAuthn passkeys used as a second factor: the credential record (public key, sign count,
-- flags) as the WebAuthn library encodes it, with the relying-party ID it was made for.
CREATE TABLE passkeys (
    id BLOB PRIMARY KEY,
    login TEXT NOT NULL REFERENCES users(login) ON DELETE CASCADE,
    name TEXT NOT NULL,
    rp_id TEXT NOT NULL,
    credential BLOB NOT NULL,
    created INTEGER NOT NULL,
    last_used INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX passkeys_login ON passkeys(login);
