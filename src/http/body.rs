//! Request bodies on a deadline, and the lingering drain of a refused one.
//!
//! A body must arrive at a minimum average rate once a short grace period has passed
//! (Kestrel's `MinRequestBodyDataRate` is the model): a token form of a hundred bytes has
//! seconds, not the whole request timeout, and a client that stalls mid-body loses its
//! request slot long before the request timeout. A large upload at any ordinary speed is
//! unaffected.
//!
//! A body refused for its size is read and thrown away for a bounded time and number of
//! bytes before the connection closes (nginx's lingering close): clients that send the whole
//! body before reading (Python's `requests`, Go's `net/http`) then read the 413 instead of
//! failing with a broken pipe when the server closes on unread data.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes, HttpBody};
use hyper::body::Frame;
use tokio::time::{Instant, Sleep};

/// The slowest average rate a body may arrive at once the grace period has passed.
pub const MIN_BODY_BYTES_PER_SEC: u64 = 1024;
/// The most a refused body is read before the connection is closed.
pub const DRAIN_MAX_BYTES: u64 = 16 * 1024 * 1024;
/// The longest a refused body is read before the connection is closed.
pub const DRAIN_MAX_TIME: Duration = Duration::from_secs(10);

/// Why a body stopped arriving: shared between the body and the layer that answers.
#[derive(Clone, Default)]
pub struct BodyOutcome(Arc<Outcome>);

#[derive(Default)]
struct Outcome {
    timed_out: AtomicBool,
    /// What was left of a body its reader dropped before the end, kept for draining.
    leftover: Mutex<Option<Body>>,
}

impl BodyOutcome {
    /// Whether the body stopped arriving fast enough.
    pub fn timed_out(&self) -> bool {
        self.0.timed_out.load(Ordering::Relaxed)
    }

    /// The unread rest of the body, if its reader stopped early.
    pub fn take_leftover(&self) -> Option<Body> {
        self.0
            .leftover
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
    }
}

/// A body that fails once it falls behind its deadline: `grace` plus one second per
/// [`MIN_BODY_BYTES_PER_SEC`] received, counted from when it was wrapped.
pub struct DeadlineBody {
    inner: Body,
    started: Instant,
    grace: Duration,
    received: u64,
    sleep: Pin<Box<Sleep>>,
    outcome: BodyOutcome,
    finished: bool,
}

impl DeadlineBody {
    pub fn new(inner: Body, grace: Duration, outcome: BodyOutcome) -> Self {
        let started = Instant::now();
        DeadlineBody {
            inner,
            started,
            grace,
            received: 0,
            sleep: Box::pin(tokio::time::sleep_until(started + grace)),
            outcome,
            finished: false,
        }
    }

    fn deadline(&self) -> Instant {
        let earned = Duration::from_secs_f64(self.received as f64 / MIN_BODY_BYTES_PER_SEC as f64);
        self.started + self.grace + earned
    }
}

impl HttpBody for DeadlineBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let this = self.get_mut();
        if this.finished {
            return Poll::Ready(None);
        }
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    this.received += data.len() as u64;
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(None) => {
                this.finished = true;
                Poll::Ready(None)
            }
            Poll::Ready(Some(Err(e))) => {
                this.finished = true;
                Poll::Ready(Some(Err(e)))
            }
            Poll::Pending => {
                let deadline = this.deadline();
                if this.sleep.deadline() != deadline {
                    this.sleep.as_mut().reset(deadline);
                }
                if this.sleep.as_mut().poll(cx).is_pending() {
                    return Poll::Pending;
                }
                this.finished = true;
                this.outcome.0.timed_out.store(true, Ordering::Relaxed);
                tracing::debug!(
                    received = this.received,
                    "a request body arrived too slowly; giving up on it"
                );
                Poll::Ready(Some(Err(axum::Error::new(
                    "the request body arrived too slowly",
                ))))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.finished || self.inner.is_end_stream()
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        self.inner.size_hint()
    }
}

