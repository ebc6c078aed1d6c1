//! `consoled members accept`, `invite` and `reset-password`: the flags and the printing (a
//! table or the link, or JSON with `--json`). The actions are [`crate::operator::members`].

use clap::Subcommand;
use serde::Serialize;

use super::{print_json, table, OperatorArgs};
use crate::config::parse_public_url;
use crate::domain::member::{roles_to_text, Member, OrgRole};
use crate::domain::Timestamp;
use crate::installation;
use crate::operator::members::{self, MemberLink};

#[derive(Debug, Subcommand)]
pub enum MembersCommand {
    /// Accept a pending invite, as the invited person would.
    Accept {
        email: String,
        /// Organization id; the oldest organization when omitted.
        #[arg(long)]
        org: Option<String>,
        /// The member's display name; the email is kept when omitted.
        #[arg(long)]
        name: Option<String>,
        #[command(flatten)]
        common: OperatorArgs,
    },
    /// Invite a member, as `POST /members/{email}` does, and print the one-time link where
    /// they set their console password (valid for 7 days; no email is sent).
    Invite {
        email: String,
        /// Roles, comma-separated (admin, operationsengineer, developer, analyst, visitor,
        /// modeler, taskuser).
        #[arg(long, value_delimiter = ',', required = true)]
        roles: Vec<String>,
        /// Organization id; the oldest organization when omitted.
        #[arg(long)]
        org: Option<String>,
        /// Seats per organization, as the server's `--max-members`.
        #[arg(long, env = "CONSOLED_MAX_MEMBERS", default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..))]
        max_members: u32,
        #[command(flatten)]
        link: LinkArgs,
        #[command(flatten)]
        common: OperatorArgs,
    },
    /// Print a new one-time link where a member sets a console password: a reset link
    /// (valid for an hour), or an invite link while the invite is pending. Earlier links of
    /// the member stop working.
    ResetPassword {
        email: String,
        /// Organization id; the oldest organization when omitted.
        #[arg(long)]
        org: Option<String>,
        #[command(flatten)]
        link: LinkArgs,
        #[command(flatten)]
        common: OperatorArgs,
    },
}

/// Where printed links point.
#[derive(Debug, Clone, clap::Args)]
pub struct LinkArgs {
    /// The server's public URL, as given to `serve`.
    #[arg(long, env = "CONSOLED_PUBLIC_URL", default_value = DEFAULT_PUBLIC_URL, value_parser = parse_public_url)]
    pub public_url: String,
}

/// `serve`'s public URL with its default listen address.
const DEFAULT_PUBLIC_URL: &str = "http://127.0.0.1:8080";

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct LinkView<'a> {
    org_id: &'a str,
    email: &'a str,
    roles: &'a [OrgRole],
    invite_pending: bool,
    link: String,
    expires_at: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct MemberView<'a> {
    org_id: &'a str,
    email: &'a str,
    name: &'a str,
    roles: &'a [OrgRole],
    invite_pending: bool,
}

pub async fn run(command: MembersCommand) -> anyhow::Result<()> {
    match command {
        MembersCommand::Accept {
            email,
            org,
            name,
            common,
        } => {
            let (store, _) = installation::open(&common.storage).await?;
            let member = members::accept(
                store.as_ref(),
                org.as_deref(),
                &email,
                name.as_deref(),
                Timestamp::now(),
            )
            .await?;
            print_member(&common, &member)
        }
        MembersCommand::Invite {
            email,
            roles,
            org,
            max_members,
            link,
            common,
        } => {
            let (store, keyring) = installation::open(&common.storage).await?;
            let issued = members::invite(
                store.as_ref(),
                &keyring,
                org.as_deref(),
                &email,
                &roles,
                max_members,
                Timestamp::now(),
            )
            .await?;
            print_link(&common, &link, &issued)
        }
        MembersCommand::ResetPassword {
            email,
            org,
            link,
            common,
        } => {
            let (store, keyring) = installation::open(&common.storage).await?;
            let issued = members::reset_password(
                store.as_ref(),
                &keyring,
                org.as_deref(),
                &email,
                Timestamp::now(),
            )
            .await?;
            print_link(&common, &link, &issued)
        }
    }
}

fn print_link(common: &OperatorArgs, args: &LinkArgs, issued: &MemberLink) -> anyhow::Result<()> {
    let m = &issued.member;
    let link = crate::console::link_url(&args.public_url, &issued.token);
    if common.json {
        return print_json(&LinkView {
            org_id: &m.org_id,
            email: &m.email,
            roles: &m.roles,
            invite_pending: m.invite_pending,
            link,
            expires_at: issued.expires_at.to_rfc3339(),
        });
    }
    println!(
        "One-time link for {} (organization {}), valid until {}:\n\n  {link}\n",
        m.email,
        m.org_id,
        issued.expires_at.to_rfc3339()
    );
    Ok(())
}

fn print_member(common: &OperatorArgs, m: &Member) -> anyhow::Result<()> {
    if common.json {
        return print_json(&MemberView {
            org_id: &m.org_id,
            email: &m.email,
            name: &m.name,
            roles: &m.roles,
            invite_pending: m.invite_pending,
        });
    }
    let row = vec![
        m.email.clone(),
        m.name.clone(),
        roles_to_text(&m.roles),
        m.invite_pending.to_string(),
    ];
    print!(
        "{}",
        table::render(&["EMAIL", "NAME", "ROLES", "PENDING"], &[row])
    );
    Ok(())
}
