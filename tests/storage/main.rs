//! The storage suite: the same checks against every backend through the `Store` interface.
//! SQLite always runs; PostgreSQL runs when CONSOLED_TEST_POSTGRES_URL is set (and must be,
//! under CI).

#[path = "../common/postgres.rs"]
mod postgres;

mod cases;
mod cluster_operations;
mod lifecycle_stores;

use std::sync::Arc;

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