impl Drop for DeadlineBody {
    fn drop(&mut self) {
        if !self.finished && !self.inner.is_end_stream() {
            let rest = std::mem::replace(&mut self.inner, Body::empty());
            *self
                .outcome
                .0
                .leftover
                .lock()
                .unwrap_or_else(|e| e.into_inner()) = Some(rest);
        }
    }
}

/// Reads and discards what is left of `body`, for at most [`DRAIN_MAX_BYTES`] and
/// [`DRAIN_MAX_TIME`], then drops it (which lets the connection close).
pub fn drain_in_background(body: Body) {
    use tracing::Instrument;
    tokio::spawn(
        async move {
            let mut body = body;
            let mut drained = 0u64;
            let outcome = tokio::time::timeout(DRAIN_MAX_TIME, async {
                while drained <= DRAIN_MAX_BYTES {
                    match std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await {
                        Some(Ok(frame)) => {
                            drained += frame.data_ref().map_or(0, |d| d.len() as u64);
                        }
                        Some(Err(_)) | None => return true,
                    }
                }
                false
            })
            .await;
            if !matches!(outcome, Ok(true)) {
                tracing::debug!(drained, "stopped draining a refused request body");
            }
        }
        // Its log line is the request's: it carries the request's id.
        .in_current_span(),
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::StreamExt;

    fn trickle(chunks: Vec<(Duration, &'static [u8])>) -> Body {
        let stream = futures_util::stream::iter(chunks).then(|(delay, bytes)| async move {
            tokio::time::sleep(delay).await;
            Ok::<_, std::io::Error>(Bytes::from_static(bytes))
        });
        Body::from_stream(stream.chain(futures_util::stream::pending()))
    }

    async fn read_all(body: DeadlineBody) -> Result<Bytes, axum::Error> {
        axum::body::to_bytes(Body::new(body), usize::MAX).await
    }

    #[tokio::test(start_paused = true)]
    async fn a_stalled_body_fails_after_the_grace_period() {
        let outcome = BodyOutcome::default();
        let body = trickle(vec![(Duration::ZERO, b"grant_type=client_cre")]);
        let started = Instant::now();
        let result = read_all(DeadlineBody::new(
            body,
            Duration::from_secs(5),
            outcome.clone(),
        ))
        .await;
        assert!(result.is_err());
        assert!(outcome.timed_out());
        let waited = started.elapsed();
        assert!(
            waited >= Duration::from_secs(5) && waited < Duration::from_millis(5100),
            "{waited:?}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_body_that_keeps_up_the_minimum_rate_is_not_cut_off() {
        // 2 KiB per second for 8 seconds: past the grace period, but never behind.
        static CHUNK: [u8; 2048] = [b'x'; 2048];
        let chunks = (0..8)
            .map(|_| (Duration::from_secs(1), &CHUNK[..]))
            .collect();
        let outcome = BodyOutcome::default();
        let mut body = DeadlineBody::new(trickle(chunks), Duration::from_secs(5), outcome.clone());
        let mut received = 0;
        while received < 8 * 2048 {
            let frame = std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx))
                .await
                .unwrap()
                .unwrap();
            received += frame.into_data().unwrap().len();
        }
        assert!(!outcome.timed_out());
    }

    #[tokio::test]
    async fn an_unfinished_body_is_left_for_draining_and_a_finished_one_is_not() {
        let outcome = BodyOutcome::default();
        let body = DeadlineBody::new(
            trickle(vec![(Duration::ZERO, b"abc")]),
            Duration::from_secs(5),
            outcome.clone(),
        );
        drop(body);
        assert!(outcome.take_leftover().is_some());

        let outcome = BodyOutcome::default();
        let body = DeadlineBody::new(Body::from("abc"), Duration::from_secs(5), outcome.clone());
        read_all(body).await.unwrap();
        assert!(outcome.take_leftover().is_none());
    }
}
