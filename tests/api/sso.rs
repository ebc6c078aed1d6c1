//! Single sign-on to the console over HTTP, against a stub OpenID provider that records
//! what it was asked and answers what each test sets: the callback's failure paths (the
//! provider's error responses, a refused code, ID tokens for another audience, expired,
//! with another nonce, signed by an unknown key), the mapping of verified emails to
//! members (pending invites, auto-join by domain, unknown and unverified emails refused),
//! `--local-sign-in off`, and logout at the provider. The flow through a real provider
//! (`oidc-provider`) in a browser is `console_sso`.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode as AxumStatus};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use base64::Engine;
use consoled::auth::keys::{self, KeySet};
use consoled::crypto::Keyring;
use consoled::domain::Timestamp;
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use reqwest::StatusCode;
use serde_json::{json, Value};
use sha2::Digest;

use crate::helpers::TestApp;

const CLIENT_ID: &str = "consoled-test";
const CLIENT_SECRET: &str = "stub-provider-client-secret";

/// What the stub's token endpoint answers next.
#[derive(Clone)]
enum Answer {
    /// An ID token with these claims over the defaults (a `null` removes one).
    IdToken(Value),
    /// `400 {"error": …}`.
    Error(&'static str),
}

/// A token request: its form fields and its Authorization header.
type TokenRequest = (Vec<(String, String)>, String);

struct Provider {
    issuer: String,
    keys: Mutex<KeySet>,
    /// Signs instead of `keys` when set (a key the JWKS does not publish).
    rogue: Mutex<Option<KeySet>>,
    answer: Mutex<Answer>,
    /// The `email` of the next ID token.
    email: Mutex<String>,
    /// The nonce of the authorization request the next token answers.
    nonce: Mutex<String>,
    /// Token requests as received: the form and the Authorization header.
    token_requests: Mutex<Vec<TokenRequest>>,
    jwks_fetches: Mutex<u32>,
}

fn key_set() -> KeySet {
    let keyring = Keyring::from_master_key(&[7; 32]);
    let record = keys::generate(&keyring, Timestamp::now()).unwrap();
    KeySet::from_records(&[record], &keyring, Timestamp::now(), Duration::ZERO).unwrap()
}

async fn discovery(State(p): State<Arc<Provider>>) -> Json<Value> {
    let i = &p.issuer;
    Json(json!({
        "issuer": i,
        "authorization_endpoint": format!("{i}/auth"),
        "token_endpoint": format!("{i}/token"),
        "jwks_uri": format!("{i}/jwks"),
        "end_session_endpoint": format!("{i}/logout"),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["ES256"],
    }))
}

async fn jwks(State(p): State<Arc<Provider>>) -> impl IntoResponse {
    *p.jwks_fetches.lock().unwrap() += 1;
    let body = p.keys.lock().unwrap().jwks().to_string();
    ([("content-type", "application/json")], body)
}

async fn token(
    State(p): State<Arc<Provider>>,
    headers: HeaderMap,
    Form(form): Form<Vec<(String, String)>>,
) -> axum::response::Response {
    let auth = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    p.token_requests.lock().unwrap().push((form, auth));
    let answer = p.answer.lock().unwrap().clone();
    match answer {
        Answer::Error(error) => (
            AxumStatus::BAD_REQUEST,
            Json(json!({ "error": error, "error_description": "stub says no" })),
        )
            .into_response(),
        Answer::IdToken(overrides) => {
            let now = Timestamp::now().millis() / 1000;
            let mut claims = json!({
                "iss": p.issuer,
                "aud": CLIENT_ID,
                "sub": "stub-subject",
                "email": *p.email.lock().unwrap(),
                "email_verified": true,
                "name": "Stub Person",
                "iat": now,
                "exp": now + 300,
                "nonce": *p.nonce.lock().unwrap(),
            });
            for (key, value) in overrides.as_object().unwrap() {
                if value.is_null() {
                    claims.as_object_mut().unwrap().remove(key);
                } else {
                    claims[key] = value.clone();
                }
            }
            let payload = claims.to_string();
            let id_token = match p.rogue.lock().unwrap().as_ref() {
                Some(rogue) => rogue.sign_jwt(payload.as_bytes()),
                None => p.keys.lock().unwrap().sign_jwt(payload.as_bytes()),
            };
            Json(json!({
                "access_token": "stub-access-token",
                "token_type": "Bearer",
                "expires_in": 300,
                "id_token": id_token,
            }))
            .into_response()
        }
    }
}

async fn start_provider() -> Arc<Provider> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let issuer = format!("http://{}", listener.local_addr().unwrap());
    let provider = Arc::new(Provider {
        issuer,
        keys: Mutex::new(key_set()),
        rogue: Mutex::new(None),
        answer: Mutex::new(Answer::IdToken(json!({}))),
        email: Mutex::new(String::new()),
        nonce: Mutex::new(String::new()),
        token_requests: Mutex::new(Vec::new()),
        jwks_fetches: Mutex::new(0),
    });
    let app = Router::new()
        .route("/.well-known/openid-configuration", get(discovery))
        .route("/jwks", get(jwks))
        .route("/token", post(token))
        .with_state(provider.clone());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    provider
}

