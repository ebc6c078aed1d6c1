//! The scope matrix: for every endpoint, a token narrowed to lack its scope gets 403 naming
//! the scope, and a token holding only that scope succeeds.
//!
//! Adding an endpoint means adding one row to `ENDPOINTS`; `every_route_has_a_row` fails
//! until it is there, and `every_operation_documents_the_scope_its_handler_enforces` until
//! the row's scope is the one in the operation's `security` annotation. Paths and bodies
//! may use these placeholders, filled from a fresh fixture per row (made with the admin token): `{cluster}` a Healthy cluster on an older
//! generation (so it can be upgraded) with monitoring active, `{client}` one of its API
//! clients, `{secret}` one of its connector secrets, `{backup}` one of its backups,
//! `{monitoring_client}` one of its monitoring clients, `{member}` an invited member's
//! email, `{channel}` `{generation}` `{region}` `{plan}` catalog ids.

use std::collections::HashMap;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::*;
use crate::routes::server_routes;

/// Routes that take no Console API token, so no scope: the token issuer, its keys,
/// health, the metrics endpoint (HTTP Basic with monitoring client credentials), and the
/// API document and its docs page.
const UNSCOPED: &[(&str, &str)] = &[
    ("POST", "/oauth/token"),
    ("GET", "/.well-known/jwks.json"),
    ("GET", "/.well-known/openid-configuration"),
    ("GET", "/healthz"),
    ("GET", "/readyz"),
    ("GET", "/monitoring/{clusterUuid}/metrics"),
    ("GET", "/openapi.json"),
    ("GET", "/docs"),
    ("GET", "/docs/{asset}"),
];

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
    // Cluster update, upgrade, wake
    row(
        Method::PATCH,
        "/clusters/{cluster}",
        "update:clusters",
        Some(r#"{"name": "matrix-renamed", "stageLabel": "test"}"#),
        NO_CONTENT,
    ),
    row(
        Method::PUT,
        "/clusters/{cluster}/upgrade",
        "update:clusters",
        None,
        OK,
    ),
    row(
        Method::PUT,
        "/clusters/{cluster}/wake",
        "update:clusters",
        None,
        NO_CONTENT,
    ),
    // IP allowlist
    row(
        Method::PUT,
        "/clusters/{cluster}/ipallowlist",
        "update:ipallowlist",
        Some(r#"{"ipallowlist": [{"ip": "10.0.0.0/8", "description": "matrix"}]}"#),
        NO_CONTENT,
    ),
    row(
        Method::PUT,
        "/clusters/{cluster}/ipwhitelist",
        "update:ipallowlist",
        Some(r#"{"ipwhitelist": []}"#),
        NO_CONTENT,
    ),
    // Connector secrets
    row(
        Method::GET,
        "/clusters/{cluster}/secrets",
        "get:secrets",
        None,
        OK,
    ),
    row(
        Method::POST,
        "/clusters/{cluster}/secrets",
        "create:secrets",
        Some(r#"{"secretName": "MATRIX_NEW", "secretValue": "v"}"#),
        NO_CONTENT,
    ),
    row(
        Method::PUT,
        "/clusters/{cluster}/secrets/{secret}",
        "update:secrets",
        Some(r#"{"secretValue": "v2"}"#),
        NO_CONTENT,
    ),
    row(
        Method::DELETE,
        "/clusters/{cluster}/secrets/{secret}",
        "delete:secrets",
        None,
        NO_CONTENT,
    ),
    // Backups
    row(
        Method::GET,
        "/clusters/{cluster}/backups",
        "get:backups",
        None,
        OK,
    ),
    row(
        Method::POST,
        "/clusters/{cluster}/backups",
        "create:backups",
        None,
        OK,
    ),
    row(
        Method::DELETE,
        "/clusters/{cluster}/backups/{backup}",
        "delete:backups",
        None,
        OK,
    ),
    // Monitoring: reads under get:clusters, changes under update:clusters
    row(
        Method::POST,
        "/clusters/{cluster}/monitoring",
        "update:clusters",
        None,
        NO_CONTENT,
    ),
    row(
        Method::DELETE,
        "/clusters/{cluster}/monitoring",
        "update:clusters",
        None,
        NO_CONTENT,
    ),
    row(
        Method::GET,
        "/clusters/{cluster}/monitoring/clients",
        "get:clusters",
        None,
        OK,
    ),
    row(
        Method::POST,
        "/clusters/{cluster}/monitoring/clients",
        "update:clusters",
        Some(r#"{"username": "matrix-new"}"#),
        OK,
    ),
    row(
        Method::POST,
        "/clusters/{cluster}/monitoring/clients/{monitoring_client}/rotate",
        "update:clusters",
        None,
        OK,
    ),
    row(
        Method::DELETE,
        "/clusters/{cluster}/monitoring/clients/{monitoring_client}",
        "update:clusters",
        None,
        NO_CONTENT,
    ),
    // Secure connectivity: reads under get:clusters, changes under update:clusters
    row(
        Method::POST,
        "/clusters/{cluster}/secure-connectivity",
        "update:clusters",
        Some(
            r#"{"allowedPrincipals": ["arn:aws:iam::123456789012:root"],
                "allowedRegions": ["us-east-1"]}"#,
        ),
        NO_CONTENT,
    ),
    row(
        Method::GET,
        "/clusters/{cluster}/secure-connectivity",
        "get:clusters",
        None,
        OK,
    ),
    row(
        Method::DELETE,
        "/clusters/{cluster}/secure-connectivity",
        "update:clusters",
        None,
        NO_CONTENT,
    ),
];

/// Everything a row may refer to, created with the admin token.
async fn fixture(app: &TestApp, admin: &str) -> HashMap<&'static str, String> {
    let params = app.parameters(admin).await;
    // On the older Stable generation, without auto-update, so that it can be upgraded.
    let generations = app.stable_generations(admin).await;
    let mut body = app.create_cluster_body(admin, "matrix-fixture").await;
    body["generationId"] = json!(generations.old);
    body["autoUpdate"] = json!(false);
    let created: Value = app
        .call(Method::POST, "/clusters", admin, Some(body))
        .await
        .json()
        .await
        .unwrap();
    let cluster = created["clusterId"].as_str().unwrap().to_string();
    app.wait_healthy(admin, &cluster).await;
    let secret = "MATRIX_SECRET".to_string();
    let response = app
        .call(
            Method::POST,
            &format!("/clusters/{cluster}/secrets"),
            admin,
            Some(json!({"secretName": secret, "secretValue": "s"})),
        )
        .await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let backup: Value = app
        .send_empty(Method::POST, &format!("/clusters/{cluster}/backups"), admin)
        .await
        .json()
        .await
        .unwrap();
    let response = app
        .send_empty(
            Method::POST,
            &format!("/clusters/{cluster}/monitoring"),
            admin,
        )
        .await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let monitoring_client: Value = app
        .call(
            Method::POST,
            &format!("/clusters/{cluster}/monitoring/clients"),
            admin,
            Some(json!({"username": "matrix-fixture"})),
        )
        .await
        .json()
        .await
        .unwrap();
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
        ("secret", secret),
        ("backup", text(&backup["uuid"])),
        ("monitoring_client", text(&monitoring_client["uuid"])),
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

/// Sends a row's request; a body-less POST or PUT the way the JS SDK sends it.
async fn send(
    app: &TestApp,
    method: &Method,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> reqwest::Response {
    if body.is_none() && (method == Method::POST || method == Method::PUT) {
        return app.send_empty(method.clone(), path, token).await;
    }
    app.call(method.clone(), path, token, body).await
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

/// Every route of the router is either in `ENDPOINTS` or in `UNSCOPED`, and every row
/// names a route.
#[test]
fn every_route_has_a_row() {
    let routes = server_routes();
    let missing: Vec<String> = routes
        .iter()
        .filter(|r| {
            !UNSCOPED.contains(&(r.method.as_str(), r.path.as_str()))
                && !ENDPOINTS.iter().any(|e| r.covers(&e.method, e.path))
        })
        .map(|r| r.to_string())
        .collect();
    assert!(
        missing.is_empty(),
        "routes without a scope matrix row: {missing:#?}"
    );
    for endpoint in ENDPOINTS {
        assert!(
            routes
                .iter()
                .any(|r| r.covers(&endpoint.method, endpoint.path)),
            "{} {} is not a route",
            endpoint.method,
            endpoint.path
        );
    }
    for (method, path) in UNSCOPED {
        assert!(
            routes
                .iter()
                .any(|r| r.method == *method && r.path == *path),
            "{method} {path} is not a route"
        );
    }
}

/// The scope the document states for each operation (its `bearer` security requirement,
/// what clients read) is the scope of its row, which the matrix below proves the handler
/// enforces: so handler, document and table say the same. Unscoped routes state none.
#[test]
fn every_operation_documents_the_scope_its_handler_enforces() {
    let doc: Value = serde_json::from_str(consoled::http::openapi::document_json()).unwrap();
    let routes = server_routes();
    let security = |method: &str, path: &str| -> Value {
        doc["paths"][path][method.to_lowercase()]["security"].clone()
    };
    for endpoint in ENDPOINTS {
        let route = routes
            .iter()
            .find(|r| r.covers(&endpoint.method, endpoint.path))
            .unwrap_or_else(|| panic!("{} {} is not a route", endpoint.method, endpoint.path));
        assert_eq!(
            security(&route.method, &route.path),
            json!([{ "bearer": [endpoint.scope] }]),
            "{route}: the document's scope is not the one the handler enforces"
        );
    }
    for (method, path) in UNSCOPED {
        let stated = security(method, path);
        assert!(
            stated
                .as_array()
                .is_none_or(|requirements| requirements.iter().all(|r| r.get("bearer").is_none())),
            "{method} {path} takes no Console API token but documents {stated}"
        );
    }
}

#[tokio::test]
async fn every_endpoint_needs_its_scope_and_that_scope_suffices() {
    // Two narrowed tokens per row for one client, faster than the default per-client
    // token rate allows.
    let app =
        TestApp::spawn_with(&["--provision-delay", "0s", "--token-limit-per-client", "off"]).await;
    let admin = app.admin_token().await;
    for endpoint in ENDPOINTS {
        let values = fixture(&app, &admin).await;
        let path = fill(endpoint.path, &values);
        let body: Option<Value> = endpoint
            .body
            .map(|b| serde_json::from_str(&fill(b, &values)).expect("row body is JSON"));
        let what = format!("{} {}", endpoint.method, endpoint.path);

        let without = app.scoped_token(&all_but(endpoint.scope)).await;
        let refused = send(&app, &endpoint.method, &path, &without, body.clone()).await;
        assert_eq!(
            refused.status(),
            StatusCode::FORBIDDEN,
            "{what} without scope"
        );
        let message = assert_error(refused, StatusCode::FORBIDDEN).await;
        assert!(message.contains(endpoint.scope), "{what}: {message}");

        let only = app.scoped_token(endpoint.scope).await;
        let allowed = send(&app, &endpoint.method, &path, &only, body).await;
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
