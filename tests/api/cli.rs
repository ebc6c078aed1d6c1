//! The operator CLI: the real binary against the running test server's data dir.

use std::process::Output;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::*;

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

/// Asserts success and parses stdout as JSON.
fn json_of(output: &Output) -> Value {
    assert!(
        output.status.success(),
        "consoled failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("stdout is JSON")
}

/// Asserts failure with `needle` in the error message, and nothing on stdout.
fn assert_fails(output: &Output, needle: &str) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "should fail: {}", stdout(output));
    assert!(stderr.contains(needle), "{needle:?} not in {stderr}");
    assert!(output.stdout.is_empty(), "{}", stdout(output));
}

async fn console_token(app: &TestApp, credentials: &Value) -> String {
    app.token_for(
        credentials["clientId"].as_str().unwrap(),
        credentials["clientSecret"].as_str().unwrap(),
        "api.cloud.camunda.io",
    )
    .await
}

#[tokio::test]
async fn a_cli_client_can_do_exactly_what_it_was_granted() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let created = json_of(
        &app.consoled(&[
            "api-clients",
            "create",
            "--name",
            "reader",
            "--scopes",
            "get:clusters,get:members",
        ])
        .await,
    );
    let keys: Vec<&str> = created
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys, ["clientId", "clientSecret", "orgId", "scopes"]);
    assert_eq!(created["orgId"], TestApp::org_of(&admin));
    assert_eq!(created["scopes"], json!(["get:clusters", "get:members"]));

    let token = console_token(&app, &created).await;
    assert_eq!(app.get("/clusters", &token).await.status(), StatusCode::OK);
    assert_eq!(app.get("/members", &token).await.status(), StatusCode::OK);
    for (method, path) in [
        (Method::GET, "/activity/json"),
        (Method::DELETE, "/members/someone@example.com"),
        (
            Method::DELETE,
            "/clusters/00000000-0000-4000-8000-000000000000",
        ),
    ] {
        let refused = app.call(method, path, &token, None).await;
        assert_error(refused, StatusCode::FORBIDDEN).await;
    }

    // The secret is shown once: listings never carry it.
    let secret = created["clientSecret"].as_str().unwrap();
    let client_id = created["clientId"].as_str().unwrap();
    let table = stdout(&app.consoled(&["api-clients", "list"]).await);
    assert!(table.starts_with("CLIENT ID"), "{table}");
    assert!(table.contains(client_id) && table.contains("get:clusters get:members"));
    let listed = json_of(&app.consoled(&["api-clients", "list", "--json"]).await);
    let entry = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["clientId"] == client_id)
        .unwrap();
    assert_eq!(entry["name"], "reader");
    assert_eq!(entry["scopes"], json!(["get:clusters", "get:members"]));
    for text in [&table, &listed.to_string()] {
        assert!(!text.contains(secret));
        assert!(!text.contains(CLIENT_SECRET));
    }

    // The change is on record, as the operator's, without the secret.
    let events = app.activity(&admin).await;
    assert_eq!(events[0]["entity"], "apiClient");
    assert_eq!(events[0]["entityId"], client_id);
    assert_eq!(events[0]["auditType"], "c");
    assert_eq!(events[0]["userId"], "operator");
    assert!(!serde_json::to_string(&events).unwrap().contains(secret));
}

