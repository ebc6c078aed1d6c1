//! The organization's Console API clients (`/console/api-clients`): the list, the create
//! form (name and scopes), rotating a secret and deleting a client, each change confirmed
//! on a page of its own first (they break whatever uses the client).
//!
//! The changes call `operator::api_clients::create`, `rotate` and `delete`, the functions
//! of `consoled api-clients`, with the member's email as the actor and the member's
//! organization as the only one they may touch, so the rules and the activity records are
//! the CLI's. Like the CLI, the console may rotate or delete any client, the bootstrap
//! client too (its page says that the next start restores it).
//!
//! The secret is shown once, on the page that answers the POST (never a redirect, so it is
//! in no URL) with `Cache-Control: no-store`, beside the values a client needs and a file of
//! environment variables the script offers as a download.

use super::path::Path;
use askama::Template;
use axum::extract::rejection::FormRejection;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;

use super::session::{allowed, refused, CsrfForm, SignedIn};
use super::API_CLIENTS_PATH;
use super::{forbidden_form, internal_error, message, not_allowed, not_stored, page, Layout};
use crate::domain::api_client::ApiClient;
use crate::domain::permissions::{may, Action};
use crate::domain::scope::{Scope, ScopeSet};
use crate::domain::Timestamp;
use crate::http::AppState;
use crate::operator::{api_clients, NewCredentials};

struct ClientRow {
    name: String,
    client_id: String,
    scopes: String,
    created: String,
    bootstrap: bool,
}

struct ScopeChoice {
    value: &'static str,
    checked: bool,
}

/// The scopes of one resource (`clusters`, `members`, ...), a fieldset of the form.
struct ScopeGroup {
    resource: &'static str,
    scopes: Vec<ScopeChoice>,
}

#[derive(Template)]
#[template(path = "api_clients.html")]
struct ClientsPage {
    layout: Layout,
    csrf: String,
    clients: Vec<ClientRow>,
    error: Option<String>,
    client_name: String,
    groups: Vec<ScopeGroup>,
}

/// The page that shows a secret once: after a create or a rotation.
#[derive(Template)]
#[template(path = "api_client_secret.html")]
struct SecretPage {
    layout: Layout,
    heading: String,
    client_id: String,
    client_secret: String,
    scopes: String,
    token_url: String,
    audience: String,
    api_url: String,
    file_name: String,
    env_file: String,
}

/// "Rotate the secret of X?" or "Delete X?", with the form that does it.
#[derive(Template)]
#[template(path = "api_client_confirm.html")]
struct ConfirmPage {
    layout: Layout,
    csrf: String,
    heading: String,
    text: String,
    bootstrap: bool,
    action: String,
    button: String,
}

/// The create form: `csrf`, `name`, and one `scope` field per ticked box (repeated keys,
/// so the fields are read as pairs).
#[derive(Debug, Default)]
struct CreateForm {
    csrf: String,
    name: String,
    scopes: ScopeSet,
}

impl CreateForm {
    fn from_pairs(pairs: Vec<(String, String)>) -> CreateForm {
        let mut form = CreateForm::default();
        let mut scopes = Vec::new();
        for (key, value) in pairs {
            match key.as_str() {
                "csrf" => form.csrf = value,
                "name" => form.name = value,
                // An unknown value is no scope; the form offers only known ones.
                "scope" => scopes.extend(Scope::parse(&value)),
                _ => {}
            }
        }
        form.scopes = scopes.into_iter().collect();
        form
    }
}

fn rotate_path(client_id: &str) -> String {
    format!("{API_CLIENTS_PATH}/{client_id}/rotate")
}

fn delete_path(client_id: &str) -> String {
    format!("{API_CLIENTS_PATH}/{client_id}/delete")
}

fn no_such_client() -> Response {
    message(
        StatusCode::NOT_FOUND,
        "No such API client",
        "This organization has no Console API client with that id; it may have been deleted.",
    )
}

fn is_bootstrap(state: &AppState, client_id: &str) -> bool {
    state.settings.bootstrap_client_id.as_deref() == Some(client_id)
}

