use super::scope::ScopeSet;
use super::Timestamp;

/// A Console API client: the credential a user calls this API with.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiClient {
    pub client_id: String,
    pub org_id: String,
    pub name: String,
    pub scopes: ScopeSet,
    /// Keyed hash of the secret; the secret itself is never stored.
    pub secret_hash: Vec<u8>,
    /// Incremented by rotation; a token is only accepted while its generation is current.
    pub secret_generation: i64,
    pub created_at: Timestamp,
}
