//! `/clusters/{clusterUuid}/secure-connectivity`: a private endpoint for the cluster,
//! reachable only by the allowed principals from the allowed regions. The status document
//! has the shape of the SDK's `SecureConnectivityDto` (a Kubernetes-style resource); its
//! endpoint and URLs are simulated, derived from the cluster like its other links.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::{ApiError, ApiResult};
use super::extract::{ApiJson, Caller};
use super::in_cluster::{cluster_gone, load_cluster, ClusterPath};
use super::schema::{tags, EmptyObject};
use super::AppState;
use crate::domain::audit::AuditType;
use crate::domain::cluster::{Cluster, ClusterLinks};
use crate::domain::scope::Scope;
use crate::domain::secure_connectivity::{self, SecureConnectivity};
use crate::domain::Timestamp;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(activate, get_status, deactivate))
}

/// Who may connect to the cluster's private endpoint, and from where.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = ActivateSecureConnectivityBody, example = json!({"allowedPrincipals": ["arn:aws:iam::123456789012:root"], "allowedRegions": ["us-east-1"]}))]
pub struct ActivateSecureConnectivityRequest {
    /// AWS account ids or IAM ARNs (`arn:aws:iam::<account>:root`, `:user/<name>`,
    /// `:role/<name>`); 1 to 50, no repeats.
    #[schema(min_items = 1, max_items = 50)]
    pub allowed_principals: Vec<String>,
    /// AWS region codes (`us-east-1`); up to 30, no repeats.
    #[schema(max_items = 30)]
    pub allowed_regions: Vec<String>,
}

/// `SecureConnectivityStatusResponse`: `{"status": SecureConnectivityDto}`, or
/// `{"status": {}}` while secure connectivity is not active.
#[derive(Debug, Serialize, ToSchema)]
pub struct SecureConnectivityStatusResponse {
    pub status: SecureConnectivityOrEmpty,
}

/// The secure connectivity resource, or `{}` while it is not active.
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub enum SecureConnectivityOrEmpty {
    Active(Box<SecureConnectivityDto>),
    Inactive(EmptyObject),
}

