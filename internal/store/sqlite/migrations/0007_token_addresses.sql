-- The client addresses (keyed hashes) each API token has been used from, so that use from a
-- new address is recorded in the audit trail once.
CREATE TABLE token_addresses (
    token_id INTEGER NOT NULL REFERENCES tokens(id) ON DELETE CASCADE,
    ip_hash BLOB NOT NULL,
    first_seen INTEGER NOT NULL,
    PRIMARY KEY (token_id, ip_hash)
);
