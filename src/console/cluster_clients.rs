//! A cluster's API clients (`/console/clusters/{uuid}/clients`): the list, the create form
//! (name and permissions, as `POST /clusters/{uuid}/clients`), the result page that shows
//! the secret once with a credentials file of environment variables, and delete.
//!
//! Creating and deleting call `http::clients::create` and `delete`, the functions of the
//! API's handlers, as [`Caller::console_member`](crate::http::extract::Caller). The result
//! page answers the POST itself (never a redirect, so the secret is in no URL) with
//! `Cache-Control: no-store`; the credentials file is in a `<pre>` that the script offers as
//! a download (a Blob made in the browser: nothing is fetched again).

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
use crate::domain::zeebe_client::Permission;
use crate::http::clients::{self, CreatedClient};
use crate::http::AppState;

/// The address of a cluster's API clients page.
pub fn clients_path(cluster_id: &str) -> String {
    format!("/console/clusters/{cluster_id}/clients")
}

struct ClientRow {
    name: String,
    client_id: String,
    permissions: String,
}

struct PermissionChoice {
    value: &'static str,
    checked: bool,
}

#[derive(Template)]
#[template(path = "cluster_clients.html")]
struct ClientsPage {
    layout: Layout,
    csrf: String,
    id: String,
    name: String,
    clients: Vec<ClientRow>,
    may_manage: bool,
    error: Option<String>,
    client_name: String,
    permissions: Vec<PermissionChoice>,
}

#[derive(Template)]
#[template(path = "cluster_client_created.html")]
struct CreatedPage {
    layout: Layout,
    id: String,
    name: String,
    client_name: String,
    client_id: String,
    client_secret: String,
    file_name: String,
    env_file: String,
}

#[derive(Debug, Default, Deserialize)]
pub struct CreateForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
    zeebe: Option<String>,
    operate: Option<String>,
    tasklist: Option<String>,
    optimize: Option<String>,
    secrets: Option<String>,
}

impl CarriesCsrf for CreateForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

impl CreateForm {
    /// The ticked permissions, in the API's order.
    fn permissions(&self) -> Vec<Permission> {
        [
            (Permission::Zeebe, &self.zeebe),
            (Permission::Operate, &self.operate),
            (Permission::Tasklist, &self.tasklist),
            (Permission::Optimize, &self.optimize),
            (Permission::Secrets, &self.secrets),
        ]
        .into_iter()
        .filter(|(_, ticked)| ticked.is_some())
        .map(|(p, _)| p)
        .collect()
    }
}

/// The page, with what was entered and an error when a create was refused.
async fn clients_page_for(
    state: &AppState,
    signed_in: &SignedIn,
    cluster_id: &str,
    status: StatusCode,
    form: Option<&CreateForm>,
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
    let clients = match state.store.zeebe_clients(org_id, cluster_id).await {
        Ok(clients) => clients,
        Err(e) => return internal_error(e),
    };
    let ticked = form.map(CreateForm::permissions);
    let body = ClientsPage {
        layout: Layout::signed_in(signed_in),
        csrf: signed_in.session.csrf_token.clone(),
        clients: clients
            .into_iter()
            .map(|c| ClientRow {
                name: c.name,
                client_id: c.client_id,
                permissions: permission_list(&c.permissions),
            })
            .collect(),
        may_manage: may(&signed_in.member.roles, Action::ManageClusterCredentials),
        error,
        client_name: form.map(|f| f.name.clone()).unwrap_or_default(),
        permissions: Permission::ALL
            .iter()
            .map(|p| PermissionChoice {
                value: p.as_str(),
                // A new form offers everything, as the API gives a client without a list.
                checked: ticked.as_ref().is_none_or(|t| t.contains(p)),
            })
            .collect(),
        id: cluster.id,
        name: cluster.name,
    };
    page(status, &body)
}

