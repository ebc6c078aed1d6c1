//! Health that consoled observes: the health URLs a driver reported are probed every
//! `--health-interval`. Replicas share the work: a probe is claimed by moving the
//! cluster's next probe time in the database, so each cluster is probed once per interval
//! however many replicas run.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use futures_util::stream::{self, StreamExt};

use super::{step_of, ExecDriver, ACTOR};
use crate::domain::cluster::Cluster;
use crate::domain::provisioning::{after_probe, Component, DriverReport};
use crate::domain::Timestamp;
use crate::storage::{DriverState, ProbeResult};
use crate::telemetry::metrics;

/// Probes in flight at once on one replica.
const CONCURRENCY: usize = 64;
/// Clusters claimed per round.
const BATCH: i64 = 512;

/// How long one probe may take: a slow answer counts as no answer.
pub(super) fn timeout(interval: Duration) -> Duration {
    interval.clamp(Duration::from_millis(100), Duration::from_secs(5))
}

/// How often to look for due probes: often enough that probes are not late by much more
/// than a tenth of the interval.
fn tick(interval: Duration) -> Duration {
    (interval / 10).clamp(Duration::from_millis(50), Duration::from_secs(1))
}

pub(super) async fn run(driver: Arc<ExecDriver>, stop: impl std::future::Future<Output = ()>) {
    tokio::pin!(stop);
    loop {
        if let Err(e) = round(&driver).await {
            tracing::warn!(error = %e, "health probing failed; retrying");
        }
        tokio::select! {
            _ = &mut stop => return,
            _ = tokio::time::sleep(tick(driver.health_interval)) => {}
        }
    }
}

/// Probes every cluster that is due and records what changed, in one transaction.
async fn round(driver: &Arc<ExecDriver>) -> anyhow::Result<()> {
    let now = Timestamp::now();
    let claimed = driver
        .store
        .claim_probes(now, now.plus(driver.health_interval), BATCH)
        .await?;
    if claimed.is_empty() {
        return Ok(());
    }
    // One query for all their clusters, not one per cluster.
    let ids: Vec<String> = claimed.iter().map(|s| s.cluster_id.clone()).collect();
    let mut clusters: HashMap<String, Cluster> = driver
        .store
        .clusters_by_ids(&ids)
        .await?
        .into_iter()
        .map(|c| (c.id.clone(), c))
        .collect();
    let work: Vec<(DriverState, Cluster)> = claimed
        .into_iter()
        .filter_map(|state| {
            let cluster = clusters.remove(&state.cluster_id)?;
            Some((state, cluster))
        })
        .collect();
    let results: Vec<Option<ProbeResult>> = stream::iter(work)
        .map(|(state, cluster)| probe_cluster(driver, state, cluster))
        .buffer_unordered(CONCURRENCY)
        .collect()
        .await;
    let results: Vec<ProbeResult> = results.into_iter().flatten().collect();
    driver.store.record_probes(&results).await?;
    Ok(())
}

/// Probes one cluster; what is to be written, if anything changed.
async fn probe_cluster(
    driver: &Arc<ExecDriver>,
    state: DriverState,
    cluster: Cluster,
) -> Option<ProbeResult> {
    let report: DriverReport = serde_json::from_str(state.report.as_deref()?).ok()?;
    if report.health.is_empty() {
        return None;
    }
    let answered: Vec<(Component, bool)> = stream::iter(report.health.each())
        .then(|(component, url)| async move { (component, answers(&driver.http, url).await) })
        .collect()
        .await;
    let now = Timestamp::now();
    let (failed_probes, change) = after_probe(&cluster, state.failed_probes, &answered, ACTOR, now);
    if let Some((next, _)) = &change {
        if next.status != cluster.status {
            tracing::info!(cluster = %cluster.id, from = cluster.status.as_str(), to = next.status.as_str(), "cluster health changed");
        }
    }
    if failed_probes == state.failed_probes && change.is_none() {
        return None;
    }
    Some(ProbeResult {
        cluster_id: cluster.id.clone(),
        failed_probes,
        cluster: change.map(|(next, audit)| step_of(&cluster, &next, audit)),
    })
}

/// Whether `url` answers 2xx in time.
async fn answers(http: &reqwest::Client, url: &str) -> bool {
    let probe = async {
        match http.get(url).send().await {
            Ok(response) => response.status().is_success(),
            Err(_) => false,
        }
    };
    metrics::timed(probe, |up, elapsed| metrics::health_probe(*up, elapsed)).await
}
