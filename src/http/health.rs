//! `/healthz`: the process is alive. `/readyz`: the database answers and its schema is
//! current, so a load balancer can route to this replica.

use axum::extract::State;
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::ApiError;
use super::schema::tags;
use super::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(alive))
        .routes(routes!(ready))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HealthStatus {
    #[schema(example = "ok")]
    pub status: &'static str,
}

/// Liveness: the process answers.
#[utoipa::path(
    get,
    path = "/healthz",
    operation_id = "GetHealth",
    tag = tags::OPERATIONS,
    responses((status = 200, description = "`{\"status\": \"ok\"}`", body = HealthStatus)),
)]
async fn alive() -> Json<HealthStatus> {
    Json(HealthStatus { status: "ok" })
}

/// Readiness: the database answers and its schema is current.
#[utoipa::path(
    get,
    path = "/readyz",
    operation_id = "GetReadiness",
    tag = tags::OPERATIONS,
    responses(
        (status = 200, description = "`{\"status\": \"ready\"}`", body = HealthStatus),
        (status = 503, description = "The database is unavailable or its schema is not current"),
    ),
)]
async fn ready(State(state): State<AppState>) -> Result<Json<HealthStatus>, ApiError> {
    match state.store.check_ready().await {
        Ok(()) => Ok(Json(HealthStatus { status: "ready" })),
        Err(e) => Err(ApiError::unavailable(e)),
    }
}
