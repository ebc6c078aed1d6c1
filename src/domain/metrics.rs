//! A cluster's metrics in the Prometheus text exposition format (version 0.0.4): what the
//! monitoring endpoint serves. State-set gauges list every possible value with 0 or 1, so
//! a query never has to tell a missing series from a state that is not current.

use std::fmt::Write;

use super::backup::{Backup, BackupStatus};
use super::cluster::{Cluster, ComponentStatus};
use super::Timestamp;
use crate::catalog::Catalog;

pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

const STATUSES: [ComponentStatus; 6] = [
    ComponentStatus::Creating,
    ComponentStatus::Healthy,
    ComponentStatus::Unhealthy,
    ComponentStatus::Updating,
    ComponentStatus::Resuming,
    ComponentStatus::Suspended,
];

const BACKUP_STATUSES: [BackupStatus; 3] = [
    BackupStatus::InProgress,
    BackupStatus::Complete,
    BackupStatus::Failed,
];

/// Renders the metrics of `cluster` and its `backups` as seen at `now`.
pub fn render(cluster: &Cluster, backups: &[Backup], catalog: &Catalog, now: Timestamp) -> String {
    let mut out = Exposition::default();
    let name_of = |id: &str, name: Option<&str>| name.unwrap_or(id).to_string();
    let info = [
        ("cluster_id", cluster.id.clone()),
        ("cluster_name", cluster.name.clone()),
        (
            "channel",
            name_of(
                &cluster.channel_id,
                catalog
                    .channel(&cluster.channel_id)
                    .map(|c| c.name.as_str()),
            ),
        ),
        (
            "generation",
            name_of(
                &cluster.generation_id,
                catalog
                    .generation(&cluster.generation_id)
                    .map(|g| g.name.as_str()),
            ),
        ),
        (
            "plan_type",
            name_of(
                &cluster.plan_type_id,
                catalog
                    .plan_type(&cluster.plan_type_id)
                    .map(|p| p.name.as_str()),
            ),
        ),
        (
            "region",
            name_of(
                &cluster.region_id,
                catalog.region(&cluster.region_id).map(|r| r.name.as_str()),
            ),
        ),
    ];
    out.help(
        "consoled_cluster_info",
        "Descriptive labels of the cluster; always 1.",
    );
    out.sample("consoled_cluster_info", &info, 1.0);

    out.help(
        "consoled_cluster_status",
        "The cluster's overall status: 1 for the current one, 0 for the others.",
    );
    for status in STATUSES {
        let value = f64::from(u8::from(cluster.status == status));
        out.sample(
            "consoled_cluster_status",
            &[("status", status.as_str().into())],
            value,
        );
    }

    out.help(
        "consoled_component_status",
        "Each component's status: 1 for the current one, 0 for the others.",
    );
    let c = &cluster.components;
    let components = [
        ("zeebe", c.zeebe),
        ("operate", c.operate),
        ("tasklist", c.tasklist),
        ("optimize", c.optimize),
        ("connectors", c.connectors),
    ];
    for (component, current) in components {
        for status in STATUSES {
            let labels = [
                ("component", component.to_string()),
                ("status", status.as_str().to_string()),
            ];
            let value = f64::from(u8::from(current == status));
            out.sample("consoled_component_status", &labels, value);
        }
    }

    out.help("consoled_cluster_healthy", "1 when the cluster is Healthy.");
    out.sample(
        "consoled_cluster_healthy",
        &[],
        f64::from(u8::from(cluster.is_healthy())),
    );
    out.help(
        "consoled_cluster_auto_update",
        "1 when the cluster follows its channel's default generation.",
    );
    out.sample(
        "consoled_cluster_auto_update",
        &[],
        f64::from(u8::from(cluster.auto_update)),
    );
    out.help(
        "consoled_cluster_created_timestamp_seconds",
        "When the cluster was created (Unix time).",
    );
    out.sample(
        "consoled_cluster_created_timestamp_seconds",
        &[],
        seconds(cluster.created_at),
    );
    out.help(
        "consoled_cluster_status_since_timestamp_seconds",
        "When the cluster entered its current status (Unix time).",
    );
    out.sample(
        "consoled_cluster_status_since_timestamp_seconds",
        &[],
        seconds(cluster.status_since),
    );
    out.help(
        "consoled_cluster_status_duration_seconds",
        "How long the cluster has been in its current status.",
    );
    out.sample(
        "consoled_cluster_status_duration_seconds",
        &[],
        now.elapsed_since(cluster.status_since).as_secs_f64(),
    );

    out.help("consoled_backups", "The cluster's backups by status.");
    for status in BACKUP_STATUSES {
        let count = backups.iter().filter(|b| b.status == status).count();
        out.sample(
            "consoled_backups",
            &[("status", status.as_str().into())],
            count as f64,
        );
    }
    let last_complete = backups
        .iter()
        .filter(|b| b.status == BackupStatus::Complete)
        .filter_map(|b| b.completed_at)
        .max();
    if let Some(at) = last_complete {
        out.help(
            "consoled_backup_last_complete_timestamp_seconds",
            "When the newest complete backup finished (Unix time).",
        );
        out.sample(
            "consoled_backup_last_complete_timestamp_seconds",
            &[],
            seconds(at),
        );
    }
    out.text
}

