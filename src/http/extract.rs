//! Extractors: JSON bodies with API-shaped errors, and the authenticated caller.

use axum::extract::{FromRef, FromRequest, FromRequestParts};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;

use super::error::ApiError;
use super::AppState;
use crate::auth::Principal;
use crate::domain::audit::{AuditEntry, AuditType};
use crate::domain::scope::{Scope, ScopeSet};
use crate::domain::Timestamp;

/// A JSON body; malformed JSON, unknown or missing fields and a wrong content type are 4xx
/// in the API's error shape.
#[derive(FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct ApiJson<T>(pub T);

/// Path parameters, percent-decoded (`%20` → space, `+` stays `+`: the JS SDK puts names
/// into paths without encoding them); a segment that does not decode is a 400 in the API's
/// error shape. So is one holding a NUL (`%00`): nothing stored can hold one, and
/// PostgreSQL fails any query that is given one.
pub struct ApiPath<T>(pub T);

impl<T, S> FromRequestParts<S> for ApiPath<T>
where
    T: serde::de::DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let axum::extract::Path(value) =
            axum::extract::Path::<T>::from_request_parts(parts, state).await?;
        if let Some(name) = parameter_with_nul(parts, state).await {
            return Err(ApiError::bad_request(format!(
                "path parameter {name} must not contain the NUL character (U+0000)"
            )));
        }
        Ok(ApiPath(value))
    }
}

/// The name of a path parameter that decodes to text holding a NUL, if any (for the API's
/// [`ApiPath`] and the console's page paths alike). Call it once the parameters decoded.
pub async fn parameter_with_nul<S: Send + Sync>(parts: &mut Parts, state: &S) -> Option<String> {
    // The same parameters, decoded the same way as `Path` does.
    let raw = axum::extract::RawPathParams::from_request_parts(parts, state)
        .await
        .ok()?;
    raw.iter()
        .find(|(_, value)| value.contains('\0'))
        .map(|(name, _)| name.to_string())
}

/// The caller, authenticated by a bearer token for the Console API audience.
#[derive(Debug, Clone)]
pub struct Caller(pub Principal);

impl Caller {
    /// Refuses with 403 naming the scope when the token does not carry it.
    pub fn require(&self, scope: Scope) -> Result<&Principal, ApiError> {
        if self.0.scopes.contains(scope) {
            Ok(&self.0)
        } else {
            Err(ApiError::forbidden(format!(
                "the token lacks the scope {scope}"
            )))
        }
    }

    /// A console member acting through the shared cluster functions: its email is the
    /// actor of the activity records. It carries no scope: the console checks the role
    /// matrix before calling.
    pub fn console_member(org_id: &str, email: &str) -> Caller {
        Caller(Principal {
            client_id: email.to_string(),
            org_id: org_id.to_string(),
            scopes: ScopeSet::default(),
        })
    }

    pub fn org_id(&self) -> &str {
        &self.0.org_id
    }

    pub fn client_id(&self) -> &str {
        &self.0.client_id
    }

    /// An activity record of a change this caller made in its organization.
    pub fn audit(
        &self,
        kind: AuditType,
        entity: &str,
        entity_id: &str,
        text: String,
        now: Timestamp,
    ) -> AuditEntry {
        AuditEntry::new(
            self.org_id(),
            self.client_id(),
            kind,
            entity,
            entity_id,
            text,
            now,
        )
    }
}

impl<S> FromRequestParts<S> for Caller
where
    S: Send + Sync,
    AppState: FromRef<S>,
{
    type Rejection = ApiError;

    #[tracing::instrument(skip_all)]
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let state = AppState::from_ref(state);
        let mut values = parts.headers.get_all(AUTHORIZATION).iter();
        let header = values
            .next()
            .ok_or_else(|| ApiError::unauthorized("Bearer"))?;
        let malformed = || {
            tracing::debug!("malformed Authorization header");
            ApiError::unauthorized(r#"Bearer error="invalid_request""#)
        };
        if values.next().is_some() {
            return Err(malformed());
        }
        let token = bearer_token(header).ok_or_else(malformed)?;
        // Admission has verified it already when it was valid.
        let verified = match parts
            .extensions
            .remove::<crate::auth::cache::VerifiedToken>()
        {
            Some(verified) => verified,
            None => state.tokens.verify_cached(token)?,
        };
        // Limited before the database is asked anything, and before the handler writes.
        state
            .limits
            .check_api_request(&verified.client_id, std::time::Instant::now())
            .await
            .map_err(ApiError::too_many_requests)?;
        let principal = state
            .tokens
            .authorize(state.store.as_ref(), verified)
            .await?;
        Ok(Caller(principal))
    }
}

/// The token of an `Authorization: Bearer <token>` header value, if it is one.
pub(super) fn bearer_token(value: &axum::http::HeaderValue) -> Option<&str> {
    let value = value.to_str().ok()?;
    value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
}

