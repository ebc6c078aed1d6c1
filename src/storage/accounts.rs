use async_trait::async_trait;

use super::StoreResult;
use crate::domain::account::{ConsoleSession, SignInLink};
use crate::domain::audit::AuditEntry;
use crate::domain::member::Member;
use crate::domain::Timestamp;

/// A member who can sign in: the member with its password's hash.
#[derive(Debug, Clone)]
pub struct Account {
    pub member: Member,
    /// An Argon2id PHC string.
    pub password_hash: String,
}

/// Members' console accounts: passwords, one-time sign-in links and sessions. Links and
/// sessions are looked up by keyed hashes (`Keyring::sign_in_link_hash`,
/// `Keyring::session_hash`); every row goes with its member.
#[async_trait]
pub trait AccountStore: Send + Sync + 'static {
    /// The members with this (normalized) email that have a password, in every
    /// organization, the oldest organization first.
    async fn accounts(&self, email: &str) -> StoreResult<Vec<Account>>;

    /// Stores a new link, replacing the member's earlier links; `NotFound` when the member
    /// does not exist.
    async fn insert_sign_in_link(&self, link: &SignInLink, audit: &AuditEntry)
        -> StoreResult<()>;

    /// The link with this token hash, used or not yet expired or not.
    async fn sign_in_link(&self, token_hash: &str) -> StoreResult<Option<SignInLink>>;

    /// Takes the link if it still works at `now`, in one transaction: deletes it, sets the
    /// member's password, activates the member if the link is an invite, ends the member's
    /// sessions and writes `audit`. False (and nothing written) when the link was used
    /// already or has expired.
    async fn take_sign_in_link(
        &self,
        link: &SignInLink,
        password_hash: &str,
        now: Timestamp,
        audit: &AuditEntry,
    ) -> StoreResult<bool>;

    /// Stores a new session with the activity record of the sign-in.
    async fn insert_session(&self, session: &ConsoleSession, audit: &AuditEntry)
        -> StoreResult<()>;

    /// The session with this id hash and its member.
    async fn session(&self, id_hash: &str) -> StoreResult<Option<(ConsoleSession, Member)>>;

    /// Records that the session was used at `now`.
    async fn touch_session(&self, id_hash: &str, now: Timestamp) -> StoreResult<()>;

    /// Ends a session, with the activity record of the sign-out if given; false when there
    /// was none.
    async fn delete_session(&self, id_hash: &str, audit: Option<&AuditEntry>)
        -> StoreResult<bool>;

    /// Deletes sessions last used at or before `idle_before` or started at or before
    /// `started_before`, and links expired at `now`.
    async fn delete_expired_sign_ins(
        &self,
        idle_before: Timestamp,
        started_before: Timestamp,
        now: Timestamp,
    ) -> StoreResult<()>;

    /// Records what changed nothing else (a refused sign-in).
    async fn record_activity(&self, audit: &AuditEntry) -> StoreResult<()>;
}
