//! consoled's own metrics, rendered in Prometheus's text format on `--metrics-listen`
//! (`http::telemetry`). docs/operations.md lists every one with its meaning.
//!
//! Recording is off until [`install`] runs (the flag is set): until then every function
//! here returns after one atomic load, so a server that is not scraped pays nothing for its
//! metrics. Label values come from bounded sets only — route templates (never raw paths),
//! a fixed list of methods, status codes and reasons named in code — so that no caller can
//! grow the number of series.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Mutex, OnceLock, RwLock};
use std::time::{Duration, Instant};

use ::metrics::{
    counter, describe_counter, describe_gauge, describe_histogram, gauge, histogram, Counter,
    Histogram, Unit,
};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

pub const BUILD_INFO: &str = "consoled_build_info";
pub const HTTP_REQUESTS: &str = "consoled_http_requests_total";
pub const HTTP_REQUEST_SECONDS: &str = "consoled_http_request_duration_seconds";
pub const TOKENS_ISSUED: &str = "consoled_tokens_issued_total";
pub const TOKENS_REFUSED: &str = "consoled_tokens_refused_total";
pub const LIMIT_REFUSALS: &str = "consoled_limit_refusals_total";
pub const DB_POOL_CONNECTIONS: &str = "consoled_db_pool_connections";
pub const DB_POOL_MAX: &str = "consoled_db_pool_max_connections";
pub const DB_QUERY_SECONDS: &str = "consoled_db_query_duration_seconds";
pub const DB_BEGIN_SECONDS: &str = "consoled_db_begin_duration_seconds";
pub const DB_COMMIT_SECONDS: &str = "consoled_db_commit_duration_seconds";
pub const RECONCILER_PASSES: &str = "consoled_reconciler_passes_total";
pub const RECONCILER_PASS_SECONDS: &str = "consoled_reconciler_pass_duration_seconds";
pub const RECONCILER_STEPS: &str = "consoled_reconciler_steps_applied_total";
pub const CLUSTERS: &str = "consoled_clusters";
pub const DRIVER_ACTIONS: &str = "consoled_driver_actions_total";
pub const DRIVER_ACTION_SECONDS: &str = "consoled_driver_action_duration_seconds";
pub const HEALTH_PROBES: &str = "consoled_health_probes_total";
pub const HEALTH_PROBE_SECONDS: &str = "consoled_health_probe_duration_seconds";
pub const CACHE_LOOKUPS: &str = "consoled_cache_lookups_total";

/// Request, query, pass and probe latencies: from half a millisecond to half a minute.
const LATENCY_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];
/// Driver commands provision real things: seconds to a quarter of an hour.
const DRIVER_BUCKETS: &[f64] = &[0.05, 0.25, 1.0, 5.0, 15.0, 60.0, 300.0, 900.0];

/// Every status a cluster can be in, so that a status no cluster is in reads 0 rather
/// than keeping its last count.
const CLUSTER_STATUSES: &[&str] = &[
    "Creating",
    "Healthy",
    "Unhealthy",
    "Updating",
    "Suspended",
    "Resuming",
];

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
/// The series of the hot paths, registered once: recording then costs an atomic add (and,
/// for requests, a map lookup by route) instead of building and hashing a key per event.
static SERIES: OnceLock<Series> = OnceLock::new();

struct Series {
    caches: [[Counter; 2]; Cache::ALL.len()],
    tokens_issued: Counter,
    db_query: [Histogram; 2],
    db_begin: Histogram,
    db_commit: Histogram,
    routes: RwLock<HashMap<String, RouteSeries>>,
}

/// One route's series, made as its methods and statuses first occur.
#[derive(Default)]
struct RouteSeries {
    latency: [OnceLock<Histogram>; METHODS.len()],
    /// (method, status, counter): a handful per route.
    answered: Mutex<Vec<(usize, u16, Counter)>>,
}

impl Series {
    fn register() -> Series {
        Series {
            caches: Cache::ALL.map(|cache| {
                [false, true].map(|hit| {
                    counter!(CACHE_LOOKUPS, "cache" => cache.label(), "result" => if hit { "hit" } else { "miss" })
                })
            }),
            tokens_issued: counter!(TOKENS_ISSUED),
            db_query: ["read", "write"].map(|kind| histogram!(DB_QUERY_SECONDS, "kind" => kind)),
            db_begin: histogram!(DB_BEGIN_SECONDS),
            db_commit: histogram!(DB_COMMIT_SECONDS),
            routes: RwLock::new(HashMap::new()),
        }
    }

    /// Runs `record` on the series of `route`, made on its first request.
    fn with_route(&self, route: &str, record: impl FnOnce(&RouteSeries)) {
        if let Some(series) = self.routes.read().expect("routes poisoned").get(route) {
            return record(series);
        }
        let mut routes = self.routes.write().expect("routes poisoned");
        record(routes.entry(route.to_owned()).or_default());
    }
}

fn series() -> Option<&'static Series> {
    SERIES.get()
}

/// Whether metrics are being recorded (`--metrics-listen` is set).
pub fn on() -> bool {
    SERIES.get().is_some()
}

