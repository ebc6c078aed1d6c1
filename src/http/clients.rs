//! `/clusters/{clusterUuid}/clients`: the cluster's API (Zeebe) clients.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use super::clusters::{cluster_links, load_cluster, ClusterLinksDto};
use super::error::{ApiError, ApiResult};
use super::extract::{ApiJson, Caller};
use super::AppState;
use crate::crypto;
use crate::domain::audit::{AuditEntry, AuditType};
use crate::domain::scope::Scope;
use crate::domain::zeebe_client::{Permission, ZeebeClient};
use crate::domain::Timestamp;
use crate::storage::StoreError;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/clusters/{cluster_id}/clients",
            get(list_clients).post(create_client),
        )
        .route(
            "/clusters/{cluster_id}/clients/{client_id}",
            get(get_client).delete(delete_client),
        )
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateClientRequest {
    pub client_name: String,
    pub permissions: Option<Vec<Permission>>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateClientResponse {
    pub uuid: String,
    pub client_id: String,
    pub client_secret: String,
    pub name: String,
    pub permissions: Vec<Permission>,
    pub links: ClusterLinksDto,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterClientDto {
    pub name: String,
    pub client_id: String,
    pub permissions: Vec<Permission>,
}

#[derive(Debug, Serialize)]
pub struct ClientConnectionDetails {
    pub name: String,
    #[serde(rename = "ZEEBE_ADDRESS")]
    pub zeebe_address: String,
    #[serde(rename = "ZEEBE_CLIENT_ID")]
    pub zeebe_client_id: String,
    #[serde(rename = "ZEEBE_AUTHORIZATION_SERVER_URL")]
    pub zeebe_authorization_server_url: String,
}

fn client_not_found(id: &str) -> ApiError {
    ApiError::not_found(format!("client {id:?} not found"))
}

async fn list_clients(
    State(state): State<AppState>,
    caller: Caller,
    Path(cluster_id): Path<String>,
) -> ApiResult<Json<Vec<ClusterClientDto>>> {
    caller.require(Scope::GetClients)?;
    load_cluster(&state, &caller, &cluster_id).await?;
    let clients = state
        .store
        .zeebe_clients(caller.org_id(), &cluster_id)
        .await?;
    Ok(Json(
        clients
            .into_iter()
            .map(|c| ClusterClientDto {
                name: c.name,
                client_id: c.client_id,
                permissions: c.permissions,
            })
            .collect(),
    ))
}

async fn create_client(
    State(state): State<AppState>,
    caller: Caller,
    Path(cluster_id): Path<String>,
    body: Result<ApiJson<CreateClientRequest>, ApiError>,
) -> ApiResult<Json<CreateClientResponse>> {
    caller.require(Scope::CreateClients)?;
    let ApiJson(request) = body?;
    let cluster = load_cluster(&state, &caller, &cluster_id).await?;
    let permissions = ZeebeClient::validate_new(&request.client_name, request.permissions)?;
    let now = Timestamp::now();
    let secret = crypto::new_client_secret();
    let client = ZeebeClient {
        id: uuid::Uuid::new_v4().to_string(),
        cluster_id: cluster.id.clone(),
        org_id: cluster.org_id.clone(),
        client_id: crypto::new_client_id(),
        name: request.client_name,
        secret_hash: state.keyring.hash_secret(&secret),
        permissions,
        created_at: now,
    };
    let audit = AuditEntry::new(
        caller.org_id(),
        caller.client_id(),
        AuditType::Create,
        "client",
        &client.client_id,
        format!("Created client {:?}", client.name),
        now,
    )
    .with_parent("cluster", &cluster.id);
    match state
        .store
        .insert_zeebe_client(&client, state.settings.max_clients_per_cluster, &audit)
        .await
    {
        Ok(()) => {}
        Err(StoreError::Conflict(_)) => {
            return Err(ApiError::bad_request(format!(
                "client names must be unique: {:?} already exists in this cluster",
                client.name
            )))
        }
        Err(StoreError::LimitReached) => {
            return Err(ApiError::forbidden(format!(
                "maximum number of clients reached ({} per cluster)",
                state.settings.max_clients_per_cluster
            )))
        }
        Err(StoreError::NotFound) => return Err(super::clusters::cluster_not_found(&cluster_id)),
        Err(other) => return Err(other.into()),
    }
    Ok(Json(CreateClientResponse {
        uuid: client.id,
        client_id: client.client_id,
        client_secret: secret,
        name: client.name,
        permissions: client.permissions,
        links: cluster_links(&state, &cluster).into(),
    }))
}

async fn get_client(
    State(state): State<AppState>,
    caller: Caller,
    Path((cluster_id, client_id)): Path<(String, String)>,
) -> ApiResult<Json<ClientConnectionDetails>> {
    caller.require(Scope::GetClients)?;
    let cluster = load_cluster(&state, &caller, &cluster_id).await?;
    let client = state
        .store
        .zeebe_client(caller.org_id(), &cluster_id, &client_id)
        .await?
        .ok_or_else(|| client_not_found(&client_id))?;
    if !cluster.is_healthy() {
        return Err(ApiError::new(
            StatusCode::PRECONDITION_FAILED,
            "the cluster is not ready; try again later",
        ));
    }
    Ok(Json(ClientConnectionDetails {
        name: client.name,
        zeebe_address: cluster_links(&state, &cluster).zeebe_address(),
        zeebe_client_id: client.client_id,
        zeebe_authorization_server_url: state.settings.token_url.clone(),
    }))
}

async fn delete_client(
    State(state): State<AppState>,
    caller: Caller,
    Path((cluster_id, client_id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    caller.require(Scope::DeleteClients)?;
    load_cluster(&state, &caller, &cluster_id).await?;
    let audit = AuditEntry::new(
        caller.org_id(),
        caller.client_id(),
        AuditType::Delete,
        "client",
        &client_id,
        "Deleted client".to_string(),
        Timestamp::now(),
    )
    .with_parent("cluster", &cluster_id);
    if state
        .store
        .delete_zeebe_client(caller.org_id(), &cluster_id, &client_id, &audit)
        .await?
    {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(client_not_found(&client_id))
    }
}
