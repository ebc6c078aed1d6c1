//! Rate limits: GCRA buckets keyed by client id or source address, and the lockout of a
//! client id at a source address after repeated wrong secrets from there. Counted in
//! process (every map bounded and swept of entries that no longer hold anything back; time
//! passed in) and, on PostgreSQL, also for the installation (`shared`).
//!
//! A limit is checked before the request does any work that writes, so a request answered
//! 429 has changed nothing (the JS SDK retries POSTs on 429).
//!
//! Why not `governor`: its keyed limiter inserts every new key it is asked about and offers
//! no way to refuse new keys once a bound is reached (only to sweep old ones later), so a
//! flood of spoofed client ids would grow it without limit; it reads its own clock, where
//! these limiters take the time as an argument like the domain does; and the limits that
//! hold across replicas need state in the database, which it does not have. The GCRA
//! itself is the dozen lines of [`RateLimiter::check`].

use std::borrow::Borrow;
use std::collections::HashMap;
use std::hash::Hash;
use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::http::HeaderMap;

use crate::domain::ip_allowlist::IpRange;
use crate::storage::shared_limits::{Counted, SharedLimitStore, SharedRate};
use crate::telemetry::metrics::limit_refused;
use shared::Shared;

mod held;
mod shared;
mod source;
pub use held::{HeldPerKey, HeldSlot};
pub use source::{source_address, source_key, PerSourceCounter, SourceSlot};

/// Keys a limiter tracks at most; beyond that (after a sweep) new keys are refused.
const MAX_KEYS: usize = 100_000;
/// How often a map is swept of entries that hold nothing back any more.
const SWEEP_EVERY: Duration = Duration::from_secs(10);
/// Client ids longer than this are not tracked (no client has one; their requests fail).
pub const MAX_TRACKED_ID_BYTES: usize = 256;

/// A rate: bursts of up to `burst` requests, refilled at `burst` per `period`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateSpec {
    pub burst: u32,
    pub period: Duration,
}

/// A configured rate limit: `N/PERIOD` (`60/1m`, `5/1s`) or `off`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit(pub Option<RateSpec>);

impl FromStr for RateLimit {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let text = text.trim();
        if text.eq_ignore_ascii_case("off") {
            return Ok(RateLimit(None));
        }
        let invalid = || format!("{text:?} is not a rate such as 60/1m, or off");
        let (count, period) = text.split_once('/').ok_or_else(invalid)?;
        let burst: u32 = count.trim().parse().map_err(|_| invalid())?;
        let period = humantime::parse_duration(period.trim()).map_err(|_| invalid())?;
        // At most one a day's year; at least a nanosecond between two requests.
        if burst == 0 || period > Duration::from_secs(86_400 * 365) || (period / burst).is_zero() {
            return Err(invalid());
        }
        Ok(RateLimit(Some(RateSpec { burst, period })))
    }
}

/// A bounded map that is swept of expired entries now and then, and when full.
struct Bounded<K, V> {
    entries: HashMap<K, V>,
    capacity: usize,
    next_sweep: Instant,
}

impl<K: Hash + Eq, V> Bounded<K, V> {
    fn new(capacity: usize, now: Instant) -> Self {
        Bounded {
            entries: HashMap::new(),
            capacity,
            next_sweep: now + SWEEP_EVERY,
        }
    }

    fn sweep_if_due(&mut self, now: Instant, expired: impl Fn(&V) -> bool) {
        if now >= self.next_sweep {
            self.entries.retain(|_, v| !expired(v));
            self.next_sweep = now + SWEEP_EVERY;
        }
    }

    /// Room for one more key, sweeping first when full.
    fn has_room(&mut self, now: Instant, expired: impl Fn(&V) -> bool) -> bool {
        if self.entries.len() < self.capacity {
            return true;
        }
        self.entries.retain(|_, v| !expired(v));
        self.next_sweep = now + SWEEP_EVERY;
        let room = self.entries.len() < self.capacity;
        if !room {
            tracing::warn!(
                keys = self.entries.len(),
                "a rate limiter is full; new keys are refused"
            );
        }
        room
    }
}

/// The generic cell rate algorithm: each key keeps the time its bucket is full again (the
/// "theoretical arrival time"); a request moves it one interval on and is refused when
/// that would put it more than one period ahead of now.
pub struct RateLimiter<K> {
    interval: Duration,
    tolerance: Duration,
    state: Mutex<Bounded<K, Instant>>,
}

