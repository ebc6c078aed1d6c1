use base64::Engine;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::*;

async fn assert_token_response(response: reqwest::Response, app: &TestApp) -> Value {
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 86400);
    assert!(body.get("error").is_none());
    let claims = jwt_claims(body["access_token"].as_str().unwrap());
    assert_eq!(claims["iss"], app.base_url);
    assert_eq!(claims["sub"], CLIENT_ID);
    assert_eq!(claims["aud"], "api.cloud.camunda.io");
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        86400
    );
    assert!(claims["https://camunda.com/orgId"].is_string());
    assert_eq!(claims["scope"], body["scope"]);
    assert!(body["scope"].as_str().unwrap().contains("create:clusters"));
    body
}

#[tokio::test]
async fn form_json_and_basic_requests_all_get_tokens() {
    let app = TestApp::spawn().await;
    let form = app
        .http
        .post(app.url("/oauth/token"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", CLIENT_ID),
            ("client_secret", CLIENT_SECRET),
            ("audience", "api.cloud.camunda.io"),
        ])
        .send()
        .await
        .unwrap();
    assert_token_response(form, &app).await;

    let json_body = app
        .http
        .post(app.url("/oauth/token/"))
        .json(&json!({
            "grant_type": "client_credentials",
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "audience": "api.cloud.camunda.io",
        }))
        .send()
        .await
        .unwrap();
    assert_token_response(json_body, &app).await;

    let basic = app
        .http
        .post(app.url("/oauth/token"))
        .basic_auth(CLIENT_ID, Some(CLIENT_SECRET))
        .form(&[
            ("grant_type", "client_credentials"),
            ("audience", "api.cloud.camunda.io"),
        ])
        .send()
        .await
        .unwrap();
    let body = assert_token_response(basic, &app).await;

    // The token works on the API.
    let token = body["access_token"].as_str().unwrap();
    assert_eq!(app.get("/clusters", token).await.status(), StatusCode::OK);
}

async fn oauth_error(response: reqwest::Response, status: StatusCode, code: &str) {
    assert_eq!(response.status(), status);
    if status == StatusCode::UNAUTHORIZED {
        assert!(response.headers().contains_key("www-authenticate"));
    }
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], code, "{body}");
    assert!(body["error_description"].is_string());
    assert!(body.get("access_token").is_none());
}

async fn token_request(app: &TestApp, fields: &[(&str, &str)]) -> reqwest::Response {
    app.http
        .post(app.url("/oauth/token"))
        .form(fields)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn token_errors_follow_rfc_6749() {
    let app = TestApp::spawn().await;
    let wrong_secret = token_request(
        &app,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", CLIENT_ID),
            ("client_secret", "wrong"),
        ],
    )
    .await;
    oauth_error(wrong_secret, StatusCode::UNAUTHORIZED, "invalid_client").await;

    let unknown = token_request(
        &app,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", "nobody"),
            ("client_secret", "x"),
        ],
    )
    .await;
    oauth_error(unknown, StatusCode::UNAUTHORIZED, "invalid_client").await;

    let no_credentials = token_request(&app, &[("grant_type", "client_credentials")]).await;
    oauth_error(no_credentials, StatusCode::UNAUTHORIZED, "invalid_client").await;

    let password_grant = token_request(
        &app,
        &[
            ("grant_type", "password"),
            ("client_id", CLIENT_ID),
            ("client_secret", CLIENT_SECRET),
        ],
    )
    .await;
    oauth_error(
        password_grant,
        StatusCode::BAD_REQUEST,
        "unsupported_grant_type",
    )
    .await;

    let no_grant = token_request(
        &app,
        &[("client_id", CLIENT_ID), ("client_secret", CLIENT_SECRET)],
    )
    .await;
    oauth_error(no_grant, StatusCode::BAD_REQUEST, "invalid_request").await;

    let bad_audience = token_request(
        &app,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", CLIENT_ID),
            ("client_secret", CLIENT_SECRET),
            ("audience", "evil.example.com"),
        ],
    )
    .await;
    oauth_error(bad_audience, StatusCode::BAD_REQUEST, "invalid_request").await;

    let unknown_scope = token_request(
        &app,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", CLIENT_ID),
            ("client_secret", CLIENT_SECRET),
            ("scope", "get:clusters fly:rockets"),
        ],
    )
    .await;
    oauth_error(unknown_scope, StatusCode::BAD_REQUEST, "invalid_scope").await;

    let malformed_json = app
        .http
        .post(app.url("/oauth/token"))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    oauth_error(malformed_json, StatusCode::BAD_REQUEST, "invalid_request").await;

    let wrong_type = app
        .http
        .post(app.url("/oauth/token"))
        .header("content-type", "text/plain")
        .body("grant_type=client_credentials")
        .send()
        .await
        .unwrap();
    oauth_error(wrong_type, StatusCode::BAD_REQUEST, "invalid_request").await;

    let two_methods = app
        .http
        .post(app.url("/oauth/token"))
        .basic_auth(CLIENT_ID, Some(CLIENT_SECRET))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_secret", CLIENT_SECRET),
        ])
        .send()
        .await
        .unwrap();
    oauth_error(two_methods, StatusCode::BAD_REQUEST, "invalid_request").await;
}

