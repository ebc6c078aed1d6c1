//! Organization isolation: another organization's cluster, client, member or activity is
//! invisible. Addressed directly it is a 404 (never a 403 that would confirm it exists);
//! in lists it is absent; and nothing the other organization does changes it.
//!
//! Adding an endpoint that addresses something of an organization means adding a row to
//! `ADDRESSED`; placeholders are filled from the first organization's fixture.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::*;

/// Requests that name the first organization's things: `{cluster}`, `{client}`, `{member}`.
const ADDRESSED: &[(Method, &str, Option<&str>)] = &[
    (Method::GET, "/clusters/{cluster}", None),
    (Method::DELETE, "/clusters/{cluster}", None),
    (Method::GET, "/clusters/{cluster}/clients", None),
    (
        Method::POST,
        "/clusters/{cluster}/clients",
        Some(r#"{"clientName": "intruder"}"#),
    ),
    (Method::GET, "/clusters/{cluster}/clients/{client}", None),
    (Method::DELETE, "/clusters/{cluster}/clients/{client}", None),
    (Method::DELETE, "/members/{member}", None),
];

struct Fixture {
    cluster: String,
    client: String,
    member: &'static str,
}

impl Fixture {
    fn fill(&self, template: &str) -> String {
        template
            .replace("{cluster}", &self.cluster)
            .replace("{client}", &self.client)
            .replace("{member}", self.member)
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
    let invited = app
        .call(
            Method::POST,
            &format!("/members/{member}"),
            token,
            Some(json!({"orgRoles": ["developer"]})),
        )
        .await;
    assert_eq!(invited.status(), StatusCode::NO_CONTENT);
    Fixture {
        cluster,
        client: client["clientId"].as_str().unwrap().to_string(),
        member,
    }
}

/// Everything the first organization can see, to compare before and after.
async fn snapshot(app: &TestApp, token: &str, fixture: &Fixture) -> Vec<Value> {
    let mut seen = Vec::new();
    for path in [
        "/clusters".to_string(),
        format!("/clusters/{}", fixture.cluster),
        format!("/clusters/{}/clients", fixture.cluster),
        "/members".to_string(),
        "/activity/json".to_string(),
    ] {
        let response = app.get(&path, token).await;
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        let mut body: Value = response.json().await.unwrap();
        if path == format!("/clusters/{}", fixture.cluster) {
            body["status"] = Value::Null; // the reconciler may still be at work
        }
        seen.push(body);
    }
    seen
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
        let body = body.map(|b| serde_json::from_str(b).unwrap());
        let response = app.call(method.clone(), &path, &second, body).await;
        let message = assert_error(response, StatusCode::NOT_FOUND).await;
        assert!(
            !message.contains("forbidden"),
            "{method} {template}: {message}"
        );
    }
    assert_eq!(snapshot(&app, &first, &fixture).await, before);
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
