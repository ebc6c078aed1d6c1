//! Lifecycle transitions a cluster makes on request or by policy: upgrade, auto-update,
//! suspension after idle time, and wake. Each rule returns the cluster as it should be
//! written; the caller writes it conditionally, so a transition happens once.

use std::time::Duration;

use super::audit::{AuditEntry, AuditType};
use super::cluster::{Cluster, ComponentStatus, Components};
use super::{DomainError, Timestamp};
use crate::catalog::{Catalog, Generation};

/// An upgrade that was decided: the generation left and the one moved to.
#[derive(Debug, Clone)]
pub struct Upgrade {
    pub old_generation: Generation,
    pub new_generation: Generation,
    /// The cluster, now `Updating` towards `new_generation`.
    pub cluster: Cluster,
}

impl Upgrade {
    /// The activity record of this upgrade by `actor`, named by `kind` ("Upgrade",
    /// "Auto-update").
    pub fn audit(&self, actor: &str, kind: &str, now: Timestamp) -> AuditEntry {
        let cluster = &self.cluster;
        AuditEntry::new(
            &cluster.org_id,
            actor,
            AuditType::Update,
            "cluster",
            &cluster.id,
            format!(
                "{kind} of cluster {:?} from {} to {}",
                cluster.name, self.old_generation.name, self.new_generation.name
            ),
            now,
        )
        .with_change(
            "generation",
            Some(self.old_generation.name.clone()),
            Some(self.new_generation.name.clone()),
        )
    }
}

impl Cluster {
    /// This cluster entering `status` at `now`, every component with it.
    fn entering(&self, status: ComponentStatus, now: Timestamp) -> Cluster {
        Cluster {
            status,
            components: Components::all(status),
            status_since: now,
            ..self.clone()
        }
    }

    /// `PUT /upgrade`: to the newest generation of the cluster's channel. A cluster that is
    /// not Healthy cannot be upgraded (412); one already on the newest generation has no
    /// upgrade available (400).
    pub fn upgrade(&self, catalog: &Catalog, now: Timestamp) -> Result<Upgrade, DomainError> {
        if !self.is_healthy() {
            return Err(DomainError::PreconditionFailed(format!(
                "the cluster is not ready for an upgrade: it is {}",
                self.status.as_str()
            )));
        }
        let target = catalog
            .channel(&self.channel_id)
            .and_then(|channel| channel.newest_after(&self.generation_id))
            .ok_or_else(|| {
                DomainError::Invalid(
                    "no upgrade available: the cluster runs the newest generation of its channel"
                        .into(),
                )
            })?;
        Ok(self.updating_to(catalog, target, now))
    }

