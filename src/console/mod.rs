//! The web console: server-rendered pages under `/console`, served by the same router as
//! the API and a thin client of the same domain and storage layers (no second copy of a
//! rule). One file per page or group of pages; what they share is here:
//!
//! - [`page`]: renders a template into a response; every console response carries the
//!   strict [`CONTENT_SECURITY_POLICY`] (no inline script or style: the one stylesheet is
//!   an asset, `assets.rs`).
//! - `session.rs`: the session cookie, the [`session::SignedIn`] extractor (unauthenticated
//!   requests to pages are sent to the login page) and the CSRF checks of forms.
//! - `login.rs` (sign in and out), `links.rs` (one-time links that set a password),
//!   `clusters.rs` (the start page), `cluster.rs` (creating a cluster, a cluster's page and
//!   its actions, the live status polled by `assets/console.js`), `cluster_clients.rs` (a
//!   cluster's API clients and their credentials file), `cluster_secrets.rs` (its connector
//!   secrets), `cluster_ip_allowlist.rs` (its IP allowlist),
//!   `cluster_backups.rs` (its backups), `cluster_monitoring.rs` (its monitoring: the
//!   metrics endpoint and its clients).
//! - The organization's pages: `members.rs` (members, invites with their one-time links,
//!   roles, removal), `api_clients.rs` (the organization's Console API clients: create,
//!   rotate, delete) and `activity.rs` (the activity trail with filters, and its CSV).
//!
//! Permissions come from the role matrix (`domain::permissions`), checked on the server.

mod activity;
mod api_clients;
mod assets;
mod cluster;
mod cluster_backups;
mod cluster_clients;
mod cluster_ip_allowlist;
mod cluster_monitoring;
mod cluster_secrets;
mod clusters;
mod links;
mod login;
mod members;
mod path;
mod session;
mod sso;

use std::sync::Arc;

use askama::Template;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use tokio::sync::Semaphore;
use tower_http::compression::{CompressionLayer, CompressionLevel};
use tower_http::set_header::SetResponseHeaderLayer;

use crate::domain::account;
use crate::domain::permissions::{may, Action};
use crate::http::AppState;

/// Only this server's own files; no inline script or style, no framing, forms only here.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; \
     base-uri 'none'";

/// [`CONTENT_SECURITY_POLICY`], and with single sign-on the provider's origin as a form
/// target too: signing out posts a form here that redirects to the provider's logout, and
/// browsers hold a form's redirects to `form-action` as well.
fn content_security_policy(state: &AppState) -> HeaderValue {
    let provider = state
        .sso
        .as_ref()
        .and_then(|sso| url::Url::parse(sso.issuer()).ok())
        .map(|issuer| issuer.origin().ascii_serialization())
        .filter(|origin| origin != "null");
    match provider {
        Some(origin) => HeaderValue::from_str(&CONTENT_SECURITY_POLICY.replace(
            "form-action 'self'",
            &format!("form-action 'self' {origin}"),
        ))
        .unwrap_or(HeaderValue::from_static(CONTENT_SECURITY_POLICY)),
        None => HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    }
}

/// Where people sign in; unauthenticated requests to pages are sent here.
pub const LOGIN_PATH: &str = "/console/login";
/// The start page after sign-in.
pub const HOME_PATH: &str = "/console";
/// The organization's members.
pub const MEMBERS_PATH: &str = "/console/members";
/// The organization's Console API clients.
pub const API_CLIENTS_PATH: &str = "/console/api-clients";
/// The organization's activity trail.
pub const ACTIVITY_PATH: &str = "/console/activity";

/// The address of a one-time link that sets a password.
pub fn link_url(public_url: &str, token: &str) -> String {
    format!("{}/console/links/{token}", public_url.trim_end_matches('/'))
}

