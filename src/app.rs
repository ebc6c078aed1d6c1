//! Assembling and running the server.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio::net::TcpListener;
use tokio::sync::{watch, Notify};
use tokio_rustls::TlsAcceptor;
use tower::Layer;
use tower_http::normalize_path::NormalizePathLayer;

use crate::auth;
use crate::auth::keys::KeySet;
use crate::auth::{TokenService, TokenSettings};
use crate::catalog::Catalog;
use crate::config::ServeArgs;
use crate::domain::Timestamp;
use crate::http::limits::{Limits, LockoutPolicy};
use crate::http::read_cache::ReadCache;
use crate::http::{self, AppContext, AppState, Settings};
use crate::installation::{load_signing_keys, open_storage};
use crate::operator;
use crate::reconciler::driver::SimulatedDriver;
use crate::reconciler::exec::{AuthSettings, ExecDriver};
use crate::reconciler::{DriverKind, Reconciler};
use crate::serve::{self, ConnectionLimits};
use crate::storage::changes::Change;

/// Memory for cached response bodies.
const READ_CACHE_BYTES: usize = 16 * 1024 * 1024;

/// The metrics listener serves a scraper or two: a few connections, short deadlines.
fn metrics_connection_limits() -> ConnectionLimits {
    ConnectionLimits {
        max_connections: 16,
        max_connections_per_source: 8,
        trusted_proxies: Vec::new(),
        max_streams_per_connection: 4,
        header_read_timeout: Duration::from_secs(5),
        idle_timeout: Duration::from_secs(60),
        max_header_bytes: 8192,
        max_headers: 64,
        drain_timeout: Duration::from_secs(1),
    }
}

/// `--driver` and the settings of the exec driver.
struct DriverSettings {
    kind: DriverKind,
    command: Option<std::path::PathBuf>,
    timeout: Duration,
    health_interval: Duration,
}

pub struct Application {
    listener: TcpListener,
    /// `--metrics-listen`: where consoled's own metrics are served, and what renders them.
    metrics: Option<(TcpListener, metrics_exporter_prometheus::PrometheusHandle)>,
    tls: Option<TlsAcceptor>,
    connection_limits: ConnectionLimits,
    state: AppState,
    reconcile_interval: Duration,
    provision_delay: Duration,
    key_refresh_interval: Duration,
    /// How long retired signing keys keep verifying.
    retired_key_grace: Duration,
    suspend_after: Option<Duration>,
    driver: DriverSettings,
    /// Credentials created on an empty database, to be shown once.
    pub first_credentials: Option<operator::NewCredentials>,
    /// The owner's one-time link to set a console password, made on the first start, to be
    /// shown once.
    pub first_owner_link: Option<String>,
}

