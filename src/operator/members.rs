//! `consoled members accept`, `invite` and `reset-password`: invites, and the one-time links
//! (printed, never emailed) where members set their console password.

use anyhow::Context;

use super::{orgs, OPERATOR};
use crate::crypto::Keyring;
use crate::domain::account::{LinkPurpose, SignInLink};
use crate::domain::audit::{AuditEntry, AuditType};
use crate::domain::member::{normalize_email, parse_assignable_roles, roles_to_text, Member};
use crate::domain::text;
use crate::domain::Timestamp;
use crate::storage::{Store, StoreError};

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

/// A member with a one-time link to set a password, shown once.
#[derive(Debug)]
pub struct MemberLink {
    pub member: Member,
    /// The token of `<public url>/console/links/<token>`.
    pub token: String,
    pub expires_at: Timestamp,
}

/// Invites `email` with `roles` (assignable role names) into the organization, as
/// `POST /members/{email}` does, and issues its invite link.
pub async fn invite(
    store: &dyn Store,
    keyring: &Keyring,
    org: Option<&str>,
    email: &str,
    roles: &[String],
    max_members: u32,
    now: Timestamp,
) -> anyhow::Result<MemberLink> {
    let org = orgs::resolve(store, org).await?;
    let email = normalize_email(email)?;
    let roles = parse_assignable_roles(roles)?;
    let member = Member::invite(&org.id, &email, roles, now);
    let audit = AuditEntry::new(
        &org.id,
        OPERATOR,
        AuditType::Create,
        "member",
        &email,
        format!(
            "Invited {email} with roles {}",
            roles_to_text(&member.roles)
        ),
        now,
    );
    match store.insert_member(&member, max_members, &audit).await {
        Ok(()) => {}
        Err(StoreError::Conflict(_)) => anyhow::bail!(
            "{email} is already a member of organization {} (a new link: \
             `consoled members reset-password {email}`)",
            org.id
        ),
        Err(StoreError::LimitReached) => anyhow::bail!(
            "no open seats left: organization {} has all {max_members} of its seats taken",
            org.id
        ),
        Err(e) => return Err(e.into()),
    }
    issue_link(store, keyring, member, OPERATOR, now).await
}

/// Issues a new one-time link for a member (an invite link while the invite is pending, a
/// reset link otherwise); earlier links of the member stop working.
pub async fn reset_password(
    store: &dyn Store,
    keyring: &Keyring,
    org: Option<&str>,
    email: &str,
    now: Timestamp,
) -> anyhow::Result<MemberLink> {
    let org = orgs::resolve(store, org).await?;
    let email = normalize_email(email)?;
    let member = store
        .member(&org.id, &email)
        .await?
        .with_context(|| format!("{email} is not a member of organization {}", org.id))?;
    issue_link(store, keyring, member, OPERATOR, now).await
}

/// The owner's link on the first start of an installation: an invite link (7 days).
pub async fn owner_link(
    store: &dyn Store,
    keyring: &Keyring,
    org_id: &str,
    now: Timestamp,
) -> anyhow::Result<MemberLink> {
    let member = store
        .members(org_id)
        .await?
        .into_iter()
        .find(|m| m.is_owner)
        .with_context(|| format!("organization {org_id} has no owner"))?;
    let (token, link) = SignInLink::issue(keyring, LinkPurpose::Invite, org_id, &member.email, now);
    store_link(
        store,
        &link,
        OPERATOR,
        "the owner's first sign-in link",
        now,
    )
    .await?;
    Ok(MemberLink {
        member,
        token,
        expires_at: link.expires_at,
    })
}

/// Issues `member` a one-time link (an invite link while the invite is pending, a reset
/// link otherwise), replacing its earlier links; `actor` is recorded in the activity (the
/// operator for the CLI, the member's email for the console).
pub async fn issue_link(
    store: &dyn Store,
    keyring: &Keyring,
    member: Member,
    actor: &str,
    now: Timestamp,
) -> anyhow::Result<MemberLink> {
    let purpose = if member.invite_pending {
        LinkPurpose::Invite
    } else {
        LinkPurpose::Reset
    };
    let (token, link) = SignInLink::issue(keyring, purpose, &member.org_id, &member.email, now);
    let what = match purpose {
        LinkPurpose::Invite => "an invite link",
        LinkPurpose::Reset => "a password reset link",
    };
    store_link(store, &link, actor, what, now).await?;
    Ok(MemberLink {
        member,
        token,
        expires_at: link.expires_at,
    })
}

async fn store_link(
    store: &dyn Store,
    link: &SignInLink,
    actor: &str,
    what: &str,
    now: Timestamp,
) -> anyhow::Result<()> {
    let audit = AuditEntry::new(
        &link.org_id,
        actor,
        AuditType::Create,
        "member",
        &link.email,
        format!("Issued {what} for {}", link.email),
        now,
    );
    match store.insert_sign_in_link(link, &audit).await {
        Ok(()) => Ok(()),
        Err(StoreError::NotFound) => {
            anyhow::bail!("{} is not a member any more", link.email)
        }
        Err(e) => Err(e.into()),
    }
}
