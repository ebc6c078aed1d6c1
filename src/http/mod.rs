//! The HTTP layer: shared state, the router, and one module per resource.

mod activity;
mod backups;
mod clients;
mod cluster_update;
mod clusters;
mod docs;
pub mod error;
mod extract;
mod health;
mod ip_allowlist;
mod lifecycle;
mod members;
mod meta;
mod metrics;
mod monitoring;
mod oauth;
pub mod openapi;
mod parameters;
pub mod read_cache;
mod secrets;
mod secure_connectivity;

use std::sync::Arc;

use axum::http::{header, HeaderValue, StatusCode};
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
    pub max_clients_per_cluster: u32,
    pub max_secrets_per_cluster: u32,
    pub max_body_bytes: usize,
    /// Seats per organization (members and pending invites).
    pub max_members: u32,
    /// `GET /meta/ip-ranges`: Web Modeler's egress CIDRs.
    pub web_modeler_ip_ranges: Vec<String>,
}

pub struct AppContext {
    pub store: Arc<dyn Store>,
    pub keyring: Keyring,
    pub tokens: Arc<TokenService>,
    pub catalog: Arc<Catalog>,
    pub settings: Settings,
    /// Serialized bodies of hot reads; see `read_cache`.
    pub read_cache: read_cache::ReadCache,
    /// Wakes the reconciler when new lifecycle work is written.
    pub reconciler: Arc<Notify>,
}

pub type AppState = Arc<AppContext>;

pub fn router(state: AppState) -> Router {
    let max_body = state.settings.max_body_bytes;
    let (routes, _) = openapi::api_router().split_for_parts();
    routes
        .fallback(|| async { ApiError::not_found("no such endpoint") })
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "method not allowed on this endpoint",
            )
        })
        .layer(axum::extract::DefaultBodyLimit::max(max_body))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
        .with_state(state)
}