/// The console's routes, under `/console`, and `GET /` sending browsers there.
pub fn routes(state: AppState) -> Router<AppState> {
    let policy = content_security_policy(&state);
    Router::new()
        .route("/", get(|| async { Redirect::to(HOME_PATH) }))
        .route(HOME_PATH, get(clusters::start_page))
        .route("/console/clusters", post(cluster::create_cluster))
        .route("/console/clusters/new", get(cluster::new_cluster_page))
        .route("/console/clusters/status.json", get(clusters::status_json))
        .route("/console/clusters/{uuid}", get(cluster::cluster_page))
        .route(
            "/console/clusters/{uuid}/rename",
            post(cluster::rename_cluster),
        )
        .route(
            "/console/clusters/{uuid}/upgrade",
            post(cluster::upgrade_cluster),
        )
        .route(
            "/console/clusters/{uuid}/suspend",
            post(cluster::suspend_cluster),
        )
        .route("/console/clusters/{uuid}/wake", post(cluster::wake_cluster))
        .route(
            "/console/clusters/{uuid}/delete",
            post(cluster::delete_cluster),
        )
        .route(
            "/console/clusters/{uuid}/clients",
            get(cluster_clients::clients_page).post(cluster_clients::create_client),
        )
        .route(
            "/console/clusters/{uuid}/clients/{client_id}/delete",
            post(cluster_clients::delete_client),
        )
        .route(
            "/console/clusters/{uuid}/secrets",
            get(cluster_secrets::secrets_page).post(cluster_secrets::create_secret),
        )
        .route(
            "/console/clusters/{uuid}/secrets/reveal",
            post(cluster_secrets::reveal_secret),
        )
        .route(
            "/console/clusters/{uuid}/secrets/update",
            post(cluster_secrets::update_secret),
        )
        .route(
            "/console/clusters/{uuid}/secrets/delete",
            post(cluster_secrets::delete_secret),
        )
        .route(
            "/console/clusters/{uuid}/ipallowlist",
            get(cluster_ip_allowlist::allowlist_page).post(cluster_ip_allowlist::replace_allowlist),
        )
        .route(
            "/console/clusters/{uuid}/backups",
            get(cluster_backups::backups_page).post(cluster_backups::create_backup),
        )
        .route(
            "/console/clusters/{uuid}/backups/{backup_id}/delete",
            post(cluster_backups::delete_backup),
        )
        .route(
            "/console/clusters/{uuid}/monitoring",
            get(cluster_monitoring::monitoring_page),
        )
        .route(
            "/console/clusters/{uuid}/monitoring/activate",
            post(cluster_monitoring::activate),
        )
        .route(
            "/console/clusters/{uuid}/monitoring/deactivate",
            post(cluster_monitoring::deactivate),
        )
        .route(
            "/console/clusters/{uuid}/monitoring/clients",
            post(cluster_monitoring::create_client),
        )
        .route(
            "/console/clusters/{uuid}/monitoring/clients/{client_id}/delete",
            post(cluster_monitoring::delete_client),
        )
        .route(
            API_CLIENTS_PATH,
            get(api_clients::api_clients_page).post(api_clients::create_api_client),
        )
        .route(
            "/console/api-clients/{client_id}/rotate",
            get(api_clients::confirm_rotate).post(api_clients::rotate_secret),
        )
        .route(
            "/console/api-clients/{client_id}/delete",
            get(api_clients::confirm_delete).post(api_clients::delete_api_client),
        )
        .route(
            MEMBERS_PATH,
            get(members::members_page).post(members::invite_member),
        )
        .route("/console/members/roles", post(members::change_roles))
        .route("/console/members/remove", post(members::remove_member))
        .route("/console/members/link", post(members::new_link))
        .route(ACTIVITY_PATH, get(activity::activity_page))
        .route("/console/activity.csv", get(activity::activity_csv))
        .route(LOGIN_PATH, get(login::login_page).post(login::sign_in))
        .route("/console/logout", post(login::sign_out))
        .route("/console/sso/start", get(sso::start))
        .route("/console/sso/callback", get(sso::callback))
        .route(
            "/console/links/{token}",
            get(links::link_page).post(links::set_password),
        )
        .route("/console/assets/{version}/{name}", get(assets::asset))
        // A mistyped or stale address under /console is a page too, not the API's JSON.
        .route("/console/{*rest}", get(page_not_found))
        .layer(axum::middleware::from_fn_with_state(
            state,
            session::same_origin_posts,
        ))
        // Pages are markup that repeats (a list of 1,000 clusters is ~300 KB, ~30 KB
        // gzipped); the API's JSON stays uncompressed, as the hosted service sends it.
        .layer(
            CompressionLayer::new()
                .gzip(true)
                .quality(CompressionLevel::Fastest),
        )
        // The API's `no-referrer` would make browsers send `Origin: null` with every form;
        // within the console they send the real origin, which `same_origin_posts` checks.
        .layer(SetResponseHeaderLayer::overriding(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::CONTENT_SECURITY_POLICY,
            policy,
        ))
}

/// What every page's frame shows: the stylesheet, and who is signed in.
pub struct Layout {
    pub css: String,
    /// The one script: live status and copy buttons; every page works without it.
    pub js: String,
    pub user: Option<UserNav>,
}

