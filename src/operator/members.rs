//! `consoled members accept`: the path by which an invite stops being pending (there is no
//! email delivery or sign-in here).

use anyhow::Context;

use super::{orgs, OPERATOR};
use crate::domain::audit::{AuditEntry, AuditType};
use crate::domain::member::{normalize_email, Member};
use crate::domain::text;
use crate::domain::Timestamp;
use crate::storage::Store;

/// Accepts the pending invite of `email`, optionally recording the member's name.
pub async fn accept(
    store: &dyn Store,
    org: Option<&str>,
    email: &str,
    name: Option<&str>,
    now: Timestamp,
) -> anyhow::Result<Member> {
    let org = orgs::resolve(store, org).await?;
    let email = normalize_email(email)?;
    let member = store
        .member(&org.id, &email)
        .await?
        .with_context(|| format!("{email} is not a member of organization {}", org.id))?;
    anyhow::ensure!(
        member.invite_pending,
        "{email} has no pending invite: already a member"
    );
    let name = match name.map(str::trim) {
        Some("") => anyhow::bail!("the name must not be empty"),
        Some(name) => {
            text::check_name("the name", name)?;
            name.to_string()
        }
        None => member.name.clone(),
    };
    let audit = AuditEntry::new(
        &org.id,
        OPERATOR,
        AuditType::Update,
        "member",
        &email,
        format!("Accepted the invite of {email}"),
        now,
    )
    .with_change("invitePending", Some("true".into()), Some("false".into()));
    let accepted = store.accept_member(&org.id, &email, &name, &audit).await?;
    anyhow::ensure!(accepted, "{email} has no pending invite any more");
    Ok(Member {
        name,
        invite_pending: false,
        ..member
    })
}
