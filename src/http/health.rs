//! `/healthz`: the process is alive. `/readyz`: the database answers and its schema is
//! current, so a load balancer can route to this replica.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};

use super::error::ApiError;
use super::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/healthz",
            get(|| async { Json(json!({ "status": "ok" })) }),
        )
        .route("/readyz", get(ready))
}

async fn ready(State(state): State<AppState>) -> Result<(StatusCode, Json<Value>), ApiError> {
    match state.store.check_ready().await {
        Ok(()) => Ok((StatusCode::OK, Json(json!({ "status": "ready" })))),
        Err(e) => Err(ApiError::unavailable(e)),
    }
}
