use async_trait::async_trait;

use super::StoreResult;
use crate::domain::audit::AuditEntry;
use crate::domain::member::{Member, OrgRole};

/// Organization members and pending invites. Emails passed in are normalized.
#[async_trait]
pub trait MemberStore: Send + Sync + 'static {
    /// The organization's members, the owner first, then in order of invitation.
    async fn members(&self, org_id: &str) -> StoreResult<Vec<Member>>;
    async fn member(&self, org_id: &str, email: &str) -> StoreResult<Option<Member>>;
    /// The members and pending invites with this email in every organization, the oldest
    /// organization first.
    async fn members_by_email(&self, email: &str) -> StoreResult<Vec<Member>>;
    /// Inserts a member unless the organization already has `max_members` (`LimitReached`)
    /// or the email is taken (`Conflict`).
    async fn insert_member(
        &self,
        member: &Member,
        max_members: u32,
        audit: &AuditEntry,
    ) -> StoreResult<()>;
    /// Replaces the roles of a member who is not the owner, if they are still `expected`;
    /// false when the member is gone, is the owner, or was changed meanwhile.
    async fn update_member_roles(
        &self,
        org_id: &str,
        email: &str,
        expected: &[OrgRole],
        roles: &[OrgRole],
        audit: &AuditEntry,
    ) -> StoreResult<bool>;
    /// Marks a pending invite as accepted under `name`; false when there is none.
    async fn accept_member(
        &self,
        org_id: &str,
        email: &str,
        name: &str,
        audit: &AuditEntry,
    ) -> StoreResult<bool>;
    /// Removes a member who is not the owner; false when there is none.
    async fn delete_member(
        &self,
        org_id: &str,
        email: &str,
        audit: &AuditEntry,
    ) -> StoreResult<bool>;
}
