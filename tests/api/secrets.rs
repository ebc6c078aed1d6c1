//! `/clusters/{uuid}/secrets`: connector secrets.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::*;

async fn create_secret(
    app: &TestApp,
    token: &str,
    cluster: &str,
    name: &str,
    value: &str,
) -> reqwest::Response {
    app.call(
        Method::POST,
        &format!("/clusters/{cluster}/secrets"),
        token,
        Some(json!({"secretName": name, "secretValue": value})),
    )
    .await
}

async fn update_secret(
    app: &TestApp,
    token: &str,
    cluster: &str,
    name: &str,
    value: &str,
) -> reqwest::Response {
    app.call(
        Method::PUT,
        &format!("/clusters/{cluster}/secrets/{name}"),
        token,
        Some(json!({"secretValue": value})),
    )
    .await
}

async fn delete_secret(app: &TestApp, token: &str, cluster: &str, name: &str) -> reqwest::Response {
    app.call(
        Method::DELETE,
        &format!("/clusters/{cluster}/secrets/{name}"),
        token,
        None,
    )
    .await
}

async fn secrets(app: &TestApp, token: &str, cluster: &str) -> Value {
    let response = app
        .get(&format!("/clusters/{cluster}/secrets"), token)
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

/// Checks that no value is in the database in plain text. On SQLite that is the database
/// file and its write-ahead log, byte by byte; on PostgreSQL (whose files are not ours to
/// read) the stored rows.
async fn assert_not_at_rest(app: &TestApp, org_id: &str, cluster_id: &str, values: &[&str]) {
    let store = consoled::storage::open(&app.database_url).await.unwrap();
    let stored = store.connector_secrets(org_id, cluster_id).await.unwrap();
    assert!(!stored.is_empty());
    for secret in &stored {
        for value in values {
            assert!(!contains(&secret.sealed_value, value), "{value} is stored");
        }
    }
    if !app.database_url.starts_with("sqlite:") {
        return;
    }
    let mut on_disk = Vec::new();
    for file in ["consoled.db", "consoled.db-wal"] {
        if let Ok(content) = std::fs::read(app.data_dir.path().join(file)) {
            on_disk.extend(content);
        }
    }
    assert!(
        contains(&on_disk, &stored[0].name),
        "the check reads the right files"
    );
    for value in values {
        assert!(
            !contains(&on_disk, value),
            "{value} is stored in plain text"
        );
    }
}

#[tokio::test]
async fn secrets_are_created_listed_updated_and_deleted() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let id = app.create_cluster(&token, "c").await;
    assert_eq!(secrets(&app, &token, &id).await, json!({}));

    assert_no_content(create_secret(&app, &token, &id, "API_KEY", "v1").await).await;
    assert_no_content(create_secret(&app, &token, &id, "_other9", "").await).await;
    assert_eq!(
        secrets(&app, &token, &id).await,
        json!({"API_KEY": "v1", "_other9": ""})
    );
    // The trailing-slash form lists too.
    assert_eq!(
        app.get(&format!("/clusters/{id}/secrets/"), &token)
            .await
            .status(),
        StatusCode::OK
    );

    // A duplicate is 409 and does not overwrite; names are case-sensitive.
    let message = assert_error(
        create_secret(&app, &token, &id, "API_KEY", "again").await,
        StatusCode::CONFLICT,
    )
    .await;
    assert!(message.contains("API_KEY"), "{message}");
    assert_no_content(create_secret(&app, &token, &id, "api_key", "lower").await).await;

    assert_no_content(update_secret(&app, &token, &id, "API_KEY", "v2 with spaces & ü").await)
        .await;
    assert_eq!(
        secrets(&app, &token, &id).await,
        json!({"API_KEY": "v2 with spaces & ü", "_other9": "", "api_key": "lower"})
    );

    assert_no_content(delete_secret(&app, &token, &id, "API_KEY").await).await;
    assert_eq!(
        secrets(&app, &token, &id).await,
        json!({"_other9": "", "api_key": "lower"})
    );
    assert_error(
        update_secret(&app, &token, &id, "API_KEY", "v3").await,
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_error(
        delete_secret(&app, &token, &id, "API_KEY").await,
        StatusCode::NOT_FOUND,
    )
    .await;
    // Once deleted, the name can be used again.
    assert_no_content(create_secret(&app, &token, &id, "API_KEY", "v4").await).await;
    assert_eq!(secrets(&app, &token, &id).await["API_KEY"], "v4");
}

#[tokio::test]
async fn invalid_secrets_are_400_and_nothing_is_written() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let id = app.create_cluster(&token, "c").await;

    let fifty = "S".repeat(50);
    let message = assert_error(
        create_secret(&app, &token, &id, &fifty, "x").await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert!(message.contains("less than 50"), "{message}");
    // Empty, whitespace, controls and characters that reorder text on screen.
    for bad in [
        "",
        "MY SECRET",
        " LEADING",
        "TRAILING ",
        "TAB\tNAME",
        "LINE\nBREAK",
        "NUL\u{0}NAME",
        "ESC\u{1b}[31m",
        "C1\u{9b}NAME",
        "NO\u{a0}BREAK",
        "RLO\u{202e}NAME",
        "LRI\u{2066}NAME",
        "RLM\u{200f}NAME",
    ] {
        let message = assert_error(
            create_secret(&app, &token, &id, bad, "x").await,
            StatusCode::BAD_REQUEST,
        )
        .await;
        assert!(message.contains("secretName"), "{bad:?}: {message}");
    }
    let path = format!("/clusters/{id}/secrets");
    for body in [
        json!({"secretName": "A"}),
        json!({"secretValue": "x"}),
        json!({"secretName": "A", "secretValue": 5}),
        json!({"secretName": "A", "secretValue": "x", "extra": 1}),
    ] {
        assert_error(
            app.call(Method::POST, &path, &token, Some(body)).await,
            StatusCode::BAD_REQUEST,
        )
        .await;
    }
    assert_eq!(secrets(&app, &token, &id).await, json!({}));

    // 49 characters is fine.
    assert_no_content(create_secret(&app, &token, &id, &"S".repeat(49), "x").await).await;

    let update_path = format!("/clusters/{id}/secrets/{}", "S".repeat(49));
    for body in [json!({}), json!({"secretValue": "y", "secretName": "B"})] {
        assert_error(
            app.call(Method::PUT, &update_path, &token, Some(body))
                .await,
            StatusCode::BAD_REQUEST,
        )
        .await;
    }
    assert_eq!(secrets(&app, &token, &id).await[&"S".repeat(49)], "x");
}

/// The Terraform provider's documented example names its secret `my-key-of-secret`; the
/// reference limits a name only by its length.
#[tokio::test]
async fn names_with_hyphens_dots_and_other_printable_characters_work_everywhere() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let id = app.create_cluster(&token, "c").await;
    let names = [
        "my-key-of-secret",
        "a.b-c",
        "1ABC",
        "ÄBC",
        "a+b",
        "a/b",
        "x@y:z",
    ];
    for name in names {
        assert_no_content(create_secret(&app, &token, &id, name, "v1").await).await;
    }
    let listed = secrets(&app, &token, &id).await;
    for name in names {
        assert_eq!(listed[name], "v1", "{name} in {listed}");
    }
    // In paths: raw as the SDK sends them, or percent-encoded (`/` has to be).
    let in_path = |name: &str| {
        percent_encoding::utf8_percent_encode(name, percent_encoding::NON_ALPHANUMERIC).to_string()
    };
    assert_no_content(update_secret(&app, &token, &id, "my-key-of-secret", "v2").await).await;
    assert_no_content(update_secret(&app, &token, &id, "a.b-c", "v2").await).await;
    assert_no_content(update_secret(&app, &token, &id, &in_path("a/b"), "v2").await).await;
    assert_no_content(update_secret(&app, &token, &id, &in_path("ÄBC"), "v2").await).await;
    let listed = secrets(&app, &token, &id).await;
    for name in ["my-key-of-secret", "a.b-c", "a/b", "ÄBC"] {
        assert_eq!(listed[name], "v2", "{name} in {listed}");
    }
    assert_eq!(listed["a+b"], "v1");
    // A duplicate is still 409.
    assert_error(
        create_secret(&app, &token, &id, "my-key-of-secret", "again").await,
        StatusCode::CONFLICT,
    )
    .await;
    assert_no_content(delete_secret(&app, &token, &id, "my-key-of-secret").await).await;
    assert_no_content(delete_secret(&app, &token, &id, "a.b-c").await).await;
    assert_no_content(delete_secret(&app, &token, &id, &in_path("a/b")).await).await;
    let listed = secrets(&app, &token, &id).await;
    assert_eq!(
        listed,
        json!({"1ABC": "v1", "ÄBC": "v2", "a+b": "v1", "x@y:z": "v1"})
    );
}