/// Turns recording on for this process and returns what renders the exposition. Later
/// calls return the same handle.
pub fn install() -> PrometheusHandle {
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                .set_buckets(LATENCY_BUCKETS)
                .and_then(|b| {
                    b.set_buckets_for_metric(
                        Matcher::Full(DRIVER_ACTION_SECONDS.into()),
                        DRIVER_BUCKETS,
                    )
                })
                .expect("the buckets are not empty")
                .build_recorder();
            let handle = recorder.handle();
            if ::metrics::set_global_recorder(recorder).is_err() {
                tracing::warn!("another metrics recorder is installed; /metrics stays empty");
            }
            describe();
            gauge!(BUILD_INFO, "version" => env!("CARGO_PKG_VERSION")).set(1.0);
            for status in CLUSTER_STATUSES {
                gauge!(CLUSTERS, "status" => *status).set(0.0);
            }
            let _ = SERIES.set(Series::register());
            handle
        })
        .clone()
}

fn describe() {
    describe_gauge!(
        BUILD_INFO,
        "Always 1; the label `version` is consoled's version."
    );
    describe_counter!(
        HTTP_REQUESTS,
        "HTTP requests answered, by route template, method and status code."
    );
    describe_histogram!(
        HTTP_REQUEST_SECONDS,
        Unit::Seconds,
        "Time from a request's head to its answer, by route template and method."
    );
    describe_counter!(TOKENS_ISSUED, "Access tokens issued by /oauth/token.");
    describe_counter!(
        TOKENS_REFUSED,
        "Token requests refused, by reason: the OAuth error code, or rate_limited."
    );
    describe_counter!(
        LIMIT_REFUSALS,
        "Requests refused by a rate limit, a lockout or a concurrency bound, by limit."
    );
    describe_gauge!(
        DB_POOL_CONNECTIONS,
        "Database connections by pool and state (idle or in_use), at scrape time."
    );
    describe_gauge!(DB_POOL_MAX, "The most connections a pool opens.");
    describe_histogram!(
        DB_QUERY_SECONDS,
        Unit::Seconds,
        "Queries outside transactions, by kind (read or write): from asking for a connection to the last row."
    );
    describe_histogram!(
        DB_BEGIN_SECONDS,
        Unit::Seconds,
        "Starting a write transaction, waiting for the connection (and SQLite's write lock) included."
    );
    describe_histogram!(
        DB_COMMIT_SECONDS,
        Unit::Seconds,
        "Committing a write transaction, the sync to disk included."
    );
    describe_counter!(
        RECONCILER_PASSES,
        "Reconciler passes, by outcome (ok or error)."
    );
    describe_histogram!(
        RECONCILER_PASS_SECONDS,
        Unit::Seconds,
        "How long one reconciler pass took."
    );
    describe_counter!(
        RECONCILER_STEPS,
        "Cluster lifecycle steps the reconciler applied (simulated driver) or driver steps it recorded (exec driver)."
    );
    describe_gauge!(
        CLUSTERS,
        "Clusters of the installation in each status, counted at scrape time."
    );
    describe_counter!(
        DRIVER_ACTIONS,
        "Driver commands run (exec driver), by action and outcome (ok, failed, timed_out)."
    );
    describe_histogram!(
        DRIVER_ACTION_SECONDS,
        Unit::Seconds,
        "How long driver commands took, by action."
    );
    describe_counter!(
        HEALTH_PROBES,
        "Health probes of cluster endpoints (exec driver), by outcome (up or down)."
    );
    describe_histogram!(
        HEALTH_PROBE_SECONDS,
        Unit::Seconds,
        "How long one health probe took."
    );
    describe_counter!(
        CACHE_LOOKUPS,
        "Lookups in consoled's in-memory caches, by cache and result (hit or miss)."
    );
}

/// The methods with a label of their own; any other counts as `other` (the last).
const METHODS: [&str; 8] = [
    "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "other",
];

fn method_index(method: &axum::http::Method) -> usize {
    use axum::http::Method;
    match *method {
        Method::GET => 0,
        Method::POST => 1,
        Method::PUT => 2,
        Method::PATCH => 3,
        Method::DELETE => 4,
        Method::HEAD => 5,
        Method::OPTIONS => 6,
        _ => 7,
    }
}

/// One answered request. `route` is the matched route's template, or `unmatched`.
pub fn http_request(route: &str, method: &axum::http::Method, status: u16, elapsed: Duration) {
    let Some(series) = series() else {
        return;
    };
    let method = method_index(method);
    series.with_route(route, |of_route| {
        of_route.latency[method]
            .get_or_init(|| histogram!(HTTP_REQUEST_SECONDS, "route" => route.to_owned(), "method" => METHODS[method]))
            .record(elapsed.as_secs_f64());
        let mut answered = of_route.answered.lock().expect("route series poisoned");
        match answered
            .iter()
            .find(|(m, s, _)| *m == method && *s == status)
        {
            Some((_, _, counter)) => counter.increment(1),
            None => {
                let counter = counter!(HTTP_REQUESTS, "route" => route.to_owned(), "method" => METHODS[method], "status" => status.to_string());
                counter.increment(1);
                answered.push((method, status, counter));
            }
        }
    });
}

