//! `PUT /clusters/{clusterUuid}/ipallowlist` and its deprecated twin `/ipwhitelist`:
//! replace the cluster's IP allowlist (an empty list clears it).

use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::{ApiError, ApiResult};
use super::extract::{ApiJson, Caller};
use super::in_cluster::{update_settings, ClusterPath, IpAllowlistEntryInput};
use super::schema::tags;
use super::AppState;
use crate::domain::ip_allowlist::IpAllowlistEntry;
use crate::domain::scope::Scope;

// `put_whitelist` is deprecated for clients (the document says so), not for us.
#[allow(deprecated)]
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(put_allowlist))
        .routes(routes!(put_whitelist))
}

/// The new IP allowlist of a cluster; an empty list clears it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = IpAllowListBody, example = json!({"ipallowlist": [{"ip": "10.0.0.0/24", "description": "office"}]}))]
pub struct IpAllowlistBody {
    pub ipallowlist: Vec<IpAllowlistEntryInput>,
}

/// The new IP allowlist of a cluster, under its deprecated key; an empty list clears it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = IpWhiteListBody, example = json!({"ipwhitelist": [{"ip": "10.0.0.0/24", "description": "office"}]}))]
pub struct IpWhitelistBody {
    pub ipwhitelist: Vec<IpAllowlistEntryInput>,
}

/// Replace the IP allowlist rules of a cluster.
///
/// Each `ip` is an address, a CIDR range or a comma-separated list of them.
#[utoipa::path(
    put,
    path = "/clusters/{clusterUuid}/ipallowlist",
    operation_id = "UpdateIpAllowlist",
    tag = tags::IP_ALLOWLIST,
    params(ClusterPath),
    request_body = IpAllowlistBody,
    security(("bearer" = ["update:ipallowlist"])),
    responses(
        (status = 204, description = "No content"),
        (status = 400, description = "An invalid entry or a malformed body"),
        (status = 403, description = "The token lacks the scope update:ipallowlist"),
        (status = 404, description = "Cluster not found"),
    ),
)]
async fn put_allowlist(
    State(state): State<AppState>,
    caller: Caller,
    ClusterPath(cluster_id): ClusterPath,
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

/// Replace the IP allowlist rules of a cluster (deprecated: use `/ipallowlist`).
#[utoipa::path(
    put,
    path = "/clusters/{clusterUuid}/ipwhitelist",
    operation_id = "UpdateIpWhitelist",
    tag = tags::IP_ALLOWLIST,
    params(ClusterPath),
    request_body = IpWhitelistBody,
    security(("bearer" = ["update:ipallowlist"])),
    responses(
        (status = 204, description = "No content"),
        (status = 400, description = "An invalid entry or a malformed body"),
        (status = 403, description = "The token lacks the scope update:ipallowlist"),
        (status = 404, description = "Cluster not found"),
    ),
)]
#[deprecated = "use PUT /clusters/{clusterUuid}/ipallowlist"]
async fn put_whitelist(
    State(state): State<AppState>,
    caller: Caller,
    ClusterPath(cluster_id): ClusterPath,
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
pub async fn replace(
    state: &AppState,
    caller: &Caller,
    cluster_id: &str,
    field: &str,
    entries: Vec<IpAllowlistEntryInput>,
) -> ApiResult<StatusCode> {
    let entries: Vec<IpAllowlistEntry> = entries.into_iter().map(Into::into).collect();
    update_settings(state, caller, cluster_id, |c| {
        c.replace_ip_allowlist(field, entries.clone())
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}