/// The scopes grouped by the resource they name (`get:clusters` → `clusters`), in the
/// vocabulary's order.
fn scope_groups(ticked: ScopeSet) -> Vec<ScopeGroup> {
    let mut groups: Vec<ScopeGroup> = Vec::new();
    for scope in Scope::ALL {
        let value = scope.as_str();
        let resource = value.split_once(':').map_or(value, |(_, r)| r);
        let choice = ScopeChoice {
            value,
            checked: ticked.contains(*scope),
        };
        match groups.iter_mut().find(|g| g.resource == resource) {
            Some(group) => group.scopes.push(choice),
            None => groups.push(ScopeGroup {
                resource,
                scopes: vec![choice],
            }),
        }
    }
    groups
}

/// The scopes of a row: "every scope" for a client that holds them all (the bootstrap and
/// admin clients), which would otherwise be a column of nineteen names.
fn scope_summary(scopes: ScopeSet) -> String {
    if scopes == ScopeSet::all() {
        return "every scope".to_string();
    }
    scopes
        .iter()
        .map(Scope::as_str)
        .collect::<Vec<_>>()
        .join(" ")
}

/// The list with the create form (holding what was entered, and why it was refused).
async fn clients_page_for(
    state: &AppState,
    signed_in: &SignedIn,
    status: StatusCode,
    form: Option<&CreateForm>,
    error: Option<String>,
) -> Response {
    if !may(&signed_in.member.roles, Action::ManageApiClients) {
        return not_allowed(Action::ManageApiClients.as_str());
    }
    let org_id = signed_in.member.org_id.as_str();
    let clients = match api_clients::list(state.store.as_ref(), Some(org_id)).await {
        Ok(clients) => clients,
        Err(e) => return internal_error(e),
    };
    let body = ClientsPage {
        layout: Layout::signed_in(signed_in),
        csrf: signed_in.session.csrf_token.clone(),
        clients: clients
            .into_iter()
            .map(|c| ClientRow {
                bootstrap: is_bootstrap(state, &c.client_id),
                scopes: scope_summary(c.scopes),
                created: c.created_at.to_rfc3339(),
                name: c.name,
                client_id: c.client_id,
            })
            .collect(),
        error,
        client_name: form.map(|f| f.name.clone()).unwrap_or_default(),
        groups: scope_groups(form.map(|f| f.scopes).unwrap_or_default()),
    };
    page(status, &body)
}

pub async fn api_clients_page(State(state): State<AppState>, signed_in: SignedIn) -> Response {
    clients_page_for(&state, &signed_in, StatusCode::OK, None, None).await
}

/// Single-quoted for a POSIX shell.
fn quoted(value: &str) -> String {
    format!("'{}'", value.replace('\'', r"'\''"))
}

/// The page with a secret shown once, and the file of environment variables with the names
/// the hosted console's file and the Camunda SDKs use.
fn secret_page(
    state: &AppState,
    signed_in: &SignedIn,
    heading: String,
    name: &str,
    credentials: NewCredentials,
) -> Response {
    let audience = state
        .tokens
        .console_audiences()
        .first()
        .cloned()
        .unwrap_or_default();
    let token_url = state.settings.token_url.clone();
    let api_url = state.settings.public_url.clone();
    let env_file = [
        ("CAMUNDA_CONSOLE_CLIENT_ID", &credentials.client_id),
        ("CAMUNDA_CONSOLE_CLIENT_SECRET", &credentials.client_secret),
        ("CAMUNDA_CONSOLE_BASE_URL", &api_url),
        ("CAMUNDA_OAUTH_URL", &token_url),
        ("CAMUNDA_CONSOLE_OAUTH_AUDIENCE", &audience),
    ]
    .iter()
    .map(|(var, value)| format!("export {var}={}\n", quoted(value)))
    .collect();
    let body = SecretPage {
        layout: Layout::signed_in(signed_in),
        heading,
        file_name: format!(
            "console-api-{}.env",
            name.replace(
                |c: char| !c.is_ascii_alphanumeric() && c != '-' && c != '_',
                "_"
            )
        ),
        scopes: credentials.scopes.join(" "),
        client_id: credentials.client_id,
        client_secret: credentials.client_secret,
        token_url,
        audience,
        api_url,
        env_file,
    };
    not_stored(page(StatusCode::OK, &body))
}

