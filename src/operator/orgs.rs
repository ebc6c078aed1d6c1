//! `consoled orgs create|list`.

use anyhow::Context;

use super::OPERATOR;
use crate::domain::audit::{AuditEntry, AuditType};
use crate::domain::member::normalize_email;
use crate::domain::organization::Organization;
use crate::domain::text;
use crate::domain::Timestamp;
use crate::storage::Store;

const MAX_NAME_CHARS: usize = 100;

/// Creates an organization and its owner member, recorded as one change.
pub async fn create(
    store: &dyn Store,
    name: &str,
    owner_email: &str,
    now: Timestamp,
) -> anyhow::Result<Organization> {
    let org = new_organization(name, owner_email, now)?;
    store
        .insert_organization(&org, &creation_audit(&org, now))
        .await?;
    Ok(org)
}

/// Validates the name and owner of a new organization.
pub fn new_organization(
    name: &str,
    owner_email: &str,
    now: Timestamp,
) -> anyhow::Result<Organization> {
    let name = name.trim();
    anyhow::ensure!(!name.is_empty(), "the organization name must not be empty");
    text::check_name("the organization name", name)?;
    anyhow::ensure!(
        name.chars().count() <= MAX_NAME_CHARS,
        "the organization name is too long: at most {MAX_NAME_CHARS} characters"
    );
    let owner = normalize_email(owner_email).context("the owner email")?;
    Ok(Organization::new(name, &owner, now))
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
