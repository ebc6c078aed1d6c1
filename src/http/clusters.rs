//! `/clusters` and `/clusters/{clusterUuid}`: list, create, read, delete.

use std::time::Instant;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use super::error::{ApiError, ApiResult};
use super::extract::{ApiJson, ApiPath, Caller};
use super::parameters::NamedDto;
use super::AppState;
use crate::catalog::Catalog;
use crate::domain::audit::{AuditEntry, AuditType};
use crate::domain::cluster::{Cluster, ClusterDraft, ClusterLinks, ComponentStatus, StageLabel};
use crate::domain::ip_allowlist::IpAllowlistEntry;
use crate::domain::scope::Scope;
use crate::domain::Timestamp;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/clusters", get(list_clusters).post(create_cluster))
        .route(
            "/clusters/{cluster_id}",
            get(get_cluster).delete(delete_cluster),
        )
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateClusterRequest {
    pub name: String,
    pub channel_id: String,
    pub generation_id: String,
    pub region_id: String,
    pub plan_type_id: String,
    pub auto_update: Option<bool>,
    pub backup_region_id: Option<String>,
    /// Validated but unused: every simulated cluster is encrypted the same way.
    #[allow(dead_code)]
    pub encryption: Option<ClusterEncryptionKey>,
    pub hardware_packages: Option<f64>,
    pub stage_label: Option<StageLabel>,
}

