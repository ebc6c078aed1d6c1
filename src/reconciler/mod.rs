//! The background reconciler: drives clusters through their lifecycle with a provisioning
//! driver. All state lives in the database, so a restart continues where it stopped, and
//! every step is a conditional write on the cluster's version, so a step is applied once
//! even when several reconcilers race.
//!
//! Besides the clusters in transition, each pass drives backups in progress
//! ([`backups`]) and applies the lifecycle policies: auto-update and idle suspension
//! ([`policies`]).

mod backups;
pub mod driver;
pub mod exec;
mod policies;

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;

use crate::catalog::Catalog;
use crate::domain::audit::{AuditEntry, AuditType};
use crate::domain::cluster::{Cluster, ComponentStatus};
use crate::domain::Timestamp;
use crate::storage::{ClusterProgress, ClusterStep, Store};
use crate::telemetry::metrics;
use driver::ProvisioningDriver;

pub const ACTOR: &str = "system:reconciler";

/// Which provisioning driver runs (`--driver`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DriverKind {
    /// Clusters turn Healthy after `--provision-delay`; nothing runs.
    Simulated,
    /// Every step runs `--driver-command` (docs/drivers.md).
    Exec,
}
/// Passes run at most this often: a burst of creates wakes the reconciler once per gap,
/// not once per create, and each pass writes all their steps in one transaction.
const MIN_PASS_GAP: Duration = Duration::from_millis(50);
const BATCH: i64 = 256;

pub struct Reconciler {
    pub store: Arc<dyn Store>,
    pub driver: Arc<dyn ProvisioningDriver>,
    /// Set with `--driver exec`: steps run the driver command instead of being simulated
    /// by `driver`.
    pub exec: Option<Arc<exec::ExecDriver>>,
    pub wake: Arc<Notify>,
    pub interval: Duration,
    pub catalog: Arc<Catalog>,
    /// Healthy clusters of suspendable plans are suspended after this long in that state;
    /// `None` turns idle suspension off.
    pub suspend_after: Option<Duration>,
}

/// The earlier of two optional "look again in" hints.
fn earliest(a: Option<Duration>, b: Option<Duration>) -> Option<Duration> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

impl Reconciler {
    /// Runs until `shutdown` resolves.
    pub async fn run(self, shutdown: impl std::future::Future<Output = ()>) {
        tokio::pin!(shutdown);
        loop {
            let pass = metrics::timed(self.tick(Timestamp::now()), |pass, elapsed| {
                metrics::reconciler_pass(elapsed, pass.is_ok())
            })
            .await;
            let wait = match pass {
                Ok(next) => next.map_or(self.interval, |n| n.min(self.interval)),
                Err(e) => {
                    tracing::warn!(error = %e, "reconciler pass failed; retrying");
                    self.interval
                }
            };
            tokio::select! {
                _ = &mut shutdown => return,
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(wait) => {}
            }
            tokio::select! {
                _ = &mut shutdown => return,
                _ = tokio::time::sleep(MIN_PASS_GAP) => {}
            }
        }
    }

    /// One pass over the work that is due; returns when the next check is worth making.
    pub async fn tick(&self, now: Timestamp) -> anyhow::Result<Option<Duration>> {
        // Policies first: a transition they start is observed in the same pass. A failure
        // here must not hold up the clusters already in transition.
        if let Err(e) = self.apply_policies(now).await {
            tracing::warn!(error = %e, "applying lifecycle policies failed");
        }
        if let Some(exec) = &self.exec {
            exec.dispatch(now).await?;
            return Ok(None);
        }
        let mut next: Option<Duration> = None;
        let mut steps = Vec::new();
        for cluster in self.store.transitional_clusters(BATCH).await? {
            match self.step(&cluster, now).await {
                Ok((step, again)) => {
                    steps.extend(step);
                    next = earliest(next, again);
                }
                Err(e) => {
                    tracing::warn!(cluster = %cluster.id, error = %e, "reconciling cluster failed")
                }
            }
        }
        // One transaction for the whole pass: one sync to disk however many clusters moved.
        let applied = self.store.advance_clusters(&steps).await?;
        metrics::reconciler_steps(applied);
        match self.drive_backups(now).await {
            Ok(again) => Ok(earliest(next, again)),
            Err(e) => {
                tracing::warn!(error = %e, "driving backups failed");
                Ok(next)
            }
        }
    }

    /// What the driver reports for one cluster, as a step to write (if anything changed).
    async fn step(
        &self,
        cluster: &Cluster,
        now: Timestamp,
    ) -> anyhow::Result<(Option<ClusterStep>, Option<Duration>)> {
        let observation = self.driver.observe(cluster, now).await?;
        let (progress, audit) = if observation.done {
            let generation_id = cluster
                .target_generation_id
                .clone()
                .unwrap_or_else(|| cluster.generation_id.clone());
            let audit = AuditEntry::new(
                &cluster.org_id,
                ACTOR,
                AuditType::Update,
                "cluster",
                &cluster.id,
                format!("Cluster {:?} is Healthy", cluster.name),
                now,
            )
            .with_change(
                "status",
                Some(cluster.status.as_str().into()),
                Some("Healthy".into()),
            );
            let progress = ClusterProgress {
                status: ComponentStatus::Healthy,
                components: observation.components,
                generation_id,
                target_generation_id: None,
                status_since: now,
            };
            (progress, Some(audit))
        } else if observation.components != cluster.components {
            let progress = ClusterProgress {
                status: cluster.status,
                components: observation.components,
                generation_id: cluster.generation_id.clone(),
                target_generation_id: cluster.target_generation_id.clone(),
                status_since: cluster.status_since,
            };
            (progress, None)
        } else {
            return Ok((None, observation.check_again_in));
        };
        let step = ClusterStep {
            id: cluster.id.clone(),
            expected_version: cluster.version,
            progress,
            audit,
        };
        Ok((Some(step), observation.check_again_in))
    }
}
