//! `consoled orgs create|list`: the flags and the printing (a table, or JSON with
//! `--json`). The action is [`crate::operator::orgs`]; the name rule is
//! [`Organization::create`]'s.

use clap::Subcommand;
use serde::Serialize;

use super::{print_json, table, OperatorArgs};
use crate::domain::organization::{Organization, DEFAULT_OWNER_EMAIL};
use crate::domain::Timestamp;
use crate::installation;
use crate::operator::orgs;

#[derive(Debug, Subcommand)]
pub enum OrgsCommand {
    /// Create an organization and its owner member.
    Create {
        /// Name of the organization.
        #[arg(long)]
        name: String,
        /// Email of the owner member.
        #[arg(long, default_value = DEFAULT_OWNER_EMAIL)]
        owner_email: String,
        #[command(flatten)]
        common: OperatorArgs,
    },
    /// List the organizations.
    List {
        #[command(flatten)]
        common: OperatorArgs,
    },
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct OrgView<'a> {
    id: &'a str,
    name: &'a str,
    owner_email: &'a str,
    created: String,
}

impl<'a> From<&'a Organization> for OrgView<'a> {
    fn from(o: &'a Organization) -> Self {
        OrgView {
            id: &o.id,
            name: &o.name,
            owner_email: &o.owner_email,
            created: o.created_at.to_rfc3339(),
        }
    }
}

pub async fn run(command: OrgsCommand) -> anyhow::Result<()> {
    match command {
        OrgsCommand::Create {
            name,
            owner_email,
            common,
        } => {
            let (store, _) = installation::open(&common.storage).await?;
            let org = orgs::create(store.as_ref(), &name, &owner_email, Timestamp::now()).await?;
            if common.json {
                return print_json(&OrgView::from(&org));
            }
            print_orgs(&common, &[org])
        }
        OrgsCommand::List { common } => {
            let (store, _) = installation::open(&common.storage).await?;
            print_orgs(&common, &orgs::list(store.as_ref()).await?)
        }
    }
}

fn print_orgs(common: &OperatorArgs, list: &[Organization]) -> anyhow::Result<()> {
    if common.json {
        return print_json(&list.iter().map(OrgView::from).collect::<Vec<_>>());
    }
    let rows: Vec<Vec<String>> = list
        .iter()
        .map(|o| {
            vec![
                o.id.clone(),
                o.name.clone(),
                o.owner_email.clone(),
                o.created_at.to_rfc3339(),
            ]
        })
        .collect();
    print!(
        "{}",
        table::render(&["ID", "NAME", "OWNER", "CREATED"], &rows)
    );
    Ok(())
}