pub async fn create_api_client(
    State(state): State<AppState>,
    signed_in: SignedIn,
    form: Result<Form<Vec<(String, String)>>, FormRejection>,
) -> Response {
    let Ok(Form(pairs)) = form else {
        return forbidden_form();
    };
    let form = CreateForm::from_pairs(pairs);
    if let Some(refusal) = refused(&signed_in, &form.csrf, Action::ManageApiClients) {
        return refusal;
    }
    let refusal = match api_clients::checked_name(&form.name) {
        Err(e) => Some(e.to_string()),
        Ok(_) if form.scopes == ScopeSet::default() => Some("Choose at least one scope.".into()),
        Ok(_) => None,
    };
    if let Some(text) = refusal {
        let status = StatusCode::BAD_REQUEST;
        return clients_page_for(&state, &signed_in, status, Some(&form), Some(text)).await;
    }
    let member = &signed_in.member;
    let created = api_clients::create(
        state.store.as_ref(),
        &state.keyring,
        &form.name,
        form.scopes,
        Some(&member.org_id),
        &member.email,
        Timestamp::now(),
    )
    .await;
    match created {
        Ok(credentials) => {
            let name = form.name.trim();
            let heading = format!("Console API client {name} created");
            secret_page(&state, &signed_in, heading, name, credentials)
        }
        Err(e) => internal_error(e),
    }
}

/// The member's organization's client, or the response that ends the request: 403 for a
/// role that may not manage clients, 404 for an unknown client (or another organization's).
async fn own_client(
    state: &AppState,
    signed_in: &SignedIn,
    client_id: &str,
) -> Result<ApiClient, Response> {
    if !may(&signed_in.member.roles, Action::ManageApiClients) {
        return Err(not_allowed(Action::ManageApiClients.as_str()));
    }
    match state.store.api_client(client_id).await {
        Ok(Some(client)) if client.org_id == signed_in.member.org_id => Ok(client),
        Ok(_) => Err(no_such_client()),
        Err(e) => Err(internal_error(e)),
    }
}

fn confirm_page(
    state: &AppState,
    signed_in: &SignedIn,
    client: &ApiClient,
    rotate: bool,
) -> Response {
    let name = &client.name;
    let (heading, text, action, button) = if rotate {
        (
            format!("Rotate the secret of {name}?"),
            "A new secret is made and shown once. The old secret stops working, and so do \
             the tokens issued with it: whatever uses this client needs the new secret."
                .to_string(),
            rotate_path(&client.client_id),
            "Rotate the secret".to_string(),
        )
    } else {
        (
            format!("Delete the API client {name}?"),
            "The client and its tokens stop working at once. This cannot be undone.".to_string(),
            delete_path(&client.client_id),
            "Delete the client".to_string(),
        )
    };
    let body = ConfirmPage {
        layout: Layout::signed_in(signed_in),
        csrf: signed_in.session.csrf_token.clone(),
        bootstrap: is_bootstrap(state, &client.client_id),
        heading,
        text,
        action,
        button,
    };
    page(StatusCode::OK, &body)
}

pub async fn confirm_rotate(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(client_id): Path<String>,
) -> Response {
    match own_client(&state, &signed_in, &client_id).await {
        Ok(client) => confirm_page(&state, &signed_in, &client, true),
        Err(response) => response,
    }
}

pub async fn confirm_delete(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(client_id): Path<String>,
) -> Response {
    match own_client(&state, &signed_in, &client_id).await {
        Ok(client) => confirm_page(&state, &signed_in, &client, false),
        Err(response) => response,
    }
}

