//! The exec provisioning driver's rules, without processes or storage: the documents a
//! driver command receives and returns, which step a cluster needs next, and what health
//! probes make of a cluster's status.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::audit::{AuditEntry, AuditType};
use super::cluster::{Cluster, ComponentStatus, Components};
use super::Timestamp;

/// The protocol version on stdin.
pub const PROTOCOL_VERSION: u32 = 1;

/// Probes that fail in a row before a Healthy cluster is declared Unhealthy.
pub const FAILED_PROBES_BEFORE_UNHEALTHY: i64 = 3;

wire_names! {
    /// What the driver command is asked to do (its first argument).
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum Action {
        Create => "create",
        Update => "update",
        Upgrade => "upgrade",
        Suspend => "suspend",
        Wake => "wake",
        Delete => "delete",
        Backup => "backup",
        DeleteBackup => "delete-backup",
    }
}

impl Action {
    /// Whether the command reports endpoints and health URLs on success.
    pub fn reports(self) -> bool {
        matches!(
            self,
            Action::Create | Action::Update | Action::Upgrade | Action::Wake
        )
    }

    /// The status a cluster shows while this step's components come up.
    fn transitional_status(self) -> Option<ComponentStatus> {
        match self {
            Action::Create => Some(ComponentStatus::Creating),
            Action::Upgrade => Some(ComponentStatus::Updating),
            Action::Wake => Some(ComponentStatus::Resuming),
            _ => None,
        }
    }
}

/// A catalog entry as the driver sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NamedRef {
    pub uuid: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GenerationRef {
    pub uuid: String,
    pub name: String,
    pub versions: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RegionRef {
    pub uuid: String,
    pub name: String,
    pub short: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AllowlistEntryRef {
    pub ip: String,
    pub description: String,
}

/// The cluster as a driver command receives it. It holds connector secret values, so it
/// has no `Debug`: it must never reach a log.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterDocument {
    pub uuid: String,
    pub name: String,
    pub org_id: String,
    pub plan_type: NamedRef,
    pub channel: NamedRef,
    pub generation: GenerationRef,
    pub region: RegionRef,
    pub stage_label: Option<String>,
    pub ip_allowlist: Vec<AllowlistEntryRef>,
    pub connector_secrets: BTreeMap<String, String>,
}

impl ClusterDocument {
    /// The same cluster with secret values left out: what is kept to send with a delete
    /// step once the cluster (and its secrets) are gone.
    pub fn without_secrets(&self) -> ClusterDocument {
        ClusterDocument {
            connector_secrets: BTreeMap::new(),
            ..self.clone()
        }
    }

    /// What an `update` step applies: everything but the generation (upgrades move that)
    /// as canonical JSON, to be fingerprinted.
    pub fn settings_bytes(&self) -> Vec<u8> {
        let mut value = serde_json::to_value(self).expect("a document serializes");
        if let Some(object) = value.as_object_mut() {
            object.remove("generation");
        }
        serde_json::to_vec(&value).expect("a value serializes")
    }

    /// The secret values, longest first, for masking them in a command's stderr.
    pub fn secret_values(&self) -> Vec<&str> {
        let mut values: Vec<&str> = self
            .connector_secrets
            .values()
            .map(String::as_str)
            .filter(|v| !v.is_empty())
            .collect();
        values.sort_by_key(|v| std::cmp::Reverse(v.len()));
        values
    }
}

/// How a cluster trusts consoled's tokens: what a driver configures the cluster with.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthDocument {
    pub issuer: String,
    pub jwks_uri: String,
    pub audience: String,
    pub client_id_claim: String,
    pub cluster_id_claim: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BackupDocument {
    pub uuid: String,
    pub name: String,
    pub created_at: String,
}

/// The one document on a driver command's stdin.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DriverRequest<'a> {
    pub version: u32,
    pub action: &'static str,
    pub operation_id: &'a str,
    pub cluster: &'a ClusterDocument,
    pub auth: &'a AuthDocument,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backup: Option<&'a BackupDocument>,
}

/// Where a cluster's components answer, as its driver reported them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Endpoints {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zeebe_grpc: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zeebe_rest: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operate: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tasklist: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub optimize: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connectors: Option<String>,
}

/// Health URLs by component, as the driver reported them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HealthUrls {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zeebe: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operate: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tasklist: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub optimize: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connectors: Option<String>,
}

