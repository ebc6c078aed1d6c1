//! Rate limits: the token endpoint per source address and per client id, the lockout of a
//! client id after repeated wrong secrets, and the API per client. A 429 carries
//! `Retry-After` and has changed nothing.

use std::time::Duration;

use reqwest::{Method, Response, StatusCode};
use serde_json::Value;

use crate::helpers::*;

async fn token_request(app: &TestApp, id: &str, secret: &str, forwarded: Option<&str>) -> Response {
    let mut request = app.http.post(app.url("/oauth/token")).form(&[
        ("grant_type", "client_credentials"),
        ("client_id", id),
        ("client_secret", secret),
    ]);
    if let Some(address) = forwarded {
        request = request.header("x-forwarded-for", address);
    }
    request.send().await.unwrap()
}

/// Asserts a token-endpoint 429: `Retry-After` in whole seconds, the OAuth error shape, no
/// token. Returns the seconds.
async fn assert_token_429(response: Response) -> u64 {
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry_after: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry_after >= 1);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], "temporarily_unavailable", "{body}");
    assert!(body["error_description"].is_string());
    assert!(body.get("access_token").is_none());
    retry_after
}

#[tokio::test]
async fn the_token_endpoint_limits_each_source_address() {
    let app = TestApp::spawn_with(&[
        "--token-limit-per-source",
        "3/1m",
        "--token-limit-per-client",
        "off",
    ])
    .await;
    // Wrong and right secrets, known and unknown ids: every request counts.
    let statuses = [
        token_request(&app, CLIENT_ID, CLIENT_SECRET, None)
            .await
            .status(),
        token_request(&app, CLIENT_ID, "wrong", None).await.status(),
        token_request(&app, "nobody", "x", None).await.status(),
    ];
    assert_eq!(
        statuses,
        [
            StatusCode::OK,
            StatusCode::UNAUTHORIZED,
            StatusCode::UNAUTHORIZED
        ]
    );
    let retry_after =
        assert_token_429(token_request(&app, CLIENT_ID, CLIENT_SECRET, None).await).await;
    // Refilled at 3 per minute: the next one is due in about 20 seconds.
    assert!((15..=20).contains(&retry_after), "{retry_after}");
    // X-Forwarded-For from a peer that is not a trusted proxy changes nothing.
    assert_token_429(token_request(&app, CLIENT_ID, CLIENT_SECRET, Some("203.0.113.7")).await)
        .await;
    // Bodies that do not parse are counted too, before they are parsed.
    let garbage = app
        .http
        .post(app.url("/oauth/token"))
        .header("content-type", "application/json")
        .body("{")
        .send()
        .await
        .unwrap();
    assert_token_429(garbage).await;
    // The API itself is not limited by default.
    for _ in 0..3 {
        let listed = app.http.get(app.url("/healthz")).send().await.unwrap();
        assert_eq!(listed.status(), StatusCode::OK);
    }
}

#[tokio::test]
async fn behind_a_trusted_proxy_the_forwarded_address_is_the_source() {
    let app = TestApp::spawn_with(&[
        "--trusted-proxies",
        "10.0.0.0/8,127.0.0.1/32",
        "--token-limit-per-source",
        "2/1m",
        "--token-limit-per-client",
        "off",
    ])
    .await;
    let first = Some("203.0.113.1");
    for _ in 0..2 {
        let response = token_request(&app, CLIENT_ID, CLIENT_SECRET, first).await;
        assert_eq!(response.status(), StatusCode::OK);
    }
    assert_token_429(token_request(&app, CLIENT_ID, CLIENT_SECRET, first).await).await;
    // Another client behind the same proxy has its own allowance.
    let second = Some("203.0.113.2");
    let response = token_request(&app, CLIENT_ID, CLIENT_SECRET, second).await;
    assert_eq!(response.status(), StatusCode::OK);
    // A forged first hop does not help: the address the trusted proxy saw counts.
    let forged = Some("198.51.100.9, 203.0.113.1");
    assert_token_429(token_request(&app, CLIENT_ID, CLIENT_SECRET, forged).await).await;
    // Through a second trusted proxy (10.1.2.3) the client is still 203.0.113.1.
    let chained = Some("203.0.113.1, 10.1.2.3");
    assert_token_429(token_request(&app, CLIENT_ID, CLIENT_SECRET, chained).await).await;
}

