//! Command-line settings. Every setting is a flag with an environment fallback.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::domain::ip_allowlist::IpRange;
use crate::http::limits::RateLimit;

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

/// `consoled migrate --from URL --to URL`
#[derive(Debug, Clone, Args)]
pub struct MigrateArgs {
    /// The database to copy from (`sqlite://PATH` or `postgres://...`). Its schema is
    /// brought up to date first, as `consoled serve` would; it is otherwise only read.
    #[arg(long)]
    pub from: String,

    /// The database to copy into; it must be empty. A SQLite file is created if missing;
    /// a PostgreSQL database must exist (its tables are created).
    #[arg(long)]
    pub to: String,

    /// Delete everything in the target first, in the same transaction as the copy,
    /// instead of refusing a target that has data (e.g. from a server started on it).
    #[arg(long)]
    pub replace_target: bool,

    /// Print the report as JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Create a new signing key; the old ones keep verifying until their tokens expire.
    /// Running servers pick the new key up within their key refresh interval.
    Rotate(StorageArgs),
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

    /// Base64 (standard or URL-safe) encoding of a 32-byte master key. When unset, the data
    /// dir's key file is used; a new database gets one generated with owner-only permissions,
    /// and a database that already holds keys is refused without it.
    #[arg(long, env = "CONSOLED_MASTER_KEY", hide_env_values = true)]
    pub master_key: Option<String>,

    /// How long a server may rely on state it read from the database before reading it
    /// again: a Console API client's revocation state (secret generation, scopes), and on
    /// SQLite the cluster documents it serves (its own writes invalidate them at once).
    /// Operator commands that revoke a client or change a cluster wait this long before they
    /// return, so their effect is visible everywhere by then. Use the same value for servers
    /// and the CLI; `0s` reads on every request.
    #[arg(long, env = "CONSOLED_STATE_CACHE_TTL", default_value = "250ms", value_parser = duration_within(Duration::ZERO, MINUTE))]
    pub state_cache_ttl: Duration,

    /// SQLite durability of an acknowledged write: `power-loss` (fsync on every commit) or
    /// the opt-in, faster `process-crash` (survives kill -9, not a power cut).
    #[arg(
        long,
        env = "CONSOLED_SQLITE_DURABILITY",
        value_enum,
        default_value = "power-loss"
    )]
    pub sqlite_durability: crate::storage::SqliteDurability,

    /// Database connections per pool.
    #[arg(long, env = "CONSOLED_DB_MAX_CONNECTIONS", default_value_t = 16, value_parser = clap::value_parser!(u32).range(1..))]
    pub db_max_connections: u32,

    /// How long a request waits for a database connection before answering 503.
    #[arg(long, env = "CONSOLED_DB_ACQUIRE_TIMEOUT", default_value = "3s", value_parser = duration_within(Duration::from_millis(100), 10 * MINUTE))]
    pub db_acquire_timeout: Duration,
}

impl StorageArgs {
    pub fn pool_settings(&self) -> crate::storage::PoolSettings {
        crate::storage::PoolSettings {
            max_connections: self.db_max_connections,
            acquire_timeout: self.db_acquire_timeout,
            sqlite_durability: self.sqlite_durability,
        }
    }

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
    /// An absolute `http://` or `https://` URL with a host and no user info, query or
    /// fragment; its host, with and without the port, is also a Console API audience.
    /// Defaults to `http://<listen address>`.
    #[arg(long, env = "CONSOLED_PUBLIC_URL", value_parser = parse_public_url)]
    pub public_url: Option<String>,

    /// How long simulated provisioning takes (e.g. `3s`, `0s`).
    #[arg(long, env = "CONSOLED_PROVISION_DELAY", default_value = "3s", value_parser = duration_within(Duration::ZERO, DAY))]
    pub provision_delay: Duration,

