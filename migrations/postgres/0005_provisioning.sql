-- What the exec provisioning driver has done for each cluster, and what it still has to do.
-- One row per cluster the driver has handled. It has no foreign key to clusters on purpose:
-- when a cluster is deleted its row stays, marked deleted_at, until the driver's delete
-- step has succeeded, so a restart or the loss of a replica does not forget a teardown.

CREATE TABLE driver_state (
    cluster_id       TEXT PRIMARY KEY,
    org_id           TEXT NOT NULL,
    -- The cluster version last compared against what was applied (-1: never).
    seen_version     BIGINT NOT NULL,
    -- JSON: what the last successful step applied (keyed fingerprint, generation, suspended).
    applied          TEXT,
    -- JSON: the endpoints and health URLs the driver reported.
    report           TEXT,
    -- JSON: the cluster as last sent to the driver, secret values left out; sent again
    -- with the delete step once the cluster row is gone.
    snapshot         TEXT,
    deleted_at       BIGINT,
    -- The step being attempted ("create", ...) and its operation id, stable across retries.
    step             TEXT,
    operation_id     TEXT,
    attempts         BIGINT NOT NULL,
    next_attempt_at  BIGINT NOT NULL,
    -- The failed step's stderr excerpt, secret values masked.
    last_error       TEXT,
    -- The replica running a step now, and until when its claim holds without renewal.
    lease_owner      TEXT,
    lease_until      BIGINT NOT NULL,
    -- Health probing: when the next probe is due (claimed by moving it), and how many
    -- probes in a row have failed.
    next_probe_at    BIGINT NOT NULL,
    failed_probes    BIGINT NOT NULL
);
CREATE INDEX driver_state_due ON driver_state(next_attempt_at);
CREATE INDEX driver_state_probe ON driver_state(next_probe_at);

-- Backups deleted through the API whose driver delete-backup step has not succeeded yet.
-- Written with the deletion only for clusters the driver handles (those with a
-- driver_state row).
CREATE TABLE driver_backup_deletions (
    backup_id   TEXT PRIMARY KEY,
    cluster_id  TEXT NOT NULL,
    org_id      TEXT NOT NULL,
    name        TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    deleted_at  BIGINT NOT NULL
);
CREATE INDEX driver_backup_deletions_cluster ON driver_backup_deletions(cluster_id);
