//! The server's settings ([`ServeArgs`]) and where the data lives ([`StorageArgs`], which
//! the operator commands take too), with their validation. Every setting is a flag with an
//! environment fallback; the commands themselves are in `cli`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use crate::domain::ip_allowlist::IpRange;
use crate::domain::organization::DEFAULT_OWNER_EMAIL;
use crate::http::limits::RateLimit;

mod sso;
mod validate;

pub use sso::{OnOff, SsoArgs, SsoSettings};
use validate::*;
pub use validate::{check_audiences_apart, parse_email, parse_public_url};

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

    #[command(flatten)]
    pub sso: SsoArgs,

    /// Address to listen on. Port 0 picks a free port.
    #[arg(long, env = "CONSOLED_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,

    /// Serves consoled's own metrics (Prometheus text format) at `/metrics` on this
    /// address, apart from the API: unauthenticated, so keep it on a private interface.
    /// Off when not set; port 0 picks a free port.
    #[arg(long, env = "CONSOLED_METRICS_LISTEN")]
    pub metrics_listen: Option<SocketAddr>,

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
    #[arg(long, env = "CONSOLED_OWNER_EMAIL", default_value = DEFAULT_OWNER_EMAIL, value_parser = parse_email)]
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

    /// Requests in progress of one client with a valid token (its subject); more are
    /// answered 429, so no one client takes the whole share of authenticated callers.
    #[arg(long, env = "CONSOLED_MAX_REQUESTS_PER_CLIENT", default_value_t = 64, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_requests_per_client: u32,

    /// Open connections; further ones wait in the listen backlog.
    #[arg(long, env = "CONSOLED_MAX_CONNECTIONS", default_value_t = 1024, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_connections: u32,

    /// Open connections from one source address (trusted proxies excepted); further ones are
    /// closed at once.
    #[arg(long, env = "CONSOLED_MAX_CONNECTIONS_PER_SOURCE", default_value_t = 512, value_parser = clap::value_parser!(u32).range(1..))]
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

    /// What provisions clusters: `simulated` (they turn Healthy after `--provision-delay`,
    /// nothing runs) or `exec` (every step runs `--driver-command`; see docs/drivers.md).
    #[arg(long, env = "CONSOLED_DRIVER", value_enum, default_value = "simulated")]
    pub driver: crate::reconciler::DriverKind,

    /// The executable the `exec` driver runs as `COMMAND ACTION`, with the step's JSON
    /// document on stdin.
    #[arg(long, env = "CONSOLED_DRIVER_COMMAND")]
    pub driver_command: Option<PathBuf>,

    /// How long one run of the driver command may take before it is killed and the step
    /// counts as failed.
    #[arg(long, env = "CONSOLED_DRIVER_TIMEOUT", default_value = "15m", value_parser = duration_within(SECOND, DAY))]
    pub driver_timeout: Duration,

    /// How often the health URLs a driver reported are probed.
    #[arg(long, env = "CONSOLED_HEALTH_INTERVAL", default_value = "10s", value_parser = duration_within(Duration::from_millis(100), HOUR))]
    pub health_interval: Duration,

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
