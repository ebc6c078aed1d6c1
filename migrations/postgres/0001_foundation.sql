-- Instants are milliseconds since the Unix epoch (UTC).

CREATE TABLE organizations (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);

CREATE TABLE api_clients (
    client_id    TEXT PRIMARY KEY,
    org_id       TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    scopes       TEXT NOT NULL,
    secret_hash  BYTEA NOT NULL,
    -- Incremented when the secret is rotated; tokens carry the generation they were issued at.
    secret_generation BIGINT NOT NULL,
    created_at   BIGINT NOT NULL
);
CREATE INDEX api_clients_org ON api_clients(org_id);

-- Token signing keys. The private key is encrypted under the master key.
CREATE TABLE signing_keys (
    kid            TEXT PRIMARY KEY,
    algorithm      TEXT NOT NULL,
    private_key    BYTEA NOT NULL,
    public_key     BYTEA NOT NULL,
    created_at     BIGINT NOT NULL,
    retired_at     BIGINT
);

CREATE TABLE clusters (
    id                    TEXT PRIMARY KEY,
    org_id                TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    name                  TEXT NOT NULL,
    description           TEXT,
    channel_id            TEXT NOT NULL,
    generation_id         TEXT NOT NULL,
    region_id             TEXT NOT NULL,
    plan_type_id          TEXT NOT NULL,
    backup_region_id      TEXT,
    auto_update           BOOLEAN NOT NULL,
    stage_label           TEXT,
    hardware_packages     DOUBLE PRECISION NOT NULL,
    status                TEXT NOT NULL,
    zeebe_status          TEXT NOT NULL,
    operate_status        TEXT NOT NULL,
    tasklist_status       TEXT NOT NULL,
    optimize_status       TEXT NOT NULL,
    connectors_status     TEXT NOT NULL,
    target_generation_id  TEXT,
    status_since          BIGINT NOT NULL,
    created_at            BIGINT NOT NULL,
    version               BIGINT NOT NULL
);
CREATE INDEX clusters_org ON clusters(org_id, created_at);
CREATE INDEX clusters_status ON clusters(status);

CREATE TABLE zeebe_clients (
    id           TEXT PRIMARY KEY,
    cluster_id   TEXT NOT NULL REFERENCES clusters(id) ON DELETE CASCADE,
    org_id       TEXT NOT NULL,
    client_id    TEXT NOT NULL UNIQUE,
    name         TEXT NOT NULL,
    secret_hash  BYTEA NOT NULL,
    permissions  TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    CONSTRAINT zeebe_clients_name_unique UNIQUE (cluster_id, name)
);

CREATE TABLE audit_events (
    seq               BIGSERIAL PRIMARY KEY,
    id                TEXT NOT NULL UNIQUE,
    org_id            TEXT NOT NULL,
    ts                BIGINT NOT NULL,
    service           TEXT NOT NULL,
    audit_type        TEXT NOT NULL,
    audit             TEXT NOT NULL,
    entity            TEXT NOT NULL,
    entity_id         TEXT NOT NULL,
    entity_attribute  TEXT,
    value_from        TEXT,
    value_to          TEXT,
    parent_entity     TEXT,
    parent_entity_id  TEXT,
    user_id           TEXT NOT NULL
);
CREATE INDEX audit_events_org ON audit_events(org_id, seq);
