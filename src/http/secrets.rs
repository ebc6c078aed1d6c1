//! `/clusters/{clusterUuid}/secrets`: connector secrets.
//!
//! Values are sealed with the master key before they reach the store and opened only to
//! answer `GET`. No request type here derives `Debug` and no audit record or log line
//! carries a value.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::{ApiError, ApiResult};
use super::extract::{ApiJson, ApiPath, Caller};
use super::in_cluster::{load_cluster, refused_child, ClusterPath};
use super::schema::tags;
use super::AppState;
use crate::domain::audit::{AuditEntry, AuditType};
use crate::domain::connector_secret::{self, encryption_context, ConnectorSecret};
use crate::domain::scope::Scope;
use crate::domain::text;
use crate::domain::Timestamp;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_secrets, create_secret))
        .routes(routes!(update_secret, delete_secret))
}

/// A new connector secret.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = CreateSecretBody, example = json!({"secretName": "API_KEY", "secretValue": "s3cr3t"}))]
pub struct CreateSecretRequest {
    /// Fewer than 50 characters, none of them whitespace, control or invisible
    /// (`my-key-of-secret` and `a.b-c` are fine). In paths, percent-encode what a path
    /// segment cannot hold (`/` as `%2F`).
    #[schema(min_length = 1, max_length = 49)]
    pub secret_name: String,
    /// Any text without a NUL character.
    pub secret_value: String,
}

/// The new value of a connector secret.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = UpdateSecretBody, example = json!({"secretValue": "n3w-s3cr3t"}))]
pub struct UpdateSecretRequest {
    /// Any text without a NUL character.
    pub secret_value: String,
}

/// The connector secrets of a cluster: name → plaintext value.
#[derive(ToSchema)]
#[schema(as = ClusterSecrets)]
#[allow(dead_code)]
pub struct ClusterSecrets(BTreeMap<String, String>);

fn secret_not_found(name: &str) -> ApiError {
    ApiError::not_found(format!("secret {name:?} not found"))
}

fn audit(caller: &Caller, audit_type: AuditType, cluster_id: &str, name: &str) -> AuditEntry {
    let verb = match audit_type {
        AuditType::Create => "Created",
        AuditType::Update => "Updated",
        AuditType::Delete => "Deleted",
        AuditType::Read => "Read",
    };
    caller.cluster_audit(
        audit_type,
        "secret",
        name,
        cluster_id,
        format!("{verb} secret {name:?}"),
    )
}

/// List the connector secrets of a cluster with their values.
///
/// Name → plaintext value; clients compare the values with what they wrote.
#[utoipa::path(
    get,
    path = "/clusters/{clusterUuid}/secrets",
    operation_id = "GetSecrets",
    tag = tags::SECRETS,
    params(ClusterPath),
    security(("bearer" = ["get:secrets"])),
    responses(
        (status = 200, description = "A list of all the secrets currently configured for your Camunda cluster.", body = ClusterSecrets),
        (status = 403, description = "The token lacks the scope get:secrets"),
        (status = 404, description = "Cluster not found"),
    ),
)]
async fn list_secrets(
    State(state): State<AppState>,
    caller: Caller,
    ClusterPath(cluster_id): ClusterPath,
) -> ApiResult<Json<BTreeMap<String, String>>> {
    caller.require(Scope::GetSecrets)?;
    Ok(Json(values(&state, &caller, &cluster_id).await?))
}

/// The connector secrets of a cluster, name → plaintext value (as `GET` answers).
pub async fn values(
    state: &AppState,
    caller: &Caller,
    cluster_id: &str,
) -> ApiResult<BTreeMap<String, String>> {
    let cluster = load_cluster(state, caller, cluster_id).await?;
    let secrets = state
        .store
        .connector_secrets(caller.org_id(), &cluster.id)
        .await?;
    let mut values = BTreeMap::new();
    for secret in secrets {
        let plain = secret.reveal(&state.keyring).ok_or_else(|| {
            ApiError::internal(format!(
                "connector secret {:?} of cluster {} does not decrypt under the master key",
                secret.name, secret.cluster_id
            ))
        })?;
        values.insert(secret.name, plain);
    }
    Ok(values)
}

