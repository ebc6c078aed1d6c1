//! `GET/POST /console/login` and `POST /console/logout`.
//!
//! Sign-in is throttled like the token endpoint, by the same limiter and lockout
//! (`http::limits`): per source address, per account (`console:<email>`), and consecutive
//! wrong passwords lock the account at that source (`--token-failures-before-lockout`,
//! `--token-lockout`). Every sign-in, refused sign-in and sign-out is in the activity trail
//! with the member's email as its actor; a password never is.

use std::sync::Arc;
use std::time::Instant;

use askama::Template;
use axum::extract::rejection::FormRejection;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;

use super::session::{
    clear_session_cookie, form_token, form_token_matches, session_cookie, with_cookie, SignedIn,
};
use super::{forbidden_form, internal_error, page, verify_password, Layout, HOME_PATH, LOGIN_PATH};
use crate::domain::account::{ConsoleSession, SESSION_ABSOLUTE_TIMEOUT, SESSION_IDLE_TIMEOUT};
use crate::domain::audit::{AuditEntry, AuditType};
use crate::domain::member::normalize_email;
use crate::domain::Timestamp;
use crate::http::extract::Source;
use crate::http::limits::retry_after_secs;
use crate::http::AppState;
use crate::storage::Account;

/// What a refused sign-in says, whatever the reason: which emails have accounts is not
/// given away.
const WRONG_CREDENTIALS: &str = "Wrong email or password.";

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    layout: Layout,
    form_token: String,
    email: String,
    error: Option<String>,
    notice: Option<String>,
    /// Single sign-on is configured: the link to start it.
    sso: bool,
    /// Passwords may be used (`--local-sign-in on`).
    local: bool,
}

#[derive(Deserialize)]
pub struct LoginQuery {
    /// Set after a password was set through a link.
    #[serde(default)]
    password_set: Option<String>,
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    form_token: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
}

#[derive(Deserialize)]
pub struct LogoutForm {
    #[serde(default)]
    csrf: String,
}

fn login_form(
    status: StatusCode,
    headers: &HeaderMap,
    state: &AppState,
    email: &str,
    error: Option<String>,
    notice: Option<String>,
) -> Response {
    let (token, cookie) = form_token(state, headers);
    let body = LoginPage {
        layout: Layout::anonymous(),
        form_token: token,
        email: email.to_string(),
        error,
        notice,
        sso: state.sso.is_some(),
        local: state.settings.local_sign_in,
    };
    with_cookie(page(status, &body), cookie)
}

pub async fn login_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<LoginQuery>,
) -> Response {
    let notice = query
        .password_set
        .map(|_| "Your password is set. Sign in with it.".to_string());
    login_form(StatusCode::OK, &headers, &state, "", None, notice)
}

fn too_many(
    state: &AppState,
    headers: &HeaderMap,
    email: &str,
    wait: std::time::Duration,
) -> Response {
    let seconds = retry_after_secs(wait);
    let mut response = login_form(
        StatusCode::TOO_MANY_REQUESTS,
        headers,
        state,
        email,
        Some(format!(
            "Too many sign-in attempts. Try again in {seconds} seconds."
        )),
        None,
    );
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, seconds.into());
    response
}

fn sign_in_audit(account: &Account, kind: AuditType, text: String, now: Timestamp) -> AuditEntry {
    let email = &account.member.email;
    AuditEntry::new(
        &account.member.org_id,
        email,
        kind,
        "member",
        email,
        text,
        now,
    )
}

