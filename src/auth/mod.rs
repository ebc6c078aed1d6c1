//! The OAuth 2.0 token issuer (client credentials) and bearer-token verification.

pub mod cache;
pub mod grant;
pub mod keys;
pub mod oidc;
pub mod token;

pub use grant::{OAuthError, TokenGrant, TokenRequest};
pub use token::{
    console_audiences, public_url_audiences, AuthError, Claims, Principal, TokenService,
    TokenSettings,
};