    /// Healthy clusters of suspendable plans (the trial plan by default) are suspended after
    /// this long without a state change; `0s` never suspends them.
    #[arg(long, env = "CONSOLED_SUSPEND_AFTER", default_value = "24h", value_parser = zero_or_duration_within(Duration::from_millis(100), 365 * DAY))]
    pub suspend_after: Duration,

    /// TOML file with channels, generations, regions and plan types; built-in default when unset.
    #[arg(long, env = "CONSOLED_CATALOG")]
    pub catalog: Option<PathBuf>,

    /// Domain that cluster links (zeebe, operate, console, ...) are built under.
    #[arg(long, env = "CONSOLED_BASE_DOMAIN", default_value = "camunda.local", value_parser = parse_dns_name)]
    pub base_domain: String,

    /// Lifetime of issued access tokens.
    #[arg(long, env = "CONSOLED_TOKEN_LIFETIME", default_value = "24h", value_parser = duration_within(MINUTE, 30 * DAY))]
    pub token_lifetime: Duration,

    /// A client asking for a token again within this window (same audience and scope) gets
    /// the one it was just given, with its remaining lifetime; `0s` signs every time. Shorter
    /// than `--token-lifetime`.
    #[arg(long, env = "CONSOLED_TOKEN_REUSE_WINDOW", default_value = "30s", value_parser = duration_within(Duration::ZERO, 30 * DAY))]
    pub token_reuse_window: Duration,

