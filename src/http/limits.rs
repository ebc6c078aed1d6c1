//! Rate limits, in process: GCRA buckets keyed by client id or source address, and the
//! lockout of a client id at a source address after repeated wrong secrets from there. Every map is bounded and swept of
//! entries that no longer hold anything back; time is passed in.
//!
//! A limit is checked before the request does any work that writes, so a request answered
//! 429 has changed nothing (the JS SDK retries POSTs on 429).

use std::borrow::Borrow;
use std::collections::HashMap;
use std::hash::Hash;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::http::HeaderMap;

use crate::domain::ip_allowlist::IpRange;

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

/// How many of something (connections, requests) each source address holds at once, up to
/// a limit. Entries exist only while something is held, so the map is bounded by what the
/// server holds in all.
#[derive(Clone)]
pub struct PerSourceCounter {
    limit: u32,
    counts: Arc<Mutex<HashMap<IpAddr, u32>>>,
}

impl PerSourceCounter {
    pub fn new(limit: u32) -> Self {
        PerSourceCounter {
            limit,
            counts: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    /// One more for `addr` (an IPv6 address counts for its /64), released when the slot is
    /// dropped; `None` when the source is at its limit.
    pub fn claim(&self, addr: IpAddr) -> Option<SourceSlot> {
        let key = source_key(addr);
        let mut counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        let count = counts.entry(key).or_insert(0);
        if *count >= self.limit {
            return None;
        }
        *count += 1;
        Some(SourceSlot {
            key,
            counter: self.clone(),
        })
    }
}

/// One thing held by a source; see [`PerSourceCounter`].
pub struct SourceSlot {
    key: IpAddr,
    counter: PerSourceCounter,
}

impl Drop for SourceSlot {
    fn drop(&mut self) {
        let mut counts = self
            .counter
            .counts
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if let Some(count) = counts.get_mut(&self.key) {
            *count -= 1;
            if *count == 0 {
                counts.remove(&self.key);
            }
        }
    }
}

/// Every limit the HTTP layer applies, built from the settings.
pub struct Limits {
    pub token_per_source: Option<RateLimiter<IpAddr>>,
    pub token_per_client: Option<RateLimiter<String>>,
    pub api_per_client: Option<RateLimiter<String>>,
    pub failed_secrets: FailedSecrets,
    pub trusted_proxies: Vec<IpRange>,
}

impl Limits {
    pub fn new(
        token_per_source: RateLimit,
        token_per_client: RateLimit,
        api_per_client: RateLimit,
        lockout: LockoutPolicy,
        trusted_proxies: Vec<IpRange>,
    ) -> Self {
        let now = Instant::now();
        Limits {
            token_per_source: token_per_source.0.map(|s| RateLimiter::new(s, now)),
            token_per_client: token_per_client.0.map(|s| RateLimiter::new(s, now)),
            api_per_client: api_per_client.0.map(|s| RateLimiter::new(s, now)),
            failed_secrets: FailedSecrets::new(lockout, now),
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
        )
    }

    /// Counts a token request from `source` (before the request is even parsed). `Err`
    /// holds how long to wait.
    pub fn check_token_source(&self, source: Option<IpAddr>, now: Instant) -> Result<(), Duration> {
        match (&self.token_per_source, source) {
            (Some(limiter), Some(source)) => limiter.check(&source_key(source), now),
            _ => Ok(()),
        }
    }

    /// Counts a token request for `client_id`, then checks the id's lockout at `source`
    /// (before the secret is checked). `Err` holds how long to wait.
    pub fn check_token_client(
        &self,
        client_id: &str,
        source: Option<IpAddr>,
        now: Instant,
    ) -> Result<(), Duration> {
        if client_id.len() > MAX_TRACKED_ID_BYTES {
            return Ok(());
        }
        if let Some(limiter) = &self.token_per_client {
            limiter.check(client_id, now)?;
        }
        self.failed_secrets.check(client_id, source, now)
    }

    /// Counts a Console API request of `client_id`.
    pub fn check_api_request(&self, client_id: &str, now: Instant) -> Result<(), Duration> {
        match &self.api_per_client {
            Some(limiter) if client_id.len() <= MAX_TRACKED_ID_BYTES => {
                limiter.check(client_id, now)
            }
            _ => Ok(()),
        }
    }

    /// The request's source address: the peer, or, when the peer is a trusted proxy, the
    /// nearest address in `X-Forwarded-For` that is not one.
    pub fn source_address(&self, peer: SocketAddr, headers: &HeaderMap) -> IpAddr {
        source_address(peer.ip(), headers, &self.trusted_proxies)
    }
}

/// The key a source address is limited under: IPv4 addresses as they are, IPv6 addresses by
/// their /64 (one host usually holds a whole /64).
pub fn source_key(addr: IpAddr) -> IpAddr {
    match addr.to_canonical() {
        IpAddr::V6(v6) => {
            let bits = u128::from(v6) & (u128::MAX << 64);
            IpAddr::V6(Ipv6Addr::from(bits))
        }
        v4 => v4,
    }
}

/// Walks `X-Forwarded-For` from the right (each proxy appends the address it saw) while the
/// hop is trusted. A malformed entry stops the walk at the proxy that passed it on.
pub fn source_address(peer: IpAddr, headers: &HeaderMap, trusted: &[IpRange]) -> IpAddr {
    let is_trusted = |addr: IpAddr| trusted.iter().any(|range| range.contains(addr));
    let mut addr = peer.to_canonical();
    if !is_trusted(addr) {
        return addr;
    }
    let values = headers.get_all("x-forwarded-for");
    for value in values.iter().rev() {
        let Ok(text) = value.to_str() else {
            return addr;
        };
        for item in text.rsplit(',') {
            let Some(hop) = parse_hop(item.trim()) else {
                return addr;
            };
            addr = hop;
            if !is_trusted(addr) {
                return addr;
            }
        }
    }
    addr
}

/// An `X-Forwarded-For` entry: an address, possibly with a port (`1.2.3.4:80`, `[::1]:80`).
fn parse_hop(text: &str) -> Option<IpAddr> {
    let addr = text
        .parse::<IpAddr>()
        .ok()
        .or_else(|| text.parse::<SocketAddr>().ok().map(|s| s.ip()))
        .or_else(|| {
            text.strip_prefix('[')
                .and_then(|t| t.strip_suffix(']'))
                .and_then(|t| t.parse().ok())
        })?;
    Some(addr.to_canonical())
}

/// `Retry-After` in whole seconds, at least 1.
pub fn retry_after_secs(wait: Duration) -> u64 {
    (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(text: &str) -> RateSpec {
        text.parse::<RateLimit>().unwrap().0.unwrap()
    }

    #[test]
    fn rates_parse() {
        assert_eq!(
            spec("60/1m"),
            RateSpec {
                burst: 60,
                period: Duration::from_secs(60)
            }
        );
        assert_eq!(spec(" 5 / 2s ").burst, 5);
        assert_eq!("off".parse::<RateLimit>().unwrap(), RateLimit(None));
        for bad in [
            "",
            "60",
            "0/1m",
            "5/0s",
            "x/1m",
            "5/forever",
            "-1/1s",
            "5/1000y",
        ] {
            assert!(bad.parse::<RateLimit>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_burst_passes_then_requests_are_spaced() {
        let start = Instant::now();
        let limiter = RateLimiter::<String>::new(spec("3/3s"), start);
        for _ in 0..3 {
            assert_eq!(limiter.check("a", start), Ok(()));
        }
        assert_eq!(limiter.check("a", start), Err(Duration::from_secs(1)));
        // Other keys have their own bucket.
        assert_eq!(limiter.check("b", start), Ok(()));
        // One interval later there is room for one more.
        let later = start + Duration::from_secs(1);
        assert_eq!(limiter.check("a", later), Ok(()));
        assert!(limiter.check("a", later).is_err());
        // A refused request does not use up anything.
        let full_again = start + Duration::from_secs(4);
        for _ in 0..3 {
            assert_eq!(limiter.check("a", full_again), Ok(()));
        }
    }

    #[test]
    fn the_map_is_bounded_and_swept() {
        let start = Instant::now();
        let limiter = RateLimiter::<String>::with_capacity(spec("1/1s"), 2, start);
        assert!(limiter.check("a", start).is_ok());
        assert!(limiter.check("b", start).is_ok());
        // Full: a third key waits, the known ones keep their own count.
        assert!(limiter.check("c", start).is_err());
        assert!(limiter.check("a", start).is_err());
        // Once their buckets are full again the entries are swept and room is made.
        let later = start + Duration::from_secs(2);
        assert!(limiter.check("c", later).is_ok());
        assert_eq!(limiter.state.lock().unwrap().entries.len(), 1);
    }

    #[test]
    fn repeated_wrong_secrets_lock_the_id_with_growing_delays() {
        let start = Instant::now();
        let secs = Duration::from_secs;
        let here = Some("192.0.2.1".parse().unwrap());
        let failures = FailedSecrets::new(LockoutPolicy::new(3, secs(10)), start);
        failures.failed("id", here, start);
        failures.failed("id", here, start);
        assert_eq!(failures.check("id", here, start), Ok(()));
        failures.failed("id", here, start);
        assert_eq!(failures.check("id", here, start), Err(secs(10)));
        assert_eq!(failures.check("other", here, start), Ok(()));
        let t = start + secs(10);
        assert_eq!(failures.check("id", here, t), Ok(()));
        failures.failed("id", here, t);
        assert_eq!(failures.check("id", here, t), Err(secs(20)));
        // Capped at 15 minutes.
        for _ in 0..30 {
            failures.failed("id", here, t);
        }
        assert_eq!(failures.check("id", here, t), Err(secs(900)));
        // A right secret ends the streak.
        failures.succeeded("id", here);
        assert_eq!(failures.check("id", here, t), Ok(()));
        // Failures long ago are forgotten.
        failures.failed("id", here, t);
        failures.failed("id", here, t);
        let much_later = t + secs(3600);
        failures.failed("id", here, much_later);
        assert_eq!(failures.check("id", here, much_later), Ok(()));
    }

    #[test]
    fn a_lockout_holds_only_at_the_source_that_caused_it() {
        let now = Instant::now();
        let ip = |s: &str| Some(s.parse::<IpAddr>().unwrap());
        let failures = FailedSecrets::new(LockoutPolicy::new(2, Duration::from_secs(10)), now);
        failures.failed("id", ip("192.0.2.1"), now);
        failures.failed("id", ip("192.0.2.1"), now);
        assert!(failures.check("id", ip("192.0.2.1"), now).is_err());
        assert_eq!(failures.check("id", ip("198.51.100.7"), now), Ok(()));
        // An IPv6 source is one /64: hopping addresses inside it does not escape the lock.
        failures.failed("id", ip("2001:db8::1"), now);
        failures.failed("id", ip("2001:db8::2"), now);
        assert!(failures.check("id", ip("2001:db8::ffff"), now).is_err());
        assert_eq!(failures.check("id", ip("2001:db8:0:1::1"), now), Ok(()));
    }

    #[test]
    fn a_zero_threshold_never_locks() {
        let now = Instant::now();
        let failures = FailedSecrets::new(LockoutPolicy::new(0, Duration::from_secs(10)), now);
        for _ in 0..100 {
            failures.failed("id", None, now);
        }
        assert_eq!(failures.check("id", None, now), Ok(()));
    }

    fn headers(values: &[&str]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for v in values {
            map.append("x-forwarded-for", v.parse().unwrap());
        }
        map
    }

    #[test]
    fn forwarded_addresses_count_only_behind_trusted_proxies() {
        let trusted = vec![IpRange::parse("10.0.0.0/8").unwrap()];
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        let proxy = ip("10.1.2.3");
        // An untrusted peer's header is ignored.
        assert_eq!(
            source_address(ip("192.0.2.9"), &headers(&["203.0.113.5"]), &trusted),
            ip("192.0.2.9")
        );
        // Behind a trusted proxy, the nearest untrusted hop counts, not a forged first one.
        assert_eq!(
            source_address(proxy, &headers(&["6.6.6.6, 203.0.113.5"]), &trusted),
            ip("203.0.113.5")
        );
        assert_eq!(
            source_address(
                proxy,
                &headers(&["6.6.6.6", "203.0.113.5, 10.0.0.7"]),
                &trusted
            ),
            ip("203.0.113.5")
        );
        assert_eq!(
            source_address(proxy, &headers(&["[2001:db8::1]:443"]), &trusted),
            ip("2001:db8::1")
        );
        assert_eq!(
            source_address(proxy, &headers(&["203.0.113.5:8080"]), &trusted),
            ip("203.0.113.5")
        );
        // No header, or garbage: the proxy itself.
        assert_eq!(source_address(proxy, &headers(&[]), &trusted), proxy);
        assert_eq!(
            source_address(proxy, &headers(&["unknown"]), &trusted),
            proxy
        );
        // IPv4-mapped peers are matched as IPv4.
        assert_eq!(
            source_address(ip("::ffff:10.0.0.1"), &headers(&["203.0.113.5"]), &trusted),
            ip("203.0.113.5")
        );
    }

    #[test]
    fn ipv6_sources_are_limited_by_their_64() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert_eq!(source_key(ip("2001:db8:1:2:3:4:5:6")), ip("2001:db8:1:2::"));
        assert_eq!(source_key(ip("192.0.2.1")), ip("192.0.2.1"));
        assert_eq!(source_key(ip("::ffff:192.0.2.1")), ip("192.0.2.1"));
    }

    #[test]
    fn a_source_holds_at_most_its_limit_and_gets_slots_back() {
        let counter = PerSourceCounter::new(2);
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        let first = counter.claim(ip("192.0.2.1")).unwrap();
        let _second = counter.claim(ip("192.0.2.1")).unwrap();
        assert!(counter.claim(ip("192.0.2.1")).is_none());
        assert!(counter.claim(ip("192.0.2.2")).is_some());
        drop(first);
        assert!(counter.claim(ip("192.0.2.1")).is_some());
        // Released slots leave no entry behind.
        assert!(counter.counts.lock().unwrap().len() <= 1);
    }

    #[test]
    fn retry_after_rounds_up() {
        assert_eq!(retry_after_secs(Duration::ZERO), 1);
        assert_eq!(retry_after_secs(Duration::from_millis(1)), 1);
        assert_eq!(retry_after_secs(Duration::from_secs(2)), 2);
        assert_eq!(retry_after_secs(Duration::from_millis(2001)), 3);
    }
}

/// Property tests: `X-Forwarded-For` and the rate settings come from outside.
#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn a_forwarded_source_is_the_peer_or_named_in_the_header(
            values in proptest::collection::vec(
                prop_oneof!["[0-9., :\\[\\]a-f]{0,40}", any::<String>()], 0..4),
            trusted in any::<bool>(),
        ) {
            let peer: IpAddr = "10.0.0.1".parse().unwrap();
            let mut headers = HeaderMap::new();
            for value in &values {
                if let Ok(value) = value.parse() {
                    headers.append("x-forwarded-for", value);
                }
            }
            let proxies = if trusted { vec![IpRange::parse("10.0.0.0/8").unwrap()] } else { vec![] };
            let source = source_address(peer, &headers, &proxies);
            if !trusted {
                prop_assert_eq!(source, peer);
            } else if source != peer {
                let all = values.join(",");
                let named = all.split(',').filter_map(|item| parse_hop(item.trim())).any(|hop| hop == source);
                prop_assert!(named, "{source} is not in {all:?}");
            }
        }

        #[test]
        fn rate_settings_parse_or_are_refused(text in prop_oneof!["[0-9]{0,12}/[0-9]{0,25}[a-z]{0,6}", any::<String>()]) {
            if let Ok(RateLimit(Some(spec))) = text.parse::<RateLimit>() {
                prop_assert!(spec.burst > 0 && !spec.period.is_zero());
                // Usable: a limiter can be made and asked.
                let now = Instant::now();
                let limiter = RateLimiter::<String>::new(spec, now);
                prop_assert!(limiter.check("k", now).is_ok());
            }
        }
    }
}
