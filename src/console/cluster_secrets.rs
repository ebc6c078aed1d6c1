//! A cluster's connector secrets (`/console/clusters/{uuid}/secrets`): the names, a value
//! only once revealed, add, change a value, delete.
//!
//! Values are never in the page by default: "Reveal" is a CSRF-checked POST answered with
//! the page showing that one value (`Cache-Control: no-store`), for members who may manage
//! the cluster's credentials. The secret's name travels in the form, never in a URL. Every
//! change calls `http::secrets::create`, `update` or `delete`, the functions of the API's
//! handlers, as the member.

use super::path::Path;
use askama::Template;
use axum::extract::rejection::FormRejection;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;

use super::cluster::{caller, no_such_cluster};
use super::session::{allowed, CarriesCsrf, SignedIn};
use super::{internal_error, not_allowed, not_stored, page, Layout};
use crate::domain::permissions::{may, Action};
use crate::http::secrets;
use crate::http::AppState;

/// The address of a cluster's connector secrets page.
pub fn secrets_path(cluster_id: &str) -> String {
    format!("/console/clusters/{cluster_id}/secrets")
}

#[derive(Template)]
#[template(path = "cluster_secrets.html")]
struct SecretsPage {
    layout: Layout,
    csrf: String,
    id: String,
    name: String,
    names: Vec<String>,
    may_manage: bool,
    /// A revealed secret: its name and value.
    revealed: Option<(String, String)>,
    error: Option<String>,
    new_name: String,
}

/// Every form of the page: its token, a secret's name and (to add or change) a value.
/// No `Debug`: the value must reach no log.
#[derive(Default, Deserialize)]
pub struct SecretForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    value: String,
}

impl CarriesCsrf for SecretForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

async fn secrets_page_for(
    state: &AppState,
    signed_in: &SignedIn,
    cluster_id: &str,
    status: StatusCode,
    revealed: Option<(String, String)>,
    error: Option<String>,
    new_name: String,
) -> Response {
    if !may(&signed_in.member.roles, Action::ViewClusters) {
        return not_allowed(Action::ViewClusters.as_str());
    }
    let org_id = &signed_in.member.org_id;
    let cluster = match state.store.cluster(org_id, cluster_id).await {
        Ok(Some(cluster)) => cluster,
        Ok(None) => return no_such_cluster(),
        Err(e) => return internal_error(e),
    };
    let names = match state.store.connector_secrets(org_id, cluster_id).await {
        Ok(secrets) => secrets.into_iter().map(|s| s.name).collect(),
        Err(e) => return internal_error(e),
    };
    let with_value = revealed.is_some();
    let body = SecretsPage {
        layout: Layout::signed_in(signed_in),
        csrf: signed_in.session.csrf_token.clone(),
        names,
        may_manage: may(&signed_in.member.roles, Action::ManageClusterCredentials),
        revealed,
        error,
        new_name,
        id: cluster.id,
        name: cluster.name,
    };
    let response = page(status, &body);
    if with_value {
        return not_stored(response);
    }
    response
}

pub async fn secrets_page(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(cluster_id): Path<String>,
) -> Response {
    secrets_page_for(
        &state,
        &signed_in,
        &cluster_id,
        StatusCode::OK,
        None,
        None,
        String::new(),
    )
    .await
}

/// Back to the page when it worked; the page with the API's message when refused.
async fn after(
    state: &AppState,
    signed_in: &SignedIn,
    cluster_id: &str,
    new_name: String,
    result: Result<(), crate::http::error::ApiError>,
) -> Response {
    match result {
        Ok(()) => Redirect::to(&secrets_path(cluster_id)).into_response(),
        Err(e) if e.status.is_client_error() => {
            secrets_page_for(
                state,
                signed_in,
                cluster_id,
                e.status,
                None,
                Some(e.message),
                new_name,
            )
            .await
        }
        Err(e) => internal_error(e.message),
    }
}

pub async fn create_secret(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(cluster_id): Path<String>,
    form: Result<Form<SecretForm>, FormRejection>,
) -> Response {
    let form = match allowed(&signed_in, form, Action::ManageClusterCredentials) {
        Ok(form) => form,
        Err(refusal) => return *refusal,
    };
    let result = secrets::create(
        &state,
        &caller(&signed_in),
        &cluster_id,
        form.name.clone(),
        &form.value,
    )
    .await;
    after(&state, &signed_in, &cluster_id, form.name, result).await
}

pub async fn update_secret(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(cluster_id): Path<String>,
    form: Result<Form<SecretForm>, FormRejection>,
) -> Response {
    let form = match allowed(&signed_in, form, Action::ManageClusterCredentials) {
        Ok(form) => form,
        Err(refusal) => return *refusal,
    };
    let result = secrets::update(
        &state,
        &caller(&signed_in),
        &cluster_id,
        &form.name,
        &form.value,
    )
    .await;
    after(&state, &signed_in, &cluster_id, String::new(), result).await
}

pub async fn delete_secret(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(cluster_id): Path<String>,
    form: Result<Form<SecretForm>, FormRejection>,
) -> Response {
    let form = match allowed(&signed_in, form, Action::ManageClusterCredentials) {
        Ok(form) => form,
        Err(refusal) => return *refusal,
    };
    let result = secrets::delete(&state, &caller(&signed_in), &cluster_id, &form.name).await;
    after(&state, &signed_in, &cluster_id, String::new(), result).await
}

/// The page with one secret's value shown.
pub async fn reveal_secret(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(cluster_id): Path<String>,
    form: Result<Form<SecretForm>, FormRejection>,
) -> Response {
    let form = match allowed(&signed_in, form, Action::ManageClusterCredentials) {
        Ok(form) => form,
        Err(refusal) => return *refusal,
    };
    let mut values = match secrets::values(&state, &caller(&signed_in), &cluster_id).await {
        Ok(values) => values,
        Err(e) if e.status == StatusCode::NOT_FOUND => return no_such_cluster(),
        Err(e) => return internal_error(e.message),
    };
    let (status, revealed, error) = match values.remove(&form.name) {
        Some(value) => (StatusCode::OK, Some((form.name, value)), None),
        None => (
            StatusCode::NOT_FOUND,
            None,
            Some(format!("secret {:?} not found", form.name)),
        ),
    };
    secrets_page_for(
        &state,
        &signed_in,
        &cluster_id,
        status,
        revealed,
        error,
        String::new(),
    )
    .await
}
