//! The storage suite: the same checks against every backend through the `Store` interface.
//! SQLite always runs; PostgreSQL runs when CONSOLED_TEST_POSTGRES_URL is set (and must be,
//! under CI).

#[path = "../common/postgres.rs"]
mod postgres;

mod accounts;
mod cases;
mod cluster_operations;
mod driver_state;
mod lifecycle_stores;
mod shared_limits;

use std::sync::Arc;

use consoled::catalog::Catalog;
use consoled::domain::audit::{AuditEntry, AuditType};
use consoled::domain::cluster::{Cluster, ClusterDraft};
use consoled::domain::organization::Organization;
use consoled::domain::Timestamp;
use consoled::storage::{self, Store};
use tempfile::TempDir;

/// A store on a fresh database, keeping its temporary directory alive.
pub struct Backend {
    pub name: &'static str,
    pub url: String,
    pub store: Arc<dyn Store>,
    _dir: Option<TempDir>,
}

impl Backend {
    /// Another connection to the same database, as a second replica or the CLI would open.
    pub async fn reopen(&self) -> Arc<dyn Store> {
        storage::open(&self.url).await.unwrap()
    }
}

/// One fresh store per available backend.
pub async fn backends() -> Vec<Backend> {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("store.db").display());
    let mut list = vec![Backend {
        name: "sqlite",
        store: storage::open(&url).await.unwrap(),
        url,
        _dir: Some(dir),
    }];
    if let Some(admin) = postgres::admin_url_or_skip("the PostgreSQL storage tests") {
        let url = postgres::fresh_database(&admin).await;
        list.push(Backend {
            name: "postgres",
            store: storage::open(&url).await.unwrap(),
            url,
            _dir: None,
        });
    }
    list
}

/// Runs `check` against every backend, naming the backend in any failure.
#[macro_export]
macro_rules! on_every_backend {
    ($check:path) => {
        for backend in $crate::backends().await {
            let name = backend.name;
            let result = tokio::spawn(async move { $check(&backend).await }).await;
            if let Err(e) = result {
                panic!("{} failed on {name}: {e}", stringify!($check));
            }
        }
    };
}

// Fixtures the cases share: rows written directly through the store.

/// The audit record that goes with a write a case makes.
pub fn audit(org: &str, entity_id: &str) -> AuditEntry {
    AuditEntry::new(
        org,
        "tester",
        AuditType::Update,
        "thing",
        entity_id,
        "test".into(),
        Timestamp(1),
    )
}

/// Inserts an organization owned by `owner@<name>.example.com`.
pub async fn org(store: &dyn Store, name: &str) -> Organization {
    let org = Organization::new(name, &format!("owner@{name}.example.com"), Timestamp::now());
    store
        .insert_organization(&org, &audit(&org.id, &org.id))
        .await
        .unwrap();
    org
}

/// A cluster of `org_id` (not inserted) on the catalog's first channel, region and plan,
/// created at `at`.
pub fn new_cluster(org_id: &str, name: &str, at: i64) -> Cluster {
    let catalog = Catalog::builtin();
    let draft = ClusterDraft {
        name: name.into(),
        channel_id: catalog.channels[0].id.clone(),
        generation_id: catalog.channels[0].default_generation.clone(),
        region_id: catalog.regions[0].id.clone(),
        plan_type_id: catalog.plan_types[0].id.clone(),
        ..Default::default()
    };
    Cluster::create(draft, org_id, &catalog, Timestamp(at)).unwrap()
}

/// The entity ids of the organization's audit records, newest first.
pub async fn entity_ids(store: &dyn Store, org_id: &str) -> Vec<String> {
    store
        .audit_events(org_id, 1000)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.entity_id)
        .collect()
}
