//! A cluster's backups (`/console/clusters/{uuid}/backups`): the list, "Take a backup"
//! and delete, through `http::backups::create` and `delete`, the functions of the API's
//! handlers (so a cluster that is not Healthy gets the API's 412 message).

use super::path::Path;
use askama::Template;
use axum::extract::rejection::FormRejection;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;

use super::cluster::{caller, no_such_cluster};
use super::session::{allowed, CsrfForm, SignedIn};
use super::{internal_error, not_allowed, page, Layout};
use crate::domain::permissions::{may, Action};
use crate::http::error::ApiError;
use crate::http::{backups, AppState};

/// The address of a cluster's backups page.
pub fn backups_path(cluster_id: &str) -> String {
    format!("/console/clusters/{cluster_id}/backups")
}

struct BackupRow {
    id: String,
    name: String,
    status: &'static str,
    created: String,
    completed: String,
}

#[derive(Template)]
#[template(path = "cluster_backups.html")]
struct BackupsPage {
    layout: Layout,
    csrf: String,
    id: String,
    name: String,
    backups: Vec<BackupRow>,
    may_manage: bool,
    error: Option<String>,
}

async fn backups_page_for(
    state: &AppState,
    signed_in: &SignedIn,
    cluster_id: &str,
    status: StatusCode,
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
    let backups = match state.store.backups(org_id, cluster_id).await {
        Ok(backups) => backups,
        Err(e) => return internal_error(e),
    };
    let body = BackupsPage {
        layout: Layout::signed_in(signed_in),
        csrf: signed_in.session.csrf_token.clone(),
        backups: backups
            .into_iter()
            .map(|b| BackupRow {
                status: b.status.as_str(),
                created: b.created_at.to_rfc3339(),
                completed: b.completed_at.map(|t| t.to_rfc3339()).unwrap_or_default(),
                id: b.id,
                name: b.name,
            })
            .collect(),
        may_manage: may(&signed_in.member.roles, Action::ManageClusterSettings),
        error,
        id: cluster.id,
        name: cluster.name,
    };
    page(status, &body)
}

pub async fn backups_page(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(cluster_id): Path<String>,
) -> Response {
    backups_page_for(&state, &signed_in, &cluster_id, StatusCode::OK, None).await
}

async fn after<T>(
    state: &AppState,
    signed_in: &SignedIn,
    cluster_id: &str,
    result: Result<T, ApiError>,
) -> Response {
    match result {
        Ok(_) => Redirect::to(&backups_path(cluster_id)).into_response(),
        Err(e) if e.status.is_client_error() => {
            backups_page_for(state, signed_in, cluster_id, e.status, Some(e.message)).await
        }
        Err(e) => internal_error(e.message),
    }
}

pub async fn create_backup(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(cluster_id): Path<String>,
    form: Result<Form<CsrfForm>, FormRejection>,
) -> Response {
    if let Err(refusal) = allowed(&signed_in, form, Action::ManageClusterSettings) {
        return *refusal;
    }
    let result = backups::create(&state, &caller(&signed_in), &cluster_id).await;
    after(&state, &signed_in, &cluster_id, result).await
}

pub async fn delete_backup(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path((cluster_id, backup_id)): Path<(String, String)>,
    form: Result<Form<CsrfForm>, FormRejection>,
) -> Response {
    if let Err(refusal) = allowed(&signed_in, form, Action::ManageClusterSettings) {
        return *refusal;
    }
    let result = backups::delete(&state, &caller(&signed_in), &cluster_id, &backup_id).await;
    after(&state, &signed_in, &cluster_id, result).await
}
