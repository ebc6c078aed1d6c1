//! API clients of a cluster (Zeebe clients): credentials for the cluster's components.

use serde::{Deserialize, Serialize};

use super::{text, DomainError, Timestamp};

pub const MAX_NAME_CHARS: usize = 100;

wire_names! {
    /// What a cluster client may access.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
    pub enum Permission {
        Zeebe => "Zeebe",
        Operate => "Operate",
        Tasklist => "Tasklist",
        Optimize => "Optimize",
        Secrets => "Secrets",
    }
}

/// Serializes permissions for storage: names joined by commas.
pub fn permissions_to_text(permissions: &[Permission]) -> String {
    permissions
        .iter()
        .map(|p| p.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

pub fn permissions_from_text(text: &str) -> Vec<Permission> {
    text.split(',').filter_map(Permission::parse).collect()
}

#[derive(Debug, Clone, PartialEq)]
pub struct ZeebeClient {
    /// Internal id (`uuid` in the create response).
    pub id: String,
    pub cluster_id: String,
    pub org_id: String,
    /// The OAuth client id.
    pub client_id: String,
    pub name: String,
    pub secret_hash: Vec<u8>,
    pub permissions: Vec<Permission>,
    pub created_at: Timestamp,
}

impl ZeebeClient {
    /// Validates a create request; an absent or empty permission list means all of them.
    pub fn validate_new(
        name: &str,
        permissions: Option<Vec<Permission>>,
    ) -> Result<Vec<Permission>, DomainError> {
        text::check_name("clientName", name)?;
        if name.trim().is_empty() {
            return Err(DomainError::Invalid("clientName must not be empty".into()));
        }
        if name.chars().count() > MAX_NAME_CHARS {
            return Err(DomainError::Invalid(format!(
                "clientName is too long: at most {MAX_NAME_CHARS} characters"
            )));
        }
        let mut permissions = match permissions {
            Some(list) if !list.is_empty() => list,
            _ => Permission::ALL.to_vec(),
        };
        // Keep the canonical order and drop repeats so the stored value is stable.
        permissions.sort_by_key(|p| Permission::ALL.iter().position(|q| q == p));
        permissions.dedup();
        Ok(permissions)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_permissions_means_all() {
        assert_eq!(
            ZeebeClient::validate_new("w", None).unwrap(),
            Permission::ALL.to_vec()
        );
        assert_eq!(
            ZeebeClient::validate_new("w", Some(vec![])).unwrap(),
            Permission::ALL.to_vec()
        );
        let some = ZeebeClient::validate_new(
            "w",
            Some(vec![
                Permission::Operate,
                Permission::Zeebe,
                Permission::Zeebe,
            ]),
        );
        assert_eq!(some.unwrap(), vec![Permission::Zeebe, Permission::Operate]);
        assert!(ZeebeClient::validate_new(" ", None).is_err());
    }

    #[test]
    fn permissions_round_trip_through_text() {
        let all = Permission::ALL.to_vec();
        assert_eq!(permissions_from_text(&permissions_to_text(&all)), all);
    }
}
