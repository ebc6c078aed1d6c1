//! Sessions and forms: the session cookie, the [`SignedIn`] extractor, and the checks every
//! state-changing form passes.
//!
//! - The cookie `consoled_session` holds a random session id; the database keeps only its
//!   keyed hash (`console_sessions.id_hash`), so every replica knows the session and
//!   signing out ends it everywhere. `HttpOnly`, `SameSite=Lax`, `Path=/console`, and
//!   `Secure` when the public URL is https.
//! - CSRF: a signed-in form carries its session's token (`console_sessions.csrf_token`);
//!   the forms used before there is a session (sign-in, set password) carry a token that
//!   must equal the `consoled_form` cookie (double submit; the cookie is `SameSite=Strict`
//!   and `HttpOnly`). Every POST under `/console` must also be same-origin when the
//!   browser says where it came from (`Origin`, `Sec-Fetch-Site`).

use axum::extract::rejection::FormRejection;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;
use subtle::ConstantTimeEq;

use super::{forbidden_form, internal_error, not_allowed, LOGIN_PATH};
use crate::crypto::random_token;
use crate::domain::account::{ConsoleSession, SESSION_ABSOLUTE_TIMEOUT};
use crate::domain::member::Member;
use crate::domain::permissions::{may, Action};
use crate::domain::Timestamp;
use crate::http::AppState;

pub const SESSION_COOKIE: &str = "consoled_session";
pub const FORM_COOKIE: &str = "consoled_form";
/// Characters of a form token.
const FORM_TOKEN_CHARS: usize = 43;

/// The value of the cookie `name`, if the request has it.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.trim().to_string())
        .filter(|value| !value.is_empty())
}

pub(super) fn secure(state: &AppState) -> &'static str {
    if state.settings.public_url.starts_with("https://") {
        "; Secure"
    } else {
        ""
    }
}

pub(super) fn header_value(text: String) -> HeaderValue {
    HeaderValue::from_str(&text).expect("cookies are built from alphanumeric tokens")
}

/// The cookie that carries a new session.
pub fn session_cookie(state: &AppState, session_id: &str) -> HeaderValue {
    header_value(format!(
        "{SESSION_COOKIE}={session_id}; Path=/console; HttpOnly; SameSite=Lax; Max-Age={}{}",
        SESSION_ABSOLUTE_TIMEOUT.as_secs(),
        secure(state)
    ))
}

/// The cookie that makes the browser forget its session.
pub fn clear_session_cookie(state: &AppState) -> HeaderValue {
    header_value(format!(
        "{SESSION_COOKIE}=; Path=/console; HttpOnly; SameSite=Lax; Max-Age=0{}",
        secure(state)
    ))
}

/// The token of a form shown before sign-in, and the cookie to set when the browser has
/// none yet (one token serves every such form of the browser).
pub fn form_token(state: &AppState, headers: &HeaderMap) -> (String, Option<HeaderValue>) {
    if let Some(token) = cookie(headers, FORM_COOKIE).filter(|t| well_formed(t)) {
        return (token, None);
    }
    let token = random_token(FORM_TOKEN_CHARS);
    let cookie = header_value(format!(
        "{FORM_COOKIE}={token}; Path=/console; HttpOnly; SameSite=Strict{}",
        secure(state)
    ));
    (token, Some(cookie))
}

fn well_formed(token: &str) -> bool {
    token.len() == FORM_TOKEN_CHARS && token.bytes().all(|b| b.is_ascii_alphanumeric())
}

fn same_token(expected: &str, presented: &str) -> bool {
    !expected.is_empty() && bool::from(expected.as_bytes().ct_eq(presented.as_bytes()))
}

/// Whether a form sent before sign-in carries the browser's form token.
pub fn form_token_matches(headers: &HeaderMap, presented: &str) -> bool {
    cookie(headers, FORM_COOKIE).is_some_and(|expected| same_token(&expected, presented))
}

