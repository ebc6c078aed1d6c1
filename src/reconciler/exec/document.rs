//! The documents a driver command receives, built from the stored cluster and catalog.

use anyhow::Context;

use crate::auth::token::cluster_audience;
use crate::catalog::Catalog;
use crate::crypto::Keyring;
use crate::domain::backup::Backup;
use crate::domain::cluster::Cluster;
use crate::domain::provisioning::{
    AllowlistEntryRef, AuthDocument, BackupDocument, ClusterDocument, GenerationRef, NamedRef,
    RegionRef,
};
use crate::storage::{BackupDeletion, Store};

/// The claims a cluster reads a client's identity and cluster from in consoled's tokens.
pub const CLIENT_ID_CLAIM: &str = "azp";
pub const CLUSTER_ID_CLAIM: &str = "https://camunda.com/clusterId";

/// Where tokens come from, for the `auth` part of every document.
#[derive(Debug, Clone)]
pub struct AuthSettings {
    pub issuer: String,
    pub base_domain: String,
}

impl AuthSettings {
    pub fn for_cluster(&self, cluster_id: &str) -> AuthDocument {
        AuthDocument {
            issuer: self.issuer.clone(),
            jwks_uri: format!("{}/.well-known/jwks.json", self.issuer),
            audience: cluster_audience(cluster_id, &self.base_domain),
            client_id_claim: CLIENT_ID_CLAIM.into(),
            cluster_id_claim: CLUSTER_ID_CLAIM.into(),
        }
    }
}

/// A catalog id with its name; an id the catalog no longer lists is named by itself.
fn named(id: &str, name: Option<&str>) -> NamedRef {
    NamedRef {
        uuid: id.to_string(),
        name: name.unwrap_or(id).to_string(),
    }
}

/// The cluster as the driver receives it, its connector secrets decrypted.
pub async fn build(
    cluster: &Cluster,
    catalog: &Catalog,
    store: &dyn Store,
    keyring: &Keyring,
) -> anyhow::Result<ClusterDocument> {
    let generation_id = crate::domain::provisioning::target_generation(cluster);
    let generation = catalog.generation(generation_id);
    let region = catalog.region(&cluster.region_id);
    let mut connector_secrets = std::collections::BTreeMap::new();
    for secret in store
        .connector_secrets(&cluster.org_id, &cluster.id)
        .await?
    {
        let value = secret.reveal(keyring).with_context(|| {
            format!(
                "connector secret {:?} of cluster {} does not decrypt under the master key",
                secret.name, cluster.id
            )
        })?;
        connector_secrets.insert(secret.name, value);
    }
    Ok(ClusterDocument {
        uuid: cluster.id.clone(),
        name: cluster.name.clone(),
        org_id: cluster.org_id.clone(),
        plan_type: named(
            &cluster.plan_type_id,
            catalog
                .plan_type(&cluster.plan_type_id)
                .map(|p| p.name.as_str()),
        ),
        channel: named(
            &cluster.channel_id,
            catalog
                .channel(&cluster.channel_id)
                .map(|c| c.name.as_str()),
        ),
        generation: GenerationRef {
            uuid: generation_id.to_string(),
            name: generation
                .map_or(generation_id, |g| g.name.as_str())
                .to_string(),
            versions: generation.map(|g| g.versions.clone()).unwrap_or_default(),
        },
        region: RegionRef {
            uuid: cluster.region_id.clone(),
            name: region
                .map_or(cluster.region_id.as_str(), |r| r.name.as_str())
                .to_string(),
            short: region.map(|r| r.short.clone()).unwrap_or_default(),
        },
        stage_label: cluster.stage_label.map(|l| l.as_str().to_string()),
        ip_allowlist: cluster
            .ip_allowlist
            .iter()
            .map(|e| AllowlistEntryRef {
                ip: e.ip.clone(),
                description: e.description.clone(),
            })
            .collect(),
        connector_secrets,
    })
}

/// A backup in progress.
pub fn backup(backup: &Backup) -> BackupDocument {
    BackupDocument {
        uuid: backup.id.clone(),
        name: backup.name.clone(),
        created_at: backup.created_at.to_rfc3339(),
    }
}

/// A backup deleted through the API.
pub fn deleted_backup(deletion: &BackupDeletion) -> BackupDocument {
    BackupDocument {
        uuid: deletion.backup_id.clone(),
        name: deletion.name.clone(),
        created_at: deletion.created_at.to_rfc3339(),
    }
}
