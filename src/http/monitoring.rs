//! `/clusters/{clusterUuid}/monitoring`: bring your own monitoring. Activating it opens the
//! cluster's metrics endpoint (see `metrics.rs`); monitoring clients are the HTTP Basic
//! credentials a Prometheus scrapes it with. Passwords are shown once and kept as keyed
//! hashes. Deactivating deletes the clients.
//!
//! The handlers check the token's scope, then call the `pub` functions below, which the
//! console's monitoring tab (`console::cluster_monitoring`) calls too after its role check.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::{ApiError, ApiResult};
use super::extract::{ApiJson, ApiPath, Caller};
use super::in_cluster::{cluster_gone, load_cluster, refused_child, ClusterPath};
use super::schema::{tags, EmptyObject};
use super::AppState;
use crate::crypto;
use crate::domain::audit::AuditType;
use crate::domain::monitoring::{self, MonitoringClient, MAX_CLIENTS_PER_CLUSTER};
use crate::domain::scope::Scope;
use crate::domain::Timestamp;
use wire::*;

mod wire;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(activate, deactivate))
        .routes(routes!(create_client, list_clients))
        .routes(routes!(delete_client))
        .routes(routes!(rotate_password))
}

fn client_not_found(id: &str) -> ApiError {
    ApiError::not_found(format!("monitoring client {id:?} not found"))
}