/// Create a connector secret.
#[utoipa::path(
    post,
    path = "/clusters/{clusterUuid}/secrets",
    operation_id = "CreateSecret",
    tag = tags::SECRETS,
    params(ClusterPath),
    request_body = CreateSecretRequest,
    security(("bearer" = ["create:secrets"])),
    responses(
        (status = 204, description = "No content"),
        (status = 400, description = "Secret name must be less than 50 characters without whitespace or control characters; a value with a NUL character; or a malformed body"),
        (status = 403, description = "Maximum number of secrets reached, or the token lacks the scope create:secrets"),
        (status = 404, description = "Cluster not found"),
        (status = 409, description = "Secret names must be unique"),
    ),
)]
async fn create_secret(
    State(state): State<AppState>,
    caller: Caller,
    ClusterPath(cluster_id): ClusterPath,
    body: Result<ApiJson<CreateSecretRequest>, ApiError>,
) -> ApiResult<StatusCode> {
    caller.require(Scope::CreateSecrets)?;
    let ApiJson(request) = body?;
    create(
        &state,
        &caller,
        &cluster_id,
        request.secret_name,
        &request.secret_value,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Creates a connector secret (validation, the per-cluster limit, the activity record), as
/// `POST /clusters/{uuid}/secrets` does; the API's handler and the console call this.
pub async fn create(
    state: &AppState,
    caller: &Caller,
    cluster_id: &str,
    name: String,
    value: &str,
) -> ApiResult<()> {
    let cluster = load_cluster(state, caller, cluster_id).await?;
    connector_secret::validate_name(&name)?;
    connector_secret::validate_value(value)?;
    let now = Timestamp::now();
    let secret = ConnectorSecret {
        sealed_value: state
            .keyring
            .encrypt(value.as_bytes(), &encryption_context(&cluster.id, &name)),
        cluster_id: cluster.id,
        org_id: cluster.org_id,
        name,
        created_at: now,
        updated_at: now,
    };
    let max = state.settings.max_secrets_per_cluster;
    let audit = audit(caller, AuditType::Create, &secret.cluster_id, &secret.name);
    state
        .store
        .insert_connector_secret(&secret, max, &audit)
        .await
        .map_err(refused_child(
            cluster_id,
            || {
                ApiError::new(
                    StatusCode::CONFLICT,
                    format!(
                        "secret names must be unique: {:?} already exists in this cluster",
                        secret.name
                    ),
                )
            },
            || {
                ApiError::forbidden(format!(
                    "maximum number of secrets reached ({max} per cluster)"
                ))
            },
        ))?;
    Ok(())
}

/// Update the value of a connector secret.
#[utoipa::path(
    put,
    path = "/clusters/{clusterUuid}/secrets/{secretName}",
    operation_id = "UpdateSecret",
    tag = tags::SECRETS,
    params(
        ClusterPath,
        ("secretName" = String, Path, description = "The secret's name"),
    ),
    request_body = UpdateSecretRequest,
    security(("bearer" = ["update:secrets"])),
    responses(
        (status = 204, description = "No content"),
        (status = 400, description = "A value with a NUL character, or a malformed body or path"),
        (status = 403, description = "The token lacks the scope update:secrets"),
        (status = 404, description = "Cluster or secret not found"),
    ),
)]
async fn update_secret(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((cluster_id, name)): ApiPath<(String, String)>,
    body: Result<ApiJson<UpdateSecretRequest>, ApiError>,
) -> ApiResult<StatusCode> {
    caller.require(Scope::UpdateSecrets)?;
    let ApiJson(request) = body?;
    update(&state, &caller, &cluster_id, &name, &request.secret_value).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Replaces a connector secret's value, as `PUT /clusters/{uuid}/secrets/{name}` does.
pub async fn update(
    state: &AppState,
    caller: &Caller,
    cluster_id: &str,
    name: &str,
    value: &str,
) -> ApiResult<()> {
    // The API's path extractor refuses a NUL already; the console's forms reach here too.
    text::check_stored("secretName", name)?;
    connector_secret::validate_value(value)?;
    let cluster = load_cluster(state, caller, cluster_id).await?;
    let sealed = state
        .keyring
        .encrypt(value.as_bytes(), &encryption_context(&cluster.id, name));
    let audit = audit(caller, AuditType::Update, &cluster.id, name);
    let now = Timestamp::now();
    if state
        .store
        .update_connector_secret(caller.org_id(), &cluster.id, name, &sealed, now, &audit)
        .await?
    {
        Ok(())
    } else {
        Err(secret_not_found(name))
    }
}

/// Irreversibly delete a connector secret.
#[utoipa::path(
    delete,
    path = "/clusters/{clusterUuid}/secrets/{secretName}",
    operation_id = "DeleteSecret",
    tag = tags::SECRETS,
    params(
        ClusterPath,
        ("secretName" = String, Path, description = "The secret's name"),
    ),
    security(("bearer" = ["delete:secrets"])),
    responses(
        (status = 204, description = "No content"),
        (status = 400, description = "A malformed path"),
        (status = 403, description = "The token lacks the scope delete:secrets"),
        (status = 404, description = "Cluster or secret not found"),
    ),
)]
async fn delete_secret(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((cluster_id, name)): ApiPath<(String, String)>,
) -> ApiResult<StatusCode> {
    caller.require(Scope::DeleteSecrets)?;
    delete(&state, &caller, &cluster_id, &name).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Deletes a connector secret, as `DELETE /clusters/{uuid}/secrets/{name}` does.
pub async fn delete(
    state: &AppState,
    caller: &Caller,
    cluster_id: &str,
    name: &str,
) -> ApiResult<()> {
    text::check_stored("secretName", name)?;
    let cluster = load_cluster(state, caller, cluster_id).await?;
    let audit = audit(caller, AuditType::Delete, &cluster.id, name);
    if state
        .store
        .delete_connector_secret(caller.org_id(), &cluster.id, name, &audit)
        .await?
    {
        Ok(())
    } else {
        Err(secret_not_found(name))
    }
}