impl<K: Hash + Eq> RateLimiter<K> {
    pub fn new(spec: RateSpec, now: Instant) -> Self {
        Self::with_capacity(spec, MAX_KEYS, now)
    }

    fn with_capacity(spec: RateSpec, capacity: usize, now: Instant) -> Self {
        RateLimiter {
            interval: spec.period / spec.burst,
            tolerance: spec.period,
            state: Mutex::new(Bounded::new(capacity, now)),
        }
    }

    /// The rate, to count it for the installation too.
    fn rate(&self) -> SharedRate {
        SharedRate {
            interval: self.interval,
            tolerance: self.tolerance,
        }
    }

    /// Counts a request of `key`; `Err` holds how long until one would be allowed.
    pub fn check<Q>(&self, key: &Q, now: Instant) -> Result<(), Duration>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ToOwned<Owned = K> + ?Sized,
    {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let expired = |tat: &Instant| *tat <= now;
        state.sweep_if_due(now, expired);
        let interval = self.interval;
        let limit = now + self.tolerance;
        if let Some(tat) = state.entries.get_mut(key) {
            let next = (*tat).max(now) + interval;
            if next > limit {
                return Err(next - limit);
            }
            *tat = next;
            return Ok(());
        }
        if !state.has_room(now, expired) {
            return Err(interval);
        }
        state.entries.insert(key.to_owned(), now + interval);
        Ok(())
    }
}

/// When a client id's wrong secrets lock it, and for how long.
#[derive(Debug, Clone, Copy)]
pub struct LockoutPolicy {
    /// Consecutive failures that lock the id; 0 never locks.
    pub threshold: u32,
    /// The first lock; each further failure doubles it.
    pub lockout: Duration,
    /// The longest lock.
    pub max_lockout: Duration,
    /// Failures this long ago are forgotten.
    pub forget_after: Duration,
}