/// consoled with single sign-on at `provider`, and `extra` flags.
async fn app_with(provider: &Provider, extra: &[&str]) -> TestApp {
    let mut args = vec![
        "--oidc-issuer",
        &provider.issuer,
        "--oidc-client-id",
        CLIENT_ID,
        "--oidc-client-secret",
        CLIENT_SECRET,
    ];
    args.extend_from_slice(extra);
    TestApp::spawn_with(&args).await
}

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// The `name=value` of a Set-Cookie header called `name`.
fn set_cookie(response: &reqwest::Response, name: &str) -> Option<String> {
    response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .map(|v| v.split(';').next().unwrap().to_string())
        .find(|pair| pair.starts_with(&format!("{name}=")))
}

/// A sign-in started: the pending cookie and the authorization request's parameters.
struct Started {
    cookie: String,
    params: std::collections::HashMap<String, String>,
}

async fn start(app: &TestApp, provider: &Provider) -> Started {
    let response = no_redirects()
        .get(app.url("/console/sso/start"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let location = response.headers()[LOCATION].to_str().unwrap().to_string();
    assert!(
        location.starts_with(&format!("{}/auth?", provider.issuer)),
        "{location}"
    );
    let cookie = set_cookie(&response, "consoled_sso").expect("the pending sign-in cookie");
    let url = url::Url::parse(&location).unwrap();
    let params: std::collections::HashMap<String, String> =
        url.query_pairs().into_owned().collect();
    *provider.nonce.lock().unwrap() = params["nonce"].clone();
    Started { cookie, params }
}

async fn callback(app: &TestApp, cookie: Option<&str>, query: &str) -> reqwest::Response {
    let mut request = no_redirects().get(app.url(&format!("/console/sso/callback?{query}")));
    if let Some(cookie) = cookie {
        request = request.header(COOKIE, cookie);
    }
    request.send().await.unwrap()
}

/// Runs a whole sign-in as `email`; the callback's response.
async fn sign_in_as(app: &TestApp, provider: &Provider, email: &str) -> reqwest::Response {
    *provider.email.lock().unwrap() = email.to_string();
    let started = start(app, provider).await;
    let query = format!("code=the-code&state={}", started.params["state"]);
    callback(app, Some(&started.cookie), &query).await
}

/// Asserts a refusal page: 403, its heading, and `reason` in its text.
async fn assert_refused(response: reqwest::Response, reason: &str) {
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert!(set_cookie(&response, "consoled_session").is_none());
    let html = response.text().await.unwrap();
    assert!(html.contains("Sign-in refused"), "{html}");
    assert!(html.contains(reason), "{reason:?} not in {html}");
}

/// Asserts a sign-in: to the clusters list with a session that works.
async fn assert_signed_in(app: &TestApp, response: reqwest::Response, email: &str) -> String {
    assert_eq!(
        response.status(),
        StatusCode::SEE_OTHER,
        "{:?}",
        response.text().await
    );
    assert_eq!(response.headers()[LOCATION], "/console");
    let session = set_cookie(&response, "consoled_session").expect("a session cookie");
    let page = no_redirects()
        .get(app.url("/console"))
        .header(COOKIE, &session)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(
        html.contains(&format!("id=\"signed-in-as\">{email}<")),
        "{html}"
    );
    session
}

async fn activity(app: &TestApp) -> Vec<String> {
    let token = app.admin_token().await;
    let org = TestApp::org_of(&token);
    let store = consoled::storage::open(&app.database_url).await.unwrap();
    store
        .audit_events(&org, 1000)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.audit)
        .collect()
}

#[tokio::test]
async fn a_member_signs_in_with_pkce_state_and_nonce_checked() {
    let provider = start_provider().await;
    let app = app_with(&provider, &[]).await;
    let owner = "owner@consoled.local";
    let login = reqwest::get(app.url("/console/login")).await.unwrap();
    // Signing out posts a form that redirects to the provider: its origin is a form target.
    let policy = login.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        policy.contains(&format!("form-action 'self' {};", provider.issuer)),
        "{policy}"
    );
    let login = login.text().await.unwrap();
    assert!(login.contains("id=\"sso-sign-in\""), "{login}");
    assert!(
        login.contains("name=\"password\""),
        "local sign-in stays on by default"
    );

    *provider.email.lock().unwrap() = owner.to_string();
    let started = start(&app, &provider).await;
    let params = &started.params;
    assert_eq!(params["response_type"], "code");
    assert_eq!(params["client_id"], CLIENT_ID);
    assert_eq!(
        params["redirect_uri"],
        format!("{}/console/sso/callback", app.base_url)
    );
    assert_eq!(params["code_challenge_method"], "S256");
    let scopes: Vec<&str> = params["scope"].split(' ').collect();
    assert!(
        ["openid", "email", "profile"]
            .iter()
            .all(|s| scopes.contains(s)),
        "{scopes:?}"
    );
    assert!(params["state"].len() >= 16 && params["nonce"].len() >= 16);
    let query = format!("code=the-code&state={}", params["state"]);
    let response = callback(&app, Some(&started.cookie), &query).await;
    // The pending sign-in is forgotten, whatever the outcome.
    let cleared = set_cookie(&response, "consoled_sso").unwrap();
    assert_eq!(cleared, "consoled_sso=");
    let session = assert_signed_in(&app, response, owner).await;

    // The code went to the token endpoint with the PKCE verifier, the client by HTTP Basic.
    let (form, auth) = provider.token_requests.lock().unwrap()[0].clone();
    let field = |name: &str| form.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    assert_eq!(field("code").as_deref(), Some("the-code"));
    assert_eq!(field("grant_type").as_deref(), Some("authorization_code"));
    let verifier = field("code_verifier").expect("a PKCE verifier");
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(sha2::Sha256::digest(verifier.as_bytes()));
    assert_eq!(challenge, params["code_challenge"]);
    let basic =
        base64::engine::general_purpose::STANDARD.encode(format!("{CLIENT_ID}:{CLIENT_SECRET}"));
    assert_eq!(auth, format!("Basic {basic}"));

    // The same answer again (a replayed callback) finds no pending sign-in.
    let replay = callback(
        &app,
        Some(&started.cookie.replace("consoled_sso=", "consoled_sso=x")),
        &query,
    )
    .await;
    assert_refused(replay, "state").await;
    let replay = callback(&app, None, &query).await;
    assert_refused(replay, "state").await;

    // Signing out ends the session and goes to the provider's logout.
    let logout_page = no_redirects()
        .get(app.url("/console"))
        .header(COOKIE, &session)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = logout_page
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    let response = no_redirects()
        .post(app.url("/console/logout"))
        .header(COOKIE, &session)
        .header("origin", &app.base_url)
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let location = url::Url::parse(response.headers()[LOCATION].to_str().unwrap()).unwrap();
    assert_eq!(
        location.as_str().split('?').next().unwrap(),
        format!("{}/logout", provider.issuer)
    );
    let logout: std::collections::HashMap<String, String> =
        location.query_pairs().into_owned().collect();
    assert_eq!(logout["client_id"], CLIENT_ID);
    assert_eq!(
        logout["post_logout_redirect_uri"],
        format!("{}/console/login", app.base_url)
    );
    let after = no_redirects()
        .get(app.url("/console"))
        .header(COOKIE, &session)
        .send()
        .await
        .unwrap();
    assert_eq!(
        after.status(),
        StatusCode::SEE_OTHER,
        "the session has ended"
    );

    let records = activity(&app).await;
    assert!(
        records.iter().any(|r| r.contains(&format!(
            "{owner} signed in to the console with single sign-on"
        ))),
        "{records:?}"
    );
}

