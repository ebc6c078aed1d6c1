//! Clusters: creation rules, lifecycle states and the links handed out for them.

use serde::{Deserialize, Serialize};

use super::ip_allowlist::IpAllowlistEntry;
use super::provisioning::Endpoints;
use super::{text, DomainError, Timestamp};
use crate::catalog::Catalog;

pub const MAX_NAME_CHARS: usize = 50;

wire_names! {
    /// The status of a cluster or one of its components, as the API shows it.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
    pub enum ComponentStatus {
        Creating => "Creating",
        Healthy => "Healthy",
        Unhealthy => "Unhealthy",
        Updating => "Updating",
        Resuming => "Resuming",
        Suspended => "Suspended",
    }
}

impl ComponentStatus {
    /// States the reconciler is driving towards `Healthy`.
    pub fn is_transitional(self) -> bool {
        matches!(
            self,
            ComponentStatus::Creating | ComponentStatus::Updating | ComponentStatus::Resuming
        )
    }
}

/// Per-component statuses; `ready` on the wire is the cluster's overall status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Components {
    pub zeebe: ComponentStatus,
    pub operate: ComponentStatus,
    pub tasklist: ComponentStatus,
    pub optimize: ComponentStatus,
    pub connectors: ComponentStatus,
}

impl Components {
    pub fn all(status: ComponentStatus) -> Self {
        Components {
            zeebe: status,
            operate: status,
            tasklist: status,
            optimize: status,
            connectors: status,
        }
    }
}

wire_names! {
    /// The deployment stage a cluster is labelled with.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(rename_all = "lowercase")]
    pub enum StageLabel {
        Dev => "dev",
        Test => "test",
        Stage => "stage",
        Prod => "prod",
    }
}

/// A cluster as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Cluster {
    pub id: String,
    pub org_id: String,
    pub name: String,
    pub description: Option<String>,
    pub channel_id: String,
    pub generation_id: String,
    pub region_id: String,
    pub plan_type_id: String,
    pub backup_region_id: Option<String>,
    pub auto_update: bool,
    pub stage_label: Option<StageLabel>,
    pub hardware_packages: f64,
    /// Who may reach the cluster; empty means no restriction.
    pub ip_allowlist: Vec<IpAllowlistEntry>,
    /// Overall status (`ready` on the wire).
    pub status: ComponentStatus,
    pub components: Components,
    /// The generation an `Updating` cluster is moving to.
    pub target_generation_id: Option<String>,
    /// When the current status was entered; transitions are timed from it.
    pub status_since: Timestamp,
    pub created_at: Timestamp,
    /// Incremented by every change; writers compare it to avoid lost updates.
    pub version: i64,
}

/// What a client asks for when creating a cluster, before validation.
#[derive(Debug, Clone, Default)]
pub struct ClusterDraft {
    pub name: String,
    pub channel_id: String,
    pub generation_id: String,
    pub region_id: String,
    pub plan_type_id: String,
    pub backup_region_id: Option<String>,
    pub auto_update: Option<bool>,
    pub stage_label: Option<StageLabel>,
    pub hardware_packages: Option<f64>,
}

/// A cluster name: not blank, at most [`MAX_NAME_CHARS`] characters, and shown as written
/// (see [`text::check_name`]).
pub fn validate_name(name: &str) -> Result<(), DomainError> {
    text::check_name("name", name)?;
    if name.trim().is_empty() {
        return Err(DomainError::Invalid("name must not be empty".into()));
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(DomainError::Invalid(format!(
            "name is too long: at most {MAX_NAME_CHARS} characters"
        )));
    }
    Ok(())
}

pub fn validate_hardware_packages(value: f64, field: &str) -> Result<(), DomainError> {
    if !(value.is_finite() && value >= 1.0 && value.fract() == 0.0 && value <= 64.0) {
        return Err(DomainError::Invalid(format!(
            "{field} must be a whole number between 1 and 64"
        )));
    }
    Ok(())
}

