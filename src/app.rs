//! Assembling and running the server.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::extract::Request;
use axum::ServiceExt;
use tokio::net::TcpListener;
use tokio::sync::{watch, Notify};
use tower::Layer;
use tower_http::normalize_path::NormalizePathLayer;

use crate::auth::keys::{self, KeySet};
use crate::auth::{TokenService, TokenSettings};
use crate::catalog::Catalog;
use crate::config::ServeArgs;
use crate::crypto::Keyring;
use crate::domain::Timestamp;
use crate::http::read_cache::ReadCache;
use crate::http::{self, AppContext, AppState, Settings};
use crate::operator;
use crate::reconciler::driver::SimulatedDriver;
use crate::reconciler::Reconciler;
use crate::storage::{self, Store};

/// Memory for cached response bodies.
const READ_CACHE_BYTES: usize = 16 * 1024 * 1024;

/// Accepted difference between our clock and a token's time claims.
const CLOCK_LEEWAY: Duration = Duration::from_secs(30);

pub struct Application {
    listener: TcpListener,
    state: AppState,
    reconcile_interval: Duration,
    provision_delay: Duration,
    key_refresh_interval: Duration,
    token_lifetime: Duration,
    suspend_after: Option<Duration>,
    /// Credentials created on an empty database, to be shown once.
    pub first_credentials: Option<operator::NewCredentials>,
}

/// Opens the store and the keyring named by the storage settings.
pub async fn open_storage(
    args: &crate::config::StorageArgs,
) -> anyhow::Result<(Arc<dyn Store>, Keyring)> {
    let keyring = Keyring::load(args.master_key.as_deref(), &args.data_dir)?;
    let store = storage::open_with(&args.database_url(), args.pool_settings())
        .await
        .context("opening the database")?;
    Ok((store, keyring))
}

/// Loads the signing keys, creating the first one if the database has none.
/// Retired keys keep verifying for the token lifetime plus this margin.
fn retired_key_grace(token_lifetime: Duration) -> Duration {
    token_lifetime + CLOCK_LEEWAY
}

pub async fn load_signing_keys(
    store: &dyn Store,
    keyring: &Keyring,
    token_lifetime: Duration,
) -> anyhow::Result<KeySet> {
    let mut records = store.signing_keys().await?;
    if !records.iter().any(|r| r.retired_at.is_none()) {
        let record = keys::generate(keyring, Timestamp::now())?;
        // Another process may have won the race; reading back picks whichever key exists.
        store.insert_first_signing_key(&record).await?;
        records = store.signing_keys().await?;
    }
    KeySet::from_records(
        &records,
        keyring,
        Timestamp::now(),
        retired_key_grace(token_lifetime),
    )
}

impl Application {
    pub async fn build(args: ServeArgs) -> anyhow::Result<Self> {
        let catalog = Arc::new(Catalog::load(args.catalog.as_deref())?);
        let (store, keyring) = open_storage(&args.storage).await?;
        let listener = TcpListener::bind(args.listen)
            .await
            .with_context(|| format!("binding {}", args.listen))?;
        let bound = listener.local_addr()?;
        let public_url = args.public_url(bound);
        let token_url = format!("{public_url}/oauth/token");

        let now = Timestamp::now();
        let first_credentials = match (&args.bootstrap_client_id, &args.bootstrap_client_secret) {
            (Some(id), Some(secret)) => {
                operator::ensure_bootstrap_client(
                    store.as_ref(),
                    &keyring,
                    id,
                    secret,
                    &args.owner_email,
                    now,
                )
                .await?;
                None
            }
            (None, None) => {
                operator::bootstrap_empty(store.as_ref(), &keyring, &args.owner_email, now).await?
            }
            _ => anyhow::bail!("set both CONSOLED_BOOTSTRAP_CLIENT_ID and CONSOLED_BOOTSTRAP_CLIENT_SECRET, or neither"),
        };

        let key_set = load_signing_keys(store.as_ref(), &keyring, args.token_lifetime).await?;
        let tokens = Arc::new(TokenService::new(
            TokenSettings {
                issuer: public_url.clone(),
                lifetime: args.token_lifetime,
                console_audiences: args.console_audiences.clone(),
                zeebe_audiences: args.zeebe_audiences.clone(),
                leeway: CLOCK_LEEWAY,
                client_state_ttl: args.storage.state_cache_ttl,
                reuse_window: args.token_reuse_window,
            },
            key_set,
        ));
        let state = Arc::new(AppContext {
            store,
            keyring,
            tokens,
            catalog,
            settings: Settings {
                public_url,
                token_url,
                base_domain: args.base_domain.clone(),
                max_clients_per_cluster: args.max_clients_per_cluster,
                max_secrets_per_cluster: args.max_secrets_per_cluster,
                max_body_bytes: args.max_body_bytes,
                max_members: args.max_members,
                web_modeler_ip_ranges: args.web_modeler_ip_ranges.clone(),
            },
            read_cache: ReadCache::new(args.storage.state_cache_ttl, READ_CACHE_BYTES),
            reconciler: Arc::new(Notify::new()),
        });
        Ok(Application {
            listener,
            state,
            reconcile_interval: args.reconcile_interval,
            provision_delay: args.provision_delay,
            key_refresh_interval: args.key_refresh_interval,
            token_lifetime: args.token_lifetime,
            suspend_after: Some(args.suspend_after).filter(|d| !d.is_zero()),
            first_credentials,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
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
        let reconciler = Reconciler {
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

        let refresher_task = tokio::spawn(refresh_keys(
            self.state.clone(),
            self.key_refresh_interval,
            self.token_lifetime,
            stop_rx.clone(),
        ));

        let router = http::router(self.state.clone());
        let app = NormalizePathLayer::trim_trailing_slash().layer(router);
        let mut server_stop = stop_rx;
        let server = axum::serve(self.listener, ServiceExt::<Request>::into_make_service(app))
            .with_graceful_shutdown(async move {
                let _ = server_stop.wait_for(|stopped| *stopped).await;
            });
        let server_task = tokio::spawn(async move { server.await });

        shutdown.await;
        tracing::info!("shutting down");
        let _ = stop_tx.send(true);
        server_task.await??;
        let _ = reconciler_task.await;
        let _ = refresher_task.await;
        Ok(())
    }
}

/// Reloads the signing keys now and then, so a rotation made by the CLI or another replica
/// is used here within one interval, and retired keys stop verifying once their tokens
/// have expired.
async fn refresh_keys(
    state: AppState,
    interval: Duration,
    token_lifetime: Duration,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            _ = stop.wait_for(|stopped| *stopped) => return,
            _ = tokio::time::sleep(interval) => {}
        }
        let records = match state.store.signing_keys().await {
            Ok(records) => records,
            Err(e) => {
                tracing::warn!(error = %e, "reloading signing keys failed");
                continue;
            }
        };
        let grace = retired_key_grace(token_lifetime);
        match KeySet::from_records(&records, &state.keyring, Timestamp::now(), grace) {
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
