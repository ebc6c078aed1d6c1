//! Admission: whether a request may start, decided from its head alone, before a byte of
//! its body is waited for.
//!
//! - Liveness (`/healthz`) is never refused or queued; readiness checks and metrics scrapes
//!   each have a pool of their own. None of them waits behind API work or behind the other.
//! - A request with a valid bearer token is *authenticated*; every other request is
//!   *unauthenticated* and may use at most half of `--max-concurrent-requests`, so a flood
//!   of anonymous requests cannot take the share of those who hold a token.
//! - One source address may have at most `--max-requests-per-source` unauthenticated
//!   requests in progress, and one client (a token's subject) at most
//!   `--max-requests-per-client` (429 beyond either), so no one caller takes a whole share.
//! - Beyond the bounds a request is shed at once (503 or 429 with `Retry-After`), never
//!   queued; a request, its body included, has `--request-timeout` (408).
//! - A body has `--body-read-timeout` plus time at a minimum rate to arrive (see `body`),
//!   and one announced larger than `--max-body-bytes` is answered 413 at once.

use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, HttpBody};
use axum::extract::{Request, State};
use axum::http::header::{AUTHORIZATION, CONNECTION, CONTENT_LENGTH, EXPECT};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::body::{drain_in_background, BodyOutcome, DeadlineBody};
use super::error::ApiError;
use super::extract::{bearer_token, Source};
use super::limits::{HeldPerKey, HeldSlot, PerSourceCounter, SourceSlot};
use super::{oauth, AppState};
use crate::telemetry::metrics::limit_refused;

/// Readiness checks in progress at once.
const READINESS_CHECKS_IN_PROGRESS: usize = 16;
/// Metrics scrapes in progress at once: a pool of their own, so that a flood of scrapes
/// with wrong credentials cannot take the readiness checks' slots either.
const SCRAPES_IN_PROGRESS: usize = 32;
/// Where a refusal must be in the token endpoint's (RFC 6749) shape.
const TOKEN_PATH: &str = "/oauth/token";

/// The bounds [`admit`] enforces, and the state it counts with.
pub struct Admission {
    app: AppState,
    all: Arc<Semaphore>,
    unauthenticated: Arc<Semaphore>,
    readiness_checks: Arc<Semaphore>,
    scrapes: Arc<Semaphore>,
    per_source: PerSourceCounter,
    per_client: HeldPerKey<String>,
}

impl Admission {
    pub fn new(app: AppState) -> Arc<Self> {
        let settings = &app.settings;
        let all = settings.max_concurrent_requests.max(1);
        // Rounded up, so that a bound of 1 still admits anyone.
        let unauthenticated = all.div_ceil(2);
        Arc::new(Admission {
            all: Arc::new(Semaphore::new(all)),
            unauthenticated: Arc::new(Semaphore::new(unauthenticated)),
            readiness_checks: Arc::new(Semaphore::new(READINESS_CHECKS_IN_PROGRESS)),
            scrapes: Arc::new(Semaphore::new(SCRAPES_IN_PROGRESS)),
            per_source: PerSourceCounter::new(settings.max_requests_per_source),
            per_client: HeldPerKey::new(settings.max_requests_per_client),
            app,
        })
    }
}

/// What a request holds while it runs.
#[allow(dead_code)] // held for their drop
enum Held {
    Nothing,
    Probe(OwnedSemaphorePermit),
    Authenticated(HeldSlot<String>, OwnedSemaphorePermit),
    Unauthenticated(
        Option<SourceSlot>,
        OwnedSemaphorePermit,
        OwnedSemaphorePermit,
    ),
}

enum Refusal {
    /// The server's bound is reached.
    Busy,
    /// This source's bound is reached.
    SourceBusy,
    /// This client's bound is reached.
    ClientBusy,
}

/// A metrics scrape: `/monitoring/{uuid}/metrics`.
fn is_scrape(path: &str) -> bool {
    path.strip_prefix("/monitoring/")
        .is_some_and(|rest| rest.ends_with("/metrics") && rest.matches('/').count() == 1)
}

fn try_permit(semaphore: &Arc<Semaphore>) -> Result<OwnedSemaphorePermit, Refusal> {
    semaphore
        .clone()
        .try_acquire_owned()
        .map_err(|_| Refusal::Busy)
}

