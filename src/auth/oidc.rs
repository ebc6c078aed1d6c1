//! The console's OpenID Connect relying party: the authorization code flow with PKCE,
//! `state` and `nonce`, against a provider found by discovery. The protocol is
//! `openidconnect`'s; this module keeps the provider's metadata and keys, and refetches
//! them when an ID token is signed with a key they lack (the provider rotated its keys).
//!
//! Nothing here knows about HTTP requests or members: the console's `sso` pages carry
//! the pending sign-in in a sealed cookie and map the identity to a member.

use std::time::{Duration, Instant};

use openidconnect::core::{CoreClient, CoreIdToken, CoreResponseType};
use openidconnect::{
    AuthenticationFlow, AuthorizationCode, ClaimsVerificationError, ClientId, ClientSecret,
    CsrfToken, IssuerUrl, LogoutRequest, Nonce, PkceCodeChallenge, PkceCodeVerifier,
    PostLogoutRedirectUrl, ProviderMetadataWithLogout, RedirectUrl, Scope, TokenResponse,
};
use serde::{Deserialize, Serialize};
use tokio::sync::RwLock;

use crate::config::SsoSettings;

/// How long the provider's metadata and keys are kept before they are read again.
const METADATA_TTL: Duration = Duration::from_secs(3600);
/// Every call to the provider.
const PROVIDER_TIMEOUT: Duration = Duration::from_secs(10);

/// A sign-in started here and not yet finished: what the callback must match.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PendingSignIn {
    pub state: String,
    pub nonce: String,
    pub pkce_verifier: String,
}

/// Who the provider says signed in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub subject: String,
    pub email: Option<String>,
    /// Absent counts as not verified.
    pub email_verified: bool,
    pub name: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum SsoError {
    /// The provider could not be reached or answered nonsense (discovery, keys, the token
    /// endpoint's transport).
    #[error("the identity provider is unavailable: {0}")]
    Unavailable(String),
    /// The provider refused the code (used, expired, not ours).
    #[error("the identity provider refused the sign-in: {0}")]
    Refused(String),
    /// The ID token did not pass validation.
    #[error("the ID token is not valid: {0}")]
    InvalidIdToken(String),
}

type Metadata = ProviderMetadataWithLogout;

struct Discovered {
    metadata: Metadata,
    fetched: Instant,
    /// Counts the reads, so that requests that found the same keys wanting refetch once.
    generation: u64,
}

pub struct RelyingParty {
    settings: SsoSettings,
    issuer: IssuerUrl,
    redirect: RedirectUrl,
    post_logout: PostLogoutRedirectUrl,
    http: openidconnect::reqwest::Client,
    discovered: RwLock<Option<Discovered>>,
}

impl RelyingParty {
    /// `public_url` without a trailing slash: the callback is `<public_url>/console/sso/callback`.
    pub fn new(settings: SsoSettings, public_url: &str) -> anyhow::Result<Self> {
        let http = openidconnect::reqwest::Client::builder()
            // The provider's answers are read where they are; a redirect could send the
            // code or the secret elsewhere.
            .redirect(openidconnect::reqwest::redirect::Policy::none())
            .timeout(PROVIDER_TIMEOUT)
            .build()?;
        Ok(RelyingParty {
            issuer: IssuerUrl::new(settings.issuer.clone())?,
            redirect: RedirectUrl::new(format!("{public_url}/console/sso/callback"))?,
            post_logout: PostLogoutRedirectUrl::new(format!("{public_url}/console/login"))?,
            settings,
            http,
            discovered: RwLock::new(None),
        })
    }

    pub fn issuer(&self) -> &str {
        &self.settings.issuer
    }

    pub fn settings(&self) -> &SsoSettings {
        &self.settings
    }

    /// The provider's metadata and keys, cached for `METADATA_TTL`, with their generation.
    async fn metadata(&self) -> Result<(Metadata, u64), SsoError> {
        {
            let cached = self.discovered.read().await;
            if let Some(d) = cached
                .as_ref()
                .filter(|d| d.fetched.elapsed() < METADATA_TTL)
            {
                return Ok((d.metadata.clone(), d.generation));
            }
        }
        self.refetch(None).await
    }

    /// Reads the metadata and keys again, unless another request already did since
    /// `generation` was read. ID tokens come from the provider's own token endpoint (never
    /// from the browser), so only a sign-in the provider completed can cause a refetch.
    async fn refetch(&self, generation: Option<u64>) -> Result<(Metadata, u64), SsoError> {
        let mut cached = self.discovered.write().await;
        if let Some(d) = cached.as_ref() {
            let newer = generation.is_some_and(|g| d.generation != g);
            let fresh = generation.is_none() && d.fetched.elapsed() < METADATA_TTL;
            if newer || fresh {
                return Ok((d.metadata.clone(), d.generation));
            }
        }
        let metadata = Metadata::discover_async(self.issuer.clone(), &self.http)
            .await
            .map_err(|e| SsoError::Unavailable(error_chain(&e)))?;
        let generation = cached.as_ref().map_or(0, |d| d.generation + 1);
        *cached = Some(Discovered {
            metadata: metadata.clone(),
            fetched: Instant::now(),
            generation,
        });
        Ok((metadata, generation))
    }

