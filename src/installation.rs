//! Opening an installation: its database, its master key and its signing keys. `serve`
//! and every operator command start here; this module calls nothing above it.
//!
//! Only `serve` (its first start) and `init` create an installation: the operator
//! commands open an existing one ([`open`], [`open_database`]), so a mistyped
//! `--data-dir` or `--database-url` is reported rather than turned into a new, empty one.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;

use crate::auth::keys::{self, KeySet};
use crate::config::StorageArgs;
use crate::crypto::Keyring;
use crate::domain::Timestamp;
use crate::storage::{self, Store};

/// Opens the store and the keyring named by the storage settings; creates a master key
/// file only for a database without keys.
pub async fn open_storage(args: &StorageArgs) -> anyhow::Result<(Arc<dyn Store>, Keyring)> {
    let store = storage::open_with(&args.database_url(), args.pool_settings())
        .await
        .context("opening the database")?;
    // A new key file is only for a new installation: a database that already holds keys
    // was set up under a master key, and a fresh file would only be left behind to break
    // the next start (of the server or of an operator command).
    if !Keyring::exists(args.master_key.as_deref(), &args.data_dir) {
        anyhow::ensure!(
            store.signing_keys().await?.is_empty(),
            "no master key for a database that holds keys: set CONSOLED_MASTER_KEY, or \
             --data-dir to the directory with its master.key"
        );
    }
    let keyring = Keyring::load(args.master_key.as_deref(), &args.data_dir)?;
    Ok((store, keyring))
}

/// Loads the signing keys, creating the first one if the database has none. Retired keys
/// keep verifying for `retired_grace` (the server passes the token lifetime plus the
/// accepted clock skew).
pub async fn load_signing_keys(
    store: &dyn Store,
    keyring: &Keyring,
    retired_grace: Duration,
) -> anyhow::Result<KeySet> {
    let mut records = store.signing_keys().await?;
    if !records.iter().any(|r| r.retired_at.is_none()) {
        let record = keys::generate(keyring, Timestamp::now())?;
        // Another process may have won the race; reading back picks whichever key exists.
        store.insert_first_signing_key(&record).await?;
        records = store.signing_keys().await?;
    }
    KeySet::from_records(&records, keyring, Timestamp::now(), retired_grace)
}

/// Opens the existing installation for an operator command (see
/// [`require_existing_installation`]) and makes sure the master key is the one the
/// database's secrets were made with: a client created under another key would be stored
/// fine and then never authenticate.
pub async fn open(args: &StorageArgs) -> anyhow::Result<(Arc<dyn Store>, Keyring)> {
    require_existing_installation(args).await?;
    open_or_create(args).await
}

/// Opens the database of an existing installation only, for commands that read and write
/// no secrets: they need no master key (and must not create a key file in the data dir).
pub async fn open_database(args: &StorageArgs) -> anyhow::Result<Arc<dyn Store>> {
    require_existing_installation(args).await?;
    storage::open(&args.database_url()).await
}

/// Refuses storage settings that name no installation, before anything is written.
pub async fn require_existing_installation(args: &StorageArgs) -> anyhow::Result<()> {
    storage::require_installation(&args.database_url())
        .await
        .map_err(|e| {
            anyhow::anyhow!(
                "{e:#}\nSet --data-dir (CONSOLED_DATA_DIR) or --database-url \
                 (CONSOLED_DATABASE_URL) as for the server; `consoled init` or the first start \
                 of `consoled serve` creates an installation."
            )
        })
}

/// Opens the store like [`open`], creating the installation (database, master key file,
/// signing key) when there is none: for `init`.
pub async fn open_or_create(args: &StorageArgs) -> anyhow::Result<(Arc<dyn Store>, Keyring)> {
    let (store, keyring) = open_storage(args).await?;
    // Only the master key matters here, not which retired keys still verify.
    load_signing_keys(store.as_ref(), &keyring, Duration::ZERO)
        .await
        .context("checking the master key (set CONSOLED_MASTER_KEY as for the server)")?;
    Ok((store, keyring))
}
