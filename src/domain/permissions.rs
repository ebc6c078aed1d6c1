//! What a person signed in to the console may do, by organization role: the role matrix.
//! Written as data ([`MATRIX`]); a member may do what any of its roles allows. The console
//! checks it on the server for every page and form, never only by hiding buttons.

use super::member::OrgRole;

wire_names! {
    /// Something a member may be allowed to do in the console.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub enum Action {
        /// See the clusters, their status, links and settings.
        ViewClusters => "view clusters",
        /// Create, rename, upgrade, suspend, wake and delete clusters.
        ManageClusters => "create, change and delete clusters",
        /// A cluster's API clients and connector secrets.
        ManageClusterCredentials => "manage cluster API clients and connector secrets",
        /// A cluster's IP allowlist, backups, monitoring clients and secure connectivity.
        ManageClusterSettings => "manage cluster IP allowlists, backups and monitoring",
        /// Invite members, change their roles and remove them.
        ManageMembers => "manage members",
        /// Console API clients: create, rotate, delete.
        ManageApiClients => "manage Console API clients",
        /// The organization's activity trail.
        ReadActivity => "read the activity",
    }
}

use Action::*;

/// Everything: the organization's owners and administrators.
const EVERYTHING: &[Action] = Action::ALL;
/// Clusters and everything on them, and the activity.
const OPERATIONS: &[Action] = &[
    ViewClusters,
    ManageClusters,
    ManageClusterCredentials,
    ManageClusterSettings,
    ReadActivity,
];
/// The clusters they build against, and their credentials.
const DEVELOPMENT: &[Action] = &[ViewClusters, ManageClusterCredentials];
/// Looking only.
const VIEW_ONLY: &[Action] = &[ViewClusters];

/// The role matrix: every role, with what it allows.
pub const MATRIX: &[(OrgRole, &[Action])] = &[
    (OrgRole::Owner, EVERYTHING),
    (OrgRole::OrganizationOwner, EVERYTHING),
    (OrgRole::Admin, EVERYTHING),
    (OrgRole::OrganizationAdmin, EVERYTHING),
    (OrgRole::OperationsEngineer, OPERATIONS),
    (OrgRole::Developer, DEVELOPMENT),
    (OrgRole::Analyst, VIEW_ONLY),
    (OrgRole::Visitor, VIEW_ONLY),
    (OrgRole::Modeler, VIEW_ONLY),
    (OrgRole::TaskUser, VIEW_ONLY),
    (OrgRole::Member, VIEW_ONLY),
    (OrgRole::SupportAgent, VIEW_ONLY),
];

/// What one role allows.
pub fn allowed(role: OrgRole) -> &'static [Action] {
    MATRIX
        .iter()
        .find(|(r, _)| *r == role)
        .map(|(_, actions)| *actions)
        .unwrap_or(&[])
}

/// Whether a member with `roles` may do `action`.
pub fn may(roles: &[OrgRole], action: Action) -> bool {
    roles.iter().any(|role| allowed(*role).contains(&action))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_role_has_exactly_one_row() {
        for role in OrgRole::ALL {
            let rows = MATRIX.iter().filter(|(r, _)| r == role).count();
            assert_eq!(rows, 1, "{role:?}");
        }
        assert_eq!(MATRIX.len(), OrgRole::ALL.len());
    }

    #[test]
    fn the_matrix() {
        use OrgRole::*;
        let all = Action::ALL;
        for role in [Owner, OrganizationOwner, Admin, OrganizationAdmin] {
            assert_eq!(allowed(role), all, "{role:?}");
        }
        assert!(may(&[OperationsEngineer], ManageClusters));
        assert!(may(&[OperationsEngineer], ManageClusterSettings));
        assert!(may(&[OperationsEngineer], ReadActivity));
        assert!(!may(&[OperationsEngineer], ManageMembers));
        assert!(!may(&[OperationsEngineer], ManageApiClients));
        assert!(may(&[Developer], ViewClusters));
        assert!(may(&[Developer], ManageClusterCredentials));
        assert!(!may(&[Developer], ManageClusters));
        assert!(!may(&[Developer], ManageClusterSettings));
        assert!(!may(&[Developer], ReadActivity));
        for role in [Analyst, Visitor, Modeler, TaskUser, Member, SupportAgent] {
            assert_eq!(allowed(role), &[ViewClusters], "{role:?}");
        }
        // Every role sees the clusters; roles add up.
        for role in OrgRole::ALL {
            assert!(may(&[*role], ViewClusters), "{role:?}");
        }
        assert!(may(&[Visitor, Developer], ManageClusterCredentials));
        assert!(!may(&[], ViewClusters));
    }
}
