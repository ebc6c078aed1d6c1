//! A cluster's monitoring tab (`/console/clusters/{uuid}/monitoring`): whether its metrics
//! endpoint is open and where, activate and deactivate, the monitoring clients (the HTTP
//! Basic credentials a Prometheus scrapes with), create one (the password shown once) and
//! delete one.
//!
//! The changes call the functions of the API's monitoring handlers
//! (`http::monitoring::activate_monitoring`, `deactivate_monitoring`,
//! `create_monitoring_client`, `delete_monitoring_client`) as the member, so the rules and
//! the activity records are the API's. As for a cluster's API clients, the password is on
//! the page that answers the POST, with `Cache-Control: no-store`.

use super::path::Path;
use askama::Template;
use axum::extract::rejection::FormRejection;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;

use super::cluster::{caller, no_such_cluster};
use super::session::{allowed, CarriesCsrf, CsrfForm, SignedIn};
use super::{internal_error, not_allowed, not_stored, page, Layout};
use crate::domain::permissions::{may, Action};
use crate::http::error::ApiError;
use crate::http::monitoring::{self, ActiveMonitoring};
use crate::http::AppState;

/// The address of a cluster's monitoring tab.
pub fn monitoring_path(cluster_id: &str) -> String {
    format!("/console/clusters/{cluster_id}/monitoring")
}

struct ClientRow {
    id: String,
    username: String,
    created: String,
    created_by: String,
    last_used: String,
}

#[derive(Template)]
#[template(path = "cluster_monitoring.html")]
struct MonitoringPage {
    layout: Layout,
    csrf: String,
    id: String,
    name: String,
    /// When monitoring was activated; `None` while it is off.
    active_since: Option<String>,
    metrics_url: String,
    clients: Vec<ClientRow>,
    may_manage: bool,
    error: Option<String>,
    username: String,
}

#[derive(Template)]
#[template(path = "cluster_monitoring_created.html")]
struct CreatedPage {
    layout: Layout,
    id: String,
    name: String,
    username: String,
    password: String,
    metrics_url: String,
}

#[derive(Debug, Default, Deserialize)]
pub struct CreateForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    username: String,
}

impl CarriesCsrf for CreateForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

/// The tab, with what was entered and an error when a change was refused.
async fn monitoring_page_for(
    state: &AppState,
    signed_in: &SignedIn,
    cluster_id: &str,
    status: StatusCode,
    username: &str,
    error: Option<String>,
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
    let active = match monitoring::monitoring_state(state, &caller(signed_in), cluster_id).await {
        Ok(active) => active,
        Err(e) if e.status == StatusCode::NOT_FOUND => return no_such_cluster(),
        Err(e) => return internal_error(e.message),
    };
    let (active_since, clients) = match active {
        Some(ActiveMonitoring {
            activated_at,
            clients,
        }) => (Some(activated_at.to_rfc3339()), clients),
        None => (None, Vec::new()),
    };
    let body = MonitoringPage {
        layout: Layout::signed_in(signed_in),
        csrf: signed_in.session.csrf_token.clone(),
        active_since,
        metrics_url: monitoring::metrics_url(&state.settings.public_url, &cluster.id),
        clients: clients
            .into_iter()
            .map(|c| ClientRow {
                created: c.created_at.to_rfc3339(),
                last_used: c.last_used_at.map(|t| t.to_rfc3339()).unwrap_or_default(),
                created_by: c.created_by_name,
                id: c.id,
                username: c.username,
            })
            .collect(),
        may_manage: may(&signed_in.member.roles, Action::ManageClusterSettings),
        error,
        username: username.to_string(),
        id: cluster.id,
        name: cluster.name,
    };
    page(status, &body)
}

pub async fn monitoring_page(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(cluster_id): Path<String>,
) -> Response {
    monitoring_page_for(&state, &signed_in, &cluster_id, StatusCode::OK, "", None).await
}

/// Back to the tab after a change, or the tab with the API's message for a refused one.
async fn after<T>(
    state: &AppState,
    signed_in: &SignedIn,
    cluster_id: &str,
    result: Result<T, ApiError>,
) -> Response {
    match result {
        Ok(_) => Redirect::to(&monitoring_path(cluster_id)).into_response(),
        Err(e) if e.status == StatusCode::NOT_FOUND => no_such_cluster(),
        Err(e) if e.status.is_client_error() => {
            monitoring_page_for(state, signed_in, cluster_id, e.status, "", Some(e.message)).await
        }
        Err(e) => internal_error(e.message),
    }
}

pub async fn activate(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(cluster_id): Path<String>,
    form: Result<Form<CsrfForm>, FormRejection>,
) -> Response {
    if let Err(refusal) = allowed(&signed_in, form, Action::ManageClusterSettings) {
        return *refusal;
    }
    let result = monitoring::activate_monitoring(&state, &caller(&signed_in), &cluster_id).await;
    after(&state, &signed_in, &cluster_id, result).await
}

pub async fn deactivate(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(cluster_id): Path<String>,
    form: Result<Form<CsrfForm>, FormRejection>,
) -> Response {
    if let Err(refusal) = allowed(&signed_in, form, Action::ManageClusterSettings) {
        return *refusal;
    }
    let result = monitoring::deactivate_monitoring(&state, &caller(&signed_in), &cluster_id).await;
    after(&state, &signed_in, &cluster_id, result).await
}

pub async fn create_client(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(cluster_id): Path<String>,
    form: Result<Form<CreateForm>, FormRejection>,
) -> Response {
    let form = match allowed(&signed_in, form, Action::ManageClusterSettings) {
        Ok(form) => form,
        Err(refusal) => return *refusal,
    };
    let username = form.username.trim().to_string();
    let created =
        monitoring::create_monitoring_client(&state, &caller(&signed_in), &cluster_id, username)
            .await;
    let created = match created {
        Ok(created) => created,
        Err(e) if e.status == StatusCode::NOT_FOUND => return no_such_cluster(),
        Err(e) if e.status.is_client_error() => {
            let (status, text) = (e.status, Some(e.message));
            return monitoring_page_for(
                &state,
                &signed_in,
                &cluster_id,
                status,
                &form.username,
                text,
            )
            .await;
        }
        Err(e) => return internal_error(e.message),
    };
    let cluster_name = match state
        .store
        .cluster(&signed_in.member.org_id, &cluster_id)
        .await
    {
        Ok(Some(cluster)) => cluster.name,
        Ok(None) => return no_such_cluster(),
        Err(e) => return internal_error(e),
    };
    let body = CreatedPage {
        layout: Layout::signed_in(&signed_in),
        metrics_url: monitoring::metrics_url(&state.settings.public_url, &cluster_id),
        id: cluster_id,
        name: cluster_name,
        username: created.client.username,
        password: created.password,
    };
    not_stored(page(StatusCode::OK, &body))
}

pub async fn delete_client(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path((cluster_id, client_id)): Path<(String, String)>,
    form: Result<Form<CsrfForm>, FormRejection>,
) -> Response {
    if let Err(refusal) = allowed(&signed_in, form, Action::ManageClusterSettings) {
        return *refusal;
    }
    let result =
        monitoring::delete_monitoring_client(&state, &caller(&signed_in), &cluster_id, &client_id)
            .await;
    match result {
        // Already gone (a second click): the tab shows what is left.
        Err(e) if e.status == StatusCode::NOT_FOUND => {
            Redirect::to(&monitoring_path(&cluster_id)).into_response()
        }
        result => after(&state, &signed_in, &cluster_id, result).await,
    }
}
