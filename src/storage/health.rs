use async_trait::async_trait;

use super::StoreResult;

#[async_trait]
pub trait HealthStore: Send + Sync + 'static {
    /// Succeeds when the database answers and every migration this build knows is applied.
    async fn check_ready(&self) -> StoreResult<()>;
}
