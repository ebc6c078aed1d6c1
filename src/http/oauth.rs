//! `POST /oauth/token` (client credentials via form, JSON or HTTP Basic) and the documents
//! that let others verify what it issues.

use std::time::Instant;

use axum::body::Bytes;
use axum::extract::{FromRequest, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::extract::Source;
use super::limits::retry_after_secs;
use super::schema::tags;
use super::AppState;
use crate::auth::grant::TokenGrant;
use crate::auth::keys::Jwks;
use crate::auth::{grant, OAuthError, TokenRequest};
use crate::domain::Timestamp;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(token))
        .routes(routes!(jwks))
        .routes(routes!(openid_configuration))
}

/// An RFC 6749 §5.2 error answer of the token endpoint.
#[derive(Debug, Serialize, ToSchema)]
pub struct OAuthErrorBody {
    /// `invalid_request`, `invalid_client`, `unsupported_grant_type`, `invalid_scope`,
    /// `temporarily_unavailable` or `server_error`.
    #[schema(example = "invalid_client")]
    pub error: &'static str,
    pub error_description: String,
}

/// The OpenID Provider metadata of the token issuer (the parts that apply).
#[derive(Debug, Serialize, ToSchema)]
pub struct OpenIdConfiguration {
    pub issuer: String,
    pub token_endpoint: String,
    pub jwks_uri: String,
    pub grant_types_supported: Vec<&'static str>,
    pub token_endpoint_auth_methods_supported: Vec<&'static str>,
    pub id_token_signing_alg_values_supported: Vec<&'static str>,
    pub response_types_supported: Vec<&'static str>,
    pub subject_types_supported: Vec<&'static str>,
}

/// Issue an access token (OAuth 2.0 client credentials grant).
///
/// The client authenticates with `client_id` and `client_secret` in the body (form-encoded
/// or JSON) or with HTTP Basic authentication. Also served at `/oauth/token/`.
#[utoipa::path(
    post,
    path = "/oauth/token",
    operation_id = "CreateToken",
    tag = tags::OAUTH,
    request_body(
        content(
            (TokenRequest = "application/x-www-form-urlencoded"),
            (TokenRequest = "application/json"),
        ),
        description = "The token request",
    ),
    security((), ("basic" = [])),
    responses(
        (status = 200, description = "The token", body = TokenGrant),
        (status = 400, description = "invalid_request, unsupported_grant_type or invalid_scope", body = OAuthErrorBody),
        (status = 401, description = "invalid_client: unknown client or wrong secret", body = OAuthErrorBody,
            headers(("WWW-Authenticate" = String))),
        (status = 413, description = "invalid_request: the body is larger than `--max-body-bytes`", body = OAuthErrorBody),
        (status = 429, description = "temporarily_unavailable: a rate limit or a client id's lockout; retry after `Retry-After` seconds", body = OAuthErrorBody,
            headers(("Retry-After" = i64))),
        (status = 500, description = "server_error", body = OAuthErrorBody),
        (status = 503, description = "server_error: the database is unavailable; retry after `Retry-After` seconds", body = OAuthErrorBody,
            headers(("Retry-After" = i64))),
    ),
)]
async fn token(
    State(state): State<AppState>,
    Source(source): Source,
    request: axum::extract::Request,
) -> Response {
    let now = Instant::now();
    let limits = &state.limits;
    // Counted at the request head, before a byte of the body is waited for: a source over
    // its limit cannot hold a request slot while it trickles a body in.
    if let Err(wait) = limits.check_token_source(source, now) {
        return too_many_requests(wait);
    }
    let (parts, body) = request.into_parts();
    let headers = parts.headers.clone();
    let body =
        match Bytes::from_request(axum::extract::Request::from_parts(parts, body), &state).await {
            Ok(body) => body,
            Err(rejection) => return unreadable_body(rejection.status()),
        };
    let request = match parse_token_request(&headers, &body) {
        Ok(request) => request,
        Err(e) => return oauth_error(e),
    };
    let client_id = request.client_id.clone();
    let mut secret_check = Default::default();
    if let Some(id) = &client_id {
        match limits.check_token_client(id, source, now).await {
            Ok(check) => secret_check = check,
            Err(wait) => {
                tracing::debug!("token request refused by a rate limit or lockout");
                return too_many_requests(wait);
            }
        }
    }
    let issued = grant::grant(
        state.store.as_ref(),
        &state.keyring,
        &state.tokens,
        request,
        Timestamp::now(),
    )
    .await;
    match (issued, client_id) {
        (Ok(grant), client_id) => {
            if let Some(id) = client_id {
                limits.secret_accepted(&id, source, secret_check).await;
            }
            crate::telemetry::metrics::token_issued();
            let mut response = Json(grant).into_response();
            response
                .headers_mut()
                .insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
            response
        }
        (Err(OAuthError::InvalidClient), Some(id)) => {
            limits.secret_refused(&id, source, Instant::now()).await;
            oauth_error(OAuthError::InvalidClient)
        }
        (Err(e), _) => oauth_error(e),
    }
}

/// 429 in the token endpoint's shape, with `Retry-After`.
pub(super) fn too_many_requests(wait: std::time::Duration) -> Response {
    oauth_error(OAuthError::TooManyRequests(retry_after_secs(wait)))
}

/// A body that is too large (413) or could not be read, in the token endpoint's shape.
pub(super) fn unreadable_body(status: StatusCode) -> Response {
    let mut response = oauth_error(OAuthError::InvalidRequest(
        "the request body could not be read, or is too large".into(),
    ));
    *response.status_mut() = status;
    response
}

