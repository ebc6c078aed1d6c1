use async_trait::async_trait;

use super::StoreResult;
use crate::domain::Timestamp;

/// A token signing key as stored; `private_key` is sealed under the master key.
#[derive(Debug, Clone)]
pub struct SigningKeyRecord {
    pub kid: String,
    pub algorithm: String,
    pub private_key: Vec<u8>,
    pub public_key: Vec<u8>,
    pub created_at: Timestamp,
    pub retired_at: Option<Timestamp>,
}

#[async_trait]
pub trait KeyStore: Send + Sync + 'static {
    async fn signing_keys(&self) -> StoreResult<Vec<SigningKeyRecord>>;
    /// Inserts `key` only when no active key exists; returns whether it was inserted.
    async fn insert_first_signing_key(&self, key: &SigningKeyRecord) -> StoreResult<bool>;
    /// Retires every active key as of `now` and makes `key` the one that signs.
    async fn rotate_signing_key(&self, key: &SigningKeyRecord, now: Timestamp) -> StoreResult<()>;
}
