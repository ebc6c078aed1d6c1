//! Bearer tokens an attacker can make or get hold of are refused with one generic 401:
//! `alg: none`, HS256 keyed with the public key, altered claims, expired and not-yet-valid
//! tokens (with the configurable clock skew), a foreign issuer, a Zeebe token, a token of a
//! deleted or rotated client, an unknown key id, and malformed or oversized headers.
//! Valid-signature tokens are made here with the server's own signing key.

use std::time::Duration;

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::*;

/// The server's current signing key, read from its database with the master key.
struct Forger {
    kid: String,
    key: EncodingKey,
    /// The uncompressed SEC1 public point.
    public_point: Vec<u8>,
}

impl Forger {
    async fn of(app: &TestApp) -> Forger {
        let (store, keyring) = app.open_store().await;
        let records = store.signing_keys().await.unwrap();
        let keys = consoled::auth::keys::KeySet::from_records(
            &records,
            &keyring,
            consoled::domain::Timestamp::now(),
            Duration::ZERO,
        )
        .unwrap();
        let kid = keys.signing_kid();
        let record = records.iter().find(|r| r.kid == kid).unwrap();
        // The private key, unsealed as the server does it.
        let der = keyring
            .decrypt(&record.private_key, record.kid.as_bytes())
            .unwrap();
        Forger {
            kid: kid.to_string(),
            key: EncodingKey::from_ec_der(&der),
            public_point: record.public_key.clone(),
        }
    }

    /// Signs `claims` as the server would.
    fn sign(&self, claims: &Value) -> String {
        self.sign_with_kid(claims, Some(&self.kid))
    }

    fn sign_with_kid(&self, claims: &Value, kid: Option<&str>) -> String {
        let mut header = Header::new(Algorithm::ES256);
        header.kid = kid.map(str::to_string);
        jsonwebtoken::encode(&header, claims, &self.key).unwrap()
    }

    /// The public key as PEM (SubjectPublicKeyInfo), as a JWKS consumer would hold it.
    fn public_pem(&self) -> String {
        const P256_SPKI_PREFIX: &str = "3059301306072a8648ce3d020106082a8648ce3d030107034200";
        let mut der: Vec<u8> = (0..P256_SPKI_PREFIX.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&P256_SPKI_PREFIX[i..i + 2], 16).unwrap())
            .collect();
        der.extend(&self.public_point);
        let body = STANDARD.encode(der);
        let lines: Vec<&str> = body
            .as_bytes()
            .chunks(64)
            .map(|c| std::str::from_utf8(c).unwrap())
            .collect();
        format!(
            "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
            lines.join("\n")
        )
    }
}

/// A little more than the default `--state-cache-ttl`.
const STATE_CACHE_TTL: Duration = Duration::from_millis(300);

fn now() -> i64 {
    consoled::domain::Timestamp::now().seconds()
}

fn b64(value: &Value) -> String {
    URL_SAFE_NO_PAD.encode(value.to_string())
}

/// A token with the given header and claims and an arbitrary signature part.
fn unsigned(header: Value, claims: &Value, signature: &str) -> String {
    format!("{}.{}.{signature}", b64(&header), b64(claims))
}

/// Every rejected token gets exactly this: no hint of why.
struct Generic401 {
    body: Value,
    challenge: String,
}

async fn generic_401(response: reqwest::Response, what: &str) -> Generic401 {
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{what}");
    let challenge = response.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .to_string();
    Generic401 {
        body: response.json().await.unwrap(),
        challenge,
    }
}

