-- Fleetkey schema 1 (PostgreSQL): access keys and the thing registry. Same tables as SQLite's;
-- names compare byte-wise (COLLATE "C") so keyset pages and prefix ranges match the SQLite store.

CREATE TABLE access_keys (
    access_key_id     TEXT COLLATE "C" PRIMARY KEY,
    secret_access_key TEXT NOT NULL,
    description       TEXT,
    created_at        BIGINT NOT NULL
);

CREATE TABLE thing_types (
    name                  TEXT COLLATE "C" PRIMARY KEY,
    thing_type_id         TEXT NOT NULL UNIQUE,
    description           TEXT,
    searchable_attributes TEXT NOT NULL,
    mqtt5_configuration   TEXT,
    deprecated            BIGINT NOT NULL DEFAULT 0,
    deprecated_at         BIGINT,
    created_at            BIGINT NOT NULL
);

CREATE TABLE things (
    name       TEXT COLLATE "C" PRIMARY KEY,
    thing_id   TEXT NOT NULL UNIQUE,
    type_name  TEXT COLLATE "C" REFERENCES thing_types (name),
    attributes TEXT NOT NULL,
    version    BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX ix_things_type ON things (type_name, name);

CREATE TABLE thing_attributes (
    thing_name TEXT COLLATE "C" NOT NULL REFERENCES things (name) ON DELETE CASCADE,
    name       TEXT COLLATE "C" NOT NULL,
    value      TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (thing_name, name)
);
CREATE INDEX ix_thing_attributes_value ON thing_attributes (name, value, thing_name);

CREATE TABLE thing_groups (
    name           TEXT COLLATE "C" PRIMARY KEY,
    thing_group_id TEXT NOT NULL UNIQUE,
    parent_name    TEXT COLLATE "C" REFERENCES thing_groups (name),
    path           TEXT COLLATE "C" NOT NULL UNIQUE,
    description    TEXT,
    attributes     TEXT NOT NULL,
    version        BIGINT NOT NULL,
    created_at     BIGINT NOT NULL
);
CREATE INDEX ix_thing_groups_parent ON thing_groups (parent_name, name);

CREATE TABLE thing_group_members (
    group_name TEXT COLLATE "C" NOT NULL REFERENCES thing_groups (name) ON DELETE CASCADE,
    thing_name TEXT COLLATE "C" NOT NULL REFERENCES things (name) ON DELETE CASCADE,
    added_at   BIGINT NOT NULL,
    PRIMARY KEY (group_name, thing_name)
);
CREATE INDEX ix_thing_group_members_thing ON thing_group_members (thing_name, group_name);

CREATE TABLE tags (
    resource_kind TEXT COLLATE "C" NOT NULL,
    resource_name TEXT COLLATE "C" NOT NULL,
    tag_key       TEXT COLLATE "C" NOT NULL,
    tag_value     TEXT NOT NULL,
    PRIMARY KEY (resource_kind, resource_name, tag_key)
);