impl LockoutPolicy {
    pub fn new(threshold: u32, lockout: Duration) -> Self {
        let max_lockout = lockout.max(Duration::from_secs(15 * 60));
        LockoutPolicy {
            threshold,
            lockout,
            max_lockout,
            forget_after: max_lockout,
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    last: Instant,
    locked_until: Option<Instant>,
}

/// Where a lockout applies: a client id as asked for from one source (an IPv6 source by its
/// /64). Keyed by both, as hosted identity providers do, so that wrong secrets sent from one
/// place cannot lock the client out everywhere else; the per-client rate limit stays the
/// ceiling on guesses spread over many sources.
type LockoutKey = (String, Option<IpAddr>);

/// Consecutive wrong secrets per client id and source.
pub struct FailedSecrets {
    policy: LockoutPolicy,
    state: Mutex<Bounded<LockoutKey, Failures>>,
}

impl FailedSecrets {
    pub fn new(policy: LockoutPolicy, now: Instant) -> Self {
        FailedSecrets {
            policy,
            state: Mutex::new(Bounded::new(MAX_KEYS, now)),
        }
    }

    fn expired(&self, now: Instant) -> impl Fn(&Failures) -> bool {
        let forget_after = self.policy.forget_after;
        move |f: &Failures| {
            f.locked_until.is_none_or(|until| until <= now) && f.last + forget_after <= now
        }
    }

    fn key(client_id: &str, source: Option<IpAddr>) -> LockoutKey {
        (client_id.to_string(), source.map(source_key))
    }

    /// `Err` holds how long the id stays locked for this source.
    pub fn check(
        &self,
        client_id: &str,
        source: Option<IpAddr>,
        now: Instant,
    ) -> Result<(), Duration> {
        if self.policy.threshold == 0 {
            return Ok(());
        }
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        state.sweep_if_due(now, self.expired(now));
        match state
            .entries
            .get(&Self::key(client_id, source))
            .and_then(|f| f.locked_until)
        {
            Some(until) if until > now => Err(until - now),
            _ => Ok(()),
        }
    }

    /// Records a wrong secret from `source`; from the threshold on, locks the id there.
    pub fn failed(&self, client_id: &str, source: Option<IpAddr>, now: Instant) {
        if self.policy.threshold == 0 || client_id.len() > MAX_TRACKED_ID_BYTES {
            return;
        }
        let policy = self.policy;
        let key = Self::key(client_id, source);
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let expired = self.expired(now);
        if !state.entries.contains_key(&key) && !state.has_room(now, &expired) {
            return;
        }
        let entry = state.entries.entry(key).or_insert(Failures {
            count: 0,
            last: now,
            locked_until: None,
        });
        if entry.last + policy.forget_after <= now {
            entry.count = 0;
        }
        entry.count = entry.count.saturating_add(1);
        entry.last = now;
        if entry.count >= policy.threshold {
            let doublings = (entry.count - policy.threshold).min(20);
            let lock = policy
                .lockout
                .saturating_mul(1 << doublings)
                .min(policy.max_lockout);
            entry.locked_until = Some(now + lock);
        }
    }

    /// A right secret ends the streak of that source.
    pub fn succeeded(&self, client_id: &str, source: Option<IpAddr>) {
        if self.policy.threshold == 0 {
            return;
        }
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        state.entries.remove(&Self::key(client_id, source));
    }
}

/// Every limit the HTTP layer applies, built from the settings.
///
/// Each limit is counted in this process; on PostgreSQL it is also counted for the whole
/// installation (`shared`), so that replicas together allow what one would. The local
/// count comes first: what this process alone has used up, the installation has too, so
/// a flood on one replica is refused without a database round trip. Should the shared
/// count fail (the database unreachable), the local one still holds.
pub struct Limits {
    token_per_source: Option<RateLimiter<IpAddr>>,
    token_per_client: Option<RateLimiter<String>>,
    api_per_client: Option<RateLimiter<String>>,
    failed_secrets: FailedSecrets,
    shared: Option<Shared>,
    pub trusted_proxies: Vec<IpRange>,
}

/// What [`Limits::check_token_client`] found, for the answer to the secret.
#[derive(Debug, Clone, Copy, Default)]
#[must_use]
pub struct SecretCheck {
    /// Wrong secrets of this client id and source are on record for the installation.
    shared_failures: bool,
}

impl Limits {
    pub fn new(
        token_per_source: RateLimit,
        token_per_client: RateLimit,
        api_per_client: RateLimit,
        lockout: LockoutPolicy,
        trusted_proxies: Vec<IpRange>,
        shared: Option<Arc<dyn SharedLimitStore>>,
    ) -> Self {
        let now = Instant::now();
        Limits {
            token_per_source: token_per_source.0.map(|s| RateLimiter::new(s, now)),
            token_per_client: token_per_client.0.map(|s| RateLimiter::new(s, now)),
            api_per_client: api_per_client.0.map(|s| RateLimiter::new(s, now)),
            failed_secrets: FailedSecrets::new(lockout, now),
            shared: shared.map(|store| Shared::new(store, lockout, now)),
            trusted_proxies,
        }
    }

    /// No limits at all.
    pub fn none() -> Self {
        Self::new(
            RateLimit(None),
            RateLimit(None),
            RateLimit(None),
            LockoutPolicy::new(0, Duration::ZERO),
            Vec::new(),
            None,
        )
    }

    /// Counts a token request from `source` in this process, at the request head: before
    /// a byte of the body is waited for. (The installation's count of the source is taken
    /// with the client's, in [`Limits::check_token_client`]: one round trip for both.) `Err`
    /// holds how long to wait.
    pub fn check_token_source(&self, source: Option<IpAddr>, now: Instant) -> Result<(), Duration> {
        match (&self.token_per_source, source) {
            (Some(limiter), Some(source)) => limiter
                .check(&source_key(source), now)
                .inspect_err(|_| limit_refused("token_per_source")),
            _ => Ok(()),
        }
    }

    /// Counts a token request for `client_id`, then checks the id's lockout at `source`
    /// (before the secret is checked); where limits are shared, also counts the source for
    /// the installation. `Err` holds how long to wait.
    pub async fn check_token_client(
        &self,
        client_id: &str,
        source: Option<IpAddr>,
        now: Instant,
    ) -> Result<SecretCheck, Duration> {
        let tracked = client_id.len() <= MAX_TRACKED_ID_BYTES;
        if tracked {
            if let Some(limiter) = &self.token_per_client {
                limiter
                    .check(client_id, now)
                    .inspect_err(|_| limit_refused("token_per_client"))?;
            }
        }
        // The lockout is the installation's where it is shared: this process's streak
        // would miss a right secret given to another replica. Its own count is the
        // fallback while the database does not answer.
        let shared_count = match &self.shared {
            Some(shared) => {
                let source_key = self
                    .token_per_source
                    .as_ref()
                    .zip(source)
                    .map(|(limiter, ip)| (shared::source_key(source_key(ip)), limiter.rate()));
                let client_key = self
                    .token_per_client
                    .as_ref()
                    .filter(|_| tracked)
                    .map(|limiter| (shared::client_key(client_id), limiter.rate()));
                let locks = self.failed_secrets.policy.threshold > 0 && tracked;
                let lock_key = locks.then(|| shared::lock_key(client_id, source));
                // Nothing to count and no failures on record for the key: nothing to ask.
                let nothing_to_ask = source_key.is_none()
                    && client_key.is_none()
                    && match &lock_key {
                        Some(key) => shared.known_clean(key).await,
                        None => true,
                    };
                if nothing_to_ask {
                    return Ok(SecretCheck::default());
                }
                shared
                    .count(
                        source_key.as_ref().map(counted),
                        client_key.as_ref().map(counted),
                        lock_key.as_deref(),
                        now,
                    )
                    .await
            }
            None => None,
        };
        match shared_count {
            Some(count) => match (count.wait, count.locked_for) {
                (Some(wait), _) => {
                    limit_refused("token_rate_shared");
                    Err(wait)
                }
                (None, Some(wait)) => {
                    limit_refused("lockout");
                    Err(wait)
                }
                (None, None) => Ok(SecretCheck {
                    shared_failures: count.has_failures,
                }),
            },
            None => {
                if tracked {
                    self.failed_secrets
                        .check(client_id, source, now)
                        .inspect_err(|_| limit_refused("lockout"))?;
                }
                Ok(SecretCheck {
                    shared_failures: self.shared.is_some(),
                })
            }
        }
    }

    /// A wrong secret for `client_id` from `source`: counts toward its lockout there.
    pub async fn secret_refused(&self, client_id: &str, source: Option<IpAddr>, now: Instant) {
        self.failed_secrets.failed(client_id, source, now);
        let policy = self.failed_secrets.policy;
        if let Some(shared) = &self.shared {
            if policy.threshold > 0 && client_id.len() <= MAX_TRACKED_ID_BYTES {
                shared
                    .record_failure(&shared::lock_key(client_id, source))
                    .await;
            }
        }
    }

    /// A right secret for `client_id` from `source`: ends the streak of wrong ones there.
    pub async fn secret_accepted(
        &self,
        client_id: &str,
        source: Option<IpAddr>,
        check: SecretCheck,
    ) {
        self.failed_secrets.succeeded(client_id, source);
        if let (Some(shared), true) = (&self.shared, check.shared_failures) {
            shared
                .clear_failures(&shared::lock_key(client_id, source))
                .await;
        }
    }

    /// Counts a Console API request of `client_id`.
    pub async fn check_api_request(&self, client_id: &str, now: Instant) -> Result<(), Duration> {
        let Some(limiter) = &self.api_per_client else {
            return Ok(());
        };
        if client_id.len() > MAX_TRACKED_ID_BYTES {
            return Ok(());
        }
        limiter
            .check(client_id, now)
            .inspect_err(|_| limit_refused("api_per_client"))?;
        match &self.shared {
            Some(shared) => shared
                .take(&shared::api_key(client_id), limiter.rate(), now)
                .await
                .inspect_err(|_| limit_refused("api_per_client_shared")),
            None => Ok(()),
        }
    }

    /// The change feed announced that a lockout key's failures came on record or went.
    pub fn failures_changed(&self, key: Vec<u8>, present: bool) {
        if let Some(shared) = &self.shared {
            shared.failures_changed(key, present);
        }
    }

    /// The change feed may have missed announcements.
    pub fn forget_failures(&self) {
        if let Some(shared) = &self.shared {
            shared.forget_failures();
        }
    }

    /// The request's source address: the peer, or, when the peer is a trusted proxy, the
    /// nearest address in `X-Forwarded-For` that is not one.
    pub fn source_address(&self, peer: SocketAddr, headers: &HeaderMap) -> IpAddr {
        source_address(peer.ip(), headers, &self.trusted_proxies)
    }
}

fn counted((key, rate): &(Vec<u8>, SharedRate)) -> Counted<'_> {
    Counted { key, rate: *rate }
}

/// `Retry-After` in whole seconds, at least 1.
pub fn retry_after_secs(wait: Duration) -> u64 {
    (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1)
}

#[cfg(test)]
mod properties;
#[cfg(test)]
mod tests;
