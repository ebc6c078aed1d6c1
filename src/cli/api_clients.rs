//! `consoled api-clients create|list|delete|rotate`: the flags and the printing (a table,
//! or JSON with `--json`); credentials are always printed as JSON, once, on stdout. The
//! actions are [`crate::operator::api_clients`].

use clap::Subcommand;
use serde::Serialize;

use super::{print_json, table, OperatorArgs};
use crate::domain::api_client::ApiClient;
use crate::domain::scope::Scope;
use crate::domain::Timestamp;
use crate::installation;
use crate::operator::{api_clients, OPERATOR};

#[derive(Debug, Subcommand)]
pub enum ApiClientsCommand {
    /// Create a Console API client; prints its credentials as JSON (the secret only now).
    Create {
        /// Name of the client.
        #[arg(long)]
        name: String,
        /// Scopes, comma-separated (e.g. `get:clusters,create:clusters`), or `all`.
        #[arg(long)]
        scopes: String,
        /// Organization id; the oldest organization when omitted.
        #[arg(long)]
        org: Option<String>,
        #[command(flatten)]
        common: OperatorArgs,
    },
    /// List Console API clients (never their secrets).
    List {
        /// Only this organization's clients.
        #[arg(long)]
        org: Option<String>,
        #[command(flatten)]
        common: OperatorArgs,
    },
    /// Delete a Console API client; its tokens stop working on their next request.
    Delete {
        client_id: String,
        #[command(flatten)]
        common: OperatorArgs,
    },
    /// Issue a new secret (printed as JSON); the old secret and its tokens stop working.
    Rotate {
        client_id: String,
        #[command(flatten)]
        common: OperatorArgs,
    },
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ApiClientView<'a> {
    client_id: &'a str,
    name: &'a str,
    org_id: &'a str,
    scopes: Vec<&'static str>,
    created: String,
}

impl<'a> From<&'a ApiClient> for ApiClientView<'a> {
    fn from(c: &'a ApiClient) -> Self {
        ApiClientView {
            client_id: &c.client_id,
            name: &c.name,
            org_id: &c.org_id,
            scopes: c.scopes.iter().map(Scope::as_str).collect(),
            created: c.created_at.to_rfc3339(),
        }
    }
}

pub async fn run(command: ApiClientsCommand) -> anyhow::Result<()> {
    let now = Timestamp::now();
    match command {
        ApiClientsCommand::Create {
            name,
            scopes,
            org,
            common,
        } => {
            // Checked before the database is opened: a typo changes nothing.
            let scopes = api_clients::parse_scopes(&scopes)?;
            let (store, keyring) = installation::open(&common.storage).await?;
            let credentials = api_clients::create(
                store.as_ref(),
                &keyring,
                &name,
                scopes,
                org.as_deref(),
                OPERATOR,
                now,
            )
            .await?;
            print_json(&credentials)
        }
        ApiClientsCommand::List { org, common } => {
            let (store, _) = installation::open(&common.storage).await?;
            let list = api_clients::list(store.as_ref(), org.as_deref()).await?;
            if common.json {
                return print_json(&list.iter().map(ApiClientView::from).collect::<Vec<_>>());
            }
            let rows: Vec<Vec<String>> = list
                .iter()
                .map(|c| {
                    vec![
                        c.client_id.clone(),
                        c.name.clone(),
                        c.org_id.clone(),
                        c.created_at.to_rfc3339(),
                        c.scopes.to_scope_string(),
                    ]
                })
                .collect();
            print!(
                "{}",
                table::render(&["CLIENT ID", "NAME", "ORG", "CREATED", "SCOPES"], &rows)
            );
            Ok(())
        }
        ApiClientsCommand::Delete { client_id, common } => {
            let (store, _) = installation::open(&common.storage).await?;
            let client =
                api_clients::delete(store.as_ref(), &client_id, None, OPERATOR, now).await?;
            // Servers re-read a client's state at most this long after the change.
            tokio::time::sleep(common.storage.state_cache_ttl).await;
            if common.json {
                return print_json(&ApiClientView::from(&client));
            }
            println!(
                "Deleted Console API client {} ({:?}); its tokens no longer work.",
                client.client_id, client.name
            );
            Ok(())
        }
        ApiClientsCommand::Rotate { client_id, common } => {
            let (store, keyring) = installation::open(&common.storage).await?;
            let credentials =
                api_clients::rotate(store.as_ref(), &keyring, &client_id, None, OPERATOR, now)
                    .await?;
            // Servers re-read a client's state at most this long after the change.
            tokio::time::sleep(common.storage.state_cache_ttl).await;
            print_json(&credentials)
        }
    }
}