/// Where a request came from: the peer's address, or behind a trusted proxy the address it
/// forwarded. `None` when the request did not come through a socket (in-process tests).
#[derive(Debug, Clone, Copy)]
pub struct Source(pub Option<std::net::IpAddr>);

impl Source {
    /// Works the source out from the connection and the forwarding headers. Admission does
    /// this once per request and keeps the answer in the request's extensions.
    pub(super) fn resolve(
        limits: &super::limits::Limits,
        extensions: &axum::http::Extensions,
        headers: &axum::http::HeaderMap,
    ) -> Source {
        Source(
            extensions
                .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
                .map(|info| limits.source_address(info.0, headers)),
        )
    }
}

impl<S> FromRequestParts<S> for Source
where
    S: Send + Sync,
    AppState: FromRef<S>,
{
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        if let Some(source) = parts.extensions.get::<Source>() {
            return Ok(*source);
        }
        let state = AppState::from_ref(state);
        Ok(Source::resolve(
            &state.limits,
            &parts.extensions,
            &parts.headers,
        ))
    }
}

/// Property tests: path segments arrive raw from clients (the JS SDK does not encode them).
#[cfg(test)]
mod properties {
    use super::*;
    use axum::body::Body;
    use axum::http::{Request, StatusCode};
    use axum::routing::get;
    use axum::Router;
    use percent_encoding::{utf8_percent_encode, AsciiSet, CONTROLS};
    use proptest::prelude::*;
    use tower::ServiceExt;

    /// What must be encoded inside a path segment.
    const SEGMENT: &AsciiSet = &CONTROLS
        .add(b' ')
        .add(b'"')
        .add(b'#')
        .add(b'%')
        .add(b'/')
        .add(b'<')
        .add(b'>')
        .add(b'?')
        .add(b'`')
        .add(b'{')
        .add(b'}');

    /// Any text but a NUL, which is refused (see `a_nul_is_refused_in_the_api_shape`).
    fn non_empty() -> impl Strategy<Value = String> {
        (any::<char>(), any::<String>())
            .prop_map(|(c, s)| format!("{c}{s}"))
            .prop_filter("no NUL", |s| !s.contains('\0'))
    }

    fn echo() -> Router {
        Router::new()
            .route(
                "/members/{email}",
                get(|ApiPath(email): ApiPath<String>| async move { email }),
            )
            .route(
                "/clusters/{id}/secrets/{name}",
                get(
                    |ApiPath((id, name)): ApiPath<(String, String)>| async move {
                        format!("{id}\n{name}")
                    },
                ),
            )
    }

    fn call(path: &str) -> Option<(StatusCode, String)> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let request = Request::get(path).body(Body::empty()).ok()?;
        runtime.block_on(async {
            let response = echo().oneshot(request).await.unwrap();
            let status = response.status();
            let body = axum::body::to_bytes(response.into_body(), 1 << 20)
                .await
                .unwrap();
            Some((status, String::from_utf8(body.to_vec()).unwrap()))
        })
    }

    #[test]
    fn a_nul_is_refused_in_the_api_shape() {
        for path in [
            "/members/a%00b",
            "/clusters/c/secrets/%00",
            "/clusters/%00/secrets/x",
        ] {
            let (status, body) = call(path).unwrap();
            assert_eq!(status, StatusCode::BAD_REQUEST, "{path}");
            let error: serde_json::Value = serde_json::from_str(&body).unwrap();
            assert!(
                error["message"].as_str().unwrap().contains("U+0000"),
                "{path}: {body}"
            );
        }
    }

    proptest! {
        #[test]
        fn encoded_segments_arrive_as_sent(email in non_empty(), name in non_empty()) {
            let path = format!("/members/{}", utf8_percent_encode(&email, SEGMENT));
            prop_assert_eq!(call(&path), Some((StatusCode::OK, email.clone())));
            let path = format!(
                "/clusters/{}/secrets/{}",
                utf8_percent_encode(&email, SEGMENT),
                utf8_percent_encode(&name, SEGMENT)
            );
            prop_assert_eq!(call(&path), Some((StatusCode::OK, format!("{email}\n{name}"))));
        }

        #[test]
        fn raw_segments_decode_or_are_refused_in_the_api_shape(
            // Printable ASCII but `#`, `/` and `?`, which end a segment.
            raw in "[ -\"$-.0->@-~]{1,40}",
        ) {
            // `+` stays `+` (the SDK sends emails unencoded); a bad escape is a 400.
            let Some((status, body)) = call(&format!("/members/{raw}")) else {
                return Ok(());
            };
            match status {
                StatusCode::OK => {
                    let decoded = percent_encoding::percent_decode_str(&raw).decode_utf8().unwrap();
                    prop_assert_eq!(body, decoded.to_string());
                }
                StatusCode::BAD_REQUEST => {
                    let error: serde_json::Value = serde_json::from_str(&body).unwrap();
                    prop_assert_eq!(&error["status"], 400);
                }
                _ => prop_assert!(false, "{status} for {raw:?}"),
            }
        }
    }
}