    /// Audiences accepted for Console API tokens (comma-separated); the first is the default
    /// audience. The host of the public URL is accepted besides these.
    #[arg(
        long,
        env = "CONSOLED_CONSOLE_AUDIENCES",
        value_delimiter = ',',
        default_value = "api.cloud.camunda.io",
        value_parser = parse_audience
    )]
    pub console_audiences: Vec<String>,

    /// Audiences accepted for cluster (Zeebe) client tokens (comma-separated).
    #[arg(
        long,
        env = "CONSOLED_ZEEBE_AUDIENCES",
        value_delimiter = ',',
        default_value = "zeebe.camunda.io",
        value_parser = parse_audience
    )]
    pub zeebe_audiences: Vec<String>,

    /// Maximum number of API clients per cluster.
    #[arg(long, env = "CONSOLED_MAX_CLIENTS_PER_CLUSTER", default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_clients_per_cluster: u32,

    /// Maximum number of connector secrets per cluster.
    #[arg(long, env = "CONSOLED_MAX_SECRETS_PER_CLUSTER", default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_secrets_per_cluster: u32,

    /// Largest accepted request body, in bytes; at least 1024.
    #[arg(long, env = "CONSOLED_MAX_BODY_BYTES", default_value_t = 64 * 1024, value_parser = parse_max_body_bytes)]
    pub max_body_bytes: usize,

    /// Email of the owner member of the organization created on first start.
    #[arg(long, env = "CONSOLED_OWNER_EMAIL", default_value = crate::operator::DEFAULT_OWNER_EMAIL, value_parser = parse_email)]
    pub owner_email: String,

    /// Seats per organization: members and pending invites, the owner included.
    #[arg(long, env = "CONSOLED_MAX_MEMBERS", default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_members: u32,

    /// Web Modeler's egress IP ranges served by `GET /meta/ip-ranges` (comma-separated CIDRs).
    #[arg(
        long,
        env = "CONSOLED_WEB_MODELER_IP_RANGES",
        value_delimiter = ',',
        default_value = "127.0.0.1/32,::1/128",
        value_parser = parse_cidr
    )]
    pub web_modeler_ip_ranges: Vec<String>,

    /// Client id of a Console API client with every scope, ensured at start.
    #[arg(long, env = "CONSOLED_BOOTSTRAP_CLIENT_ID")]
    pub bootstrap_client_id: Option<String>,

    /// Secret of the bootstrap client.
    #[arg(long, env = "CONSOLED_BOOTSTRAP_CLIENT_SECRET", hide_env_values = true)]
    pub bootstrap_client_secret: Option<String>,

    /// How often signing keys are reloaded from the database (rotation by another process).
    #[arg(long, env = "CONSOLED_KEY_REFRESH_INTERVAL", default_value = "10s", value_parser = duration_within(Duration::from_millis(100), HOUR))]
    pub key_refresh_interval: Duration,

    /// Accepted difference between this server's clock and a token's time claims (`exp`,
    /// `nbf`, `iat`); also how long a retired signing key outlives its last token.
    #[arg(long, env = "CONSOLED_CLOCK_SKEW", default_value = "30s", value_parser = duration_within(Duration::ZERO, 5 * MINUTE))]
    pub clock_skew: Duration,

    /// PEM file with the certificate chain to serve HTTPS with (needs `--tls-key`).
    #[arg(long, env = "CONSOLED_TLS_CERT", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,

    /// PEM file with the private key of `--tls-cert` (PKCS#8, PKCS#1 or SEC1).
    #[arg(long, env = "CONSOLED_TLS_KEY", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,

    /// Peers (comma-separated CIDRs) whose `X-Forwarded-For` names the source address of a
    /// request; from any other peer the header is ignored.
    #[arg(
        long,
        env = "CONSOLED_TRUSTED_PROXIES",
        value_delimiter = ',',
        value_parser = parse_ip_range
    )]
    pub trusted_proxies: Vec<IpRange>,

    /// Token requests per source address: `N/PERIOD` (bursts of N, refilled at N per
    /// PERIOD), or `off`.
    #[arg(
        long,
        env = "CONSOLED_TOKEN_LIMIT_PER_SOURCE",
        default_value = "120/1m"
    )]
    pub token_limit_per_source: RateLimit,

    /// Token requests per client id: `N/PERIOD` or `off`.
    #[arg(long, env = "CONSOLED_TOKEN_LIMIT_PER_CLIENT", default_value = "60/1m")]
    pub token_limit_per_client: RateLimit,

    /// Consecutive wrong secrets for one client id after which its token requests are
    /// refused for `--token-lockout`; `0` never locks.
    #[arg(
        long,
        env = "CONSOLED_TOKEN_FAILURES_BEFORE_LOCKOUT",
        default_value_t = 5
    )]
    pub token_failures_before_lockout: u32,

    /// How long a client id is locked; each further wrong secret doubles it, up to 15
    /// minutes (or this, if longer).
    #[arg(long, env = "CONSOLED_TOKEN_LOCKOUT", default_value = "30s", value_parser = duration_within(SECOND, DAY))]
    pub token_lockout: Duration,

    /// Console API requests per client (per token subject): `N/PERIOD` or `off`.
    #[arg(long, env = "CONSOLED_API_LIMIT_PER_CLIENT", default_value = "off")]
    pub api_limit_per_client: RateLimit,

    /// Requests handled at once; more are answered 503 with `Retry-After`.
    #[arg(long, env = "CONSOLED_MAX_CONCURRENT_REQUESTS", default_value_t = 256, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_concurrent_requests: u32,

    /// Unauthenticated requests (no valid bearer token) in progress from one source address;
    /// more are answered 429. Unauthenticated requests together may use at most half of
    /// `--max-concurrent-requests`.
    #[arg(long, env = "CONSOLED_MAX_REQUESTS_PER_SOURCE", default_value_t = 32, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_requests_per_source: u32,

    /// Open connections; further ones wait in the listen backlog.
    #[arg(long, env = "CONSOLED_MAX_CONNECTIONS", default_value_t = 1024, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_connections: u32,

    /// Open connections from one source address (trusted proxies excepted); further ones are
    /// closed at once.
    #[arg(long, env = "CONSOLED_MAX_CONNECTIONS_PER_SOURCE", default_value_t = 128, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_connections_per_source: u32,

    /// Concurrent HTTP/2 streams (requests) per connection.
    #[arg(long, env = "CONSOLED_MAX_STREAMS_PER_CONNECTION", default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_streams_per_connection: u32,

    /// Time a request body has to start arriving; after it the body must keep arriving at an
    /// average of at least 1 KiB/s, or the request is answered 408. A token form of a few
    /// hundred bytes thus has about this long.
    #[arg(long, env = "CONSOLED_BODY_READ_TIMEOUT", default_value = "5s", value_parser = duration_within(SECOND, HOUR))]
    pub body_read_timeout: Duration,

    /// Time a request may take, its body included, before it is answered 408.
    #[arg(long, env = "CONSOLED_REQUEST_TIMEOUT", default_value = "30s", value_parser = duration_within(SECOND, HOUR))]
    pub request_timeout: Duration,

    /// Time a client has to send a request's headers, counted from when the connection is
    /// ready for one (so it also closes idle keep-alive connections), and to finish the TLS
    /// handshake.
    #[arg(long, env = "CONSOLED_HEADER_READ_TIMEOUT", default_value = "10s", value_parser = duration_within(SECOND, HOUR))]
    pub header_read_timeout: Duration,

    /// A connection on which nothing is read or written for this long is closed. At least
    /// `--request-timeout`.
    #[arg(long, env = "CONSOLED_IDLE_TIMEOUT", default_value = "60s", value_parser = duration_within(SECOND, HOUR))]
    pub idle_timeout: Duration,

    /// Largest accepted request head (request line and headers), in bytes; at least 8192.
    /// Larger heads are answered 431.
    #[arg(long, env = "CONSOLED_MAX_HEADER_BYTES", default_value_t = 16 * 1024, value_parser = clap::value_parser!(u32).range(8192..))]
    pub max_header_bytes: u32,

    /// Most header fields in a request; more are answered 431.
    #[arg(long, env = "CONSOLED_MAX_HEADERS", default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_headers: u32,

    /// Origins browsers may call the API from (comma-separated, `*` for any); CORS is off
    /// when unset.
    #[arg(long, env = "CONSOLED_CORS_ALLOWED_ORIGINS", value_delimiter = ',', value_parser = parse_cors_origin)]
    pub cors_allowed_origins: Vec<String>,

    /// How often the reconciler looks for due work when nothing wakes it.
    #[arg(long, env = "CONSOLED_RECONCILE_INTERVAL", default_value = "1s", value_parser = duration_within(Duration::from_millis(10), HOUR))]
    pub reconcile_interval: Duration,
}

