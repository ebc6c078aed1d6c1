//! Optimistic writes: read, decide, write on the condition that nothing changed since the
//! read, and on a miss read and decide again. One attempt policy serves every such write,
//! and one answer when all attempts miss.

use std::future::Future;

use axum::http::StatusCode;

use super::error::{ApiError, ApiResult};

/// Attempts of one optimistic write. The reconciler bumps a cluster's version while it
/// provisions it, so a write may miss a few times in a row without real contention.
pub const ATTEMPTS: usize = 10;

/// Runs `attempt` until it decides (`Some`) or fails, at most `ATTEMPTS` times; `None`
/// means its conditional write missed. When every attempt misses, answers that `what`
/// changed concurrently.
pub async fn optimistically<T, F, Fut>(what: &str, mut attempt: F) -> ApiResult<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = ApiResult<Option<T>>>,
{
    for _ in 0..ATTEMPTS {
        if let Some(done) = attempt().await? {
            return Ok(done);
        }
    }
    Err(changed_concurrently(what))
}

/// 503 with `Retry-After: 1`: `what` kept changing while this request was handled.
/// Nothing was written, so a retry is safe (the JS SDK retries 503 by itself).
fn changed_concurrently(what: &str) -> ApiError {
    ApiError {
        retry_after: Some(1),
        ..ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            format!("{what} was changed concurrently; try again"),
        )
    }
}