impl HealthUrls {
    /// Each reported component with its URL.
    pub fn each(&self) -> impl Iterator<Item = (Component, &str)> {
        [
            (Component::Zeebe, &self.zeebe),
            (Component::Operate, &self.operate),
            (Component::Tasklist, &self.tasklist),
            (Component::Optimize, &self.optimize),
            (Component::Connectors, &self.connectors),
        ]
        .into_iter()
        .filter_map(|(component, url)| url.as_deref().map(|url| (component, url)))
    }

    pub fn is_empty(&self) -> bool {
        self.each().next().is_none()
    }
}

/// What a driver command prints on success (both parts optional).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DriverReport {
    #[serde(default)]
    pub endpoints: Endpoints,
    #[serde(default)]
    pub health: HealthUrls,
}

impl DriverReport {
    /// Parses a command's stdout; every URL must be `http` or `https`, every `host:port` a
    /// plain authority, so nothing else is handed out or probed.
    pub fn parse(stdout: &[u8]) -> Result<DriverReport, String> {
        let report: DriverReport = serde_json::from_slice(stdout)
            .map_err(|e| format!("stdout is not the expected JSON document: {e}"))?;
        let e = &report.endpoints;
        let urls = [
            ("endpoints.zeebeRest", &e.zeebe_rest),
            ("endpoints.operate", &e.operate),
            ("endpoints.tasklist", &e.tasklist),
            ("endpoints.optimize", &e.optimize),
            ("endpoints.connectors", &e.connectors),
        ]
        .into_iter()
        .filter_map(|(name, url)| url.as_deref().map(|url| (name, url)))
        .chain(report.health.each().map(|(c, url)| (c.health_field(), url)));
        for (name, url) in urls {
            let parsed = url::Url::parse(url).map_err(|e| format!("{name}: {e}"))?;
            if !matches!(parsed.scheme(), "http" | "https") || parsed.host().is_none() {
                return Err(format!("{name}: not an http(s) URL"));
            }
        }
        if let Some(grpc) = &e.zeebe_grpc {
            let ok = grpc.rsplit_once(':').is_some_and(|(host, port)| {
                !host.is_empty()
                    && port.parse::<u16>().is_ok()
                    && !host
                        .chars()
                        .any(|c| c.is_whitespace() || "/?#@".contains(c))
            });
            if !ok {
                return Err("endpoints.zeebeGrpc: not a host:port".into());
            }
        }
        Ok(report)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Component {
    Zeebe,
    Operate,
    Tasklist,
    Optimize,
    Connectors,
}

impl Component {
    fn health_field(self) -> &'static str {
        match self {
            Component::Zeebe => "health.zeebe",
            Component::Operate => "health.operate",
            Component::Tasklist => "health.tasklist",
            Component::Optimize => "health.optimize",
            Component::Connectors => "health.connectors",
        }
    }

    pub fn name(self) -> &'static str {
        &self.health_field()[7..]
    }

    fn of(self, components: &mut Components) -> &mut ComponentStatus {
        match self {
            Component::Zeebe => &mut components.zeebe,
            Component::Operate => &mut components.operate,
            Component::Tasklist => &mut components.tasklist,
            Component::Optimize => &mut components.optimize,
            Component::Connectors => &mut components.connectors,
        }
    }
}

/// What the last successful step applied to a cluster.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Applied {
    /// The keyed fingerprint of [`ClusterDocument::settings_bytes`].
    pub fingerprint: String,
    pub generation_id: String,
    pub suspended: bool,
}

/// The step a cluster needs next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NextStep {
    Lifecycle(Action),
    /// `backup` for the backup in progress with this id.
    Backup(String),
    /// `delete-backup` for the deleted backup with this id.
    DeleteBackup(String),
}

