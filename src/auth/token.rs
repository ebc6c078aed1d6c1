//! Issuing and verifying access tokens.

use std::collections::HashSet;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use jsonwebtoken::{Algorithm, Validation};
use serde::{Deserialize, Serialize};

use super::cache::{ClientState, ClientStates, IssuedTokens, VerifiedToken, VerifiedTokens};
use super::keys::KeySet;
use crate::domain::scope::ScopeSet;
use crate::domain::Timestamp;
use crate::storage::{Store, StoreError};

/// Verified tokens remembered at most (each a few hundred bytes).
const TOKEN_CACHE_CAPACITY: usize = 10_000;
/// Console API clients whose state is remembered at most.
const CLIENT_CACHE_CAPACITY: usize = 10_000;
/// Longer bearer tokens are refused unread (ours are well under 2 KiB).
pub const MAX_TOKEN_BYTES: usize = 8 * 1024;

/// The claims of every token this server issues.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Claims {
    pub iss: String,
    pub sub: String,
    pub aud: Audience,
    pub iat: i64,
    pub exp: i64,
    pub jti: String,
    pub azp: String,
    pub gty: String,
    pub scope: String,
    #[serde(rename = "https://camunda.com/orgId")]
    pub org_id: String,
    /// Console API clients: the secret generation the token was issued under.
    #[serde(
        rename = "https://camunda.com/clientGeneration",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub client_generation: Option<i64>,
    /// Cluster clients: the cluster the token is for.
    #[serde(
        rename = "https://camunda.com/clusterId",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub cluster_id: Option<String>,
    /// Cluster clients: their permissions (`Zeebe`, `Operate`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permissions: Option<Vec<String>>,
}

/// `aud`: one audience (Console API tokens, as the hosted service issues them) or several
/// (cluster client tokens: the compatible Zeebe audience and the cluster's own).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(untagged)]
pub enum Audience {
    One(String),
    Many(Vec<String>),
}

impl Audience {
    pub fn contains(&self, audience: &str) -> bool {
        match self {
            Audience::One(one) => one == audience,
            Audience::Many(many) => many.iter().any(|a| a == audience),
        }
    }
}

impl std::fmt::Display for Audience {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Audience::One(one) => f.write_str(one),
            Audience::Many(many) => f.write_str(&many.join(" ")),
        }
    }
}

/// The audience of one cluster's clients, `<cluster id>.zeebe.<base domain>`: a cluster
/// configured to accept only it refuses the tokens of every other cluster's clients.
pub fn cluster_audience(cluster_id: &str, base_domain: &str) -> String {
    format!("{cluster_id}.zeebe.{base_domain}")
}

/// Who is calling the Console API, established from a verified token.
#[derive(Debug, Clone, PartialEq)]
pub struct Principal {
    pub client_id: String,
    pub org_id: String,
    pub scopes: ScopeSet,
}

/// Why a bearer token was refused. Only logged; clients see a generic 401.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("malformed or unverifiable token: {0}")]
    Invalid(String),
    #[error("the token's client no longer exists or its secret was rotated")]
    Revoked,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// How tokens are issued and checked.
#[derive(Debug, Clone)]
pub struct TokenSettings {
    /// `iss`: the public URL.
    pub issuer: String,
    pub lifetime: Duration,
    pub console_audiences: Vec<String>,
    pub zeebe_audiences: Vec<String>,
    /// The domain cluster audiences are built under (`--base-domain`).
    pub base_domain: String,
    /// Accepted clock skew on `exp`, `nbf` and `iat`.
    pub leeway: Duration,
    /// How long a Console API client's state may be relied on; see `ClientStates`.
    pub client_state_ttl: Duration,
    /// A client asking again within this window for the same audience and scope gets the
    /// token it was just given; see `IssuedTokens`.
    pub reuse_window: Duration,
}

/// The Console API audiences that come with the public URL: its host, with and without
/// its port (the scheme's default when the URL names none). Without `audience` in its
/// provider block, the Camunda Terraform provider asks for `host[:port]` of its API URL,
/// which is this server's public URL.
pub fn public_url_audiences(public_url: &str) -> Vec<String> {
    let Ok(url) = url::Url::parse(public_url) else {
        return Vec::new();
    };
    let Some(host) = url.host_str().filter(|h| !h.is_empty()) else {
        return Vec::new();
    };
    let mut audiences = vec![host.to_string()];
    if let Some(port) = url.port_or_known_default() {
        audiences.push(format!("{host}:{port}"));
    }
    audiences
}