fn permission_list(permissions: &[Permission]) -> String {
    permissions
        .iter()
        .map(|p| p.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

pub async fn clients_page(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(cluster_id): Path<String>,
) -> Response {
    clients_page_for(&state, &signed_in, &cluster_id, StatusCode::OK, None, None).await
}

/// Single-quoted for a POSIX shell.
fn quoted(value: &str) -> String {
    format!("'{}'", value.replace('\'', r"'\''"))
}

/// The credentials as a file of environment variables, named as the hosted console's file:
/// the values come from the links the API returns for the cluster.
pub fn env_file(state: &AppState, created: &CreatedClient) -> String {
    let links = &created.links;
    let cluster = &created.cluster;
    let region = state
        .catalog
        .region(&cluster.region_id)
        .map(|r| r.short.as_str())
        .unwrap_or(cluster.region_id.as_str());
    let audience = state
        .tokens
        .zeebe_audiences()
        .first()
        .cloned()
        .unwrap_or_default();
    let permissions = &created.client.permissions;
    let scopes = permissions
        .iter()
        .map(|p| p.as_str())
        .collect::<Vec<_>>()
        .join(",");
    let mut vars: Vec<(&str, String)> = vec![("ZEEBE_ADDRESS", links.zeebe_address())];
    if let Some(rest) = created
        .endpoints
        .as_ref()
        .and_then(|e| e.zeebe_rest.clone())
    {
        vars.push(("ZEEBE_REST_ADDRESS", rest));
    }
    vars.extend([
        ("ZEEBE_CLIENT_ID", created.client.client_id.clone()),
        ("ZEEBE_CLIENT_SECRET", created.secret.clone()),
        ("ZEEBE_AUTHORIZATION_SERVER_URL", links.oauth.clone()),
        ("ZEEBE_TOKEN_AUDIENCE", audience),
        ("CAMUNDA_CLUSTER_ID", cluster.id.clone()),
        ("CAMUNDA_CLUSTER_REGION", region.to_string()),
        ("CAMUNDA_CREDENTIALS_SCOPES", scopes),
        ("CAMUNDA_OAUTH_URL", links.oauth.clone()),
    ]);
    for (permission, name, url) in [
        (
            Permission::Operate,
            "CAMUNDA_OPERATE_BASE_URL",
            &links.operate,
        ),
        (
            Permission::Tasklist,
            "CAMUNDA_TASKLIST_BASE_URL",
            &links.tasklist,
        ),
        (
            Permission::Optimize,
            "CAMUNDA_OPTIMIZE_BASE_URL",
            &links.optimize,
        ),
    ] {
        if permissions.contains(&permission) {
            vars.push((name, url.clone()));
        }
    }
    vars.iter()
        .map(|(name, value)| format!("export {name}={}\n", quoted(value)))
        .collect()
}

pub async fn create_client(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(cluster_id): Path<String>,
    form: Result<Form<CreateForm>, FormRejection>,
) -> Response {
    let form = match allowed(&signed_in, form, Action::ManageClusterCredentials) {
        Ok(form) => form,
        Err(refusal) => return *refusal,
    };
    let permissions = form.permissions();
    if permissions.is_empty() {
        let text = "Choose at least one permission.".to_string();
        return clients_page_for(
            &state,
            &signed_in,
            &cluster_id,
            StatusCode::BAD_REQUEST,
            Some(&form),
            Some(text),
        )
        .await;
    }
    let name = form.name.trim().to_string();
    let created = match clients::create(
        &state,
        &caller(&signed_in),
        &cluster_id,
        name,
        Some(permissions),
    )
    .await
    {
        Ok(created) => created,
        Err(e) if e.status == StatusCode::NOT_FOUND => return no_such_cluster(),
        Err(e) if e.status.is_client_error() => {
            return clients_page_for(
                &state,
                &signed_in,
                &cluster_id,
                e.status,
                Some(&form),
                Some(e.message),
            )
            .await
        }
        Err(e) => return internal_error(e.message),
    };
    let body = CreatedPage {
        layout: Layout::signed_in(&signed_in),
        env_file: env_file(&state, &created),
        file_name: format!(
            "credentials-{}.env",
            created.client.name.replace(
                |c: char| !c.is_ascii_alphanumeric() && c != '-' && c != '_',
                "_"
            )
        ),
        id: created.cluster.id,
        name: created.cluster.name,
        client_name: created.client.name,
        client_id: created.client.client_id,
        client_secret: created.secret,
    };
    not_stored(page(StatusCode::OK, &body))
}

pub async fn delete_client(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path((cluster_id, client_id)): Path<(String, String)>,
    form: Result<Form<CsrfForm>, FormRejection>,
) -> Response {
    if let Err(refusal) = allowed(&signed_in, form, Action::ManageClusterCredentials) {
        return *refusal;
    }
    match clients::delete(&state, &caller(&signed_in), &cluster_id, &client_id).await {
        Ok(()) => Redirect::to(&clients_path(&cluster_id)).into_response(),
        Err(e) if e.status == StatusCode::NOT_FOUND => {
            Redirect::to(&clients_path(&cluster_id)).into_response()
        }
        Err(e) => internal_error(e.message),
    }
}
