//! What text the API stores: no NUL anywhere (PostgreSQL cannot store it, and a value
//! SQLite took would stop `consoled migrate`), no control or bidirectional-override
//! characters in names (they reach operators' terminals), while descriptions keep tabs
//! and line breaks. Every refusal is a 400 naming the field, and writes nothing.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::*;

/// Everything a refused request could have changed: the clusters (with their allowlists
/// and descriptions), each cluster's clients, secrets and monitoring clients, the
/// members and the activity.
async fn observable_state(app: &TestApp, token: &str, cluster: &str) -> Vec<String> {
    let mut seen = Vec::new();
    for path in [
        "/clusters".to_string(),
        format!("/clusters/{cluster}/clients"),
        format!("/clusters/{cluster}/secrets"),
        format!("/clusters/{cluster}/monitoring/clients"),
        format!("/clusters/{cluster}/secure-connectivity"),
        "/members".to_string(),
        "/activity/json".to_string(),
    ] {
        let response = app.get(&path, token).await;
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        seen.push(response.text().await.unwrap());
    }
    seen
}

/// A healthy cluster with a secret `KEPT` and monitoring switched on.
async fn prepared_cluster(app: &TestApp, token: &str) -> String {
    let cluster = app.healthy_cluster(token, "target").await;
    let created = app
        .call(
            Method::POST,
            &format!("/clusters/{cluster}/secrets"),
            token,
            Some(json!({"secretName": "KEPT", "secretValue": "v"})),
        )
        .await;
    assert_eq!(created.status(), StatusCode::NO_CONTENT);
    let activated = app
        .send_empty(
            Method::POST,
            &format!("/clusters/{cluster}/monitoring"),
            token,
        )
        .await;
    assert_eq!(activated.status(), StatusCode::NO_CONTENT);
    cluster
}

/// A request whose body carries `text` in one field: the method, the path, the body and
/// the field the 400 must name.
fn requests_carrying(
    text: &str,
    create_cluster_body: &Value,
    cluster: &str,
) -> Vec<(Method, String, Value, &'static str)> {
    let mut named_cluster = create_cluster_body.clone();
    named_cluster["name"] = json!(text);
    vec![
        (Method::POST, "/clusters".into(), named_cluster, "name"),
        (
            Method::PATCH,
            format!("/clusters/{cluster}"),
            json!({ "name": text }),
            "name",
        ),
        (
            Method::POST,
            format!("/clusters/{cluster}/clients"),
            json!({ "clientName": text }),
            "clientName",
        ),
        (
            Method::POST,
            format!("/clusters/{cluster}/secrets"),
            json!({ "secretName": text, "secretValue": "v" }),
            "secretName",
        ),
        (
            Method::POST,
            format!("/clusters/{cluster}/monitoring/clients"),
            json!({ "username": text }),
            "username",
        ),
    ]
}