impl Application {
    pub async fn build(args: ServeArgs) -> anyhow::Result<Self> {
        // Settings that cannot work are refused before anything is opened or written.
        args.validate()?;
        let tls = match (&args.tls_cert, &args.tls_key) {
            (Some(cert), Some(key)) => {
                Some(serve::tls_acceptor(cert, key).context("--tls-cert and --tls-key")?)
            }
            (None, None) => None,
            _ => anyhow::bail!("set both --tls-cert and --tls-key, or neither"),
        };
        let catalog = Arc::new(Catalog::load(args.catalog.as_deref()).context("--catalog")?);
        let (store, keyring) = open_storage(&args.storage).await?;
        let listener = TcpListener::bind(args.listen)
            .await
            .with_context(|| format!("binding {}", args.listen))?;
        let metrics = match args.metrics_listen {
            Some(address) => Some((
                TcpListener::bind(address)
                    .await
                    .with_context(|| format!("binding --metrics-listen {address}"))?,
                crate::telemetry::metrics::install(),
            )),
            None => None,
        };
        let bound = listener.local_addr()?;
        let public_url = args.public_url(bound);
        let token_url = format!("{public_url}/oauth/token");

        let now = Timestamp::now();
        // `validate` has made sure the two come together or not at all.
        let bootstrap = args
            .bootstrap_client_id
            .as_deref()
            .zip(args.bootstrap_client_secret.as_deref());
        let (first_credentials, created_org) = match bootstrap {
            Some((id, secret)) => {
                let created = operator::ensure_bootstrap_client(
                    store.as_ref(),
                    &keyring,
                    id,
                    secret,
                    &args.owner_email,
                    now,
                )
                .await?;
                (None, created)
            }
            None => {
                let credentials =
                    operator::bootstrap_empty(store.as_ref(), &keyring, &args.owner_email, now)
                        .await?;
                let created = credentials.as_ref().map(|c| c.org_id.clone());
                (credentials, created)
            }
        };
        // Only the process that created the organization makes the owner's link.
        let first_owner_link = match created_org {
            Some(org_id) => {
                let link =
                    operator::members::owner_link(store.as_ref(), &keyring, &org_id, now).await?;
                Some(crate::console::link_url(&public_url, &link.token))
            }
            None => None,
        };

        let retired_grace = args.token_lifetime + args.clock_skew;
        let key_set = load_signing_keys(store.as_ref(), &keyring, retired_grace).await?;
        let tokens = Arc::new(TokenService::new(
            TokenSettings {
                issuer: public_url.clone(),
                lifetime: args.token_lifetime,
                console_audiences: auth::console_audiences(&args.console_audiences, &public_url),
                zeebe_audiences: args.zeebe_audiences.clone(),
                base_domain: args.base_domain.clone(),
                leeway: args.clock_skew,
                client_state_ttl: args.storage.state_cache_ttl,
                reuse_window: args.token_reuse_window,
            },
            key_set,
        ));
        let shared_limits = store.shared_limits();
        let sso = match args.sso.settings()? {
            Some(settings) => Some(Arc::new(
                crate::auth::oidc::RelyingParty::new(settings, &public_url)
                    .context("--oidc-issuer")?,
            )),
            None => None,
        };
        let state = Arc::new(AppContext {
            store,
            keyring,
            tokens,
            catalog,
            settings: Settings {
                public_url,
                token_url,
                base_domain: args.base_domain.clone(),
                driver_reports: args.driver == DriverKind::Exec,
                max_clients_per_cluster: args.max_clients_per_cluster,
                max_secrets_per_cluster: args.max_secrets_per_cluster,
                max_body_bytes: args.max_body_bytes,
                max_members: args.max_members,
                web_modeler_ip_ranges: args.web_modeler_ip_ranges.clone(),
                max_concurrent_requests: args.max_concurrent_requests as usize,
                max_requests_per_source: args.max_requests_per_source,
                max_requests_per_client: args.max_requests_per_client,
                body_read_timeout: args.body_read_timeout,
                request_timeout: args.request_timeout,
                cors_allowed_origins: args.cors_allowed_origins.clone(),
                bootstrap_client_id: args.bootstrap_client_id.clone(),
                local_sign_in: args.sso.local_sign_in == crate::config::OnOff::On,
            },
            limits: Limits::new(
                args.token_limit_per_source,
                args.token_limit_per_client,
                args.api_limit_per_client,
                LockoutPolicy::new(args.token_failures_before_lockout, args.token_lockout),
                args.trusted_proxies.clone(),
                shared_limits,
            ),
            read_cache: ReadCache::new(args.storage.state_cache_ttl, READ_CACHE_BYTES),
            reconciler: Arc::new(Notify::new()),
            sso,
        });
        let connection_limits = ConnectionLimits {
            max_connections: args.max_connections as usize,
            max_connections_per_source: args.max_connections_per_source,
            max_streams_per_connection: args.max_streams_per_connection,
            trusted_proxies: args.trusted_proxies.clone(),
            header_read_timeout: args.header_read_timeout,
            idle_timeout: args.idle_timeout,
            max_header_bytes: args.max_header_bytes as usize,
            max_headers: args.max_headers as usize,
            drain_timeout: args.request_timeout + Duration::from_secs(1),
        };
        Ok(Application {
            listener,
            metrics,
            tls,
            connection_limits,
            state,
            reconcile_interval: args.reconcile_interval,
            provision_delay: args.provision_delay,
            key_refresh_interval: args.key_refresh_interval,
            retired_key_grace: retired_grace,
            suspend_after: Some(args.suspend_after).filter(|d| !d.is_zero()),
            driver: DriverSettings {
                kind: args.driver,
                command: args.driver_command.clone(),
                timeout: args.driver_timeout,
                health_interval: args.health_interval,
            },
            first_credentials,
            first_owner_link,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    /// Where `/metrics` is served, with `--metrics-listen`.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics
            .as_ref()
            .and_then(|(listener, _)| listener.local_addr().ok())
    }

    /// Whether connections are served with TLS.
    pub fn serves_tls(&self) -> bool {
        self.tls.is_some()
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until `shutdown` resolves, then drains in-flight requests and stops the
    /// reconciler.
    pub async fn run_until(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let (stop_tx, stop_rx) = watch::channel(false);
        let exec = match (self.driver.kind, &self.driver.command) {
            (DriverKind::Exec, Some(command)) => Some(Arc::new(ExecDriver::new(
                self.state.store.clone(),
                self.state.catalog.clone(),
                self.state.keyring.clone(),
                command.clone(),
                self.driver.timeout,
                self.driver.health_interval,
                AuthSettings {
                    issuer: self.state.settings.public_url.clone(),
                    base_domain: self.state.settings.base_domain.clone(),
                },
                self.state.reconciler.clone(),
            )?)),
            _ => None,
        };
        let probes_task = exec.clone().map(|exec| {
            let mut probes_stop = stop_rx.clone();
            tokio::spawn(exec.run_probes(async move {
                let _ = probes_stop.wait_for(|stopped| *stopped).await;
            }))
        });
        let reconciler = Reconciler {
            exec,
            store: self.state.store.clone(),
            driver: Arc::new(SimulatedDriver {
                delay: self.provision_delay,
            }),
            wake: self.state.reconciler.clone(),
            interval: self.reconcile_interval,
            catalog: self.state.catalog.clone(),
            suspend_after: self.suspend_after,
        };
        let mut reconciler_stop = stop_rx.clone();
        let reconciler_task = tokio::spawn(async move {
            reconciler
                .run(async move {
                    let _ = reconciler_stop.wait_for(|stopped| *stopped).await;
                })
                .await
        });

        let keys_changed = Arc::new(Notify::new());
        let changes_task = self.state.store.changes().map(|changes| {
            tokio::spawn(apply_changes(
                self.state.clone(),
                changes,
                keys_changed.clone(),
                stop_rx.clone(),
            ))
        });
        let refresher_task = tokio::spawn(refresh_keys(
            self.state.clone(),
            self.key_refresh_interval,
            self.retired_key_grace,
            keys_changed,
            stop_rx.clone(),
        ));

        let metrics_tasks = self.metrics.map(|(listener, handle)| {
            let router = http::telemetry::router(self.state.clone(), handle.clone());
            let mut server_stop = stop_rx.clone();
            let server = serve::serve(
                listener,
                None,
                router,
                metrics_connection_limits(),
                async move {
                    let _ = server_stop.wait_for(|stopped| *stopped).await;
                },
            );
            (
                tokio::spawn(server),
                tokio::spawn(http::telemetry::upkeep(handle, stop_rx.clone())),
            )
        });

        let router = http::router(self.state.clone())?;
        let app = NormalizePathLayer::trim_trailing_slash().layer(router);
        let mut server_stop = stop_rx;
        let server = serve::serve(
            self.listener,
            self.tls,
            app,
            self.connection_limits,
            async move {
                let _ = server_stop.wait_for(|stopped| *stopped).await;
            },
        );
        let server_task = tokio::spawn(server);

        shutdown.await;
        tracing::info!("shutting down");
        let _ = stop_tx.send(true);
        server_task.await?;
        let _ = reconciler_task.await;
        let _ = refresher_task.await;
        if let Some(changes) = changes_task {
            let _ = changes.await;
        }
        if let Some(probes) = probes_task {
            let _ = probes.await;
        }
        if let Some((server, upkeep)) = metrics_tasks {
            let _ = server.await;
            let _ = upkeep.await;
        }
        Ok(())
    }
}

/// Reloads the signing keys now and then, so a rotation made by the CLI or another replica
/// is used here within one interval, and retired keys stop verifying once their tokens
/// have expired.
async fn refresh_keys(
    state: AppState,
    interval: Duration,
    retired_grace: Duration,
    changed: Arc<Notify>,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            _ = stop.wait_for(|stopped| *stopped) => return,
            _ = tokio::time::sleep(interval) => {}
            _ = changed.notified() => {}
        }
        let records = match state.store.signing_keys().await {
            Ok(records) => records,
            Err(e) => {
                tracing::warn!(error = %e, "reloading signing keys failed");
                continue;
            }
        };
        match KeySet::from_records(&records, &state.keyring, Timestamp::now(), retired_grace) {
            Ok(fresh) => {
                let current = state.tokens.keys();
                if fresh.kids() != current.kids() || fresh.signing_kid() != current.signing_kid() {
                    tracing::info!(kid = fresh.signing_kid(), "signing keys changed");
                    state.tokens.replace_keys(fresh);
                }
            }
            Err(e) => tracing::warn!(error = %e, "signing keys could not be loaded"),
        }
    }
}

/// Drops what other replicas changed (PostgreSQL's change feed, `storage::changes`): an
/// organization's cached reads, a client's revocation state, and reloads the signing keys
/// at once. Missed changes (a resynchronised listener, a backlog) drop everything.
async fn apply_changes(
    state: AppState,
    mut changes: tokio::sync::broadcast::Receiver<Change>,
    keys_changed: Arc<Notify>,
    mut stop: watch::Receiver<bool>,
) {
    use tokio::sync::broadcast::error::RecvError;
    loop {
        let change = tokio::select! {
            _ = stop.wait_for(|stopped| *stopped) => return,
            change = changes.recv() => change,
        };
        match change {
            Ok(Change::Org(org)) => state.read_cache.forget_org(&org),
            Ok(Change::Client(client)) => state.tokens.forget_client(&client),
            Ok(Change::SigningKeys) => keys_changed.notify_one(),
            Ok(Change::Failures { key, present }) => state.limits.failures_changed(key, present),
            Ok(Change::Resync) | Err(RecvError::Lagged(_)) => {
                state.limits.forget_failures();
                state.read_cache.clear();
                state.tokens.forget_all_clients();
                keys_changed.notify_one();
            }
            Err(RecvError::Closed) => return,
        }
    }
}

/// Resolves on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
}
