//! The client-credentials grant (RFC 6749 §4.4), independent of how the request arrived.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::token::TokenService;
use crate::crypto::Keyring;
use crate::domain::scope::ScopeSet;
use crate::domain::Timestamp;
use crate::storage::{Store, StoreError};

/// The parameters of a token request, from a form, a JSON body and/or HTTP Basic auth.
#[derive(Debug, Default, Clone, Deserialize, ToSchema)]
pub struct TokenRequest {
    /// `client_credentials`, the only grant supported.
    #[schema(example = "client_credentials")]
    pub grant_type: Option<String>,
    /// Required unless given by HTTP Basic authentication.
    pub client_id: Option<String>,
    /// Required unless given by HTTP Basic authentication.
    pub client_secret: Option<String>,
    /// The API the token is for: a Console API audience (default `api.cloud.camunda.io`)
    /// for Console API clients, a Zeebe audience for cluster clients.
    #[schema(example = "api.cloud.camunda.io")]
    pub audience: Option<String>,
    /// Space-separated scopes to narrow the token to; never more than the client holds.
    pub scope: Option<String>,
}

/// A successful token response.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TokenGrant {
    /// A signed JWT (ES256), to send as `Authorization: Bearer <token>`.
    pub access_token: String,
    #[schema(example = "Bearer")]
    pub token_type: &'static str,
    /// Seconds until the token expires.
    pub expires_in: u64,
    /// The token's scopes, space-separated.
    pub scope: String,
}

/// RFC 6749 §5.2 errors.
#[derive(Debug, thiserror::Error)]
pub enum OAuthError {
    #[error("{0}")]
    InvalidRequest(String),
    #[error("client authentication failed")]
    InvalidClient,
    #[error("only the client_credentials grant is supported")]
    UnsupportedGrantType,
    #[error("{0}")]
    InvalidScope(String),
    /// A rate limit or a lockout; nothing was checked. Holds the seconds to wait.
    #[error("too many token requests; retry in {0} seconds")]
    TooManyRequests(u64),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl OAuthError {
    pub fn code(&self) -> &'static str {
        match self {
            OAuthError::InvalidRequest(_) => "invalid_request",
            OAuthError::InvalidClient => "invalid_client",
            OAuthError::UnsupportedGrantType => "unsupported_grant_type",
            OAuthError::InvalidScope(_) => "invalid_scope",
            OAuthError::TooManyRequests(_) => "temporarily_unavailable",
            OAuthError::Internal(_) | OAuthError::Store(_) => "server_error",
        }
    }
}

/// Authenticates the client and issues a token for the requested audience and scope.
pub async fn grant(
    store: &dyn Store,
    keyring: &Keyring,
    tokens: &TokenService,
    request: TokenRequest,
    now: Timestamp,
) -> Result<TokenGrant, OAuthError> {
    match request.grant_type.as_deref() {
        Some("client_credentials") => {}
        Some(_) => return Err(OAuthError::UnsupportedGrantType),
        None => return Err(OAuthError::InvalidRequest("grant_type is required".into())),
    }
    let (Some(client_id), Some(secret)) = (
        request.client_id.as_deref(),
        request.client_secret.as_deref(),
    ) else {
        return Err(OAuthError::InvalidClient);
    };
    // No client id holds a NUL, and PostgreSQL fails a lookup given one: unknown at once.
    if client_id.contains('\0') {
        return Err(OAuthError::InvalidClient);
    }
    let audience = request.audience.as_deref().filter(|a| !a.is_empty());

    if let Some(client) = tokens.client_state(store, client_id).await? {
        if !keyring.verify_secret(secret, &client.secret_hash) {
            return Err(OAuthError::InvalidClient);
        }
        let audience = pick_audience(audience, tokens.console_audiences())?;
        let scopes = match request
            .scope
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            None => client.scopes,
            Some(requested) => {
                let requested = ScopeSet::parse(requested)
                    .map_err(|s| OAuthError::InvalidScope(format!("unknown scope {s:?}")))?;
                if !requested.is_subset_of(client.scopes) {
                    return Err(OAuthError::InvalidScope(
                        "the requested scope exceeds what the client was granted".into(),
                    ));
                }
                requested
            }
        };
        let mut claims = tokens.base_claims(client_id, &client.org_id, audience, now);
        claims.scope = scopes.to_scope_string();
        claims.client_generation = Some(client.secret_generation);
        return issue(tokens, claims);
    }

    if let Some(credential) = store.zeebe_credential(client_id).await? {
        let client = credential.client;
        if !keyring.verify_secret(secret, &client.secret_hash) {
            return Err(OAuthError::InvalidClient);
        }
        // A cluster client may ask for its cluster's own audience or a Zeebe one; its token
        // carries both, so a cluster that accepts only its own audience refuses the tokens
        // of other clusters' clients, and one configured with the Zeebe audience keeps
        // working.
        let own = tokens.cluster_audience(&client.cluster_id);
        let audience = match audience {
            Some(requested) if requested == own => None,
            requested => Some(pick_audience(requested, tokens.zeebe_audiences())?),
        };
        let permissions: Vec<String> = client
            .permissions
            .iter()
            .map(|p| p.as_str().to_string())
            .collect();
        let zeebe = audience.unwrap_or_else(|| tokens.zeebe_audiences()[0].as_str());
        let mut claims = tokens.base_claims(&client.client_id, &client.org_id, zeebe, now);
        claims.aud = match audience {
            // Asked for by its own audience: that one first.
            None => super::token::Audience::Many(vec![own, zeebe.to_string()]),
            Some(zeebe) => super::token::Audience::Many(vec![zeebe.to_string(), own]),
        };
        claims.scope = permissions.join(" ");
        claims.cluster_id = Some(client.cluster_id.clone());
        claims.permissions = Some(permissions);
        return issue(tokens, claims);
    }

    // Spend the same work on an unknown client as on a known one.
    let _ = keyring.hash_secret(secret);
    Err(OAuthError::InvalidClient)
}

/// The audience of the token: the requested one if accepted, else the first accepted one.
/// A refused audience is `invalid_request`, never `invalid_client`: the secret was right,
/// so it does not count toward the client id's lockout.
fn pick_audience<'a>(
    requested: Option<&'a str>,
    accepted: &'a [String],
) -> Result<&'a str, OAuthError> {
    match requested {
        None => Ok(accepted.first().map(String::as_str).unwrap_or_default()),
        Some(aud) if accepted.iter().any(|a| a == aud) => Ok(aud),
        Some(aud) => Err(OAuthError::InvalidRequest(format!(
            "audience {aud:?} is not accepted for this client"
        ))),
    }
}

fn issue(tokens: &TokenService, claims: super::Claims) -> Result<TokenGrant, OAuthError> {
    let (access_token, exp) = tokens.issue(&claims)?;
    Ok(TokenGrant {
        access_token,
        token_type: "Bearer",
        expires_in: (exp - claims.iat).max(0) as u64,
        scope: claims.scope,
    })
}
