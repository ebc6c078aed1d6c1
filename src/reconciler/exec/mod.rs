//! The exec provisioning driver: every step a cluster needs (create, update, upgrade,
//! suspend, wake, delete, backup, delete-backup) runs the configured command with the
//! step's document on stdin (see docs/drivers.md), and the health URLs it reports are
//! probed ([`probe`]).
//!
//! What needs doing is derived from the database, not queued: the cluster as stored is the
//! desired state, `driver_state` holds what was applied, and [`next_step`] compares the
//! two. So a restart, or the loss of the replica that was running a step, loses nothing:
//! the step is simply found again. One replica runs a cluster's steps at a time, by a
//! lease on its `driver_state` row that the runner renews while the command runs.

pub mod command;
mod document;
mod probe;

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{Notify, Semaphore};

use crate::catalog::Catalog;
use crate::crypto::Keyring;
use crate::domain::audit::{AuditEntry, AuditType};
use anyhow::Context;

use crate::domain::backup::{Backup, BackupComponents, BackupStatus};
use crate::domain::cluster::Cluster;
use crate::domain::provisioning::{
    after_failure, after_success, next_step, target_generation, Action, Applied, ClusterDocument,
    DriverReport, DriverRequest, NextStep, PROTOCOL_VERSION,
};
use crate::domain::Timestamp;
use crate::storage::{ClusterProgress, ClusterStep, DriverState, DriverStepResult, Store};
use crate::telemetry::metrics;
pub use document::AuthSettings;

const ACTOR: &str = "system:driver";
/// How long a claim on a cluster holds without renewal: after a replica dies, another
/// takes its steps over within this.
const LEASE: Duration = Duration::from_secs(10);
const RENEW_EVERY: Duration = Duration::from_secs(3);
/// Driver commands running at once on one replica.
const MAX_RUNNING: usize = 8;
/// Retries wait 1 s, 2 s, 4 s, ... up to this.
const MAX_BACKOFF: Duration = Duration::from_secs(300);

pub struct ExecDriver {
    pub store: Arc<dyn Store>,
    pub catalog: Arc<Catalog>,
    pub keyring: Keyring,
    pub command: PathBuf,
    pub timeout: Duration,
    pub health_interval: Duration,
    pub auth: AuthSettings,
    /// Woken when a step finishes, so a following step does not wait for the next pass.
    pub wake: Arc<Notify>,
    /// This process's name on leases.
    owner: String,
    running: Mutex<HashSet<String>>,
    slots: Arc<Semaphore>,
    http: reqwest::Client,
}

/// The wait before attempt `attempts + 1`, after `attempts` failures.
fn backoff(attempts: i64) -> Duration {
    let exponent = attempts.clamp(1, 20) as u32 - 1;
    Duration::from_secs(1u64 << exponent).min(MAX_BACKOFF)
}