#[tokio::test]
async fn forged_and_stolen_tokens_get_one_generic_401() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let genuine = jwt_claims(&admin);
    let forger = Forger::of(&app).await;

    // The control: a token made with the server's key and unchanged claims works, so each
    // refusal below is due to the one thing changed.
    assert_eq!(
        app.get("/clusters", &forger.sign(&genuine)).await.status(),
        StatusCode::OK
    );

    let with = |changes: Value| {
        let mut claims = genuine.clone();
        for (k, v) in changes.as_object().unwrap() {
            if v.is_null() {
                claims.as_object_mut().unwrap().remove(k);
            } else {
                claims[k] = v.clone();
            }
        }
        claims
    };
    let t = now();
    let hs256 = |secret: &[u8]| {
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(forger.kid.clone());
        jsonwebtoken::encode(&header, &genuine, &EncodingKey::from_secret(secret)).unwrap()
    };
    let jwk = json!({"kty": "EC", "crv": "P-256", "kid": forger.kid,
        "x": URL_SAFE_NO_PAD.encode(&forger.public_point[1..33]),
        "y": URL_SAFE_NO_PAD.encode(&forger.public_point[33..])});
    let real_signature = admin.split('.').nth(2).unwrap().to_string();
    let mut altered_payload: Vec<String> = admin.split('.').map(String::from).collect();
    altered_payload[1] = b64(&with(json!({"scope": "get:clusters create:clusters"})));

    let attacks: Vec<(&str, String)> = vec![
        (
            "alg none, no signature",
            unsigned(
                json!({"alg": "none", "typ": "JWT", "kid": forger.kid}),
                &genuine,
                "",
            ),
        ),
        (
            "alg none, the genuine signature",
            unsigned(
                json!({"alg": "none", "typ": "JWT", "kid": forger.kid}),
                &genuine,
                &real_signature,
            ),
        ),
        (
            "alg None",
            unsigned(json!({"alg": "None", "kid": forger.kid}), &genuine, ""),
        ),
        (
            "HS256 keyed with the PEM public key",
            hs256(forger.public_pem().as_bytes()),
        ),
        (
            "HS256 keyed with the SEC1 point",
            hs256(&forger.public_point),
        ),
        (
            "HS256 keyed with the JWK",
            hs256(jwk.to_string().as_bytes()),
        ),
        (
            "an altered claim, the signature kept",
            altered_payload.join("."),
        ),
        (
            "expired beyond the skew",
            forger.sign(&with(json!({"iat": t - 3600, "exp": t - 120}))),
        ),
        (
            "not valid before (nbf) beyond the skew",
            forger.sign(&with(json!({"nbf": t + 120}))),
        ),
        (
            "issued in the future beyond the skew",
            forger.sign(&with(json!({"iat": t + 120, "exp": t + 3600}))),
        ),
        ("without exp", forger.sign(&with(json!({"exp": null})))),
        (
            "another issuer",
            forger.sign(&with(json!({"iss": "https://evil.example"}))),
        ),
        (
            "the issuer with a trailing slash",
            forger.sign(&with(json!({"iss": format!("{}/", app.base_url)}))),
        ),
        (
            "a Zeebe audience",
            forger.sign(&with(json!({"aud": "zeebe.camunda.io"}))),
        ),
        (
            "a cluster claim",
            forger.sign(&with(json!({"https://camunda.com/clusterId": "c1"}))),
        ),
        (
            "no client generation",
            forger.sign(&with(json!({"https://camunda.com/clientGeneration": null}))),
        ),
        (
            "another generation",
            forger.sign(&with(json!({"https://camunda.com/clientGeneration": 2}))),
        ),
        (
            "another organization",
            forger.sign(&with(json!({"https://camunda.com/orgId": "someone-else"}))),
        ),
        (
            "an unknown client",
            forger.sign(&with(json!({"sub": "nobody"}))),
        ),
        (
            "an unknown kid",
            forger.sign_with_kid(&genuine, Some("0123456789abcdef")),
        ),
        ("no kid", forger.sign_with_kid(&genuine, None)),
        ("garbage", "not-a-jwt".to_string()),
        (
            "two parts",
            format!("{}.{}", b64(&json!({"alg": "ES256"})), b64(&genuine)),
        ),
        ("a huge token", format!("{admin}{}", "A".repeat(9000))),
    ];

    let mut seen: Option<Generic401> = None;
    for (what, token) in &attacks {
        let refused = generic_401(app.get("/clusters", token).await, what).await;
        // The same answer every time, whatever was wrong.
        match &seen {
            None => {
                assert_eq!(
                    refused.body["message"], "the bearer token is invalid or expired",
                    "{what}"
                );
                assert_eq!(
                    refused.challenge, r#"Bearer error="invalid_token""#,
                    "{what}"
                );
                seen = Some(refused);
            }
            Some(first) => {
                assert_eq!(refused.body, first.body, "{what}");
                assert_eq!(refused.challenge, first.challenge, "{what}");
            }
        }
        // A write with the token changes nothing.
        let body = app.create_cluster_body(&admin, what).await;
        let write = app.call(Method::POST, "/clusters", token, Some(body)).await;
        assert_eq!(write.status(), StatusCode::UNAUTHORIZED, "{what}");
    }
    let list: Value = app.get("/clusters", &admin).await.json().await.unwrap();
    assert_eq!(list, json!([]));
}

