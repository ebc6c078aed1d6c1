use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::*;

async fn create_client(
    app: &TestApp,
    token: &str,
    cluster: &str,
    body: Value,
) -> reqwest::Response {
    app.call(
        Method::POST,
        &format!("/clusters/{cluster}/clients"),
        token,
        Some(body),
    )
    .await
}

async fn zeebe_token_response(
    app: &TestApp,
    url: &str,
    id: &str,
    secret: &str,
    audience: &str,
) -> reqwest::Response {
    app.http
        .post(url)
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", id),
            ("client_secret", secret),
            ("audience", audience),
        ])
        .send()
        .await
        .unwrap()
}

/// Verifies `token` as a cluster configured with `audience` would: signature by the
/// published keys, issuer, lifetime and audience.
async fn accepted_by_a_cluster_of_audience(app: &TestApp, token: &str, audience: &str) -> bool {
    let discovery: Value = app
        .http
        .get(app.url("/.well-known/openid-configuration"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let jwks: jsonwebtoken::jwk::JwkSet = app
        .http
        .get(discovery["jwks_uri"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let kid = jsonwebtoken::decode_header(token).unwrap().kid.unwrap();
    let key = jsonwebtoken::DecodingKey::from_jwk(jwks.find(&kid).unwrap()).unwrap();
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::ES256);
    validation.set_audience(&[audience]);
    validation.set_issuer(&[discovery["issuer"].as_str().unwrap()]);
    jsonwebtoken::decode::<Value>(token, &key, &validation).is_ok()
}

#[tokio::test]
async fn each_cluster_has_its_own_audience_and_refuses_other_clusters_clients() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let (a, b) = (
        app.create_cluster(&token, "a").await,
        app.create_cluster(&token, "b").await,
    );
    let mut credentials = Vec::new();
    for cluster in [&a, &b] {
        app.wait_healthy(&token, cluster).await;
        let response = create_client(&app, &token, cluster, json!({"clientName": "worker"})).await;
        let created: Value = response.json().await.unwrap();
        credentials.push((
            created["clientId"].as_str().unwrap().to_string(),
            created["clientSecret"].as_str().unwrap().to_string(),
        ));
    }
    let (audience_a, audience_b) = (
        format!("{a}.zeebe.camunda.local"),
        format!("{b}.zeebe.camunda.local"),
    );
    let url = app.url("/oauth/token");
    let (id_a, secret_a) = &credentials[0];
    let (id_b, secret_b) = &credentials[1];

    // A's client, asking for the Zeebe audience or for A's own: both tokens carry both.
    for asked in ["zeebe.camunda.io", audience_a.as_str()] {
        let response = zeebe_token_response(&app, &url, id_a, secret_a, asked).await;
        assert_eq!(response.status(), StatusCode::OK, "{asked}");
        let body: Value = response.json().await.unwrap();
        let token_a = body["access_token"].as_str().unwrap();
        assert!(accepted_by_a_cluster_of_audience(&app, token_a, &audience_a).await);
        assert!(accepted_by_a_cluster_of_audience(&app, token_a, "zeebe.camunda.io").await);
        // Cluster B, configured with its own audience, refuses A's client.
        assert!(!accepted_by_a_cluster_of_audience(&app, token_a, &audience_b).await);
    }
    // B's client is accepted by B and refused by A.
    let response = zeebe_token_response(&app, &url, id_b, secret_b, "zeebe.camunda.io").await;
    let body: Value = response.json().await.unwrap();
    let token_b = body["access_token"].as_str().unwrap();
    assert!(accepted_by_a_cluster_of_audience(&app, token_b, &audience_b).await);
    assert!(!accepted_by_a_cluster_of_audience(&app, token_b, &audience_a).await);
    // A client cannot ask for another cluster's audience.
    let response = zeebe_token_response(&app, &url, id_a, secret_a, &audience_b).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_client_is_created_listed_and_its_credentials_work() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let cluster = app.create_cluster(&token, "c").await;
    app.wait_healthy(&token, &cluster).await;

    let response = create_client(&app, &token, &cluster, json!({"clientName": "worker"})).await;
    assert_eq!(response.status(), StatusCode::OK);
    let created: Value = response.json().await.unwrap();
    let client_id = created["clientId"].as_str().unwrap().to_string();
    let secret = created["clientSecret"].as_str().unwrap().to_string();
    assert!(secret.len() >= 32);
    assert!(created["uuid"].is_string());
    assert_eq!(created["name"], "worker");
    assert_eq!(
        created["permissions"],
        json!(["Zeebe", "Operate", "Tasklist", "Optimize", "Secrets"])
    );

    let list: Value = app
        .get(&format!("/clusters/{cluster}/clients/"), &token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        list,
        json!([{"name": "worker", "clientId": client_id, "permissions": created["permissions"]}])
    );
    assert!(
        !list.to_string().contains(&secret),
        "the secret is shown only once"
    );

    let details_response = app
        .get(&format!("/clusters/{cluster}/clients/{client_id}"), &token)
        .await;
    assert_eq!(details_response.status(), StatusCode::OK);
    let details: Value = details_response.json().await.unwrap();
    assert_eq!(details["name"], "worker");
    assert_eq!(details["ZEEBE_CLIENT_ID"], client_id);
    assert_eq!(
        details["ZEEBE_ADDRESS"],
        format!("{cluster}.bru-2.zeebe.camunda.local:443")
    );
    let auth_url = details["ZEEBE_AUTHORIZATION_SERVER_URL"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(auth_url, app.url("/oauth/token"));
    assert!(!details.to_string().contains(&secret));

    // The credentials get a Zeebe token naming the cluster and the permissions.
    let response =
        zeebe_token_response(&app, &auth_url, &client_id, &secret, "zeebe.camunda.io").await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    let zeebe_token = body["access_token"].as_str().unwrap().to_string();
    let claims = jwt_claims(&zeebe_token);
    // The Zeebe audience it asked for, and its cluster's own.
    assert_eq!(
        claims["aud"],
        json!(["zeebe.camunda.io", format!("{cluster}.zeebe.camunda.local")])
    );
    assert_eq!(claims["sub"], client_id);
    assert_eq!(claims["https://camunda.com/clusterId"], cluster);
    assert_eq!(claims["permissions"], created["permissions"]);

    // ...verifiable with the published keys.
    let jwks: jsonwebtoken::jwk::JwkSet = app
        .http
        .get(app.url("/.well-known/jwks.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let kid = jsonwebtoken::decode_header(&zeebe_token)
        .unwrap()
        .kid
        .unwrap();
    let key = jsonwebtoken::DecodingKey::from_jwk(jwks.find(&kid).unwrap()).unwrap();
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::ES256);
    validation.set_audience(&["zeebe.camunda.io"]);
    assert!(jsonwebtoken::decode::<Value>(&zeebe_token, &key, &validation).is_ok());

    // A Zeebe token is not a Console API token, and a cluster client gets no Console token.
    assert_error(
        app.get("/clusters", &zeebe_token).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    let console =
        zeebe_token_response(&app, &auth_url, &client_id, &secret, "api.cloud.camunda.io").await;
    assert_eq!(console.status(), StatusCode::BAD_REQUEST);

    // Deleting the client revokes its credentials at once.
    let deleted = app
        .call(
            Method::DELETE,
            &format!("/clusters/{cluster}/clients/{client_id}"),
            &token,
            None,
        )
        .await;
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    let refused =
        zeebe_token_response(&app, &auth_url, &client_id, &secret, "zeebe.camunda.io").await;
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    assert_error(
        app.get(&format!("/clusters/{cluster}/clients/{client_id}"), &token)
            .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_error(
        app.call(
            Method::DELETE,
            &format!("/clusters/{cluster}/clients/{client_id}"),
            &token,
            None,
        )
        .await,
        StatusCode::NOT_FOUND,
    )
    .await;
}

#[tokio::test]
async fn chosen_permissions_are_kept() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let cluster = app.create_cluster(&token, "c").await;
    let body = json!({"clientName": "ops", "permissions": ["Operate", "Zeebe"]});
    let created: Value = create_client(&app, &token, &cluster, body)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(created["permissions"], json!(["Zeebe", "Operate"]));
}

#[tokio::test]
async fn client_validation_errors() {
    let app = TestApp::spawn_with(&["--max-clients-per-cluster", "2"]).await;
    let token = app.admin_token().await;
    let cluster = app.create_cluster(&token, "c").await;

    let first = create_client(&app, &token, &cluster, json!({"clientName": "a"})).await;
    assert_eq!(first.status(), StatusCode::OK);
    let duplicate = create_client(&app, &token, &cluster, json!({"clientName": "a"})).await;
    let message = assert_error(duplicate, StatusCode::BAD_REQUEST).await;
    assert!(message.contains("unique"), "{message}");

    for body in [
        json!({"clientName": ""}),
        json!({}),
        json!({"clientName": "b", "permissions": ["Everything"]}),
        json!({"clientName": "b", "extra": true}),
    ] {
        assert_error(
            create_client(&app, &token, &cluster, body).await,
            StatusCode::BAD_REQUEST,
        )
        .await;
    }

    assert_eq!(
        create_client(&app, &token, &cluster, json!({"clientName": "b"}))
            .await
            .status(),
        StatusCode::OK
    );
    let over = create_client(&app, &token, &cluster, json!({"clientName": "c"})).await;
    let message = assert_error(over, StatusCode::FORBIDDEN).await;
    assert!(message.contains("maximum"), "{message}");
    let list: Value = app
        .get(&format!("/clusters/{cluster}/clients"), &token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list.as_array().unwrap().len(), 2);

    assert_error(
        app.get("/clusters/unknown/clients", &token).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_error(
        create_client(&app, &token, "unknown", json!({"clientName": "x"})).await,
        StatusCode::NOT_FOUND,
    )
    .await;
}

#[tokio::test]
async fn connection_details_wait_for_a_healthy_cluster() {
    let app = TestApp::spawn_with(&["--provision-delay", "1h"]).await;
    let token = app.admin_token().await;
    let cluster = app.create_cluster(&token, "slow").await;
    let created: Value = create_client(&app, &token, &cluster, json!({"clientName": "w"}))
        .await
        .json()
        .await
        .unwrap();
    let client_id = created["clientId"].as_str().unwrap();
    let details = app
        .get(&format!("/clusters/{cluster}/clients/{client_id}"), &token)
        .await;
    assert_error(details, StatusCode::PRECONDITION_FAILED).await;
    assert_error(
        app.get(&format!("/clusters/{cluster}/clients/nope"), &token)
            .await,
        StatusCode::NOT_FOUND,
    )
    .await;
}

#[tokio::test]
async fn deleting_the_cluster_revokes_its_clients() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let cluster = app.create_cluster(&token, "c").await;
    let created: Value = create_client(&app, &token, &cluster, json!({"clientName": "w"}))
        .await
        .json()
        .await
        .unwrap();
    let (id, secret) = (
        created["clientId"].as_str().unwrap(),
        created["clientSecret"].as_str().unwrap(),
    );
    let url = app.url("/oauth/token");
    assert_eq!(
        zeebe_token_response(&app, &url, id, secret, "zeebe.camunda.io")
            .await
            .status(),
        StatusCode::OK
    );
    let deleted = app
        .call(
            Method::DELETE,
            &format!("/clusters/{cluster}"),
            &token,
            None,
        )
        .await;
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        zeebe_token_response(&app, &url, id, secret, "zeebe.camunda.io")
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
}