#[tokio::test]
async fn rotate_revokes_live_tokens_on_the_running_server() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let created = json_of(
        &app.consoled(&["api-clients", "create", "--name", "ci", "--scopes", "all"])
            .await,
    );
    let client_id = created["clientId"].as_str().unwrap();
    let old_token = console_token(&app, &created).await;
    assert_eq!(
        app.get("/clusters", &old_token).await.status(),
        StatusCode::OK
    );

    let rotated = json_of(&app.consoled(&["api-clients", "rotate", client_id]).await);
    assert_eq!(rotated["clientId"], client_id);
    assert_eq!(rotated["orgId"], created["orgId"]);
    assert_eq!(rotated["scopes"], created["scopes"]);
    assert_ne!(rotated["clientSecret"], created["clientSecret"]);

    // The token issued before the rotation fails on its very next request.
    assert_error(
        app.get("/clusters", &old_token).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    let old_secret = app
        .http
        .post(app.url("/oauth/token"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", client_id),
            ("client_secret", created["clientSecret"].as_str().unwrap()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(old_secret.status(), StatusCode::UNAUTHORIZED);
    let new_token = console_token(&app, &rotated).await;
    assert_eq!(
        app.get("/clusters", &new_token).await.status(),
        StatusCode::OK
    );

    let events = app.activity(&admin).await;
    assert_eq!(events[0]["auditType"], "u");
    assert_eq!(events[0]["entityId"], client_id);
    assert_eq!(events[0]["userId"], "operator");
    assert_eq!(events[0]["entityAttribute"], "secretGeneration");
    assert_eq!(events[0]["entityAttributeValueFrom"], "1");
    assert_eq!(events[0]["entityAttributeValueTo"], "2");
    let csv = app.get("/activity/csv", &admin).await.text().await.unwrap();
    for secret in [&created["clientSecret"], &rotated["clientSecret"]] {
        assert!(!csv.contains(secret.as_str().unwrap()));
    }

    assert_fails(
        &app.consoled(&["api-clients", "rotate", "no-such-client"])
            .await,
        "no Console API client",
    );
}

#[tokio::test]
async fn delete_revokes_live_tokens_on_the_running_server() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let created = json_of(
        &app.consoled(&[
            "api-clients",
            "create",
            "--name",
            "gone",
            "--scopes",
            "get:clusters",
        ])
        .await,
    );
    let client_id = created["clientId"].as_str().unwrap();
    let token = console_token(&app, &created).await;
    assert_eq!(app.get("/clusters", &token).await.status(), StatusCode::OK);

    let deleted = app.consoled(&["api-clients", "delete", client_id]).await;
    assert!(deleted.status.success());
    assert!(stdout(&deleted).contains(client_id));
    assert_error(app.get("/clusters", &token).await, StatusCode::UNAUTHORIZED).await;
    let listed = json_of(&app.consoled(&["api-clients", "list", "--json"]).await);
    assert!(!listed.to_string().contains(client_id));

    let events = app.activity(&admin).await;
    assert_eq!(events[0]["auditType"], "d");
    assert_eq!(events[0]["entityId"], client_id);
    assert_eq!(events[0]["userId"], "operator");

    assert_fails(
        &app.consoled(&["api-clients", "delete", client_id]).await,
        "no Console API client",
    );
    assert_eq!(
        app.activity(&admin).await,
        events,
        "a failed delete is not recorded"
    );
}

#[tokio::test]
async fn orgs_are_created_with_their_owner_and_listed() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let created = json_of(
        &app.consoled(&[
            "orgs",
            "create",
            "--name",
            "Acme",
            "--owner-email",
            "Boss@Acme.example",
            "--json",
        ])
        .await,
    );
    let org = &created;
    let org_id = org["id"].as_str().unwrap();
    assert_eq!(org["name"], "Acme");
    assert_eq!(org["ownerEmail"], "boss@acme.example");

    let table = stdout(&app.consoled(&["orgs", "list"]).await);
    let lines: Vec<&str> = table.lines().collect();
    assert!(
        lines[0].starts_with("ID") && lines[0].contains("OWNER"),
        "{table}"
    );
    assert_eq!(lines.len(), 3, "{table}");
    assert!(lines[1].contains("Default organization") && lines[1].contains("owner@consoled.local"));
    assert!(lines[2].contains(org_id) && lines[2].contains("boss@acme.example"));

    // A client of the new organization sees its owner and its activity, nothing of the first.
    let credentials = json_of(
        &app.consoled(&[
            "api-clients",
            "create",
            "--name",
            "acme",
            "--scopes",
            "all",
            "--org",
            org_id,
        ])
        .await,
    );
    assert_eq!(credentials["orgId"], org_id);
    let token = console_token(&app, &credentials).await;
    let members: Value = app.get("/members", &token).await.json().await.unwrap();
    assert_eq!(
        members,
        json!([{"name": "boss@acme.example", "email": "boss@acme.example",
                "roles": ["owner"], "invitePending": false}])
    );
    let events = app.activity(&token).await;
    let kinds: Vec<(&Value, &Value)> = events
        .iter()
        .map(|e| (&e["entity"], &e["auditType"]))
        .collect();
    assert_eq!(
        kinds,
        [
            (&json!("apiClient"), &json!("c")),
            (&json!("organization"), &json!("c"))
        ]
    );
    assert!(events.iter().all(|e| e["userId"] == "operator"));
    assert!(app
        .activity(&admin)
        .await
        .iter()
        .all(|e| e["orgId"] != org_id));
    let listed = json_of(
        &app.consoled(&["api-clients", "list", "--org", org_id, "--json"])
            .await,
    );
    assert_eq!(listed.as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn bad_cli_input_fails_clearly_and_writes_nothing() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let before = app.activity(&admin).await;
    let orgs_before = stdout(&app.consoled(&["orgs", "list"]).await);
    let cases: [(&[&str], &str); 8] = [
        (
            &[
                "api-clients",
                "create",
                "--name",
                "x",
                "--scopes",
                "get:clusters,fly:rockets",
            ],
            "unknown scope \"fly:rockets\"",
        ),
        (
            &["api-clients", "create", "--name", "x", "--scopes", ","],
            "at least one scope",
        ),
        (
            &["api-clients", "create", "--name", " ", "--scopes", "all"],
            "name must not be empty",
        ),
        (
            &[
                "api-clients",
                "create",
                "--name",
                "x",
                "--scopes",
                "all",
                "--org",
                "nope",
            ],
            "no organization \"nope\"",
        ),
        (
            &["api-clients", "list", "--org", "nope"],
            "no organization \"nope\"",
        ),
        (
            &[
                "orgs",
                "create",
                "--name",
                "X",
                "--owner-email",
                "not-an-email",
            ],
            "invalid email",
        ),
        (&["orgs", "create", "--name", ""], "name must not be empty"),
        (&["members", "accept", "nobody@example.com"], "not a member"),
    ];
    for (args, needle) in cases {
        assert_fails(&app.consoled(args).await, needle);
    }
    assert_eq!(stdout(&app.consoled(&["orgs", "list"]).await), orgs_before);
    assert_eq!(app.activity(&admin).await, before);

    // The wrong master key is refused before anything is written.
    let wrong_key = tokio::process::Command::new(env!("CARGO_BIN_EXE_consoled"))
        .args(["api-clients", "create", "--name", "x", "--scopes", "all"])
        .env("CONSOLED_DATA_DIR", app.data_dir.path())
        .env("CONSOLED_DATABASE_URL", &app.database_url)
        .env(
            "CONSOLED_MASTER_KEY",
            "BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=",
        )
        .output()
        .await
        .unwrap();
    assert_fails(&wrong_key, "master key");
    assert_eq!(app.activity(&admin).await, before);

    // No master key at all: refused, and no key file is left behind to break the server.
    let key_file = app.data_dir.path().join("master.key");
    assert!(!key_file.exists());
    let no_key = tokio::process::Command::new(env!("CARGO_BIN_EXE_consoled"))
        .args(["api-clients", "create", "--name", "x", "--scopes", "all"])
        .env("CONSOLED_DATA_DIR", app.data_dir.path())
        .env("CONSOLED_DATABASE_URL", &app.database_url)
        .env_remove("CONSOLED_MASTER_KEY")
        .output()
        .await
        .unwrap();
    assert_fails(&no_key, "CONSOLED_MASTER_KEY");
    assert!(!key_file.exists(), "a stray master.key was written");
    // The same for a server started on this database without its key.
    let server = tokio::process::Command::new(env!("CARGO_BIN_EXE_consoled"))
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("CONSOLED_DATA_DIR", app.data_dir.path())
        .env("CONSOLED_DATABASE_URL", &app.database_url)
        .env_remove("CONSOLED_MASTER_KEY")
        .output();
    let server = tokio::time::timeout(std::time::Duration::from_secs(30), server)
        .await
        .expect("the server refuses at once")
        .unwrap();
    assert!(!server.status.success());
    let stderr = String::from_utf8_lossy(&server.stderr);
    assert!(stderr.contains("CONSOLED_MASTER_KEY"), "{stderr}");
    assert!(!key_file.exists(), "the server wrote a stray master.key");
    assert_eq!(app.activity(&admin).await, before);
}

#[tokio::test]
async fn members_accept_ends_a_pending_invite() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let invited = app
        .call(
            Method::POST,
            "/members/new+hire@example.com",
            &admin,
            Some(json!({"orgRoles": ["developer"]})),
        )
        .await;
    assert_eq!(invited.status(), StatusCode::NO_CONTENT);

    let accepted = json_of(
        &app.consoled(&[
            "members",
            "accept",
            "New+Hire@example.com",
            "--name",
            "New Hire",
            "--json",
        ])
        .await,
    );
    assert_eq!(accepted["email"], "new+hire@example.com");
    assert_eq!(accepted["invitePending"], false);

    let members: Value = app.get("/members", &admin).await.json().await.unwrap();
    assert_eq!(
        members[1],
        json!({"name": "New Hire", "email": "new+hire@example.com",
               "roles": ["developer"], "invitePending": false})
    );
    let events = app.activity(&admin).await;
    assert_eq!(events[0]["entity"], "member");
    assert_eq!(events[0]["auditType"], "u");
    assert_eq!(events[0]["userId"], "operator");
    assert_eq!(events[0]["entityAttribute"], "invitePending");
    assert_eq!(events[0]["entityAttributeValueFrom"], "true");
    assert_eq!(events[0]["entityAttributeValueTo"], "false");

    assert_fails(
        &app.consoled(&["members", "accept", "new+hire@example.com"])
            .await,
        "no pending invite",
    );
    assert_fails(
        &app.consoled(&["members", "accept", "owner@consoled.local"])
            .await,
        "no pending invite",
    );
    assert_eq!(app.activity(&admin).await, events);
}