#[tokio::test]
async fn the_number_of_secrets_per_cluster_is_limited() {
    let app = TestApp::spawn_with(&["--max-secrets-per-cluster", "2"]).await;
    let token = app.admin_token().await;
    let id = app.create_cluster(&token, "c").await;
    let other_cluster = app.create_cluster(&token, "d").await;
    assert_no_content(create_secret(&app, &token, &id, "A", "1").await).await;
    assert_no_content(create_secret(&app, &token, &id, "B", "2").await).await;
    let message = assert_error(
        create_secret(&app, &token, &id, "C", "3").await,
        StatusCode::FORBIDDEN,
    )
    .await;
    assert!(message.contains("maximum"), "{message}");
    assert_eq!(
        secrets(&app, &token, &id).await,
        json!({"A": "1", "B": "2"})
    );
    // The limit is per cluster, and freeing a slot makes room again.
    assert_no_content(create_secret(&app, &token, &other_cluster, "C", "3").await).await;
    assert_no_content(delete_secret(&app, &token, &id, "A").await).await;
    assert_no_content(create_secret(&app, &token, &id, "C", "3").await).await;
}

#[tokio::test]
async fn names_in_paths_are_percent_decoded() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let id = app.create_cluster(&token, "c").await;
    assert_no_content(create_secret(&app, &token, &id, "MY_NAME", "v1").await).await;
    // `%5F` is `_`; the SDK sends names raw, other clients encode them.
    assert_no_content(update_secret(&app, &token, &id, "MY%5FNAME", "v2").await).await;
    assert_eq!(secrets(&app, &token, &id).await["MY_NAME"], "v2");
    // Names that are not there are simply not found; `+` is not a space.
    for absent in ["MY%20NAME", "MY+NAME", "%C3%84"] {
        assert_error(
            update_secret(&app, &token, &id, absent, "x").await,
            StatusCode::NOT_FOUND,
        )
        .await;
    }
    // A segment that is not UTF-8 once decoded is a 400 in the API's error shape.
    assert_error(
        update_secret(&app, &token, &id, "%FF", "x").await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_no_content(delete_secret(&app, &token, &id, "MY%5FNAME").await).await;
    assert_eq!(secrets(&app, &token, &id).await, json!({}));
}