/// Decides which share the request runs under. What it works out is kept in the request's
/// extensions, so that it is not worked out twice: a valid token for the `Caller`
/// extractor, the source of an unauthenticated request for the `Source` extractor.
fn admit_request(admission: &Admission, request: &mut Request) -> Result<Held, Refusal> {
    let path = request.uri().path();
    if path == "/healthz" {
        return Ok(Held::Nothing);
    }
    if path == "/readyz" {
        return Ok(Held::Probe(try_permit(&admission.readiness_checks)?));
    }
    if is_scrape(path) {
        return Ok(Held::Probe(try_permit(&admission.scrapes)?));
    }
    let verified = request
        .headers()
        .get(AUTHORIZATION)
        .and_then(bearer_token)
        .and_then(|token| admission.app.tokens.verify_cached(token).ok());
    if let Some(verified) = verified {
        let slot = admission
            .per_client
            .claim(verified.client_id.clone())
            .ok_or(Refusal::ClientBusy)?;
        request.extensions_mut().insert(verified);
        return Ok(Held::Authenticated(slot, try_permit(&admission.all)?));
    }
    let source = Source::resolve(
        &admission.app.limits,
        request.extensions(),
        request.headers(),
    );
    request.extensions_mut().insert(source);
    // In-process requests (tests without a socket) have no source to count.
    let slot = match source.0 {
        Some(addr) => Some(
            admission
                .per_source
                .claim(addr)
                .ok_or(Refusal::SourceBusy)?,
        ),
        None => None,
    };
    Ok(Held::Unauthenticated(
        slot,
        try_permit(&admission.unauthenticated)?,
        try_permit(&admission.all)?,
    ))
}

fn refusal_response(refusal: Refusal, path: &str) -> Response {
    match refusal {
        Refusal::Busy => {
            limit_refused("concurrent_requests");
            tracing::warn!("too many concurrent requests; shedding one");
            ApiError {
                retry_after: Some(1),
                ..ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "the server is busy; retry shortly",
                )
            }
            .into_response()
        }
        Refusal::ClientBusy => {
            limit_refused("requests_per_client");
            tracing::debug!("too many requests in progress of one client; refusing one");
            ApiError::too_many_requests(Duration::from_secs(1)).into_response()
        }
        Refusal::SourceBusy => {
            limit_refused("requests_per_source");
            tracing::debug!("too many requests in progress from one source; refusing one");
            let wait = Duration::from_secs(1);
            if path == TOKEN_PATH {
                oauth::too_many_requests(wait)
            } else {
                ApiError::too_many_requests(wait).into_response()
            }
        }
    }
}

fn too_large(path: &str, limit: usize) -> Response {
    let mut response = if path == TOKEN_PATH {
        oauth::unreadable_body(StatusCode::PAYLOAD_TOO_LARGE)
    } else {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("the request body is larger than {limit} bytes"),
        )
        .into_response()
    };
    close_connection(&mut response);
    response
}

fn close_connection(response: &mut Response) {
    response
        .headers_mut()
        .insert(CONNECTION, HeaderValue::from_static("close"));
}

/// The layer around every route: admission, the request timeout, and the body's deadline.
pub async fn admit(
    State(admission): State<Arc<Admission>>,
    mut request: Request,
    next: Next,
) -> Response {
    let settings = &admission.app.settings;
    let path = request.uri().path().to_owned();
    let held = match admit_request(&admission, &mut request) {
        Ok(held) => held,
        Err(refusal) => return refusal_response(refusal, &path),
    };

    let announced = request
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if announced.is_some_and(|length| length > settings.max_body_bytes as u64) {
        // A client waiting for `100 Continue` has sent nothing and will send nothing now.
        if !request.headers().contains_key(EXPECT) {
            drain_in_background(std::mem::take(request.body_mut()));
        }
        return too_large(&path, settings.max_body_bytes);
    }

    let outcome = BodyOutcome::default();
    // A request without a body (most reads) has nothing to put on a deadline.
    let request = if request.body().is_end_stream() {
        request
    } else {
        request.map(|body| {
            Body::new(DeadlineBody::new(
                body,
                settings.body_read_timeout,
                outcome.clone(),
            ))
        })
    };
    let result = tokio::time::timeout(settings.request_timeout, next.run(request)).await;
    drop(held);
    let mut response = match result {
        Ok(_) if outcome.timed_out() => timed_out("the request body did not arrive in time"),
        Ok(response) => response,
        Err(_) => {
            tracing::warn!(timeout = ?settings.request_timeout, "request timed out");
            timed_out("the request was not completed in time")
        }
    };
    if let Some(rest) = outcome.take_leftover() {
        if response.status() == StatusCode::PAYLOAD_TOO_LARGE {
            close_connection(&mut response);
            drain_in_background(rest);
        }
    }
    response
}

/// 408, closing the connection: the request's body may be unread.
fn timed_out(message: &str) -> Response {
    let mut response = ApiError::new(StatusCode::REQUEST_TIMEOUT, message).into_response();
    close_connection(&mut response);
    response
}

#[cfg(test)]
mod tests {
    use super::is_scrape;

    #[test]
    fn scrapes_are_the_metrics_endpoint_only() {
        assert!(is_scrape("/monitoring/5f0e/metrics"));
        assert!(!is_scrape("/monitoring/5f0e/other/metrics"));
        assert!(!is_scrape("/readyz"));
        assert!(!is_scrape("/clusters"));
    }
}