#[tokio::test]
async fn the_token_endpoint_limits_each_client_id() {
    let app = TestApp::spawn_with(&[
        "--token-limit-per-client",
        "2/1m",
        "--token-limit-per-source",
        "off",
    ])
    .await;
    let org = TestApp::org_of(&app.admin_token().await);
    let (other, other_secret) = app.create_api_client(&org, "all").await;
    let response = token_request(&app, CLIENT_ID, CLIENT_SECRET, None).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_token_429(token_request(&app, CLIENT_ID, CLIENT_SECRET, None).await).await;
    // Over HTTP Basic the same id is the same client.
    let basic = app
        .http
        .post(app.url("/oauth/token"))
        .basic_auth(CLIENT_ID, Some(CLIENT_SECRET))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_token_429(basic).await;
    // Other clients are not held back.
    let response = token_request(&app, &other, &other_secret, None).await;
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn repeated_wrong_secrets_lock_the_client_id_for_a_while() {
    let app = TestApp::spawn_with(&[
        "--token-failures-before-lockout",
        "3",
        "--token-lockout",
        "2s",
        "--token-limit-per-client",
        "off",
        "--token-limit-per-source",
        "off",
    ])
    .await;
    let org = TestApp::org_of(&app.admin_token().await);
    let (victim, secret) = app.create_api_client(&org, "all").await;

    for _ in 0..3 {
        let response = token_request(&app, &victim, "guess", None).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }
    // Locked: even the right secret is refused, without being checked.
    let retry_after = assert_token_429(token_request(&app, &victim, &secret, None).await).await;
    assert!(retry_after <= 2, "{retry_after}");
    assert_token_429(token_request(&app, &victim, "guess", None).await).await;
    // Another client id is not affected.
    let response = token_request(&app, CLIENT_ID, CLIENT_SECRET, None).await;
    assert_eq!(response.status(), StatusCode::OK);
    // Unknown ids are tracked the same way, so a lockout does not tell which ids exist.
    for _ in 0..3 {
        let response = token_request(&app, "nobody", "guess", None).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }
    assert_token_429(token_request(&app, "nobody", "guess", None).await).await;

    // Once the lock has passed, the right secret works and ends the streak.
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let response = token_request(&app, &victim, &secret, None).await;
    assert_eq!(response.status(), StatusCode::OK);
    for _ in 0..2 {
        let response = token_request(&app, &victim, "guess", None).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }
    let response = token_request(&app, &victim, &secret, None).await;
    assert_eq!(response.status(), StatusCode::OK);

    // A further failure after a lock locks again, for twice as long.
    for _ in 0..3 {
        token_request(&app, &victim, "guess", None).await;
    }
    assert_token_429(token_request(&app, &victim, &secret, None).await).await;
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let response = token_request(&app, &victim, "guess", None).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let retry_after = assert_token_429(token_request(&app, &victim, &secret, None).await).await;
    assert!((3..=4).contains(&retry_after), "{retry_after}");
}

#[tokio::test]
async fn the_api_limits_each_client_and_a_429_changes_nothing() {
    // Bursts of 4, then one request per 10 seconds: nothing refills during the test.
    let app = TestApp::spawn_with(&["--api-limit-per-client", "4/40s"]).await;
    let token = app.admin_token().await;
    let org = TestApp::org_of(&token);
    let other = app.other_org_token().await;
    let body = app.create_cluster_body(&token, "x").await; // the first request

    // A burst of creates: the first three pass, the rest are refused before anything is
    // written (the JS SDK retries a POST answered 429).
    let mut created = Vec::new();
    let mut refused = 0;
    for i in 0..6 {
        let mut body = body.clone();
        body["name"] = format!("burst-{i}").into();
        let response = app
            .call(Method::POST, "/clusters", &token, Some(body))
            .await;
        match response.status() {
            StatusCode::OK => {
                let id: Value = response.json().await.unwrap();
                created.push(id["clusterId"].as_str().unwrap().to_string());
            }
            StatusCode::TOO_MANY_REQUESTS => {
                let retry_after: u64 = response.headers()["retry-after"]
                    .to_str()
                    .unwrap()
                    .parse()
                    .unwrap();
                assert!((1..=10).contains(&retry_after), "{retry_after}");
                assert_error(response, StatusCode::TOO_MANY_REQUESTS).await;
                refused += 1;
            }
            other => panic!("unexpected {other}"),
        }
    }
    assert_eq!((created.len(), refused), (3, 3));
    // Reads are limited the same way; another client has its own allowance.
    assert_error(
        app.get("/clusters", &token).await,
        StatusCode::TOO_MANY_REQUESTS,
    )
    .await;
    assert_eq!(app.get("/clusters", &other).await.status(), StatusCode::OK);

    // In the database: exactly the acknowledged clusters, and one audit record each.
    let (store, _) = app.open_store().await;
    let mut stored: Vec<String> = store
        .clusters(&org)
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.id)
        .collect();
    stored.sort_unstable();
    created.sort_unstable();
    assert_eq!(stored, created);
    let audited = store
        .audit_events(&org, 1000)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.entity == "cluster" && e.audit_type.code() == "c")
        .count();
    assert_eq!(audited, 3);
}

#[tokio::test]
async fn wrong_secrets_from_one_address_do_not_lock_the_client_out_elsewhere() {
    let app = TestApp::spawn_with(&["--token-failures-before-lockout", "3"]).await;
    let org = TestApp::org_of(&app.admin_token().await);
    let (victim, secret) = app.create_api_client(&org, "all").await;
    // The attacker knows the client id and sends wrong secrets from 127.0.0.2.
    let attacker = reqwest::Client::builder()
        .local_address(std::net::IpAddr::from([127, 0, 0, 2]))
        .build()
        .unwrap();
    let attempt = |secret: &'static str| {
        attacker
            .post(app.url("/oauth/token"))
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", victim.as_str()),
                ("client_secret", secret),
            ])
            .send()
    };
    for _ in 0..3 {
        assert_eq!(
            attempt("guess").await.unwrap().status(),
            StatusCode::UNAUTHORIZED
        );
    }
    // Locked there ...
    assert_token_429(attempt("guess").await.unwrap()).await;
    // ... but the client itself, from its own address, keeps getting tokens.
    for _ in 0..3 {
        let response = token_request(&app, &victim, &secret, None).await;
        assert_eq!(response.status(), StatusCode::OK);
    }
}