/// The signed-in member in the page's header, with the token of its sign-out form.
pub struct UserNav {
    pub email: String,
    pub csrf: String,
    /// The organization's pages this member may open (`Members`, `API clients`,
    /// `Activity`), as links in the header; the pages check the roles again.
    pub sections: Vec<NavLink>,
}

/// A link in the header's organization navigation.
pub struct NavLink {
    pub href: &'static str,
    pub label: &'static str,
}

/// The organization's pages in the header, each with the action it needs.
const SECTIONS: &[(&str, &str, Action)] = &[
    (HOME_PATH, "Clusters", Action::ViewClusters),
    (MEMBERS_PATH, "Members", Action::ManageMembers),
    (API_CLIENTS_PATH, "API clients", Action::ManageApiClients),
    (ACTIVITY_PATH, "Activity", Action::ReadActivity),
];

impl Layout {
    pub fn anonymous() -> Layout {
        Layout {
            css: assets::url("console.css"),
            js: assets::url("console.js"),
            user: None,
        }
    }

    pub fn signed_in(signed_in: &session::SignedIn) -> Layout {
        Layout {
            css: assets::url("console.css"),
            js: assets::url("console.js"),
            user: Some(UserNav {
                email: signed_in.member.email.clone(),
                csrf: signed_in.session.csrf_token.clone(),
                sections: SECTIONS
                    .iter()
                    .filter(|(_, _, action)| may(&signed_in.member.roles, *action))
                    .map(|(href, label, _)| NavLink { href, label })
                    .collect(),
            }),
        }
    }
}

/// A rendered page with its status.
pub fn page(status: StatusCode, template: &impl Template) -> Response {
    match template.render() {
        Ok(html) => {
            let mut response = (status, html).into_response();
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            );
            response
        }
        Err(e) => {
            tracing::error!(error = %e, "rendering a console page failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
        }
    }
}

/// A response that shows something once (a secret, a one-time link): no cache keeps it.
pub fn not_stored(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// A page with a heading, a sentence and an optional link onwards.
#[derive(Template)]
#[template(path = "message.html")]
pub struct MessagePage {
    pub layout: Layout,
    pub heading: String,
    pub text: String,
    pub next: Option<(String, String)>,
}

/// A message page for someone not (necessarily) signed in.
pub fn message(status: StatusCode, heading: &str, text: &str) -> Response {
    page(
        status,
        &MessagePage {
            layout: Layout::anonymous(),
            heading: heading.to_string(),
            text: text.to_string(),
            next: Some((HOME_PATH.to_string(), "Go to the console".to_string())),
        },
    )
}

/// Any other address under `/console`: 404, as a page with a way back.
async fn page_not_found() -> Response {
    message(
        StatusCode::NOT_FOUND,
        "Page not found",
        "There is no page at this address. It may have been mistyped, or what it showed was \
         deleted.",
    )
}

/// A form refused for its CSRF token or origin: 403, and nothing was changed.
pub fn forbidden_form() -> Response {
    message(
        StatusCode::FORBIDDEN,
        "This form has expired",
        "The form was sent without its security token, from an old page or from another \
         site, so nothing was changed. Go back, reload the page and try again.",
    )
}

/// Something the member's roles do not allow: 403.
pub fn not_allowed(what: &str) -> Response {
    message(
        StatusCode::FORBIDDEN,
        "Not allowed",
        &format!("Your roles in this organization do not allow you to {what}."),
    )
}

/// A failure of the server (the database, a task): logged, and a generic page.
pub fn internal_error(e: impl std::fmt::Display) -> Response {
    tracing::error!(error = %e, "a console request failed");
    message(
        StatusCode::INTERNAL_SERVER_ERROR,
        "Something went wrong",
        "The request could not be completed. Try again in a moment.",
    )
}

/// Password hashes computed at once: each takes 19 MiB and a core for tens of
/// milliseconds, so a burst of sign-ins queues here instead of exhausting memory.
static HASHING: Semaphore = Semaphore::const_new(4);

/// Runs a password hash or verification on a blocking thread, a few at a time.
pub async fn hashing<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> anyhow::Result<T> {
    let _permit = HASHING.acquire().await?;
    Ok(tokio::task::spawn_blocking(work).await?)
}

/// Verifies `password` against `stored` (or against a decoy, so an unknown account takes as
/// long); off the async runtime.
pub async fn verify_password(password: Arc<str>, stored: Option<String>) -> anyhow::Result<bool> {
    hashing(move || match stored {
        Some(hash) => account::verify_password(&password, &hash),
        None => {
            account::verify_password(&password, account::decoy_hash());
            false
        }
    })
    .await
}