#[tokio::test]
async fn time_claims_are_checked_with_the_configured_clock_skew() {
    let app = TestApp::spawn().await;
    let genuine = jwt_claims(&app.admin_token().await);
    let forger = Forger::of(&app).await;
    let t = now();
    let timed = |iat: i64, nbf: Option<i64>, exp: i64| {
        let mut claims = genuine.clone();
        claims["iat"] = json!(iat);
        claims["exp"] = json!(exp);
        if let Some(nbf) = nbf {
            claims["nbf"] = json!(nbf);
        }
        forger.sign(&claims)
    };
    let slightly_expired = timed(t - 3600, None, t - 10);
    let slightly_early = timed(t, Some(t + 10), t + 3600);
    let issued_slightly_ahead = timed(t + 10, None, t + 3600);
    let two_minutes_expired = timed(t - 3600, None, t - 120);
    let two_minutes_early = timed(t, Some(t + 120), t + 3600);

    // The default skew is 30 seconds.
    for token in [&slightly_expired, &slightly_early, &issued_slightly_ahead] {
        assert_eq!(app.get("/clusters", token).await.status(), StatusCode::OK);
    }
    for token in [&two_minutes_expired, &two_minutes_early] {
        generic_401(app.get("/clusters", token).await, "outside the skew").await;
    }

    // No skew: every one of them is refused.
    let strict = TestApp::spawn_with(&["--clock-skew", "0s"]).await;
    let genuine = jwt_claims(&strict.admin_token().await);
    let forger = Forger::of(&strict).await;
    let mut expired = genuine.clone();
    expired["exp"] = json!(now() - 2);
    let mut early = genuine.clone();
    early["nbf"] = json!(now() + 10);
    for claims in [expired, early] {
        generic_401(
            strict.get("/clusters", &forger.sign(&claims)).await,
            "no skew",
        )
        .await;
    }

    // A skew of five minutes takes the two-minute ones.
    let lenient = TestApp::spawn_with(&["--clock-skew", "5m"]).await;
    let genuine = jwt_claims(&lenient.admin_token().await);
    let forger = Forger::of(&lenient).await;
    let mut expired = genuine.clone();
    expired["exp"] = json!(now() - 120);
    assert_eq!(
        lenient
            .get("/clusters", &forger.sign(&expired))
            .await
            .status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_zeebe_token_does_not_open_the_console_api() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let cluster = app.create_cluster(&admin, "c").await;
    app.wait_healthy(&admin, &cluster).await;
    let created: Value = app
        .call(
            Method::POST,
            &format!("/clusters/{cluster}/clients"),
            &admin,
            Some(json!({"clientName": "worker"})),
        )
        .await
        .json()
        .await
        .unwrap();
    let zeebe = app
        .token_for(
            created["clientId"].as_str().unwrap(),
            created["clientSecret"].as_str().unwrap(),
            "zeebe.camunda.io",
        )
        .await;
    for path in ["/clusters", &format!("/clusters/{cluster}"), "/members"] {
        generic_401(app.get(path, &zeebe).await, path).await;
    }
    // Nor does asking for the Console audience with a cluster client's credentials.
    let response = app
        .http
        .post(app.url("/oauth/token"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", created["clientId"].as_str().unwrap()),
            ("client_secret", created["clientSecret"].as_str().unwrap()),
            ("audience", "api.cloud.camunda.io"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn tokens_of_rotated_or_deleted_clients_stop_working_at_once() {
    use consoled::domain::Timestamp;
    use consoled::operator::{api_clients, OPERATOR};

    let app = TestApp::spawn().await;
    let org = TestApp::org_of(&app.admin_token().await);
    let (store, keyring) = app.open_store().await;

    let (rotated, secret) = app.create_api_client(&org, "all").await;
    let token = app
        .token_for(&rotated, &secret, "api.cloud.camunda.io")
        .await;
    assert_eq!(app.get("/clusters", &token).await.status(), StatusCode::OK);
    let fresh = api_clients::rotate(
        store.as_ref(),
        &keyring,
        &rotated,
        None,
        OPERATOR,
        Timestamp::now(),
    )
    .await
    .unwrap();
    // Servers rely on a client's state for at most CONSOLED_STATE_CACHE_TTL (250ms by
    // default); the CLI waits that long after a revocation, and so does this test.
    tokio::time::sleep(STATE_CACHE_TTL).await;
    generic_401(app.get("/clusters", &token).await, "rotated").await;
    let new_token = app
        .token_for(&rotated, &fresh.client_secret, "api.cloud.camunda.io")
        .await;
    assert_eq!(
        app.get("/clusters", &new_token).await.status(),
        StatusCode::OK
    );

    let (deleted, secret) = app.create_api_client(&org, "all").await;
    let token = app
        .token_for(&deleted, &secret, "api.cloud.camunda.io")
        .await;
    api_clients::delete(store.as_ref(), &deleted, None, OPERATOR, Timestamp::now())
        .await
        .unwrap();
    tokio::time::sleep(STATE_CACHE_TTL).await;
    generic_401(app.get("/clusters", &token).await, "deleted").await;
}

#[tokio::test]
async fn malformed_and_oversized_authorization_headers_are_refused() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let send = |values: Vec<reqwest::header::HeaderValue>| {
        let mut request = app.http.get(app.url("/clusters"));
        for value in values {
            request = request.header(reqwest::header::AUTHORIZATION, value);
        }
        request.send()
    };
    let value = |bytes: &[u8]| reqwest::header::HeaderValue::from_bytes(bytes).unwrap();

    for (what, values) in [
        ("no scheme", vec![value(token.as_bytes())]),
        ("scheme only", vec![value(b"Bearer")]),
        ("empty token", vec![value(b"Bearer    ")]),
        (
            "Basic",
            vec![value(
                format!(
                    "Basic {}",
                    STANDARD.encode(format!("{CLIENT_ID}:{CLIENT_SECRET}"))
                )
                .as_bytes(),
            )],
        ),
        (
            "another scheme",
            vec![value(format!("Token {token}").as_bytes())],
        ),
        ("not UTF-8", vec![value(b"Bearer \xff\xfe")]),
        (
            "two headers, one good",
            vec![
                value(format!("Bearer {token}").as_bytes()),
                value(b"Bearer x"),
            ],
        ),
    ] {
        let response = send(values).await.unwrap();
        let message = assert_error(response, StatusCode::UNAUTHORIZED).await;
        assert!(!message.contains(&token), "{what}");
    }

    // A token longer than any we issue is refused unread.
    let long = format!("Bearer {}", "A".repeat(10_000));
    let response = send(vec![value(long.as_bytes())]).await.unwrap();
    assert_error(response, StatusCode::UNAUTHORIZED).await;

    // A header larger than the request head may be is refused before any handler runs.
    let huge = format!("Bearer {}", "A".repeat(40_000));
    let response = send(vec![value(huge.as_bytes())]).await.unwrap();
    assert_eq!(
        response.status(),
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE
    );

    // The server is unharmed.
    assert_eq!(app.get("/clusters", &token).await.status(), StatusCode::OK);
}
