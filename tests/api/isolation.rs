//! Organization isolation: another organization's cluster, client, member or activity is
//! invisible. Addressed directly it is a 404 (never a 403 that would confirm it exists);
//! in lists it is absent; and nothing the other organization does changes it.
//!
//! Adding an endpoint that addresses something of an organization means adding a row to
//! `ADDRESSED` (`every_addressing_route_has_a_row` fails until it is there); placeholders
//! are filled from the first organization's fixture.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::*;
use crate::routes::server_routes;

/// Requests that name the first organization's things: `{cluster}`, `{client}`, `{member}`,
/// `{secret}`, `{backup}`, `{monitoring_client}`. Bodies are valid, so only the
/// organization can make them fail.
const ADDRESSED: &[(Method, &str, Option<&str>)] = &[
    (Method::GET, "/clusters/{cluster}", None),
    (
        Method::PATCH,
        "/clusters/{cluster}",
        Some(r#"{"name": "intruder"}"#),
    ),
    (Method::DELETE, "/clusters/{cluster}", None),
    (Method::GET, "/clusters/{cluster}/clients", None),
    (
        Method::POST,
        "/clusters/{cluster}/clients",
        Some(r#"{"clientName": "intruder"}"#),
    ),
    (Method::GET, "/clusters/{cluster}/clients/{client}", None),
    (Method::DELETE, "/clusters/{cluster}/clients/{client}", None),
    (Method::PUT, "/clusters/{cluster}/upgrade", None),
    (Method::PUT, "/clusters/{cluster}/wake", None),
    (
        Method::PUT,
        "/clusters/{cluster}/ipallowlist",
        Some(r#"{"ipallowlist": [{"ip": "10.0.0.0/8", "description": "intruder"}]}"#),
    ),
    (
        Method::PUT,
        "/clusters/{cluster}/ipwhitelist",
        Some(r#"{"ipwhitelist": []}"#),
    ),
    (Method::GET, "/clusters/{cluster}/secrets", None),
    (
        Method::POST,
        "/clusters/{cluster}/secrets",
        Some(r#"{"secretName": "INTRUDER", "secretValue": "x"}"#),
    ),
    (
        Method::PUT,
        "/clusters/{cluster}/secrets/{secret}",
        Some(r#"{"secretValue": "overwritten"}"#),
    ),
    (Method::DELETE, "/clusters/{cluster}/secrets/{secret}", None),
    (Method::GET, "/clusters/{cluster}/backups", None),
    (Method::POST, "/clusters/{cluster}/backups", None),
    (Method::DELETE, "/clusters/{cluster}/backups/{backup}", None),
    (Method::POST, "/clusters/{cluster}/monitoring", None),
    (Method::DELETE, "/clusters/{cluster}/monitoring", None),
    (Method::GET, "/clusters/{cluster}/monitoring/clients", None),
    (
        Method::POST,
        "/clusters/{cluster}/monitoring/clients",
        Some(r#"{"username": "intruder"}"#),
    ),
    (
        Method::POST,
        "/clusters/{cluster}/monitoring/clients/{monitoring_client}/rotate",
        None,
    ),
    (
        Method::DELETE,
        "/clusters/{cluster}/monitoring/clients/{monitoring_client}",
        None,
    ),
    (
        Method::POST,
        "/clusters/{cluster}/secure-connectivity",
        Some(
            r#"{"allowedPrincipals": ["arn:aws:iam::123456789012:root"],
                "allowedRegions": ["eu-west-1"]}"#,
        ),
    ),
    (Method::GET, "/clusters/{cluster}/secure-connectivity", None),
    (
        Method::DELETE,
        "/clusters/{cluster}/secure-connectivity",
        None,
    ),
    (Method::DELETE, "/members/{member}", None),
];

/// Routes with a path parameter that is not in `ADDRESSED`, and why.
const NOT_ADDRESSED: &[(&str, &str)] = &[
    // Inviting an email creates (or changes) the caller's own member: see
    // `the_same_email_is_a_separate_member_in_each_organization`.
    ("POST", "/members/{email}"),
    // HTTP Basic with a monitoring client of that cluster, no organization token: any
    // other credential is the same 401 (tests/api/monitoring.rs).
    ("GET", "/monitoring/{clusterUuid}/metrics"),
    // The docs page's files belong to no organization.
    ("GET", "/docs/{asset}"),
];

struct Fixture {
    cluster: String,
    client: String,
    member: &'static str,
    secret: &'static str,
    backup: String,
    monitoring_client: String,
}

impl Fixture {
    fn fill(&self, template: &str) -> String {
        template
            .replace("{cluster}", &self.cluster)
            .replace("{client}", &self.client)
            .replace("{member}", self.member)
            .replace("{secret}", self.secret)
            .replace("{backup}", &self.backup)
            .replace("{monitoring_client}", &self.monitoring_client)
    }
}

async fn first_org_fixture(app: &TestApp, token: &str) -> Fixture {
    let cluster = app.create_cluster(token, "first-org").await;
    app.wait_healthy(token, &cluster).await;
    let client: Value = app
        .call(
            Method::POST,
            &format!("/clusters/{cluster}/clients"),
            token,
            Some(json!({"clientName": "first-org"})),
        )
        .await
        .json()
        .await
        .unwrap();
    let member = "shared+person@example.com";
    app.invite_developer(token, member).await;
    let secret = "FIRST_ORG_SECRET";
    let created = app
        .call(
            Method::POST,
            &format!("/clusters/{cluster}/secrets"),
            token,
            Some(json!({"secretName": secret, "secretValue": "mine"})),
        )
        .await;
    assert_eq!(created.status(), StatusCode::NO_CONTENT);
    let backup: Value = app
        .send_empty(Method::POST, &format!("/clusters/{cluster}/backups"), token)
        .await
        .json()
        .await
        .unwrap();
    // Finished before anything is compared: the reconciler's records are not the other
    // organization's doing.
    eventually("the backup to complete", || async {
        let backups: Value = app
            .get(&format!("/clusters/{cluster}/backups"), token)
            .await
            .json()
            .await
            .unwrap();
        (backups[0]["status"] == "Complete").then_some(())
    })
    .await;
    let activated = app
        .send_empty(
            Method::POST,
            &format!("/clusters/{cluster}/monitoring"),
            token,
        )
        .await;
    assert_eq!(activated.status(), StatusCode::NO_CONTENT);
    let monitoring_client: Value = app
        .call(
            Method::POST,
            &format!("/clusters/{cluster}/monitoring/clients"),
            token,
            Some(json!({"username": "first-org"})),
        )
        .await
        .json()
        .await
        .unwrap();
    let connected = app
        .call(
            Method::POST,
            &format!("/clusters/{cluster}/secure-connectivity"),
            token,
            Some(json!({
                "allowedPrincipals": ["123456789012"],
                "allowedRegions": ["us-east-1"],
            })),
        )
        .await;
    assert_eq!(connected.status(), StatusCode::NO_CONTENT);
    Fixture {
        cluster,
        client: client["clientId"].as_str().unwrap().to_string(),
        member,
        secret,
        backup: backup["uuid"].as_str().unwrap().to_string(),
        monitoring_client: monitoring_client["uuid"].as_str().unwrap().to_string(),
    }
}

/// Everything the first organization can see, to compare before and after.
async fn snapshot(app: &TestApp, token: &str, fixture: &Fixture) -> Vec<(String, Value)> {
    let mut seen = Vec::new();
    let cluster = &fixture.cluster;
    for path in [
        "/clusters".to_string(),
        format!("/clusters/{cluster}"),
        format!("/clusters/{cluster}/clients"),
        format!("/clusters/{cluster}/secrets"),
        format!("/clusters/{cluster}/backups"),
        format!("/clusters/{cluster}/monitoring/clients"),
        format!("/clusters/{cluster}/secure-connectivity"),
        "/members".to_string(),
        "/activity/json".to_string(),
    ] {
        let response = app.get(&path, token).await;
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        let mut body: Value = response.json().await.unwrap();
        if path == format!("/clusters/{cluster}") {
            body["status"] = Value::Null; // the reconciler may still be at work
        }
        seen.push((path, body));
    }
    seen
}

/// Every route with a path parameter is in `ADDRESSED` or `NOT_ADDRESSED`.
#[test]
fn every_addressing_route_has_a_row() {
    let routes = server_routes();
    let missing: Vec<String> = routes
        .iter()
        .filter(|r| r.path.contains('{'))
        .filter(|r| {
            !NOT_ADDRESSED.contains(&(r.method.as_str(), r.path.as_str()))
                && !ADDRESSED
                    .iter()
                    .any(|(method, path, _)| r.covers(method, path))
        })
        .map(|r| r.to_string())
        .collect();
    assert!(
        missing.is_empty(),
        "routes addressing an organization's things without an isolation row: {missing:#?}"
    );
    for (method, path, _) in ADDRESSED {
        assert!(
            routes.iter().any(|r| r.covers(method, path)),
            "{method} {path} is not a route"
        );
    }
}

#[tokio::test]
async fn another_organizations_things_are_not_found() {
    let app = TestApp::spawn().await;
    let first = app.admin_token().await;
    let fixture = first_org_fixture(&app, &first).await;
    let before = snapshot(&app, &first, &fixture).await;
    let second = app.other_org_token().await;

    for (method, template, body) in ADDRESSED {
        let path = fixture.fill(template);
        let response = match body {
            Some(body) => {
                let body = serde_json::from_str(body).unwrap();
                app.call(method.clone(), &path, &second, Some(body)).await
            }
            // Body-less writes the way the JS SDK sends them.
            None if *method == Method::POST || *method == Method::PUT => {
                app.send_empty(method.clone(), &path, &second).await
            }
            None => app.call(method.clone(), &path, &second, None).await,
        };
        let message = assert_error(response, StatusCode::NOT_FOUND).await;
        assert!(
            !message.contains("forbidden"),
            "{method} {template}: {message}"
        );
    }
    let after = snapshot(&app, &first, &fixture).await;
    for (before, after) in before.iter().zip(&after) {
        assert_eq!(after, before);
    }
}

#[tokio::test]
async fn lists_show_only_the_callers_organization() {
    let app = TestApp::spawn().await;
    let first = app.admin_token().await;
    let fixture = first_org_fixture(&app, &first).await;
    let other = app.create_org("other").await;
    let second = app
        .token_for(
            &other.client_id,
            &other.client_secret,
            "api.cloud.camunda.io",
        )
        .await;
    let second_org = other.org_id;

    let clusters: Value = app.get("/clusters", &second).await.json().await.unwrap();
    assert_eq!(clusters, json!([]));
    let members: Value = app.get("/members", &second).await.json().await.unwrap();
    assert_eq!(
        members,
        json!([{
            "name": "owner@other.example.com",
            "email": "owner@other.example.com",
            "roles": ["owner"],
            "invitePending": false,
        }])
    );
    let events = app.activity(&second).await;
    assert!(!events.is_empty(), "its own creation is recorded");
    for event in &events {
        assert_eq!(event["orgId"], second_org.as_str(), "{event}");
    }
    let csv = app
        .get("/activity/csv", &second)
        .await
        .text()
        .await
        .unwrap();
    for foreign in [
        fixture.cluster.as_str(),
        fixture.client.as_str(),
        fixture.member,
    ] {
        assert!(!csv.contains(foreign), "{foreign} leaked into {csv}");
        let json = serde_json::to_string(&events).unwrap();
        assert!(!json.contains(foreign), "{foreign} leaked into {json}");
    }
    // Organization-independent endpoints answer the same for both.
    for path in ["/clusters/parameters", "/meta/ip-ranges"] {
        let mine: Value = app.get(path, &first).await.json().await.unwrap();
        let theirs: Value = app.get(path, &second).await.json().await.unwrap();
        assert_eq!(mine, theirs, "{path}");
    }
}

#[tokio::test]
async fn the_same_email_is_a_separate_member_in_each_organization() {
    let app = TestApp::spawn().await;
    let first = app.admin_token().await;
    let fixture = first_org_fixture(&app, &first).await;
    let second = app.other_org_token().await;
    let path = format!("/members/{}", fixture.member);

    // Inviting the same person elsewhere creates the other organization's own member ...
    let invited = app
        .call(
            Method::POST,
            &path,
            &second,
            Some(json!({"orgRoles": ["admin"]})),
        )
        .await;
    assert_eq!(invited.status(), StatusCode::NO_CONTENT);
    // ... and removing it there leaves the first organization's member as it was.
    let removed = app.call(Method::DELETE, &path, &second, None).await;
    assert_eq!(removed.status(), StatusCode::NO_CONTENT);
    let members: Value = app.get("/members", &first).await.json().await.unwrap();
    let member = members
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["email"] == fixture.member)
        .expect("still a member of the first organization");
    assert_eq!(member["roles"], json!(["developer"]));
    // The other organization's owner is not a member here either.
    let owner = app
        .call(
            Method::DELETE,
            "/members/owner@other.example.com",
            &first,
            None,
        )
        .await;
    assert_error(owner, StatusCode::NOT_FOUND).await;
}
