//! Several reconcilers (replicas) on one database: every lifecycle transition and backup
//! completion happens once, however they race.

use std::sync::Arc;
use std::time::Duration;

use consoled::catalog::Catalog;
use consoled::domain::audit::{AuditEntry, AuditType};
use consoled::domain::backup::{Backup, BackupStatus};
use consoled::domain::cluster::{Cluster, ClusterDraft, ComponentStatus, Components};
use consoled::domain::organization::Organization;
use consoled::domain::Timestamp;
use consoled::reconciler::driver::SimulatedDriver;
use consoled::reconciler::Reconciler;
use consoled::storage::{self, Store};

fn audit(org: &str, what: &str) -> AuditEntry {
    AuditEntry::new(
        org,
        "test",
        AuditType::Create,
        what,
        what,
        what.into(),
        Timestamp(0),
    )
}

fn healthy(catalog: &Catalog, org: &str, name: &str, generation: usize, plan: usize) -> Cluster {
    let stable = &catalog.channels[0];
    let draft = ClusterDraft {
        name: name.into(),
        channel_id: stable.id.clone(),
        generation_id: stable.generations[generation].id.clone(),
        region_id: catalog.regions[0].id.clone(),
        plan_type_id: catalog.plan_types[plan].id.clone(),
        auto_update: Some(true),
        ..Default::default()
    };
    let mut cluster = Cluster::create(draft, org, catalog, Timestamp(0)).unwrap();
    cluster.status = ComponentStatus::Healthy;
    cluster.components = Components::all(ComponentStatus::Healthy);
    cluster
}

fn replica(store: Arc<dyn Store>, catalog: &Arc<Catalog>) -> Reconciler {
    Reconciler {
        store,
        exec: None,
        driver: Arc::new(SimulatedDriver {
            delay: Duration::from_secs(1),
        }),
        wake: Arc::new(tokio::sync::Notify::new()),
        interval: Duration::from_secs(1),
        catalog: catalog.clone(),
        suspend_after: Some(Duration::from_secs(60)),
    }
}

#[tokio::test]
async fn racing_replicas_apply_each_transition_once() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("consoled.db").display());
    let catalog = Arc::new(Catalog::builtin());
    // Two stores on one file, like two processes sharing the database.
    let first = storage::open(&url).await.unwrap();
    let second = storage::open(&url).await.unwrap();

    let org = Organization::new("org", "owner@org.example.com", Timestamp(0));
    first
        .insert_organization(&org, &audit(&org.id, "organization"))
        .await
        .unwrap();
    // An auto-update cluster on the old generation, an idle trial cluster on the newest.
    let outdated = healthy(&catalog, &org.id, "outdated", 0, 1);
    let idle = healthy(&catalog, &org.id, "idle", 1, 0);
    for cluster in [&outdated, &idle] {
        first
            .insert_cluster(cluster, &audit(&org.id, "cluster"))
            .await
            .unwrap();
    }
    let backup = Backup::start(&outdated, Timestamp(0)).unwrap();
    assert!(first
        .insert_backup(&backup, &audit(&org.id, "backup"))
        .await
        .unwrap());

    let a = replica(first.clone(), &catalog);
    let b = replica(second, &catalog);
    // Both replicas see the same instants: an hour later (everything is due), then past
    // the simulated delay of the update that starts then.
    for seconds in [3600, 3602, 3604] {
        let now = Timestamp(0).plus(Duration::from_secs(seconds));
        let (ra, rb) = tokio::join!(a.tick(now), b.tick(now));
        ra.unwrap();
        rb.unwrap();
    }

    let outdated_now = first.cluster(&org.id, &outdated.id).await.unwrap().unwrap();
    assert_eq!(outdated_now.status, ComponentStatus::Healthy);
    assert_eq!(
        outdated_now.generation_id,
        catalog.channels[0].default_generation
    );
    let idle_now = first.cluster(&org.id, &idle.id).await.unwrap().unwrap();
    assert_eq!(idle_now.status, ComponentStatus::Suspended);
    let backups = first.backups(&org.id, &outdated.id).await.unwrap();
    assert_eq!(backups[0].status, BackupStatus::Complete);

    let events = first.audit_events(&org.id, 100).await.unwrap();
    let count = |prefix: &str| {
        events
            .iter()
            .filter(|e| e.audit.starts_with(prefix))
            .count()
    };
    assert_eq!(count("Auto-update of cluster"), 1, "{events:#?}");
    assert_eq!(count("Suspended cluster"), 1, "{events:#?}");
    assert_eq!(count("Backup "), 1, "{events:#?}");
    assert_eq!(count("Cluster \"outdated\" is Healthy"), 1, "{events:#?}");
}
