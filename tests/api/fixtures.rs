//! Shared set-up for the lifecycle tests (backups, upgrade, suspend/wake, monitoring,
//! secure connectivity): clusters with chosen parameters, narrowed tokens, body-less writes.

use std::time::Duration;

use reqwest::{Method, Response, StatusCode};
use serde_json::Value;

use crate::helpers::*;

/// The built-in catalog's Stable channel lists an older generation first.
pub struct Generations {
    pub old: String,
    pub new: String,
}

pub async fn stable_generations(app: &TestApp, token: &str) -> Generations {
    let params: Value = app
        .get("/clusters/parameters", token)
        .await
        .json()
        .await
        .unwrap();
    let stable = &params["channels"][0];
    let allowed = stable["allowedGenerations"].as_array().unwrap();
    Generations {
        old: allowed[0]["uuid"].as_str().unwrap().to_string(),
        new: stable["defaultGeneration"]["uuid"]
            .as_str()
            .unwrap()
            .to_string(),
    }
}

/// Plan types of the built-in catalog by position: 0 is the (suspendable) trial plan.
pub async fn plan_type(app: &TestApp, token: &str, index: usize) -> String {
    let params: Value = app
        .get("/clusters/parameters", token)
        .await
        .json()
        .await
        .unwrap();
    params["clusterPlanTypes"][index]["uuid"]
        .as_str()
        .unwrap()
        .to_string()
}

/// Creates a cluster from the default body with `overrides` merged in; returns its id.
pub async fn create_cluster_with(
    app: &TestApp,
    token: &str,
    name: &str,
    overrides: Value,
) -> String {
    let mut body = app.create_cluster_body(token, name).await;
    for (key, value) in overrides.as_object().unwrap() {
        body[key] = value.clone();
    }
    let response = app.call(Method::POST, "/clusters", token, Some(body)).await;
    assert_eq!(response.status(), StatusCode::OK);
    let created: Value = response.json().await.unwrap();
    created["clusterId"].as_str().unwrap().to_string()
}

pub async fn healthy_cluster(app: &TestApp, token: &str, name: &str) -> String {
    let id = app.create_cluster(token, name).await;
    app.wait_healthy(token, &id).await;
    id
}

/// A POST or PUT the way the JS SDK sends body-less ones: `content-type: application/json`
/// and an empty body.
pub async fn send_empty(app: &TestApp, method: Method, path: &str, token: &str) -> Response {
    app.http
        .request(method, app.url(path))
        .bearer_auth(token)
        .header("content-type", "application/json")
        .body("")
        .send()
        .await
        .unwrap()
}

/// A token of the bootstrap client narrowed to `scope`.
pub async fn scoped_token(app: &TestApp, scope: &str) -> String {
    let response = app
        .http
        .post(app.url("/oauth/token"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", CLIENT_ID),
            ("client_secret", CLIENT_SECRET),
            ("audience", "api.cloud.camunda.io"),
            ("scope", scope),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    body["access_token"].as_str().unwrap().to_string()
}

pub async fn cluster_json(app: &TestApp, token: &str, id: &str) -> Value {
    let response = app.get(&format!("/clusters/{id}"), token).await;
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

/// Polls `probe` until it returns `Some`, for at most 15 seconds.
pub async fn eventually<T, F, Fut>(what: &str, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        if let Some(found) = probe().await {
            return found;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Asserts that `text` is an RFC 3339 time.
pub fn assert_rfc3339(text: &str) {
    assert!(
        time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).is_ok(),
        "{text:?} is not RFC 3339"
    );
}
