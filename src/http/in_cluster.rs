//! What every `/clusters/{clusterUuid}/…` handler shares: the path parameter, loading the
//! caller's cluster (or 404), the store errors of writing a cluster's children, the shared
//! settings write, and the IP allowlist wire types the cluster shows and the allowlist
//! endpoints take.

use serde::{Deserialize, Serialize};
use utoipa::openapi::path::{Parameter, ParameterBuilder, ParameterIn};
use utoipa::openapi::{Object, Required, Type};
use utoipa::{IntoParams, ToSchema};

use super::error::{ApiError, ApiResult};
use super::extract::{ApiPath, Caller};
use super::retry::optimistically;
use super::AppState;
use crate::domain::audit::{AuditEntry, AuditType};
use crate::domain::cluster::Cluster;
use crate::domain::cluster_update::AttributeChange;
use crate::domain::ip_allowlist::IpAllowlistEntry;
use crate::domain::{DomainError, Timestamp};
use crate::storage::StoreError;

/// The `{clusterUuid}` path parameter: an extractor (on any route under
/// `/clusters/{clusterUuid}`, decoded as `ApiPath` decodes) and its documentation
/// (`params(ClusterPath)`).
pub struct ClusterPath(pub String);

#[derive(Deserialize)]
struct ClusterUuid {
    #[serde(rename = "clusterUuid")]
    cluster_uuid: String,
}

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for ClusterPath {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, Self::Rejection> {
        let ApiPath(ClusterUuid { cluster_uuid }) =
            ApiPath::from_request_parts(parts, state).await?;
        Ok(ClusterPath(cluster_uuid))
    }
}

impl IntoParams for ClusterPath {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        vec![ParameterBuilder::new()
            .name("clusterUuid")
            .parameter_in(ParameterIn::Path)
            .description(Some("The cluster's uuid"))
            .required(Required::True)
            .schema(Some(Object::with_type(Type::String)))
            .build()]
    }
}

impl Caller {
    /// An activity record, now, of a change to `entity_id`, a part of the cluster
    /// `cluster_id`.
    pub fn cluster_audit(
        &self,
        kind: AuditType,
        entity: &str,
        entity_id: &str,
        cluster_id: &str,
        text: String,
    ) -> AuditEntry {
        self.audit(kind, entity, entity_id, text, Timestamp::now())
            .with_parent("cluster", cluster_id)
    }
}

pub fn cluster_not_found(id: &str) -> ApiError {
    ApiError::not_found(format!("cluster {id:?} not found"))
}

/// Loads a cluster of the caller's organization or answers 404.
pub async fn load_cluster(state: &AppState, caller: &Caller, id: &str) -> ApiResult<Cluster> {
    state
        .store
        .cluster(caller.org_id(), id)
        .await?
        .ok_or_else(|| cluster_not_found(id))
}

/// For `map_err` on a write of a cluster's child: the cluster deleted meanwhile is 404,
/// anything else a store error.
pub fn cluster_gone(cluster_id: &str) -> impl FnOnce(StoreError) -> ApiError + '_ {
    move |error| match error {
        StoreError::NotFound => cluster_not_found(cluster_id),
        other => other.into(),
    }
}

/// For `map_err` on creating a cluster's child, as `cluster_gone`, and also: a duplicate
/// name is `duplicate`, a cluster holding all the children it may is `full`.
pub fn refused_child<'a>(
    cluster_id: &'a str,
    duplicate: impl FnOnce() -> ApiError + 'a,
    full: impl FnOnce() -> ApiError + 'a,
) -> impl FnOnce(StoreError) -> ApiError + 'a {
    move |error| match error {
        StoreError::Conflict(_) => duplicate(),
        StoreError::LimitReached => full(),
        other => cluster_gone(cluster_id)(other),
    }
}

/// Reads the caller's cluster, applies `change` and writes the result if nobody changed
/// the cluster in between (else reads again), with one audit record per changed
/// attribute. 404 when the cluster is unknown, another organization's or deleted
/// meanwhile; nothing is written when nothing changes.
pub async fn update_settings<F>(
    state: &AppState,
    caller: &Caller,
    cluster_id: &str,
    change: F,
) -> ApiResult<()>
where
    F: Fn(&Cluster) -> Result<(Cluster, Vec<AttributeChange>), DomainError>,
{
    let change = &change;
    optimistically("the cluster", || async move {
        let current = load_cluster(state, caller, cluster_id).await?;
        let (next, changes) = change(&current)?;
        if changes.is_empty() {
            return Ok(Some(()));
        }
        let audit = audit_records(caller, &current, changes);
        let written = state.store.update_cluster_settings(&next, &audit).await?;
        Ok(written.then_some(()))
    })
    .await
}

fn audit_records(
    caller: &Caller,
    cluster: &Cluster,
    changes: Vec<AttributeChange>,
) -> Vec<AuditEntry> {
    let now = Timestamp::now();
    changes
        .into_iter()
        .map(|c| {
            caller
                .audit(
                    AuditType::Update,
                    "cluster",
                    &cluster.id,
                    format!("Changed {} of cluster {:?}", c.attribute, cluster.name),
                    now,
                )
                .with_change(c.attribute, c.from, c.to)
        })
        .collect()
}

/// An IP allowlist rule as shown on a cluster.
#[derive(Debug, Serialize, Clone, ToSchema)]
#[schema(as = IpAllowListEntry)]
pub struct IpAllowlistEntryDto {
    /// An address, a CIDR range, or a comma-separated list of them.
    pub ip: String,
    pub description: String,
}

/// An IP allowlist rule in a request; `description` may be omitted (it then reads back as
/// `""`).
#[derive(Debug, Deserialize, Clone, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = IpAllowListEntryInput)]
pub struct IpAllowlistEntryInput {
    /// An address, a CIDR range, or a comma-separated list of them.
    pub ip: String,
    #[serde(default)]
    pub description: String,
}

impl From<IpAllowlistEntry> for IpAllowlistEntryDto {
    fn from(e: IpAllowlistEntry) -> Self {
        IpAllowlistEntryDto {
            ip: e.ip,
            description: e.description,
        }
    }
}

impl From<IpAllowlistEntryInput> for IpAllowlistEntry {
    fn from(e: IpAllowlistEntryInput) -> Self {
        IpAllowlistEntry {
            ip: e.ip,
            description: e.description,
        }
    }
}
