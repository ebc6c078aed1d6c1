//! Dispatch of the `consoled` subcommands.

mod migrate;
mod org;
pub(crate) mod table;

use std::process::ExitCode;

use tracing_subscriber::EnvFilter;

use crate::app::{self, Application};
use crate::auth::keys;
use crate::cluster_admin;
use crate::config::{Cli, Command, KeysCommand};
use crate::domain::Timestamp;
use crate::operator;

pub fn run(cli: Cli) -> ExitCode {
    init_tracing();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(dispatch(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn init_tracing() {
    let filter = EnvFilter::try_from_env("CONSOLED_LOG")
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_http=info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        // Colours only on a terminal: a log file gets plain text.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
}

async fn dispatch(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve(args) => serve(*args).await,
        Command::Init(args) => {
            let (store, keyring) = operator::open_or_create(&args.storage).await?;
            let credentials = operator::init(
                store.as_ref(),
                &keyring,
                &args.owner_email,
                Timestamp::now(),
            )
            .await?;
            println!("{}", serde_json::to_string_pretty(&credentials)?);
            Ok(())
        }
        Command::Keys(KeysCommand::Rotate(storage)) => {
            let (store, keyring) = crate::operator::open(&storage).await?;
            let now = Timestamp::now();
            let key = keys::generate(&keyring, now)?;
            store.rotate_signing_key(&key, now).await?;
            println!(
                "{}",
                serde_json::json!({ "kid": key.kid, "algorithm": key.algorithm })
            );
            Ok(())
        }
        Command::Orgs(command) => org::orgs(command).await,
        Command::ApiClients(command) => org::api_clients(command).await,
        Command::Members(command) => org::members(command).await,
        Command::Clusters(command) => cluster_admin::run(command).await,
        Command::Migrate(args) => migrate::run(args).await,
        Command::Openapi => {
            print!("{}", crate::http::openapi::document_json());
            Ok(())
        }
    }
}

async fn serve(args: crate::config::ServeArgs) -> anyhow::Result<()> {
    let app = Application::build(args).await?;
    if let Some(credentials) = &app.first_credentials {
        // Straight to the terminal, never through the logger: the secret is shown only here.
        println!(
            "Created the default organization and an admin Console API client.\n\
             Save these credentials now; the secret is not shown again.\n\
             \n  organization:  {}\n  client id:     {}\n  client secret: {}\n",
            credentials.org_id, credentials.client_id, credentials.client_secret
        );
    }
    tracing::info!(address = %app.local_addr(), public_url = %app.state().settings.public_url, "consoled listening");
    app.run_until(app::shutdown_signal()).await
}