impl ServeArgs {
    /// The public URL without a trailing slash; `https://<bound>` by default when serving TLS.
    pub fn public_url(&self, bound: SocketAddr) -> String {
        match &self.public_url {
            Some(url) => url.trim_end_matches('/').to_string(),
            None if self.tls_cert.is_some() => format!("https://{bound}"),
            None => format!("http://{bound}"),
        }
    }
}

/// Parses a `--trusted-proxies` entry: an address or CIDR range.
fn parse_ip_range(text: &str) -> Result<IpRange, String> {
    IpRange::parse(text.trim())
        .ok_or_else(|| format!("{text:?} is not an address or CIDR block such as 10.0.0.0/8"))
}

/// Validates an IPv4 or IPv6 CIDR block (`10.0.0.0/8`, `2001:db8::/32`) and returns it
/// in canonical form.
fn parse_cidr(text: &str) -> Result<String, String> {
    let invalid = || format!("{text:?} is not a CIDR block such as 10.0.0.0/8");
    let (addr, prefix) = text.trim().split_once('/').ok_or_else(invalid)?;
    let addr: std::net::IpAddr = addr.parse().map_err(|_| invalid())?;
    let prefix: u8 = prefix.parse().map_err(|_| invalid())?;
    let max = if addr.is_ipv4() { 32 } else { 128 };
    if prefix > max {
        return Err(invalid());
    }
    Ok(format!("{addr}/{prefix}"))
}

