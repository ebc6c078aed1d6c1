//! consoled's own `/metrics` in Prometheus's text format, served on `--metrics-listen`,
//! apart from the API: a scrape never waits behind API work for admission, and the API's
//! port does not expose it. (`metrics.rs` is something else: each cluster's Prometheus
//! endpoint, part of the API.)

use std::time::Duration;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use metrics_exporter_prometheus::PrometheusHandle;

use super::AppState;
use crate::telemetry::metrics;

/// The exposition format Prometheus reads (0.0.4), which `promtool check metrics` checks.
const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";
/// A scrape counts the clusters by status; a database that does not answer in this long
/// leaves the last counts and lets the rest of the scrape through.
const COUNT_TIMEOUT: Duration = Duration::from_secs(2);

#[derive(Clone)]
struct Scrape {
    app: AppState,
    handle: PrometheusHandle,
}

pub fn router(app: AppState, handle: PrometheusHandle) -> Router {
    Router::new()
        .route("/metrics", get(scrape))
        .fallback(|| async { (StatusCode::NOT_FOUND, "only /metrics is served here\n") })
        .with_state(Scrape { app, handle })
}

async fn scrape(State(scrape): State<Scrape>) -> Response {
    let store = &scrape.app.store;
    metrics::db_pools(&store.pool_usage());
    match tokio::time::timeout(COUNT_TIMEOUT, store.cluster_status_counts()).await {
        Ok(Ok(counts)) => metrics::clusters(&counts),
        Ok(Err(e)) => tracing::warn!(error = %e, "counting clusters for /metrics failed"),
        Err(_) => tracing::warn!("counting clusters for /metrics timed out"),
    }
    (
        [(header::CONTENT_TYPE, CONTENT_TYPE)],
        scrape.handle.render(),
    )
        .into_response()
}

/// Folds recorded histogram samples in now and then, so that memory stays bounded however
/// rarely (or never) Prometheus scrapes.
pub async fn upkeep(handle: PrometheusHandle, mut stop: tokio::sync::watch::Receiver<bool>) {
    loop {
        tokio::select! {
            _ = stop.wait_for(|stopped| *stopped) => return,
            _ = tokio::time::sleep(Duration::from_secs(5)) => handle.run_upkeep(),
        }
    }
}
