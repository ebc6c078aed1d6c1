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
    app.invite_developer(&admin, "new+hire@example.com").await;

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

/// What a terminal would act on instead of showing: controls other than the line ends of
/// the output itself, and the characters that reorder text.
fn terminal_effects(text: &str) -> Vec<char> {
    text.chars()
        .filter(|c| {
            (c.is_control() && *c != '\n')
                || matches!(c, '\u{61c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
        })
        .collect()
}

#[tokio::test]
async fn tables_show_control_and_bidi_characters_escaped() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let cluster = app.create_cluster(&admin, "plain").await;
    // `ESC ] 0 ; … BEL` retitles the terminal, `ESC [ 2 J` clears it, U+202E shows the
    // rest backwards: all of them stored raw, as an older version allowed.
    let evil = "x\u{1b}]0;owned\u{7}\u{1b}[2J\r\u{202e}gnp.exe\u{9b}";
    app.execute_sql("UPDATE clusters SET name = $1", &[evil])
        .await;
    app.execute_sql("UPDATE organizations SET name = $1", &[evil])
        .await;
    app.execute_sql("UPDATE api_clients SET name = $1", &[evil])
        .await;
    let escaped = r"x\u{1b}]0;owned\u{7}\u{1b}[2J\r\u{202e}gnp.exe\u{9b}";

    for args in [
        &["clusters", "list"][..],
        &["orgs", "list"][..],
        &["api-clients", "list"][..],
    ] {
        let output = app.consoled(args).await;
        assert!(output.status.success(), "{args:?}");
        let shown = stdout(&output);
        assert_eq!(
            terminal_effects(&shown),
            Vec::<char>::new(),
            "{args:?}: {shown:?}"
        );
        assert!(shown.contains(escaped), "{args:?}: {shown}");
    }
    // Columns stay aligned: the escaped text is what is measured.
    let listed = stdout(&app.consoled(&["clusters", "list"]).await);
    let lines: Vec<&str> = listed.lines().collect();
    assert_eq!(lines[0].find("NAME"), lines[1].find(escaped), "{listed}");
    assert!(lines[1].starts_with(&cluster));
    // JSON output is for programs: it holds the name as stored (JSON escapes controls).
    let json = json_of(&app.consoled(&["clusters", "list", "--json"]).await);
    assert_eq!(json[0]["name"], evil);
}

#[tokio::test]
async fn names_given_to_the_cli_refuse_control_and_bidi_characters() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    app.invite_developer(&admin, "new@example.com").await;
    let before = app.activity(&admin).await;
    let orgs_before = stdout(&app.consoled(&["orgs", "list"]).await);
    for bad in [
        "a\u{1b}[2Jb",
        "a\nb",
        "a\u{202e}b",
        "a\u{2066}b",
        "a\u{85}b",
    ] {
        let cases: [&[&str]; 3] = [
            &["api-clients", "create", "--name", bad, "--scopes", "all"],
            &[
                "orgs",
                "create",
                "--name",
                bad,
                "--owner-email",
                "o@example.com",
            ],
            &["members", "accept", "new@example.com", "--name", bad],
        ];
        for args in cases {
            let output = app.consoled(args).await;
            assert_fails(&output, "name must not contain");
            let stderr = String::from_utf8_lossy(&output.stderr).to_string();
            assert_eq!(terminal_effects(&stderr), Vec::<char>::new(), "{stderr:?}");
        }
    }
    assert_eq!(stdout(&app.consoled(&["orgs", "list"]).await), orgs_before);
    assert_eq!(app.activity(&admin).await, before);
}

/// Runs `consoled <args>` on `data_dir` alone: no database URL and no master key, as an
/// operator who mistyped the data dir would.
async fn consoled_in(data_dir: &std::path::Path, args: &[&str]) -> Output {
    tokio::process::Command::new(env!("CARGO_BIN_EXE_consoled"))
        .args(args)
        .env("CONSOLED_DATA_DIR", data_dir)
        .env_remove("CONSOLED_DATABASE_URL")
        .env_remove("CONSOLED_MASTER_KEY")
        .env("CONSOLED_LOG", "warn")
        .output()
        .await
        .expect("the consoled binary runs")
}

/// Every command that works on an existing installation, none of which may create one.
const COMMANDS_ON_AN_INSTALLATION: [&[&str]; 11] = [
    &["orgs", "list"],
    &["orgs", "create", "--name", "Acme"],
    &["api-clients", "list"],
    &["api-clients", "create", "--name", "ci", "--scopes", "all"],
    &["api-clients", "rotate", "some-client"],
    &["api-clients", "delete", "some-client"],
    &["members", "accept", "someone@example.com"],
    &["clusters", "list"],
    &[
        "clusters",
        "suspend",
        "00000000-0000-4000-8000-000000000000",
    ],
    &["keys", "rotate"],
    &["orgs", "list", "--json"],
];