#[tokio::test]
async fn values_are_encrypted_at_rest_and_survive_a_restart() {
    let mut app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let id = app.create_cluster(&token, "c").await;
    let first = "plaintext-canary-7f3a9c1e-first-value";
    let second = "plaintext-canary-0b5d2e88-second-value";
    let replaced = "plaintext-canary-4e6f1a2b-replaced-value";
    assert_no_content(create_secret(&app, &token, &id, "FIRST", replaced).await).await;
    assert_no_content(update_secret(&app, &token, &id, "FIRST", first).await).await;
    assert_no_content(create_secret(&app, &token, &id, "SECOND", second).await).await;

    let org = TestApp::org_of(&token);
    assert_not_at_rest(&app, &org, &id, &[first, second, replaced]).await;

    app.restart().await;
    assert_eq!(
        secrets(&app, &token, &id).await,
        json!({"FIRST": first, "SECOND": second})
    );
    assert_not_at_rest(&app, &org, &id, &[first, second, replaced]).await;
}

#[tokio::test]
async fn a_sealed_value_moved_to_another_row_does_not_decrypt() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let id = app.create_cluster(&token, "c").await;
    assert_no_content(create_secret(&app, &token, &id, "A", "value-a").await).await;
    assert_no_content(create_secret(&app, &token, &id, "B", "value-b").await).await;
    // Someone with write access to the database swaps the ciphertexts.
    app.execute_sql(
        "UPDATE connector_secrets SET sealed_value = \
         (SELECT sealed_value FROM connector_secrets WHERE name = 'B') WHERE name = 'A'",
        &[],
    )
    .await;
    let response = app.get(&format!("/clusters/{id}/secrets"), &token).await;
    let message = assert_error(response, StatusCode::INTERNAL_SERVER_ERROR).await;
    assert_eq!(message, "internal server error");
}

