//! `/clusters` and `/clusters/{clusterUuid}`: list, create, read, delete.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::{ApiError, ApiResult};
use super::extract::{ApiJson, Caller};
use super::in_cluster::{cluster_not_found, load_cluster, ClusterPath, IpAllowlistEntryDto};
use super::parameters::NamedDto;
use super::read_cache::cached_json;
use super::schema::tags;
use super::AppState;
use crate::catalog::Catalog;
use crate::domain::audit::AuditType;
use crate::domain::cluster::{Cluster, ClusterDraft, ClusterLinks, ComponentStatus, StageLabel};
use crate::domain::provisioning::{DriverReport, Endpoints};
use crate::domain::scope::Scope;
use crate::domain::Timestamp;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_clusters, create_cluster))
        .routes(routes!(get_cluster, delete_cluster))
}

/// Used to create a cluster through this API. All necessary values can be retrieved from
/// `GET /clusters/parameters`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = CreateClusterBody, example = json!({
    "name": "demo",
    "channelId": "5182f3f8-b2f3-4948-becd-7e70a60719ae",
    "generationId": "8e4afa29-e1a1-4ab1-930a-d26d6e5465ac",
    "regionId": "97d136d2-3a47-48e7-9881-65455467cf64",
    "planTypeId": "c6e4ef12-e8a1-42eb-bdf1-e755b65d03fb"
}))]
pub struct CreateClusterRequest {
    /// The name of your new cluster.
    #[schema(min_length = 1, max_length = 50)]
    pub name: String,
    /// The channel (software spec) to use.
    pub channel_id: String,
    /// The generation (software version) to use.
    pub generation_id: String,
    /// The data center to use.
    pub region_id: String,
    /// The planType (hardware spec) to use.
    pub plan_type_id: String,
    /// If set to false, no automatic updates will be performed on your cluster.
    pub auto_update: Option<bool>,
    /// The backup region to choose.
    pub backup_region_id: Option<String>,
    /// Validated but unused: every simulated cluster is encrypted the same way.
    #[allow(dead_code)]
    pub encryption: Option<ClusterEncryptionKey>,
    /// Number of hardware packages, a whole number from 1 to 64; defaults to 1.
    #[schema(minimum = 1, maximum = 64)]
    pub hardware_packages: Option<f64>,
    pub stage_label: Option<StageLabel>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub enum ClusterEncryptionKey {
    Software,
    Hardware,
    Provider,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = CreateCluster_200_response)]
pub struct CreateClusterResponse {
    pub cluster_id: String,
}

/// A Camunda cluster of your organization. For reference, use the UUID.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Cluster)]
pub struct ClusterResponse {
    /// The ID used in all further API operations referencing your cluster.
    pub uuid: String,
    pub name: String,
    /// The organization's id.
    pub owner_id: String,
    #[schema(format = DateTime)]
    pub created: String,
    /// The hardware plan your cluster runs on.
    pub plan_type: NamedDto,
    /// The software channel your cluster is running on.
    pub channel: NamedDto,
    /// The version of Camunda running on your cluster.
    pub generation: NamedDto,
    /// The data center where your cluster is running.
    pub region: NamedDto,
    /// The data center where your backups are stored, when one was chosen.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub backup_region: Option<NamedDto>,
    pub status: ClusterStatusDto,
    pub links: ClusterLinksDto,
    /// Whether the cluster is upgraded automatically when its channel gets a new generation.
    pub auto_update: bool,
    /// The stage label (`dev`, `test`, `stage`, `prod`), if one was set.
    pub labels: Vec<String>,
    /// The IP allowlist rules of your cluster.
    pub ipallowlist: Vec<IpAllowlistEntryDto>,
    /// DEPRECATED: the same as `ipallowlist`.
    pub ipwhitelist: Vec<IpAllowlistEntryDto>,
}

/// The health of your cluster: `ready` for the cluster, and one per component.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = ClusterStatus)]
pub struct ClusterStatusDto {
    pub ready: ComponentStatus,
    pub zeebe_status: ComponentStatus,
    pub operate_status: ComponentStatus,
    pub tasklist_status: ComponentStatus,
    pub optimize_status: ComponentStatus,
    pub connectors_status: ComponentStatus,
}

/// Endpoints of the components running in your cluster.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = ClusterLinks)]
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

/// What the exec driver reported for a cluster (nothing under the simulated driver).
pub async fn driver_endpoints(state: &AppState, cluster: &Cluster) -> ApiResult<Option<Endpoints>> {
    if !state.settings.driver_reports {
        return Ok(None);
    }
    let Some(driver) = state.store.driver_state(&cluster.id).await? else {
        return Ok(None);
    };
    Ok(parse_report(driver.report.as_deref()))
}

fn parse_report(report: Option<&str>) -> Option<Endpoints> {
    let report: DriverReport = serde_json::from_str(report?).ok()?;
    Some(report.endpoints)
}

pub fn cluster_links(
    state: &AppState,
    cluster: &Cluster,
    endpoints: Option<&Endpoints>,
) -> ClusterLinks {
    let region_short = state
        .catalog
        .region(&cluster.region_id)
        .map(|r| r.short.as_str())
        .unwrap_or("unknown");
    let links = ClusterLinks::new(
        &cluster.id,
        &cluster.org_id,
        region_short,
        &state.settings.base_domain,
        &state.settings.token_url,
    );
    match endpoints {
        Some(endpoints) => links.with_endpoints(endpoints),
        None => links,
    }
}

