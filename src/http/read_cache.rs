//! Serialized response bodies of hot reads (`GET /clusters`, `GET /clusters/{uuid}`), kept
//! so that polling clients cost a hash lookup instead of a query and a serialization.
//!
//! An entry is served only while (a) the store's write epoch is what it was when the read
//! started — every write this process commits moves it — and (b) it is younger than the
//! state TTL, which bounds how long a write by another process (the operator CLI) can go
//! unseen. Stores whose epoch is unknown (PostgreSQL, where replicas write too) are never
//! cached.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::error::{ApiError, ApiResult};
use super::AppState;

/// Bodies larger than this are not kept (a huge list is cheaper to rebuild than to hold).
const MAX_ENTRY_BYTES: usize = 4 * 1024 * 1024;

struct Entry {
    body: Bytes,
    epoch: u64,
    read_at: Instant,
}

pub struct ReadCache {
    entries: Mutex<HashMap<String, Entry>>,
    /// One rebuild per key at a time: when an entry lapses under load, the first request
    /// rebuilds it and the others wait for that instead of all rebuilding at once.
    flights: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    ttl: Duration,
    max_bytes: usize,
    bytes: Mutex<usize>,
}

impl ReadCache {
    pub fn new(ttl: Duration, max_bytes: usize) -> Self {
        ReadCache {
            entries: Mutex::new(HashMap::new()),
            flights: Mutex::new(HashMap::new()),
            ttl,
            max_bytes,
            bytes: Mutex::new(0),
        }
    }

    /// The lock that serializes rebuilds of `key`.
    pub fn flight(&self, key: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut flights = self.flights.lock().expect("read cache poisoned");
        if flights.len() > 1024 {
            // Forget locks nobody holds or waits for.
            flights.retain(|_, lock| Arc::strong_count(lock) > 1);
        }
        flights.entry(key.to_string()).or_default().clone()
    }

    pub fn get(&self, key: &str, epoch: Option<u64>, now: Instant) -> Option<Bytes> {
        let epoch = epoch?;
        if self.ttl.is_zero() {
            return None;
        }
        let entries = self.entries.lock().expect("read cache poisoned");
        let entry = entries.get(key)?;
        (entry.epoch == epoch && now.duration_since(entry.read_at) < self.ttl)
            .then(|| entry.body.clone())
    }

    /// Keeps `body`, read when the epoch was `epoch` (taken before the read began).
    pub fn insert(&self, key: &str, body: Bytes, epoch: Option<u64>, read_at: Instant) {
        let Some(epoch) = epoch else { return };
        if self.ttl.is_zero() || body.len() > MAX_ENTRY_BYTES {
            return;
        }
        let mut entries = self.entries.lock().expect("read cache poisoned");
        let mut bytes = self.bytes.lock().expect("read cache poisoned");
        if let Some(old) = entries.remove(key) {
            *bytes -= old.body.len();
        }
        if *bytes + body.len() > self.max_bytes {
            // Stale entries first; if that is not enough, start over.
            let ttl = self.ttl;
            entries.retain(|_, e| e.epoch == epoch && read_at.duration_since(e.read_at) < ttl);
            *bytes = entries.values().map(|e| e.body.len()).sum();
            if *bytes + body.len() > self.max_bytes {
                entries.clear();
                *bytes = 0;
            }
        }
        *bytes += body.len();
        entries.insert(
            key.to_string(),
            Entry {
                body,
                epoch,
                read_at,
            },
        );
    }
}

fn serialize<T: Serialize>(value: &T) -> ApiResult<Bytes> {
    Ok(Bytes::from(
        serde_json::to_vec(value).map_err(ApiError::internal)?,
    ))
}

/// Answers from the read cache, or loads, serializes once and keeps the body.
pub async fn cached_json<T: Serialize>(
    state: &AppState,
    key: &str,
    load: impl std::future::Future<Output = ApiResult<T>>,
) -> ApiResult<Response> {
    let body = cached_bytes(state, key, async { serialize(&load.await?) }).await?;
    Ok((
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response())
}

/// The bytes kept under `key`, or built once by `build` and kept (under the same rules:
/// until this process writes, at most the state TTL, never without a write epoch).
pub async fn cached_bytes(
    state: &AppState,
    key: &str,
    build: impl std::future::Future<Output = ApiResult<Bytes>>,
) -> ApiResult<Bytes> {
    let cache = &state.read_cache;
    if let Some(body) = cache.get(key, state.store.write_epoch(), Instant::now()) {
        return Ok(body);
    }
    if state.store.write_epoch().is_none() {
        return build.await;
    }
    let flight = cache.flight(key);
    let _rebuilding = flight.lock().await;
    // Someone else may have rebuilt it while this request waited.
    let started = Instant::now();
    let epoch = state.store.write_epoch();
    if let Some(body) = cache.get(key, epoch, started) {
        return Ok(body);
    }
    let body = build.await?;
    cache.insert(key, body.clone(), epoch, started);
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_live_until_a_write_or_the_ttl() {
        let cache = ReadCache::new(Duration::from_millis(100), 1 << 20);
        let t0 = Instant::now();
        cache.insert("k", Bytes::from_static(b"v"), Some(7), t0);
        assert_eq!(cache.get("k", Some(7), t0), Some(Bytes::from_static(b"v")));
        assert_eq!(cache.get("k", Some(8), t0), None, "a write moved the epoch");
        assert_eq!(
            cache.get("k", Some(7), t0 + Duration::from_millis(100)),
            None,
            "too old"
        );
        assert_eq!(cache.get("k", None, t0), None, "no epoch, no caching");
    }

    #[test]
    fn the_cache_stays_within_its_byte_budget() {
        let cache = ReadCache::new(Duration::from_secs(10), 10);
        let t0 = Instant::now();
        for i in 0..100 {
            cache.insert(&format!("k{i}"), Bytes::from(vec![0u8; 4]), Some(1), t0);
            assert!(*cache.bytes.lock().unwrap() <= 10);
        }
        let none = ReadCache::new(Duration::ZERO, 10);
        none.insert("k", Bytes::from_static(b"v"), Some(1), t0);
        assert_eq!(
            none.get("k", Some(1), t0),
            None,
            "a zero TTL disables caching"
        );
    }
}
