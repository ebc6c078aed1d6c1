//! `consoled members accept`: the flags and the printing (a table, or JSON with
//! `--json`). The action is [`crate::operator::members`].

use clap::Subcommand;
use serde::Serialize;

use super::{print_json, table, OperatorArgs};
use crate::domain::member::{roles_to_text, Member, OrgRole};
use crate::domain::Timestamp;
use crate::installation;
use crate::operator::members;

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
    }
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
