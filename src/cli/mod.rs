//! The `consoled` command line: the [`Cli`] and its [`Command`]s, and their dispatch. Each
//! subcommand group has a file here with its flags and its printing; the actions are in
//! [`crate::operator`], the server's settings in [`crate::config`].

mod api_clients;
mod clusters;
mod init;
mod keys;
mod members;
mod migrate;
mod openapi;
mod orgs;
mod serve;
pub(crate) mod table;

use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use serde::Serialize;
use tracing_subscriber::EnvFilter;

use crate::config::{ServeArgs, StorageArgs};

pub use api_clients::ApiClientsCommand;
pub use clusters::{ClusterSummary, ClustersCommand};
pub use init::InitArgs;
pub use keys::KeysCommand;
pub use members::MembersCommand;
pub use migrate::MigrateArgs;
pub use orgs::OrgsCommand;

#[derive(Debug, Parser)]
#[command(
    name = "consoled",
    version,
    about = "A self-hostable Camunda 8 Console API server"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,

    /// How log lines are written to stderr: `text` for people, `json` for log pipelines
    /// (one object per line: timestamp, level, target, message, the request's id and the
    /// other fields of its spans).
    #[arg(
        long,
        global = true,
        env = "CONSOLED_LOG_FORMAT",
        value_enum,
        default_value = "text"
    )]
    pub log_format: LogFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the API server.
    Serve(Box<ServeArgs>),
    /// Create the default organization and an admin Console API client; print them as JSON.
    Init(InitArgs),
    /// Manage organizations, directly in the database (the server may be running).
    #[command(subcommand)]
    Orgs(OrgsCommand),
    /// Manage Console API clients, directly in the database (the server may be running).
    #[command(subcommand)]
    ApiClients(ApiClientsCommand),
    /// Manage organization members, directly in the database (the server may be running).
    #[command(subcommand)]
    Members(MembersCommand),
    /// Operator commands on clusters of every organization, working on the database.
    #[command(subcommand)]
    Clusters(ClustersCommand),
    /// Manage the token signing keys.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Copy an installation into another, empty database (e.g. SQLite to PostgreSQL),
    /// verifying the row count of every table. Stop the servers first.
    Migrate(MigrateArgs),
    /// Print the OpenAPI document of the HTTP API (JSON, as `GET /openapi.json` serves it).
    Openapi,
}

/// What every operator command on organizations, clients and members takes.
#[derive(Debug, Clone, Args)]
pub struct OperatorArgs {
    #[command(flatten)]
    pub storage: StorageArgs,

    /// Print JSON for scripts instead of a table.
    #[arg(long)]
    pub json: bool,
}

pub fn run(cli: Cli) -> ExitCode {
    init_tracing(cli.log_format);
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

fn init_tracing(format: LogFormat) {
    let filter = EnvFilter::try_from_env("CONSOLED_LOG")
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_http=info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        // Colours only on a terminal: a log file gets plain text.
        LogFormat::Text => builder
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .try_init(),
        LogFormat::Json => builder
            .json()
            .with_current_span(true)
            .with_span_list(true)
            .flatten_event(true)
            .try_init(),
    };
}

async fn dispatch(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve(args) => serve::run(*args).await,
        Command::Init(args) => init::run(args).await,
        Command::Orgs(command) => orgs::run(command).await,
        Command::ApiClients(command) => api_clients::run(command).await,
        Command::Members(command) => members::run(command).await,
        Command::Clusters(command) => clusters::run(command).await,
        Command::Keys(command) => keys::run(command).await,
        Command::Migrate(args) => migrate::run(args).await,
        Command::Openapi => openapi::run(),
    }
}

/// Prints a value as pretty JSON on stdout.
fn print_json(value: &impl Serialize) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}
