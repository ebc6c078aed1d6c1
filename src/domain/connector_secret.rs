//! Connector secrets: named values a cluster's connectors read, kept encrypted at rest.
//! The plaintext value exists only in requests and in `GET .../secrets` responses; this
//! type holds the sealed value and nothing that could leak it through `Debug`.

use super::{DomainError, Timestamp};

/// Names of this many characters or more are refused (the hosted API's documented limit).
pub const NAME_LIMIT_CHARS: usize = 50;

/// A secret as stored: its value sealed under the master key.
#[derive(Debug, Clone, PartialEq)]
pub struct ConnectorSecret {
    pub cluster_id: String,
    pub org_id: String,
    pub name: String,
    /// The value encrypted with the cluster id and name as associated data
    /// (see [`encryption_context`]).
    pub sealed_value: Vec<u8>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// Checks a new secret's name: shorter than [`NAME_LIMIT_CHARS`] and shaped like an
/// environment variable (`^[A-Za-z_][A-Za-z0-9_]*$`), which is how connectors refer to it.
pub fn validate_name(name: &str) -> Result<(), DomainError> {
    if name.chars().count() >= NAME_LIMIT_CHARS {
        return Err(DomainError::Invalid(format!(
            "secretName must be less than {NAME_LIMIT_CHARS} characters"
        )));
    }
    if !is_env_name(name) {
        return Err(DomainError::Invalid(format!(
            "secretName {name:?} is invalid: it must start with a letter or an underscore \
             and contain only letters, digits and underscores"
        )));
    }
    Ok(())
}

fn is_env_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    match bytes.next() {
        Some(first) if first.is_ascii_alphabetic() || first == b'_' => {}
        _ => return false,
    }
    bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// The associated data a secret's value is sealed with: a ciphertext copied to another
/// cluster or name does not decrypt. Neither part can contain a NUL (cluster ids are
/// UUIDs, names are validated), so the encoding is unambiguous.
pub fn encryption_context(cluster_id: &str, name: &str) -> Vec<u8> {
    format!("consoled/connector-secret/v1\0{cluster_id}\0{name}").into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_look_like_environment_variables() {
        for good in ["A", "_", "MY_SECRET", "token2", "_x_9", &"S".repeat(49)] {
            assert!(validate_name(good).is_ok(), "{good:?}");
        }
        for bad in [
            "",
            "1ABC",
            "MY-SECRET",
            "MY SECRET",
            "a.b",
            "ÄBC",
            "a/b",
            "a+b",
        ] {
            let err = validate_name(bad).unwrap_err().to_string();
            assert!(err.contains("secretName"), "{err}");
        }
        let err = validate_name(&"S".repeat(50)).unwrap_err().to_string();
        assert!(err.contains("less than 50"), "{err}");
    }

    #[test]
    fn the_context_binds_cluster_and_name() {
        assert_ne!(encryption_context("c1", "A"), encryption_context("c2", "A"));
        assert_ne!(encryption_context("c1", "A"), encryption_context("c1", "B"));
    }
}
