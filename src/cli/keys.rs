//! `consoled keys rotate`: prints the new signing key's id and algorithm as JSON.

use clap::Subcommand;

use crate::config::StorageArgs;
use crate::domain::Timestamp;
use crate::{installation, operator};

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Create a new signing key; the old ones keep verifying until their tokens expire.
    /// Running servers pick the new key up within their key refresh interval.
    Rotate(StorageArgs),
}

pub async fn run(command: KeysCommand) -> anyhow::Result<()> {
    match command {
        KeysCommand::Rotate(storage) => {
            let (store, keyring) = installation::open(&storage).await?;
            let key = operator::keys::rotate(store.as_ref(), &keyring, Timestamp::now()).await?;
            println!(
                "{}",
                serde_json::json!({ "kid": key.kid, "algorithm": key.algorithm })
            );
            Ok(())
        }
    }
}