impl Cluster {
    /// Validates a draft against the catalog and returns the new cluster in `Creating`.
    pub fn create(
        draft: ClusterDraft,
        org_id: &str,
        catalog: &Catalog,
        now: Timestamp,
    ) -> Result<Cluster, DomainError> {
        validate_name(&draft.name)?;
        let channel = catalog.channel(&draft.channel_id).ok_or_else(|| {
            DomainError::Invalid(format!(
                "invalid channelId: {:?} is not a channel",
                draft.channel_id
            ))
        })?;
        if channel.generation(&draft.generation_id).is_none() {
            return Err(DomainError::Invalid(format!(
                "invalid generationId: {:?} is not a generation of channel {}",
                draft.generation_id, channel.name
            )));
        }
        if catalog.region(&draft.region_id).is_none() {
            return Err(DomainError::Invalid(format!(
                "invalid regionId: {:?} is not a region",
                draft.region_id
            )));
        }
        if catalog.plan_type(&draft.plan_type_id).is_none() {
            return Err(DomainError::Invalid(format!(
                "invalid planTypeId: {:?} is not a cluster plan type",
                draft.plan_type_id
            )));
        }
        if let Some(backup) = &draft.backup_region_id {
            if catalog.region(backup).is_none() {
                return Err(DomainError::Invalid(format!(
                    "invalid backupRegionId: {backup:?} is not a region"
                )));
            }
        }
        let hardware_packages = draft.hardware_packages.unwrap_or(1.0);
        validate_hardware_packages(hardware_packages, "hardwarePackages")?;
        // Auto-update only exists on channels that follow a default generation.
        let auto_update = channel.auto_update && draft.auto_update.unwrap_or(true);
        Ok(Cluster {
            id: uuid::Uuid::new_v4().to_string(),
            org_id: org_id.to_string(),
            name: draft.name,
            description: None,
            channel_id: draft.channel_id,
            generation_id: draft.generation_id,
            region_id: draft.region_id,
            plan_type_id: draft.plan_type_id,
            backup_region_id: draft.backup_region_id,
            auto_update,
            stage_label: draft.stage_label,
            hardware_packages,
            ip_allowlist: Vec::new(),
            status: ComponentStatus::Creating,
            components: Components::all(ComponentStatus::Creating),
            target_generation_id: None,
            status_since: now,
            created_at: now,
            version: 0,
        })
    }

    pub fn is_healthy(&self) -> bool {
        self.status == ComponentStatus::Healthy
    }
}

/// The URLs of a cluster's components, built the way the hosted service builds them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterLinks {
    pub zeebe: String,
    pub operate: String,
    pub tasklist: String,
    pub optimize: String,
    pub connectors: String,
    pub identity: String,
    pub console: String,
    pub oauth: String,
}

impl ClusterLinks {
    pub fn new(
        cluster_id: &str,
        org_id: &str,
        region_short: &str,
        base_domain: &str,
        token_url: &str,
    ) -> Self {
        let component =
            |name: &str| format!("https://{region_short}.{name}.{base_domain}/{cluster_id}");
        ClusterLinks {
            zeebe: format!("{cluster_id}.{region_short}.zeebe.{base_domain}"),
            operate: component("operate"),
            tasklist: component("tasklist"),
            optimize: component("optimize"),
            connectors: component("connectors"),
            identity: component("identity"),
            console: format!("https://console.{base_domain}/org/{org_id}/cluster/{cluster_id}"),
            oauth: token_url.to_string(),
        }
    }

    /// `ZEEBE_ADDRESS` of the connection details: the gateway host with its port (443
    /// unless a driver reported the address with its own).
    pub fn zeebe_address(&self) -> String {
        let has_port = self
            .zeebe
            .rsplit_once(':')
            .is_some_and(|(_, port)| port.parse::<u16>().is_ok());
        if has_port {
            self.zeebe.clone()
        } else {
            format!("{}:443", self.zeebe)
        }
    }