pub fn token_issued() {
    if let Some(series) = series() {
        series.tokens_issued.increment(1);
    }
}

pub fn token_refused(reason: &'static str) {
    if on() {
        counter!(TOKENS_REFUSED, "reason" => reason).increment(1);
    }
}

/// A refusal by the limit named `limit` (docs/operations.md lists them).
pub fn limit_refused(limit: &'static str) {
    if on() {
        counter!(LIMIT_REFUSALS, "limit" => limit).increment(1);
    }
}

/// One connection pool as seen at scrape time.
#[derive(Debug, Clone, Copy)]
pub struct PoolUsage {
    pub pool: &'static str,
    pub open: u32,
    pub idle: u32,
    pub max: u32,
}

pub fn db_pools(pools: &[PoolUsage]) {
    if !on() {
        return;
    }
    for p in pools {
        let in_use = p.open.saturating_sub(p.idle);
        gauge!(DB_POOL_CONNECTIONS, "pool" => p.pool, "state" => "idle").set(p.idle as f64);
        gauge!(DB_POOL_CONNECTIONS, "pool" => p.pool, "state" => "in_use").set(in_use as f64);
        gauge!(DB_POOL_MAX, "pool" => p.pool).set(p.max as f64);
    }
}

/// A query outside a transaction: `kind` is `read` or `write`.
pub fn db_query(kind: &'static str, elapsed: Duration) {
    if let Some(series) = series() {
        let index = usize::from(kind != "read");
        series.db_query[index].record(elapsed.as_secs_f64());
    }
}

/// Awaits `work`; while metrics are recorded, hands its outcome and how long it took to
/// `record` (no clock is read otherwise).
pub async fn timed<T>(work: impl Future<Output = T>, record: impl FnOnce(&T, Duration)) -> T {
    let started = on().then(Instant::now);
    let outcome = work.await;
    if let Some(started) = started {
        record(&outcome, started.elapsed());
    }
    outcome
}

pub fn db_begin(elapsed: Duration) {
    if let Some(series) = series() {
        series.db_begin.record(elapsed.as_secs_f64());
    }
}

pub fn db_commit(elapsed: Duration) {
    if let Some(series) = series() {
        series.db_commit.record(elapsed.as_secs_f64());
    }
}

pub fn reconciler_pass(elapsed: Duration, ok: bool) {
    if !on() {
        return;
    }
    counter!(RECONCILER_PASSES, "outcome" => if ok { "ok" } else { "error" }).increment(1);
    histogram!(RECONCILER_PASS_SECONDS).record(elapsed.as_secs_f64());
}

pub fn reconciler_steps(applied: usize) {
    if on() && applied > 0 {
        counter!(RECONCILER_STEPS).increment(applied as u64);
    }
}

/// The installation's clusters by status, as counted by the database.
pub fn clusters(counts: &[(String, i64)]) {
    if !on() {
        return;
    }
    for status in CLUSTER_STATUSES {
        let count = counts
            .iter()
            .find(|(s, _)| s == status)
            .map_or(0, |(_, n)| *n);
        gauge!(CLUSTERS, "status" => *status).set(count as f64);
    }
}

/// One driver command: `outcome` is `ok`, `failed` or `timed_out`.
pub fn driver_action(action: &'static str, outcome: &'static str, elapsed: Duration) {
    if !on() {
        return;
    }
    counter!(DRIVER_ACTIONS, "action" => action, "outcome" => outcome).increment(1);
    histogram!(DRIVER_ACTION_SECONDS, "action" => action).record(elapsed.as_secs_f64());
}

pub fn health_probe(up: bool, elapsed: Duration) {
    if !on() {
        return;
    }
    counter!(HEALTH_PROBES, "outcome" => if up { "up" } else { "down" }).increment(1);
    histogram!(HEALTH_PROBE_SECONDS).record(elapsed.as_secs_f64());
}

/// consoled's in-memory caches, as `consoled_cache_lookups_total` names them.
#[derive(Debug, Clone, Copy)]
pub enum Cache {
    /// Bearer tokens already verified.
    VerifiedTokens,
    /// Tokens reused within `--token-reuse-window`.
    IssuedTokens,
    /// Clients' revocation state (`--state-cache-ttl`).
    ClientState,
    /// Serialized bodies of hot reads.
    Responses,
}

impl Cache {
    const ALL: [Cache; 4] = [
        Cache::VerifiedTokens,
        Cache::IssuedTokens,
        Cache::ClientState,
        Cache::Responses,
    ];

    fn label(self) -> &'static str {
        match self {
            Cache::VerifiedTokens => "verified_tokens",
            Cache::IssuedTokens => "issued_tokens",
            Cache::ClientState => "client_state",
            Cache::Responses => "responses",
        }
    }
}

/// A lookup in the in-memory cache `cache`.
pub fn cache_lookup(cache: Cache, hit: bool) {
    if let Some(series) = series() {
        series.caches[cache as usize][usize::from(hit)].increment(1);
    }
}
