//! Security headers on every response (responses with secrets are never cached), and CORS:
//! off by default, on for the configured origins.

use reqwest::{Method, Response, StatusCode};
use serde_json::json;

use crate::helpers::*;

fn assert_not_cacheable(response: &Response, what: &str) {
    let headers = response.headers();
    assert_eq!(headers["cache-control"], "no-store", "{what}");
    assert_eq!(headers["x-content-type-options"], "nosniff", "{what}");
    assert_eq!(headers["x-frame-options"], "DENY", "{what}");
    assert_eq!(headers["referrer-policy"], "no-referrer", "{what}");
}

#[tokio::test]
async fn responses_carrying_secrets_are_never_cached() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let cluster = app.create_cluster(&token, "c").await;
    app.wait_healthy(&token, &cluster).await;

    let token_response = app
        .http
        .post(app.url("/oauth/token"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", CLIENT_ID),
            ("client_secret", CLIENT_SECRET),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(token_response.headers()["pragma"], "no-cache");
    assert_not_cacheable(&token_response, "token");

    let client = app
        .call(
            Method::POST,
            &format!("/clusters/{cluster}/clients"),
            &token,
            Some(json!({"clientName": "worker"})),
        )
        .await;
    assert_eq!(client.status(), StatusCode::OK);
    assert_not_cacheable(&client, "new cluster client");

    let secret = app
        .call(
            Method::POST,
            &format!("/clusters/{cluster}/secrets"),
            &token,
            Some(json!({"secretName": "S", "secretValue": "v"})),
        )
        .await;
    assert_eq!(secret.status(), StatusCode::NO_CONTENT);
    let secrets = app
        .get(&format!("/clusters/{cluster}/secrets"), &token)
        .await;
    assert_eq!(secrets.status(), StatusCode::OK);
    assert_not_cacheable(&secrets, "connector secrets");

    app.send_empty(
        Method::POST,
        &format!("/clusters/{cluster}/monitoring"),
        &token,
    )
    .await;
    let monitoring = app
        .call(
            Method::POST,
            &format!("/clusters/{cluster}/monitoring/clients"),
            &token,
            Some(json!({"username": "prometheus"})),
        )
        .await;
    assert_eq!(monitoring.status(), StatusCode::OK);
    assert_not_cacheable(&monitoring, "monitoring password");

    // Errors too.
    let refused = app.get("/clusters", "nope").await;
    assert_not_cacheable(&refused, "401");
    // The public key set is public and may be cached.
    let jwks = app
        .http
        .get(app.url("/.well-known/jwks.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(jwks.headers()["cache-control"], "public, max-age=300");
    assert_eq!(jwks.headers()["x-content-type-options"], "nosniff");
}

async fn preflight(app: &TestApp, origin: &str) -> Response {
    app.http
        .request(Method::OPTIONS, app.url("/clusters"))
        .header("origin", origin)
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "authorization,content-type",
        )
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn cors_is_off_by_default() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let response = preflight(&app, "https://app.example.com").await;
    assert!(response.status().is_client_error());
    assert!(!response
        .headers()
        .keys()
        .any(|k| k.as_str().starts_with("access-control-")));
    let response = app
        .http
        .get(app.url("/clusters"))
        .bearer_auth(&token)
        .header("origin", "https://app.example.com")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(!response
        .headers()
        .keys()
        .any(|k| k.as_str().starts_with("access-control-")));
}

#[tokio::test]
async fn cors_allows_the_configured_origins() {
    let app = TestApp::spawn_with(&[
        "--cors-allowed-origins",
        "https://app.example.com,http://localhost:3000",
    ])
    .await;
    let token = app.admin_token().await;

    let response = preflight(&app, "https://app.example.com").await;
    assert!(response.status().is_success(), "{}", response.status());
    let headers = response.headers();
    assert_eq!(
        headers["access-control-allow-origin"],
        "https://app.example.com"
    );
    let methods = headers["access-control-allow-methods"].to_str().unwrap();
    for method in ["GET", "POST", "PUT", "PATCH", "DELETE"] {
        assert!(methods.contains(method), "{methods}");
    }
    let allowed = headers["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .to_ascii_lowercase();
    assert!(allowed.contains("authorization") && allowed.contains("content-type"));
    assert!(headers.contains_key("access-control-max-age"));

    // Another origin gets no grant.
    let response = preflight(&app, "https://evil.example").await;
    assert!(!response
        .headers()
        .contains_key("access-control-allow-origin"));

    // Actual requests, errors included, carry the grant so the browser can read them.
    for (token, status) in [
        (token.as_str(), StatusCode::OK),
        ("bad", StatusCode::UNAUTHORIZED),
    ] {
        let response = app
            .http
            .get(app.url("/clusters"))
            .bearer_auth(token)
            .header("origin", "http://localhost:3000")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), status);
        assert_eq!(
            response.headers()["access-control-allow-origin"],
            "http://localhost:3000"
        );
        let exposed = response.headers()["access-control-expose-headers"]
            .to_str()
            .unwrap()
            .to_ascii_lowercase();
        assert!(exposed.contains("retry-after"), "{exposed}");
    }
}

#[tokio::test]
async fn cors_for_any_origin() {
    let app = TestApp::spawn_with(&["--cors-allowed-origins", "*"]).await;
    let response = preflight(&app, "https://anywhere.example").await;
    assert!(response.status().is_success());
    assert_eq!(response.headers()["access-control-allow-origin"], "*");
}

#[tokio::test]
async fn a_malformed_cors_origin_is_refused_at_start() {
    let data_dir = tempfile::tempdir().unwrap();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_consoled"))
        .args(["serve", "--listen", "127.0.0.1:0"])
        .args(["--cors-allowed-origins", "app.example.com"])
        .env("CONSOLED_DATA_DIR", data_dir.path())
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("CORS"), "{stderr}");
}
