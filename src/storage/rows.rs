//! Row types shared by every backend (sqlx's `FromRow` is generic over the driver) and
//! their conversion into domain types.

use sqlx::FromRow;

use crate::domain::account::{ConsoleSession, LinkPurpose, SignInLink};
use crate::domain::api_client::ApiClient;
use crate::domain::audit::{AuditEntry, AuditType};
use crate::domain::cluster::{Cluster, ComponentStatus, Components, StageLabel};
use crate::domain::ip_allowlist::IpAllowlistEntry;
use crate::domain::member::{roles_from_text, Member};
use crate::domain::organization::Organization;
use crate::domain::zeebe_client::{permissions_from_text, ZeebeClient};
use crate::domain::Timestamp;
use crate::storage::SigningKeyRecord;

#[derive(FromRow)]
pub(crate) struct OrganizationRow {
    id: String,
    name: String,
    owner_email: String,
    created_at: i64,
}

impl From<OrganizationRow> for Organization {
    fn from(r: OrganizationRow) -> Self {
        Organization {
            id: r.id,
            name: r.name,
            owner_email: r.owner_email,
            created_at: Timestamp(r.created_at),
        }
    }
}

/// Organizations with the email of their owner member (empty if it is missing, which the
/// migration that introduced owners rules out).
macro_rules! organization_select {
    () => {
        "SELECT o.id, o.name, COALESCE(m.email, '') AS owner_email, o.created_at \
     FROM organizations o LEFT JOIN members m ON m.org_id = o.id AND m.is_owner"
    };
}
pub(crate) use organization_select;

macro_rules! api_client_columns {
    () => {
        "client_id, org_id, name, scopes, secret_hash, secret_generation, created_at"
    };
}
pub(crate) use api_client_columns;

#[derive(FromRow)]
pub(crate) struct ApiClientRow {
    client_id: String,
    org_id: String,
    name: String,
    scopes: String,
    secret_hash: Vec<u8>,
    secret_generation: i64,
    created_at: i64,
}

impl From<ApiClientRow> for ApiClient {
    fn from(r: ApiClientRow) -> Self {
        ApiClient {
            client_id: r.client_id,
            org_id: r.org_id,
            name: r.name,
            // Stored scopes were validated on the way in; an unknown one is dropped.
            scopes: r
                .scopes
                .split(' ')
                .filter_map(crate::domain::scope::Scope::parse)
                .collect(),
            secret_hash: r.secret_hash,
            secret_generation: r.secret_generation,
            created_at: Timestamp(r.created_at),
        }
    }
}

#[derive(FromRow)]
pub(crate) struct SigningKeyRow {
    kid: String,
    algorithm: String,
    private_key: Vec<u8>,
    public_key: Vec<u8>,
    created_at: i64,
    retired_at: Option<i64>,
}

impl From<SigningKeyRow> for SigningKeyRecord {
    fn from(r: SigningKeyRow) -> Self {
        SigningKeyRecord {
            kid: r.kid,
            algorithm: r.algorithm,
            private_key: r.private_key,
            public_key: r.public_key,
            created_at: Timestamp(r.created_at),
            retired_at: r.retired_at.map(Timestamp),
        }
    }
}

/// The clusters table's columns in `ClusterRow` order, for `concat!` into queries.
macro_rules! cluster_columns {
    () => {
        "id, org_id, name, description, channel_id, generation_id, region_id, \
    plan_type_id, backup_region_id, auto_update, stage_label, hardware_packages, status, \
    zeebe_status, operate_status, tasklist_status, optimize_status, connectors_status, \
    target_generation_id, status_since, created_at, version, ip_allowlist"
    };
}
pub(crate) use cluster_columns;

#[derive(FromRow)]
pub(crate) struct ClusterRow {
    id: String,
    org_id: String,
    name: String,
    description: Option<String>,
    channel_id: String,
    generation_id: String,
    region_id: String,
    plan_type_id: String,
    backup_region_id: Option<String>,
    auto_update: bool,
    stage_label: Option<String>,
    hardware_packages: f64,
    status: String,
    zeebe_status: String,
    operate_status: String,
    tasklist_status: String,
    optimize_status: String,
    connectors_status: String,
    target_generation_id: Option<String>,
    status_since: i64,
    created_at: i64,
    version: i64,
    #[sqlx(try_from = "String")]
    ip_allowlist: AllowlistJson,
}

/// The `ip_allowlist` column: a JSON array. A value that does not decode fails the query
/// (a 500) rather than silently reading as "no restriction".
pub(crate) struct AllowlistJson(Vec<IpAllowlistEntry>);

impl TryFrom<String> for AllowlistJson {
    type Error = serde_json::Error;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        serde_json::from_str(&text).map(AllowlistJson)
    }
}

pub(crate) fn allowlist_json(entries: &[IpAllowlistEntry]) -> String {
    serde_json::to_string(entries).expect("plain strings always serialize")
}

pub(crate) fn status(text: &str) -> ComponentStatus {
    ComponentStatus::parse(text).unwrap_or(ComponentStatus::Unhealthy)
}

impl From<ClusterRow> for Cluster {
    fn from(r: ClusterRow) -> Self {
        Cluster {
            id: r.id,
            org_id: r.org_id,
            name: r.name,
            description: r.description,
            channel_id: r.channel_id,
            generation_id: r.generation_id,
            region_id: r.region_id,
            plan_type_id: r.plan_type_id,
            backup_region_id: r.backup_region_id,
            auto_update: r.auto_update,
            stage_label: r.stage_label.as_deref().and_then(StageLabel::parse),
            hardware_packages: r.hardware_packages,
            ip_allowlist: r.ip_allowlist.0,
            status: status(&r.status),
            components: Components {
                zeebe: status(&r.zeebe_status),
                operate: status(&r.operate_status),
                tasklist: status(&r.tasklist_status),
                optimize: status(&r.optimize_status),
                connectors: status(&r.connectors_status),
            },
            target_generation_id: r.target_generation_id,
            status_since: Timestamp(r.status_since),
            created_at: Timestamp(r.created_at),
            version: r.version,
        }
    }
}

