-- Fleetkey schema 2: CA and device certificates, thing principals, policies and their versions.

CREATE TABLE ca_certificates (
    certificate_id    TEXT PRIMARY KEY,
    pem               TEXT NOT NULL,
    subject           TEXT NOT NULL,
    status            TEXT NOT NULL,
    auto_registration TEXT NOT NULL,
    managed           INTEGER NOT NULL,
    not_before        INTEGER NOT NULL,
    not_after         INTEGER NOT NULL,
    created_at        INTEGER NOT NULL,
    last_modified_at  INTEGER NOT NULL,
    customer_version  INTEGER NOT NULL,
    generation_id     TEXT NOT NULL
);

CREATE TABLE certificates (
    certificate_id    TEXT PRIMARY KEY,
    ca_certificate_id TEXT,
    status            TEXT NOT NULL,
    pem               TEXT NOT NULL,
    certificate_mode  TEXT NOT NULL,
    not_before        INTEGER NOT NULL,
    not_after         INTEGER NOT NULL,
    created_at        INTEGER NOT NULL,
    last_modified_at  INTEGER NOT NULL,
    customer_version  INTEGER NOT NULL,
    generation_id     TEXT NOT NULL
);
CREATE INDEX ix_certificates_created ON certificates (created_at, certificate_id);
CREATE INDEX ix_certificates_ca ON certificates (ca_certificate_id, created_at, certificate_id);

-- A principal is kept as kind + id ('cert', certificate id); its ARN is rendered per request.
CREATE TABLE thing_principals (
    thing_name     TEXT NOT NULL REFERENCES things (name),
    principal_kind TEXT NOT NULL,
    principal_id   TEXT NOT NULL,
    principal_type TEXT NOT NULL,
    attached_at    INTEGER NOT NULL,
    PRIMARY KEY (thing_name, principal_kind, principal_id)
);
CREATE INDEX ix_thing_principals_principal ON thing_principals (principal_kind, principal_id, thing_name);

CREATE TABLE policies (
    name               TEXT PRIMARY KEY,
    default_version_id INTEGER NOT NULL,
    next_version_id    INTEGER NOT NULL,
    created_at         INTEGER NOT NULL,
    last_modified_at   INTEGER NOT NULL,
    generation_id      TEXT NOT NULL
);

CREATE INDEX ix_policies_created ON policies (created_at, name);

CREATE TABLE policy_versions (
    policy_name TEXT NOT NULL REFERENCES policies (name) ON DELETE CASCADE,
    version_id  INTEGER NOT NULL,
    document    TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (policy_name, version_id)
);

-- Targets: ('cert', certificate id) or ('thinggroup', group name).
CREATE TABLE policy_targets (
    policy_name TEXT NOT NULL REFERENCES policies (name),
    target_kind TEXT NOT NULL,
    target_id   TEXT NOT NULL,
    attached_at INTEGER NOT NULL,
    PRIMARY KEY (policy_name, target_kind, target_id)
);
CREATE INDEX ix_policy_targets_target ON policy_targets (target_kind, target_id, policy_name);
