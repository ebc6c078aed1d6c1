use async_trait::async_trait;

use super::StoreResult;
use crate::domain::api_client::ApiClient;
use crate::domain::audit::AuditEntry;
use crate::domain::organization::Organization;

/// Organizations and their Console API clients.
#[async_trait]
pub trait OrgStore: Send + Sync + 'static {
    async fn insert_organization(&self, org: &Organization, audit: &AuditEntry) -> StoreResult<()>;
    /// Returns the oldest organization, inserting `org` first if there is none; the flag
    /// says whether `org` was inserted. Safe against concurrent first starts.
    async fn ensure_first_organization(
        &self,
        org: &Organization,
        audit: &AuditEntry,
    ) -> StoreResult<(Organization, bool)>;
    async fn organizations(&self) -> StoreResult<Vec<Organization>>;
    async fn organization(&self, id: &str) -> StoreResult<Option<Organization>>;

    async fn insert_api_client(&self, client: &ApiClient, audit: &AuditEntry) -> StoreResult<()>;
    async fn api_client(&self, client_id: &str) -> StoreResult<Option<ApiClient>>;
    /// Rewrites name, scopes, secret hash and generation; false when the client is gone.
    async fn update_api_client(&self, client: &ApiClient, audit: &AuditEntry) -> StoreResult<bool>;
}
