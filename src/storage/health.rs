use async_trait::async_trait;

use super::StoreResult;

#[async_trait]
pub trait HealthStore: Send + Sync + 'static {
    /// Succeeds when the database answers and every migration this build knows is applied.
    async fn check_ready(&self) -> StoreResult<()>;
    /// A counter that changes with every write committed through this store, when this
    /// process sees every write that matters (SQLite: one server per database file); None
    /// when other processes write too (PostgreSQL replicas), so reads must not be cached.
    fn write_epoch(&self) -> Option<u64>;
}
