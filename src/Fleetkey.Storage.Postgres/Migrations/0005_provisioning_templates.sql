-- Fleetkey schema 5 (PostgreSQL): provisioning templates (CreateProvisioningTemplate) and their versions.
-- A version's id is never reused: next_version_id only grows. hook_* hold the pre-provisioning hook.

CREATE TABLE provisioning_templates (
    name                  TEXT COLLATE "C" PRIMARY KEY,
    description           TEXT,
    enabled               BIGINT NOT NULL,
    template_type         TEXT NOT NULL,
    provisioning_role_arn TEXT NOT NULL,
    hook_target_arn       TEXT,
    hook_payload_version  TEXT,
    default_version_id    BIGINT NOT NULL,
    next_version_id       BIGINT NOT NULL,
    created_at            BIGINT NOT NULL,
    last_modified_at      BIGINT NOT NULL
);

CREATE TABLE provisioning_template_versions (
    template_name TEXT COLLATE "C" NOT NULL REFERENCES provisioning_templates (name) ON DELETE CASCADE,
    version_id    BIGINT NOT NULL,
    body          TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    PRIMARY KEY (template_name, version_id)
);
