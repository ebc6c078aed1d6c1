//! Changes to an existing cluster's settings: `PATCH /clusters/{uuid}` and the IP allowlist.
//! Each change is computed against the cluster as read, so the caller can write it
//! conditionally on the version it read and record exactly what changed.

use super::cluster::{validate_hardware_packages, validate_name, Cluster, StageLabel};
use super::ip_allowlist::{self, IpAllowlistEntry};
use super::{text, DomainError};

/// What `PATCH /clusters/{uuid}` asks to change; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct ClusterPatch {
    pub name: Option<String>,
    /// An empty description clears it.
    pub description: Option<String>,
    pub stage_label: Option<StageLabel>,
    pub hardware_packages: Option<f64>,
}

/// One changed attribute, named as on the wire, for the audit trail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttributeChange {
    pub attribute: &'static str,
    pub from: Option<String>,
    pub to: Option<String>,
}

impl AttributeChange {
    fn of<T: PartialEq>(
        attribute: &'static str,
        from: &T,
        to: &T,
        show: impl Fn(&T) -> Option<String>,
    ) -> Option<Self> {
        (from != to).then(|| AttributeChange {
            attribute,
            from: show(from),
            to: show(to),
        })
    }
}

impl Cluster {
    /// Validates `patch` and returns the updated cluster with the attributes that actually
    /// changed (none when the patch repeats the current values).
    pub fn apply_patch(
        &self,
        patch: &ClusterPatch,
    ) -> Result<(Cluster, Vec<AttributeChange>), DomainError> {
        let mut next = self.clone();
        if let Some(name) = &patch.name {
            validate_name(name)?;
            next.name = name.clone();
        }
        if let Some(description) = &patch.description {
            text::check_free_text("description", description)?;
            next.description = Some(description.clone()).filter(|d| !d.is_empty());
        }
        if let Some(stage) = patch.stage_label {
            next.stage_label = Some(stage);
        }
        if let Some(packages) = patch.hardware_packages {
            validate_hardware_packages(packages, "numberOfAllocatedHwPackages")?;
            next.hardware_packages = packages;
        }
        let changes = [
            AttributeChange::of("name", &self.name, &next.name, |v| Some(v.clone())),
            AttributeChange::of(
                "description",
                &self.description,
                &next.description,
                Clone::clone,
            ),
            AttributeChange::of("stageLabel", &self.stage_label, &next.stage_label, |v| {
                v.map(|s| s.as_str().to_string())
            }),
            AttributeChange::of(
                "numberOfAllocatedHwPackages",
                &self.hardware_packages,
                &next.hardware_packages,
                |v| Some(v.to_string()),
            ),
        ]
        .into_iter()
        .flatten()
        .collect();
        Ok((next, changes))
    }

    /// Validates and sets the IP allowlist; `field` is the body key the list came in
    /// (`ipallowlist` or the deprecated `ipwhitelist`), named in errors.
    pub fn replace_ip_allowlist(
        &self,
        field: &str,
        entries: Vec<IpAllowlistEntry>,
    ) -> Result<(Cluster, Vec<AttributeChange>), DomainError> {
        ip_allowlist::validate(field, &entries)?;
        let mut next = self.clone();
        next.ip_allowlist = entries;
        let show = |list: &Vec<IpAllowlistEntry>| serde_json::to_string(list).ok();
        let changes =
            AttributeChange::of("ipallowlist", &self.ip_allowlist, &next.ip_allowlist, show)
                .into_iter()
                .collect();
        Ok((next, changes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Catalog;
    use crate::domain::cluster::ClusterDraft;
    use crate::domain::Timestamp;

    fn cluster() -> Cluster {
        let catalog = Catalog::builtin();
        let draft = ClusterDraft::sample(&catalog, "before");
        Cluster::create(draft, "org", &catalog, Timestamp(0)).unwrap()
    }

    #[test]
    fn a_patch_changes_only_what_it_names() {
        let before = cluster();
        let patch = ClusterPatch {
            name: Some("after".into()),
            stage_label: Some(StageLabel::Prod),
            ..Default::default()
        };
        let (after, changes) = before.apply_patch(&patch).unwrap();
        assert_eq!(after.name, "after");
        assert_eq!(after.stage_label, Some(StageLabel::Prod));
        assert_eq!(after.hardware_packages, before.hardware_packages);
        assert_eq!(
            changes,
            vec![
                AttributeChange {
                    attribute: "name",
                    from: Some("before".into()),
                    to: Some("after".into())
                },
                AttributeChange {
                    attribute: "stageLabel",
                    from: None,
                    to: Some("prod".into())
                },
            ]
        );
        let (_, again) = after.apply_patch(&patch).unwrap();
        assert!(again.is_empty(), "repeating a patch changes nothing");
    }

    #[test]
    fn an_empty_description_clears_it() {
        let set = ClusterPatch {
            description: Some("text".into()),
            ..Default::default()
        };
        let (with, _) = cluster().apply_patch(&set).unwrap();
        assert_eq!(with.description.as_deref(), Some("text"));
        let clear = ClusterPatch {
            description: Some(String::new()),
            ..Default::default()
        };
        let (without, changes) = with.apply_patch(&clear).unwrap();
        assert_eq!(without.description, None);
        assert_eq!(changes[0].attribute, "description");
        assert_eq!(changes[0].to, None);
    }

    #[test]
    fn invalid_values_name_the_field() {
        let c = cluster();
        let cases = [
            (
                ClusterPatch {
                    name: Some(" ".into()),
                    ..Default::default()
                },
                "name",
            ),
            (
                ClusterPatch {
                    hardware_packages: Some(0.0),
                    ..Default::default()
                },
                "numberOfAllocatedHwPackages",
            ),
        ];
        for (patch, field) in cases {
            let err = c.apply_patch(&patch).unwrap_err().to_string();
            assert!(err.contains(field), "{err}");
        }
    }

    #[test]
    fn allowlist_changes_are_validated_and_recorded() {
        let c = cluster();
        let entries = vec![IpAllowlistEntry {
            ip: "10.0.0.0/8".into(),
            description: "office".into(),
        }];
        let (with, changes) = c.replace_ip_allowlist("ipallowlist", entries).unwrap();
        assert_eq!(with.ip_allowlist.len(), 1);
        assert_eq!(changes[0].from.as_deref(), Some("[]"));
        let bad = vec![IpAllowlistEntry {
            ip: "nope".into(),
            description: String::new(),
        }];
        let err = c.replace_ip_allowlist("ipwhitelist", bad).unwrap_err();
        assert!(err.to_string().contains("ipwhitelist[0].ip"), "{err}");
    }
}