pub async fn sign_in(
    State(state): State<AppState>,
    Source(source): Source,
    headers: HeaderMap,
    form: Result<Form<LoginForm>, FormRejection>,
) -> Response {
    let Ok(Form(form)) = form else {
        return forbidden_form();
    };
    if !form_token_matches(&headers, &form.form_token) {
        return forbidden_form();
    }
    if !state.settings.local_sign_in {
        return login_form(
            StatusCode::FORBIDDEN,
            &headers,
            &state,
            "",
            Some("Signing in with a password is off here: sign in with single sign-on.".into()),
            None,
        );
    }
    let limits = &state.limits;
    if let Err(wait) = limits.check_token_source(source, Instant::now()) {
        return too_many(&state, &headers, &form.email, wait);
    }
    let wrong = |email: &str| {
        login_form(
            StatusCode::UNAUTHORIZED,
            &headers,
            &state,
            email,
            Some(WRONG_CREDENTIALS.to_string()),
            None,
        )
    };
    let Ok(email) = normalize_email(form.email.trim()) else {
        return wrong(&form.email);
    };
    let key = format!("console:{email}");
    let secret_check = match limits
        .check_token_client(&key, source, Instant::now())
        .await
    {
        Ok(check) => check,
        Err(wait) => {
            tracing::debug!("console sign-in refused by a rate limit or lockout");
            return too_many(&state, &headers, &email, wait);
        }
    };
    let accounts = match state.store.accounts(&email).await {
        Ok(accounts) => accounts,
        Err(e) => return internal_error(e),
    };
    // A member of several organizations signs in to the oldest whose password matches.
    let password: Arc<str> = form.password.into();
    let mut matched = None;
    if accounts.is_empty() {
        if let Err(e) = verify_password(password.clone(), None).await {
            return internal_error(e);
        }
    }
    for account in &accounts {
        match verify_password(password.clone(), Some(account.password_hash.clone())).await {
            Ok(true) => {
                matched = Some(account);
                break;
            }
            Ok(false) => {}
            Err(e) => return internal_error(e),
        }
    }
    let now = Timestamp::now();
    let Some(account) = matched.filter(|a| !a.member.invite_pending) else {
        limits.secret_refused(&key, source, Instant::now()).await;
        for account in &accounts {
            let audit = sign_in_audit(
                account,
                AuditType::Read,
                format!("Refused a sign-in of {email}: wrong password"),
                now,
            );
            if let Err(e) = state.store.record_activity(&audit).await {
                return internal_error(e);
            }
        }
        return wrong(&email);
    };
    limits.secret_accepted(&key, source, secret_check).await;
    let (session_id, session) = ConsoleSession::start(
        &state.keyring,
        &account.member.org_id,
        &account.member.email,
        now,
    );
    let audit = sign_in_audit(
        account,
        AuditType::Create,
        format!("{email} signed in to the console"),
        now,
    );
    if let Err(e) = state.store.insert_session(&session, &audit).await {
        return internal_error(e);
    }
    sweep_ended_sessions(&state, now).await;
    let mut response = Redirect::to(HOME_PATH).into_response();
    response
        .headers_mut()
        .append(header::SET_COOKIE, session_cookie(&state, &session_id));
    response
}

/// Sessions and links that ended meanwhile are swept now and then: on each sign-in, by
/// password or by single sign-on. A failure only delays the sweep.
pub(super) async fn sweep_ended_sessions(state: &AppState, now: Timestamp) {
    if let Err(e) = state
        .store
        .delete_expired_sign_ins(
            Timestamp(now.0 - SESSION_IDLE_TIMEOUT.as_millis() as i64),
            Timestamp(now.0 - SESSION_ABSOLUTE_TIMEOUT.as_millis() as i64),
            now,
        )
        .await
    {
        tracing::warn!(error = %e, "sweeping ended console sessions failed");
    }
}

pub async fn sign_out(
    State(state): State<AppState>,
    signed_in: SignedIn,
    form: Result<Form<LogoutForm>, FormRejection>,
) -> Response {
    let presented = form.map(|Form(f)| f.csrf).unwrap_or_default();
    if !signed_in.csrf_matches(&presented) {
        return forbidden_form();
    }
    let member = &signed_in.member;
    let audit = AuditEntry::new(
        &member.org_id,
        &member.email,
        AuditType::Delete,
        "member",
        &member.email,
        format!("{} signed out of the console", member.email),
        Timestamp::now(),
    );
    if let Err(e) = state
        .store
        .delete_session(&signed_in.session.id_hash, Some(&audit))
        .await
    {
        return internal_error(e);
    }
    // A session signed in with the identity provider signs out there too, where the
    // provider supports it; it sends the browser back to the sign-in page.
    let provider_logout = match (&state.sso, &signed_in.session.identity_provider) {
        (Some(sso), Some(issuer)) if issuer == sso.issuer() => sso.logout_url().await,
        _ => None,
    };
    let next = provider_logout.map_or_else(|| LOGIN_PATH.to_string(), String::from);
    let mut response = Redirect::to(&next).into_response();
    response
        .headers_mut()
        .append(header::SET_COOKIE, clear_session_cookie(&state));
    response
}
