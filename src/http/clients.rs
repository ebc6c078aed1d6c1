//! `/clusters/{clusterUuid}/clients`: the cluster's API (Zeebe) clients.

use std::borrow::Cow;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::openapi::{RefOr, Schema};
use utoipa::{PartialSchema, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::clusters::{cluster_links, driver_endpoints, ClusterLinksDto};
use super::error::{ApiError, ApiResult};
use super::extract::{ApiJson, ApiPath, Caller};
use super::in_cluster::{load_cluster, refused_child, ClusterPath};
use super::schema::{string_enum, tags};
use super::AppState;
use crate::crypto;
use crate::domain::audit::AuditType;
use crate::domain::cluster::{Cluster, ClusterLinks};
use crate::domain::provisioning::Endpoints;
use crate::domain::scope::Scope;
use crate::domain::zeebe_client::{Permission, ZeebeClient};
use crate::domain::Timestamp;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_clients, create_client))
        .routes(routes!(get_client, delete_client))
}

impl PartialSchema for Permission {
    fn schema() -> RefOr<Schema> {
        string_enum(
            "What a cluster client may access",
            Permission::ALL.iter().map(|v| v.as_str()),
        )
    }
}

impl ToSchema for Permission {
    fn name() -> Cow<'static, str> {
        "ClusterClientPermission".into()
    }
}

/// A new cluster client. Without `permissions` (or with an empty list) it gets all of them.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = CreateClusterClientBody, example = json!({"clientName": "worker", "permissions": ["Zeebe", "Operate"]}))]
pub struct CreateClientRequest {
    #[schema(min_length = 1, max_length = 100)]
    pub client_name: String,
    pub permissions: Option<Vec<Permission>>,
}

/// A new cluster client with its secret, shown only in this response.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = CreatedClusterClient)]
pub struct CreateClientResponse {
    pub uuid: String,
    pub client_id: String,
    pub client_secret: String,
    pub name: String,
    pub permissions: Vec<Permission>,
    pub links: ClusterLinksDto,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = ClusterClient)]
pub struct ClusterClientDto {
    pub name: String,
    pub client_id: String,
    pub permissions: Vec<Permission>,
}

/// What a client needs to connect to the cluster.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = ClusterClientConnectionDetails)]
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

/// List the API clients of a cluster.
#[utoipa::path(
    get,
    path = "/clusters/{clusterUuid}/clients",
    operation_id = "GetClients",
    tag = tags::CLIENTS,
    params(ClusterPath),
    security(("bearer" = ["get:clients"])),
    responses(
        (status = 200, description = "A list of all the clients currently configured for your Camunda cluster.", body = Vec<ClusterClientDto>),
        (status = 403, description = "The token lacks the scope get:clients"),
        (status = 404, description = "Cluster not found"),
    ),
)]
async fn list_clients(
    State(state): State<AppState>,
    caller: Caller,
    ClusterPath(cluster_id): ClusterPath,
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

/// Create an API client for a cluster; its secret is shown only in this response.
#[utoipa::path(
    post,
    path = "/clusters/{clusterUuid}/clients",
    operation_id = "CreateClient",
    tag = tags::CLIENTS,
    params(ClusterPath),
    request_body = CreateClientRequest,
    security(("bearer" = ["create:clients"])),
    responses(
        (status = 200, description = "Ok", body = CreateClientResponse),
        (status = 400, description = "Client names must be unique; or an invalid name or a malformed body"),
        (status = 403, description = "Maximum number of clients reached, or the token lacks the scope create:clients"),
        (status = 404, description = "Cluster not found"),
    ),
)]
async fn create_client(
    State(state): State<AppState>,
    caller: Caller,
    ClusterPath(cluster_id): ClusterPath,
    body: Result<ApiJson<CreateClientRequest>, ApiError>,
) -> ApiResult<Json<CreateClientResponse>> {
    caller.require(Scope::CreateClients)?;
    let ApiJson(request) = body?;
    let created = create(
        &state,
        &caller,
        &cluster_id,
        request.client_name,
        request.permissions,
    )
    .await?;
    Ok(Json(CreateClientResponse {
        uuid: created.client.id,
        client_id: created.client.client_id,
        client_secret: created.secret,
        name: created.client.name,
        permissions: created.client.permissions,
        links: created.links.into(),
    }))
}

/// A client just created, with its secret (shown only once) and the cluster's links.
pub struct CreatedClient {
    pub client: ZeebeClient,
    pub secret: String,
    pub cluster: Cluster,
    pub links: ClusterLinks,
    /// What the exec driver reported for the cluster, if anything.
    pub endpoints: Option<Endpoints>,
}