// ---- Validation of the serve settings ----
//
// A check about one value is the flag's value parser, so clap's error names the flag; a
// rule relating several flags is in `ServeArgs::validate`. Both run before anything is
// opened or written.

const SECOND: Duration = Duration::from_secs(1);
const MINUTE: Duration = Duration::from_secs(60);
const HOUR: Duration = Duration::from_secs(3600);
const DAY: Duration = Duration::from_secs(86_400);

/// Smallest accepted `--max-body-bytes`: room for any request of the API.
const MIN_BODY_BYTES: usize = 1024;
/// Longest accepted audience.
const MAX_AUDIENCE_CHARS: usize = 255;

impl ServeArgs {
    /// Checks the rules between settings; each message names the flags involved.
    pub fn validate(&self) -> anyhow::Result<()> {
        let format = humantime::format_duration;
        anyhow::ensure!(
            self.token_reuse_window < self.token_lifetime,
            "--token-reuse-window ({}) must be shorter than --token-lifetime ({}): a reused \
             token must still have time left",
            format(self.token_reuse_window),
            format(self.token_lifetime)
        );
        anyhow::ensure!(
            self.idle_timeout >= self.request_timeout,
            "--idle-timeout ({}) must be at least --request-timeout ({})",
            format(self.idle_timeout),
            format(self.request_timeout)
        );
        // An empty value may leave a list empty rather than holding an empty entry.
        anyhow::ensure!(
            !self.console_audiences.is_empty(),
            "--console-audiences must name at least one audience"
        );
        anyhow::ensure!(
            !self.zeebe_audiences.is_empty(),
            "--zeebe-audiences must name at least one audience"
        );
        // The public URL's host is known before the listener is bound; only a port 0 is not.
        let console_audiences =
            crate::auth::console_audiences(&self.console_audiences, &self.public_url(self.listen));
        check_audiences_apart(&console_audiences, &self.zeebe_audiences)?;
        let origins: Vec<&String> = self
            .cors_allowed_origins
            .iter()
            .filter(|o| !o.is_empty())
            .collect();
        anyhow::ensure!(
            origins.len() <= 1 || !origins.iter().any(|o| *o == "*"),
            "--cors-allowed-origins: `*` allows every origin and cannot be combined with others"
        );
        if let Some(url) = &self.storage.database_url {
            anyhow::ensure!(
                ["sqlite:", "postgres:", "postgresql:"]
                    .iter()
                    .any(|scheme| url.starts_with(scheme)),
                "--database-url {} is not supported: use sqlite://PATH or postgres://...",
                crate::storage::copy::redact_url(url)
            );
        }
        self.validate_bootstrap_client()
    }

    /// Checked here, not by value parsers, so a refused secret is never echoed.
    fn validate_bootstrap_client(&self) -> anyhow::Result<()> {
        match (&self.bootstrap_client_id, &self.bootstrap_client_secret) {
            (None, None) => Ok(()),
            (Some(id), Some(secret)) => {
                anyhow::ensure!(
                    !id.trim().is_empty() && !id.chars().any(char::is_control),
                    "--bootstrap-client-id (CONSOLED_BOOTSTRAP_CLIENT_ID) must not be empty \
                     or contain control characters"
                );
                anyhow::ensure!(
                    secret.chars().count() >= 16 && !secret.chars().any(char::is_control),
                    "--bootstrap-client-secret (CONSOLED_BOOTSTRAP_CLIENT_SECRET) must have at \
                     least 16 characters and no control characters"
                );
                Ok(())
            }
            _ => anyhow::bail!(
                "set both --bootstrap-client-id and --bootstrap-client-secret \
                 (CONSOLED_BOOTSTRAP_CLIENT_ID, CONSOLED_BOOTSTRAP_CLIENT_SECRET), or neither"
            ),
        }
    }
}

