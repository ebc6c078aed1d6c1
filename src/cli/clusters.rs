//! `consoled clusters list|suspend`: the flags and the printing (a table, or JSON with
//! `--json`); the actions are [`crate::operator::clusters`]. These commands read and write
//! no secrets, so they open the database without the master key.

use clap::Subcommand;
use serde::Serialize;

use super::table;
use crate::config::StorageArgs;
use crate::domain::cluster::Cluster;
use crate::domain::Timestamp;
use crate::installation;
use crate::operator::clusters::{self, Suspension};

/// `consoled clusters ...`
#[derive(Debug, Subcommand)]
pub enum ClustersCommand {
    /// List the clusters of every organization.
    List {
        #[command(flatten)]
        storage: StorageArgs,
        /// Print a JSON array instead of a table.
        #[arg(long)]
        json: bool,
        /// List the deleted clusters the provisioning driver is still tearing down instead.
        #[arg(long)]
        deleting: bool,
    },
    /// Suspend a Healthy cluster now (`PUT /clusters/{uuid}/wake` resumes it).
    Suspend {
        #[command(flatten)]
        storage: StorageArgs,
        /// The cluster's id (its `uuid` in the API).
        cluster_id: String,
    },
}

pub async fn run(command: ClustersCommand) -> anyhow::Result<()> {
    match command {
        ClustersCommand::List {
            storage,
            json,
            deleting: true,
        } => {
            let store = installation::open_database(&storage).await?;
            let teardowns = clusters::deleting(store.as_ref()).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&teardowns)?);
            } else {
                print_teardowns(&teardowns);
            }
            Ok(())
        }
        ClustersCommand::List { storage, json, .. } => {
            let store = installation::open_database(&storage).await?;
            let clusters = clusters::list(store.as_ref()).await?;
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
            let store = installation::open_database(&storage).await?;
            match clusters::suspend(store.as_ref(), &cluster_id, Timestamp::now()).await? {
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

fn print_teardowns(teardowns: &[clusters::Teardown]) {
    let rows: Vec<Vec<String>> = teardowns
        .iter()
        .map(|t| {
            vec![
                t.id.clone(),
                t.org_id.clone(),
                t.deleted.clone().unwrap_or_default(),
                t.attempts.to_string(),
                t.name.clone().unwrap_or_default(),
                t.last_error.clone().unwrap_or_default(),
            ]
        })
        .collect();
    print!(
        "{}",
        table::render(
            &[
                "ID",
                "ORGANIZATION",
                "DELETED",
                "ATTEMPTS",
                "NAME",
                "LAST ERROR"
            ],
            &rows
        )
    );
}
