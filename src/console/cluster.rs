//! The cluster pages: the create form (`/console/clusters/new`, `POST /console/clusters`),
//! a cluster's page (`/console/clusters/{uuid}`) with its actions (rename, upgrade, wake,
//! suspend, wake, delete).
//!
//! Every change goes through the functions the API's handlers use (`http::clusters::create`
//! and `delete`, `http::lifecycle::upgrade`, `suspend` and `wake`, `http::in_cluster::update_settings`),
//! acting as [`Caller::console_member`], so the rules and the activity records (with the
//! member's email as actor) are the API's. Each form is CSRF-checked, then the role matrix
//! decides; a refused form writes nothing.

use super::path::Path;
use askama::Template;
use axum::extract::rejection::FormRejection;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;

use super::session::{allowed, CarriesCsrf, SignedIn};
use super::{internal_error, message, not_allowed, page, Layout, HOME_PATH};
use crate::domain::cluster::{Cluster, ClusterDraft, ComponentStatus, StageLabel};
use crate::domain::cluster_update::ClusterPatch;
use crate::domain::permissions::{may, Action};
use crate::domain::Timestamp;
use crate::http::clusters::{cluster_links, driver_endpoints};
use crate::http::error::ApiError;
use crate::http::extract::Caller;
use crate::http::{clusters, in_cluster, lifecycle, AppState};

/// The address of a cluster's page.
pub fn cluster_path(id: &str) -> String {
    format!("/console/clusters/{id}")
}

pub(super) fn caller(signed_in: &SignedIn) -> Caller {
    Caller::console_member(&signed_in.member.org_id, &signed_in.member.email)
}

pub(super) fn no_such_cluster() -> Response {
    message(
        StatusCode::NOT_FOUND,
        "No such cluster",
        "This organization has no cluster with that id; it may have been deleted.",
    )
}

/// A value of a `<select>`.
struct Choice {
    value: String,
    label: String,
    selected: bool,
}

/// A group of choices (the generations of one channel).
struct ChoiceGroup {
    label: String,
    choices: Vec<Choice>,
}

#[derive(Debug, Default, Deserialize)]
pub struct CreateForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    channel: String,
    #[serde(default)]
    generation: String,
    #[serde(default)]
    region: String,
    #[serde(default)]
    plan: String,
    #[serde(default)]
    stage_label: String,
}

impl CarriesCsrf for CreateForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

#[derive(Template)]
#[template(path = "cluster_new.html")]
struct NewClusterPage {
    layout: Layout,
    csrf: String,
    error: Option<String>,
    name: String,
    channels: Vec<Choice>,
    generations: Vec<ChoiceGroup>,
    regions: Vec<Choice>,
    plans: Vec<Choice>,
    stage_labels: Vec<Choice>,
}

fn choice(value: &str, label: &str, chosen: &str) -> Choice {
    Choice {
        value: value.to_string(),
        label: label.to_string(),
        selected: value == chosen,
    }
}

/// The form, with the choices of the catalog; `form` holds what was entered before.
fn new_cluster_form(
    state: &AppState,
    signed_in: &SignedIn,
    form: &CreateForm,
    error: Option<String>,
) -> NewClusterPage {
    let catalog = &state.catalog;
    let channels = &catalog.channels;
    let default_generation = channels
        .first()
        .map(|c| c.default_generation.clone())
        .unwrap_or_default();
    let chosen_generation = if form.generation.is_empty() {
        default_generation.as_str()
    } else {
        form.generation.as_str()
    };
    NewClusterPage {
        layout: Layout::signed_in(signed_in),
        csrf: signed_in.session.csrf_token.clone(),
        error,
        name: form.name.clone(),
        channels: channels
            .iter()
            .map(|c| choice(&c.id, &c.name, &form.channel))
            .collect(),
        generations: channels
            .iter()
            .map(|c| ChoiceGroup {
                label: c.name.clone(),
                choices: c
                    .generations
                    .iter()
                    .map(|g| choice(&g.id, &g.name, chosen_generation))
                    .collect(),
            })
            .collect(),
        regions: catalog
            .regions
            .iter()
            .map(|r| choice(&r.id, &r.name, &form.region))
            .collect(),
        plans: catalog
            .plan_types
            .iter()
            .map(|p| choice(&p.id, &p.name, &form.plan))
            .collect(),
        stage_labels: StageLabel::ALL
            .iter()
            .map(|s| choice(s.as_str(), s.as_str(), &form.stage_label))
            .collect(),
    }
}

pub async fn new_cluster_page(State(state): State<AppState>, signed_in: SignedIn) -> Response {
    if !may(&signed_in.member.roles, Action::ManageClusters) {
        return not_allowed(Action::ManageClusters.as_str());
    }
    let form = CreateForm::default();
    page(
        StatusCode::OK,
        &new_cluster_form(&state, &signed_in, &form, None),
    )
}

