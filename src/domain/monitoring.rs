//! Bring-your-own monitoring: credentials for a cluster's metrics endpoint.

use super::{DomainError, Timestamp};

pub const MAX_USERNAME_CHARS: usize = 64;
/// Enough for every Prometheus a team runs; bounds what one API client can create.
pub const MAX_CLIENTS_PER_CLUSTER: u32 = 20;

/// A credential for the metrics endpoint (HTTP Basic). The password is shown once, when it
/// is created or rotated; only its keyed hash is kept.
#[derive(Debug, Clone, PartialEq)]
pub struct MonitoringClient {
    pub id: String,
    pub cluster_id: String,
    pub org_id: String,
    pub username: String,
    pub password_hash: Vec<u8>,
    pub created_at: Timestamp,
    /// The Console API client that created it, and that client's name.
    pub created_by: String,
    pub created_by_name: String,
    /// The last time the metrics endpoint accepted this credential (kept to the minute).
    pub last_used_at: Option<Timestamp>,
}

/// Usernames go into Prometheus configurations and HTTP Basic credentials, where `:` would
/// end the username; letters, digits and `. _ - @ +` are enough for any naming scheme.
pub fn validate_username(username: &str) -> Result<(), DomainError> {
    if username.is_empty() {
        return Err(DomainError::Invalid("username must not be empty".into()));
    }
    if username.chars().count() > MAX_USERNAME_CHARS {
        return Err(DomainError::Invalid(format!(
            "username is too long: at most {MAX_USERNAME_CHARS} characters"
        )));
    }
    if let Some(bad) = username
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || "._-@+".contains(*c)))
    {
        return Err(DomainError::Invalid(format!(
            "username may only contain letters, digits and . _ - @ +, not {bad:?}"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_fit_basic_auth_and_prometheus_configs() {
        for good in ["prometheus", "sdk-prom-lx2a9", "team.a_b+1@example.com"] {
            assert!(validate_username(good).is_ok(), "{good}");
        }
        for bad in ["", "a:b", "with space", "tab\t", "ä", &"x".repeat(65)] {
            assert!(validate_username(bad).is_err(), "{bad:?}");
        }
        assert!(validate_username(&"x".repeat(64)).is_ok());
    }
}
