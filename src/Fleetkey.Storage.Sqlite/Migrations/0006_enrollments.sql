-- Fleetkey schema 6: enrollments, the serial numbers the device endpoint registers.
-- An enrollment group admits every serial matching its pattern (all when it has none) with the device
-- secret HMAC-SHA256(group key, serial); an individual enrollment is one serial with its own secret and
-- wins over every group. Keys and secrets are 32 random bytes kept as base64 text: in the clear when
-- the *_kek_salt column is null (no CA passphrase, like the CA keys), else sealed with AES-256-GCM
-- under a key derived from the CA passphrase and that salt (base64), bound to the row's name.
-- parameters: the fixed template parameters, a JSON object of strings.

CREATE TABLE enrollment_groups (
    name                   TEXT PRIMARY KEY,
    template_name          TEXT NOT NULL,
    serial_number_pattern  TEXT,
    allow_reprovisioning   INTEGER NOT NULL,
    enabled                INTEGER NOT NULL,
    parameters             TEXT NOT NULL,
    group_key              TEXT NOT NULL,
    group_key_kek_salt     TEXT,
    created_at             INTEGER NOT NULL,
    last_modified_at       INTEGER NOT NULL
);
CREATE INDEX ix_enrollment_groups_template ON enrollment_groups (template_name);

CREATE TABLE enrollments (
    serial_number          TEXT PRIMARY KEY,
    template_name          TEXT NOT NULL,
    allow_reprovisioning   INTEGER NOT NULL,
    enabled                INTEGER NOT NULL,
    parameters             TEXT NOT NULL,
    device_secret          TEXT NOT NULL,
    device_secret_kek_salt TEXT,
    created_at             INTEGER NOT NULL,
    last_modified_at       INTEGER NOT NULL
);
CREATE INDEX ix_enrollments_template ON enrollments (template_name);