/// Activate monitoring for a cluster (idempotent). Takes no body.
#[utoipa::path(
    post,
    path = "/clusters/{clusterUuid}/monitoring",
    operation_id = "ActivateMonitoring",
    tag = tags::MONITORING,
    params(ClusterPath),
    security(("bearer" = ["update:clusters"])),
    responses(
        (status = 204, description = "No content"),
        (status = 403, description = "The token lacks the scope update:clusters"),
        (status = 404, description = "Cluster not found"),
    ),
)]
async fn activate(
    State(state): State<AppState>,
    caller: Caller,
    ClusterPath(cluster_id): ClusterPath,
) -> ApiResult<StatusCode> {
    caller.require(Scope::UpdateClusters)?;
    activate_monitoring(&state, &caller, &cluster_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Opens the cluster's metrics endpoint (idempotent), with its activity record.
pub async fn activate_monitoring(
    state: &AppState,
    caller: &Caller,
    cluster_id: &str,
) -> ApiResult<()> {
    load_cluster(state, caller, cluster_id).await?;
    let entry = caller.cluster_audit(
        AuditType::Create,
        "monitoring",
        cluster_id,
        cluster_id,
        "Activated monitoring".into(),
    );
    state
        .store
        .activate_monitoring(caller.org_id(), cluster_id, entry.timestamp, &entry)
        .await
        .map_err(cluster_gone(cluster_id))?;
    Ok(())
}

/// Deactivate monitoring for a cluster and delete its monitoring clients (idempotent).
#[utoipa::path(
    delete,
    path = "/clusters/{clusterUuid}/monitoring",
    operation_id = "DeactivateMonitoring",
    tag = tags::MONITORING,
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
    deactivate_monitoring(&state, &caller, &cluster_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Closes the metrics endpoint and deletes the monitoring clients (idempotent).
pub async fn deactivate_monitoring(
    state: &AppState,
    caller: &Caller,
    cluster_id: &str,
) -> ApiResult<()> {
    load_cluster(state, caller, cluster_id).await?;
    let entry = caller.cluster_audit(
        AuditType::Delete,
        "monitoring",
        cluster_id,
        cluster_id,
        "Deactivated monitoring and deleted its clients".into(),
    );
    state
        .store
        .deactivate_monitoring(caller.org_id(), cluster_id, &entry)
        .await?;
    Ok(())
}

/// A cluster's monitoring while it is active: since when, and its clients.
pub struct ActiveMonitoring {
    pub activated_at: Timestamp,
    pub clients: Vec<MonitoringClient>,
}

/// The cluster's monitoring, `None` while inactive; 404 for an unknown cluster.
pub async fn monitoring_state(
    state: &AppState,
    caller: &Caller,
    cluster_id: &str,
) -> ApiResult<Option<ActiveMonitoring>> {
    load_cluster(state, caller, cluster_id).await?;
    let Some(activated_at) = state
        .store
        .monitoring_activated_at(caller.org_id(), cluster_id)
        .await?
    else {
        return Ok(None);
    };
    let clients = state
        .store
        .monitoring_clients(caller.org_id(), cluster_id)
        .await?;
    Ok(Some(ActiveMonitoring {
        activated_at,
        clients,
    }))
}

/// The address a Prometheus scrapes for the cluster's metrics.
pub fn metrics_url(public_url: &str, cluster_id: &str) -> String {
    let endpoint = metrics_endpoint(public_url, cluster_id);
    format!("{}://{}{}", endpoint.scheme, endpoint.target, endpoint.path)
}

/// List the monitoring clients of a cluster and where to scrape its metrics.
#[utoipa::path(
    get,
    path = "/clusters/{clusterUuid}/monitoring/clients",
    operation_id = "GetMonitoringClients",
    tag = tags::MONITORING,
    params(ClusterPath),
    security(("bearer" = ["get:clusters"])),
    responses(
        (status = 200, description = "Ok", body = MonitoringClientsResponse),
        (status = 403, description = "The token lacks the scope get:clusters"),
        (status = 404, description = "Cluster not found"),
    ),
)]
async fn list_clients(
    State(state): State<AppState>,
    caller: Caller,
    ClusterPath(cluster_id): ClusterPath,
) -> ApiResult<Json<MonitoringClientsResponse>> {
    caller.require(Scope::GetClusters)?;
    let Some(ActiveMonitoring {
        activated_at,
        clients,
    }) = monitoring_state(&state, &caller, &cluster_id).await?
    else {
        return Ok(Json(MonitoringClientsResponse {
            clients: Vec::new(),
            status: MonitoringStatusOrEmpty::Inactive(EmptyObject {}),
        }));
    };
    let status = MonitoringStatusDto {
        metrics_endpoint: metrics_endpoint(&state.settings.public_url, &cluster_id),
        conditions: vec![ConditionDto {
            kind: "Ready",
            status: "True",
            reason: "MetricsEndpointActive",
            message: "The metrics endpoint serves this cluster's metrics to its monitoring clients",
            last_transition_time: activated_at.to_rfc3339(),
        }],
    };
    Ok(Json(MonitoringClientsResponse {
        clients: clients.into_iter().map(Into::into).collect(),
        status: MonitoringStatusOrEmpty::Active(status),
    }))
}

/// Create a monitoring client; its password is shown only in this response.
#[utoipa::path(
    post,
    path = "/clusters/{clusterUuid}/monitoring/clients",
    operation_id = "CreateMonitoringClient",
    tag = tags::MONITORING,
    params(ClusterPath),
    request_body = CreateMonitoringClientRequest,
    security(("bearer" = ["update:clusters"])),
    responses(
        (status = 200, description = "Ok", body = CreatedMonitoringClientDto),
        (status = 400, description = "An invalid username or a malformed body"),
        (status = 403, description = "Maximum number of monitoring clients reached, or the token lacks the scope update:clusters"),
        (status = 404, description = "Cluster not found"),
        (status = 409, description = "Usernames must be unique"),
        (status = 412, description = "Monitoring is not active for this cluster"),
    ),
)]
async fn create_client(
    State(state): State<AppState>,
    caller: Caller,
    ClusterPath(cluster_id): ClusterPath,
    body: Result<ApiJson<CreateMonitoringClientRequest>, ApiError>,
) -> ApiResult<Json<CreatedMonitoringClientDto>> {
    caller.require(Scope::UpdateClusters)?;
    let ApiJson(request) = body?;
    let created = create_monitoring_client(&state, &caller, &cluster_id, request.username).await?;
    Ok(Json(CreatedMonitoringClientDto {
        client: created.client.into(),
        password: created.password,
    }))
}

/// A monitoring client just created, with its password (shown only once).
pub struct CreatedMonitoringClient {
    pub client: MonitoringClient,
    pub password: String,
}

