//! `PUT /clusters/{clusterUuid}/ipallowlist` and its deprecated twin `/ipwhitelist`:
//! replace the cluster's IP allowlist (an empty list clears it).

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::put;
use axum::Router;
use serde::Deserialize;

use super::cluster_update::update_settings;
use super::clusters::IpAllowlistEntryDto;
use super::error::{ApiError, ApiResult};
use super::extract::{ApiJson, ApiPath, Caller};
use super::AppState;
use crate::domain::ip_allowlist::IpAllowlistEntry;
use crate::domain::scope::Scope;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/clusters/{cluster_id}/ipallowlist", put(put_allowlist))
        .route("/clusters/{cluster_id}/ipwhitelist", put(put_whitelist))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IpAllowlistBody {
    pub ipallowlist: Vec<IpAllowlistEntryDto>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IpWhitelistBody {
    pub ipwhitelist: Vec<IpAllowlistEntryDto>,
}

async fn put_allowlist(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(cluster_id): ApiPath<String>,
    body: Result<ApiJson<IpAllowlistBody>, ApiError>,
) -> ApiResult<StatusCode> {
    caller.require(Scope::UpdateIpAllowlist)?;
    let ApiJson(body) = body?;
    replace(
        &state,
        &caller,
        &cluster_id,
        "ipallowlist",
        body.ipallowlist,
    )
    .await
}

async fn put_whitelist(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(cluster_id): ApiPath<String>,
    body: Result<ApiJson<IpWhitelistBody>, ApiError>,
) -> ApiResult<StatusCode> {
    caller.require(Scope::UpdateIpAllowlist)?;
    let ApiJson(body) = body?;
    replace(
        &state,
        &caller,
        &cluster_id,
        "ipwhitelist",
        body.ipwhitelist,
    )
    .await
}

/// `field` is the body key the list came in, so errors name what the client sent.
async fn replace(
    state: &AppState,
    caller: &Caller,
    cluster_id: &str,
    field: &str,
    entries: Vec<IpAllowlistEntryDto>,
) -> ApiResult<StatusCode> {
    let entries: Vec<IpAllowlistEntry> = entries.into_iter().map(Into::into).collect();
    update_settings(state, caller, cluster_id, |c| {
        c.replace_ip_allowlist(field, entries.clone())
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}
