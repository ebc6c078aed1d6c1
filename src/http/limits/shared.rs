//! The installation-wide count of the limits (PostgreSQL): keys, the sweep, and what to
//! do when the database does not answer (the local count stands; a warning is logged).

use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::{source_key as mask_source, LockoutPolicy, SWEEP_EVERY};
use crate::storage::shared_limits::{
    Counted, SharedCount, SharedLimitStore, SharedLockout, SharedRate,
};

pub struct Shared {
    store: Arc<dyn SharedLimitStore>,
    lockout: SharedLockout,
    next_sweep: Mutex<Instant>,
    /// The lockout keys with failures on record, as the change feed announces them.
    failures: Mutex<KnownFailures>,
}

/// Kept so that a token request with no rate to count asks the database about its lockout
/// only when its key has failures. Erring towards presence is safe (one query more); so a
/// key announced gone that the load still saw stays until the next resynchronisation.
#[derive(Default)]
struct KnownFailures {
    /// Loaded since the feed last (re)connected; until then every lockout is asked for.
    loaded: bool,
    keys: std::collections::HashSet<Vec<u8>>,
}

/// The key of a source's token budget.
pub fn source_key(masked: IpAddr) -> Vec<u8> {
    format!("source:{masked}").into_bytes()
}

/// The key of a client id's token budget.
pub fn client_key(client_id: &str) -> Vec<u8> {
    [b"client:", client_id.as_bytes()].concat()
}

/// The key of a client's Console API budget.
pub fn api_key(client_id: &str) -> Vec<u8> {
    [b"api:", client_id.as_bytes()].concat()
}

/// The key of a client id's lockout at a source. The source comes first and holds no
/// NUL, so no two pairs share a key whatever bytes the id holds.
pub fn lock_key(client_id: &str, source: Option<IpAddr>) -> Vec<u8> {
    let source = source
        .map(|s| mask_source(s).to_string())
        .unwrap_or_default();
    [source.as_bytes(), b"\0", client_id.as_bytes()].concat()
}

impl Shared {
    pub fn new(store: Arc<dyn SharedLimitStore>, policy: LockoutPolicy, now: Instant) -> Self {
        Shared {
            store,
            lockout: SharedLockout {
                threshold: policy.threshold,
                first_lock: policy.lockout,
                longest_lock: policy.max_lockout,
                forget_after: policy.forget_after,
            },
            next_sweep: Mutex::new(now + SWEEP_EVERY),
            failures: Mutex::new(KnownFailures::default()),
        }
    }

    /// A lockout key's failures came on record or went (the change feed).
    pub fn failures_changed(&self, key: Vec<u8>, present: bool) {
        let mut known = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        if present {
            known.keys.insert(key);
        } else {
            known.keys.remove(&key);
        }
    }

    /// Announcements may have been missed: load the set again before trusting it.
    pub fn forget_failures(&self) {
        let mut known = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        known.loaded = false;
    }

    /// Whether `lock_key` is known to have no failures on record, so the database need
    /// not be asked. Loads the set first where the feed is live but it is not loaded.
    pub async fn known_clean(&self, lock_key: &[u8]) -> bool {
        if !self.store.failures_announced() {
            return false;
        }
        {
            let known = self.failures.lock().unwrap_or_else(|e| e.into_inner());
            if known.loaded {
                return !known.keys.contains(lock_key);
            }
        }
        match self.store.failure_keys().await {
            Ok(keys) => {
                let mut known = self.failures.lock().unwrap_or_else(|e| e.into_inner());
                // A union: announcements that came during the load are kept.
                known.keys.extend(keys);
                known.loaded = self.store.failures_announced();
                false
            }
            Err(e) => {
                tracing::warn!(error = %e, "the lockout keys could not be loaded");
                false
            }
        }
    }

    /// Counts one request of `key` for the installation.
    pub async fn take(&self, key: &[u8], rate: SharedRate, now: Instant) -> Result<(), Duration> {
        let counted = Counted { key, rate };
        match self.count(None, Some(counted), None, now).await {
            Some(SharedCount {
                wait: Some(wait), ..
            }) => Err(wait),
            _ => Ok(()),
        }
    }

    /// Counts a request of a source and a client and reads the lock of `lock_key` (see
    /// `SharedLimitStore::count`); None when the database did not answer.
    pub async fn count(
        &self,
        source: Option<Counted<'_>>,
        client: Option<Counted<'_>>,
        lock_key: Option<&[u8]>,
        now: Instant,
    ) -> Option<SharedCount> {
        self.sweep_if_due(now);
        match self.store.count(source, client, lock_key).await {
            Ok(count) => Some(count),
            Err(e) => {
                tracing::warn!(error = %e, "the shared rate limits could not be counted; this replica's own count applies");
                None
            }
        }
    }

    pub async fn record_failure(&self, lock_key: &[u8]) {
        // Known at once here, before the announcement comes back.
        self.failures_changed(lock_key.to_vec(), true);
        if let Err(e) = self.store.record_failure(lock_key, self.lockout).await {
            tracing::warn!(error = %e, "a wrong secret could not be recorded for the installation");
        }
    }

    pub async fn clear_failures(&self, lock_key: &[u8]) {
        if let Err(e) = self.store.clear_failures(lock_key).await {
            tracing::warn!(error = %e, "a lockout streak could not be cleared for the installation");
        }
    }

    /// Every few seconds one request starts a sweep of the shared tables in the background.
    fn sweep_if_due(&self, now: Instant) {
        {
            let Ok(mut next) = self.next_sweep.try_lock() else {
                return;
            };
            if now < *next {
                return;
            }
            *next = now + SWEEP_EVERY;
        }
        let store = self.store.clone();
        let forget_after = self.lockout.forget_after;
        tokio::spawn(async move {
            if let Err(e) = store.sweep(forget_after).await {
                tracing::warn!(error = %e, "the shared rate limits could not be swept");
            }
        });
    }
}
