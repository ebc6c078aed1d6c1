//! `consoled clusters ...`: operator commands on clusters of every organization. They work
//! on the database directly, next to a running server or without one; their writes are the
//! same conditional transitions the API and the reconciler make, so they cannot clash.

use serde::Serialize;

use crate::cli::table;
use crate::config::{ClustersCommand, StorageArgs};
use crate::domain::audit::{AuditEntry, AuditType};
use crate::domain::cluster::{Cluster, ComponentStatus};
use crate::domain::Timestamp;
use crate::operator::OPERATOR;
use crate::storage::{self, Store};

pub async fn run(command: ClustersCommand) -> anyhow::Result<()> {
    match command {
        ClustersCommand::List { storage, json } => {
            let store = open(&storage).await?;
            let clusters = store.all_clusters().await?;
            if json {
                let rows: Vec<ClusterSummary> = clusters.iter().map(Into::into).collect();
                println!("{}", serde_json::to_string_pretty(&rows)?);
            } else {
                print_table(&clusters);
            }
            Ok(())
        }
        ClustersCommand::Suspend {
            storage,
            cluster_id,
        } => {
            let store = open(&storage).await?;
            match suspend(store.as_ref(), &cluster_id, Timestamp::now()).await? {
                Suspension::Suspended(c) => {
                    // Servers may serve what they read up to this long ago.
                    tokio::time::sleep(storage.state_cache_ttl).await;
                    println!("Suspended cluster {} ({:?}).", c.id, c.name)
                }
                Suspension::AlreadySuspended(c) => {
                    println!("Cluster {} ({:?}) is already suspended.", c.id, c.name)
                }
            }
            Ok(())
        }
    }
}

/// Opens the database of an existing installation only: these commands read and write no
/// secrets, so they need no master key (and must not create a key file in the data dir).
async fn open(args: &StorageArgs) -> anyhow::Result<std::sync::Arc<dyn Store>> {
    crate::operator::require_existing_installation(args).await?;
    storage::open(&args.database_url()).await
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

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterSummary {
    pub id: String,
    pub org_id: String,
    pub name: String,
    pub status: &'static str,
    pub status_since: String,
    pub plan_type_id: String,
    pub channel_id: String,
    pub generation_id: String,
    pub auto_update: bool,
    pub created: String,
}

impl From<&Cluster> for ClusterSummary {
    fn from(c: &Cluster) -> Self {
        ClusterSummary {
            id: c.id.clone(),
            org_id: c.org_id.clone(),
            name: c.name.clone(),
            status: c.status.as_str(),
            status_since: c.status_since.to_rfc3339(),
            plan_type_id: c.plan_type_id.clone(),
            channel_id: c.channel_id.clone(),
            generation_id: c.generation_id.clone(),
            auto_update: c.auto_update,
            created: c.created_at.to_rfc3339(),
        }
    }
}

/// The operator's view; names are escaped by the table (they may predate the name rules).
fn print_table(clusters: &[Cluster]) {
    let rows: Vec<Vec<String>> = clusters
        .iter()
        .map(|c| {
            vec![
                c.id.clone(),
                c.org_id.clone(),
                c.status.as_str().to_string(),
                c.status_since.to_rfc3339(),
                c.name.clone(),
            ]
        })
        .collect();
    print!(
        "{}",
        table::render(&["ID", "ORGANIZATION", "STATUS", "SINCE", "NAME"], &rows)
    );
}
