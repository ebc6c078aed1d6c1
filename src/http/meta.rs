//! `GET /meta/ip-ranges`: the egress IP ranges of Web Modeler, for cluster allowlists.
//!
//! Scope: `get:clusters`. The ranges are read to configure a cluster's IP allowlist, so any
//! client that may read clusters may read them; they hold no organization data.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;

use super::error::ApiResult;
use super::extract::Caller;
use super::AppState;
use crate::domain::scope::Scope;

pub fn routes() -> Router<AppState> {
    Router::new().route("/meta/ip-ranges", get(ip_ranges))
}

/// `MetaDto` of the JS SDK.
#[derive(Debug, Serialize)]
pub struct MetaDto {
    #[serde(rename = "web-modeler")]
    pub web_modeler: Vec<String>,
}

async fn ip_ranges(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<MetaDto>> {
    caller.require(Scope::GetClusters)?;
    Ok(Json(MetaDto {
        web_modeler: state.settings.web_modeler_ip_ranges.clone(),
    }))
}
