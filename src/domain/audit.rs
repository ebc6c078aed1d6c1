use super::Timestamp;

wire_names! {
    /// What kind of change an audit record describes (the `auditType` of `AuditDto`, by
    /// its one-letter code).
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum AuditType {
        Create => "c",
        Read => "r",
        Update => "u",
        Delete => "d",
    }
}

impl AuditType {
    /// The one-letter code, as the API and the store write it.
    pub fn code(self) -> &'static str {
        self.as_str()
    }

    pub fn from_code(code: &str) -> Option<Self> {
        Self::parse(code)
    }
}

/// One activity record, written in the same transaction as the change it describes.
/// Never holds a secret value.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEntry {
    pub id: String,
    pub org_id: String,
    pub timestamp: Timestamp,
    pub service: String,
    pub audit_type: AuditType,
    pub audit: String,
    pub entity: String,
    pub entity_id: String,
    pub entity_attribute: Option<String>,
    pub value_from: Option<String>,
    pub value_to: Option<String>,
    pub parent_entity: Option<String>,
    pub parent_entity_id: Option<String>,
    /// The Console API client, operator or system component that made the change.
    pub user_id: String,
    /// The id of the request that caused it (`X-Request-Id`), when one did.
    pub request_id: Option<String>,
}

impl AuditEntry {
    pub fn new(
        org_id: &str,
        actor: &str,
        audit_type: AuditType,
        entity: &str,
        entity_id: &str,
        audit: String,
        now: Timestamp,
    ) -> Self {
        AuditEntry {
            id: uuid::Uuid::new_v4().to_string(),
            org_id: org_id.to_string(),
            timestamp: now,
            service: "console".to_string(),
            audit_type,
            audit,
            entity: entity.to_string(),
            entity_id: entity_id.to_string(),
            entity_attribute: None,
            value_from: None,
            value_to: None,
            parent_entity: None,
            parent_entity_id: None,
            user_id: actor.to_string(),
            request_id: current_request_id(),
        }
    }

    pub fn with_parent(mut self, entity: &str, id: &str) -> Self {
        self.parent_entity = Some(entity.to_string());
        self.parent_entity_id = Some(id.to_string());
        self
    }

    pub fn with_change(
        mut self,
        attribute: &str,
        from: Option<String>,
        to: Option<String>,
    ) -> Self {
        self.entity_attribute = Some(attribute.to_string());
        self.value_from = from;
        self.value_to = to;
        self
    }
}

tokio::task_local! {
    /// The id of the request being handled, set by the HTTP layer around each request so
    /// that the activity a request causes names it, without threading it through every
    /// call.
    pub static REQUEST_ID: String;
}

/// The id of the request this code runs for, if it runs for one.
pub fn current_request_id() -> Option<String> {
    REQUEST_ID.try_with(Clone::clone).ok()
}
