//! Single sign-on: `GET /console/sso/start` and `GET /console/sso/callback`.
//!
//! The start sends the browser to the provider with a fresh `state`, `nonce` and PKCE
//! challenge, and keeps them in a cookie sealed under the master key (only for
//! `/console/sso`, for ten minutes). The callback takes that cookie once (it is cleared
//! whatever the outcome), checks `state`, has the relying party exchange the code and
//! validate the ID token, and maps the verified email to a member: an active member signs
//! in, a pending invite becomes active, and with `--oidc-auto-join` someone of an allowed
//! domain joins the oldest organization. Everything else is refused with a page that says
//! why and whom to ask. Sign-ins, refusals and joins are in the activity trail.

use std::time::{Duration, Instant};

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde::{Deserialize, Serialize};

use super::session::{cookie, header_value, secure, session_cookie};
use super::{internal_error, page, Layout, MessagePage, HOME_PATH, LOGIN_PATH};
use crate::auth::oidc::{Identity, PendingSignIn, SsoError};
use crate::domain::account::ConsoleSession;
use crate::domain::audit::{AuditEntry, AuditType};
use crate::domain::member::{normalize_email, Member};
use crate::domain::Timestamp;
use crate::http::extract::Source;
use crate::http::limits::retry_after_secs;
use crate::http::AppState;
use crate::storage::StoreError;

const PENDING_COOKIE: &str = "consoled_sso";
const PENDING_PATH: &str = "/console/sso";
/// How long a started sign-in may take at the provider.
const PENDING_LIFETIME: Duration = Duration::from_secs(600);
/// The associated data of the sealed cookie: it opens as nothing else.
const PENDING_CONTEXT: &[u8] = b"consoled console sso pending sign-in";
/// Longest value of a query parameter that is read at all.
const MAX_PARAMETER_BYTES: usize = 4096;

#[derive(Serialize, Deserialize)]
struct SealedPending {
    #[serde(flatten)]
    pending: PendingSignIn,
    /// Milliseconds since the epoch.
    started_at: i64,
}

#[derive(Deserialize)]
pub struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

fn pending_cookie(state: &AppState, value: &str) -> HeaderValue {
    header_value(format!(
        "{PENDING_COOKIE}={value}; Path={PENDING_PATH}; HttpOnly; SameSite=Lax; Max-Age={}{}",
        PENDING_LIFETIME.as_secs(),
        secure(state)
    ))
}

fn clear_pending_cookie(state: &AppState) -> HeaderValue {
    header_value(format!(
        "{PENDING_COOKIE}=; Path={PENDING_PATH}; HttpOnly; SameSite=Lax; Max-Age=0{}",
        secure(state)
    ))
}

fn seal(state: &AppState, pending: PendingSignIn, now: Timestamp) -> String {
    let sealed = SealedPending {
        pending,
        started_at: now.millis(),
    };
    let json = serde_json::to_vec(&sealed).expect("the pending sign-in serializes");
    crate::crypto::base64url(&state.keyring.encrypt(&json, PENDING_CONTEXT))
}

fn unseal(state: &AppState, headers: &HeaderMap, now: Timestamp) -> Option<PendingSignIn> {
    use base64::Engine;
    let value = cookie(headers, PENDING_COOKIE)?;
    if value.len() > MAX_PARAMETER_BYTES {
        return None;
    }
    let sealed = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(value)
        .ok()?;
    let json = state.keyring.decrypt(&sealed, PENDING_CONTEXT).ok()?;
    let sealed: SealedPending = serde_json::from_slice(&json).ok()?;
    let age = now.millis().saturating_sub(sealed.started_at);
    (0..=PENDING_LIFETIME.as_millis() as i64)
        .contains(&age)
        .then_some(sealed.pending)
}

/// A refusal: 403, a page that says why, and the pending sign-in forgotten.
fn refused(state: &AppState, text: String) -> Response {
    let body = MessagePage {
        layout: Layout::anonymous(),
        heading: "Sign-in refused".to_string(),
        text,
        next: Some((LOGIN_PATH.to_string(), "Back to sign-in".to_string())),
    };
    let mut response = page(StatusCode::FORBIDDEN, &body);
    response
        .headers_mut()
        .append(header::SET_COOKIE, clear_pending_cookie(state));
    response
}

/// The provider could not be reached: 503, try again later.
fn provider_unavailable(state: &AppState, error: &SsoError) -> Response {
    tracing::warn!(error = %error, "single sign-on failed at the identity provider");
    let body = MessagePage {
        layout: Layout::anonymous(),
        heading: "The identity provider cannot be reached".to_string(),
        text: "Signing in with single sign-on is not possible right now. Try again in a \
               minute; if it persists, tell whoever runs this installation."
            .to_string(),
        next: Some((LOGIN_PATH.to_string(), "Back to sign-in".to_string())),
    };
    let mut response = page(StatusCode::SERVICE_UNAVAILABLE, &body);
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("30"));
    response
        .headers_mut()
        .append(header::SET_COOKIE, clear_pending_cookie(state));
    response
}

