//! Bounded caches that keep signature checks and client lookups off the hot path.
//!
//! - [`VerifiedTokens`]: a token whose signature, issuer, audience and lifetime were checked
//!   is remembered until it expires, so an ES256 verification happens once per token, not
//!   once per request. Expiry is re-checked on every hit.
//! - [`ClientStates`]: the revocation state (secret generation, scopes, secret hash) of a
//!   Console API
//!   client is re-read from the database at most once per `ttl`. Operator commands that
//!   revoke (rotate, delete) wait out that same `ttl` before they return, so when they
//!   report success, every server has stopped accepting the old tokens.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::domain::scope::ScopeSet;
use crate::telemetry::metrics::{cache_lookup, Cache};

/// What a verified Console API token says, kept per token.
#[derive(Debug, Clone, PartialEq)]
pub struct VerifiedToken {
    pub client_id: String,
    pub org_id: String,
    pub scopes: ScopeSet,
    pub client_generation: i64,
    /// `exp` in seconds since the epoch.
    pub expires_at: i64,
}

pub struct VerifiedTokens {
    entries: Mutex<HashMap<Box<str>, VerifiedToken>>,
    capacity: usize,
}

impl VerifiedTokens {
    pub fn new(capacity: usize) -> Self {
        VerifiedTokens {
            entries: Mutex::new(HashMap::new()),
            capacity,
        }
    }

    /// The cached verification of `token`, if it is still unexpired at `now_secs`
    /// (with `leeway_secs` of clock skew, as verification allows).
    pub fn get(&self, token: &str, now_secs: i64, leeway_secs: i64) -> Option<VerifiedToken> {
        if self.capacity == 0 {
            return None;
        }
        let mut entries = self.entries.lock().expect("token cache poisoned");
        let found = match entries.get(token) {
            Some(hit) if now_secs < hit.expires_at + leeway_secs => Some(hit.clone()),
            Some(_) => {
                entries.remove(token);
                None
            }
            None => None,
        };
        drop(entries);
        cache_lookup(Cache::VerifiedTokens, found.is_some());
        found
    }

    pub fn insert(&self, token: &str, verified: VerifiedToken, now_secs: i64, leeway_secs: i64) {
        if self.capacity == 0 {
            return;
        }
        let mut entries = self.entries.lock().expect("token cache poisoned");
        if entries.len() >= self.capacity {
            entries.retain(|_, v| now_secs < v.expires_at + leeway_secs);
            if entries.len() >= self.capacity {
                // Still full of live tokens: drop an arbitrary eighth (HashMap order is
                // randomized), so the bound holds and a flood of tokens cannot grow memory.
                let drop: Vec<Box<str>> = entries
                    .keys()
                    .take(self.capacity / 8 + 1)
                    .cloned()
                    .collect();
                for key in drop {
                    entries.remove(&key);
                }
            }
        }
        entries.insert(token.into(), verified);
    }

