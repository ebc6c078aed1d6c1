use async_trait::async_trait;

use super::StoreResult;
use crate::domain::audit::AuditEntry;

/// The activity trail. Records are written by the other stores, inside their transactions.
#[async_trait]
pub trait AuditStore: Send + Sync + 'static {
    /// The organization's records, newest first.
    async fn audit_events(&self, org_id: &str, limit: i64) -> StoreResult<Vec<AuditEntry>>;
}