/// The files in `dir`, leaving out SQLite's `-wal` and `-shm` files, which come and go
/// with connections.
fn files_in(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| !name.ends_with("-wal") && !name.ends_with("-shm"))
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn operator_commands_on_a_mistyped_data_dir_fail_and_create_nothing() {
    let parent = tempfile::tempdir().unwrap();
    let typo = parent.path().join("consoled-dta");
    for args in COMMANDS_ON_AN_INSTALLATION {
        let output = consoled_in(&typo, args).await;
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            !output.status.success(),
            "{args:?} succeeded: {}",
            stdout(&output)
        );
        assert!(
            stderr.contains("no consoled installation"),
            "{args:?}: {stderr}"
        );
        // Where it looked, so the typo is easy to see.
        assert!(
            stderr.contains(typo.to_str().unwrap()),
            "{args:?}: {stderr}"
        );
        assert!(output.stdout.is_empty(), "{args:?}: {}", stdout(&output));
        assert!(!typo.exists(), "{args:?} created {}", typo.display());
    }
}

#[tokio::test]
async fn operator_commands_on_an_empty_installation_fail_and_write_nothing() {
    // An empty directory, an empty database file, and a database with the schema but no
    // organization or signing key (a first start that stopped halfway).
    let empty_dir = tempfile::tempdir().unwrap();
    let empty_file = tempfile::tempdir().unwrap();
    std::fs::File::create(empty_file.path().join("consoled.db")).unwrap();
    let schema_only = tempfile::tempdir().unwrap();
    let schema_url = format!(
        "sqlite://{}",
        schema_only.path().join("consoled.db").display()
    );
    drop(consoled::storage::open(&schema_url).await.unwrap());
    for dir in [&empty_dir, &empty_file, &schema_only] {
        let before = files_in(dir.path());
        for args in COMMANDS_ON_AN_INSTALLATION {
            let output = consoled_in(dir.path(), args).await;
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert!(
                !output.status.success(),
                "{args:?} succeeded: {}",
                stdout(&output)
            );
            assert!(
                stderr.contains("no consoled installation"),
                "{args:?}: {stderr}"
            );
            assert!(
                stderr.contains(dir.path().to_str().unwrap()),
                "{args:?}: {stderr}"
            );
            assert_eq!(files_in(dir.path()), before, "{args:?} left files behind");
        }
    }
    assert_eq!(
        std::fs::metadata(empty_file.path().join("consoled.db"))
            .unwrap()
            .len(),
        0,
        "the empty database file was written to"
    );
    let store = consoled::storage::open(&schema_url).await.unwrap();
    assert!(store.signing_keys().await.unwrap().is_empty());
    assert!(store.organizations().await.unwrap().is_empty());
}

/// `init` and the first start of `serve` are what create an installation; the commands
/// then work on it.
#[tokio::test]
async fn init_creates_the_installation_the_other_commands_need() {
    let parent = tempfile::tempdir().unwrap();
    let data_dir = parent.path().join("fresh");
    let created = json_of(&consoled_in(&data_dir, &["init"]).await);
    assert!(data_dir.join("master.key").exists());
    let listed = json_of(&consoled_in(&data_dir, &["orgs", "list", "--json"]).await);
    assert_eq!(listed[0]["id"], created["orgId"]);
}

/// On PostgreSQL, a database without consoled's schema is no installation: the commands
/// refuse it, name it, and create no tables in it.
#[tokio::test]
async fn operator_commands_on_a_postgres_database_without_the_schema_fail() {
    let Some(admin) = crate::postgres::admin_url() else {
        eprintln!("skipped: set CONSOLED_TEST_POSTGRES_URL to run it");
        return;
    };
    let url = crate::postgres::fresh_database(&admin).await;
    let data_dir = tempfile::tempdir().unwrap();
    for args in COMMANDS_ON_AN_INSTALLATION {
        let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_consoled"))
            .args(args)
            .env("CONSOLED_DATA_DIR", data_dir.path())
            .env("CONSOLED_DATABASE_URL", &url)
            .env_remove("CONSOLED_MASTER_KEY")
            .output()
            .await
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{args:?} succeeded");
        assert!(stderr.contains("no consoled tables"), "{args:?}: {stderr}");
        let database = url.rsplit('/').next().unwrap();
        assert!(stderr.contains(database), "{args:?}: {stderr}");
    }
    assert!(files_in(data_dir.path()).is_empty());
    let mut db = <sqlx::PgConnection as sqlx::Connection>::connect(&url)
        .await
        .unwrap();
    let tables: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema()",
    )
    .fetch_one(&mut db)
    .await
    .unwrap();
    assert_eq!(tables, 0, "the database was written to");
}
