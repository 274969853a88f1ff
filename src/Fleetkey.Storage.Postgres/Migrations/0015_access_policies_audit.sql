-- Fleetkey schema 15 (PostgreSQL): least privilege and the audit trail (issue 20).
--
-- access_keys gain a status (Active | Inactive), full_access (the root key: no policy is evaluated),
-- the secret sealed under the CA passphrase (secret_kek_salt not null: secret_access_key holds the
-- sealed bytes in base64), the secret a rotation replaced with the time it stops working, and when and
-- from where the key was last used. Keys made before policies existed could do everything: they keep it.
ALTER TABLE access_keys ADD COLUMN status TEXT COLLATE "C" NOT NULL DEFAULT 'Active';
ALTER TABLE access_keys ADD COLUMN full_access BIGINT NOT NULL DEFAULT 0;
ALTER TABLE access_keys ADD COLUMN secret_kek_salt TEXT COLLATE "C";
ALTER TABLE access_keys ADD COLUMN previous_secret TEXT COLLATE "C";
ALTER TABLE access_keys ADD COLUMN previous_secret_kek_salt TEXT COLLATE "C";
ALTER TABLE access_keys ADD COLUMN previous_secret_expires_at BIGINT;
ALTER TABLE access_keys ADD COLUMN last_used_at BIGINT;
ALTER TABLE access_keys ADD COLUMN last_used_source TEXT COLLATE "C";
UPDATE access_keys SET full_access = 1;

-- Identity policies attached to a key, by name: attaching a name again replaces its document.
CREATE TABLE access_key_policies (
    access_key_id TEXT COLLATE "C" NOT NULL REFERENCES access_keys (access_key_id) ON DELETE CASCADE,
    policy_name   TEXT COLLATE "C" NOT NULL,
    document      TEXT COLLATE "C" NOT NULL,
    attached_at   BIGINT NOT NULL,
    PRIMARY KEY (access_key_id, policy_name)
);

-- The audit trail: one row per recorded request, hash-chained in sequence order (hash covers the
-- previous record's hash and every column). audit_chain holds the head (the last record) and the anchor
-- (the hash of the last record pruned, which the first remaining record chains to).
CREATE TABLE audit_records (
    sequence      BIGINT PRIMARY KEY,
    recorded_at   BIGINT NOT NULL,
    request_id    TEXT COLLATE "C" NOT NULL,
    channel       TEXT COLLATE "C" NOT NULL,
    access_key_id TEXT COLLATE "C",
    operation     TEXT COLLATE "C" NOT NULL,
    resources     TEXT COLLATE "C" NOT NULL,
    source        TEXT COLLATE "C",
    user_agent    TEXT COLLATE "C",
    status        BIGINT NOT NULL,
    error_code    TEXT COLLATE "C",
    hash          TEXT COLLATE "C" NOT NULL
);
CREATE INDEX ix_audit_records_recorded_at ON audit_records (recorded_at);
CREATE INDEX ix_audit_records_access_key ON audit_records (access_key_id, sequence);
CREATE INDEX ix_audit_records_operation ON audit_records (operation, sequence);

CREATE TABLE audit_chain (
    id              BIGINT PRIMARY KEY CHECK (id = 1),
    last_sequence   BIGINT NOT NULL,
    last_hash       TEXT COLLATE "C" NOT NULL,
    anchor_sequence BIGINT NOT NULL,
    anchor_hash     TEXT COLLATE "C" NOT NULL
);
INSERT INTO audit_chain (id, last_sequence, last_hash, anchor_sequence, anchor_hash)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000', 0, '0000000000000000000000000000000000000000000000000000000000000000');