/// The zeebe_clients table's columns in `ZeebeClientRow` order.
macro_rules! zeebe_client_columns {
    () => {
        "id, cluster_id, org_id, client_id, name, secret_hash, permissions, created_at"
    };
}
pub(crate) use zeebe_client_columns;

#[derive(FromRow)]
pub(crate) struct ZeebeClientRow {
    id: String,
    cluster_id: String,
    org_id: String,
    client_id: String,
    name: String,
    secret_hash: Vec<u8>,
    permissions: String,
    created_at: i64,
}

impl From<ZeebeClientRow> for ZeebeClient {
    fn from(r: ZeebeClientRow) -> Self {
        ZeebeClient {
            id: r.id,
            cluster_id: r.cluster_id,
            org_id: r.org_id,
            client_id: r.client_id,
            name: r.name,
            secret_hash: r.secret_hash,
            permissions: permissions_from_text(&r.permissions),
            created_at: Timestamp(r.created_at),
        }
    }
}

#[derive(FromRow)]
pub(crate) struct AuditRow {
    id: String,
    org_id: String,
    ts: i64,
    service: String,
    audit_type: String,
    audit: String,
    entity: String,
    entity_id: String,
    entity_attribute: Option<String>,
    value_from: Option<String>,
    value_to: Option<String>,
    parent_entity: Option<String>,
    parent_entity_id: Option<String>,
    user_id: String,
    #[sqlx(default)]
    request_id: Option<String>,
}

impl From<AuditRow> for AuditEntry {
    fn from(r: AuditRow) -> Self {
        AuditEntry {
            id: r.id,
            org_id: r.org_id,
            timestamp: Timestamp(r.ts),
            service: r.service,
            audit_type: AuditType::from_code(&r.audit_type).unwrap_or(AuditType::Update),
            audit: r.audit,
            entity: r.entity,
            entity_id: r.entity_id,
            entity_attribute: r.entity_attribute,
            value_from: r.value_from,
            value_to: r.value_to,
            parent_entity: r.parent_entity,
            parent_entity_id: r.parent_entity_id,
            user_id: r.user_id,
            request_id: r.request_id,
        }
    }
}

macro_rules! member_columns {
    () => {
        "org_id, email, name, roles, invite_pending, is_owner, created_at"
    };
}
pub(crate) use member_columns;

#[derive(FromRow)]
pub(crate) struct MemberRow {
    org_id: String,
    email: String,
    name: String,
    roles: String,
    invite_pending: bool,
    is_owner: bool,
    created_at: i64,
}

impl From<MemberRow> for Member {
    fn from(r: MemberRow) -> Self {
        Member {
            org_id: r.org_id,
            email: r.email,
            name: r.name,
            roles: roles_from_text(&r.roles),
            invite_pending: r.invite_pending,
            is_owner: r.is_owner,
            created_at: Timestamp(r.created_at),
        }
    }
}

/// A member's columns prefixed by the alias `m`, for joins.
macro_rules! joined_member_columns {
    () => {
        "m.org_id, m.email, m.name, m.roles, m.invite_pending, m.is_owner, m.created_at"
    };
}
pub(crate) use joined_member_columns;

#[derive(FromRow)]
pub(crate) struct AccountRow {
    #[sqlx(flatten)]
    member: MemberRow,
    password_hash: String,
}

impl From<AccountRow> for crate::storage::Account {
    fn from(r: AccountRow) -> Self {
        crate::storage::Account {
            member: r.member.into(),
            password_hash: r.password_hash,
        }
    }
}

macro_rules! sign_in_link_columns {
    () => {
        "token_hash, org_id, email, purpose, created_at, expires_at"
    };
}
pub(crate) use sign_in_link_columns;

#[derive(FromRow)]
pub(crate) struct SignInLinkRow {
    token_hash: String,
    org_id: String,
    email: String,
    purpose: String,
    created_at: i64,
    expires_at: i64,
}

impl From<SignInLinkRow> for SignInLink {
    fn from(r: SignInLinkRow) -> Self {
        SignInLink {
            token_hash: r.token_hash,
            org_id: r.org_id,
            email: r.email,
            // The column's CHECK admits only the two; an unknown one would be the shorter.
            purpose: LinkPurpose::parse(&r.purpose).unwrap_or(LinkPurpose::Reset),
            created_at: Timestamp(r.created_at),
            expires_at: Timestamp(r.expires_at),
        }
    }
}

/// A session with its member's columns (`joined_member_columns!`).
#[derive(FromRow)]
pub(crate) struct SessionRow {
    id_hash: String,
    csrf_token: String,
    session_created_at: i64,
    last_seen_at: i64,
    identity_provider: Option<String>,
    #[sqlx(flatten)]
    member: MemberRow,
}

impl From<SessionRow> for (ConsoleSession, Member) {
    fn from(r: SessionRow) -> Self {
        let member: Member = r.member.into();
        let session = ConsoleSession {
            id_hash: r.id_hash,
            org_id: member.org_id.clone(),
            email: member.email.clone(),
            csrf_token: r.csrf_token,
            created_at: Timestamp(r.session_created_at),
            last_seen_at: Timestamp(r.last_seen_at),
            identity_provider: r.identity_provider,
        };
        (session, member)
    }
}