/// Refuses an audience that is both a Console API and a Zeebe audience: a token for the
/// one must never be taken for the other.
pub fn check_audiences_apart(console: &[String], zeebe: &[String]) -> anyhow::Result<()> {
    match console.iter().find(|a| zeebe.contains(a)) {
        Some(shared) => anyhow::bail!(
            "audience {shared:?} is both a Console API audience (--console-audiences, or the \
             host of --public-url) and a Zeebe audience (--zeebe-audiences)"
        ),
        None => Ok(()),
    }
}

/// A value parser for a duration from `min` to `max`.
fn duration_within(
    min: Duration,
    max: Duration,
) -> impl Fn(&str) -> Result<Duration, String> + Clone + Send + Sync + 'static {
    move |text| {
        let duration = parse_duration(text)?;
        let format = format_bound;
        match (duration < min, duration > max) {
            (false, false) => Ok(duration),
            _ if min.is_zero() => Err(format!("must be at most {}", format(max))),
            _ => Err(format!("must be from {} to {}", format(min), format(max))),
        }
    }
}

/// A value parser for `0s` (off) or a duration from `min` to `max`.
fn zero_or_duration_within(
    min: Duration,
    max: Duration,
) -> impl Fn(&str) -> Result<Duration, String> + Clone + Send + Sync + 'static {
    let within = duration_within(min, max);
    move |text| match parse_duration(text)? {
        zero if zero.is_zero() => Ok(zero),
        _ => within(text).map_err(|e| format!("{e}, or 0s")),
    }
}

/// A bound as the operator would write it: whole days as days (humantime would give a
/// year as "11months 30days 3h 50m 24s").
fn format_bound(bound: Duration) -> String {
    let secs = bound.as_secs();
    if bound > DAY && secs.is_multiple_of(DAY.as_secs()) {
        format!("{}d", secs / DAY.as_secs())
    } else {
        humantime::format_duration(bound).to_string()
    }
}

fn parse_duration(text: &str) -> Result<Duration, String> {
    humantime::parse_duration(text.trim())
        .map_err(|e| format!("{e}; use a duration such as 500ms, 30s, 5m or 24h"))
}

/// `--public-url`: the token issuer and the base of every URL handed out, so an absolute
/// http(s) URL with a host, and nothing a client would mangle or leak: no user info, query
/// or fragment. Returned in canonical form without a trailing slash.
pub fn parse_public_url(text: &str) -> Result<String, String> {
    const EXPECTED: &str = "must be an absolute http:// or https:// URL with a host, such as \
                            https://console.example.com";
    // The URL parser would silently drop these; the issuer must be exactly what was meant.
    if text.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!("{EXPECTED}, without spaces or control characters"));
    }
    let lower = text.to_ascii_lowercase();
    if !lower.starts_with("http://") && !lower.starts_with("https://") {
        return Err(EXPECTED.to_string());
    }
    let url = url::Url::parse(text).map_err(|e| format!("{EXPECTED} ({e})"))?;
    if url.host_str().is_none_or(str::is_empty) {
        return Err(EXPECTED.to_string());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("must not contain a user name or password".into());
    }
    if url.query().is_some() {
        return Err("must not have a query (`?...`)".into());
    }
    if url.fragment().is_some() {
        return Err("must not have a fragment (`#...`)".into());
    }
    Ok(url.as_str().trim_end_matches('/').to_string())
}

/// `--base-domain`: a DNS name (letters, digits and hyphens in dot-separated labels of 1
/// to 63 characters), returned lower-cased; cluster host names are built under it.
fn parse_dns_name(text: &str) -> Result<String, String> {
    let name = text.trim().to_ascii_lowercase();
    let invalid = |why: &str| {
        Err(format!(
            "must be a DNS name such as camunda.example.com ({why})"
        ))
    };
    if name.is_empty() || name.len() > 253 {
        return invalid("1 to 253 characters");
    }
    for label in name.split('.') {
        if label.is_empty() || label.len() > 63 {
            return invalid("each dot-separated label has 1 to 63 characters");
        }
        if !label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
            return invalid("only letters, digits, hyphens and dots");
        }
        if label.starts_with('-') || label.ends_with('-') {
            return invalid("a label neither starts nor ends with a hyphen");
        }
    }
    Ok(name)
}

