//! Layers around every route: the bound on concurrent requests (503), the request timeout
//! (408), security headers and CORS.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{header, HeaderName, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tokio::sync::Semaphore;
use tower_http::cors::{AllowOrigin, CorsLayer};

use super::error::ApiError;

/// What [`guard`] enforces.
#[derive(Clone)]
pub struct RequestGuard {
    permits: Arc<Semaphore>,
    timeout: Duration,
}

impl RequestGuard {
    pub fn new(max_concurrent: usize, timeout: Duration) -> Self {
        RequestGuard {
            permits: Arc::new(Semaphore::new(max_concurrent)),
            timeout,
        }
    }
}

/// Sheds load beyond the concurrency bound at once (503 with `Retry-After`, nothing done)
/// rather than queueing it, and answers 408 when a request, its body included, takes longer
/// than the timeout. A timed-out request is dropped where it stands; every write runs in a
/// transaction, so it is wholly done or not at all.
pub async fn guard(State(guard): State<RequestGuard>, request: Request, next: Next) -> Response {
    let Ok(_permit) = guard.permits.try_acquire() else {
        tracing::warn!("too many concurrent requests; shedding one");
        return ApiError {
            retry_after: Some(1),
            ..ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "the server is busy; retry shortly",
            )
        }
        .into_response();
    };
    match tokio::time::timeout(guard.timeout, next.run(request)).await {
        Ok(response) => response,
        Err(_) => {
            tracing::warn!(timeout = ?guard.timeout, "request timed out");
            let mut response = ApiError::new(
                StatusCode::REQUEST_TIMEOUT,
                "the request was not completed in time",
            )
            .into_response();
            // The request's body may be unread: do not reuse the connection.
            response
                .headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
            response
        }
    }
}

/// Headers every response carries unless its handler set them: no caching (responses carry
/// secrets and tokens), no content sniffing, no framing, no referrer.
pub const SECURITY_HEADERS: [(HeaderName, &str); 4] = [
    (header::CACHE_CONTROL, "no-store"),
    (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
    (header::X_FRAME_OPTIONS, "DENY"),
    (header::REFERRER_POLICY, "no-referrer"),
];

/// CORS for browser clients of the given origins (`*` for any); `None` when the list is
/// empty, and then no CORS header is ever sent.
pub fn cors(origins: &[String]) -> anyhow::Result<Option<CorsLayer>> {
    let origins: Vec<&str> = origins
        .iter()
        .map(|o| o.trim())
        .filter(|o| !o.is_empty())
        .collect();
    if origins.is_empty() {
        return Ok(None);
    }
    let allow_origin = if origins.contains(&"*") {
        AllowOrigin::any()
    } else {
        let mut values = Vec::new();
        for origin in origins {
            let origin = origin.trim_end_matches('/');
            anyhow::ensure!(
                origin.starts_with("http://") || origin.starts_with("https://"),
                "CORS origin {origin:?} must look like https://app.example.com"
            );
            values.push(HeaderValue::from_str(origin)?);
        }
        AllowOrigin::list(values)
    };
    Ok(Some(
        CorsLayer::new()
            .allow_origin(allow_origin)
            .allow_methods([
                Method::GET,
                Method::POST,
                Method::PUT,
                Method::PATCH,
                Method::DELETE,
            ])
            .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE])
            .expose_headers([header::RETRY_AFTER, header::WWW_AUTHENTICATE])
            .max_age(Duration::from_secs(600)),
    ))
}