#[tokio::test]
async fn the_callback_refuses_what_does_not_verify() {
    let provider = start_provider().await;
    let app = app_with(&provider, &[]).await;
    let owner = "owner@consoled.local";
    *provider.email.lock().unwrap() = owner.to_string();

    // A tampered state.
    let started = start(&app, &provider).await;
    let response = callback(&app, Some(&started.cookie), "code=the-code&state=forged").await;
    assert_refused(response, "state").await;
    // The provider's error response.
    let started = start(&app, &provider).await;
    let query = format!(
        "error=access_denied&error_description=%3Cscript%3E&state={}",
        started.params["state"]
    );
    let response = callback(&app, Some(&started.cookie), &query).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let html = response.text().await.unwrap();
    assert!(
        html.contains("access_denied") && !html.contains("<script>"),
        "{html}"
    );
    // The code refused at the token endpoint (used already, expired).
    *provider.answer.lock().unwrap() = Answer::Error("invalid_grant");
    assert_refused(
        sign_in_as(&app, &provider, owner).await,
        "could not be verified",
    )
    .await;
    // ID tokens that must not pass.
    let now = Timestamp::now().millis() / 1000;
    for (what, claims) in [
        ("another audience", json!({ "aud": "someone-else" })),
        ("expired", json!({ "exp": now - 600, "iat": now - 900 })),
        ("another nonce", json!({ "nonce": "not-the-one" })),
        ("another issuer", json!({ "iss": "http://127.0.0.1:9" })),
    ] {
        *provider.answer.lock().unwrap() = Answer::IdToken(claims);
        let response = sign_in_as(&app, &provider, owner).await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{what}");
        assert_refused(response, "could not be verified").await;
    }
    // Signed by a key the provider does not publish: the keys are read again, then refused.
    *provider.answer.lock().unwrap() = Answer::IdToken(json!({}));
    *provider.rogue.lock().unwrap() = Some(key_set());
    let fetches = *provider.jwks_fetches.lock().unwrap();
    assert_refused(
        sign_in_as(&app, &provider, owner).await,
        "could not be verified",
    )
    .await;
    assert_eq!(*provider.jwks_fetches.lock().unwrap(), fetches + 1);
    // A callback without the pending cookie's partner, and a malformed one.
    assert_refused(callback(&app, None, "code=x&state=y").await, "state").await;
    *provider.rogue.lock().unwrap() = None;
    // Nothing of this signed anyone in.
    let records = activity(&app).await;
    assert!(
        !records.iter().any(|r| r.contains("signed in")),
        "{records:?}"
    );
}

