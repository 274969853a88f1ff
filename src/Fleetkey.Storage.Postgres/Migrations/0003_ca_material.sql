-- Fleetkey schema 3: the CA's certificates and (possibly encrypted) keys, for installations whose
-- nodes share one database instead of a data directory. One row; the first node to start writes it.

CREATE TABLE ca_material (
    id                      BIGINT PRIMARY KEY CHECK (id = 1),
    root_certificate_pem    TEXT NOT NULL,
    root_key_pem            TEXT NOT NULL,
    issuing_certificate_pem TEXT NOT NULL,
    issuing_key_pem         TEXT NOT NULL,
    keys_encrypted          BIGINT NOT NULL,
    created_at              BIGINT NOT NULL
);