#[tokio::test]
async fn a_narrowed_token_carries_only_the_requested_scopes() {
    let app = TestApp::spawn().await;
    let response = token_request(
        &app,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", CLIENT_ID),
            ("client_secret", CLIENT_SECRET),
            ("scope", "get:clusters"),
        ],
    )
    .await;
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["scope"], "get:clusters");
    let token = body["access_token"].as_str().unwrap();
    assert_eq!(app.get("/clusters", token).await.status(), StatusCode::OK);
    let create_body = app.create_cluster_body(token, "narrow").await;
    let refused = app
        .call(Method::POST, "/clusters", token, Some(create_body))
        .await;
    let message = assert_error(refused, StatusCode::FORBIDDEN).await;
    assert!(message.contains("create:clusters"), "{message}");
}

#[tokio::test]
async fn tokens_verify_with_the_published_jwks() {
    let app = TestApp::spawn().await;
    let discovery: Value = app
        .http
        .get(app.url("/.well-known/openid-configuration"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(discovery["issuer"], app.base_url);
    assert_eq!(discovery["token_endpoint"], app.url("/oauth/token"));
    let jwks: JwkSet = app
        .http
        .get(discovery["jwks_uri"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = app.admin_token().await;
    let header = jsonwebtoken::decode_header(&token).unwrap();
    assert_eq!(header.alg, Algorithm::ES256);
    let jwk = jwks
        .find(header.kid.as_deref().unwrap())
        .expect("kid is published");
    let mut validation = Validation::new(Algorithm::ES256);
    validation.set_audience(&["api.cloud.camunda.io"]);
    validation.set_issuer(&[app.base_url.as_str()]);
    let data =
        jsonwebtoken::decode::<Value>(&token, &DecodingKey::from_jwk(jwk).unwrap(), &validation);
    assert_eq!(data.unwrap().claims["sub"], CLIENT_ID);
}

#[tokio::test]
async fn the_api_requires_a_valid_console_token() {
    let app = TestApp::spawn().await;
    let anonymous = app.http.get(app.url("/clusters")).send().await.unwrap();
    assert_eq!(anonymous.headers()["www-authenticate"], "Bearer");
    assert_error(anonymous, StatusCode::UNAUTHORIZED).await;

    let garbage = app.get("/clusters", "not-a-jwt").await;
    assert!(garbage.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .contains("invalid_token"));
    assert_error(garbage, StatusCode::UNAUTHORIZED).await;

    // A token whose payload was altered no longer verifies.
    let token = app.admin_token().await;
    let mut parts: Vec<String> = token.split('.').map(String::from).collect();
    let mut claims = jwt_claims(&token);
    claims["https://camunda.com/orgId"] = json!("someone-else");
    parts[1] = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(claims.to_string());
    let forged = parts.join(".");
    assert_error(
        app.get("/clusters", &forged).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;

    let basic = app
        .http
        .get(app.url("/clusters"))
        .basic_auth(CLIENT_ID, Some(CLIENT_SECRET))
        .send()
        .await
        .unwrap();
    assert_error(basic, StatusCode::UNAUTHORIZED).await;
}

/// The Camunda Terraform provider, without `audience` in its provider block, asks for the
/// host of its API URL: first with HTTP Basic client authentication, then with the
/// credentials in the form. Both work, with and without the port, and the token opens the
/// Console API.
#[tokio::test]
async fn the_public_url_host_is_a_console_audience_as_terraform_asks_for_it() {
    let app = TestApp::spawn().await;
    let with_port = format!("127.0.0.1:{}", app.addr.port());
    for audience in [with_port.as_str(), "127.0.0.1"] {
        let basic = app
            .http
            .post(app.url("/oauth/token"))
            .basic_auth(CLIENT_ID, Some(CLIENT_SECRET))
            .form(&[("grant_type", "client_credentials"), ("audience", audience)])
            .send()
            .await
            .unwrap();
        let form = token_request(
            &app,
            &[
                ("grant_type", "client_credentials"),
                ("client_id", CLIENT_ID),
                ("client_secret", CLIENT_SECRET),
                ("audience", audience),
            ],
        )
        .await;
        for response in [basic, form] {
            assert_eq!(response.status(), StatusCode::OK, "audience {audience}");
            let body: Value = response.json().await.unwrap();
            let token = body["access_token"].as_str().unwrap();
            assert_eq!(jwt_claims(token)["aud"], audience);
            assert_eq!(app.get("/clusters", token).await.status(), StatusCode::OK);
        }
    }
}

/// A right secret with an audience that is not accepted is a bad request, never a wrong
/// secret: it does not count toward the client id's lockout (5 failures by default).
#[tokio::test]
async fn a_refused_audience_never_counts_as_a_wrong_secret() {
    let app = TestApp::spawn().await;
    for _ in 0..6 {
        let refused = token_request(
            &app,
            &[
                ("grant_type", "client_credentials"),
                ("client_id", CLIENT_ID),
                ("client_secret", CLIENT_SECRET),
                ("audience", "somewhere-else.example.com"),
            ],
        )
        .await;
        oauth_error(refused, StatusCode::BAD_REQUEST, "invalid_request").await;
    }
    let token = app.admin_token().await;
    assert_eq!(app.get("/clusters", &token).await.status(), StatusCode::OK);
}