#[tokio::test]
async fn a_nul_in_any_stored_string_is_400_naming_the_field_and_writes_nothing() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let cluster = prepared_cluster(&app, &token).await;
    let create_body = app.create_cluster_body(&token, "x").await;
    let before = observable_state(&app, &token, &cluster).await;

    let nul = "a\u{0}b";
    let mut cases = requests_carrying(nul, &create_body, &cluster);
    cases.extend([
        (
            Method::PATCH,
            format!("/clusters/{cluster}"),
            json!({ "description": nul }),
            "description",
        ),
        (
            Method::POST,
            format!("/clusters/{cluster}/secrets"),
            json!({ "secretName": "NEW", "secretValue": nul }),
            "secretValue",
        ),
        (
            Method::PUT,
            format!("/clusters/{cluster}/secrets/KEPT"),
            json!({ "secretValue": nul }),
            "secretValue",
        ),
        (
            Method::PUT,
            format!("/clusters/{cluster}/ipallowlist"),
            json!({"ipallowlist": [{"ip": "10.0.0.0/8", "description": "ok"},
                                   {"ip": "10.1.0.0/16", "description": nul}]}),
            "ipallowlist[1].description",
        ),
        (
            Method::PUT,
            format!("/clusters/{cluster}/ipwhitelist"),
            json!({"ipwhitelist": [{"ip": "10.0.0.0/8", "description": nul}]}),
            "ipwhitelist[0].description",
        ),
        (
            Method::PUT,
            format!("/clusters/{cluster}/ipallowlist"),
            json!({"ipallowlist": [{"ip": nul, "description": "ok"}]}),
            "ipallowlist[0].ip",
        ),
        (
            Method::POST,
            format!("/clusters/{cluster}/secure-connectivity"),
            json!({"allowedPrincipals": [nul], "allowedRegions": ["us-east-1"]}),
            "allowedPrincipals",
        ),
        (
            Method::POST,
            format!("/clusters/{cluster}/secure-connectivity"),
            json!({"allowedPrincipals": ["123456789012"], "allowedRegions": [nul]}),
            "allowedRegions",
        ),
        (
            Method::POST,
            "/members/a%00b@example.com".into(),
            json!({"orgRoles": ["developer"]}),
            "email",
        ),
    ]);
    for (method, path, body, field) in cases {
        let response = app
            .call(method.clone(), &path, &token, Some(body.clone()))
            .await;
        let message = assert_error(response, StatusCode::BAD_REQUEST).await;
        assert!(
            message.contains(field),
            "{method} {path} {body}: {message:?} should name {field}"
        );
    }
    assert_eq!(observable_state(&app, &token, &cluster).await, before);
}

