-- Fleetkey schema 2 (PostgreSQL): CA and device certificates, thing principals, policies and their versions.

CREATE TABLE ca_certificates (
    certificate_id    TEXT COLLATE "C" PRIMARY KEY,
    pem               TEXT NOT NULL,
    subject           TEXT NOT NULL,
    status            TEXT NOT NULL,
    auto_registration TEXT NOT NULL,
    managed           BIGINT NOT NULL,
    not_before        BIGINT NOT NULL,
    not_after         BIGINT NOT NULL,
    created_at        BIGINT NOT NULL,
    last_modified_at  BIGINT NOT NULL,
    customer_version  BIGINT NOT NULL,
    generation_id     TEXT NOT NULL
);

CREATE TABLE certificates (
    certificate_id    TEXT COLLATE "C" PRIMARY KEY,
    ca_certificate_id TEXT COLLATE "C",
    status            TEXT NOT NULL,
    pem               TEXT NOT NULL,
    certificate_mode  TEXT NOT NULL,
    not_before        BIGINT NOT NULL,
    not_after         BIGINT NOT NULL,
    created_at        BIGINT NOT NULL,
    last_modified_at  BIGINT NOT NULL,
    customer_version  BIGINT NOT NULL,
    generation_id     TEXT NOT NULL
);
CREATE INDEX ix_certificates_created ON certificates (created_at, certificate_id);
CREATE INDEX ix_certificates_ca ON certificates (ca_certificate_id, created_at, certificate_id);

-- A principal is kept as kind + id ('cert', certificate id); its ARN is rendered per request.
CREATE TABLE thing_principals (
    thing_name     TEXT COLLATE "C" NOT NULL REFERENCES things (name),
    principal_kind TEXT COLLATE "C" NOT NULL,
    principal_id   TEXT COLLATE "C" NOT NULL,
    principal_type TEXT NOT NULL,
    attached_at    BIGINT NOT NULL,
    PRIMARY KEY (thing_name, principal_kind, principal_id)
);
CREATE INDEX ix_thing_principals_principal ON thing_principals (principal_kind, principal_id, thing_name);

CREATE TABLE policies (
    name               TEXT COLLATE "C" PRIMARY KEY,
    default_version_id BIGINT NOT NULL,
    next_version_id    BIGINT NOT NULL,
    created_at         BIGINT NOT NULL,
    last_modified_at   BIGINT NOT NULL,
    generation_id      TEXT NOT NULL
);

CREATE INDEX ix_policies_created ON policies (created_at, name);

CREATE TABLE policy_versions (
    policy_name TEXT COLLATE "C" NOT NULL REFERENCES policies (name) ON DELETE CASCADE,
    version_id  BIGINT NOT NULL,
    document    TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (policy_name, version_id)
);

-- Targets: ('cert', certificate id) or ('thinggroup', group name).
CREATE TABLE policy_targets (
    policy_name TEXT COLLATE "C" NOT NULL REFERENCES policies (name),
    target_kind TEXT COLLATE "C" NOT NULL,
    target_id   TEXT COLLATE "C" NOT NULL,
    attached_at BIGINT NOT NULL,
    PRIMARY KEY (policy_name, target_kind, target_id)
);
CREATE INDEX ix_policy_targets_target ON policy_targets (target_kind, target_id, policy_name);