/// Merges the body (form-encoded or JSON) with HTTP Basic client authentication.
pub fn parse_token_request(headers: &HeaderMap, body: &[u8]) -> Result<TokenRequest, OAuthError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        });
    let mut request: TokenRequest = match content_type.as_deref() {
        _ if body.is_empty() => TokenRequest::default(),
        Some("application/x-www-form-urlencoded") | None => serde_urlencoded::from_bytes(body)
            .map_err(|_| OAuthError::InvalidRequest("the form body is malformed".into()))?,
        Some("application/json") => serde_json::from_slice(body)
            .map_err(|_| OAuthError::InvalidRequest("the JSON body is malformed".into()))?,
        Some(other) => {
            return Err(OAuthError::InvalidRequest(format!(
                "unsupported content type {other:?}: use application/x-www-form-urlencoded or application/json"
            )))
        }
    };
    if let Some((id, secret)) = basic_credentials(headers)? {
        let conflicting = request
            .client_id
            .as_ref()
            .is_some_and(|body_id| *body_id != id)
            || request.client_secret.is_some();
        if conflicting {
            return Err(OAuthError::InvalidRequest(
                "use exactly one client authentication method".into(),
            ));
        }
        request.client_id = Some(id);
        request.client_secret = Some(secret);
    }
    Ok(request)
}

/// `Authorization: Basic base64(urlencode(id):urlencode(secret))` per RFC 6749 §2.3.1.
fn basic_credentials(headers: &HeaderMap) -> Result<Option<(String, String)>, OAuthError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let malformed =
        || OAuthError::InvalidRequest("the Basic authorization header is malformed".into());
    let value = value.to_str().map_err(|_| malformed())?;
    let Some(encoded) = value
        .strip_prefix("Basic ")
        .or_else(|| value.strip_prefix("basic "))
    else {
        return Err(malformed());
    };
    let decoded = STANDARD.decode(encoded.trim()).map_err(|_| malformed())?;
    let text = String::from_utf8(decoded).map_err(|_| malformed())?;
    let (id, secret) = text.split_once(':').ok_or_else(malformed)?;
    Ok(Some((
        form_decode(id).ok_or_else(malformed)?,
        form_decode(secret).ok_or_else(malformed)?,
    )))
}

fn form_decode(text: &str) -> Option<String> {
    let spaced = text.replace('+', " ");
    percent_encoding::percent_decode_str(&spaced)
        .decode_utf8()
        .ok()
        .map(|s| s.into_owned())
}

fn oauth_error(e: OAuthError) -> Response {
    crate::telemetry::metrics::token_refused(match e {
        OAuthError::TooManyRequests(_) => "rate_limited",
        OAuthError::Store(_) => "unavailable",
        ref other => other.code(),
    });
    let status = match e {
        OAuthError::InvalidClient => StatusCode::UNAUTHORIZED,
        OAuthError::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
        OAuthError::Internal(ref cause) => {
            tracing::error!(error = %cause, "token issuance failed");
            StatusCode::INTERNAL_SERVER_ERROR
        }
        OAuthError::Store(ref cause) => {
            tracing::error!(error = %cause, "token issuance failed");
            StatusCode::SERVICE_UNAVAILABLE
        }
        _ => StatusCode::BAD_REQUEST,
    };
    let description = match e {
        OAuthError::Internal(_) | OAuthError::Store(_) => {
            "the token could not be issued".to_string()
        }
        ref other => other.to_string(),
    };
    let body = Json(OAuthErrorBody {
        error: e.code(),
        error_description: description,
    });
    let mut response = (status, body).into_response();
    if status == StatusCode::UNAUTHORIZED {
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static(r#"Basic realm="consoled", error="invalid_client""#),
        );
    }
    if status == StatusCode::SERVICE_UNAVAILABLE {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    }
    if let OAuthError::TooManyRequests(seconds) = e {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    }
    response
}

/// The public keys that verify the tokens this server issues.
#[utoipa::path(
    get,
    path = "/.well-known/jwks.json",
    operation_id = "GetJwks",
    tag = tags::OAUTH,
    responses((status = 200, description = "The JSON Web Key Set", body = Jwks)),
)]
async fn jwks(State(state): State<AppState>) -> Response {
    let keys = state.tokens.keys();
    let mut response = keys.jwks().to_string().into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    response
}

/// Where the token issuer's endpoints and keys are.
#[utoipa::path(
    get,
    path = "/.well-known/openid-configuration",
    operation_id = "GetOpenIdConfiguration",
    tag = tags::OAUTH,
    responses((status = 200, description = "The OpenID Provider metadata", body = OpenIdConfiguration)),
)]
async fn openid_configuration(State(state): State<AppState>) -> Json<OpenIdConfiguration> {
    let issuer = state.tokens.issuer();
    Json(OpenIdConfiguration {
        jwks_uri: format!("{issuer}/.well-known/jwks.json"),
        issuer: issuer.to_string(),
        token_endpoint: state.settings.token_url.clone(),
        grant_types_supported: vec!["client_credentials"],
        token_endpoint_auth_methods_supported: vec!["client_secret_basic", "client_secret_post"],
        id_token_signing_alg_values_supported: vec![crate::auth::keys::ALGORITHM],
        response_types_supported: vec!["token"],
        subject_types_supported: vec!["public"],
    })
}

/// Property tests: token requests are the most exposed input there is.
#[cfg(test)]
mod properties;
