-- Fleetkey schema 10: the device endpoint's rates and regions (issue 16).
--
-- device_attempts.authenticated: 1 once the request's SharedAccessSignature verified for its serial
-- number (and was used up). The per-serial rate counts only these rows: a request anyone can send
-- (a wrong signature, a replayed token, a bad body) counts against its source address only, so it
-- cannot use up a device's budget. The partial index serves that count without reading the serial's
-- unauthenticated rows, however many an attacker made.
ALTER TABLE device_attempts ADD COLUMN authenticated INTEGER NOT NULL DEFAULT 0;
CREATE INDEX ix_device_attempts_serial_authenticated ON device_attempts (serial_number, attempted_at) WHERE authenticated = 1;

-- region: the region of the signed request that created the enrollment (null for rows made before
-- this schema, or by the CLI, which has no region: the installation's default region applies). The
-- device endpoint answers in it, so the ARNs a device gets match the enrollment's.
ALTER TABLE enrollment_groups ADD COLUMN region TEXT;
ALTER TABLE enrollments ADD COLUMN region TEXT;
