//! `consoled keys rotate`: a new token signing key.

use crate::auth::keys;
use crate::crypto::Keyring;
use crate::domain::Timestamp;
use crate::storage::{SigningKeyRecord, Store};

/// Creates a new signing key and makes it the one tokens are signed with; the old ones
/// keep verifying until their tokens expire. Running servers pick the new key up within
/// their key refresh interval.
pub async fn rotate(
    store: &dyn Store,
    keyring: &Keyring,
    now: Timestamp,
) -> anyhow::Result<SigningKeyRecord> {
    let key = keys::generate(keyring, now)?;
    store.rotate_signing_key(&key, now).await?;
    Ok(key)
}