pub fn cluster_response(
    state: &AppState,
    c: Cluster,
    endpoints: Option<&Endpoints>,
) -> ClusterResponse {
    let catalog: &Catalog = &state.catalog;
    let links = cluster_links(state, &c, endpoints).into();
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

/// List the organization's clusters.
#[utoipa::path(
    get,
    path = "/clusters",
    operation_id = "GetClusters",
    tag = tags::CLUSTERS,
    security(("bearer" = ["get:clusters"])),
    responses(
        (status = 200, description = "A list of all your Camunda clusters.", body = Vec<ClusterResponse>),
        (status = 403, description = "The token lacks the scope get:clusters"),
    ),
)]
async fn list_clusters(State(state): State<AppState>, caller: Caller) -> ApiResult<Response> {
    caller.require(Scope::GetClusters)?;
    let key = format!("list/{}", caller.org_id());
    cached_json(&state, caller.org_id(), &key, async {
        let clusters = state.store.clusters(caller.org_id()).await?;
        // One query for every cluster's reported endpoints, not one per cluster.
        let reports = if state.settings.driver_reports {
            state.store.driver_reports(caller.org_id()).await?
        } else {
            Default::default()
        };
        let body: Vec<ClusterResponse> = clusters
            .into_iter()
            .map(|c| {
                let endpoints = parse_report(reports.get(&c.id).map(String::as_str));
                cluster_response(&state, c, endpoints.as_ref())
            })
            .collect();
        Ok(body)
    })
    .await
}

/// Get a cluster.
#[utoipa::path(
    get,
    path = "/clusters/{clusterUuid}",
    operation_id = "GetCluster",
    tag = tags::CLUSTERS,
    params(ClusterPath),
    security(("bearer" = ["get:clusters"])),
    responses(
        (status = 200, description = "Detailed information for the given clusterUuid.", body = ClusterResponse),
        (status = 403, description = "The token lacks the scope get:clusters"),
        (status = 404, description = "Cluster not found"),
    ),
)]
async fn get_cluster(
    State(state): State<AppState>,
    caller: Caller,
    ClusterPath(cluster_id): ClusterPath,
) -> ApiResult<Response> {
    caller.require(Scope::GetClusters)?;
    let key = format!("cluster/{}/{}", caller.org_id(), cluster_id);
    cached_json(&state, caller.org_id(), &key, async {
        let cluster = load_cluster(&state, &caller, &cluster_id).await?;
        let endpoints = driver_endpoints(&state, &cluster).await?;
        Ok(cluster_response(&state, cluster, endpoints.as_ref()))
    })
    .await
}

/// Creates a cluster of the caller's organization from `draft`, with its activity record,
/// and wakes the reconciler; the API's `POST /clusters` and the console's form share it.
pub async fn create(state: &AppState, caller: &Caller, draft: ClusterDraft) -> ApiResult<Cluster> {
    let now = Timestamp::now();
    let cluster = Cluster::create(draft, caller.org_id(), &state.catalog, now)?;
    let audit = caller.audit(
        AuditType::Create,
        "cluster",
        &cluster.id,
        format!("Created cluster {:?}", cluster.name),
        now,
    );
    state.store.insert_cluster(&cluster, &audit).await?;
    state.reconciler.notify_one();
    Ok(cluster)
}

/// Deletes a cluster of the caller's organization, with its activity record; 404 when
/// there is none. Shared by `DELETE /clusters/{id}` and the console.
pub async fn delete(state: &AppState, caller: &Caller, cluster_id: &str) -> ApiResult<()> {
    let audit = caller.audit(
        AuditType::Delete,
        "cluster",
        cluster_id,
        "Deleted cluster".to_string(),
        Timestamp::now(),
    );
    if state
        .store
        .delete_cluster(caller.org_id(), cluster_id, &audit)
        .await?
    {
        Ok(())
    } else {
        Err(cluster_not_found(cluster_id))
    }
}

/// Create a cluster. It starts `Creating` and becomes `Healthy` when provisioned.
#[utoipa::path(
    post,
    path = "/clusters",
    operation_id = "CreateCluster",
    tag = tags::CLUSTERS,
    request_body = CreateClusterRequest,
    security(("bearer" = ["create:clusters"])),
    responses(
        (status = 200, description = "The clusterUuid of your new cluster.", body = CreateClusterResponse),
        (status = 400, description = "Name is too long, invalid clusterPlanType, invalid region, invalid channel, invalid generation, or a malformed body"),
        (status = 403, description = "The token lacks the scope create:clusters"),
    ),
)]
async fn create_cluster(
    State(state): State<AppState>,
    caller: Caller,
    body: Result<ApiJson<CreateClusterRequest>, ApiError>,
) -> ApiResult<Json<CreateClusterResponse>> {
    caller.require(Scope::CreateClusters)?;
    let ApiJson(request) = body?;
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
    let cluster = create(&state, &caller, draft).await?;
    Ok(Json(CreateClusterResponse {
        cluster_id: cluster.id,
    }))
}

/// Irreversibly delete a cluster, with its clients, secrets, backups and settings.
#[utoipa::path(
    delete,
    path = "/clusters/{clusterUuid}",
    operation_id = "DeleteCluster",
    tag = tags::CLUSTERS,
    params(ClusterPath),
    security(("bearer" = ["delete:clusters"])),
    responses(
        (status = 204, description = "No content"),
        (status = 403, description = "The token lacks the scope delete:clusters"),
        (status = 404, description = "Cluster not found"),
    ),
)]
async fn delete_cluster(
    State(state): State<AppState>,
    caller: Caller,
    ClusterPath(cluster_id): ClusterPath,
) -> ApiResult<StatusCode> {
    caller.require(Scope::DeleteClusters)?;
    delete(&state, &caller, &cluster_id).await?;
    Ok(StatusCode::NO_CONTENT)
}