fn seconds(t: Timestamp) -> f64 {
    t.millis() as f64 / 1000.0
}

#[derive(Default)]
struct Exposition {
    text: String,
}

impl Exposition {
    fn help(&mut self, name: &str, help: &str) {
        let _ = writeln!(self.text, "# HELP {name} {help}");
        let _ = writeln!(self.text, "# TYPE {name} gauge");
    }

    fn sample(&mut self, name: &str, labels: &[(&str, String)], value: f64) {
        self.text.push_str(name);
        if !labels.is_empty() {
            let rendered: Vec<String> = labels
                .iter()
                .map(|(k, v)| format!("{k}=\"{}\"", escape_label(v)))
                .collect();
            let _ = write!(self.text, "{{{}}}", rendered.join(","));
        }
        let _ = writeln!(self.text, " {value}");
    }
}

/// Label values escape `\`, `"` and line feeds; cluster names are user input.
fn escape_label(value: &str) -> String {
    value
        .replace('\\', r"\\")
        .replace('"', "\\\"")
        .replace('\n', r"\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::cluster::{ClusterDraft, Components};

    fn cluster(catalog: &Catalog) -> Cluster {
        let draft = ClusterDraft::sample(catalog, "placeholder");
        let mut cluster = Cluster::create(draft, "o", catalog, Timestamp(1_000)).unwrap();
        // Names may no longer hold a line break, but one stored by an older version must
        // still come out as a valid label value.
        cluster.name = "say \"hi\"\\\nbye".into();
        cluster.status = ComponentStatus::Healthy;
        cluster.components = Components::all(ComponentStatus::Healthy);
        cluster.status_since = Timestamp(2_500);
        cluster
    }

    #[test]
    fn status_gauges_mark_the_current_state() {
        let catalog = Catalog::builtin();
        let cluster = cluster(&catalog);
        let text = render(&cluster, &[], &catalog, Timestamp(12_500));
        assert!(text.contains("consoled_cluster_status{status=\"Healthy\"} 1\n"));
        assert!(text.contains("consoled_cluster_status{status=\"Suspended\"} 0\n"));
        assert!(
            text.contains("consoled_component_status{component=\"zeebe\",status=\"Healthy\"} 1\n")
        );
        assert!(text.contains("consoled_cluster_healthy 1\n"));
        assert!(text.contains("consoled_cluster_status_since_timestamp_seconds 2.5\n"));
        assert!(text.contains("consoled_cluster_status_duration_seconds 10\n"));
        assert!(text.contains("consoled_backups{status=\"Complete\"} 0\n"));
        assert!(!text.contains("consoled_backup_last_complete"));
        assert!(text.contains("# TYPE consoled_cluster_status gauge\n"));
        assert!(text.contains("generation=\"Camunda 8.7.3\""));
    }

    #[test]
    fn label_values_are_escaped() {
        let catalog = Catalog::builtin();
        let text = render(&cluster(&catalog), &[], &catalog, Timestamp(0));
        assert!(
            text.contains(r#"cluster_name="say \"hi\"\\\nbye""#),
            "{text}"
        );
        // Every line is a comment or `name{labels} value`: no raw line feed leaked.
        for line in text.lines() {
            assert!(
                line.starts_with('#') || line.starts_with("consoled_"),
                "{line}"
            );
        }
    }

    #[test]
    fn backups_are_counted_by_status() {
        let catalog = Catalog::builtin();
        let cluster = cluster(&catalog);
        let running = Backup::start(&cluster, Timestamp(3_000)).unwrap();
        let done = running
            .progressed(
                crate::domain::backup::BackupComponents::all(BackupStatus::Complete),
                Timestamp(4_000),
            )
            .unwrap();
        let text = render(&cluster, &[running, done], &catalog, Timestamp(5_000));
        assert!(text.contains("consoled_backups{status=\"In progress\"} 1\n"));
        assert!(text.contains("consoled_backups{status=\"Complete\"} 1\n"));
        assert!(text.contains("consoled_backup_last_complete_timestamp_seconds 4\n"));
    }
}
