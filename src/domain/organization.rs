use super::member::normalize_email;
use super::{text, DomainError, Timestamp};

/// Owner of an organization created without an explicit owner email (`--owner-email`).
pub const DEFAULT_OWNER_EMAIL: &str = "owner@consoled.local";
/// Longest organization name, in characters.
pub const MAX_NAME_CHARS: usize = 100;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Organization {
    pub id: String,
    pub name: String,
    /// Email of the owner member, created with the organization (normalized).
    pub owner_email: String,
    pub created_at: Timestamp,
}

impl Organization {
    pub fn new(name: &str, owner_email: &str, now: Timestamp) -> Self {
        Organization {
            id: uuid::Uuid::new_v4().to_string(),
            name: name.to_string(),
            owner_email: owner_email.to_string(),
            created_at: now,
        }
    }

    /// A new organization after the rules: a valid name ([`check_name`]) and an owner
    /// email normalized as members' emails are.
    pub fn create(name: &str, owner_email: &str, now: Timestamp) -> Result<Self, DomainError> {
        let name = check_name(name)?;
        let owner = normalize_email(owner_email)
            .map_err(|e| DomainError::Invalid(format!("the owner email: {e}")))?;
        Ok(Organization::new(name, &owner, now))
    }
}

/// The organization-name rule: trimmed, not empty, text a name may hold
/// ([`text::check_name`]), at most [`MAX_NAME_CHARS`] characters. Returns the trimmed name.
pub fn check_name(name: &str) -> Result<&str, DomainError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(DomainError::Invalid(
            "the organization name must not be empty".into(),
        ));
    }
    text::check_name("the organization name", name)?;
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(DomainError::Invalid(format!(
            "the organization name is too long: at most {MAX_NAME_CHARS} characters"
        )));
    }
    Ok(name)
}
