use super::Timestamp;

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
}
