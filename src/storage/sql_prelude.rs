//! Everything the shared queries in `sql/` refer to, imported once per included file.

pub(crate) use async_trait::async_trait;
pub(crate) use sqlx::FromRow;

pub(crate) use super::backend::SqlBackend;
pub(crate) use super::rows::*;
pub(crate) use super::{
    Account, ClusterProgress, ClusterStep, ResultExt, SigningKeyRecord, StoreError, StoreResult,
    ZeebeCredential,
};
pub(crate) use crate::domain::account::{ConsoleSession, LinkPurpose, SignInLink};
pub(crate) use crate::domain::api_client::ApiClient;
pub(crate) use crate::domain::audit::AuditEntry;
pub(crate) use crate::domain::cluster::{Cluster, StageLabel};
pub(crate) use crate::domain::member::{roles_to_text, Member, OrgRole};
pub(crate) use crate::domain::organization::Organization;
pub(crate) use crate::domain::zeebe_client::{permissions_to_text, ZeebeClient};

/// Advisory lock ids for `Backend::exclusive`.
pub(crate) const LOCK_SIGNING_KEYS: i64 = 0x636f_6e73_6f6c_6501;
pub(crate) const LOCK_FIRST_ORGANIZATION: i64 = 0x636f_6e73_6f6c_6502;
pub(crate) const LOCK_MEMBERS: i64 = 0x636f_6e73_6f6c_6503;
pub(crate) use crate::domain::Timestamp;