/// Decides the next step from the cluster as stored (`None`: deleted), what was applied
/// (`None`: nothing yet) and the fingerprint of the cluster's settings now. Lifecycle steps
/// come first, in the order a cluster lives them; backups after.
pub fn next_step(
    cluster: Option<&Cluster>,
    applied: Option<&Applied>,
    fingerprint: &str,
    backups_in_progress: &[String],
    backups_deleted: &[String],
) -> Option<NextStep> {
    use NextStep::Lifecycle;
    let Some(cluster) = cluster else {
        return Some(Lifecycle(Action::Delete));
    };
    let Some(applied) = applied else {
        return Some(Lifecycle(Action::Create));
    };
    let suspended = cluster.status == ComponentStatus::Suspended;
    if suspended && !applied.suspended {
        return Some(Lifecycle(Action::Suspend));
    }
    if !suspended {
        if applied.suspended {
            return Some(Lifecycle(Action::Wake));
        }
        if applied.generation_id != target_generation(cluster) {
            return Some(Lifecycle(Action::Upgrade));
        }
        if applied.fingerprint != fingerprint {
            return Some(Lifecycle(Action::Update));
        }
    }
    if let Some(id) = backups_deleted.first() {
        return Some(NextStep::DeleteBackup(id.clone()));
    }
    backups_in_progress
        .first()
        .map(|id| NextStep::Backup(id.clone()))
}

/// The generation the cluster runs or is moving to.
pub fn target_generation(cluster: &Cluster) -> &str {
    cluster
        .target_generation_id
        .as_deref()
        .unwrap_or(&cluster.generation_id)
}

/// The cluster becoming Healthy at `now`, with its activity record.
fn healthy(cluster: &Cluster, actor: &str, now: Timestamp) -> (Cluster, AuditEntry) {
    let next = Cluster {
        status: ComponentStatus::Healthy,
        components: Components::all(ComponentStatus::Healthy),
        generation_id: target_generation(cluster).to_string(),
        target_generation_id: None,
        status_since: now,
        ..cluster.clone()
    };
    let audit = status_audit(cluster, actor, ComponentStatus::Healthy, None, now);
    (next, audit)
}

fn status_audit(
    cluster: &Cluster,
    actor: &str,
    to: ComponentStatus,
    why: Option<&str>,
    now: Timestamp,
) -> AuditEntry {
    let text = match why {
        Some(why) => format!("Cluster {:?} is {}: {why}", cluster.name, to.as_str()),
        None => format!("Cluster {:?} is {}", cluster.name, to.as_str()),
    };
    AuditEntry::new(
        &cluster.org_id,
        actor,
        AuditType::Update,
        "cluster",
        &cluster.id,
        text,
        now,
    )
    .with_change(
        "status",
        Some(cluster.status.as_str().into()),
        Some(to.as_str().into()),
    )
}

/// The cluster after a successful `action` that reported `health`, if its status changes,
/// with the activity record of the change. A step that brings components up leaves the
/// cluster in its transitional status until probes see them answer, or makes it Healthy at
/// once when there is nothing to probe. A cluster that was Unhealthy because earlier
/// attempts failed gets its status back.
pub fn after_success(
    cluster: &Cluster,
    action: Action,
    health: &HealthUrls,
    was_failing: bool,
    actor: &str,
    now: Timestamp,
) -> Option<(Cluster, Option<AuditEntry>)> {
    let failed_status = was_failing && cluster.status == ComponentStatus::Unhealthy;
    let coming_up = action.transitional_status().is_some() || failed_status;
    if !coming_up || cluster.status == ComponentStatus::Suspended {
        return None;
    }
    if health.is_empty() {
        if cluster.status == ComponentStatus::Healthy {
            return None;
        }
        let (next, audit) = healthy(cluster, actor, now);
        return Some((next, Some(audit)));
    }
    // An update that recovered has no transitional status: probes decide when it is
    // Healthy again.
    let status = action.transitional_status()?;
    if cluster.status == status {
        return None;
    }
    let next = Cluster {
        status,
        components: Components::all(status),
        status_since: now,
        ..cluster.clone()
    };
    let audit = status_audit(
        cluster,
        actor,
        status,
        Some("the driver step succeeded"),
        now,
    );
    Some((next, Some(audit)))
}

/// The cluster after a failed step: Unhealthy while the step is retried, except where the
/// status itself is what the step carries out (a suspension), or the cluster is gone.
pub fn after_failure(
    cluster: &Cluster,
    action: Action,
    excerpt: &str,
    actor: &str,
    now: Timestamp,
) -> Option<(Cluster, AuditEntry)> {
    let marks_unhealthy = matches!(
        action,
        Action::Create | Action::Update | Action::Upgrade | Action::Wake
    );
    if !marks_unhealthy || cluster.status == ComponentStatus::Unhealthy {
        return None;
    }
    let next = Cluster {
        status: ComponentStatus::Unhealthy,
        components: Components::all(ComponentStatus::Unhealthy),
        status_since: now,
        ..cluster.clone()
    };
    let why = format!("the driver's {} step failed: {excerpt}", action.as_str());
    let audit = status_audit(cluster, actor, ComponentStatus::Unhealthy, Some(&why), now);
    Some((next, audit))
}

