-- Fleetkey schema 5: provisioning templates (CreateProvisioningTemplate) and their versions.
-- A version's id is never reused: next_version_id only grows. hook_* hold the pre-provisioning hook.

CREATE TABLE provisioning_templates (
    name                  TEXT PRIMARY KEY,
    description           TEXT,
    enabled               INTEGER NOT NULL,
    template_type         TEXT NOT NULL,
    provisioning_role_arn TEXT NOT NULL,
    hook_target_arn       TEXT,
    hook_payload_version  TEXT,
    default_version_id    INTEGER NOT NULL,
    next_version_id       INTEGER NOT NULL,
    created_at            INTEGER NOT NULL,
    last_modified_at      INTEGER NOT NULL
);

CREATE TABLE provisioning_template_versions (
    template_name TEXT NOT NULL REFERENCES provisioning_templates (name) ON DELETE CASCADE,
    version_id    INTEGER NOT NULL,
    body          TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    PRIMARY KEY (template_name, version_id)
);
