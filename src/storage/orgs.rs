use async_trait::async_trait;

use super::StoreResult;
use crate::domain::api_client::ApiClient;
use crate::domain::audit::AuditEntry;
use crate::domain::organization::Organization;

/// Organizations and their Console API clients.
#[async_trait]
pub trait OrgStore: Send + Sync + 'static {
    /// Inserts the organization together with its owner member.
    async fn insert_organization(&self, org: &Organization, audit: &AuditEntry) -> StoreResult<()>;
    /// Returns the oldest organization, inserting `org` first if there is none; the flag
    /// says whether `org` was inserted. Safe against concurrent first starts.
    async fn ensure_first_organization(
        &self,
        org: &Organization,
        audit: &AuditEntry,
    ) -> StoreResult<(Organization, bool)>;
    /// All organizations, oldest first.
    async fn organizations(&self) -> StoreResult<Vec<Organization>>;
    async fn organization(&self, id: &str) -> StoreResult<Option<Organization>>;

    async fn insert_api_client(&self, client: &ApiClient, audit: &AuditEntry) -> StoreResult<()>;
    async fn api_client(&self, client_id: &str) -> StoreResult<Option<ApiClient>>;
    /// The Console API clients of one organization, or of all when `org_id` is None;
    /// ordered by organization, then creation.
    async fn api_clients(&self, org_id: Option<&str>) -> StoreResult<Vec<ApiClient>>;
    /// Rewrites name, scopes, secret hash and generation; false when the client is gone.
    async fn update_api_client(&self, client: &ApiClient, audit: &AuditEntry) -> StoreResult<bool>;
    /// Replaces the secret and increments the generation if it is still
    /// `expected_generation`; false when the client is gone or was rotated meanwhile.
    /// Tokens carry the generation they were issued at, so this revokes all of them.
    async fn rotate_api_client_secret(
        &self,
        client_id: &str,
        expected_generation: i64,
        secret_hash: &[u8],
        audit: &AuditEntry,
    ) -> StoreResult<bool>;
    /// Deletes the client (its tokens fail from the next request on); false when absent.
    async fn delete_api_client(&self, client_id: &str, audit: &AuditEntry) -> StoreResult<bool>;
}