/// A Kubernetes-style resource: what was asked for (`spec`) and what is (`status`).
#[derive(Debug, Serialize, ToSchema)]
pub struct SecureConnectivityDto {
    pub status: SecureConnectivityState,
    pub metadata: SecureConnectivityMetadata,
    pub spec: SecureConnectivitySpec,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SecureConnectivityState {
    /// The components' addresses through the private endpoint.
    pub urls: PrivateUrls,
    /// How many times the configuration has changed.
    pub observed_generation: i64,
    pub endpoint_connections: Vec<EndpointConnection>,
    pub endpoint_connection_count: i64,
    pub endpoint: PrivateEndpoint,
    pub conditions: Vec<SecureConnectivityCondition>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PrivateUrls {
    pub zeebe: String,
    pub operate: String,
    pub tasklist: String,
    pub optimize: String,
    pub connectors: String,
}

/// A connection of a consumer's VPC endpoint (none are simulated).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EndpointConnection {
    pub state: String,
    pub service_id: String,
    pub owner: String,
    pub endpoint_id: String,
    pub creation_timestamp: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PrivateEndpoint {
    pub private_dns_name: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub service_name: String,
    pub region: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SecureConnectivityCondition {
    pub last_transition_time: String,
    pub observed_generation: i64,
    pub message: String,
    pub reason: String,
    pub status: String,
    #[serde(rename = "type")]
    pub kind: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SecureConnectivityMetadata {
    pub name: String,
    pub namespace: String,
    pub labels: SecureConnectivityLabels,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SecureConnectivityLabels {
    pub org_id: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SecureConnectivitySpec {
    pub allowed_principals: Vec<String>,
    pub allowed_regions: Vec<String>,
    pub cluster: ClusterRef,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ClusterRef {
    pub id: String,
}

fn status_document(
    state: &AppState,
    cluster: &Cluster,
    sc: Option<SecureConnectivity>,
) -> SecureConnectivityStatusResponse {
    let Some(sc) = sc else {
        return SecureConnectivityStatusResponse {
            status: SecureConnectivityOrEmpty::Inactive(EmptyObject {}),
        };
    };
    let region = state
        .catalog
        .region(&cluster.region_id)
        .map(|r| r.short.clone())
        .unwrap_or_else(|| cluster.region_id.clone());
    let private_domain = format!("privatelink.{}", state.settings.base_domain);
    let links = ClusterLinks::new(
        &cluster.id,
        &cluster.org_id,
        &region,
        &private_domain,
        &state.settings.token_url,
    );
    // A stable, AWS-looking endpoint service id derived from the cluster id.
    let service_id: String = cluster
        .id
        .chars()
        .filter(|c| c.is_ascii_hexdigit())
        .take(17)
        .collect();
    let resource = SecureConnectivityDto {
        status: SecureConnectivityState {
            urls: PrivateUrls {
                zeebe: links.zeebe_address(),
                operate: links.operate,
                tasklist: links.tasklist,
                optimize: links.optimize,
                connectors: links.connectors,
            },
            observed_generation: sc.generation,
            endpoint_connections: Vec::new(),
            endpoint_connection_count: 0,
            endpoint: PrivateEndpoint {
                private_dns_name: format!("{}.{region}.{private_domain}", cluster.id),
                kind: "Interface".into(),
                service_name: format!("{region}.vpce-svc-{service_id}"),
                region,
            },
            conditions: vec![SecureConnectivityCondition {
                last_transition_time: sc.updated_at.to_rfc3339(),
                observed_generation: sc.generation,
                message: "The endpoint service accepts connections from the allowed principals"
                    .into(),
                reason: "EndpointServiceAvailable".into(),
                status: "True".into(),
                kind: "Ready".into(),
            }],
        },
        metadata: SecureConnectivityMetadata {
            name: cluster.id.clone(),
            namespace: cluster.org_id.clone(),
            labels: SecureConnectivityLabels {
                org_id: cluster.org_id.clone(),
            },
        },
        spec: SecureConnectivitySpec {
            allowed_principals: sc.allowed_principals,
            allowed_regions: sc.allowed_regions,
            cluster: ClusterRef {
                id: cluster.id.clone(),
            },
        },
    };
    SecureConnectivityStatusResponse {
        status: SecureConnectivityOrEmpty::Active(Box::new(resource)),
    }
}

/// Activate secure connectivity for a cluster.
///
/// When it is active already, the allowed principals and regions are replaced.
#[utoipa::path(
    post,
    path = "/clusters/{clusterUuid}/secure-connectivity",
    operation_id = "ActivateSecureConnectivity",
    tag = tags::SECURE_CONNECTIVITY,
    params(ClusterPath),
    request_body = ActivateSecureConnectivityRequest,
    security(("bearer" = ["update:clusters"])),
    responses(
        (status = 204, description = "No content"),
        (status = 400, description = "An invalid or repeated principal or region, or a malformed body"),
        (status = 403, description = "The token lacks the scope update:clusters"),
        (status = 404, description = "Cluster not found"),
    ),
)]
async fn activate(
    State(state): State<AppState>,
    caller: Caller,
    ClusterPath(cluster_id): ClusterPath,
    body: Result<ApiJson<ActivateSecureConnectivityRequest>, ApiError>,
) -> ApiResult<StatusCode> {
    caller.require(Scope::UpdateClusters)?;
    let ApiJson(request) = body?;
    let cluster = load_cluster(&state, &caller, &cluster_id).await?;
    secure_connectivity::validate(&request.allowed_principals, &request.allowed_regions)?;
    let now = Timestamp::now();
    let config = SecureConnectivity {
        cluster_id: cluster.id.clone(),
        org_id: cluster.org_id.clone(),
        allowed_principals: request.allowed_principals,
        allowed_regions: request.allowed_regions,
        generation: 1,
        activated_at: now,
        updated_at: now,
    };
    let audit = caller
        .audit(
            AuditType::Update,
            "secureConnectivity",
            &cluster.id,
            format!(
                "Secure connectivity for principals {} from regions {}",
                config.allowed_principals.join(", "),
                config.allowed_regions.join(", ")
            ),
            now,
        )
        .with_parent("cluster", &cluster.id);
    state
        .store
        .put_secure_connectivity(&config, &audit)
        .await
        .map_err(cluster_gone(&cluster_id))?;
    Ok(StatusCode::NO_CONTENT)
}

/// Get the secure connectivity of a cluster (`{"status": {}}` while it is not active).
#[utoipa::path(
    get,
    path = "/clusters/{clusterUuid}/secure-connectivity",
    operation_id = "GetSecureConnectivityStatus",
    tag = tags::SECURE_CONNECTIVITY,
    params(ClusterPath),
    security(("bearer" = ["get:clusters"])),
    responses(
        (status = 200, description = "Ok", body = SecureConnectivityStatusResponse),
        (status = 403, description = "The token lacks the scope get:clusters"),
        (status = 404, description = "Cluster not found"),
    ),
)]
async fn get_status(
    State(state): State<AppState>,
    caller: Caller,
    ClusterPath(cluster_id): ClusterPath,
) -> ApiResult<Json<SecureConnectivityStatusResponse>> {
    caller.require(Scope::GetClusters)?;
    let cluster = load_cluster(&state, &caller, &cluster_id).await?;
    let sc = state
        .store
        .secure_connectivity(caller.org_id(), &cluster_id)
        .await?;
    Ok(Json(status_document(&state, &cluster, sc)))
}

/// Deactivate secure connectivity for a cluster (idempotent).
#[utoipa::path(
    delete,
    path = "/clusters/{clusterUuid}/secure-connectivity",
    operation_id = "DeactivateSecureConnectivity",
    tag = tags::SECURE_CONNECTIVITY,
    params(ClusterPath),
    security(("bearer" = ["update:clusters"])),
    responses(
        (status = 204, description = "No content"),
        (status = 403, description = "The token lacks the scope update:clusters"),
        (status = 404, description = "Cluster not found"),
    ),
)]
async fn deactivate(
    State(state): State<AppState>,
    caller: Caller,
    ClusterPath(cluster_id): ClusterPath,
) -> ApiResult<StatusCode> {
    caller.require(Scope::UpdateClusters)?;
    load_cluster(&state, &caller, &cluster_id).await?;
    let audit = caller.cluster_audit(
        AuditType::Delete,
        "secureConnectivity",
        &cluster_id,
        &cluster_id,
        "Deactivated secure connectivity".to_string(),
    );
    state
        .store
        .delete_secure_connectivity(caller.org_id(), &cluster_id, &audit)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