/// What one round of health probes makes of a cluster: its failure count and, if its
/// status or components change, the cluster as it is to be written with the record of a
/// transition (each transition is one record; a probe that changes nothing writes nothing).
pub fn after_probe(
    cluster: &Cluster,
    failed_probes: i64,
    answered: &[(Component, bool)],
    actor: &str,
    now: Timestamp,
) -> (i64, Option<(Cluster, Option<AuditEntry>)>) {
    let all_up = answered.iter().all(|(_, up)| *up);
    let down: Vec<&str> = answered
        .iter()
        .filter(|(_, up)| !up)
        .map(|(c, _)| c.name())
        .collect();
    match cluster.status {
        ComponentStatus::Healthy | ComponentStatus::Unhealthy if all_up => {
            if cluster.status == ComponentStatus::Healthy {
                return (0, None);
            }
            let (next, audit) = healthy(cluster, actor, now);
            (0, Some((next, Some(audit))))
        }
        ComponentStatus::Healthy => {
            let failed = failed_probes + 1;
            if failed < FAILED_PROBES_BEFORE_UNHEALTHY {
                return (failed, None);
            }
            let mut components = Components::all(ComponentStatus::Healthy);
            for (component, up) in answered {
                if !up {
                    *component.of(&mut components) = ComponentStatus::Unhealthy;
                }
            }
            let next = Cluster {
                status: ComponentStatus::Unhealthy,
                components,
                status_since: now,
                ..cluster.clone()
            };
            let why = format!(
                "{} not answering ({failed} probes in a row)",
                down.join(", ")
            );
            let audit = status_audit(cluster, actor, ComponentStatus::Unhealthy, Some(&why), now);
            (failed, Some((next, Some(audit))))
        }
        ComponentStatus::Unhealthy => {
            // Still down: components follow the probes, without a new record.
            let mut components = Components::all(ComponentStatus::Healthy);
            for (component, up) in answered {
                if !up {
                    *component.of(&mut components) = ComponentStatus::Unhealthy;
                }
            }
            let failed = (failed_probes + 1).min(FAILED_PROBES_BEFORE_UNHEALTHY);
            let change = (components != cluster.components).then(|| {
                (
                    Cluster {
                        components,
                        ..cluster.clone()
                    },
                    None,
                )
            });
            (failed, change)
        }
        status if status.is_transitional() => {
            if all_up {
                let (next, audit) = healthy(cluster, actor, now);
                return (0, Some((next, Some(audit))));
            }
            let mut components = Components::all(status);
            for (component, up) in answered {
                if *up {
                    *component.of(&mut components) = ComponentStatus::Healthy;
                }
            }
            let change = (components != cluster.components).then(|| {
                (
                    Cluster {
                        components,
                        ..cluster.clone()
                    },
                    None,
                )
            });
            (0, change)
        }
        _ => (failed_probes, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Catalog;
    use crate::domain::cluster::ClusterDraft;

    fn cluster(status: ComponentStatus) -> Cluster {
        let catalog = Catalog::builtin();
        let mut c = Cluster::create(
            ClusterDraft::sample(&catalog, "c"),
            "o",
            &catalog,
            Timestamp(0),
        )
        .unwrap();
        c.status = status;
        c.components = Components::all(status);
        c
    }

    fn applied(c: &Cluster, fingerprint: &str, suspended: bool) -> Applied {
        Applied {
            fingerprint: fingerprint.into(),
            generation_id: c.generation_id.clone(),
            suspended,
        }
    }

    fn health() -> HealthUrls {
        HealthUrls {
            zeebe: Some("http://h/z".into()),
            operate: Some("http://h/o".into()),
            ..Default::default()
        }
    }

    #[test]
    fn the_next_step_follows_the_gap_between_cluster_and_applied() {
        use NextStep::*;
        let healthy = cluster(ComponentStatus::Healthy);
        let none: &[String] = &[];
        assert_eq!(
            next_step(None, None, "f", none, none),
            Some(Lifecycle(Action::Delete))
        );
        assert_eq!(
            next_step(Some(&healthy), None, "f", none, none),
            Some(Lifecycle(Action::Create))
        );
        let same = applied(&healthy, "f", false);
        assert_eq!(
            next_step(Some(&healthy), Some(&same), "f", none, none),
            None
        );
        assert_eq!(
            next_step(Some(&healthy), Some(&same), "g", none, none),
            Some(Lifecycle(Action::Update))
        );
        let suspended = cluster(ComponentStatus::Suspended);
        assert_eq!(
            next_step(Some(&suspended), Some(&same), "g", none, none),
            Some(Lifecycle(Action::Suspend)),
            "a suspended cluster is suspended, not updated"
        );
        let asleep = applied(&healthy, "f", true);
        assert_eq!(
            next_step(Some(&suspended), Some(&asleep), "g", none, none),
            None
        );
        // Woken: Resuming, or Unhealthy after a failed wake, both need the wake step.
        for status in [ComponentStatus::Resuming, ComponentStatus::Unhealthy] {
            assert_eq!(
                next_step(Some(&cluster(status)), Some(&asleep), "f", none, none),
                Some(Lifecycle(Action::Wake))
            );
        }
        let mut upgrading = cluster(ComponentStatus::Updating);
        upgrading.target_generation_id = Some("newer".into());
        assert_eq!(
            next_step(Some(&upgrading), Some(&same), "f", none, none),
            Some(Lifecycle(Action::Upgrade))
        );
        let backups = vec!["b1".to_string()];
        let deleted = vec!["b0".to_string()];
        assert_eq!(
            next_step(Some(&healthy), Some(&same), "f", &backups, &deleted),
            Some(DeleteBackup("b0".into()))
        );
        assert_eq!(
            next_step(Some(&healthy), Some(&same), "f", &backups, none),
            Some(Backup("b1".into()))
        );
        assert_eq!(
            next_step(Some(&healthy), Some(&same), "g", &backups, none),
            Some(Lifecycle(Action::Update)),
            "lifecycle steps go first"
        );
    }

    #[test]
    fn a_healthy_cluster_turns_unhealthy_after_three_failed_probes_and_back_once() {
        let healthy = cluster(ComponentStatus::Healthy);
        let down = [(Component::Zeebe, false), (Component::Operate, true)];
        let (failed, change) = after_probe(&healthy, 0, &down, "t", Timestamp(1));
        assert_eq!((failed, change.is_none()), (1, true));
        let (failed, change) = after_probe(&healthy, 1, &down, "t", Timestamp(1));
        assert_eq!((failed, change.is_none()), (2, true));
        let (failed, change) = after_probe(&healthy, 2, &down, "t", Timestamp(9));
        assert_eq!(failed, 3);
        let (unhealthy, audit) = change.unwrap();
        assert_eq!(unhealthy.status, ComponentStatus::Unhealthy);
        assert_eq!(unhealthy.components.zeebe, ComponentStatus::Unhealthy);
        assert_eq!(unhealthy.components.operate, ComponentStatus::Healthy);
        assert!(audit.unwrap().audit.contains("zeebe not answering"));
        // Still down: no new record.
        let (_, change) = after_probe(&unhealthy, 3, &down, "t", Timestamp(10));
        assert!(change.is_none_or(|(_, audit)| audit.is_none()));
        let up = [(Component::Zeebe, true), (Component::Operate, true)];
        let (failed, change) = after_probe(&unhealthy, 3, &up, "t", Timestamp(11));
        assert_eq!(failed, 0);
        let (healthy_again, audit) = change.unwrap();
        assert_eq!(healthy_again.status, ComponentStatus::Healthy);
        assert!(audit.is_some());
        // A healthy probe of a healthy cluster writes nothing.
        assert_eq!(after_probe(&healthy, 0, &up, "t", Timestamp(12)), (0, None));
    }

    #[test]
    fn a_coming_up_cluster_is_healthy_when_every_probed_component_answers() {
        let mut updating = cluster(ComponentStatus::Updating);
        updating.target_generation_id = Some("newer".into());
        let partly = [(Component::Zeebe, true), (Component::Operate, false)];
        let (_, change) = after_probe(&updating, 0, &partly, "t", Timestamp(1));
        let (next, audit) = change.unwrap();
        assert_eq!(next.status, ComponentStatus::Updating);
        assert_eq!(next.components.zeebe, ComponentStatus::Healthy);
        assert!(audit.is_none());
        let all = [(Component::Zeebe, true), (Component::Operate, true)];
        let (_, change) = after_probe(&next, 0, &all, "t", Timestamp(2));
        let (done, _) = change.unwrap();
        assert_eq!(done.status, ComponentStatus::Healthy);
        assert_eq!(done.generation_id, "newer");
        assert_eq!(done.target_generation_id, None);
    }

    #[test]
    fn step_outcomes_set_the_status_a_client_sees() {
        let creating = cluster(ComponentStatus::Creating);
        // Health URLs: probes decide; none: Healthy at once.
        assert!(after_success(
            &creating,
            Action::Create,
            &health(),
            false,
            "t",
            Timestamp(1)
        )
        .is_none());
        let (next, _) = after_success(
            &creating,
            Action::Create,
            &HealthUrls::default(),
            false,
            "t",
            Timestamp(1),
        )
        .unwrap();
        assert_eq!(next.status, ComponentStatus::Healthy);
        // A failure shows Unhealthy, once; a later success brings the step's status back.
        let (failed, audit) =
            after_failure(&creating, Action::Create, "boom", "t", Timestamp(2)).unwrap();
        assert_eq!(failed.status, ComponentStatus::Unhealthy);
        assert!(audit.audit.contains("boom"));
        assert!(after_failure(&failed, Action::Create, "boom", "t", Timestamp(3)).is_none());
        let (back, _) =
            after_success(&failed, Action::Create, &health(), true, "t", Timestamp(4)).unwrap();
        assert_eq!(back.status, ComponentStatus::Creating);
        // A failed suspension leaves the cluster Suspended: that is what is being carried out.
        let suspended = cluster(ComponentStatus::Suspended);
        assert!(after_failure(&suspended, Action::Suspend, "x", "t", Timestamp(5)).is_none());
    }

    #[test]
    fn reports_take_http_urls_and_host_port_only() {
        let ok = DriverReport::parse(
            br#"{"endpoints":{"zeebeGrpc":"zeebe.example:26500","operate":"https://o.example/"},
                 "health":{"zeebe":"http://127.0.0.1:9600/ready"},"extra":1}"#,
        )
        .unwrap();
        assert_eq!(
            ok.endpoints.zeebe_grpc.as_deref(),
            Some("zeebe.example:26500")
        );
        assert_eq!(ok.health.each().count(), 1);
        assert_eq!(DriverReport::parse(b"{}").unwrap(), DriverReport::default());
        for bad in [
            &br#"{"health":{"zeebe":"file:///etc/passwd"}}"#[..],
            br#"{"endpoints":{"operate":"not a url"}}"#,
            br#"{"endpoints":{"zeebeGrpc":"no-port"}}"#,
            br#"{"endpoints":{"zeebeGrpc":"a/b:1"}}"#,
            b"created!",
            b"",
        ] {
            assert!(
                DriverReport::parse(bad).is_err(),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn documents_keep_secrets_out_of_snapshots_and_fingerprints_see_them() {
        let catalog = Catalog::builtin();
        let c = cluster(ComponentStatus::Healthy);
        let generation = catalog.generation(&c.generation_id).unwrap();
        let mut doc = ClusterDocument {
            uuid: c.id.clone(),
            name: c.name.clone(),
            org_id: c.org_id.clone(),
            plan_type: NamedRef {
                uuid: "p".into(),
                name: "P".into(),
            },
            channel: NamedRef {
                uuid: "c".into(),
                name: "C".into(),
            },
            generation: GenerationRef {
                uuid: generation.id.clone(),
                name: generation.name.clone(),
                versions: generation.versions.clone(),
            },
            region: RegionRef {
                uuid: "r".into(),
                name: "R".into(),
                short: "r-1".into(),
            },
            stage_label: None,
            ip_allowlist: vec![],
            connector_secrets: [("K".to_string(), "v4lue".to_string())].into(),
        };
        assert!(doc.without_secrets().connector_secrets.is_empty());
        let before = doc.settings_bytes();
        doc.generation.uuid = "other".into();
        assert_eq!(
            doc.settings_bytes(),
            before,
            "the generation is the upgrade's business"
        );
        doc.connector_secrets.insert("K".into(), "changed".into());
        assert_ne!(doc.settings_bytes(), before);
        assert_eq!(doc.secret_values(), vec!["changed"]);
    }
}
