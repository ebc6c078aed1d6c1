//! `GET /console`: the start page, the organization's clusters as a table. It reads them
//! with the store call `GET /clusters` uses and names catalog ids the way it does.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;

use super::session::SignedIn;
use super::{internal_error, not_allowed, page, Layout};
use crate::domain::cluster::Cluster;
use crate::domain::member::roles_to_text;
use crate::domain::permissions::{may, Action};
use crate::http::AppState;

/// One row of the table.
struct ClusterRow {
    id: String,
    name: String,
    status: &'static str,
    generation: String,
    region: String,
    plan: String,
}

#[derive(Template)]
#[template(path = "clusters.html")]
struct ClustersPage {
    layout: Layout,
    org_id: String,
    roles: String,
    may_create: bool,
    clusters: Vec<ClusterRow>,
}

fn row(state: &AppState, c: Cluster) -> ClusterRow {
    let catalog = &state.catalog;
    // An id the catalog no longer lists is shown as itself, as the API does.
    let or_id = |name: Option<&String>, id: &str| name.cloned().unwrap_or_else(|| id.to_string());
    ClusterRow {
        status: c.status.as_str(),
        generation: or_id(
            catalog.generation(&c.generation_id).map(|g| &g.name),
            &c.generation_id,
        ),
        region: or_id(catalog.region(&c.region_id).map(|r| &r.name), &c.region_id),
        plan: or_id(
            catalog.plan_type(&c.plan_type_id).map(|p| &p.name),
            &c.plan_type_id,
        ),
        name: c.name,
        id: c.id,
    }
}

pub async fn start_page(State(state): State<AppState>, signed_in: SignedIn) -> Response {
    let member = &signed_in.member;
    if !may(&member.roles, Action::ViewClusters) {
        return not_allowed(Action::ViewClusters.as_str());
    }
    let clusters = match state.store.clusters(&member.org_id).await {
        Ok(clusters) => clusters,
        Err(e) => return internal_error(e),
    };
    let body = ClustersPage {
        layout: Layout::signed_in(&signed_in),
        org_id: member.org_id.clone(),
        roles: roles_to_text(&member.roles).replace(',', ", "),
        may_create: may(&member.roles, Action::ManageClusters),
        clusters: clusters.into_iter().map(|c| row(&state, c)).collect(),
    };
    page(StatusCode::OK, &body)
}
