-- Fleetkey schema 7: the device endpoint (POST /device/register on the device listener).
--
-- device_signatures: the SharedAccessSignature tokens already accepted, by SHA-256 of the signature
-- (never the signature itself), until they expire; the primary key makes a token usable once on every
-- node sharing the database. Rows past expires_at are pruned: an expired token is refused anyway.
CREATE TABLE device_signatures (
    signature_hash TEXT PRIMARY KEY,
    expires_at     BIGINT NOT NULL
);
CREATE INDEX ix_device_signatures_expires ON device_signatures (expires_at);

-- device_registrations: every certificate the endpoint issued, for whom and when, and when it was first
-- used to connect (set by the MQTT broker). A device whose answer was lost may register again while
-- its newest certificate is young and never connected.
CREATE TABLE device_registrations (
    certificate_id     TEXT PRIMARY KEY,
    serial_number      TEXT NOT NULL,
    registered_at      BIGINT NOT NULL,
    first_connected_at BIGINT
);
CREATE INDEX ix_device_registrations_serial ON device_registrations (serial_number, registered_at);

-- device_attempts: the audit log, one row per request (whatever its outcome), never a signature or a
-- secret. The rate limits count these rows, so they hold across nodes; rows older than the retention
-- are pruned. attempt_id is a time-ordered UUID (v7), so ids need no sequence across export/import.
CREATE TABLE device_attempts (
    attempt_id     TEXT PRIMARY KEY,
    attempted_at   BIGINT NOT NULL,
    serial_number  TEXT,
    source_address TEXT NOT NULL,
    outcome        TEXT NOT NULL,
    reason         TEXT,
    certificate_id TEXT
);
CREATE INDEX ix_device_attempts_serial ON device_attempts (serial_number, attempted_at);
CREATE INDEX ix_device_attempts_address ON device_attempts (source_address, attempted_at);
CREATE INDEX ix_device_attempts_time ON device_attempts (attempted_at);