#[tokio::test]
async fn a_nul_in_a_path_or_a_credential_is_refused_not_a_server_error() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let cluster = prepared_cluster(&app, &token).await;
    let before = observable_state(&app, &token, &cluster).await;

    // A path segment cannot name anything stored once it holds a NUL.
    for (method, path) in [
        (Method::GET, "/clusters/a%00b".to_string()),
        (Method::DELETE, "/clusters/a%00b".to_string()),
        (Method::GET, format!("/clusters/{cluster}/clients/a%00b")),
        (Method::DELETE, format!("/clusters/{cluster}/secrets/a%00b")),
        (Method::DELETE, "/members/a%00b@example.com".to_string()),
    ] {
        let response = app.call(method.clone(), &path, &token, None).await;
        let message = assert_error(response, StatusCode::BAD_REQUEST).await;
        assert!(message.contains("U+0000"), "{method} {path}: {message}");
    }
    let update = app
        .call(
            Method::PUT,
            &format!("/clusters/{cluster}/secrets/a%00b"),
            &token,
            Some(json!({"secretValue": "v"})),
        )
        .await;
    assert_error(update, StatusCode::BAD_REQUEST).await;

    // Credentials with a NUL are simply wrong, like any unknown client or user.
    let token_response = app
        .http
        .post(app.url("/oauth/token"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", "a\u{0}b"),
            ("client_secret", "whatever"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(token_response.status(), StatusCode::UNAUTHORIZED);
    let scrape = app
        .http
        .get(app.url(&format!("/monitoring/{cluster}/metrics")))
        .basic_auth("a\u{0}b", Some("whatever"))
        .send()
        .await
        .unwrap();
    assert_eq!(scrape.status(), StatusCode::UNAUTHORIZED);

    assert_eq!(observable_state(&app, &token, &cluster).await, before);
}

/// C0 and C1 controls, DEL, line breaks, and the characters that reorder text on screen.
const REFUSED_IN_NAMES: &[(&str, char)] = &[
    ("ESC", '\u{1b}'),
    ("BEL", '\u{7}'),
    ("tab", '\t'),
    ("LF", '\n'),
    ("CR", '\r'),
    ("DEL", '\u{7f}'),
    ("C1 CSI", '\u{9b}'),
    ("NEL", '\u{85}'),
    ("LRE", '\u{202a}'),
    ("RLO", '\u{202e}'),
    ("LRI", '\u{2066}'),
    ("PDI", '\u{2069}'),
    ("LRM", '\u{200e}'),
    ("RLM", '\u{200f}'),
    ("ALM", '\u{61c}'),
    ("line separator", '\u{2028}'),
];

#[tokio::test]
async fn control_and_bidi_characters_in_names_are_400_naming_the_field() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let cluster = prepared_cluster(&app, &token).await;
    let create_body = app.create_cluster_body(&token, "x").await;
    let before = observable_state(&app, &token, &cluster).await;

    for (label, c) in REFUSED_IN_NAMES {
        let name = format!("evil{c}name");
        for (method, path, body, field) in requests_carrying(&name, &create_body, &cluster) {
            let response = app.call(method.clone(), &path, &token, Some(body)).await;
            let message = assert_error(response, StatusCode::BAD_REQUEST).await;
            assert!(
                message.contains(field),
                "{label} in {method} {path}: {message:?} should name {field}"
            );
            // The message shows the character escaped, never raw.
            assert!(!message.contains(*c), "{label}: {message:?}");
        }
    }
    assert_eq!(observable_state(&app, &token, &cluster).await, before);

    // Letters of every script, emoji with joiners and punctuation stay accepted.
    for name in ["Ünïcödé клъстер", "שלום עולם", "👩‍💻 team", "a-b_c.d (prod)"]
    {
        let response = app
            .call(
                Method::PATCH,
                &format!("/clusters/{cluster}"),
                &token,
                Some(json!({ "name": name })),
            )
            .await;
        assert_eq!(response.status(), StatusCode::NO_CONTENT, "{name}");
        let client = app
            .call(
                Method::POST,
                &format!("/clusters/{cluster}/clients"),
                &token,
                Some(json!({ "clientName": name })),
            )
            .await;
        assert_eq!(client.status(), StatusCode::OK, "{name}");
    }
}

#[tokio::test]
async fn descriptions_keep_tabs_and_line_breaks_but_refuse_other_controls() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let cluster = app.create_cluster(&token, "described").await;
    let path = format!("/clusters/{cluster}");

    let multi_line = "first line\r\nsecond\tline\nשלום \u{202b}embedded\u{202c}";
    let response = app
        .call(
            Method::PATCH,
            &path,
            &token,
            Some(json!({ "description": multi_line })),
        )
        .await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let allowlist = app
        .call(
            Method::PUT,
            &format!("/clusters/{cluster}/ipallowlist"),
            &token,
            Some(json!({"ipallowlist": [{"ip": "10.0.0.0/8", "description": "office\tVPN\n"}]})),
        )
        .await;
    assert_eq!(allowlist.status(), StatusCode::NO_CONTENT);
    let shown = app.cluster_json(&token, &cluster).await;
    assert_eq!(shown["ipallowlist"][0]["description"], "office\tVPN\n");
    let activity = app.activity(&token).await;
    assert!(
        activity
            .iter()
            .any(|e| e["entityAttributeValueTo"] == multi_line),
        "the description is stored as sent"
    );

    let before = observable_state(&app, &token, &cluster).await;
    for c in ['\u{1b}', '\u{7}', '\u{7f}', '\u{9b}', '\u{0}'] {
        let description = format!("colour {c}[31m");
        let response = app
            .call(
                Method::PATCH,
                &path,
                &token,
                Some(json!({ "description": description })),
            )
            .await;
        let message = assert_error(response, StatusCode::BAD_REQUEST).await;
        assert!(message.contains("description"), "{c:?}: {message}");
        let response = app
            .call(
                Method::PUT,
                &format!("/clusters/{cluster}/ipallowlist"),
                &token,
                Some(json!({"ipallowlist": [{"ip": "10.0.0.0/8", "description": description}]})),
            )
            .await;
        let message = assert_error(response, StatusCode::BAD_REQUEST).await;
        assert!(
            message.contains("ipallowlist[0].description"),
            "{c:?}: {message}"
        );
    }
    assert_eq!(observable_state(&app, &token, &cluster).await, before);
}