#[tokio::test]
async fn a_rotated_provider_key_is_fetched_and_the_next_sign_in_passes() {
    let provider = start_provider().await;
    let app = app_with(&provider, &[]).await;
    let owner = "owner@consoled.local";
    assert_signed_in(&app, sign_in_as(&app, &provider, owner).await, owner).await;
    let fetches = *provider.jwks_fetches.lock().unwrap();
    // The provider replaces its key: the JWKS consoled holds lacks the new one.
    *provider.keys.lock().unwrap() = key_set();
    assert_signed_in(&app, sign_in_as(&app, &provider, owner).await, owner).await;
    assert_eq!(*provider.jwks_fetches.lock().unwrap(), fetches + 1);
}

#[tokio::test]
async fn emails_map_to_members_invites_and_joins_by_domain() {
    let provider = start_provider().await;
    let app = app_with(
        &provider,
        &[
            "--oidc-auto-join",
            "developer",
            "--oidc-allowed-domains",
            "auto.test",
        ],
    )
    .await;
    let token = app.admin_token().await;
    let org = TestApp::org_of(&token);
    // A pending invite becomes an active member on the first sign-in.
    let invited = "invited@acme.test";
    let response = app
        .call(
            reqwest::Method::POST,
            &format!("/members/{invited}"),
            &token,
            Some(json!({ "orgRoles": ["analyst"] })),
        )
        .await;
    assert!(
        response.status().is_success(),
        "{:?}",
        response.text().await
    );
    assert_signed_in(&app, sign_in_as(&app, &provider, invited).await, invited).await;
    let store = consoled::storage::open(&app.database_url).await.unwrap();
    let member = store.member(&org, invited).await.unwrap().unwrap();
    assert!(!member.invite_pending);
    assert_eq!(member.name, "Stub Person");
    // Emails compare case-insensitively.
    let shouting = "INVITED@ACME.TEST";
    let response = sign_in_as(&app, &provider, shouting).await;
    assert_signed_in(&app, response, invited).await;
    // An unknown email is refused and told whom to ask; the refusal is on record.
    let stranger = "stranger@other.test";
    assert_refused(sign_in_as(&app, &provider, stranger).await, "not a member").await;
    assert!(store.member(&org, stranger).await.unwrap().is_none());
    // An unverified email is refused, even a member's.
    *provider.answer.lock().unwrap() = Answer::IdToken(json!({ "email_verified": false }));
    assert_refused(sign_in_as(&app, &provider, invited).await, "not verified").await;
    *provider.answer.lock().unwrap() = Answer::IdToken(json!({ "email_verified": null }));
    assert_refused(sign_in_as(&app, &provider, invited).await, "not verified").await;
    *provider.answer.lock().unwrap() = Answer::IdToken(json!({ "email": null }));
    assert_refused(sign_in_as(&app, &provider, invited).await, "email").await;
    // Someone of the allowed domain joins with the configured role.
    *provider.answer.lock().unwrap() = Answer::IdToken(json!({}));
    let joiner = "dave@auto.test";
    assert_signed_in(&app, sign_in_as(&app, &provider, joiner).await, joiner).await;
    let joined = store.member(&org, joiner).await.unwrap().unwrap();
    assert_eq!(
        joined.roles,
        vec![consoled::domain::member::OrgRole::Developer]
    );
    // ... but not with an unverified email.
    *provider.answer.lock().unwrap() = Answer::IdToken(json!({ "email_verified": false }));
    assert_refused(
        sign_in_as(&app, &provider, "eve@auto.test").await,
        "not verified",
    )
    .await;
    assert!(store.member(&org, "eve@auto.test").await.unwrap().is_none());

    let records = activity(&app).await;
    for expected in [
        "invited@acme.test accepted the invitation by signing in with single sign-on",
        "Refused a single sign-on of stranger@other.test: not a member",
        "Refused a single sign-on of invited@acme.test: the email is not verified",
        "dave@auto.test joined by single sign-on with the role developer",
        "dave@auto.test signed in to the console with single sign-on",
    ] {
        assert!(
            records.iter().any(|r| r.contains(expected)),
            "{expected:?} in {records:?}"
        );
    }
}

