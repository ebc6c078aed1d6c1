use async_trait::async_trait;

use super::StoreResult;

#[async_trait]
pub trait HealthStore: Send + Sync + 'static {
    /// Succeeds when the database answers and every migration this build knows is applied.
    async fn check_ready(&self) -> StoreResult<()>;
    /// A counter that changes with every write committed through this store; None when
    /// this process cannot know what others wrote (PostgreSQL while its change listener is
    /// down), so reads must not be cached. On SQLite one server owns the database file; on
    /// PostgreSQL the other replicas' writes arrive through [`HealthStore::changes`].
    fn write_epoch(&self) -> Option<u64>;

    /// The connection pools' use right now, for the metrics.
    fn pool_usage(&self) -> Vec<crate::telemetry::metrics::PoolUsage>;

    /// What other processes commit, as it happens (PostgreSQL); None where no other
    /// process writes (SQLite).
    fn changes(&self) -> Option<tokio::sync::broadcast::Receiver<crate::storage::changes::Change>> {
        None
    }

    /// Where the rate limits and lockouts of the whole installation are counted
    /// (PostgreSQL); None where this process's memory is the installation's (SQLite).
    fn shared_limits(&self) -> Option<std::sync::Arc<dyn crate::storage::shared_limits::SharedLimitStore>> {
        None
    }
}