/// An entry of `--console-audiences` or `--zeebe-audiences`: what clients send as
/// `audience` and find in the token's `aud`.
fn parse_audience(text: &str) -> Result<String, String> {
    if text.is_empty() {
        return Err("an audience must not be empty".into());
    }
    if text.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("an audience must not contain spaces or control characters".into());
    }
    if text.chars().count() > MAX_AUDIENCE_CHARS {
        return Err(format!(
            "an audience has at most {MAX_AUDIENCE_CHARS} characters"
        ));
    }
    Ok(text.to_string())
}

/// An entry of `--cors-allowed-origins`: `*`, or an origin as browsers send it in `Origin`
/// (scheme, host, optional port), returned in that form. Empty entries are skipped later.
fn parse_cors_origin(text: &str) -> Result<String, String> {
    const EXPECTED: &str =
        "a CORS origin is `*` or looks like https://app.example.com (scheme, host, optional port)";
    let text = text.trim();
    if text.is_empty() || text == "*" {
        return Ok(text.to_string());
    }
    let lower = text.to_ascii_lowercase();
    if !lower.starts_with("http://") && !lower.starts_with("https://") {
        return Err(EXPECTED.into());
    }
    let url = url::Url::parse(text).map_err(|_| EXPECTED.to_string())?;
    let bare = url.username().is_empty()
        && url.password().is_none()
        && url.path() == "/"
        && url.query().is_none()
        && url.fragment().is_none()
        && url.host_str().is_some_and(|h| !h.is_empty());
    if !bare {
        return Err(EXPECTED.into());
    }
    Ok(url.origin().ascii_serialization())
}

fn parse_max_body_bytes(text: &str) -> Result<usize, String> {
    match text.trim().parse::<usize>() {
        Ok(bytes) if bytes >= MIN_BODY_BYTES => Ok(bytes),
        _ => Err(format!(
            "must be a number of bytes, at least {MIN_BODY_BYTES}"
        )),
    }
}

/// `--owner-email`: checked and lower-cased as members' emails are.
fn parse_email(text: &str) -> Result<String, String> {
    crate::domain::member::normalize_email(text).map_err(|e| e.to_string())
}

// ---- Operator commands: organizations, Console API clients, members ----

#[derive(Debug, Clone, Args)]
pub struct InitArgs {
    #[command(flatten)]
    pub storage: StorageArgs,

    /// Owner email of the default organization, if `init` creates it.
    #[arg(long, env = "CONSOLED_OWNER_EMAIL", default_value = crate::operator::DEFAULT_OWNER_EMAIL, value_parser = parse_email)]
    pub owner_email: String,
}

/// What every operator command takes.
#[derive(Debug, Clone, Args)]
pub struct OperatorArgs {
    #[command(flatten)]
    pub storage: StorageArgs,

    /// Print JSON for scripts instead of a table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum OrgsCommand {
    /// Create an organization and its owner member.
    Create {
        /// Name of the organization.
        #[arg(long)]
        name: String,
        /// Email of the owner member.
        #[arg(long, default_value = crate::operator::DEFAULT_OWNER_EMAIL)]
        owner_email: String,
        #[command(flatten)]
        common: OperatorArgs,
    },
    /// List the organizations.
    List {
        #[command(flatten)]
        common: OperatorArgs,
    },
}

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

