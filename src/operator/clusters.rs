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

/// A deleted cluster whose teardown by the provisioning driver has not succeeded yet.
#[derive(Debug, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Teardown {
    pub id: String,
    pub org_id: String,
    pub name: Option<String>,
    pub deleted: Option<String>,
    /// Failed attempts so far.
    pub attempts: i64,
    pub next_attempt: Option<String>,
    /// The last failure's stderr excerpt (secret values masked).
    pub last_error: Option<String>,
}

pub async fn deleting(store: &dyn Store) -> anyhow::Result<Vec<Teardown>> {
    let states = store.deleting_clusters().await?;
    Ok(states
        .into_iter()
        .map(|s| {
            let name = s
                .snapshot
                .as_deref()
                .and_then(|text| serde_json::from_str::<serde_json::Value>(text).ok())
                .and_then(|doc| doc.get("name")?.as_str().map(str::to_string));
            Teardown {
                id: s.cluster_id,
                org_id: s.org_id,
                name,
                deleted: s.deleted_at.map(Timestamp::to_rfc3339),
                attempts: s.attempts,
                next_attempt: (s.attempts > 0).then(|| s.next_attempt_at.to_rfc3339()),
                last_error: s.last_error,
            }
        })
        .collect())
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
