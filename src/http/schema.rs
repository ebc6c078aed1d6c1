//! Helpers for the schemas of the OpenAPI document that resource files share: the tags,
//! string enums whose values live in the domain, and shared schema types.

use std::borrow::Cow;

use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::openapi::RefOr;
use utoipa::{PartialSchema, ToSchema};

use crate::domain::cluster::{ComponentStatus, StageLabel};

/// Tags, in the order the docs page lists them.
pub mod tags {
    pub const CLUSTERS: &str = "Clusters";
    pub const CLIENTS: &str = "Clients";
    pub const IP_ALLOWLIST: &str = "IP allowlist";
    pub const SECRETS: &str = "Connector secrets";
    pub const BACKUPS: &str = "Backups";
    pub const MONITORING: &str = "Monitoring";
    pub const SECURE_CONNECTIVITY: &str = "Secure connectivity";
    pub const MEMBERS: &str = "Members";
    pub const ACTIVITY: &str = "Activity";
    pub const META: &str = "Meta";
    pub const OAUTH: &str = "OAuth";
    pub const OPERATIONS: &str = "Operations";
}

/// A string schema with the given values, for enums whose wire names live in the domain.
pub fn string_enum<'a>(
    description: &str,
    values: impl IntoIterator<Item = &'a str>,
) -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .description(Some(description))
        .enum_values(Some(values))
        .into()
}

/// `{}`: what some SDK types show for "not active".
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
#[schema(max_properties = 0)]
pub struct EmptyObject {}

impl PartialSchema for ComponentStatus {
    fn schema() -> RefOr<Schema> {
        string_enum(
            "The state of a cluster or one of its components",
            ComponentStatus::ALL.iter().map(|v| v.as_str()),
        )
    }
}

impl ToSchema for ComponentStatus {
    fn name() -> Cow<'static, str> {
        "ClusterComponentStatus".into()
    }
}

impl PartialSchema for StageLabel {
    fn schema() -> RefOr<Schema> {
        string_enum(
            "The deployment stage of a cluster",
            StageLabel::ALL.iter().map(|v| v.as_str()),
        )
    }
}

impl ToSchema for StageLabel {
    fn name() -> Cow<'static, str> {
        "CamundaClusterStage".into()
    }
}
