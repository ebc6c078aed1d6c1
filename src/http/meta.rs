//! `GET /meta/ip-ranges`: the egress IP ranges of Web Modeler, for cluster allowlists.
//!
//! Scope: `get:clusters`. The ranges are read to configure a cluster's IP allowlist, so any
//! client that may read clusters may read them; they hold no organization data.

use axum::extract::State;
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::ApiResult;
use super::extract::Caller;
use super::schema::tags;
use super::AppState;
use crate::domain::scope::Scope;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(ip_ranges))
}

/// `MetaDto` of the JS SDK.
#[derive(Debug, Serialize, ToSchema)]
pub struct MetaDto {
    /// The CIDR ranges Web Modeler connects from.
    #[serde(rename = "web-modeler")]
    pub web_modeler: Vec<String>,
}

/// Get the IP ranges Web Modeler connects from, for cluster IP allowlists.
#[utoipa::path(
    get,
    path = "/meta/ip-ranges",
    operation_id = "GetIpRanges",
    tag = tags::META,
    security(("bearer" = ["get:clusters"])),
    responses(
        (status = 200, description = "Ok", body = MetaDto),
        (status = 403, description = "The token lacks the scope get:clusters"),
    ),
)]
async fn ip_ranges(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<MetaDto>> {
    caller.require(Scope::GetClusters)?;
    Ok(Json(MetaDto {
        web_modeler: state.settings.web_modeler_ip_ranges.clone(),
    }))
}
