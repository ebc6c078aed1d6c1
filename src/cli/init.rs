//! `consoled init`: creates the installation if needed, the default organization if
//! needed, and an admin Console API client; prints its credentials as JSON.

use clap::Args;

use super::print_json;
use crate::config::{parse_email, StorageArgs};
use crate::domain::organization::DEFAULT_OWNER_EMAIL;
use crate::domain::Timestamp;
use crate::{installation, operator};

#[derive(Debug, Clone, Args)]
pub struct InitArgs {
    #[command(flatten)]
    pub storage: StorageArgs,

    /// Owner email of the default organization, if `init` creates it.
    #[arg(long, env = "CONSOLED_OWNER_EMAIL", default_value = DEFAULT_OWNER_EMAIL, value_parser = parse_email)]
    pub owner_email: String,
}

pub async fn run(args: InitArgs) -> anyhow::Result<()> {
    let (store, keyring) = installation::open_or_create(&args.storage).await?;
    let credentials = operator::init(
        store.as_ref(),
        &keyring,
        &args.owner_email,
        Timestamp::now(),
    )
    .await?;
    print_json(&credentials)
}