pub async fn create_cluster(
    State(state): State<AppState>,
    signed_in: SignedIn,
    form: Result<Form<CreateForm>, FormRejection>,
) -> Response {
    let form = match allowed(&signed_in, form, Action::ManageClusters) {
        Ok(form) => form,
        Err(refusal) => return *refusal,
    };
    let again = |error: String| {
        page(
            StatusCode::BAD_REQUEST,
            &new_cluster_form(&state, &signed_in, &form, Some(error)),
        )
    };
    let stage_label = match form.stage_label.as_str() {
        "" => None,
        text => match StageLabel::parse(text) {
            Some(label) => Some(label),
            None => return again(format!("{text:?} is not a stage label.")),
        },
    };
    let draft = ClusterDraft {
        name: form.name.trim().to_string(),
        channel_id: form.channel.clone(),
        generation_id: form.generation.clone(),
        region_id: form.region.clone(),
        plan_type_id: form.plan.clone(),
        backup_region_id: None,
        auto_update: None,
        stage_label,
        hardware_packages: None,
    };
    match clusters::create(&state, &caller(&signed_in), draft).await {
        Ok(cluster) => Redirect::to(&cluster_path(&cluster.id)).into_response(),
        Err(e) if e.status.is_client_error() => again(e.message),
        Err(e) => internal_error(e.message),
    }
}

/// A status as shown: its text and the class that colours it.
pub(super) struct StatusCell {
    pub component: &'static str,
    label: &'static str,
    pub status: &'static str,
}

