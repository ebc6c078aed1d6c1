use super::Timestamp;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Organization {
    pub id: String,
    pub name: String,
    pub created_at: Timestamp,
}

impl Organization {
    pub fn new(name: &str, now: Timestamp) -> Self {
        Organization {
            id: uuid::Uuid::new_v4().to_string(),
            name: name.to_string(),
            created_at: now,
        }
    }
}
