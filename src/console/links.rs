//! `GET/POST /console/links/{token}`: a one-time link (an invite, or a password reset)
//! where a member sets a password. Taking the link deletes it in the transaction that sets
//! the password (and activates an invited member), so a link works once; afterwards, or
//! once expired, it is a 410 page.

use super::path::Path;
use askama::Template;
use axum::extract::rejection::FormRejection;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;

use super::session::{form_token, form_token_matches, with_cookie};
use super::{forbidden_form, hashing, internal_error, message, page, Layout, LOGIN_PATH};
use crate::domain::account::{self, LinkPurpose, SignInLink, MAX_PASSWORD_BYTES};
use crate::domain::audit::{AuditEntry, AuditType};
use crate::domain::Timestamp;
use crate::http::AppState;

#[derive(Template)]
#[template(path = "set_password.html")]
struct SetPasswordPage {
    layout: Layout,
    form_token: String,
    action: String,
    email: String,
    invite: bool,
    error: Option<String>,
}

#[derive(Deserialize)]
pub struct SetPasswordForm {
    #[serde(default)]
    form_token: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    confirm: String,
}

fn gone() -> Response {
    message(
        StatusCode::GONE,
        "This link was already used or has expired",
        "Each link sets a password once, and only for a while (an invite for 7 days, a \
         password reset for an hour). Ask an administrator of your organization for a new \
         one, or sign in if you have set your password already.",
    )
}

/// The link of a token if it still works at `now`.
async fn live_link(state: &AppState, token: &str, now: Timestamp) -> Result<SignInLink, Response> {
    // Tokens are alphanumeric; anything else is no link (and not worth a query).
    if token.is_empty() || token.len() > 128 || !token.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(gone());
    }
    let hash = state.keyring.sign_in_link_hash(token);
    match state.store.sign_in_link(&hash).await {
        Ok(Some(link)) if link.is_valid(now) => Ok(link),
        Ok(_) => Err(gone()),
        Err(e) => Err(internal_error(e)),
    }
}

fn form(
    status: StatusCode,
    state: &AppState,
    headers: &HeaderMap,
    token: &str,
    link: &SignInLink,
    error: Option<String>,
) -> Response {
    let (form_token, cookie) = form_token(state, headers);
    let body = SetPasswordPage {
        layout: Layout::anonymous(),
        form_token,
        action: format!("/console/links/{token}"),
        email: link.email.clone(),
        invite: link.purpose == LinkPurpose::Invite,
        error,
    };
    with_cookie(page(status, &body), cookie)
}

/// With `--local-sign-in off` a link sets no password (it would open nothing): its page
/// sends the member to single sign-on, and a posted password is refused, nothing written.
fn passwords_off(status: StatusCode, link: &SignInLink) -> Response {
    page(
        status,
        &super::MessagePage {
            layout: Layout::anonymous(),
            heading: "Sign in with single sign-on".to_string(),
            text: format!(
                "Passwords are not used here. Sign in with single sign-on as {}: an \
                 invitation becomes active on the first sign-in.",
                link.email
            ),
            next: Some((LOGIN_PATH.to_string(), "Go to sign-in".to_string())),
        },
    )
}

pub async fn link_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(token): Path<String>,
) -> Response {
    match live_link(&state, &token, Timestamp::now()).await {
        Ok(link) if !state.settings.local_sign_in => passwords_off(StatusCode::OK, &link),
        Ok(link) => form(StatusCode::OK, &state, &headers, &token, &link, None),
        Err(response) => response,
    }
}

pub async fn set_password(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(token): Path<String>,
    body: Result<Form<SetPasswordForm>, FormRejection>,
) -> Response {
    let Ok(Form(body)) = body else {
        return forbidden_form();
    };
    if !form_token_matches(&headers, &body.form_token) {
        return forbidden_form();
    }
    let link = match live_link(&state, &token, Timestamp::now()).await {
        Ok(link) => link,
        Err(response) => return response,
    };
    if !state.settings.local_sign_in {
        return passwords_off(StatusCode::FORBIDDEN, &link);
    }
    let refuse = |text: String| {
        form(
            StatusCode::BAD_REQUEST,
            &state,
            &headers,
            &token,
            &link,
            Some(text),
        )
    };
    if let Err(e) = account::check_password(&body.password, &link.email) {
        return refuse(e.to_string());
    }
    if body.password != body.confirm {
        return refuse("The two passwords differ.".into());
    }
    debug_assert!(body.password.len() <= MAX_PASSWORD_BYTES);
    let password = body.password;
    let hash = match hashing(move || account::hash_password(&password)).await {
        Ok(Ok(hash)) => hash,
        Ok(Err(e)) | Err(e) => return internal_error(e),
    };
    let now = Timestamp::now();
    let email = &link.email;
    let pending = match state.store.member(&link.org_id, email).await {
        Ok(member) => member.is_some_and(|m| m.invite_pending),
        Err(e) => return internal_error(e),
    };
    let text = match link.purpose {
        LinkPurpose::Invite => format!("{email} set a password through an invite link"),
        LinkPurpose::Reset => format!("{email} set a new password through a reset link"),
    };
    let mut audit = AuditEntry::new(
        &link.org_id,
        email,
        AuditType::Update,
        "member",
        email,
        text,
        now,
    );
    if pending && link.purpose == LinkPurpose::Invite {
        audit = audit.with_change("invitePending", Some("true".into()), Some("false".into()));
    }
    match state
        .store
        .take_sign_in_link(&link, &hash, now, &audit)
        .await
    {
        Ok(true) => Redirect::to(&format!("{LOGIN_PATH}?password_set=1")).into_response(),
        // Used by another request meanwhile, or expired during the hashing.
        Ok(false) => gone(),
        Err(e) => internal_error(e),
    }
}