#[derive(Debug, Subcommand)]
pub enum MembersCommand {
    /// Accept a pending invite, as the invited person would.
    Accept {
        email: String,
        /// Organization id; the oldest organization when omitted.
        #[arg(long)]
        org: Option<String>,
        /// The member's display name; the email is kept when omitted.
        #[arg(long)]
        name: Option<String>,
        #[command(flatten)]
        common: OperatorArgs,
    },
}

#[cfg(test)]
mod validation {
    use super::*;

    fn serve(args: &[&str]) -> Result<ServeArgs, String> {
        let argv = ["consoled", "serve"].iter().chain(args);
        match Cli::try_parse_from(argv)
            .map_err(|e| e.to_string())?
            .command
        {
            Command::Serve(args) => Ok(*args),
            _ => unreachable!(),
        }
    }

    #[test]
    fn the_defaults_are_valid() {
        serve(&[]).unwrap().validate().unwrap();
    }

    #[test]
    fn public_urls_are_kept_in_canonical_form() {
        for (given, kept) in [
            (
                "https://console.example.com/",
                "https://console.example.com",
            ),
            (
                "HTTPS://Console.Example.com:443",
                "https://console.example.com",
            ),
            ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
            ("http://[::1]:8080/", "http://[::1]:8080"),
            (
                "https://example.com/consoled/",
                "https://example.com/consoled",
            ),
        ] {
            assert_eq!(parse_public_url(given).as_deref(), Ok(kept), "{given}");
        }
    }

    #[test]
    fn names_and_origins_are_kept_as_clients_send_them() {
        assert_eq!(
            parse_dns_name("Camunda.Example.com").unwrap(),
            "camunda.example.com"
        );
        assert_eq!(parse_dns_name("localhost").unwrap(), "localhost");
        assert_eq!(
            parse_cors_origin("https://App.example.com:443/").unwrap(),
            "https://app.example.com"
        );
        assert_eq!(
            parse_cors_origin("http://localhost:3000").unwrap(),
            "http://localhost:3000"
        );
        assert_eq!(parse_audience("127.0.0.1:8080").unwrap(), "127.0.0.1:8080");
    }

    #[test]
    fn bounds_are_inclusive_and_named_in_the_error() {
        assert!(serve(&["--token-lifetime", "1m"]).is_ok());
        assert!(serve(&["--token-lifetime", "30d"]).is_ok());
        let error = serve(&["--token-lifetime", "31d"]).unwrap_err();
        assert!(
            error.contains("--token-lifetime") && error.contains("1m to 30d"),
            "{error}"
        );
        assert!(serve(&["--suspend-after", "0s"]).is_ok());
        assert!(serve(&["--state-cache-ttl", "0s"]).is_ok());
    }

    #[test]
    fn relations_between_flags_name_both() {
        let args = serve(&["--token-lifetime", "1m", "--token-reuse-window", "1m"]).unwrap();
        let error = args.validate().unwrap_err().to_string();
        assert!(error.contains("--token-reuse-window") && error.contains("--token-lifetime"));
        let args = serve(&["--zeebe-audiences", "api.cloud.camunda.io"]).unwrap();
        let error = args.validate().unwrap_err().to_string();
        assert!(error.contains("--console-audiences") && error.contains("--zeebe-audiences"));
    }
}

/// Property tests: CIDR settings are operator input.
#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn cidr_settings_are_canonical_or_refused(
            text in prop_oneof![any::<String>(), "[0-9a-f:.]{0,20}/[0-9]{0,4}", " ?[0-9.]{7,15}/[0-9]{1,2} ?"],
        ) {
            if let Ok(canonical) = parse_cidr(&text) {
                prop_assert_eq!(parse_cidr(&canonical), Ok(canonical.clone()));
                prop_assert!(IpRange::parse(&canonical).is_some());
            }
            if let Ok(range) = parse_ip_range(&text) {
                prop_assert_eq!(parse_ip_range(&format!("{}/{}", range.addr, range.prefix)), Ok(range));
            }
        }
    }
}
