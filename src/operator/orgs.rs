//! `consoled orgs create|list`; the name rule is [`Organization::create`]'s.

use anyhow::Context;

use super::OPERATOR;
use crate::domain::audit::{AuditEntry, AuditType};
use crate::domain::organization::Organization;
use crate::domain::Timestamp;
use crate::storage::Store;

/// Creates an organization and its owner member, recorded as one change.
pub async fn create(
    store: &dyn Store,
    name: &str,
    owner_email: &str,
    now: Timestamp,
) -> anyhow::Result<Organization> {
    let org = Organization::create(name, owner_email, now)?;
    store
        .insert_organization(&org, &creation_audit(&org, now))
        .await?;
    Ok(org)
}

/// The activity record of an organization's creation.
pub fn creation_audit(org: &Organization, now: Timestamp) -> AuditEntry {
    AuditEntry::new(
        &org.id,
        OPERATOR,
        AuditType::Create,
        "organization",
        &org.id,
        format!(
            "Created organization {:?} owned by {}",
            org.name, org.owner_email
        ),
        now,
    )
}

pub async fn list(store: &dyn Store) -> anyhow::Result<Vec<Organization>> {
    Ok(store.organizations().await?)
}

/// The organization named by `--org`, or the oldest one when none is named.
pub async fn resolve(store: &dyn Store, id: Option<&str>) -> anyhow::Result<Organization> {
    match id {
        Some(id) => store
            .organization(id)
            .await?
            .with_context(|| format!("no organization {id:?} (see `consoled orgs list`)")),
        None => store.organizations().await?.into_iter().next().context(
            "there is no organization yet: create one with `consoled orgs create` or `consoled init`",
        ),
    }
}