/// A rotation or deletion that failed: 404 when the client was deleted meanwhile (another
/// tab, the CLI), else a server error.
async fn change_failed(state: &AppState, client_id: &str, error: anyhow::Error) -> Response {
    match state.store.api_client(client_id).await {
        Ok(None) => no_such_client(),
        _ => internal_error(error),
    }
}

/// After a rotation or deletion: this process forgets the client's state at once, and the
/// answer waits as long as other processes may rely on theirs (as the CLI does), so when
/// the page says the old secret is dead it is dead on every replica.
async fn revoked_everywhere(state: &AppState, client_id: &str) {
    state.tokens.forget_client(client_id);
    tokio::time::sleep(state.tokens.client_state_ttl()).await;
}

/// The checks of a rotate or delete form, in order: CSRF token, role, the client.
async fn checked_client(
    state: &AppState,
    signed_in: &SignedIn,
    client_id: &str,
    form: Result<Form<CsrfForm>, FormRejection>,
) -> Result<ApiClient, Response> {
    allowed(signed_in, form, Action::ManageApiClients).map_err(|refusal| *refusal)?;
    own_client(state, signed_in, client_id).await
}

pub async fn rotate_secret(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(client_id): Path<String>,
    form: Result<Form<CsrfForm>, FormRejection>,
) -> Response {
    let client = match checked_client(&state, &signed_in, &client_id, form).await {
        Ok(client) => client,
        Err(response) => return response,
    };
    let member = &signed_in.member;
    let rotated = api_clients::rotate(
        state.store.as_ref(),
        &state.keyring,
        &client.client_id,
        Some(&member.org_id),
        &member.email,
        Timestamp::now(),
    )
    .await;
    match rotated {
        Ok(credentials) => {
            revoked_everywhere(&state, &client.client_id).await;
            let heading = format!("New secret for {}", client.name);
            secret_page(&state, &signed_in, heading, &client.name, credentials)
        }
        Err(e) => change_failed(&state, &client.client_id, e).await,
    }
}

pub async fn delete_api_client(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(client_id): Path<String>,
    form: Result<Form<CsrfForm>, FormRejection>,
) -> Response {
    let client = match checked_client(&state, &signed_in, &client_id, form).await {
        Ok(client) => client,
        Err(response) => return response,
    };
    let member = &signed_in.member;
    let deleted = api_clients::delete(
        state.store.as_ref(),
        &client.client_id,
        Some(&member.org_id),
        &member.email,
        Timestamp::now(),
    )
    .await;
    match deleted {
        Ok(_) => {
            revoked_everywhere(&state, &client.client_id).await;
            Redirect::to(API_CLIENTS_PATH).into_response()
        }
        Err(e) => change_failed(&state, &client.client_id, e).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn the_create_form_reads_repeated_scopes_and_ignores_unknown_ones() {
        let form = CreateForm::from_pairs(pairs(&[
            ("csrf", "t"),
            ("name", "ci"),
            ("scope", "get:clusters"),
            ("scope", "nope"),
            ("scope", "get:activity"),
        ]));
        assert_eq!((form.csrf.as_str(), form.name.as_str()), ("t", "ci"));
        assert_eq!(form.scopes.to_scope_string(), "get:clusters get:activity");
        assert_eq!(
            CreateForm::from_pairs(Vec::new()).scopes,
            ScopeSet::default()
        );
    }

    #[test]
    fn every_scope_is_offered_once_grouped_by_its_resource() {
        let ticked = ScopeSet::parse("create:clusters").unwrap();
        let groups = scope_groups(ticked);
        let offered: Vec<&str> = groups
            .iter()
            .flat_map(|g| g.scopes.iter().map(|s| s.value))
            .collect();
        assert_eq!(offered.len(), Scope::ALL.len());
        assert_eq!(groups[0].resource, "clusters");
        for group in &groups {
            for scope in &group.scopes {
                assert!(scope.value.ends_with(&format!(":{}", group.resource)));
                assert_eq!(scope.checked, scope.value == "create:clusters");
            }
        }
    }
}
