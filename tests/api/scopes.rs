//! The scope matrix: for every endpoint, a token narrowed to lack its scope gets 403 naming
//! the scope, and a token holding only that scope succeeds.
//!
//! Adding an endpoint means adding one row to `ENDPOINTS`. Paths and bodies may use these
//! placeholders, filled from a fresh fixture per row (made with the admin token):
//! `{cluster}` a Healthy cluster, `{client}` one of its API clients, `{member}` an invited
//! member's email, `{channel}` `{generation}` `{region}` `{plan}` catalog ids.

use std::collections::HashMap;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::*;

struct Endpoint {
    method: Method,
    path: &'static str,
    scope: &'static str,
    body: Option<&'static str>,
    /// The status of a successful call.
    ok: StatusCode,
}

const fn row(
    method: Method,
    path: &'static str,
    scope: &'static str,
    body: Option<&'static str>,
    ok: StatusCode,
) -> Endpoint {
    Endpoint {
        method,
        path,
        scope,
        body,
        ok,
    }
}

const OK: StatusCode = StatusCode::OK;
const NO_CONTENT: StatusCode = StatusCode::NO_CONTENT;

const ENDPOINTS: &[Endpoint] = &[
    // Clusters
    row(
        Method::GET,
        "/clusters/parameters",
        "get:clusters",
        None,
        OK,
    ),
    row(Method::GET, "/clusters", "get:clusters", None, OK),
    row(
        Method::POST,
        "/clusters",
        "create:clusters",
        Some(
            r#"{"name": "matrix", "channelId": "{channel}", "generationId": "{generation}",
                "regionId": "{region}", "planTypeId": "{plan}"}"#,
        ),
        OK,
    ),
    row(Method::GET, "/clusters/{cluster}", "get:clusters", None, OK),
    row(
        Method::DELETE,
        "/clusters/{cluster}",
        "delete:clusters",
        None,
        NO_CONTENT,
    ),
    // Cluster API clients
    row(
        Method::GET,
        "/clusters/{cluster}/clients",
        "get:clients",
        None,
        OK,
    ),
    row(
        Method::POST,
        "/clusters/{cluster}/clients",
        "create:clients",
        Some(r#"{"clientName": "matrix-new"}"#),
        OK,
    ),
    row(
        Method::GET,
        "/clusters/{cluster}/clients/{client}",
        "get:clients",
        None,
        OK,
    ),
    row(
        Method::DELETE,
        "/clusters/{cluster}/clients/{client}",
        "delete:clients",
        None,
        NO_CONTENT,
    ),
    // Members
    row(Method::GET, "/members", "get:members", None, OK),
    row(
        Method::POST,
        "/members/new+matrix@example.com",
        "create:members",
        Some(r#"{"orgRoles": ["developer"]}"#),
        NO_CONTENT,
    ),
    row(
        Method::POST,
        "/members/{member}",
        "create:members",
        Some(r#"{"orgRoles": ["analyst"]}"#),
        NO_CONTENT,
    ),
    row(
        Method::DELETE,
        "/members/{member}",
        "delete:members",
        None,
        NO_CONTENT,
    ),
    // Activity
    row(Method::GET, "/activity/json", "get:activity", None, OK),
    row(Method::GET, "/activity/csv", "get:activity", None, OK),
    // Meta
    row(Method::GET, "/meta/ip-ranges", "get:clusters", None, OK),
];

/// Everything a row may refer to, created with the admin token.
async fn fixture(app: &TestApp, admin: &str) -> HashMap<&'static str, String> {
    let params: Value = app
        .get("/clusters/parameters", admin)
        .await
        .json()
        .await
        .unwrap();
    let cluster = app.create_cluster(admin, "matrix-fixture").await;
    app.wait_healthy(admin, &cluster).await;
    let client: Value = app
        .call(
            Method::POST,
            &format!("/clusters/{cluster}/clients"),
            admin,
            Some(json!({"clientName": "matrix-fixture"})),
        )
        .await
        .json()
        .await
        .unwrap();
    let member = "matrix-member@example.com".to_string();
    let invited = app
        .call(
            Method::POST,
            &format!("/members/{member}"),
            admin,
            Some(json!({"orgRoles": ["developer"]})),
        )
        .await;
    assert!(
        matches!(invited.status(), StatusCode::NO_CONTENT),
        "{:?}",
        invited.status()
    );
    let text = |v: &Value| v.as_str().unwrap().to_string();
    HashMap::from([
        ("cluster", cluster),
        ("client", text(&client["clientId"])),
        ("member", member),
        ("channel", text(&params["channels"][0]["uuid"])),
        (
            "generation",
            text(&params["channels"][0]["defaultGeneration"]["uuid"]),
        ),
        ("region", text(&params["regions"][0]["uuid"])),
        ("plan", text(&params["clusterPlanTypes"][0]["uuid"])),
    ])
}

fn fill(template: &str, values: &HashMap<&'static str, String>) -> String {
    values
        .iter()
        .fold(template.to_string(), |text, (key, value)| {
            text.replace(&format!("{{{key}}}"), value)
        })
}

/// Every scope in the vocabulary but `scope`, space-separated.
fn all_but(scope: &str) -> String {
    consoled::domain::scope::Scope::ALL
        .iter()
        .map(|s| s.as_str())
        .filter(|s| *s != scope)
        .collect::<Vec<_>>()
        .join(" ")
}

#[tokio::test]
async fn every_endpoint_needs_its_scope_and_that_scope_suffices() {
    let app = TestApp::spawn_with(&["--provision-delay", "0s"]).await;
    let admin = app.admin_token().await;
    for endpoint in ENDPOINTS {
        let values = fixture(&app, &admin).await;
        let path = fill(endpoint.path, &values);
        let body: Option<Value> = endpoint
            .body
            .map(|b| serde_json::from_str(&fill(b, &values)).expect("row body is JSON"));
        let what = format!("{} {}", endpoint.method, endpoint.path);

        let without = app.scoped_token(&all_but(endpoint.scope)).await;
        let refused = app
            .call(endpoint.method.clone(), &path, &without, body.clone())
            .await;
        assert_eq!(
            refused.status(),
            StatusCode::FORBIDDEN,
            "{what} without scope"
        );
        let message = assert_error(refused, StatusCode::FORBIDDEN).await;
        assert!(message.contains(endpoint.scope), "{what}: {message}");

        let only = app.scoped_token(endpoint.scope).await;
        let allowed = app.call(endpoint.method.clone(), &path, &only, body).await;
        assert_eq!(
            allowed.status(),
            endpoint.ok,
            "{what} with only {}",
            endpoint.scope
        );
    }
}

#[tokio::test]
async fn a_token_request_narrows_but_never_widens() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let org = TestApp::org_of(&admin);
    let (id, secret) = app
        .create_api_client(&org, "get:clusters,get:members")
        .await;

    // Without `scope`, the token carries exactly the client's scopes.
    let full = app.token_for(&id, &secret, "api.cloud.camunda.io").await;
    assert_eq!(jwt_claims(&full)["scope"], "get:clusters get:members");

    // Narrowing works, also to a single scope.
    let narrow = app
        .http
        .post(app.url("/oauth/token"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", id.as_str()),
            ("client_secret", secret.as_str()),
            ("scope", "get:members"),
        ])
        .send()
        .await
        .unwrap();
    let narrow: Value = narrow.json().await.unwrap();
    assert_eq!(narrow["scope"], "get:members");
    let narrow = narrow["access_token"].as_str().unwrap();
    assert_eq!(app.get("/members", narrow).await.status(), StatusCode::OK);
    assert_error(app.get("/clusters", narrow).await, StatusCode::FORBIDDEN).await;

    // Asking for a scope the client lacks is invalid_scope, with no token.
    for scope in [
        "create:clusters",
        "get:clusters create:members",
        "get:activity",
    ] {
        let widened = app
            .http
            .post(app.url("/oauth/token"))
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", id.as_str()),
                ("client_secret", secret.as_str()),
                ("scope", scope),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(widened.status(), StatusCode::BAD_REQUEST, "{scope}");
        let body: Value = widened.json().await.unwrap();
        assert_eq!(body["error"], "invalid_scope", "{scope}");
        assert!(body.get("access_token").is_none());
    }
}