/// Creates a monitoring client: the username's rules, the per-cluster limit, monitoring
/// active (412 if not), and the activity record.
pub async fn create_monitoring_client(
    state: &AppState,
    caller: &Caller,
    cluster_id: &str,
    username: String,
) -> ApiResult<CreatedMonitoringClient> {
    let cluster = load_cluster(state, caller, cluster_id).await?;
    monitoring::validate_username(&username)?;
    let created_by_name = match state.store.api_client(caller.client_id()).await? {
        Some(client) => client.name,
        None => caller.client_id().to_string(),
    };
    let password = crypto::new_client_secret();
    let client = MonitoringClient {
        id: uuid::Uuid::new_v4().to_string(),
        cluster_id: cluster.id.clone(),
        org_id: cluster.org_id.clone(),
        username,
        password_hash: state.keyring.hash_secret(&password),
        created_at: Timestamp::now(),
        created_by: caller.client_id().to_string(),
        created_by_name,
        last_used_at: None,
    };
    let entry = caller.cluster_audit(
        AuditType::Create,
        "monitoringClient",
        &client.id,
        &cluster.id,
        format!("Created monitoring client {:?}", client.username),
    );
    let inserted = state
        .store
        .insert_monitoring_client(&client, MAX_CLIENTS_PER_CLUSTER, &entry)
        .await
        .map_err(refused_child(
            cluster_id,
            || {
                ApiError::new(
                    StatusCode::CONFLICT,
                    format!(
                        "usernames must be unique: {:?} already exists for this cluster",
                        client.username
                    ),
                )
            },
            || {
                ApiError::forbidden(format!(
                    "maximum number of monitoring clients reached \
                     ({MAX_CLIENTS_PER_CLUSTER} per cluster)"
                ))
            },
        ))?;
    if !inserted {
        return Err(ApiError::new(
            StatusCode::PRECONDITION_FAILED,
            format!(
                "monitoring is not active for this cluster: activate it first \
                 (POST /clusters/{cluster_id}/monitoring)"
            ),
        ));
    }
    Ok(CreatedMonitoringClient { client, password })
}

/// Give a monitoring client a new password; the old one stops working at once.
///
/// Takes no body.
#[utoipa::path(
    post,
    path = "/clusters/{clusterUuid}/monitoring/clients/{clientUuid}/rotate",
    operation_id = "RotateMonitoringClientPassword",
    tag = tags::MONITORING,
    params(
        ClusterPath,
        ("clientUuid" = String, Path, description = "The monitoring client's uuid"),
    ),
    security(("bearer" = ["update:clusters"])),
    responses(
        (status = 200, description = "Ok", body = CreatedMonitoringClientDto),
        (status = 403, description = "The token lacks the scope update:clusters"),
        (status = 404, description = "Cluster or monitoring client not found"),
    ),
)]
async fn rotate_password(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((cluster_id, client_id)): ApiPath<(String, String)>,
) -> ApiResult<Json<CreatedMonitoringClientDto>> {
    caller.require(Scope::UpdateClusters)?;
    load_cluster(&state, &caller, &cluster_id).await?;
    let password = crypto::new_client_secret();
    let entry = caller.cluster_audit(
        AuditType::Update,
        "monitoringClient",
        &client_id,
        &cluster_id,
        "Rotated the password of a monitoring client".into(),
    );
    let rotated = state
        .store
        .rotate_monitoring_password(
            caller.org_id(),
            &cluster_id,
            &client_id,
            &state.keyring.hash_secret(&password),
            &entry,
        )
        .await?
        .ok_or_else(|| client_not_found(&client_id))?;
    Ok(Json(CreatedMonitoringClientDto {
        client: rotated.into(),
        password,
    }))
}

/// Delete a monitoring client.
#[utoipa::path(
    delete,
    path = "/clusters/{clusterUuid}/monitoring/clients/{clientUuid}",
    operation_id = "DeleteMonitoringClient",
    tag = tags::MONITORING,
    params(
        ClusterPath,
        ("clientUuid" = String, Path, description = "The monitoring client's uuid"),
    ),
    security(("bearer" = ["update:clusters"])),
    responses(
        (status = 204, description = "No content"),
        (status = 403, description = "The token lacks the scope update:clusters"),
        (status = 404, description = "Cluster or monitoring client not found"),
    ),
)]
async fn delete_client(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((cluster_id, client_id)): ApiPath<(String, String)>,
) -> ApiResult<StatusCode> {
    caller.require(Scope::UpdateClusters)?;
    delete_monitoring_client(&state, &caller, &cluster_id, &client_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Deletes a monitoring client, with its activity record; 404 for an unknown cluster or
/// client.
pub async fn delete_monitoring_client(
    state: &AppState,
    caller: &Caller,
    cluster_id: &str,
    client_id: &str,
) -> ApiResult<()> {
    load_cluster(state, caller, cluster_id).await?;
    let entry = caller.cluster_audit(
        AuditType::Delete,
        "monitoringClient",
        client_id,
        cluster_id,
        "Deleted monitoring client".into(),
    );
    if state
        .store
        .delete_monitoring_client(caller.org_id(), cluster_id, client_id, &entry)
        .await?
    {
        Ok(())
    } else {
        Err(client_not_found(client_id))
    }
}