impl ExecDriver {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        store: Arc<dyn Store>,
        catalog: Arc<Catalog>,
        keyring: Keyring,
        command: PathBuf,
        timeout: Duration,
        health_interval: Duration,
        auth: AuthSettings,
        wake: Arc<Notify>,
    ) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(probe::timeout(health_interval))
            .build()?;
        Ok(ExecDriver {
            store,
            catalog,
            keyring,
            command,
            timeout,
            health_interval,
            auth,
            wake,
            owner: uuid::Uuid::new_v4().to_string(),
            running: Mutex::new(HashSet::new()),
            slots: Arc::new(Semaphore::new(MAX_RUNNING)),
            http,
        })
    }

    /// Starts the steps that are due, each in its own task, as far as there are free slots.
    pub async fn dispatch(self: &Arc<Self>, now: Timestamp) -> anyhow::Result<()> {
        let due = self.store.driver_work(now, 256).await?;
        for cluster_id in due {
            let Ok(permit) = self.slots.clone().try_acquire_owned() else {
                break;
            };
            if !self
                .running
                .lock()
                .expect("running set poisoned")
                .insert(cluster_id.clone())
            {
                continue;
            }
            let driver = self.clone();
            tokio::spawn(async move {
                if let Err(e) = driver.run_step(&cluster_id).await {
                    tracing::warn!(cluster = %cluster_id, error = %e, "driver step could not run");
                }
                driver
                    .running
                    .lock()
                    .expect("running set poisoned")
                    .remove(&cluster_id);
                drop(permit);
                driver.wake.notify_one();
            });
        }
        Ok(())
    }

    /// Claims the cluster, decides its next step, runs it and records the outcome.
    async fn run_step(&self, cluster_id: &str) -> anyhow::Result<()> {
        let cluster = self.store.cluster_by_id(cluster_id).await?;
        let org_id = match &cluster {
            Some(cluster) => cluster.org_id.clone(),
            None => match self.store.driver_state(cluster_id).await? {
                Some(state) => state.org_id,
                None => return Ok(()),
            },
        };
        let now = Timestamp::now();
        let Some(state) = self
            .store
            .claim_driver_lease(cluster_id, &org_id, &self.owner, now, now.plus(LEASE))
            .await?
        else {
            return Ok(()); // another replica is on it
        };
        let result = self.decide_and_run(cluster.as_ref(), state).await;
        match result {
            Ok(Some(result)) => {
                if self.store.finish_driver_step(&self.owner, &result).await? {
                    metrics::reconciler_steps(1);
                } else {
                    tracing::warn!(cluster = %cluster_id, "lost the claim on a cluster while its step ran; the step will run again");
                }
            }
            Ok(None) => {}
            Err(e) => {
                // Nothing ran; let the claim go after a pause rather than spin on it.
                let state = self
                    .store
                    .driver_state(cluster_id)
                    .await?
                    .unwrap_or_default();
                let release = DriverStepResult {
                    state: DriverState {
                        next_attempt_at: Timestamp::now().plus(backoff(state.attempts + 1)),
                        ..state
                    },
                    ..Default::default()
                };
                self.store.finish_driver_step(&self.owner, &release).await?;
                return Err(e);
            }
        }
        Ok(())
    }

    async fn decide_and_run(
        &self,
        cluster: Option<&Cluster>,
        state: DriverState,
    ) -> anyhow::Result<Option<DriverStepResult>> {
        let applied: Option<Applied> = match &state.applied {
            Some(text) => Some(serde_json::from_str(text)?),
            None => None,
        };
        let document = match cluster {
            Some(cluster) => Some(
                document::build(cluster, &self.catalog, self.store.as_ref(), &self.keyring).await?,
            ),
            None => None,
        };
        let fingerprint = document
            .as_ref()
            .map(|d| self.keyring.fingerprint(&d.settings_bytes()))
            .unwrap_or_default();
        // Read once: the ids decide the step, the rows make its document and its result.
        let (in_progress, deleted) = match cluster {
            Some(cluster) => {
                let in_progress: Vec<Backup> = self
                    .store
                    .backups(&cluster.org_id, &cluster.id)
                    .await?
                    .into_iter()
                    .filter(|b| b.status == BackupStatus::InProgress)
                    .collect();
                (in_progress, self.store.backup_deletions(&cluster.id).await?)
            }
            None => (Vec::new(), Vec::new()),
        };
        let in_progress_ids: Vec<String> = in_progress.iter().map(|b| b.id.clone()).collect();
        let deleted_ids: Vec<String> = deleted.iter().map(|d| d.backup_id.clone()).collect();
        let Some(step) = next_step(
            cluster,
            applied.as_ref(),
            &fingerprint,
            &in_progress_ids,
            &deleted_ids,
        ) else {
            // In sync: remember the version seen, so the cluster is not looked at again
            // until it changes.
            let seen = DriverState {
                seen_version: cluster.map_or(state.seen_version, |c| c.version),
                step: None,
                operation_id: None,
                ..state
            };
            return Ok(Some(DriverStepResult {
                state: seen,
                ..Default::default()
            }));
        };
        // What a deleted cluster is torn down with: the document of its last attempt.
        let document = match (document, &state.snapshot) {
            (Some(document), _) => document,
            (None, Some(snapshot)) => serde_json::from_str(snapshot)?,
            (None, None) => {
                // The driver never ran anything for it: nothing to tear down.
                return Ok(Some(DriverStepResult {
                    state,
                    forget: true,
                    ..Default::default()
                }));
            }
        };
        let taken = match &step {
            NextStep::Backup(id) => in_progress.iter().find(|b| &b.id == id),
            _ => None,
        };
        let (action, backup) = match &step {
            NextStep::Lifecycle(action) => (*action, None),
            NextStep::Backup(_) => (
                Action::Backup,
                Some(document::backup(taken.context("the backup is gone")?)),
            ),
            NextStep::DeleteBackup(id) => (
                Action::DeleteBackup,
                Some(document::deleted_backup(
                    deleted
                        .iter()
                        .find(|d| &d.backup_id == id)
                        .context("the backup deletion is gone")?,
                )),
            ),
        };
        let step_key = format!(
            "{}:{}:{}:{}",
            action.as_str(),
            fingerprint,
            cluster.map(target_generation).unwrap_or_default(),
            backup.as_ref().map(|b| b.uuid.as_str()).unwrap_or_default()
        );
        let operation_id = match (&state.step, &state.operation_id) {
            (Some(key), Some(id)) if *key == step_key => id.clone(),
            _ => uuid::Uuid::new_v4().to_string(),
        };
        let auth = self.auth.for_cluster(&state.cluster_id);
        let request = DriverRequest {
            version: PROTOCOL_VERSION,
            action: action.as_str(),
            operation_id: &operation_id,
            cluster: &document,
            auth: &auth,
            backup: backup.as_ref(),
        };
        let input = serde_json::to_vec(&request)?;
        tracing::info!(cluster = %state.cluster_id, action = action.as_str(), operation = %operation_id, attempt = state.attempts + 1, "running driver step");
        let outcome = self
            .run_renewing(&state.cluster_id, action, &input, &document)
            .await;
        let outcome = outcome.and_then(|stdout| {
            if action.reports() {
                DriverReport::parse(&stdout)
                    .map(Some)
                    .map_err(command::CommandFailure)
            } else {
                Ok(None)
            }
        });
        let now = Timestamp::now();
        let snapshot = Some(serde_json::to_string(&document.without_secrets())?);
        let mut result = DriverStepResult {
            state: DriverState {
                snapshot,
                ..state.clone()
            },
            ..Default::default()
        };
        match outcome {
            Ok(report) => {
                tracing::info!(cluster = %state.cluster_id, action = action.as_str(), operation = %operation_id, "driver step succeeded");
                Self::succeeded(
                    &mut result,
                    cluster,
                    &step,
                    taken,
                    applied,
                    fingerprint,
                    report,
                    now,
                )?;
            }
            Err(command::CommandFailure(excerpt)) => {
                tracing::warn!(cluster = %state.cluster_id, action = action.as_str(), operation = %operation_id, attempt = state.attempts + 1, error = %excerpt, "driver step failed; it will be retried");
                let attempts = state.attempts + 1;
                result.state.attempts = attempts;
                result.state.next_attempt_at = now.plus(backoff(attempts));
                result.state.step = Some(step_key);
                result.state.operation_id = Some(operation_id);
                result.state.last_error = Some(excerpt.clone());
                let changed = cluster.and_then(|c| after_failure(c, action, &excerpt, ACTOR, now));
                match changed {
                    Some((next, audit)) => {
                        let c = cluster.expect("a change needs a cluster");
                        result.cluster = Some(step_of(c, &next, Some(audit)));
                    }
                    None => result.audit.push(
                        AuditEntry::new(
                            &state.org_id,
                            ACTOR,
                            AuditType::Update,
                            "cluster",
                            &state.cluster_id,
                            format!(
                                "The driver's {} step for cluster {:?} failed (attempt {attempts}): {excerpt}",
                                action.as_str(),
                                document.name
                            ),
                            now,
                        ),
                    ),
                }
            }
        }
        Ok(Some(result))
    }

    /// Runs the command while renewing the claim on the cluster.
    async fn run_renewing(
        &self,
        cluster_id: &str,
        action: Action,
        input: &[u8],
        document: &ClusterDocument,
    ) -> Result<Vec<u8>, command::CommandFailure> {
        let secrets = document.secret_values();
        let run = command::run(
            &self.command,
            action.as_str(),
            input,
            self.timeout,
            &secrets,
        );
        let run = metrics::timed(run, |outcome, elapsed| {
            let label = match outcome {
                Ok(_) => "ok",
                Err(_) if elapsed >= self.timeout => "timed_out",
                Err(_) => "failed",
            };
            metrics::driver_action(action.as_str(), label, elapsed);
        });
        tokio::pin!(run);
        loop {
            tokio::select! {
                outcome = &mut run => return outcome,
                _ = tokio::time::sleep(RENEW_EVERY) => {
                    let until = Timestamp::now().plus(LEASE);
                    match self.store.renew_driver_lease(cluster_id, &self.owner, until).await {
                        Ok(true) => {}
                        Ok(false) => tracing::warn!(cluster = %cluster_id, "the claim on a cluster was taken over while its step ran"),
                        Err(e) => tracing::warn!(cluster = %cluster_id, error = %e, "renewing the claim on a cluster failed"),
                    }
                }
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn succeeded(
        result: &mut DriverStepResult,
        cluster: Option<&Cluster>,
        step: &NextStep,
        taken: Option<&Backup>,
        applied: Option<Applied>,
        fingerprint: String,
        report: Option<DriverReport>,
        now: Timestamp,
    ) -> anyhow::Result<()> {
        let was_failing = result.state.attempts > 0;
        let state = &mut result.state;
        state.step = None;
        state.operation_id = None;
        state.attempts = 0;
        state.last_error = None;
        state.next_attempt_at = Timestamp(0);
        if let Some(cluster) = cluster {
            state.seen_version = cluster.version;
        }
        match step {
            NextStep::Lifecycle(Action::Delete) => {
                result.forget = true;
                result.audit.push(AuditEntry::new(
                    &state.org_id,
                    ACTOR,
                    AuditType::Delete,
                    "cluster",
                    &state.cluster_id,
                    "The driver tore the cluster down".to_string(),
                    now,
                ));
            }
            NextStep::Lifecycle(Action::Suspend) => {
                let applied = Applied {
                    suspended: true,
                    ..applied.unwrap_or_default()
                };
                state.applied = Some(serde_json::to_string(&applied)?);
            }
            NextStep::Lifecycle(action) => {
                let cluster = cluster.expect("lifecycle steps other than delete have a cluster");
                let report = report.unwrap_or_default();
                let applied = Applied {
                    fingerprint,
                    generation_id: target_generation(cluster).to_string(),
                    suspended: false,
                };
                state.applied = Some(serde_json::to_string(&applied)?);
                state.report = Some(serde_json::to_string(&report)?);
                state.next_probe_at = now;
                state.failed_probes = 0;
                if let Some((next, audit)) =
                    after_success(cluster, *action, &report.health, was_failing, ACTOR, now)
                {
                    result.cluster = Some(step_of(cluster, &next, audit));
                }
            }
            NextStep::Backup(_) => {
                let backup = taken.expect("a backup step has its backup");
                if let Some(done) =
                    backup.progressed(BackupComponents::all(BackupStatus::Complete), now)
                {
                    result.audit.push(backup.status_audit(&done, ACTOR, now));
                    result.backup = Some(done);
                }
            }
            NextStep::DeleteBackup(id) => result.backup_deletion_done = Some(id.clone()),
        }
        Ok(())
    }

    /// Runs the health probes until `stop` resolves.
    pub async fn run_probes(self: Arc<Self>, stop: impl std::future::Future<Output = ()>) {
        probe::run(self, stop).await
    }
}

/// A cluster change as a conditional step.
fn step_of(current: &Cluster, next: &Cluster, audit: Option<AuditEntry>) -> ClusterStep {
    ClusterStep {
        id: current.id.clone(),
        expected_version: current.version,
        progress: ClusterProgress::from(next),
        audit,
    }
}
