-- Fleetkey schema 8: CA certificates registered by customers (RegisterCACertificate) and the account's
-- registration code.
--
-- ca_certificates gains the certificate mode (DEFAULT or SNI_ONLY) and the registration config a
-- just-in-time provisioning CA carries: a template body (with its role) or the name of a JITP template.
ALTER TABLE ca_certificates ADD COLUMN certificate_mode TEXT NOT NULL DEFAULT 'DEFAULT';
ALTER TABLE ca_certificates ADD COLUMN template_body TEXT;
ALTER TABLE ca_certificates ADD COLUMN template_name TEXT;
ALTER TABLE ca_certificates ADD COLUMN role_arn TEXT;
CREATE INDEX ix_ca_certificates_created ON ca_certificates (created_at, certificate_id);
CREATE INDEX ix_ca_certificates_template ON ca_certificates (template_name);

-- registration_codes: the code a CA owner puts as CN of a verification certificate (GetRegistrationCode),
-- one per account, kept until DeleteRegistrationCode.
CREATE TABLE registration_codes (
    account_id TEXT PRIMARY KEY,
    code       TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
