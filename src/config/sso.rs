//! Settings of single sign-on to the console (OpenID Connect) and of local passwords.

use std::path::PathBuf;

use clap::Args;

use crate::domain::member::OrgRole;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OnOff {
    On,
    Off,
}

#[derive(Debug, Clone, Args)]
pub struct SsoArgs {
    /// The OpenID provider members sign in to the console with (its issuer URL; discovery
    /// is read from `<issuer>/.well-known/openid-configuration`). Off when unset.
    #[arg(long, env = "CONSOLED_OIDC_ISSUER", value_parser = parse_issuer)]
    pub oidc_issuer: Option<String>,

    /// The client id consoled is registered with at the provider. Register
    /// `<public-url>/console/sso/callback` as its redirect URI and
    /// `<public-url>/console/login` as its post-logout redirect URI.
    #[arg(long, env = "CONSOLED_OIDC_CLIENT_ID")]
    pub oidc_client_id: Option<String>,

    /// The client's secret.
    #[arg(long, env = "CONSOLED_OIDC_CLIENT_SECRET", hide_env_values = true)]
    pub oidc_client_secret: Option<String>,

    /// A file holding the client's secret (instead of `--oidc-client-secret`).
    #[arg(long, env = "CONSOLED_OIDC_CLIENT_SECRET_FILE")]
    pub oidc_client_secret_file: Option<PathBuf>,

    /// The scopes asked for (space-separated); must include `openid` and `email`.
    #[arg(
        long,
        env = "CONSOLED_OIDC_SCOPES",
        default_value = "openid email profile"
    )]
    pub oidc_scopes: String,

    /// Lets someone with a verified email of `--oidc-allowed-domains` who is not a member
    /// join the oldest organization with this role on their first sign-in.
    #[arg(long, env = "CONSOLED_OIDC_AUTO_JOIN", value_parser = parse_join_role)]
    pub oidc_auto_join: Option<OrgRole>,

    /// Email domains (comma-separated) whose people may join by `--oidc-auto-join`.
    #[arg(long, env = "CONSOLED_OIDC_ALLOWED_DOMAINS", value_delimiter = ',', value_parser = parse_domain)]
    pub oidc_allowed_domains: Vec<String>,

    /// Whether members may sign in with a password. `off` once single sign-on works for
    /// the organization (needs `--oidc-issuer`).
    #[arg(long, env = "CONSOLED_LOCAL_SIGN_IN", value_enum, default_value = "on")]
    pub local_sign_in: OnOff,
}

/// Single sign-on as configured and checked.
#[derive(Debug, Clone)]
pub struct SsoSettings {
    /// As the operator wrote it: discovery compares it with the provider's `issuer`.
    pub issuer: String,
    pub client_id: String,
    pub client_secret: String,
    pub scopes: Vec<String>,
    pub auto_join: Option<OrgRole>,
    pub allowed_domains: Vec<String>,
}

impl SsoArgs {
    /// The single sign-on settings, None when off; refuses settings that cannot work.
    pub fn settings(&self) -> anyhow::Result<Option<SsoSettings>> {
        let Some(issuer) = &self.oidc_issuer else {
            anyhow::ensure!(
                self.local_sign_in == OnOff::On,
                "--local-sign-in off needs --oidc-issuer: no one could sign in to the console"
            );
            anyhow::ensure!(
                self.oidc_client_id.is_none()
                    && self.oidc_auto_join.is_none()
                    && self.oidc_allowed_domains.is_empty(),
                "--oidc-client-id, --oidc-auto-join and --oidc-allowed-domains need --oidc-issuer"
            );
            return Ok(None);
        };
        let client_id = self
            .oidc_client_id
            .clone()
            .filter(|id| !id.trim().is_empty() && !id.chars().any(char::is_control))
            .ok_or_else(|| {
                anyhow::anyhow!("--oidc-issuer needs --oidc-client-id (CONSOLED_OIDC_CLIENT_ID)")
            })?;
        let client_secret = match (&self.oidc_client_secret, &self.oidc_client_secret_file) {
            (Some(secret), None) => secret.clone(),
            (None, Some(path)) => std::fs::read_to_string(path)
                .map_err(|e| anyhow::anyhow!("--oidc-client-secret-file {}: {e}", path.display()))?
                .trim_end_matches(['\r', '\n'])
                .to_string(),
            (None, None) => anyhow::bail!(
                "--oidc-issuer needs --oidc-client-secret or --oidc-client-secret-file"
            ),
            (Some(_), Some(_)) => {
                anyhow::bail!("set --oidc-client-secret or --oidc-client-secret-file, not both")
            }
        };
        anyhow::ensure!(
            !client_secret.is_empty() && !client_secret.chars().any(char::is_control),
            "the OpenID client secret must not be empty or contain control characters"
        );
        let scopes: Vec<String> = self
            .oidc_scopes
            .split_whitespace()
            .map(str::to_string)
            .collect();
        anyhow::ensure!(
            scopes.iter().any(|s| s == "openid") && scopes.iter().any(|s| s == "email"),
            "--oidc-scopes must include openid and email: members are matched by their email"
        );
        anyhow::ensure!(
            self.oidc_auto_join.is_none() || !self.oidc_allowed_domains.is_empty(),
            "--oidc-auto-join needs --oidc-allowed-domains: whose people may join"
        );
        Ok(Some(SsoSettings {
            issuer: issuer.clone(),
            client_id,
            client_secret,
            // `openid` first, as some providers expect.
            scopes: scopes.into_iter().filter(|s| s != "openid").collect(),
            auto_join: self.oidc_auto_join,
            allowed_domains: self.oidc_allowed_domains.clone(),
        }))
    }
}

fn parse_issuer(text: &str) -> Result<String, String> {
    let text = text.trim();
    let url = url::Url::parse(text).map_err(|e| format!("not a URL: {e}"))?;
    match url.scheme() {
        "https" | "http" if url.host().is_some() && url.query().is_none() => Ok(text.to_string()),
        _ => Err(
            "an http(s) URL without a query, such as https://login.example.com/realms/acme".into(),
        ),
    }
}

fn parse_join_role(text: &str) -> Result<OrgRole, String> {
    match OrgRole::parse(text.trim()) {
        Some(role) if role.is_assignable() => Ok(role),
        _ => Err(format!(
            "{text:?} is not a role a member can be given; one of: {}",
            OrgRole::ALL
                .iter()
                .filter(|r| r.is_assignable())
                .map(|r| r.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

fn parse_domain(text: &str) -> Result<String, String> {
    let domain = text.trim().trim_start_matches('@').to_ascii_lowercase();
    let valid = !domain.is_empty()
        && domain.len() <= 253
        && domain.contains('.')
        && domain
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.');
    if valid {
        Ok(domain)
    } else {
        Err(format!(
            "{text:?} is not an email domain such as example.com"
        ))
    }
}
