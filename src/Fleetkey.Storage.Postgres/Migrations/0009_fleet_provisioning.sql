-- Fleetkey schema 9: fleet provisioning by claim (the MQTT API) and provisioning claims.
--
-- fleet_ownership_tokens: the certificateOwnershipToken of each certificate made over MQTT
-- ($aws/certificates/create/..., create-from-csr/...), by SHA-256 of the token (never the token
-- itself), bound to the new certificate and to the claim connection (its certificate and client id),
-- until it expires (1 hour). A token is deleted when it is used, so it works once, on any node. When it
-- expires unused, the certificate (still PENDING_ACTIVATION, attached to nothing) is deleted with it.
CREATE TABLE fleet_ownership_tokens (
    token_hash           TEXT PRIMARY KEY,
    certificate_id       TEXT NOT NULL,
    claim_certificate_id TEXT NOT NULL,
    client_id            TEXT NOT NULL,
    created_at           BIGINT NOT NULL,
    expires_at           BIGINT NOT NULL
);
CREATE INDEX ix_fleet_ownership_tokens_expires ON fleet_ownership_tokens (expires_at);
CREATE INDEX ix_fleet_ownership_tokens_certificate ON fleet_ownership_tokens (certificate_id);

-- provisioning_claims: the temporary claim certificates of CreateProvisioningClaim, for the template
-- they may provision with, until they expire (5 minutes). ListCertificates does not list them; they
-- are deleted once expired.
CREATE TABLE provisioning_claims (
    certificate_id TEXT PRIMARY KEY,
    template_name  TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    expires_at     BIGINT NOT NULL
);
CREATE INDEX ix_provisioning_claims_expires ON provisioning_claims (expires_at);
