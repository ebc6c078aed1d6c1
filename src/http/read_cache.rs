//! Serialized response bodies of hot reads (`GET /clusters`, `GET /clusters/{uuid}`), kept
//! so that polling clients cost a hash lookup instead of a query and a serialization.
//!
//! An entry is served only while (a) the store's write epoch is what it was when the read
//! started — every write this process commits moves it —, (b) its organization's epoch is
//! too — a change another replica committed moves it ([`ReadCache::forget_org`], from the
//! PostgreSQL change feed) —, and (c) it is younger than the state TTL, which bounds how
//! long a write by another process (the operator CLI, a replica whose notification is late)
//! can go unseen. While the store's epoch is unknown (PostgreSQL with its change listener
//! down) nothing is cached.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::error::{ApiError, ApiResult};
use super::AppState;
use crate::telemetry::metrics::{cache_lookup, Cache};

/// Bodies larger than this are not kept (a huge list is cheaper to rebuild than to hold).
const MAX_ENTRY_BYTES: usize = 4 * 1024 * 1024;

struct Entry {
    body: Bytes,
    epoch: u64,
    org: Box<str>,
    org_epoch: u64,
    read_at: Instant,
}

pub struct ReadCache {
    entries: Mutex<HashMap<String, Entry>>,
    /// One rebuild per key at a time: when an entry lapses under load, the first request
    /// rebuilds it and the others wait for that instead of all rebuilding at once.
    flights: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    /// Per organization, moved by every change another process committed to it.
    org_epochs: Mutex<HashMap<Box<str>, u64>>,
    ttl: Duration,
    max_bytes: usize,
    bytes: Mutex<usize>,
}

impl ReadCache {
    pub fn new(ttl: Duration, max_bytes: usize) -> Self {
        ReadCache {
            entries: Mutex::new(HashMap::new()),
            flights: Mutex::new(HashMap::new()),
            org_epochs: Mutex::new(HashMap::new()),
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

    /// The organization's epoch now; taken before a read begins.
    pub fn org_epoch(&self, org: &str) -> u64 {
        let epochs = self.org_epochs.lock().expect("read cache poisoned");
        epochs.get(org).copied().unwrap_or(0)
    }

    /// Another process changed what the organization's reads show: its entries are no
    /// longer served, nor are those of reads under way now.
    pub fn forget_org(&self, org: &str) {
        let mut epochs = self.org_epochs.lock().expect("read cache poisoned");
        *epochs.entry(org.into()).or_insert(0) += 1;
    }

    /// Drops everything (changes may have been missed).
    pub fn clear(&self) {
        self.entries.lock().expect("read cache poisoned").clear();
        *self.bytes.lock().expect("read cache poisoned") = 0;
    }

    pub fn get(&self, key: &str, epoch: Option<u64>, now: Instant) -> Option<Bytes> {
        let epoch = epoch?;
        if self.ttl.is_zero() {
            return None;
        }
        let found = {
            let entries = self.entries.lock().expect("read cache poisoned");
            entries.get(key).and_then(|entry| {
                (entry.epoch == epoch
                    && now.duration_since(entry.read_at) < self.ttl
                    && entry.org_epoch == self.org_epoch(&entry.org))
                .then(|| entry.body.clone())
            })
        };
        cache_lookup(Cache::Responses, found.is_some());
        found
    }

    /// Keeps `body`, read when the epochs were `epoch` and `org_epoch` (taken before the
    /// read began).
    pub fn insert(
        &self,
        key: &str,
        (org, org_epoch): (&str, u64),
        body: Bytes,
        epoch: Option<u64>,
        read_at: Instant,
    ) {
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
                org: org.into(),
                org_epoch,
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

/// Answers from the read cache, or loads, serializes once and keeps the body. `key` names
/// the read among those of `org`, whose changes drop it.
pub async fn cached_json<T: Serialize>(
    state: &AppState,
    org: &str,
    key: &str,
    load: impl std::future::Future<Output = ApiResult<T>>,
) -> ApiResult<Response> {
    let body = cached_bytes(state, org, key, async { serialize(&load.await?) }).await?;
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
    org: &str,
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
    let org_epoch = cache.org_epoch(org);
    let epoch = state.store.write_epoch();
    if let Some(body) = cache.get(key, epoch, started) {
        return Ok(body);
    }
    let body = build.await?;
    cache.insert(key, (org, org_epoch), body.clone(), epoch, started);
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_live_until_a_write_or_the_ttl() {
        let cache = ReadCache::new(Duration::from_millis(100), 1 << 20);
        let t0 = Instant::now();
        cache.insert("k", ("o", 0), Bytes::from_static(b"v"), Some(7), t0);
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
    fn a_change_of_the_organization_drops_its_entries_and_reads_under_way() {
        let cache = ReadCache::new(Duration::from_secs(10), 1 << 20);
        let t0 = Instant::now();
        cache.insert(
            "a",
            ("o1", cache.org_epoch("o1")),
            Bytes::from_static(b"1"),
            Some(1),
            t0,
        );
        cache.insert(
            "b",
            ("o2", cache.org_epoch("o2")),
            Bytes::from_static(b"2"),
            Some(1),
            t0,
        );
        // A read of o1 starts, then another replica's change to o1 arrives.
        let started = cache.org_epoch("o1");
        cache.forget_org("o1");
        assert_eq!(cache.get("a", Some(1), t0), None);
        assert_eq!(cache.get("b", Some(1), t0), Some(Bytes::from_static(b"2")));
        // What the read under way found may predate the change: not served.
        cache.insert(
            "a",
            ("o1", started),
            Bytes::from_static(b"old"),
            Some(1),
            t0,
        );
        assert_eq!(cache.get("a", Some(1), t0), None);
        let now = cache.org_epoch("o1");
        cache.insert("a", ("o1", now), Bytes::from_static(b"new"), Some(1), t0);
        assert_eq!(
            cache.get("a", Some(1), t0),
            Some(Bytes::from_static(b"new"))
        );
        cache.clear();
        assert_eq!(cache.get("b", Some(1), t0), None);
    }

    #[test]
    fn the_cache_stays_within_its_byte_budget() {
        let cache = ReadCache::new(Duration::from_secs(10), 10);
        let t0 = Instant::now();
        for i in 0..100 {
            cache.insert(
                &format!("k{i}"),
                ("o", 0),
                Bytes::from(vec![0u8; 4]),
                Some(1),
                t0,
            );
            assert!(*cache.bytes.lock().unwrap() <= 10);
        }
        let none = ReadCache::new(Duration::ZERO, 10);
        none.insert("k", ("o", 0), Bytes::from_static(b"v"), Some(1), t0);
        assert_eq!(
            none.get("k", Some(1), t0),
            None,
            "a zero TTL disables caching"
        );
    }
}
