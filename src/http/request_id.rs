//! Every request gets an id: the caller's `X-Request-Id` when it is a sane one (at most
//! 128 characters of letters, digits and `-_.:`), else a new one. It is returned in the
//! response's `X-Request-Id` and is a field of the span every log line of the request is
//! written in (`--log-format json` puts it on each line), and of every activity record it
//! causes (`audit_events.request_id`).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument;

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
const MAX_LEN: usize = 128;

/// The caller's id if it is one we keep as given.
fn given(request: &Request) -> Option<HeaderValue> {
    let mut values = request.headers().get_all(&REQUEST_ID).iter();
    let value = values.next()?;
    let sane = values.next().is_none()
        && (1..=MAX_LEN).contains(&value.len())
        && value
            .as_bytes()
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(b));
    sane.then(|| value.clone())
}

/// A new id: this process's random prefix and a counter, 32 hex digits in all — unique
/// across replicas and restarts without a call for randomness per request.
fn new_id() -> HeaderValue {
    static PREFIX: OnceLock<u64> = OnceLock::new();
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let prefix = PREFIX.get_or_init(rand::random::<u64>);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    HeaderValue::from_str(&format!("{prefix:016x}{n:016x}")).expect("hex is a header value")
}

/// Tags the request with its id and, once it is answered, counts it in the metrics by its
/// route's template (`unmatched` when no route matched: never the raw path).
pub async fn tag(mut request: Request, next: Next) -> Response {
    let id = given(&request).unwrap_or_else(new_id);
    // Kept only for the metrics: a clone is a shared reference count's round trip.
    let route = crate::telemetry::metrics::on()
        .then(|| request.extensions().get::<MatchedPath>().cloned())
        .flatten();
    let method = request.method().clone();
    request.headers_mut().insert(REQUEST_ID, id.clone());
    let id_text = id.to_str().unwrap_or_default().to_string();
    let span = tracing::info_span!("request", request_id = %id_text, method = %request.method());
    let started = Instant::now();
    let handled = next.run(request).instrument(span.clone());
    let mut response = crate::domain::audit::REQUEST_ID
        .scope(id_text, handled)
        .await;
    let elapsed = started.elapsed();
    let status = response.status().as_u16();
    span.in_scope(|| {
        tracing::debug!(
            status,
            micros = elapsed.as_micros() as u64,
            "request answered"
        );
    });
    let route = route.as_ref().map_or("unmatched", |r| r.as_str());
    crate::telemetry::metrics::http_request(route, &method, status, elapsed);
    response.headers_mut().insert(REQUEST_ID, id);
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request_with(values: &[&str]) -> Request {
        let mut builder = axum::http::Request::builder();
        for value in values {
            builder = builder.header("x-request-id", *value);
        }
        builder.body(axum::body::Body::empty()).unwrap()
    }

    #[test]
    fn sane_ids_are_kept_and_others_are_not() {
        assert_eq!(
            given(&request_with(&["abc-123_x.y:z"])).unwrap(),
            "abc-123_x.y:z"
        );
        assert!(given(&request_with(&[])).is_none());
        assert!(given(&request_with(&[""])).is_none());
        assert!(given(&request_with(&["has space"])).is_none());
        assert!(given(&request_with(&["a\"b"])).is_none());
        assert!(given(&request_with(&[&"x".repeat(129)])).is_none());
        assert!(given(&request_with(&[&"x".repeat(128)])).is_some());
        assert!(given(&request_with(&["one", "two"])).is_none());
    }

    #[test]
    fn new_ids_differ() {
        let (a, b) = (new_id(), new_id());
        assert_ne!(a, b);
        assert_eq!(a.len(), 32);
    }
}