/// Adds a `Set-Cookie` to a response.
pub fn with_cookie(mut response: Response, cookie: Option<HeaderValue>) -> Response {
    if let Some(cookie) = cookie {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    response
}

/// Refuses POSTs that a browser says came from another site, before any handler runs.
pub async fn same_origin_posts(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    if request.method() == Method::POST && !same_origin(&state, request.headers()) {
        tracing::debug!("a cross-origin console form was refused");
        return forbidden_form();
    }
    next.run(request).await
}

fn same_origin(state: &AppState, headers: &HeaderMap) -> bool {
    let fetch_site = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok());
    if fetch_site == Some("cross-site") || fetch_site == Some("same-site") {
        return false;
    }
    let Some(origin) = headers.get(header::ORIGIN) else {
        // Not a browser, or one that does not say: the tokens still have to match.
        return true;
    };
    let Ok(origin) = origin.to_str() else {
        return false;
    };
    if origin == "null" {
        // A page with a `no-referrer` policy (an old page, a privacy setting) hides its
        // origin; the browser's own `Sec-Fetch-Site` still says where the form came from.
        return fetch_site == Some("same-origin");
    }
    let public = url::Url::parse(&state.settings.public_url)
        .map(|u| u.origin().ascii_serialization())
        .unwrap_or_default();
    if origin == public {
        return true;
    }
    // The address the browser used, when it is not the public URL (localhost, a LAN name).
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    let authority = origin.split_once("://").map(|(_, rest)| rest);
    matches!((authority, host), (Some(a), Some(h)) if a.eq_ignore_ascii_case(h))
}

/// A signed-in member and its live session. Pages take it as an argument; without a live
/// session the request is sent to the login page.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub session: ConsoleSession,
    pub member: Member,
}

impl SignedIn {
    /// Whether a signed-in form carries this session's CSRF token.
    pub fn csrf_matches(&self, presented: &str) -> bool {
        same_token(&self.session.csrf_token, presented)
    }
}

/// To the login page, forgetting the session cookie.
fn to_login(state: &AppState) -> Response {
    let mut response = Redirect::to(LOGIN_PATH).into_response();
    response
        .headers_mut()
        .append(header::SET_COOKIE, clear_session_cookie(state));
    response
}

impl FromRequestParts<AppState> for SignedIn {
    type Rejection = Response;

    #[tracing::instrument(skip_all)]
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let Some(id) = cookie(&parts.headers, SESSION_COOKIE) else {
            return Err(Redirect::to(LOGIN_PATH).into_response());
        };
        let id_hash = state.keyring.session_hash(&id);
        let now = Timestamp::now();
        let found = state
            .store
            .session(&id_hash)
            .await
            .map_err(internal_error)?;
        let Some((session, member)) = found else {
            return Err(to_login(state));
        };
        if !session.is_live(now) || member.invite_pending {
            state
                .store
                .delete_session(&id_hash, None)
                .await
                .map_err(internal_error)?;
            return Err(to_login(state));
        }
        if session.needs_touch(now) {
            state
                .store
                .touch_session(&id_hash, now)
                .await
                .map_err(internal_error)?;
        }
        Ok(SignedIn { session, member })
    }
}

/// A signed-in form: it carries its session's CSRF token.
pub trait CarriesCsrf {
    fn csrf(&self) -> &str;
}

/// A form with no field but the CSRF token: the buttons (delete, wake, activate, …).
#[derive(Debug, Default, Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    pub csrf: String,
}

impl CarriesCsrf for CsrfForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

/// The checks of every signed-in form, in order: its CSRF token, then the role matrix.
/// The refusal is a 403 page; the caller writes nothing.
pub fn refused(signed_in: &SignedIn, csrf: &str, action: Action) -> Option<Response> {
    if !signed_in.csrf_matches(csrf) {
        return Some(forbidden_form());
    }
    if !may(&signed_in.member.roles, action) {
        return Some(not_allowed(action.as_str()));
    }
    None
}

/// The form, once it could be read (else it is refused like a missing token) and passed
/// [`refused`]'s checks for `action`.
pub fn allowed<F: CarriesCsrf>(
    signed_in: &SignedIn,
    form: Result<Form<F>, FormRejection>,
    action: Action,
) -> Result<F, Box<Response>> {
    let Ok(Form(form)) = form else {
        return Err(Box::new(forbidden_form()));
    };
    match refused(signed_in, form.csrf(), action) {
        Some(refusal) => Err(Box::new(refusal)),
        None => Ok(form),
    }
}