#[tokio::test]
async fn local_sign_in_off_leaves_only_single_sign_on() {
    let provider = start_provider().await;
    let app = app_with(&provider, &["--local-sign-in", "off"]).await;
    let login = reqwest::get(app.url("/console/login"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(login.contains("id=\"sso-sign-in\""));
    assert!(!login.contains("name=\"password\""), "{login}");
    // A password form posted anyway is refused before any password is checked.
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let page = client
        .get(app.url("/console/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let form_token = page
        .split("name=\"form_token\" value=\"")
        .nth(1)
        .map(|rest| rest.split('"').next().unwrap().to_string())
        .unwrap_or_default();
    let response = client
        .post(app.url("/console/login"))
        .header("origin", &app.base_url)
        .form(&[
            ("form_token", form_token.as_str()),
            ("email", "owner@consoled.local"),
            ("password", "whatever-it-is"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert!(set_cookie(&response, "consoled_session").is_none());
    // The owner's first link sets no password: it sends them to single sign-on.
    let link = app.owner_link.clone().expect("the first start's link");
    let page = client.get(&link).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains("Sign in with single sign-on"), "{html}");
    assert!(!html.contains("name=\"password\""), "{html}");
    let response = client
        .post(&link)
        .header("origin", &app.base_url)
        .form(&[
            ("form_token", form_token.as_str()),
            ("password", "a-long-enough-password"),
            ("confirm", "a-long-enough-password"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let store = consoled::storage::open(&app.database_url).await.unwrap();
    assert!(
        store
            .accounts("owner@consoled.local")
            .await
            .unwrap()
            .is_empty(),
        "no password was set"
    );
}

#[tokio::test]
async fn settings_that_cannot_work_are_refused_at_start() {
    let bin = env!("CARGO_BIN_EXE_consoled");
    let dir = tempfile::tempdir().unwrap();
    for (args, expected) in [
        (
            vec!["--local-sign-in", "off"],
            "--local-sign-in off needs --oidc-issuer",
        ),
        (
            vec!["--oidc-issuer", "https://idp.example"],
            "--oidc-client-id",
        ),
        (
            vec![
                "--oidc-issuer",
                "https://idp.example",
                "--oidc-client-id",
                "c",
            ],
            "--oidc-client-secret",
        ),
        (
            vec![
                "--oidc-issuer",
                "https://idp.example",
                "--oidc-client-id",
                "c",
                "--oidc-client-secret",
                "s",
                "--oidc-auto-join",
                "developer",
            ],
            "--oidc-allowed-domains",
        ),
        (vec!["--oidc-issuer", "ftp://idp.example"], "http(s) URL"),
        (
            vec![
                "--oidc-issuer",
                "https://idp.example",
                "--oidc-client-id",
                "c",
                "--oidc-client-secret",
                "s",
                "--oidc-auto-join",
                "owner",
                "--oidc-allowed-domains",
                "a.test",
            ],
            "not a role",
        ),
    ] {
        let output = std::process::Command::new(bin)
            .arg("serve")
            .args(["--listen", "127.0.0.1:0"])
            .args(&args)
            .env("CONSOLED_DATA_DIR", dir.path())
            .env("CONSOLED_MASTER_KEY", crate::helpers::MASTER_KEY)
            .output()
            .unwrap();
        assert!(!output.status.success(), "{args:?} started");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
    }
}