/// The configured Console API audiences followed by those of the public URL, each once;
/// the first configured one stays the default audience.
pub fn console_audiences(configured: &[String], public_url: &str) -> Vec<String> {
    let mut audiences = configured.to_vec();
    for audience in public_url_audiences(public_url) {
        if !audiences.contains(&audience) {
            audiences.push(audience);
        }
    }
    audiences
}

pub struct TokenService {
    issuer: String,
    verified: VerifiedTokens,
    clients: ClientStates,
    issued: IssuedTokens,
    leeway_secs: i64,
    lifetime: Duration,
    keys: RwLock<Arc<KeySet>>,
    console_validation: Validation,
    console_audiences: Vec<String>,
    zeebe_audiences: Vec<String>,
    base_domain: String,
}

impl TokenService {
    pub fn new(settings: TokenSettings, keys: KeySet) -> Self {
        let TokenSettings {
            issuer,
            lifetime,
            console_audiences,
            zeebe_audiences,
            base_domain,
            leeway,
            client_state_ttl,
            reuse_window,
        } = settings;
        let mut validation = Validation::new(Algorithm::ES256);
        validation.set_issuer(&[issuer.as_str()]);
        validation.set_audience(&console_audiences);
        validation.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
        validation.leeway = leeway.as_secs();
        validation.validate_nbf = true;
        TokenService {
            issuer,
            verified: VerifiedTokens::new(TOKEN_CACHE_CAPACITY),
            clients: ClientStates::new(client_state_ttl, CLIENT_CACHE_CAPACITY),
            issued: IssuedTokens::new(reuse_window, TOKEN_CACHE_CAPACITY),
            leeway_secs: leeway.as_secs() as i64,
            lifetime,
            keys: RwLock::new(Arc::new(keys)),
            console_validation: validation,
            console_audiences,
            zeebe_audiences,
            base_domain,
        }
    }

    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    pub fn lifetime(&self) -> Duration {
        self.lifetime
    }

    pub fn console_audiences(&self) -> &[String] {
        &self.console_audiences
    }

    pub fn zeebe_audiences(&self) -> &[String] {
        &self.zeebe_audiences
    }

    /// The audience of `cluster_id`'s clients, beside the Zeebe audiences.
    pub fn cluster_audience(&self, cluster_id: &str) -> String {
        cluster_audience(cluster_id, &self.base_domain)
    }

    pub fn keys(&self) -> Arc<KeySet> {
        self.keys.read().expect("key lock poisoned").clone()
    }

    pub fn replace_keys(&self, keys: KeySet) {
        *self.keys.write().expect("key lock poisoned") = Arc::new(keys);
    }

    /// Claims for a token issued now, before the caller adds its own.
    pub fn base_claims(
        &self,
        client_id: &str,
        org_id: &str,
        audience: &str,
        now: Timestamp,
    ) -> Claims {
        let iat = now.seconds();
        Claims {
            iss: self.issuer.clone(),
            sub: client_id.to_string(),
            aud: Audience::One(audience.to_string()),
            iat,
            exp: iat + self.lifetime.as_secs() as i64,
            jti: uuid::Uuid::new_v4().simple().to_string(),
            azp: client_id.to_string(),
            gty: "client-credentials".to_string(),
            scope: String::new(),
            org_id: org_id.to_string(),
            client_generation: None,
            cluster_id: None,
            permissions: None,
        }
    }

    pub fn sign(&self, claims: &Claims) -> anyhow::Result<String> {
        Ok(self.keys().sign_jwt(&serde_json::to_vec(claims)?))
    }

    /// Signs `claims`, or returns the token issued for the same request (client, secret
    /// generation, audience, scope, cluster, signing key) within the reuse window. The caller has
    /// authenticated the client already. Returns the token and its `exp`.
    pub fn issue(&self, claims: &Claims) -> anyhow::Result<(String, i64)> {
        let key = IssuedTokens::key(claims, self.keys().signing_kid());
        if let Some(hit) = self.issued.get(&key, claims.iat) {
            return Ok(hit);
        }
        let token = self.sign(claims)?;
        self.issued
            .insert(key, token.clone(), claims.iat, claims.exp);
        Ok((token, claims.exp))
    }

    /// Verifies signature, issuer, audience and lifetime of a Console API token.
    pub fn verify_console_token(&self, token: &str) -> Result<Claims, AuthError> {
        self.verify_console_token_at(token, Timestamp::now())
    }