    /// The links with what a provisioning driver reported in place of the made-up ones.
    pub fn with_endpoints(mut self, endpoints: &Endpoints) -> Self {
        let replace = |link: &mut String, reported: &Option<String>| {
            if let Some(reported) = reported {
                link.clone_from(reported);
            }
        };
        replace(&mut self.zeebe, &endpoints.zeebe_grpc);
        replace(&mut self.operate, &endpoints.operate);
        replace(&mut self.tasklist, &endpoints.tasklist);
        replace(&mut self.optimize, &endpoints.optimize);
        replace(&mut self.connectors, &endpoints.connectors);
        self
    }
}

#[cfg(test)]
impl ClusterDraft {
    /// A valid draft on the catalog's first channel, region and plan type.
    pub fn sample(catalog: &Catalog, name: &str) -> ClusterDraft {
        let channel = &catalog.channels[0];
        ClusterDraft {
            name: name.into(),
            channel_id: channel.id.clone(),
            generation_id: channel.default_generation.clone(),
            region_id: catalog.regions[0].id.clone(),
            plan_type_id: catalog.plan_types[0].id.clone(),
            ..Default::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft(catalog: &Catalog) -> ClusterDraft {
        ClusterDraft::sample(catalog, "my cluster")
    }

    #[test]
    fn a_valid_draft_becomes_a_creating_cluster() {
        let catalog = Catalog::builtin();
        let cluster = Cluster::create(draft(&catalog), "org", &catalog, Timestamp(5)).unwrap();
        assert_eq!(cluster.status, ComponentStatus::Creating);
        assert_eq!(
            cluster.components,
            Components::all(ComponentStatus::Creating)
        );
        assert_eq!(cluster.created_at, Timestamp(5));
        assert!(cluster.auto_update);
        assert_eq!(cluster.hardware_packages, 1.0);
    }

    #[test]
    fn each_bad_field_is_named() {
        let catalog = Catalog::builtin();
        type Mutation = fn(&mut ClusterDraft);
        let cases: Vec<(Mutation, &str)> = vec![
            (|d| d.name = "".into(), "name"),
            (|d| d.name = "x".repeat(51), "name"),
            (|d| d.name = "a\u{1b}[2Jb".into(), "name"),
            (|d| d.name = "a\u{0}b".into(), "name"),
            (|d| d.name = "a\u{202e}b".into(), "name"),
            (|d| d.channel_id = "nope".into(), "channelId"),
            (|d| d.generation_id = "nope".into(), "generationId"),
            (|d| d.region_id = "nope".into(), "regionId"),
            (|d| d.plan_type_id = "nope".into(), "planTypeId"),
            (|d| d.hardware_packages = Some(0.5), "hardwarePackages"),
        ];
        for (mutate, field) in cases {
            let mut d = draft(&catalog);
            mutate(&mut d);
            let err = Cluster::create(d, "org", &catalog, Timestamp(0)).unwrap_err();
            assert!(err.to_string().contains(field), "{err} should name {field}");
        }
        let mut fifty = draft(&catalog);
        fifty.name = "é".repeat(50);
        assert!(Cluster::create(fifty, "org", &catalog, Timestamp(0)).is_ok());
    }

    #[test]
    fn generation_must_belong_to_the_channel() {
        let catalog = Catalog::builtin();
        let mut d = draft(&catalog);
        d.generation_id = catalog.channels[1].default_generation.clone();
        assert!(Cluster::create(d, "org", &catalog, Timestamp(0)).is_err());
    }

    #[test]
    fn links_follow_hosted_patterns() {
        let links = ClusterLinks::new("c1", "o1", "bru-2", "example.io", "http://x/oauth/token");
        assert_eq!(links.zeebe, "c1.bru-2.zeebe.example.io");
        assert_eq!(links.operate, "https://bru-2.operate.example.io/c1");
        assert_eq!(links.tasklist, "https://bru-2.tasklist.example.io/c1");
        assert_eq!(
            links.console,
            "https://console.example.io/org/o1/cluster/c1"
        );
        assert_eq!(links.zeebe_address(), "c1.bru-2.zeebe.example.io:443");
    }
}
