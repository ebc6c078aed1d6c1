//! The HTTP layer: shared state, the router, and one module per resource.

pub(crate) mod activity;
pub mod admission;
pub mod backups;
mod body;
pub mod clients;
mod cluster_update;
pub(crate) mod clusters;
mod docs;
pub mod error;
pub(crate) mod extract;
mod health;
pub(crate) mod in_cluster;
pub mod ip_allowlist;
pub(crate) mod lifecycle;
pub mod limits;
pub(crate) mod members;
mod meta;
mod metrics;
pub mod middleware;
pub mod monitoring;
pub mod oauth;
pub mod openapi;
mod parameters;
pub mod read_cache;
pub mod request_id;
mod retry;
mod schema;
pub mod secrets;
mod secure_connectivity;
pub mod telemetry;

use std::sync::Arc;

use axum::http::{HeaderValue, StatusCode};
use axum::Router;
use tokio::sync::Notify;
use tower_http::set_header::SetResponseHeaderLayer;

use crate::auth::TokenService;
use crate::catalog::Catalog;
use crate::crypto::Keyring;
use crate::storage::Store;
use error::ApiError;

/// Settings the handlers need, resolved once at start.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Public base URL without a trailing slash.
    pub public_url: String,
    /// `<public_url>/oauth/token`.
    pub token_url: String,
    pub base_domain: String,
    /// Whether clusters have driver-reported endpoints to look up (`--driver exec`).
    pub driver_reports: bool,
    pub max_clients_per_cluster: u32,
    pub max_secrets_per_cluster: u32,
    pub max_body_bytes: usize,
    /// Seats per organization (members and pending invites).
    pub max_members: u32,
    /// `GET /meta/ip-ranges`: Web Modeler's egress CIDRs.
    pub web_modeler_ip_ranges: Vec<String>,
    /// Requests handled at once; more are shed with 503. Unauthenticated requests may use
    /// half of them.
    pub max_concurrent_requests: usize,
    /// Unauthenticated requests in progress from one source address; more are 429.
    pub max_requests_per_source: u32,
    /// Requests in progress of one client (a token's subject); more are 429.
    pub max_requests_per_client: u32,
    /// How long a body may take to start arriving; after that it must keep up a minimum rate.
    pub body_read_timeout: std::time::Duration,
    /// Longest a request may take before it is answered 408.
    pub request_timeout: std::time::Duration,
    /// Origins allowed by CORS; empty turns CORS off.
    pub cors_allowed_origins: Vec<String>,
    /// `--bootstrap-client-id`: the client every start restores (the console says so).
    pub bootstrap_client_id: Option<String>,
    /// `--local-sign-in`: whether members may sign in to the console with a password.
    pub local_sign_in: bool,
}

pub struct AppContext {
    pub store: Arc<dyn Store>,
    pub keyring: Keyring,
    pub tokens: Arc<TokenService>,
    pub catalog: Arc<Catalog>,
    pub settings: Settings,
    pub limits: limits::Limits,
    /// Serialized bodies of hot reads; see `read_cache`.
    pub read_cache: read_cache::ReadCache,
    /// Wakes the reconciler when new lifecycle work is written.
    pub reconciler: Arc<Notify>,
    /// Single sign-on to the console, when configured.
    pub sso: Option<Arc<crate::auth::oidc::RelyingParty>>,
}

pub type AppState = Arc<AppContext>;

/// The API with its layers. Fails only on settings that cannot be used (a CORS origin
/// that is not a header value).
pub fn router(state: AppState) -> anyhow::Result<Router> {
    let settings = &state.settings;
    let admission = admission::Admission::new(state.clone());
    let cors = middleware::cors(&settings.cors_allowed_origins)?;
    let (routes, _) = openapi::api_router().split_for_parts();
    let mut router = routes
        .merge(crate::console::routes(state.clone()))
        .fallback(|| async { ApiError::not_found("no such endpoint") })
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "method not allowed on this endpoint",
            )
        })
        .layer(axum::extract::DefaultBodyLimit::max(
            settings.max_body_bytes,
        ))
        .layer(axum::middleware::from_fn_with_state(
            admission,
            admission::admit,
        ));
    // Outside admission, so that 503 and 408 answers carry CORS and security headers too.
    if let Some(cors) = cors {
        router = router.layer(cors);
    }
    for (name, value) in middleware::SECURITY_HEADERS {
        router = router.layer(SetResponseHeaderLayer::if_not_present(
            name,
            HeaderValue::from_static(value),
        ));
    }
    // Outermost: every answer, refusals included, carries the request's id.
    router = router.layer(axum::middleware::from_fn(request_id::tag));
    Ok(router.with_state(state))
}