    /// [`Self::verify_console_token`] at a given time, for the `iat` check (`exp` and `nbf`
    /// are checked by the JWT library against the system clock).
    pub fn verify_console_token_at(
        &self,
        token: &str,
        now: Timestamp,
    ) -> Result<Claims, AuthError> {
        if token.len() > MAX_TOKEN_BYTES {
            return Err(AuthError::Invalid("the token is too long".into()));
        }
        let header =
            jsonwebtoken::decode_header(token).map_err(|e| AuthError::Invalid(e.to_string()))?;
        let kid = header
            .kid
            .ok_or_else(|| AuthError::Invalid("no kid".into()))?;
        let keys = self.keys();
        let key = keys
            .verifying(&kid)
            .ok_or_else(|| AuthError::Invalid(format!("unknown kid {kid}")))?;
        let data = jsonwebtoken::decode::<Claims>(token, key, &self.console_validation)
            .map_err(|e| AuthError::Invalid(e.to_string()))?;
        let claims = data.claims;
        if claims.iat > now.seconds().saturating_add(self.leeway_secs) {
            return Err(AuthError::Invalid("issued in the future".into()));
        }
        if claims.cluster_id.is_some() || claims.client_generation.is_none() {
            return Err(AuthError::Invalid("not a Console API token".into()));
        }
        Ok(claims)
    }

    /// Verifies a Console API token (once per token) and checks that its client still holds
    /// it (from a state at most `client_state_ttl` old).
    pub async fn authenticate(
        &self,
        store: &dyn Store,
        token: &str,
    ) -> Result<Principal, AuthError> {
        let verified = self.verify_cached(token)?;
        self.authorize(store, verified).await
    }

    /// The verified content of a Console API token, verifying it only the first time it is
    /// seen. Asks nothing of the database.
    pub fn verify_cached(&self, token: &str) -> Result<VerifiedToken, AuthError> {
        let now = Timestamp::now().seconds();
        if let Some(hit) = self.verified.get(token, now, self.leeway_secs) {
            return Ok(hit);
        }
        let claims = self.verify_console_token(token)?;
        let verified = VerifiedToken {
            scopes: ScopeSet::parse(&claims.scope)
                .map_err(|s| AuthError::Invalid(format!("unknown scope {s}")))?,
            client_generation: claims.client_generation.unwrap_or_default(),
            expires_at: claims.exp,
            client_id: claims.sub,
            org_id: claims.org_id,
        };
        self.verified
            .insert(token, verified.clone(), now, self.leeway_secs);
        Ok(verified)
    }

    /// The caller of a verified token, if its client still holds it: a deleted client, or
    /// one whose secret generation moved on, is refused.
    pub async fn authorize(
        &self,
        store: &dyn Store,
        verified: VerifiedToken,
    ) -> Result<Principal, AuthError> {
        let state = self.client_state(store, &verified.client_id).await?;
        let state = state.ok_or(AuthError::Revoked)?;
        if state.secret_generation != verified.client_generation || state.org_id != verified.org_id
        {
            return Err(AuthError::Revoked);
        }
        Ok(Principal {
            // A token never carries more than its client holds now.
            scopes: verified
                .scopes
                .iter()
                .filter(|s| state.scopes.contains(*s))
                .collect(),
            client_id: verified.client_id,
            org_id: verified.org_id,
        })
    }

    /// Forgets what this process knows of a client it just rotated or deleted, so its old
    /// tokens and secret are refused here from the next request on (other processes take
    /// at most [`Self::client_state_ttl`]).
    pub fn forget_client(&self, client_id: &str) {
        self.clients.forget(client_id);
    }

    /// Forgets every client's state (changes made elsewhere may have been missed).
    pub fn forget_all_clients(&self) {
        self.clients.clear();
    }

    /// How long a Console API client's state may be relied on after a change elsewhere.
    pub fn client_state_ttl(&self) -> Duration {
        self.clients.ttl()
    }

    /// A Console API client's state, read at most `client_state_ttl` ago (None: no such
    /// client). Both the token endpoint and bearer checks go through it.
    pub async fn client_state(
        &self,
        store: &dyn Store,
        client_id: &str,
    ) -> Result<Option<ClientState>, StoreError> {
        let read_at = Instant::now();
        if let Some(state) = self.clients.get(client_id, read_at) {
            return Ok(state);
        }
        let state = store.api_client(client_id).await?.map(|c| ClientState {
            org_id: c.org_id,
            secret_generation: c.secret_generation,
            scopes: c.scopes,
            secret_hash: c.secret_hash,
        });
        self.clients.insert(client_id, state.clone(), read_at);
        Ok(state)
    }
}

/// The accepted audiences as a set, for lookups.
pub fn audience_set(list: &[String]) -> HashSet<&str> {
    list.iter().map(String::as_str).collect()
}

#[cfg(test)]
mod properties;