#[derive(Template)]
#[template(path = "cluster.html")]
struct ClusterPage {
    layout: Layout,
    csrf: String,
    id: String,
    name: String,
    status: &'static str,
    components: Vec<StatusCell>,
    channel: String,
    generation: String,
    region: String,
    region_id: String,
    plan: String,
    stage_label: Option<&'static str>,
    links: Vec<(&'static str, String)>,
    may_manage: bool,
    upgrade_to: Option<String>,
    suspended: bool,
    healthy: bool,
    /// An action's message, with the action it belongs to ("rename", "upgrade", "delete").
    error: Option<(&'static str, String)>,
}

impl ClusterPage {
    fn error_for(&self, action: &str) -> Option<&str> {
        match &self.error {
            Some((a, text)) if *a == action => Some(text),
            _ => None,
        }
    }
}

pub(super) fn components(c: &Cluster) -> Vec<StatusCell> {
    let cell = |component, label, status: ComponentStatus| StatusCell {
        component,
        label,
        status: status.as_str(),
    };
    vec![
        cell("zeebe", "Zeebe", c.components.zeebe),
        cell("operate", "Operate", c.components.operate),
        cell("tasklist", "Tasklist", c.components.tasklist),
        cell("optimize", "Optimize", c.components.optimize),
        cell("connectors", "Connectors", c.components.connectors),
    ]
}

/// The cluster's page, with an action's error when one was refused.
async fn cluster_page_for(
    state: &AppState,
    signed_in: &SignedIn,
    cluster_id: &str,
    status: StatusCode,
    error: Option<(&'static str, String)>,
) -> Response {
    if !may(&signed_in.member.roles, Action::ViewClusters) {
        return not_allowed(Action::ViewClusters.as_str());
    }
    let cluster = match state
        .store
        .cluster(&signed_in.member.org_id, cluster_id)
        .await
    {
        Ok(Some(cluster)) => cluster,
        Ok(None) => return no_such_cluster(),
        Err(e) => return internal_error(e),
    };
    let endpoints = match driver_endpoints(state, &cluster).await {
        Ok(endpoints) => endpoints,
        Err(e) => return internal_error(e.message),
    };
    let links = cluster_links(state, &cluster, endpoints.as_ref());
    let catalog = &state.catalog;
    let or_id = |name: Option<&String>, id: &str| name.cloned().unwrap_or_else(|| id.to_string());
    let upgrade_to = cluster
        .upgrade(catalog, Timestamp::now())
        .ok()
        .map(|u| u.new_generation.name);
    let body = ClusterPage {
        layout: Layout::signed_in(signed_in),
        csrf: signed_in.session.csrf_token.clone(),
        status: cluster.status.as_str(),
        components: components(&cluster),
        channel: or_id(
            catalog.channel(&cluster.channel_id).map(|c| &c.name),
            &cluster.channel_id,
        ),
        generation: or_id(
            catalog.generation(&cluster.generation_id).map(|g| &g.name),
            &cluster.generation_id,
        ),
        region: or_id(
            catalog.region(&cluster.region_id).map(|r| &r.name),
            &cluster.region_id,
        ),
        region_id: cluster.region_id.clone(),
        plan: or_id(
            catalog.plan_type(&cluster.plan_type_id).map(|p| &p.name),
            &cluster.plan_type_id,
        ),
        stage_label: cluster.stage_label.map(|s| s.as_str()),
        links: vec![
            ("Zeebe", links.zeebe),
            ("Operate", links.operate),
            ("Tasklist", links.tasklist),
            ("Optimize", links.optimize),
            ("Connectors", links.connectors),
            ("Identity", links.identity),
            ("OAuth token URL", links.oauth),
        ],
        may_manage: may(&signed_in.member.roles, Action::ManageClusters),
        upgrade_to,
        suspended: cluster.status == ComponentStatus::Suspended,
        healthy: cluster.status == ComponentStatus::Healthy,
        error,
        id: cluster.id,
        name: cluster.name,
    };
    page(status, &body)
}

pub async fn cluster_page(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(cluster_id): Path<String>,
) -> Response {
    cluster_page_for(&state, &signed_in, &cluster_id, StatusCode::OK, None).await
}

#[derive(Debug, Default, Deserialize)]
pub struct ActionForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
}

impl CarriesCsrf for ActionForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

/// What an action's result becomes: back to the cluster's page (303) when it worked, the
/// page with the message when the rules refused it.
async fn after(
    state: &AppState,
    signed_in: &SignedIn,
    cluster_id: &str,
    action: &'static str,
    result: Result<(), ApiError>,
) -> Response {
    match result {
        Ok(()) => Redirect::to(&cluster_path(cluster_id)).into_response(),
        Err(e) if e.status == StatusCode::NOT_FOUND => no_such_cluster(),
        Err(e) if e.status.is_client_error() => {
            cluster_page_for(
                state,
                signed_in,
                cluster_id,
                e.status,
                Some((action, e.message)),
            )
            .await
        }
        Err(e) => internal_error(e.message),
    }
}

pub async fn rename_cluster(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(cluster_id): Path<String>,
    form: Result<Form<ActionForm>, FormRejection>,
) -> Response {
    let form = match allowed(&signed_in, form, Action::ManageClusters) {
        Ok(form) => form,
        Err(refusal) => return *refusal,
    };
    let patch = ClusterPatch {
        name: Some(form.name.trim().to_string()),
        description: None,
        stage_label: None,
        hardware_packages: None,
    };
    let result = in_cluster::update_settings(&state, &caller(&signed_in), &cluster_id, |c| {
        c.apply_patch(&patch)
    })
    .await;
    after(&state, &signed_in, &cluster_id, "rename", result).await
}

pub async fn upgrade_cluster(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(cluster_id): Path<String>,
    form: Result<Form<ActionForm>, FormRejection>,
) -> Response {
    if let Err(refusal) = allowed(&signed_in, form, Action::ManageClusters) {
        return *refusal;
    }
    let result = lifecycle::upgrade(&state, &caller(&signed_in), &cluster_id)
        .await
        .map(|_| ());
    after(&state, &signed_in, &cluster_id, "upgrade", result).await
}

pub async fn suspend_cluster(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(cluster_id): Path<String>,
    form: Result<Form<ActionForm>, FormRejection>,
) -> Response {
    if let Err(refusal) = allowed(&signed_in, form, Action::ManageClusters) {
        return *refusal;
    }
    let result = lifecycle::suspend(&state, &caller(&signed_in), &cluster_id).await;
    after(&state, &signed_in, &cluster_id, "suspend", result).await
}

pub async fn wake_cluster(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(cluster_id): Path<String>,
    form: Result<Form<ActionForm>, FormRejection>,
) -> Response {
    if let Err(refusal) = allowed(&signed_in, form, Action::ManageClusters) {
        return *refusal;
    }
    let result = lifecycle::wake(&state, &caller(&signed_in), &cluster_id).await;
    after(&state, &signed_in, &cluster_id, "wake", result).await
}

/// Deletes the cluster when the form names it exactly; else the page again, nothing deleted.
pub async fn delete_cluster(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(cluster_id): Path<String>,
    form: Result<Form<ActionForm>, FormRejection>,
) -> Response {
    let form = match allowed(&signed_in, form, Action::ManageClusters) {
        Ok(form) => form,
        Err(refusal) => return *refusal,
    };
    let cluster = match state
        .store
        .cluster(&signed_in.member.org_id, &cluster_id)
        .await
    {
        Ok(Some(cluster)) => cluster,
        Ok(None) => return no_such_cluster(),
        Err(e) => return internal_error(e),
    };
    if form.name != cluster.name {
        let text = "The name you typed is not the cluster's name; nothing was deleted.";
        return cluster_page_for(
            &state,
            &signed_in,
            &cluster_id,
            StatusCode::BAD_REQUEST,
            Some(("delete", text.to_string())),
        )
        .await;
    }
    match clusters::delete(&state, &caller(&signed_in), &cluster_id).await {
        Ok(()) => Redirect::to(HOME_PATH).into_response(),
        Err(e) if e.status == StatusCode::NOT_FOUND => no_such_cluster(),
        Err(e) => internal_error(e.message),
    }
}
