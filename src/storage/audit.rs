use async_trait::async_trait;

use super::StoreResult;
use crate::domain::audit::{AuditEntry, AuditType};
use crate::domain::Timestamp;

/// Which of an organization's activity records to read; every field set narrows the
/// selection, and all of it is applied by the query (the console's activity filters).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AuditFilter {
    /// Exactly this actor (`userId`: a member's email, a client id, `operator`).
    pub actor: Option<String>,
    pub audit_type: Option<AuditType>,
    /// Exactly this kind of resource (`entity`: `cluster`, `member`, ...).
    pub entity: Option<String>,
    /// Part of the description or of the resource's id, ignoring ASCII case.
    pub text: Option<String>,
    /// Records at or after this instant.
    pub from: Option<Timestamp>,
    /// Records before this instant.
    pub until: Option<Timestamp>,
    /// Records older than the one with this position (from [`AuditStore::audit_search`]):
    /// the next page of a list, stable while new records arrive.
    pub before: Option<i64>,
}

/// The activity trail. Records are written by the other stores, inside their transactions.
#[async_trait]
pub trait AuditStore: Send + Sync + 'static {
    /// The organization's records, newest first.
    async fn audit_events(&self, org_id: &str, limit: i64) -> StoreResult<Vec<AuditEntry>>;
    /// The organization's records that `filter` selects, newest first, each with its
    /// position in the trail (for [`AuditFilter::before`]).
    async fn audit_search(
        &self,
        org_id: &str,
        filter: &AuditFilter,
        limit: i64,
    ) -> StoreResult<Vec<(i64, AuditEntry)>>;
}
