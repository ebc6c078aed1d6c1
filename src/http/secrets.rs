//! `/clusters/{clusterUuid}/secrets`: connector secrets.
//!
//! Values are sealed with the master key before they reach the store and opened only to
//! answer `GET`. No request type here derives `Debug` and no audit record or log line
//! carries a value.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, put};
use axum::{Json, Router};
use serde::Deserialize;

use super::clusters::{cluster_not_found, load_cluster};
use super::error::{ApiError, ApiResult};
use super::extract::{ApiJson, ApiPath, Caller};
use super::AppState;
use crate::domain::audit::{AuditEntry, AuditType};
use crate::domain::connector_secret::{self, encryption_context, ConnectorSecret};
use crate::domain::scope::Scope;
use crate::domain::Timestamp;
use crate::storage::StoreError;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/clusters/{cluster_id}/secrets",
            get(list_secrets).post(create_secret),
        )
        .route(
            "/clusters/{cluster_id}/secrets/{secret_name}",
            put(update_secret).delete(delete_secret),
        )
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateSecretRequest {
    pub secret_name: String,
    pub secret_value: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateSecretRequest {
    pub secret_value: String,
}

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
    AuditEntry::new(
        caller.org_id(),
        caller.client_id(),
        audit_type,
        "secret",
        name,
        format!("{verb} secret {name:?}"),
        Timestamp::now(),
    )
    .with_parent("cluster", cluster_id)
}

/// Name → plaintext value; clients compare the values with what they wrote.
async fn list_secrets(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(cluster_id): ApiPath<String>,
) -> ApiResult<Json<BTreeMap<String, String>>> {
    caller.require(Scope::GetSecrets)?;
    let cluster = load_cluster(&state, &caller, &cluster_id).await?;
    let secrets = state
        .store
        .connector_secrets(caller.org_id(), &cluster.id)
        .await?;
    let mut values = BTreeMap::new();
    for secret in secrets {
        let context = encryption_context(&secret.cluster_id, &secret.name);
        let plain = state
            .keyring
            .decrypt(&secret.sealed_value, &context)
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .ok_or_else(|| {
                ApiError::internal(format!(
                    "connector secret {:?} of cluster {} does not decrypt under the master key",
                    secret.name, secret.cluster_id
                ))
            })?;
        values.insert(secret.name, plain);
    }
    Ok(Json(values))
}

async fn create_secret(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(cluster_id): ApiPath<String>,
    body: Result<ApiJson<CreateSecretRequest>, ApiError>,
) -> ApiResult<StatusCode> {
    caller.require(Scope::CreateSecrets)?;
    let ApiJson(request) = body?;
    let cluster = load_cluster(&state, &caller, &cluster_id).await?;
    let name = request.secret_name;
    connector_secret::validate_name(&name)?;
    let now = Timestamp::now();
    let secret = ConnectorSecret {
        sealed_value: state.keyring.encrypt(
            request.secret_value.as_bytes(),
            &encryption_context(&cluster.id, &name),
        ),
        cluster_id: cluster.id,
        org_id: cluster.org_id,
        name,
        created_at: now,
        updated_at: now,
    };
    let max = state.settings.max_secrets_per_cluster;
    let audit = audit(&caller, AuditType::Create, &secret.cluster_id, &secret.name);
    match state
        .store
        .insert_connector_secret(&secret, max, &audit)
        .await
    {
        Ok(()) => Ok(StatusCode::NO_CONTENT),
        Err(StoreError::Conflict(_)) => Err(ApiError::new(
            StatusCode::CONFLICT,
            format!(
                "secret names must be unique: {:?} already exists in this cluster",
                secret.name
            ),
        )),
        Err(StoreError::LimitReached) => Err(ApiError::forbidden(format!(
            "maximum number of secrets reached ({max} per cluster)"
        ))),
        Err(StoreError::NotFound) => Err(cluster_not_found(&cluster_id)),
        Err(other) => Err(other.into()),
    }
}

async fn update_secret(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((cluster_id, name)): ApiPath<(String, String)>,
    body: Result<ApiJson<UpdateSecretRequest>, ApiError>,
) -> ApiResult<StatusCode> {
    caller.require(Scope::UpdateSecrets)?;
    let ApiJson(request) = body?;
    let cluster = load_cluster(&state, &caller, &cluster_id).await?;
    let sealed = state.keyring.encrypt(
        request.secret_value.as_bytes(),
        &encryption_context(&cluster.id, &name),
    );
    let audit = audit(&caller, AuditType::Update, &cluster.id, &name);
    let now = Timestamp::now();
    if state
        .store
        .update_connector_secret(caller.org_id(), &cluster.id, &name, &sealed, now, &audit)
        .await?
    {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(secret_not_found(&name))
    }
}

async fn delete_secret(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((cluster_id, name)): ApiPath<(String, String)>,
) -> ApiResult<StatusCode> {
    caller.require(Scope::DeleteSecrets)?;
    let cluster = load_cluster(&state, &caller, &cluster_id).await?;
    let audit = audit(&caller, AuditType::Delete, &cluster.id, &name);
    if state
        .store
        .delete_connector_secret(caller.org_id(), &cluster.id, &name, &audit)
        .await?
    {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(secret_not_found(&name))
    }
}