#[tokio::test]
async fn audit_records_name_the_secret_but_never_its_value() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let id = app.create_cluster(&token, "c").await;
    let values = ["audit-canary-created-91d2", "audit-canary-updated-3c7e"];
    assert_no_content(create_secret(&app, &token, &id, "AUDITED", values[0]).await).await;
    assert_no_content(update_secret(&app, &token, &id, "AUDITED", values[1]).await).await;
    assert_no_content(delete_secret(&app, &token, &id, "AUDITED").await).await;

    let events = app.activity(&token).await;
    let secret_events: Vec<_> = events.iter().filter(|e| e["entity"] == "secret").collect();
    let kinds: Vec<_> = secret_events
        .iter()
        .map(|e| {
            (
                e["auditType"].as_str().unwrap(),
                e["entityId"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        kinds,
        vec![("d", "AUDITED"), ("u", "AUDITED"), ("c", "AUDITED")]
    );
    for event in &secret_events {
        assert_eq!(event["parentEntityId"], id.as_str());
        assert_eq!(event["userId"], CLIENT_ID);
    }
    let everything = format!("{events:?}");
    for value in values {
        assert!(!everything.contains(value), "{value} is in the audit trail");
    }
}

#[tokio::test]
async fn another_organization_gets_404_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let id = app.create_cluster(&token, "c").await;
    assert_no_content(create_secret(&app, &token, &id, "MINE", "v").await).await;
    let other = app.other_org_token().await;

    assert_error(
        app.get(&format!("/clusters/{id}/secrets"), &other).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_error(
        create_secret(&app, &other, &id, "THEIRS", "x").await,
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_error(
        update_secret(&app, &other, &id, "MINE", "x").await,
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_error(
        delete_secret(&app, &other, &id, "MINE").await,
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_eq!(secrets(&app, &token, &id).await, json!({"MINE": "v"}));

    for response in [
        app.get("/clusters/no-such-cluster/secrets", &token).await,
        create_secret(&app, &token, "no-such-cluster", "A", "x").await,
        update_secret(&app, &token, "no-such-cluster", "A", "x").await,
        delete_secret(&app, &token, "no-such-cluster", "A").await,
    ] {
        let message = assert_error(response, StatusCode::NOT_FOUND).await;
        assert!(message.contains("cluster"), "{message}");
    }
}

#[tokio::test]
async fn each_operation_needs_its_scope() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let id = app.create_cluster(&token, "c").await;
    assert_no_content(create_secret(&app, &token, &id, "S", "v").await).await;
    let narrow = app.scoped_token("get:clusters").await;
    let attempts = [
        (
            app.get(&format!("/clusters/{id}/secrets"), &narrow).await,
            "get:secrets",
        ),
        (
            create_secret(&app, &narrow, &id, "T", "v").await,
            "create:secrets",
        ),
        (
            update_secret(&app, &narrow, &id, "S", "w").await,
            "update:secrets",
        ),
        (
            delete_secret(&app, &narrow, &id, "S").await,
            "delete:secrets",
        ),
    ];
    for (response, scope) in attempts {
        let message = assert_error(response, StatusCode::FORBIDDEN).await;
        assert!(message.contains(scope), "{message}");
    }
    assert_eq!(secrets(&app, &token, &id).await, json!({"S": "v"}));

    let all = app
        .scoped_token("get:secrets create:secrets update:secrets delete:secrets")
        .await;
    assert_no_content(create_secret(&app, &all, &id, "T", "v").await).await;
    assert_no_content(update_secret(&app, &all, &id, "T", "w").await).await;
    assert_eq!(secrets(&app, &all, &id).await["T"], "w");
    assert_no_content(delete_secret(&app, &all, &id, "T").await).await;
}

// That no value reaches the log, at any level, is part of `secrecy.rs`'s whole-flow test.
