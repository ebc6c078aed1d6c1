//! A cluster's IP allowlist (`/console/clusters/{uuid}/ipallowlist`): the entries, and a
//! form that replaces them all, as `PUT /clusters/{uuid}/ipallowlist` does (through the
//! same `http::ip_allowlist::replace`). One entry a line: the address, CIDR range or
//! comma-separated list of them, then optionally a space and a description.

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
use super::{internal_error, not_allowed, page, Layout};
use crate::domain::permissions::{may, Action};
use crate::http::in_cluster::IpAllowlistEntryInput;
use crate::http::{ip_allowlist, AppState};

/// The address of a cluster's IP allowlist page.
pub fn allowlist_path(cluster_id: &str) -> String {
    format!("/console/clusters/{cluster_id}/ipallowlist")
}

#[derive(Template)]
#[template(path = "cluster_ip_allowlist.html")]
struct AllowlistPage {
    layout: Layout,
    csrf: String,
    id: String,
    name: String,
    entries: Vec<(String, String)>,
    text: String,
    may_manage: bool,
    error: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct AllowlistForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    entries: String,
}

impl CarriesCsrf for AllowlistForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

/// The lines of the form as entries: `10.0.0.0/24 office`, `10.0.0.1, 10.0.0.2 two hosts`.
fn parse(text: &str) -> Vec<IpAllowlistEntryInput> {
    text.lines()
        .map(|line| line.trim().replace(", ", ","))
        .filter(|line| !line.is_empty())
        .map(|line| match line.split_once(char::is_whitespace) {
            Some((ip, description)) => IpAllowlistEntryInput {
                ip: ip.to_string(),
                description: description.trim().to_string(),
            },
            None => IpAllowlistEntryInput {
                ip: line,
                description: String::new(),
            },
        })
        .collect()
}

async fn allowlist_page_for(
    state: &AppState,
    signed_in: &SignedIn,
    cluster_id: &str,
    status: StatusCode,
    text: Option<String>,
    error: Option<String>,
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
    let entries: Vec<(String, String)> = cluster
        .ip_allowlist
        .iter()
        .map(|e| (e.ip.clone(), e.description.clone()))
        .collect();
    let text = text.unwrap_or_else(|| {
        entries
            .iter()
            .map(|(ip, d)| format!("{ip} {d}").trim_end().to_string() + "\n")
            .collect()
    });
    let body = AllowlistPage {
        layout: Layout::signed_in(signed_in),
        csrf: signed_in.session.csrf_token.clone(),
        entries,
        text,
        may_manage: may(&signed_in.member.roles, Action::ManageClusterSettings),
        error,
        id: cluster.id,
        name: cluster.name,
    };
    page(status, &body)
}

pub async fn allowlist_page(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(cluster_id): Path<String>,
) -> Response {
    allowlist_page_for(&state, &signed_in, &cluster_id, StatusCode::OK, None, None).await
}

pub async fn replace_allowlist(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(cluster_id): Path<String>,
    form: Result<Form<AllowlistForm>, FormRejection>,
) -> Response {
    let form = match allowed(&signed_in, form, Action::ManageClusterSettings) {
        Ok(form) => form,
        Err(refusal) => return *refusal,
    };
    let entries = parse(&form.entries);
    match ip_allowlist::replace(
        &state,
        &caller(&signed_in),
        &cluster_id,
        "ipallowlist",
        entries,
    )
    .await
    {
        Ok(_) => Redirect::to(&allowlist_path(&cluster_id)).into_response(),
        Err(e) if e.status == StatusCode::NOT_FOUND => no_such_cluster(),
        Err(e) if e.status.is_client_error() => {
            allowlist_page_for(
                &state,
                &signed_in,
                &cluster_id,
                e.status,
                Some(form.entries),
                Some(e.message),
            )
            .await
        }
        Err(e) => internal_error(e.message),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_become_entries() {
        let entries = parse("10.0.0.0/24 office\n\n 10.0.0.1, 10.0.0.2  two hosts \n192.168.1.1\n");
        let pairs: Vec<(&str, &str)> = entries
            .iter()
            .map(|e| (e.ip.as_str(), e.description.as_str()))
            .collect();
        assert_eq!(
            pairs,
            [
                ("10.0.0.0/24", "office"),
                ("10.0.0.1,10.0.0.2", "two hosts"),
                ("192.168.1.1", ""),
            ]
        );
    }
}
