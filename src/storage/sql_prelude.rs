//! Everything the shared queries in `sql/` refer to, imported once per included file.

pub(crate) use async_trait::async_trait;
pub(crate) use sqlx::FromRow;

pub(crate) use super::rows::*;
pub(crate) use super::{
    ClusterProgress, ResultExt, SigningKeyRecord, StoreError, StoreResult, ZeebeCredential,
};
pub(crate) use crate::domain::api_client::ApiClient;
pub(crate) use crate::domain::audit::AuditEntry;
pub(crate) use crate::domain::cluster::{Cluster, StageLabel};
pub(crate) use crate::domain::organization::Organization;
pub(crate) use crate::domain::zeebe_client::{permissions_to_text, ZeebeClient};
