-- Cluster operations: the IP allowlist and connector secrets.

-- The allowlist as a JSON array of {"ip", "description"}, kept on the cluster row so that
-- listing clusters stays one query.
ALTER TABLE clusters ADD COLUMN ip_allowlist TEXT NOT NULL DEFAULT '[]';

-- Connector secrets. `sealed_value` is the value encrypted under the master key with the
-- cluster id and the name as associated data; the plaintext is never stored.
CREATE TABLE connector_secrets (
    cluster_id    TEXT NOT NULL REFERENCES clusters(id) ON DELETE CASCADE,
    org_id        TEXT NOT NULL,
    name          TEXT NOT NULL,
    sealed_value  BLOB NOT NULL,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    CONSTRAINT connector_secrets_name_unique PRIMARY KEY (cluster_id, name)
);