/// Creates a cluster's API client: validation, the per-cluster limit and the activity
/// record, as `POST /clusters/{uuid}/clients` does (the API's handler and the console call
/// this after their own permission checks).
pub async fn create(
    state: &AppState,
    caller: &Caller,
    cluster_id: &str,
    client_name: String,
    permissions: Option<Vec<Permission>>,
) -> ApiResult<CreatedClient> {
    let cluster = load_cluster(state, caller, cluster_id).await?;
    let permissions = ZeebeClient::validate_new(&client_name, permissions)?;
    let now = Timestamp::now();
    let secret = crypto::new_client_secret();
    let client = ZeebeClient {
        id: uuid::Uuid::new_v4().to_string(),
        cluster_id: cluster.id.clone(),
        org_id: cluster.org_id.clone(),
        client_id: crypto::new_client_id(),
        name: client_name,
        secret_hash: state.keyring.hash_secret(&secret),
        permissions,
        created_at: now,
    };
    let audit = caller
        .audit(
            AuditType::Create,
            "client",
            &client.client_id,
            format!("Created client {:?}", client.name),
            now,
        )
        .with_parent("cluster", &cluster.id);
    let max = state.settings.max_clients_per_cluster;
    state
        .store
        .insert_zeebe_client(&client, max, &audit)
        .await
        .map_err(refused_child(
            cluster_id,
            || {
                ApiError::bad_request(format!(
                    "client names must be unique: {:?} already exists in this cluster",
                    client.name
                ))
            },
            || {
                ApiError::forbidden(format!(
                    "maximum number of clients reached ({max} per cluster)"
                ))
            },
        ))?;
    let endpoints = driver_endpoints(state, &cluster).await?;
    let links = cluster_links(state, &cluster, endpoints.as_ref());
    Ok(CreatedClient {
        client,
        secret,
        cluster,
        links,
        endpoints,
    })
}

/// Deletes a cluster's API client (its tokens stop working), with its activity record;
/// 404 when the cluster or the client is unknown.
pub async fn delete(
    state: &AppState,
    caller: &Caller,
    cluster_id: &str,
    client_id: &str,
) -> ApiResult<()> {
    load_cluster(state, caller, cluster_id).await?;
    let audit = caller.cluster_audit(
        AuditType::Delete,
        "client",
        client_id,
        cluster_id,
        "Deleted client".to_string(),
    );
    if state
        .store
        .delete_zeebe_client(caller.org_id(), cluster_id, client_id, &audit)
        .await?
    {
        Ok(())
    } else {
        Err(client_not_found(client_id))
    }
}

/// Get the connection details of a cluster's API client.
#[utoipa::path(
    get,
    path = "/clusters/{clusterUuid}/clients/{clientId}",
    operation_id = "GetClient",
    tag = tags::CLIENTS,
    params(
        ClusterPath,
        ("clientId" = String, Path, description = "The client's clientId"),
    ),
    security(("bearer" = ["get:clients"])),
    responses(
        (status = 200, description = "The connection parameters needed to use the client with your Camunda cluster.", body = ClientConnectionDetails),
        (status = 403, description = "The token lacks the scope get:clients"),
        (status = 404, description = "Cluster or client not found"),
        (status = 412, description = "The cluster is not ready; try again later"),
    ),
)]
async fn get_client(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((cluster_id, client_id)): ApiPath<(String, String)>,
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
        zeebe_address: cluster_links(
            &state,
            &cluster,
            driver_endpoints(&state, &cluster).await?.as_ref(),
        )
        .zeebe_address(),
        zeebe_client_id: client.client_id,
        zeebe_authorization_server_url: state.settings.token_url.clone(),
    }))
}

/// Irreversibly delete a cluster's API client; its tokens stop working.
#[utoipa::path(
    delete,
    path = "/clusters/{clusterUuid}/clients/{clientId}",
    operation_id = "DeleteClient",
    tag = tags::CLIENTS,
    params(
        ClusterPath,
        ("clientId" = String, Path, description = "The client's clientId"),
    ),
    security(("bearer" = ["delete:clients"])),
    responses(
        (status = 204, description = "No content"),
        (status = 403, description = "The token lacks the scope delete:clients"),
        (status = 404, description = "Cluster or client not found"),
    ),
)]
async fn delete_client(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((cluster_id, client_id)): ApiPath<(String, String)>,
) -> ApiResult<StatusCode> {
    caller.require(Scope::DeleteClients)?;
    delete(&state, &caller, &cluster_id, &client_id).await?;
    Ok(StatusCode::NO_CONTENT)
}