    pub fn len(&self) -> usize {
        self.entries.lock().expect("token cache poisoned").len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Tokens recently issued, by what was asked for. A client that asks again within the
/// window (as scripts and workers starting together do) gets the same token with its
/// remaining lifetime instead of a fresh signature; a rotation changes the key, so it never
/// gets a token of its old secret.
pub struct IssuedTokens {
    entries: Mutex<HashMap<String, (String, i64, i64)>>,
    window_secs: i64,
    capacity: usize,
}

impl IssuedTokens {
    pub fn new(window: Duration, capacity: usize) -> Self {
        IssuedTokens {
            entries: Mutex::new(HashMap::new()),
            window_secs: window.as_secs() as i64,
            capacity,
        }
    }

    /// What identifies a token request: everything the claims depend on but time.
    pub fn key(claims: &super::Claims, signing_kid: &str) -> String {
        format!(
            "{}\n{}\n{}\n{}\n{}\n{}",
            signing_kid,
            claims.sub,
            claims.client_generation.unwrap_or_default(),
            claims.aud,
            claims.scope,
            claims.cluster_id.as_deref().unwrap_or_default()
        )
    }

    /// The token issued for `key` less than the window before `now_secs`, with its `exp`.
    pub fn get(&self, key: &str, now_secs: i64) -> Option<(String, i64)> {
        if self.window_secs == 0 {
            return None;
        }
        let found = self
            .entries
            .lock()
            .expect("issued cache poisoned")
            .get(key)
            .filter(|(_, issued_at, _)| now_secs - issued_at < self.window_secs)
            .map(|(token, _, exp)| (token.clone(), *exp));
        cache_lookup(Cache::IssuedTokens, found.is_some());
        found
    }

    pub fn insert(&self, key: String, token: String, issued_at: i64, exp: i64) {
        if self.window_secs == 0 {
            return;
        }
        let mut entries = self.entries.lock().expect("issued cache poisoned");
        if entries.len() >= self.capacity {
            let window = self.window_secs;
            entries.retain(|_, (_, at, _)| issued_at - *at < window);
            if entries.len() >= self.capacity {
                entries.clear();
            }
        }
        entries.insert(key, (token, issued_at, exp));
    }
}

/// A Console API client's current revocation state.
#[derive(Debug, Clone, PartialEq)]
pub struct ClientState {
    pub org_id: String,
    pub secret_generation: i64,
    pub scopes: ScopeSet,
    /// Keyed hash of the current secret, for the token endpoint.
    pub secret_hash: Vec<u8>,
}

pub struct ClientStates {
    entries: Mutex<HashMap<String, (Option<ClientState>, Instant)>>,
    ttl: Duration,
    capacity: usize,
}

impl ClientStates {
    pub fn new(ttl: Duration, capacity: usize) -> Self {
        ClientStates {
            entries: Mutex::new(HashMap::new()),
            ttl,
            capacity,
        }
    }

    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// The state read at most `ttl` ago: `Some(None)` means the client was known not to
    /// exist; `None` means it must be read again.
    pub fn get(&self, client_id: &str, now: Instant) -> Option<Option<ClientState>> {
        if self.ttl.is_zero() {
            return None;
        }
        let found = self
            .entries
            .lock()
            .expect("client cache poisoned")
            .get(client_id)
            .filter(|(_, read_at)| now.duration_since(*read_at) < self.ttl)
            .map(|(state, _)| state.clone());
        cache_lookup(Cache::ClientState, found.is_some());
        found
    }

    pub fn insert(&self, client_id: &str, state: Option<ClientState>, read_at: Instant) {
        if self.ttl.is_zero() {
            return;
        }
        let mut entries = self.entries.lock().expect("client cache poisoned");
        if entries.len() >= self.capacity && !entries.contains_key(client_id) {
            let ttl = self.ttl;
            entries.retain(|_, (_, at)| read_at.duration_since(*at) < ttl);
            if entries.len() >= self.capacity {
                entries.clear();
            }
        }
        entries.insert(client_id.to_string(), (state, read_at));
    }

    /// Forgets every client.
    pub fn clear(&self) {
        self.entries.lock().expect("client cache poisoned").clear();
    }

    /// Forgets a client at once (a change made by this process).
    pub fn forget(&self, client_id: &str) {
        self.entries
            .lock()
            .expect("client cache poisoned")
            .remove(client_id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(expires_at: i64) -> VerifiedToken {
        VerifiedToken {
            client_id: "c".into(),
            org_id: "o".into(),
            scopes: ScopeSet::all(),
            client_generation: 1,
            expires_at,
        }
    }

    #[test]
    fn a_cached_token_expires_like_a_verified_one() {
        let cache = VerifiedTokens::new(10);
        cache.insert("t", token(100), 50, 5);
        assert_eq!(cache.get("t", 99, 5), Some(token(100)));
        assert_eq!(
            cache.get("t", 104, 5),
            Some(token(100)),
            "within the leeway"
        );
        assert_eq!(cache.get("t", 105, 5), None, "expired");
        assert!(cache.is_empty(), "an expired entry is dropped on sight");
        assert_eq!(cache.get("other", 50, 5), None);
    }

    #[test]
    fn the_token_cache_stays_bounded() {
        let cache = VerifiedTokens::new(16);
        for i in 0..1000 {
            cache.insert(&format!("t{i}"), token(10_000), 0, 0);
            assert!(cache.len() <= 16);
        }
        // Expired entries go first when room is needed.
        let cache = VerifiedTokens::new(2);
        cache.insert("old", token(10), 0, 0);
        cache.insert("live", token(1000), 0, 0);
        cache.insert("new", token(1000), 20, 0);
        assert_eq!(cache.get("old", 20, 0), None);
        assert!(cache.get("live", 20, 0).is_some());
        assert!(cache.get("new", 20, 0).is_some());
    }

    #[test]
    fn client_states_are_reread_after_the_ttl() {
        let states = ClientStates::new(Duration::from_millis(100), 10);
        let t0 = Instant::now();
        let state = ClientState {
            org_id: "o".into(),
            secret_generation: 1,
            scopes: ScopeSet::all(),
            secret_hash: vec![1],
        };
        states.insert("c", Some(state.clone()), t0);
        assert_eq!(
            states.get("c", t0 + Duration::from_millis(99)),
            Some(Some(state))
        );
        assert_eq!(states.get("c", t0 + Duration::from_millis(100)), None);
        states.insert("gone", None, t0);
        assert_eq!(states.get("gone", t0), Some(None), "absence is cached too");
        states.forget("gone");
        assert_eq!(states.get("gone", t0), None);
    }

    #[test]
    fn issued_tokens_are_reused_only_within_the_window() {
        let issued = IssuedTokens::new(Duration::from_secs(30), 10);
        issued.insert("k".into(), "t1".into(), 100, 1000);
        assert_eq!(issued.get("k", 129), Some(("t1".into(), 1000)));
        assert_eq!(issued.get("k", 130), None);
        assert_eq!(issued.get("other", 100), None);
        let off = IssuedTokens::new(Duration::ZERO, 10);
        off.insert("k".into(), "t".into(), 100, 1000);
        assert_eq!(off.get("k", 100), None);
    }

    #[test]
    fn a_zero_ttl_disables_the_client_cache() {
        let states = ClientStates::new(Duration::ZERO, 10);
        states.insert("c", None, Instant::now());
        assert_eq!(states.get("c", Instant::now()), None);
    }
}