fn too_many(state: &AppState, wait: Duration) -> Response {
    let seconds = retry_after_secs(wait);
    let mut response = refused(
        state,
        format!("Too many sign-in attempts from your address. Try again in {seconds} seconds."),
    );
    *response.status_mut() = StatusCode::TOO_MANY_REQUESTS;
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, seconds.into());
    response
}

pub async fn start(State(state): State<AppState>, Source(source): Source) -> Response {
    let Some(sso) = state.sso.as_ref() else {
        return super::page_not_found().await;
    };
    // Each start may cost a discovery request to the provider.
    if let Err(wait) = state.limits.check_token_source(source, Instant::now()) {
        return too_many(&state, wait);
    }
    match sso.start().await {
        Ok((url, pending)) => {
            let sealed = seal(&state, pending, Timestamp::now());
            let mut response = Redirect::to(url.as_str()).into_response();
            response
                .headers_mut()
                .append(header::SET_COOKIE, pending_cookie(&state, &sealed));
            response
        }
        Err(e) => provider_unavailable(&state, &e),
    }
}

pub async fn callback(
    State(state): State<AppState>,
    Source(source): Source,
    headers: HeaderMap,
    query: Result<Query<CallbackQuery>, QueryRejection>,
) -> Response {
    let Some(sso) = state.sso.clone() else {
        return super::page_not_found().await;
    };
    if let Err(wait) = state.limits.check_token_source(source, Instant::now()) {
        return too_many(&state, wait);
    }
    let now = Timestamp::now();
    let Ok(Query(query)) = query else {
        return refused(
            &state,
            "The sign-in answer is malformed. Start again.".into(),
        );
    };
    let Some(pending) = unseal(&state, &headers, now) else {
        return refused(
            &state,
            "This sign-in was not started in this browser in the last ten minutes, or was \
             finished already (its state is missing). Start again from the sign-in page."
                .into(),
        );
    };
    let state_matches = query.state.as_deref().is_some_and(|given| {
        given.len() <= MAX_PARAMETER_BYTES
            && bool::from(subtle::ConstantTimeEq::ct_eq(
                given.as_bytes(),
                pending.state.as_bytes(),
            ))
    });
    if !state_matches {
        return refused(
            &state,
            "The sign-in answer does not belong to the sign-in started in this browser (its \
             state does not match). Start again from the sign-in page."
                .into(),
        );
    }
    if let Some(error) = query.error {
        let error: String = error
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
            .take(64)
            .collect();
        return refused(
            &state,
            format!(
                "The identity provider did not sign you in ({error}). Try again, or ask \
                 whoever manages your identity provider account."
            ),
        );
    }
    let Some(code) = query
        .code
        .filter(|c| !c.is_empty() && c.len() <= MAX_PARAMETER_BYTES)
    else {
        return refused(
            &state,
            "The sign-in answer has no code. Start again.".into(),
        );
    };
    let identity = match sso.finish(&code, &pending).await {
        Ok(identity) => identity,
        Err(SsoError::Unavailable(e)) => {
            return provider_unavailable(&state, &SsoError::Unavailable(e));
        }
        Err(e) => {
            tracing::warn!(error = %e, "a single sign-on answer was refused");
            return refused(
                &state,
                "The identity provider's answer could not be verified (the code was used \
                 already or has expired, or the ID token is not valid). Start again from the \
                 sign-in page."
                    .into(),
            );
        }
    };
    match sign_in(&state, &identity, now).await {
        Ok(Outcome::SignedIn(session_id)) => {
            let mut response = Redirect::to(HOME_PATH).into_response();
            let headers = response.headers_mut();
            headers.append(header::SET_COOKIE, session_cookie(&state, &session_id));
            headers.append(header::SET_COOKIE, clear_pending_cookie(&state));
            response
        }
        Ok(Outcome::Refused(text)) => refused(&state, text),
        Err(e) => internal_error(e),
    }
}

enum Outcome {
    /// The new session's id (the cookie's value).
    SignedIn(String),
    /// Why not, for the page.
    Refused(String),
}