    fn client(
        &self,
        metadata: Metadata,
    ) -> CoreClient<
        openidconnect::EndpointSet,
        openidconnect::EndpointNotSet,
        openidconnect::EndpointNotSet,
        openidconnect::EndpointNotSet,
        openidconnect::EndpointMaybeSet,
        openidconnect::EndpointMaybeSet,
    > {
        CoreClient::from_provider_metadata(
            metadata,
            ClientId::new(self.settings.client_id.clone()),
            Some(ClientSecret::new(self.settings.client_secret.clone())),
        )
        .set_redirect_uri(self.redirect.clone())
    }

    /// Starts a sign-in: the provider's authorization URL to send the browser to, and
    /// what the callback must match.
    pub async fn start(&self) -> Result<(url::Url, PendingSignIn), SsoError> {
        let client = self.client(self.metadata().await?.0);
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request = client
            .authorize_url(
                AuthenticationFlow::<CoreResponseType>::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .set_pkce_challenge(challenge);
        for scope in &self.settings.scopes {
            request = request.add_scope(Scope::new(scope.clone()));
        }
        let (url, state, nonce) = request.url();
        Ok((
            url,
            PendingSignIn {
                state: state.secret().clone(),
                nonce: nonce.secret().clone(),
                pkce_verifier: verifier.secret().clone(),
            },
        ))
    }

    /// Finishes a sign-in: exchanges the code (with the PKCE verifier) and validates the
    /// ID token (signature by the provider's keys, `iss`, `aud`, `exp`, `nonce`).
    pub async fn finish(&self, code: &str, pending: &PendingSignIn) -> Result<Identity, SsoError> {
        let (metadata, generation) = self.metadata().await?;
        let client = self.client(metadata);
        let request = client
            .exchange_code(AuthorizationCode::new(code.to_string()))
            .map_err(|e| SsoError::Unavailable(error_chain(&e)))?
            .set_pkce_verifier(PkceCodeVerifier::new(pending.pkce_verifier.clone()));
        let response = request
            .request_async(&self.http)
            .await
            .map_err(|e| match e {
                openidconnect::RequestTokenError::ServerResponse(r) => {
                    SsoError::Refused(r.error().to_string())
                }
                other => SsoError::Unavailable(error_chain(&other)),
            })?;
        let id_token = response
            .id_token()
            .ok_or_else(|| SsoError::InvalidIdToken("the token response has no ID token".into()))?
            .clone();
        let nonce = Nonce::new(pending.nonce.clone());
        match self.verify(&client, &id_token, &nonce) {
            Err(ClaimsVerificationError::SignatureVerification(_)) => {
                // Perhaps signed with a key that came after we read them: read them again.
                let client = self.client(self.refetch(Some(generation)).await?.0);
                self.verify(&client, &id_token, &nonce)
            }
            verified => verified,
        }
        .map_err(|e| SsoError::InvalidIdToken(error_chain(&e)))
    }

    fn verify<T, U, V, W, X, Y>(
        &self,
        client: &CoreClient<T, U, V, W, X, Y>,
        id_token: &CoreIdToken,
        nonce: &Nonce,
    ) -> Result<Identity, ClaimsVerificationError>
    where
        T: openidconnect::EndpointState,
        U: openidconnect::EndpointState,
        V: openidconnect::EndpointState,
        W: openidconnect::EndpointState,
        X: openidconnect::EndpointState,
        Y: openidconnect::EndpointState,
    {
        let claims = id_token.claims(&client.id_token_verifier(), nonce)?;
        Ok(Identity {
            subject: claims.subject().to_string(),
            email: claims.email().map(|e| e.to_string()),
            email_verified: claims.email_verified() == Some(true),
            name: claims
                .name()
                .and_then(|n| n.get(None))
                .map(|n| n.to_string()),
        })
    }

    /// Where to send the browser to sign out at the provider too, if it supports
    /// RP-initiated logout; it sends it back to the console's sign-in page.
    pub async fn logout_url(&self) -> Option<url::Url> {
        let metadata = match self.metadata().await {
            Ok((metadata, _)) => metadata,
            Err(e) => {
                tracing::warn!(error = %e, "no logout at the identity provider");
                return None;
            }
        };
        let endpoint = metadata
            .additional_metadata()
            .end_session_endpoint
            .clone()?;
        Some(
            LogoutRequest::from(endpoint)
                .set_client_id(ClientId::new(self.settings.client_id.clone()))
                .set_post_logout_redirect_uri(self.post_logout.clone())
                .http_get_url(),
        )
    }
}

/// An error with its causes, for the log.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
