-- Lifecycle operations of a cluster: backups, bring-your-own monitoring and secure
-- connectivity. Each table hangs off `clusters` with ON DELETE CASCADE, so deleting a
-- cluster removes everything it owns. Instants are milliseconds since the Unix epoch (UTC).

CREATE TABLE backups (
    id               TEXT PRIMARY KEY,
    cluster_id       TEXT NOT NULL REFERENCES clusters(id) ON DELETE CASCADE,
    org_id           TEXT NOT NULL,
    name             TEXT NOT NULL,
    -- 'In progress', 'Failed', 'Complete' or '-' (the API's BackupStatus values).
    status           TEXT NOT NULL,
    zeebe_status     TEXT NOT NULL,
    operate_status   TEXT NOT NULL,
    tasklist_status  TEXT NOT NULL,
    optimize_status  TEXT NOT NULL,
    created_at       BIGINT NOT NULL,
    completed_at     BIGINT,
    -- Incremented by every change; the reconciler's writes compare it.
    version          BIGINT NOT NULL
);
CREATE INDEX backups_cluster ON backups(cluster_id, created_at);
CREATE INDEX backups_status ON backups(status);

-- One row per cluster whose monitoring (the metrics endpoint) is active.
CREATE TABLE monitoring (
    cluster_id    TEXT PRIMARY KEY REFERENCES clusters(id) ON DELETE CASCADE,
    org_id        TEXT NOT NULL,
    activated_at  BIGINT NOT NULL
);

-- Credentials for the metrics endpoint. Only a keyed hash of the password is kept.
CREATE TABLE monitoring_clients (
    id               TEXT PRIMARY KEY,
    cluster_id       TEXT NOT NULL REFERENCES monitoring(cluster_id) ON DELETE CASCADE,
    org_id           TEXT NOT NULL,
    username         TEXT NOT NULL,
    password_hash    BYTEA NOT NULL,
    created_at       BIGINT NOT NULL,
    created_by       TEXT NOT NULL,
    created_by_name  TEXT NOT NULL,
    last_used_at     BIGINT,
    CONSTRAINT monitoring_clients_username_unique UNIQUE (cluster_id, username)
);

-- The secure connectivity (private link) configuration of a cluster, while active.
CREATE TABLE secure_connectivity (
    cluster_id          TEXT PRIMARY KEY REFERENCES clusters(id) ON DELETE CASCADE,
    org_id              TEXT NOT NULL,
    -- JSON arrays of strings, validated before they are written.
    allowed_principals  TEXT NOT NULL,
    allowed_regions     TEXT NOT NULL,
    -- Incremented by every change of the spec (`observedGeneration` on the wire).
    generation          BIGINT NOT NULL,
    activated_at        BIGINT NOT NULL,
    updated_at          BIGINT NOT NULL
);
