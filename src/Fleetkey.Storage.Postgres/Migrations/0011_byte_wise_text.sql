-- Fleetkey schema 11 (PostgreSQL): every text column compares byte-wise (COLLATE "C"), as every
-- SQLite TEXT column does (its BINARY collation). Schemas 1 to 10 gave COLLATE "C" only to the names
-- that pages and prefix ranges run over; the other text columns took the database's default
-- collation, which on most servers is a locale (en_US.UTF-8). Their values (hex digests, UUIDs,
-- serial numbers, addresses) happened to sort alike either way, but an ORDER BY on them depended on
-- the server's locale, comparisons paid for it, and their indexes (ix_device_attempts_serial,
-- things.thing_id's UNIQUE, the device tables' keys, …) could go out of order when an operating-system
-- upgrade changed the locale's sort order. The twin test (MigrationTwinTests) now requires it.
-- SQLite's 0011 changes nothing; it keeps the two stores' schema versions equal, which exports need.
--
-- Only the collation changes: no table is rewritten; the indexes on these columns are rebuilt.

ALTER TABLE access_keys
    ALTER COLUMN secret_access_key TYPE TEXT COLLATE "C",
    ALTER COLUMN description TYPE TEXT COLLATE "C";
ALTER TABLE thing_types
    ALTER COLUMN thing_type_id TYPE TEXT COLLATE "C",
    ALTER COLUMN description TYPE TEXT COLLATE "C",
    ALTER COLUMN searchable_attributes TYPE TEXT COLLATE "C",
    ALTER COLUMN mqtt5_configuration TYPE TEXT COLLATE "C";
ALTER TABLE things
    ALTER COLUMN thing_id TYPE TEXT COLLATE "C",
    ALTER COLUMN attributes TYPE TEXT COLLATE "C";
ALTER TABLE thing_groups
    ALTER COLUMN thing_group_id TYPE TEXT COLLATE "C",
    ALTER COLUMN description TYPE TEXT COLLATE "C",
    ALTER COLUMN attributes TYPE TEXT COLLATE "C";
ALTER TABLE tags
    ALTER COLUMN tag_value TYPE TEXT COLLATE "C";
ALTER TABLE ca_certificates
    ALTER COLUMN pem TYPE TEXT COLLATE "C",
    ALTER COLUMN subject TYPE TEXT COLLATE "C",
    ALTER COLUMN status TYPE TEXT COLLATE "C",
    ALTER COLUMN auto_registration TYPE TEXT COLLATE "C",
    ALTER COLUMN generation_id TYPE TEXT COLLATE "C",
    ALTER COLUMN certificate_mode TYPE TEXT COLLATE "C",
    ALTER COLUMN template_body TYPE TEXT COLLATE "C",
    ALTER COLUMN role_arn TYPE TEXT COLLATE "C";
ALTER TABLE certificates
    ALTER COLUMN status TYPE TEXT COLLATE "C",
    ALTER COLUMN pem TYPE TEXT COLLATE "C",
    ALTER COLUMN certificate_mode TYPE TEXT COLLATE "C",
    ALTER COLUMN generation_id TYPE TEXT COLLATE "C";
ALTER TABLE thing_principals
    ALTER COLUMN principal_type TYPE TEXT COLLATE "C";
ALTER TABLE policies
    ALTER COLUMN generation_id TYPE TEXT COLLATE "C";
ALTER TABLE policy_versions
    ALTER COLUMN document TYPE TEXT COLLATE "C";
ALTER TABLE ca_material
    ALTER COLUMN root_certificate_pem TYPE TEXT COLLATE "C",
    ALTER COLUMN root_key_pem TYPE TEXT COLLATE "C",
    ALTER COLUMN issuing_certificate_pem TYPE TEXT COLLATE "C",
    ALTER COLUMN issuing_key_pem TYPE TEXT COLLATE "C";
ALTER TABLE device_key_pool
    ALTER COLUMN algorithm TYPE TEXT COLLATE "C";
ALTER TABLE provisioning_templates
    ALTER COLUMN description TYPE TEXT COLLATE "C",
    ALTER COLUMN template_type TYPE TEXT COLLATE "C",
    ALTER COLUMN provisioning_role_arn TYPE TEXT COLLATE "C",
    ALTER COLUMN hook_target_arn TYPE TEXT COLLATE "C",
    ALTER COLUMN hook_payload_version TYPE TEXT COLLATE "C";
ALTER TABLE provisioning_template_versions
    ALTER COLUMN body TYPE TEXT COLLATE "C";
ALTER TABLE enrollment_groups
    ALTER COLUMN serial_number_pattern TYPE TEXT COLLATE "C",
    ALTER COLUMN parameters TYPE TEXT COLLATE "C",
    ALTER COLUMN group_key TYPE TEXT COLLATE "C",
    ALTER COLUMN group_key_kek_salt TYPE TEXT COLLATE "C",
    ALTER COLUMN region TYPE TEXT COLLATE "C";
ALTER TABLE enrollments
    ALTER COLUMN parameters TYPE TEXT COLLATE "C",
    ALTER COLUMN device_secret TYPE TEXT COLLATE "C",
    ALTER COLUMN device_secret_kek_salt TYPE TEXT COLLATE "C",
    ALTER COLUMN region TYPE TEXT COLLATE "C";
ALTER TABLE device_signatures
    ALTER COLUMN signature_hash TYPE TEXT COLLATE "C";
ALTER TABLE device_registrations
    ALTER COLUMN certificate_id TYPE TEXT COLLATE "C",
    ALTER COLUMN serial_number TYPE TEXT COLLATE "C";
ALTER TABLE device_attempts
    ALTER COLUMN attempt_id TYPE TEXT COLLATE "C",
    ALTER COLUMN serial_number TYPE TEXT COLLATE "C",
    ALTER COLUMN source_address TYPE TEXT COLLATE "C",
    ALTER COLUMN outcome TYPE TEXT COLLATE "C",
    ALTER COLUMN reason TYPE TEXT COLLATE "C",
    ALTER COLUMN certificate_id TYPE TEXT COLLATE "C";
ALTER TABLE registration_codes
    ALTER COLUMN code TYPE TEXT COLLATE "C";
ALTER TABLE fleet_ownership_tokens
    ALTER COLUMN token_hash TYPE TEXT COLLATE "C",
    ALTER COLUMN certificate_id TYPE TEXT COLLATE "C",
    ALTER COLUMN claim_certificate_id TYPE TEXT COLLATE "C",
    ALTER COLUMN client_id TYPE TEXT COLLATE "C";
ALTER TABLE provisioning_claims
    ALTER COLUMN certificate_id TYPE TEXT COLLATE "C",
    ALTER COLUMN template_name TYPE TEXT COLLATE "C";
