-- Fleetkey schema 1: access keys and the thing registry.
-- Names are the keys: AWS IoT names are immutable, so rows reference each other by name.
-- Instants are Unix milliseconds; maps and lists are JSON text.

CREATE TABLE access_keys (
    access_key_id     TEXT PRIMARY KEY,
    secret_access_key TEXT NOT NULL,
    description       TEXT,
    created_at        INTEGER NOT NULL
);

CREATE TABLE thing_types (
    name                  TEXT PRIMARY KEY,
    thing_type_id         TEXT NOT NULL UNIQUE,
    description           TEXT,
    searchable_attributes TEXT NOT NULL,
    mqtt5_configuration   TEXT,
    deprecated            INTEGER NOT NULL DEFAULT 0,
    deprecated_at         INTEGER,
    created_at            INTEGER NOT NULL
);

CREATE TABLE things (
    name       TEXT PRIMARY KEY,
    thing_id   TEXT NOT NULL UNIQUE,
    type_name  TEXT REFERENCES thing_types (name),
    attributes TEXT NOT NULL,
    version    INTEGER NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX ix_things_type ON things (type_name, name);

CREATE TABLE thing_attributes (
    thing_name TEXT NOT NULL REFERENCES things (name) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    value      TEXT NOT NULL,
    PRIMARY KEY (thing_name, name)
);
CREATE INDEX ix_thing_attributes_value ON thing_attributes (name, value, thing_name);

CREATE TABLE thing_groups (
    name           TEXT PRIMARY KEY,
    thing_group_id TEXT NOT NULL UNIQUE,
    parent_name    TEXT REFERENCES thing_groups (name),
    path           TEXT NOT NULL UNIQUE,
    description    TEXT,
    attributes     TEXT NOT NULL,
    version        INTEGER NOT NULL,
    created_at     INTEGER NOT NULL
);
CREATE INDEX ix_thing_groups_parent ON thing_groups (parent_name, name);

CREATE TABLE thing_group_members (
    group_name TEXT NOT NULL REFERENCES thing_groups (name) ON DELETE CASCADE,
    thing_name TEXT NOT NULL REFERENCES things (name) ON DELETE CASCADE,
    added_at   INTEGER NOT NULL,
    PRIMARY KEY (group_name, thing_name)
);
CREATE INDEX ix_thing_group_members_thing ON thing_group_members (thing_name, group_name);

CREATE TABLE tags (
    resource_kind TEXT NOT NULL,
    resource_name TEXT NOT NULL,
    tag_key       TEXT NOT NULL,
    tag_value     TEXT NOT NULL,
    PRIMARY KEY (resource_kind, resource_name, tag_key)
);
