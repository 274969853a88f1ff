-- Fleetkey schema 15: least privilege and the audit trail (issue 20).
--
-- access_keys gain a status (Active | Inactive), full_access (the root key: no policy is evaluated),
-- the secret sealed under the CA passphrase (secret_kek_salt not null: secret_access_key holds the
-- sealed bytes in base64), the secret a rotation replaced with the time it stops working, and when and
-- from where the key was last used. Keys made before policies existed could do everything: they keep it.
ALTER TABLE access_keys ADD COLUMN status TEXT NOT NULL DEFAULT 'Active';
ALTER TABLE access_keys ADD COLUMN full_access INTEGER NOT NULL DEFAULT 0;
ALTER TABLE access_keys ADD COLUMN secret_kek_salt TEXT;
ALTER TABLE access_keys ADD COLUMN previous_secret TEXT;
ALTER TABLE access_keys ADD COLUMN previous_secret_kek_salt TEXT;
ALTER TABLE access_keys ADD COLUMN previous_secret_expires_at INTEGER;
ALTER TABLE access_keys ADD COLUMN last_used_at INTEGER;
ALTER TABLE access_keys ADD COLUMN last_used_source TEXT;
UPDATE access_keys SET full_access = 1;

-- Identity policies attached to a key, by name: attaching a name again replaces its document.
CREATE TABLE access_key_policies (
    access_key_id TEXT NOT NULL REFERENCES access_keys (access_key_id) ON DELETE CASCADE,
    policy_name   TEXT NOT NULL,
    document      TEXT NOT NULL,
    attached_at   INTEGER NOT NULL,
    PRIMARY KEY (access_key_id, policy_name)
);

-- The audit trail: one row per recorded request, hash-chained in sequence order (hash covers the
-- previous record's hash and every column). audit_chain holds the head (the last record) and the anchor
-- (the hash of the last record pruned, which the first remaining record chains to). WITHOUT ROWID: the
-- sequence is always given (never SQLite's rowid), as on PostgreSQL.
CREATE TABLE audit_records (
    sequence      INTEGER NOT NULL PRIMARY KEY,
    recorded_at   INTEGER NOT NULL,
    request_id    TEXT NOT NULL,
    channel       TEXT NOT NULL,
    access_key_id TEXT,
    operation     TEXT NOT NULL,
    resources     TEXT NOT NULL,
    source        TEXT,
    user_agent    TEXT,
    status        INTEGER NOT NULL,
    error_code    TEXT,
    hash          TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX ix_audit_records_recorded_at ON audit_records (recorded_at);
CREATE INDEX ix_audit_records_access_key ON audit_records (access_key_id, sequence);
CREATE INDEX ix_audit_records_operation ON audit_records (operation, sequence);

CREATE TABLE audit_chain (
    id              INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
    last_sequence   INTEGER NOT NULL,
    last_hash       TEXT NOT NULL,
    anchor_sequence INTEGER NOT NULL,
    anchor_hash     TEXT NOT NULL
) WITHOUT ROWID;
INSERT INTO audit_chain (id, last_sequence, last_hash, anchor_sequence, anchor_hash)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000', 0, '0000000000000000000000000000000000000000000000000000000000000000');