    /// The generation auto-update moves this cluster to, if any: only Healthy clusters with
    /// `autoUpdate` on a channel that auto-updates follow its default generation.
    pub fn auto_update_target<'c>(&self, catalog: &'c Catalog) -> Option<&'c Generation> {
        if !(self.is_healthy() && self.auto_update) {
            return None;
        }
        let channel = catalog.channel(&self.channel_id)?;
        if !channel.auto_update {
            return None;
        }
        channel.default_if_newer(&self.generation_id)
    }

    /// Starts the move to `target`; the reconciler sets `generation_id` once it is Healthy.
    pub fn updating_to(&self, catalog: &Catalog, target: &Generation, now: Timestamp) -> Upgrade {
        let old_generation = catalog
            .generation(&self.generation_id)
            .cloned()
            // A generation the catalog no longer lists is named by its id.
            .unwrap_or_else(|| Generation {
                id: self.generation_id.clone(),
                name: self.generation_id.clone(),
                versions: Default::default(),
            });
        let mut cluster = self.entering(ComponentStatus::Updating, now);
        cluster.target_generation_id = Some(target.id.clone());
        Upgrade {
            old_generation,
            new_generation: target.clone(),
            cluster,
        }
    }

    /// Idle means: Healthy, of a suspendable plan, and in that state for `suspend_after`
    /// or longer. Any state change (created, upgraded, woken) restarts the clock.
    pub fn is_idle(&self, catalog: &Catalog, suspend_after: Duration, now: Timestamp) -> bool {
        let suspendable = catalog
            .plan_type(&self.plan_type_id)
            .is_some_and(|plan| plan.suspendable);
        suspendable && self.is_healthy() && now.elapsed_since(self.status_since) >= suspend_after
    }

    /// Suspends a Healthy cluster (by the reconciler when idle, or by an operator).
    pub fn suspend(&self, now: Timestamp) -> Result<Cluster, DomainError> {
        if !self.is_healthy() {
            return Err(DomainError::PreconditionFailed(format!(
                "only a Healthy cluster can be suspended; this one is {}",
                self.status.as_str()
            )));
        }
        Ok(self.entering(ComponentStatus::Suspended, now))
    }

    /// `PUT /wake`: a Suspended cluster starts `Resuming`. Any other cluster is already
    /// awake or on its way to Healthy, so there is nothing to do (`None`): wake is
    /// idempotent and never fails on a cluster that exists.
    pub fn wake(&self, now: Timestamp) -> Option<Cluster> {
        (self.status == ComponentStatus::Suspended)
            .then(|| self.entering(ComponentStatus::Resuming, now))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::cluster::ClusterDraft;

    const HOUR: Duration = Duration::from_secs(3600);

    /// A Healthy cluster on the Stable channel's oldest generation, of plan `plan`.
    fn old_cluster(catalog: &Catalog, plan: usize) -> Cluster {
        let stable = &catalog.channels[0];
        let draft = ClusterDraft {
            name: "c".into(),
            channel_id: stable.id.clone(),
            generation_id: stable.generations[0].id.clone(),
            region_id: catalog.regions[0].id.clone(),
            plan_type_id: catalog.plan_types[plan].id.clone(),
            ..Default::default()
        };
        let mut cluster = Cluster::create(draft, "o", catalog, Timestamp(0)).unwrap();
        cluster.status = ComponentStatus::Healthy;
        cluster.components = Components::all(ComponentStatus::Healthy);
        cluster
    }

    #[test]
    fn upgrade_moves_to_the_newest_generation() {
        let catalog = Catalog::builtin();
        let cluster = old_cluster(&catalog, 1);
        let upgrade = cluster.upgrade(&catalog, Timestamp(7)).unwrap();
        let stable = &catalog.channels[0];
        assert_eq!(upgrade.old_generation.id, stable.generations[0].id);
        assert_eq!(upgrade.new_generation.id, stable.generations[1].id);
        let updating = upgrade.cluster;
        assert_eq!(updating.status, ComponentStatus::Updating);
        assert_eq!(
            updating.components,
            Components::all(ComponentStatus::Updating)
        );
        assert_eq!(
            updating.target_generation_id.as_deref(),
            Some(stable.generations[1].id.as_str())
        );
        // The generation changes only when the update is done.
        assert_eq!(updating.generation_id, stable.generations[0].id);
        assert_eq!(updating.status_since, Timestamp(7));
    }

    #[test]
    fn upgrade_needs_a_healthy_cluster_and_a_newer_generation() {
        let catalog = Catalog::builtin();
        let mut cluster = old_cluster(&catalog, 1);
        cluster.status = ComponentStatus::Updating;
        assert!(matches!(
            cluster.upgrade(&catalog, Timestamp(0)),
            Err(DomainError::PreconditionFailed(_))
        ));
        let mut newest = old_cluster(&catalog, 1);
        newest.generation_id = catalog.channels[0].generations[1].id.clone();
        let err = newest.upgrade(&catalog, Timestamp(0)).unwrap_err();
        assert!(matches!(err, DomainError::Invalid(_)));
        assert!(err.to_string().contains("no upgrade available"));
    }

    #[test]
    fn auto_update_follows_the_default_generation_of_auto_update_channels() {
        let catalog = Catalog::builtin();
        let cluster = old_cluster(&catalog, 1);
        assert_eq!(
            cluster.auto_update_target(&catalog).map(|g| &g.id),
            Some(&catalog.channels[0].default_generation)
        );
        let opted_out = Cluster {
            auto_update: false,
            ..cluster.clone()
        };
        assert!(opted_out.auto_update_target(&catalog).is_none());
        let busy = Cluster {
            status: ComponentStatus::Creating,
            ..cluster.clone()
        };
        assert!(busy.auto_update_target(&catalog).is_none());
        let current = Cluster {
            generation_id: catalog.channels[0].default_generation.clone(),
            ..cluster.clone()
        };
        assert!(current.auto_update_target(&catalog).is_none());
        let mut no_auto_channel = catalog.clone();
        no_auto_channel.channels[0].auto_update = false;
        assert!(cluster.auto_update_target(&no_auto_channel).is_none());
    }

    #[test]
    fn only_healthy_suspendable_clusters_idle_long_enough_are_idle() {
        let catalog = Catalog::builtin();
        assert!(catalog.plan_types[0].suspendable && !catalog.plan_types[1].suspendable);
        let trial = old_cluster(&catalog, 0);
        let later = Timestamp(0).plus(HOUR);
        assert!(trial.is_idle(&catalog, HOUR, later));
        assert!(!trial.is_idle(&catalog, HOUR, Timestamp(HOUR.as_millis() as i64 - 1)));
        assert!(!old_cluster(&catalog, 1).is_idle(&catalog, HOUR, later));
        let suspended = trial.suspend(Timestamp(1)).unwrap();
        assert!(!suspended.is_idle(&catalog, HOUR, later.plus(HOUR)));
    }

    #[test]
    fn suspend_and_wake() {
        let catalog = Catalog::builtin();
        let cluster = old_cluster(&catalog, 0);
        let suspended = cluster.suspend(Timestamp(3)).unwrap();
        assert_eq!(suspended.status, ComponentStatus::Suspended);
        assert_eq!(
            suspended.components,
            Components::all(ComponentStatus::Suspended)
        );
        assert_eq!(suspended.status_since, Timestamp(3));
        assert!(suspended.suspend(Timestamp(4)).is_err());

        let resuming = suspended.wake(Timestamp(5)).unwrap();
        assert_eq!(resuming.status, ComponentStatus::Resuming);
        assert!(resuming.status.is_transitional());
        assert_eq!(resuming.status_since, Timestamp(5));
        // Waking an awake cluster changes nothing.
        assert!(cluster.wake(Timestamp(6)).is_none());
        assert!(resuming.wake(Timestamp(6)).is_none());
    }
}