/// Maps a verified identity to a member and starts a session.
async fn sign_in(
    state: &AppState,
    identity: &Identity,
    now: Timestamp,
) -> Result<Outcome, StoreError> {
    let sso = state.sso.as_ref().expect("single sign-on is on");
    let issuer = sso.issuer();
    let Some(email) = identity
        .email
        .as_deref()
        .and_then(|e| normalize_email(e.trim()).ok())
    else {
        return Ok(Outcome::Refused(
            "The identity provider did not tell us your email address, which is how members \
             are known here. Ask whoever manages your identity provider to release the \
             email claim to consoled."
                .into(),
        ));
    };
    let members = state.store.members_by_email(&email).await?;
    if !identity.email_verified {
        let text = format!("Refused a single sign-on of {email}: the email is not verified");
        record_refusal(state, &members, &email, text, now).await?;
        return Ok(Outcome::Refused(format!(
            "Your email address {email} is not verified by the identity provider, so it \
             cannot be matched to a member. Verify it there (or ask whoever manages your \
             identity provider), then sign in again."
        )));
    }
    // A member of several organizations signs in to the oldest, as with a password.
    let member = match members.into_iter().next() {
        Some(member) => member,
        None => match auto_join(state, &email, identity, now).await? {
            Some(member) => member,
            None => {
                let text = format!("Refused a single sign-on of {email}: not a member");
                record_refusal(state, &[], &email, text, now).await?;
                return Ok(Outcome::Refused(format!(
                    "{email} is not a member of any organization here. Ask an owner or an \
                     admin of your organization to invite {email}, then sign in again."
                )));
            }
        },
    };
    if member.invite_pending {
        let name = display_name(identity, &email);
        let audit = AuditEntry::new(
            &member.org_id,
            &email,
            AuditType::Update,
            "member",
            &email,
            format!("{email} accepted the invitation by signing in with single sign-on"),
            now,
        );
        state
            .store
            .accept_member(&member.org_id, &email, &name, &audit)
            .await?;
    }
    let (session_id, session) = ConsoleSession::start(&state.keyring, &member.org_id, &email, now);
    let session = session.signed_in_with(issuer);
    let audit = AuditEntry::new(
        &member.org_id,
        &email,
        AuditType::Create,
        "member",
        &email,
        format!("{email} signed in to the console with single sign-on ({issuer})"),
        now,
    );
    state.store.insert_session(&session, &audit).await?;
    super::login::sweep_ended_sessions(state, now).await;
    Ok(Outcome::SignedIn(session_id))
}

/// With `--oidc-auto-join`, someone of an allowed domain joins the oldest organization.
async fn auto_join(
    state: &AppState,
    email: &str,
    identity: &Identity,
    now: Timestamp,
) -> Result<Option<Member>, StoreError> {
    let settings = state.sso.as_ref().expect("single sign-on is on").settings();
    let Some(role) = settings.auto_join else {
        return Ok(None);
    };
    let domain = email.rsplit_once('@').map(|(_, d)| d).unwrap_or_default();
    if !settings.allowed_domains.iter().any(|d| d == domain) {
        return Ok(None);
    }
    let Some(org) = state.store.organizations().await?.into_iter().next() else {
        return Ok(None);
    };
    let member = Member {
        org_id: org.id.clone(),
        email: email.to_string(),
        name: display_name(identity, email),
        roles: vec![role],
        invite_pending: false,
        is_owner: false,
        created_at: now,
    };
    let audit = AuditEntry::new(
        &org.id,
        email,
        AuditType::Create,
        "member",
        email,
        format!(
            "{email} joined by single sign-on with the role {} (--oidc-auto-join, domain {domain})",
            role.as_str()
        ),
        now,
    );
    match state
        .store
        .insert_member(&member, state.settings.max_members, &audit)
        .await
    {
        Ok(()) => Ok(Some(member)),
        // Joined meanwhile by another sign-in: that membership stands.
        Err(StoreError::Conflict(_)) => Ok(state.store.member(&org.id, email).await?),
        Err(StoreError::LimitReached) => Ok(None),
        Err(e) => Err(e),
    }
}

/// The provider's `name` claim as a member's name: printable, at most 200 characters;
/// the email when there is none.
fn display_name(identity: &Identity, email: &str) -> String {
    let name: String = identity
        .name
        .as_deref()
        .unwrap_or_default()
        .chars()
        .filter(|c| !c.is_control())
        .take(200)
        .collect();
    match name.trim() {
        "" => email.to_string(),
        name => name.to_string(),
    }
}

/// A refusal in the activity: of the organizations the email belongs to, or of the oldest
/// (where auto-join would have put it).
async fn record_refusal(
    state: &AppState,
    members: &[Member],
    email: &str,
    text: String,
    now: Timestamp,
) -> Result<(), StoreError> {
    let orgs: Vec<String> = if members.is_empty() {
        state
            .store
            .organizations()
            .await?
            .into_iter()
            .take(1)
            .map(|o| o.id)
            .collect()
    } else {
        members.iter().map(|m| m.org_id.clone()).collect()
    };
    for org in orgs {
        let audit = AuditEntry::new(
            &org,
            email,
            AuditType::Read,
            "member",
            email,
            text.clone(),
            now,
        );
        state.store.record_activity(&audit).await?;
    }
    Ok(())
}
