//! Printing for `consoled orgs`, `api-clients` and `members`: a table by default, JSON with
//! `--json`. Credentials are always printed as JSON, once, on stdout.

use serde::Serialize;

use super::table;
use crate::config::{ApiClientsCommand, MembersCommand, OperatorArgs, OrgsCommand};
use crate::domain::api_client::ApiClient;
use crate::domain::member::{roles_to_text, Member, OrgRole};
use crate::domain::organization::Organization;
use crate::domain::scope::Scope;
use crate::domain::Timestamp;
use crate::operator::{self, api_clients, members, orgs};

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

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ApiClientView<'a> {
    client_id: &'a str,
    name: &'a str,
    org_id: &'a str,
    scopes: Vec<&'static str>,
    created: String,
}

impl<'a> From<&'a ApiClient> for ApiClientView<'a> {
    fn from(c: &'a ApiClient) -> Self {
        ApiClientView {
            client_id: &c.client_id,
            name: &c.name,
            org_id: &c.org_id,
            scopes: c.scopes.iter().map(Scope::as_str).collect(),
            created: c.created_at.to_rfc3339(),
        }
    }
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

fn print_json(value: &impl Serialize) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

pub async fn orgs(command: OrgsCommand) -> anyhow::Result<()> {
    match command {
        OrgsCommand::Create {
            name,
            owner_email,
            common,
        } => {
            let (store, _) = operator::open(&common.storage).await?;
            let org = orgs::create(store.as_ref(), &name, &owner_email, Timestamp::now()).await?;
            if common.json {
                return print_json(&OrgView::from(&org));
            }
            print_orgs(&common, &[org])
        }
        OrgsCommand::List { common } => {
            let (store, _) = operator::open(&common.storage).await?;
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

pub async fn api_clients(command: ApiClientsCommand) -> anyhow::Result<()> {
    let now = Timestamp::now();
    match command {
        ApiClientsCommand::Create {
            name,
            scopes,
            org,
            common,
        } => {
            // Checked before the database is opened: a typo changes nothing.
            let scopes = api_clients::parse_scopes(&scopes)?;
            let (store, keyring) = operator::open(&common.storage).await?;
            let credentials =
                api_clients::create(store.as_ref(), &keyring, &name, scopes, org.as_deref(), now)
                    .await?;
            print_json(&credentials)
        }
        ApiClientsCommand::List { org, common } => {
            let (store, _) = operator::open(&common.storage).await?;
            let list = api_clients::list(store.as_ref(), org.as_deref()).await?;
            if common.json {
                return print_json(&list.iter().map(ApiClientView::from).collect::<Vec<_>>());
            }
            let rows: Vec<Vec<String>> = list
                .iter()
                .map(|c| {
                    vec![
                        c.client_id.clone(),
                        c.name.clone(),
                        c.org_id.clone(),
                        c.created_at.to_rfc3339(),
                        c.scopes.to_scope_string(),
                    ]
                })
                .collect();
            print!(
                "{}",
                table::render(&["CLIENT ID", "NAME", "ORG", "CREATED", "SCOPES"], &rows)
            );
            Ok(())
        }
        ApiClientsCommand::Delete { client_id, common } => {
            let (store, _) = operator::open(&common.storage).await?;
            let client = api_clients::delete(store.as_ref(), &client_id, now).await?;
            // Servers re-read a client's state at most this long after the change.
            tokio::time::sleep(common.storage.state_cache_ttl).await;
            if common.json {
                return print_json(&ApiClientView::from(&client));
            }
            println!(
                "Deleted Console API client {} ({:?}); its tokens no longer work.",
                client.client_id, client.name
            );
            Ok(())
        }
        ApiClientsCommand::Rotate { client_id, common } => {
            let (store, keyring) = operator::open(&common.storage).await?;
            let credentials =
                api_clients::rotate(store.as_ref(), &keyring, &client_id, now).await?;
            // Servers re-read a client's state at most this long after the change.
            tokio::time::sleep(common.storage.state_cache_ttl).await;
            print_json(&credentials)
        }
    }
}

pub async fn members(command: MembersCommand) -> anyhow::Result<()> {
    match command {
        MembersCommand::Accept {
            email,
            org,
            name,
            common,
        } => {
            let (store, _) = operator::open(&common.storage).await?;
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