#[derive(Debug, Deserialize)]
pub enum ClusterEncryptionKey {
    Software,
    Hardware,
    Provider,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateClusterResponse {
    pub cluster_id: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterResponse {
    pub uuid: String,
    pub name: String,
    pub owner_id: String,
    pub created: String,
    pub plan_type: NamedDto,
    pub channel: NamedDto,
    pub generation: NamedDto,
    pub region: NamedDto,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backup_region: Option<NamedDto>,
    pub status: ClusterStatusDto,
    pub links: ClusterLinksDto,
    pub auto_update: bool,
    pub labels: Vec<String>,
    pub ipallowlist: Vec<IpAllowlistEntryDto>,
    pub ipwhitelist: Vec<IpAllowlistEntryDto>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterStatusDto {
    pub ready: ComponentStatus,
    pub zeebe_status: ComponentStatus,
    pub operate_status: ComponentStatus,
    pub tasklist_status: ComponentStatus,
    pub optimize_status: ComponentStatus,
    pub connectors_status: ComponentStatus,
}

#[derive(Debug, Serialize)]
pub struct ClusterLinksDto {
    pub zeebe: String,
    pub operate: String,
    pub tasklist: String,
    pub optimize: String,
    pub connectors: String,
    pub identity: String,
    pub console: String,
    pub oauth: String,
}

/// An allowlist entry on the wire. `description` is required by the reference when shown;
/// a request may omit it (it then reads back as `""`).
#[derive(Debug, Serialize, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct IpAllowlistEntryDto {
    pub ip: String,
    #[serde(default)]
    pub description: String,
}

impl From<IpAllowlistEntry> for IpAllowlistEntryDto {
    fn from(e: IpAllowlistEntry) -> Self {
        IpAllowlistEntryDto {
            ip: e.ip,
            description: e.description,
        }
    }
}

impl From<IpAllowlistEntryDto> for IpAllowlistEntry {
    fn from(e: IpAllowlistEntryDto) -> Self {
        IpAllowlistEntry {
            ip: e.ip,
            description: e.description,
        }
    }
}

impl From<ClusterLinks> for ClusterLinksDto {
    fn from(l: ClusterLinks) -> Self {
        ClusterLinksDto {
            zeebe: l.zeebe,
            operate: l.operate,
            tasklist: l.tasklist,
            optimize: l.optimize,
            connectors: l.connectors,
            identity: l.identity,
            console: l.console,
            oauth: l.oauth,
        }
    }
}

/// Names for catalog ids; an id the catalog no longer lists is shown as its own name.
fn named(id: &str, name: Option<&str>) -> NamedDto {
    NamedDto {
        uuid: id.to_string(),
        name: name.unwrap_or(id).to_string(),
    }
}

pub fn cluster_links(state: &AppState, cluster: &Cluster) -> ClusterLinks {
    let region_short = state
        .catalog
        .region(&cluster.region_id)
        .map(|r| r.short.as_str())
        .unwrap_or("unknown");
    ClusterLinks::new(
        &cluster.id,
        &cluster.org_id,
        region_short,
        &state.settings.base_domain,
        &state.settings.token_url,
    )
}

pub fn cluster_response(state: &AppState, c: Cluster) -> ClusterResponse {
    let catalog: &Catalog = &state.catalog;
    let links = cluster_links(state, &c).into();
    ClusterResponse {
        plan_type: named(
            &c.plan_type_id,
            catalog.plan_type(&c.plan_type_id).map(|p| p.name.as_str()),
        ),
        channel: named(
            &c.channel_id,
            catalog.channel(&c.channel_id).map(|ch| ch.name.as_str()),
        ),
        generation: named(
            &c.generation_id,
            catalog
                .generation(&c.generation_id)
                .map(|g| g.name.as_str()),
        ),
        region: named(
            &c.region_id,
            catalog.region(&c.region_id).map(|r| r.name.as_str()),
        ),
        backup_region: c
            .backup_region_id
            .as_deref()
            .map(|id| named(id, catalog.region(id).map(|r| r.name.as_str()))),
        status: ClusterStatusDto {
            ready: c.status,
            zeebe_status: c.components.zeebe,
            operate_status: c.components.operate,
            tasklist_status: c.components.tasklist,
            optimize_status: c.components.optimize,
            connectors_status: c.components.connectors,
        },
        links,
        auto_update: c.auto_update,
        labels: c
            .stage_label
            .map(|s| vec![s.as_str().to_string()])
            .unwrap_or_default(),
        // The deprecated `ipwhitelist` mirrors the allowlist for clients not yet moved on.
        ipwhitelist: c.ip_allowlist.iter().cloned().map(Into::into).collect(),
        ipallowlist: c.ip_allowlist.into_iter().map(Into::into).collect(),
        created: c.created_at.to_rfc3339(),
        owner_id: c.org_id,
        uuid: c.id,
        name: c.name,
    }
}

pub fn cluster_not_found(id: &str) -> ApiError {
    ApiError::not_found(format!("cluster {id:?} not found"))
}

/// Loads a cluster of the caller's organization or answers 404.
pub async fn load_cluster(state: &AppState, caller: &Caller, id: &str) -> ApiResult<Cluster> {
    state
        .store
        .cluster(caller.org_id(), id)
        .await?
        .ok_or_else(|| cluster_not_found(id))
}

async fn list_clusters(State(state): State<AppState>, caller: Caller) -> ApiResult<Response> {
    caller.require(Scope::GetClusters)?;
    let key = format!("list/{}", caller.org_id());
    cached_json(&state, &key, async {
        let clusters = state.store.clusters(caller.org_id()).await?;
        let body: Vec<ClusterResponse> = clusters
            .into_iter()
            .map(|c| cluster_response(&state, c))
            .collect();
        Ok(body)
    })
    .await
}

async fn get_cluster(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(cluster_id): ApiPath<String>,
) -> ApiResult<Response> {
    caller.require(Scope::GetClusters)?;
    let key = format!("cluster/{}/{}", caller.org_id(), cluster_id);
    cached_json(&state, &key, async {
        let cluster = load_cluster(&state, &caller, &cluster_id).await?;
        Ok(cluster_response(&state, cluster))
    })
    .await
}

/// Answers from the read cache, or loads, serializes once and keeps the body.
async fn cached_json<T: Serialize>(
    state: &AppState,
    key: &str,
    load: impl std::future::Future<Output = ApiResult<T>>,
) -> ApiResult<Response> {
    let started = Instant::now();
    let epoch = state.store.write_epoch();
    let body = match state.read_cache.get(key, epoch, started) {
        Some(body) => body,
        None => {
            let value = load.await?;
            let body = Bytes::from(serde_json::to_vec(&value).map_err(ApiError::internal)?);
            state.read_cache.insert(key, body.clone(), epoch, started);
            body
        }
    };
    Ok((
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response())
}

async fn create_cluster(
    State(state): State<AppState>,
    caller: Caller,
    body: Result<ApiJson<CreateClusterRequest>, ApiError>,
) -> ApiResult<Json<CreateClusterResponse>> {
    caller.require(Scope::CreateClusters)?;
    let ApiJson(request) = body?;
    let now = Timestamp::now();
    let draft = ClusterDraft {
        name: request.name,
        channel_id: request.channel_id,
        generation_id: request.generation_id,
        region_id: request.region_id,
        plan_type_id: request.plan_type_id,
        backup_region_id: request.backup_region_id,
        auto_update: request.auto_update,
        stage_label: request.stage_label,
        hardware_packages: request.hardware_packages,
    };
    let cluster = Cluster::create(draft, caller.org_id(), &state.catalog, now)?;
    let audit = AuditEntry::new(
        caller.org_id(),
        caller.client_id(),
        AuditType::Create,
        "cluster",
        &cluster.id,
        format!("Created cluster {:?}", cluster.name),
        now,
    );
    state.store.insert_cluster(&cluster, &audit).await?;
    state.reconciler.notify_one();
    Ok(Json(CreateClusterResponse {
        cluster_id: cluster.id,
    }))
}

async fn delete_cluster(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(cluster_id): ApiPath<String>,
) -> ApiResult<StatusCode> {
    caller.require(Scope::DeleteClusters)?;
    let audit = AuditEntry::new(
        caller.org_id(),
        caller.client_id(),
        AuditType::Delete,
        "cluster",
        &cluster_id,
        "Deleted cluster".to_string(),
        Timestamp::now(),
    );
    if state
        .store
        .delete_cluster(caller.org_id(), &cluster_id, &audit)
        .await?
    {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(cluster_not_found(&cluster_id))
    }
}
