//! Connector secrets: named values a cluster's connectors read, kept encrypted at rest.
//! The plaintext value exists only in requests and in `GET .../secrets` responses; this
//! type holds the sealed value and nothing that could leak it through `Debug`.

use super::{text, DomainError, Timestamp};

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

/// Checks a new secret's name: not empty, shorter than [`NAME_LIMIT_CHARS`], and made of
/// visible characters only. The reference limits a name only by its length, and clients
/// use names such as `my-key-of-secret` (the Terraform provider's example) or `a.b-c`, so
/// any printable character is allowed, `/` too (it travels percent-encoded as `%2F` in
/// paths). Refused is what cannot be stored or typed back reliably: whitespace (a name
/// is referenced in connector templates as one word), NUL and other controls, bidirectional
/// formatting, and zero-width characters, which would make two names look the same.
pub fn validate_name(name: &str) -> Result<(), DomainError> {
    if name.is_empty() {
        return Err(DomainError::Invalid("secretName must not be empty".into()));
    }
    if name.chars().count() >= NAME_LIMIT_CHARS {
        return Err(DomainError::Invalid(format!(
            "secretName must be less than {NAME_LIMIT_CHARS} characters"
        )));
    }
    text::check_name("secretName", name)?;
    if let Some(c) = name
        .chars()
        .find(|c| c.is_whitespace() || is_zero_width(*c))
    {
        return Err(DomainError::Invalid(format!(
            "secretName must not contain whitespace or invisible characters (found U+{:04X})",
            u32::from(c)
        )));
    }
    Ok(())
}

/// Checks a value: any text but a NUL. Values are sealed, so the database never sees
/// them as text; still, connectors hand values on as environment variables and strings
/// of other systems, which end at a NUL, so such a value would arrive cut short.
pub fn validate_value(value: &str) -> Result<(), DomainError> {
    text::check_stored("secretValue", value)
}

/// Characters that take no room on screen: zero-width space, non-joiner, joiner, word
/// joiner and the byte order mark.
fn is_zero_width(c: char) -> bool {
    matches!(c, '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FEFF}')
}

/// The associated data a secret's value is sealed with: a ciphertext copied to another
/// cluster or name does not decrypt. Neither part can contain a NUL (cluster ids are
/// UUIDs, names refuse it), so the encoding is unambiguous.
pub fn encryption_context(cluster_id: &str, name: &str) -> Vec<u8> {
    format!("consoled/connector-secret/v1\0{cluster_id}\0{name}").into_bytes()
}

impl ConnectorSecret {
    /// The plaintext value; `None` when it does not decrypt under this master key.
    pub fn reveal(&self, keyring: &crate::crypto::Keyring) -> Option<String> {
        let context = encryption_context(&self.cluster_id, &self.name);
        keyring
            .decrypt(&self.sealed_value, &context)
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_any_visible_characters_shorter_than_fifty() {
        for good in [
            "A",
            "_",
            "MY_SECRET",
            "my-key-of-secret",
            "a.b-c",
            "1ABC",
            "ÄBC",
            "a/b",
            "a+b",
            "x@y:z%",
            &"S".repeat(49),
        ] {
            assert!(validate_name(good).is_ok(), "{good:?}");
        }
        for bad in [
            "",
            "MY SECRET",
            "tab\there",
            "nul\0",
            "esc\u{1b}",
            "nbsp\u{a0}",
            "rlo\u{202e}",
            "zwsp\u{200b}",
            "bom\u{feff}",
        ] {
            let err = validate_name(bad).unwrap_err().to_string();
            assert!(err.starts_with("secretName must"), "{err}");
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
