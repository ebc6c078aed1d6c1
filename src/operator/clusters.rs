//! `consoled clusters list|suspend`: operator actions on clusters of every organization.
//! They work on the database directly, next to a running server or without one; their
//! writes are the same conditional transitions the API and the reconciler make, so they
//! cannot clash.

use super::OPERATOR;
use crate::domain::audit::{AuditEntry, AuditType};
use crate::domain::cluster::{Cluster, ComponentStatus};
use crate::domain::Timestamp;
use crate::storage::Store;

/// The clusters of every organization.
pub async fn list(store: &dyn Store) -> anyhow::Result<Vec<Cluster>> {
    Ok(store.all_clusters().await?)
}

#[derive(Debug)]
pub enum Suspension {
    Suspended(Cluster),
    AlreadySuspended(Cluster),
}

/// Suspends a Healthy cluster. A concurrent change (the reconciler finishing a step, an
/// API request) makes the conditional write lose; the cluster is then read again.
pub async fn suspend(store: &dyn Store, id: &str, now: Timestamp) -> anyhow::Result<Suspension> {
    for _ in 0..3 {
        let Some(cluster) = store.cluster_by_id(id).await? else {
            anyhow::bail!("no cluster has the id {id:?}");
        };
        if cluster.status == ComponentStatus::Suspended {
            return Ok(Suspension::AlreadySuspended(cluster));
        }
        let suspended = cluster.suspend(now)?;
        let audit = AuditEntry::new(
            &cluster.org_id,
            OPERATOR,
            AuditType::Update,
            "cluster",
            &cluster.id,
            format!("Operator suspended cluster {:?}", cluster.name),
            now,
        )
        .with_change("status", Some("Healthy".into()), Some("Suspended".into()));
        if store
            .transition_cluster(&cluster, &suspended, &audit)
            .await?
        {
            return Ok(Suspension::Suspended(suspended));
        }
    }
    anyhow::bail!("cluster {id:?} keeps changing; try again")
}
