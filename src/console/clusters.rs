//! `GET /console`: the start page, the organization's clusters as a table, and
//! `GET /console/clusters/status.json`, the same rows as data for the script that keeps the
//! table (and a cluster's page) current without a reload. Both read the clusters with the
//! store call `GET /clusters` uses and name catalog ids the way it does.
//!
//! The script polls every 2 seconds; the answer carries an `ETag` (a hash of the body) and
//! `Cache-Control: private, no-cache`, so the browser revalidates and an unchanged list
//! costs a `304` without a body. The table's rows and the data are kept in the API's read
//! cache (per organization, under its rules: dropped by any write of this process, at most
//! the state TTL old), so a member reloading a list of 1,000 clusters costs a copy, not a
//! query and a rendering.

use std::collections::BTreeMap;
use std::hash::{DefaultHasher, Hash, Hasher};

use askama::Template;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::cluster::components;
use super::session::SignedIn;
use super::{internal_error, not_allowed, page, Layout};
use crate::domain::cluster::Cluster;
use crate::domain::member::roles_to_text;
use crate::domain::permissions::{may, Action};
use crate::http::error::{ApiError, ApiResult};
use crate::http::read_cache::cached_bytes;
use crate::http::AppState;

/// One row of the table, and one cluster of the live data.
#[derive(Serialize)]
struct ClusterRow {
    uuid: String,
    name: String,
    generation: String,
    region: String,
    plan: String,
    /// The overall status (`ready`) and each component's, keyed as the pages' cells are.
    status: BTreeMap<&'static str, &'static str>,
}

impl ClusterRow {
    fn ready(&self) -> &'static str {
        self.status.get("ready").copied().unwrap_or_default()
    }
}

impl ClustersPage<'_> {
    fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }
}

#[derive(Template)]
#[template(path = "clusters.html")]
struct ClustersPage<'a> {
    layout: Layout,
    org_id: String,
    roles: String,
    may_create: bool,
    /// The table's rows, rendered (and escaped) by [`ClusterRows`].
    rows: &'a str,
}

#[derive(Template)]
#[template(path = "cluster_rows.html")]
struct ClusterRows {
    clusters: Vec<ClusterRow>,
}

#[derive(Serialize)]
struct ClustersData {
    clusters: Vec<ClusterRow>,
}

fn row(state: &AppState, c: Cluster) -> ClusterRow {
    let catalog = &state.catalog;
    // An id the catalog no longer lists is shown as itself, as the API does.
    let or_id = |name: Option<&String>, id: &str| name.cloned().unwrap_or_else(|| id.to_string());
    let mut status: BTreeMap<_, _> = components(&c)
        .into_iter()
        .map(|cell| (cell.component, cell.status))
        .collect();
    status.insert("ready", c.status.as_str());
    ClusterRow {
        status,
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
        uuid: c.id,
    }
}

/// The organization's clusters as rows.
async fn rows(state: &AppState, org_id: &str) -> ApiResult<Vec<ClusterRow>> {
    let clusters = state.store.clusters(org_id).await?;
    Ok(clusters.into_iter().map(|c| row(state, c)).collect())
}

/// The table's rows as HTML, from the read cache.
async fn rows_html(state: &AppState, org_id: &str) -> ApiResult<Bytes> {
    cached_bytes(state, org_id, &format!("console-rows/{org_id}"), async {
        let clusters = rows(state, org_id).await?;
        let html = ClusterRows { clusters }
            .render()
            .map_err(ApiError::internal)?;
        Ok(Bytes::from(html))
    })
    .await
}

/// The live data as JSON, from the read cache.
/// Length of a quoted 64-bit hex ETag: `"0123456789abcdef"`.
const ETAG_LEN: usize = 18;

/// The live data as JSON with its ETag, from the read cache: hashed once per rebuild, not
/// on every poll. Kept as one value, the tag first (`ETAG_LEN` bytes), then the body.
async fn rows_json(state: &AppState, org_id: &str) -> ApiResult<(Bytes, Bytes)> {
    let tagged = cached_bytes(state, org_id, &format!("console-status/{org_id}"), async {
        let clusters = rows(state, org_id).await?;
        let body = serde_json::to_vec(&ClustersData { clusters }).map_err(ApiError::internal)?;
        let mut hasher = DefaultHasher::new();
        body.hash(&mut hasher);
        let mut tagged = format!("\"{:016x}\"", hasher.finish()).into_bytes();
        tagged.extend_from_slice(&body);
        Ok(Bytes::from(tagged))
    })
    .await?;
    Ok((tagged.slice(..ETAG_LEN), tagged.slice(ETAG_LEN..)))
}

pub async fn start_page(State(state): State<AppState>, signed_in: SignedIn) -> Response {
    let member = &signed_in.member;
    if !may(&member.roles, Action::ViewClusters) {
        return not_allowed(Action::ViewClusters.as_str());
    }
    let html = match rows_html(&state, &member.org_id).await {
        Ok(html) => html,
        Err(e) => return internal_error(e.message),
    };
    let body = ClustersPage {
        layout: Layout::signed_in(&signed_in),
        org_id: member.org_id.clone(),
        roles: roles_to_text(&member.roles).replace(',', ", "),
        may_create: may(&member.roles, Action::ManageClusters),
        rows: std::str::from_utf8(&html).unwrap_or_default(),
    };
    page(StatusCode::OK, &body)
}

/// The live data: `{"clusters":[{"uuid","name","generation","region","plan","status":{…}}]}`.
pub async fn status_json(
    State(state): State<AppState>,
    signed_in: SignedIn,
    request: HeaderMap,
) -> Response {
    if !may(&signed_in.member.roles, Action::ViewClusters) {
        return StatusCode::FORBIDDEN.into_response();
    }
    let (etag, body) = match rows_json(&state, &signed_in.member.org_id).await {
        Ok(tagged) => tagged,
        Err(e) => return internal_error(e.message),
    };
    let etag = std::str::from_utf8(&etag).unwrap_or_default();
    let unchanged = request
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|tag| tag.trim().trim_start_matches("W/") == etag);
    let mut response = if unchanged {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        (
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )],
            body,
        )
            .into_response()
    };
    let headers = response.headers_mut();
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-cache"),
    );
    if let Ok(value) = HeaderValue::from_str(etag) {
        headers.insert(header::ETAG, value);
    }
    response
}
