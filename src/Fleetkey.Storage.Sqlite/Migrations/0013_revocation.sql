-- Fleetkey schema 13: revocation others can check (issue 19): CRLs and OCSP for the issuing CA.
--
-- certificates.serial_number: the serial number as lowercase hex of its DER INTEGER content octets,
-- so that OCSP finds a certificate by (serial, issuer) with one index seek. Null for rows written
-- before this schema until the server fills it in at start (it parses each PEM once).
ALTER TABLE certificates ADD COLUMN serial_number TEXT;
CREATE INDEX ix_certificates_serial ON certificates (serial_number, ca_certificate_id);

-- The CRL lists a CA's certificates that are not ACTIVE: one seek per status.
CREATE INDEX ix_certificates_ca_status ON certificates (ca_certificate_id, status);

-- A deleted certificate of a CA stays on its CRL (and revoked for OCSP) until it expires: the row
-- DeleteCertificate removes leaves its revocation facts here. status and revoked_at are the
-- certificate's status and last change when it was deleted. A certificate registered again later is
-- found in certificates first; its tombstone then says nothing.
CREATE TABLE certificate_tombstones (
    certificate_id    TEXT NOT NULL PRIMARY KEY,
    ca_certificate_id TEXT NOT NULL,
    serial_number     TEXT NOT NULL,
    status            TEXT NOT NULL,
    revoked_at        INTEGER NOT NULL,
    not_after         INTEGER NOT NULL
);
CREATE INDEX ix_certificate_tombstones_serial ON certificate_tombstones (serial_number, ca_certificate_id);
CREATE INDEX ix_certificate_tombstones_ca ON certificate_tombstones (ca_certificate_id, not_after);

-- The last CRL number each CA's CRL carried: every node takes the next from here, so the number
-- grows across rebuilds, restarts and nodes. A number is at least the Unix time in milliseconds at
-- which it was taken, so a store that starts without this row (an import) still continues upwards.
CREATE TABLE crl_numbers (
    ca_certificate_id TEXT NOT NULL PRIMARY KEY,
    crl_number        INTEGER NOT NULL
);
