//! Lifecycle policies applied on every pass: auto-update of clusters that follow their
//! channel's default generation, and suspension of idle clusters of suspendable plans.

use super::{Reconciler, ACTOR, BATCH};
use crate::catalog::Catalog;
use crate::domain::audit::{AuditEntry, AuditType};
use crate::domain::cluster::Cluster;
use crate::domain::Timestamp;

/// Generations auto-update never moves away from: on auto-update channels the default and
/// everything newer, on other channels all of them. Lets the store skip up-to-date clusters.
fn current_generations(catalog: &Catalog) -> Vec<String> {
    catalog
        .channels
        .iter()
        .flat_map(|channel| {
            let from = if channel.auto_update {
                channel
                    .generations
                    .iter()
                    .position(|g| g.id == channel.default_generation)
                    .unwrap_or(0)
            } else {
                0
            };
            channel.generations[from..].iter().map(|g| g.id.clone())
        })
        .collect()
}

impl Reconciler {
    pub(super) async fn apply_policies(&self, now: Timestamp) -> anyhow::Result<()> {
        self.auto_update(now).await?;
        if let Some(suspend_after) = self.suspend_after {
            self.suspend_idle(now, suspend_after).await?;
        }
        Ok(())
    }

    async fn auto_update(&self, now: Timestamp) -> anyhow::Result<()> {
        let current = current_generations(&self.catalog);
        for cluster in self.store.auto_update_candidates(&current, BATCH).await? {
            let Some(target) = cluster.auto_update_target(&self.catalog) else {
                continue;
            };
            let upgrade = cluster.updating_to(&self.catalog, target, now);
            let audit = upgrade.audit(ACTOR, "Auto-update", now);
            self.transition(&cluster, &upgrade.cluster, &audit).await;
        }
        Ok(())
    }

    async fn suspend_idle(
        &self,
        now: Timestamp,
        suspend_after: std::time::Duration,
    ) -> anyhow::Result<()> {
        let plans: Vec<String> = self
            .catalog
            .plan_types
            .iter()
            .filter(|p| p.suspendable)
            .map(|p| p.id.clone())
            .collect();
        let healthy_since = Timestamp(now.millis() - suspend_after.as_millis() as i64);
        for cluster in self
            .store
            .idle_candidates(&plans, healthy_since, BATCH)
            .await?
        {
            if !cluster.is_idle(&self.catalog, suspend_after, now) {
                continue;
            }
            let Ok(suspended) = cluster.suspend(now) else {
                continue;
            };
            let audit = AuditEntry::new(
                &cluster.org_id,
                ACTOR,
                AuditType::Update,
                "cluster",
                &cluster.id,
                format!(
                    "Suspended cluster {:?}: idle for {}",
                    cluster.name,
                    humantime::format_duration(suspend_after)
                ),
                now,
            )
            .with_change("status", Some("Healthy".into()), Some("Suspended".into()));
            self.transition(&cluster, &suspended, &audit).await;
        }
        Ok(())
    }

    /// Writes a transition; losing the race to another writer is not an error.
    async fn transition(&self, current: &Cluster, next: &Cluster, audit: &AuditEntry) {
        match self.store.transition_cluster(current, next, audit).await {
            Ok(true) => {
                tracing::info!(cluster = %current.id, status = next.status.as_str(), "cluster transition")
            }
            Ok(false) => {}
            Err(e) => {
                tracing::warn!(cluster = %current.id, error = %e, "cluster transition failed")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn current_generations_start_at_the_default_of_auto_update_channels() {
        let catalog = Catalog::builtin();
        let current = current_generations(&catalog);
        let stable = &catalog.channels[0];
        assert!(!current.contains(&stable.generations[0].id));
        assert!(current.contains(&stable.default_generation));
        for g in &catalog.channels[1].generations {
            assert!(current.contains(&g.id));
        }
    }
}
