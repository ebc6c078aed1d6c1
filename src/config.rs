//! Command-line settings. Every setting is a flag with an environment fallback.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "consoled",
    version,
    about = "A self-hostable Camunda 8 Console API server"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the API server.
    Serve(Box<ServeArgs>),
    /// Create the default organization and an admin Console API client; print them as JSON.
    Init(StorageArgs),
    /// Operator commands on clusters of every organization, working on the database.
    #[command(subcommand)]
    Clusters(ClustersCommand),
}

/// `consoled clusters ...`
#[derive(Debug, Subcommand)]
pub enum ClustersCommand {
    /// List the clusters of every organization.
    List {
        #[command(flatten)]
        storage: StorageArgs,
        /// Print a JSON array instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Suspend a Healthy cluster now (`PUT /clusters/{uuid}/wake` resumes it).
    Suspend {
        #[command(flatten)]
        storage: StorageArgs,
        /// The cluster's id (its `uuid` in the API).
        cluster_id: String,
    },
}

/// Where the data lives; shared by the server and every operator command.
#[derive(Debug, Clone, Args)]
pub struct StorageArgs {
    /// Directory for the embedded database and the generated master key.
    #[arg(long, env = "CONSOLED_DATA_DIR", default_value = "./consoled-data")]
    pub data_dir: PathBuf,

    /// Database URL (`sqlite://path`); defaults to a SQLite file in the data dir.
    #[arg(long, env = "CONSOLED_DATABASE_URL")]
    pub database_url: Option<String>,

    /// Base64 (standard or URL-safe) encoding of a 32-byte master key. When unset, a key file
    /// is generated in the data dir with owner-only permissions.
    #[arg(long, env = "CONSOLED_MASTER_KEY", hide_env_values = true)]
    pub master_key: Option<String>,
}

impl StorageArgs {
    pub fn database_url(&self) -> String {
        match &self.database_url {
            Some(url) => url.clone(),
            None => format!("sqlite://{}", self.data_dir.join("consoled.db").display()),
        }
    }
}

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub storage: StorageArgs,

    /// Address to listen on. Port 0 picks a free port.
    #[arg(long, env = "CONSOLED_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,

    /// The externally visible base URL; the token issuer and every URL handed out derive from it.
    /// Defaults to `http://<listen address>`.
    #[arg(long, env = "CONSOLED_PUBLIC_URL")]
    pub public_url: Option<String>,

    /// How long simulated provisioning takes (e.g. `3s`, `0s`).
    #[arg(long, env = "CONSOLED_PROVISION_DELAY", default_value = "3s", value_parser = humantime::parse_duration)]
    pub provision_delay: Duration,

    /// Healthy clusters of suspendable plans (the trial plan by default) are suspended after
    /// this long without a state change; `0s` never suspends them.
    #[arg(long, env = "CONSOLED_SUSPEND_AFTER", default_value = "24h", value_parser = humantime::parse_duration)]
    pub suspend_after: Duration,

    /// TOML file with channels, generations, regions and plan types; built-in default when unset.
    #[arg(long, env = "CONSOLED_CATALOG")]
    pub catalog: Option<PathBuf>,

    /// Domain that cluster links (zeebe, operate, console, ...) are built under.
    #[arg(long, env = "CONSOLED_BASE_DOMAIN", default_value = "camunda.local")]
    pub base_domain: String,

    /// Lifetime of issued access tokens.
    #[arg(long, env = "CONSOLED_TOKEN_LIFETIME", default_value = "24h", value_parser = humantime::parse_duration)]
    pub token_lifetime: Duration,

    /// Audiences accepted for Console API tokens (comma-separated).
    #[arg(
        long,
        env = "CONSOLED_CONSOLE_AUDIENCES",
        value_delimiter = ',',
        default_value = "api.cloud.camunda.io"
    )]
    pub console_audiences: Vec<String>,

    /// Audiences accepted for cluster (Zeebe) client tokens (comma-separated).
    #[arg(
        long,
        env = "CONSOLED_ZEEBE_AUDIENCES",
        value_delimiter = ',',
        default_value = "zeebe.camunda.io"
    )]
    pub zeebe_audiences: Vec<String>,

    /// Maximum number of API clients per cluster.
    #[arg(long, env = "CONSOLED_MAX_CLIENTS_PER_CLUSTER", default_value_t = 50)]
    pub max_clients_per_cluster: u32,

    /// Largest accepted request body, in bytes.
    #[arg(long, env = "CONSOLED_MAX_BODY_BYTES", default_value_t = 64 * 1024)]
    pub max_body_bytes: usize,

    /// Client id of a Console API client with every scope, ensured at start.
    #[arg(long, env = "CONSOLED_BOOTSTRAP_CLIENT_ID")]
    pub bootstrap_client_id: Option<String>,

    /// Secret of the bootstrap client.
    #[arg(long, env = "CONSOLED_BOOTSTRAP_CLIENT_SECRET", hide_env_values = true)]
    pub bootstrap_client_secret: Option<String>,

    /// How often the reconciler looks for due work when nothing wakes it.
    #[arg(long, env = "CONSOLED_RECONCILE_INTERVAL", default_value = "1s", value_parser = humantime::parse_duration)]
    pub reconcile_interval: Duration,
}

impl ServeArgs {
    /// The public URL without a trailing slash.
    pub fn public_url(&self, bound: SocketAddr) -> String {
        match &self.public_url {
            Some(url) => url.trim_end_matches('/').to_string(),
            None => format!("http://{bound}"),
        }
    }
}
