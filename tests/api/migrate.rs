//! `consoled migrate`: an installation on SQLite, filled through the API, is copied into
//! another database, and a server on the copy (same master key) shows everything as it
//! was: tokens issued before still verify, connector secrets still decrypt, cluster and
//! monitoring credentials still work, and the activity keeps its order.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::*;

/// Both servers hand out the same URLs (token issuer, connection details).
const PUBLIC_URL: &str = "http://consoled.migrate.test";

/// What the source installation holds, to check on the copy.
struct Installation {
    admin_token: String,
    other_org_token: String,
    cluster: String,
    zeebe_client: (String, String),
    secret: (&'static str, &'static str),
    monitoring_client: (String, String),
}

async fn start(database_url: &str) -> TestApp {
    TestApp::spawn_with(&[
        "--database-url",
        database_url,
        "--public-url",
        PUBLIC_URL,
        "--provision-delay",
        "200ms",
    ])
    .await
}

/// Fills a server with one of everything: so every table has rows to copy.
async fn populate(app: &TestApp) -> Installation {
    let token = app.admin_token().await;
    let cluster = app.healthy_cluster(&token, "to-be-moved").await;
    let patch = app
        .call(
            Method::PATCH,
            &format!("/clusters/{cluster}"),
            &token,
            Some(json!({"description": "moves house", "stageLabel": "prod"})),
        )
        .await;
    assert_eq!(patch.status(), StatusCode::NO_CONTENT);
    let allowlist = app
        .call(
            Method::PUT,
            &format!("/clusters/{cluster}/ipallowlist"),
            &token,
            Some(json!({"ipallowlist": [{"ip": "10.1.0.0/16", "description": "office"}]})),
        )
        .await;
    assert_eq!(allowlist.status(), StatusCode::NO_CONTENT);

    let client: Value = app
        .call(
            Method::POST,
            &format!("/clusters/{cluster}/clients"),
            &token,
            Some(json!({"clientName": "worker"})),
        )
        .await
        .json()
        .await
        .unwrap();
    let zeebe_client = (
        client["clientId"].as_str().unwrap().to_string(),
        client["clientSecret"].as_str().unwrap().to_string(),
    );

    let secret = ("DATABASE_PASSWORD", "correct horse battery staple");
    let created = app
        .call(
            Method::POST,
            &format!("/clusters/{cluster}/secrets"),
            &token,
            Some(json!({"secretName": secret.0, "secretValue": secret.1})),
        )
        .await;
    assert_eq!(created.status(), StatusCode::NO_CONTENT);

    let backup: Value = app
        .send_empty(
            Method::POST,
            &format!("/clusters/{cluster}/backups"),
            &token,
        )
        .await
        .json()
        .await
        .unwrap();
    eventually("the backup to complete", || async {
        let backups: Value = app
            .get(&format!("/clusters/{cluster}/backups"), &token)
            .await
            .json()
            .await
            .unwrap();
        backups
            .as_array()
            .unwrap()
            .iter()
            .find(|b| b["uuid"] == backup["uuid"] && b["status"] == "Complete")
            .cloned()
    })
    .await;

    let invited = app
        .call(
            Method::POST,
            "/members/new+colleague@example.com",
            &token,
            Some(json!({"orgRoles": ["developer", "analyst"]})),
        )
        .await;
    assert_eq!(invited.status(), StatusCode::NO_CONTENT);

    let activated = app
        .send_empty(
            Method::POST,
            &format!("/clusters/{cluster}/monitoring"),
            &token,
        )
        .await;
    assert_eq!(activated.status(), StatusCode::NO_CONTENT);
    let monitoring: Value = app
        .call(
            Method::POST,
            &format!("/clusters/{cluster}/monitoring/clients"),
            &token,
            Some(json!({"username": "prometheus"})),
        )
        .await
        .json()
        .await
        .unwrap();
    let monitoring_client = (
        monitoring["username"].as_str().unwrap().to_string(),
        monitoring["password"].as_str().unwrap().to_string(),
    );
    assert_eq!(
        scrape(app, &cluster, &monitoring_client).await,
        StatusCode::OK
    );

    let connected = app
        .call(
            Method::POST,
            &format!("/clusters/{cluster}/secure-connectivity"),
            &token,
            Some(json!({
                "allowedPrincipals": ["arn:aws:iam::123456789012:role/app"],
                "allowedRegions": ["eu-central-1"],
            })),
        )
        .await;
    assert_eq!(connected.status(), StatusCode::NO_CONTENT);

    // What the exec driver keeps (this server simulates): a teardown still to run, and a
    // deleted backup whose driver step is pending.
    app.execute_sql(
        "INSERT INTO driver_state (cluster_id, org_id, seen_version, applied, report, \
         snapshot, deleted_at, step, operation_id, attempts, next_attempt_at, last_error, \
         lease_owner, lease_until, next_probe_at, failed_probes) \
         VALUES ($1, $2, 3, '{}', '{}', '{\"name\":\"gone\"}', 1700000000000, 'delete', \
         'op-1', 2, 1700000001000, 'no: ****', NULL, 0, 0, 0)",
        &[&uuid::Uuid::new_v4().to_string(), &TestApp::org_of(&token)],
    )
    .await;
    app.execute_sql(
        "INSERT INTO driver_backup_deletions \
         (backup_id, cluster_id, org_id, name, created_at, deleted_at) \
         VALUES ($1, $2, $3, 'backup-old', 1700000000000, 1700000002000)",
        &[
            &uuid::Uuid::new_v4().to_string(),
            &cluster,
            &TestApp::org_of(&token),
        ],
    )
    .await;

    // The console's accounts: a password, a link still to use and a session.
    let org = TestApp::org_of(&token);
    app.execute_sql(
        "INSERT INTO member_passwords (org_id, email, password_hash, updated_at) \
         VALUES ($1, 'owner@consoled.local', '$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaA', \
         1700000000000)",
        &[&org],
    )
    .await;
    app.execute_sql(
        "INSERT INTO sign_in_links (token_hash, org_id, email, purpose, created_at, expires_at) \
         VALUES ('link-hash', $1, 'new+colleague@example.com', 'invite', 1700000000000, \
         4102444800000)",
        &[&org],
    )
    .await;
    app.execute_sql(
        "INSERT INTO console_sessions (id_hash, org_id, email, csrf_token, created_at, \
         last_seen_at) VALUES ('session-hash', $1, 'owner@consoled.local', 'csrf', \
         1700000000000, 1700000000000)",
        &[&org],
    )
    .await;

    let other = app.create_org("second").await;
    let other_org_token = app
        .token_for(
            &other.client_id,
            &other.client_secret,
            "api.cloud.camunda.io",
        )
        .await;

    Installation {
        admin_token: token,
        other_org_token,
        cluster,
        zeebe_client,
        secret,
        monitoring_client,
    }
}

async fn scrape(
    app: &TestApp,
    cluster: &str,
    (username, password): &(String, String),
) -> StatusCode {
    app.http
        .get(app.url(&format!("/monitoring/{cluster}/metrics")))
        .basic_auth(username, Some(password))
        .send()
        .await
        .unwrap()
        .status()
}

/// Everything both organizations see over the API.
async fn snapshot(app: &TestApp, installation: &Installation) -> Vec<(String, String)> {
    let cluster = &installation.cluster;
    let client = &installation.zeebe_client.0;
    let mut seen = Vec::new();
    for (token, path) in [
        (&installation.admin_token, "/clusters".to_string()),
        (&installation.admin_token, format!("/clusters/{cluster}")),
        (
            &installation.admin_token,
            format!("/clusters/{cluster}/clients"),
        ),
        (
            &installation.admin_token,
            format!("/clusters/{cluster}/clients/{client}"),
        ),
        (
            &installation.admin_token,
            format!("/clusters/{cluster}/secrets"),
        ),
        (
            &installation.admin_token,
            format!("/clusters/{cluster}/backups"),
        ),
        (
            &installation.admin_token,
            format!("/clusters/{cluster}/monitoring/clients"),
        ),
        (
            &installation.admin_token,
            format!("/clusters/{cluster}/secure-connectivity"),
        ),
        (&installation.admin_token, "/members".to_string()),
        (&installation.admin_token, "/activity/json".to_string()),
        (&installation.admin_token, "/activity/csv".to_string()),
        (&installation.other_org_token, "/members".to_string()),
        (&installation.other_org_token, "/activity/json".to_string()),
    ] {
        let response = app.get(&path, token).await;
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        seen.push((path, response.text().await.unwrap()));
    }
    seen
}

/// Runs `consoled migrate --json`; returns the report, or the error output on failure.
async fn migrate(from: &str, to: &str, extra: &[&str]) -> Result<Value, String> {
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_consoled"))
        .args(["migrate", "--from", from, "--to", to, "--json"])
        .args(extra)
        .output()
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).to_string();
    if !output.status.success() {
        return Err(stderr);
    }
    Ok(serde_json::from_slice(&output.stdout).expect("the report is JSON"))
}

/// Asserts that the report lists every table, in order, each with rows on both sides.
fn assert_every_table_copied(report: &Value) -> u64 {
    let tables = report["tables"].as_array().unwrap();
    let names: Vec<&str> = tables
        .iter()
        .map(|t| t["table"].as_str().unwrap())
        .collect();
    let expected: Vec<&str> = consoled::storage::copy::TABLES
        .iter()
        .map(|(t, _)| *t)
        .collect();
    assert_eq!(names, expected);
    for table in tables {
        // Every table has data here, so each one's copy is really exercised.
        assert!(table["source"].as_u64().unwrap() > 0, "{table}");
        assert_eq!(table["source"], table["target"], "{table}");
    }
    let total: u64 = tables.iter().map(|t| t["target"].as_u64().unwrap()).sum();
    assert_eq!(report["rows"], total);
    total
}

/// Moves a populated SQLite installation to `target` and checks the copy over HTTP.
/// Returns the server on the copy with its installation.
async fn move_and_check(target: &str) -> (TestApp, Installation) {
    let source_dir = tempfile::tempdir().unwrap();
    let source = format!(
        "sqlite://{}",
        source_dir.path().join("consoled.db").display()
    );
    let mut old = start(&source).await;
    let installation = populate(&old).await;
    let before = snapshot(&old, &installation).await;
    old.stop().await;

    let report = migrate(&source, target, &[]).await.unwrap();
    assert_every_table_copied(&report);
    assert_eq!(report["replacedRows"], 0);
    // A second run finds the target in use and changes nothing.
    let refused = migrate(&source, target, &[]).await.unwrap_err();
    assert!(
        refused.contains("not empty") && refused.contains("--replace-target"),
        "{refused}"
    );

    let new = start(target).await;
    // The same master key: the bootstrap client's stored hash still verifies, so starting
    // changed nothing, and the copy shows exactly what the source showed.
    assert_eq!(snapshot(&new, &installation).await, before);

    // Tokens issued by the old server verify (the signing key moved with the data).
    let cluster = &installation.cluster;
    for token in [&installation.admin_token, &installation.other_org_token] {
        let response = new.get("/clusters", token).await;
        assert_eq!(response.status(), StatusCode::OK);
    }
    new.admin_token().await;
    // Connector secrets decrypt.
    let secrets: Value = new
        .get(
            &format!("/clusters/{cluster}/secrets"),
            &installation.admin_token,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        secrets,
        json!({ installation.secret.0: installation.secret.1 })
    );
    // The cluster client's and the monitoring client's credentials work.
    let (id, secret) = &installation.zeebe_client;
    let zeebe = new.token_for(id, secret, "zeebe.camunda.io").await;
    assert_eq!(
        jwt_claims(&zeebe)["sub"],
        id.as_str(),
        "{}",
        jwt_claims(&zeebe)
    );
    assert_eq!(
        scrape(&new, cluster, &installation.monitoring_client).await,
        StatusCode::OK
    );
    let wrong = (
        installation.monitoring_client.0.clone(),
        "wrong".to_string(),
    );
    assert_eq!(
        scrape(&new, cluster, &wrong).await,
        StatusCode::UNAUTHORIZED
    );

    // New activity is numbered after the copied records: it comes first, the rest keeps
    // its order.
    let old_activity = new.activity(&installation.admin_token).await;
    let created = new
        .call(
            Method::POST,
            &format!("/clusters/{cluster}/secrets"),
            &installation.admin_token,
            Some(json!({"secretName": "ADDED_AFTER", "secretValue": "x"})),
        )
        .await;
    assert_eq!(created.status(), StatusCode::NO_CONTENT);
    let activity = new.activity(&installation.admin_token).await;
    assert_eq!(activity.len(), old_activity.len() + 1);
    assert_eq!(activity[0]["entityId"], "ADDED_AFTER", "{}", activity[0]);
    assert_eq!(activity[1..], old_activity[..]);
    // The reconciler works on the copy too.
    let response = new
        .send_empty(
            Method::PUT,
            &format!("/clusters/{cluster}/wake"),
            &installation.admin_token,
        )
        .await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let backup: Value = new
        .send_empty(
            Method::POST,
            &format!("/clusters/{cluster}/backups"),
            &installation.admin_token,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(backup["status"], "In progress");
    eventually("the new backup to complete", || async {
        let backups: Value = new
            .get(
                &format!("/clusters/{cluster}/backups"),
                &installation.admin_token,
            )
            .await
            .json()
            .await
            .unwrap();
        backups
            .as_array()
            .unwrap()
            .iter()
            .all(|b| b["status"] == "Complete")
            .then_some(())
    })
    .await;
    (new, installation)
}

#[tokio::test]
async fn an_installation_moves_to_another_sqlite_database() {
    let dir = tempfile::tempdir().unwrap();
    let target = format!(
        "sqlite://{}",
        dir.path().join("moved/consoled.db").display()
    );
    let (mut moved, _) = move_and_check(&target).await;
    moved.stop().await;

    // The copy is only usable with the master key it was made under: a server given
    // another one refuses to start instead of failing every request.
    use clap::Parser;
    let other_key = "HyAdHBsaGRgXFhUUExIREA8ODQwLCgkIBwYFBAMCAQA=";
    let cli = consoled::cli::Cli::parse_from([
        "consoled",
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--data-dir",
        dir.path().to_str().unwrap(),
        "--database-url",
        &target,
        "--master-key",
        other_key,
    ]);
    let consoled::cli::Command::Serve(args) = cli.command else {
        unreachable!()
    };
    let refused = consoled::app::Application::build(*args).await.err();
    assert!(
        refused.is_some(),
        "a server started with another master key"
    );
}

#[tokio::test]
async fn an_installation_moves_from_sqlite_to_postgresql_and_back() {
    let Some(admin) = crate::postgres::admin_url_or_skip("the SQLite to PostgreSQL migration test")
    else {
        return;
    };
    let target = crate::postgres::fresh_database(&admin).await;
    let (mut on_postgres, installation) = move_and_check(&target).await;

    // And back: the PostgreSQL installation, with what was added there, moves to SQLite.
    let before = snapshot(&on_postgres, &installation).await;
    on_postgres.stop().await;
    let dir = tempfile::tempdir().unwrap();
    let back = format!("sqlite://{}", dir.path().join("back.db").display());
    let report = migrate(&target, &back, &[]).await.unwrap();
    assert_every_table_copied(&report);
    let on_sqlite = start(&back).await;
    assert_eq!(snapshot(&on_sqlite, &installation).await, before);
}

#[tokio::test]
async fn replacing_a_used_target_needs_the_flag() {
    let dir = tempfile::tempdir().unwrap();
    let source = format!("sqlite://{}", dir.path().join("source.db").display());
    let target = format!("sqlite://{}", dir.path().join("target.db").display());
    // Two servers started once each: both databases hold a first organization.
    let mut first = start(&source).await;
    let token = first.admin_token().await;
    first.create_cluster(&token, "kept").await;
    first.stop().await;
    let mut second = start(&target).await;
    second.stop().await;

    let refused = migrate(&source, &target, &[]).await.unwrap_err();
    assert!(refused.contains("organizations: 1"), "{refused}");
    let report = migrate(&source, &target, &["--replace-target"])
        .await
        .unwrap();
    assert!(report["replacedRows"].as_u64().unwrap() > 0);
    let clusters = report["tables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["table"] == "clusters")
        .unwrap()
        .clone();
    assert_eq!(clusters["target"], 1);

    // The same database twice is refused.
    let same = migrate(&source, &source, &[]).await.unwrap_err();
    assert!(same.contains("same database"), "{same}");
}

#[tokio::test]
async fn a_source_that_is_no_installation_is_refused_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let target_path = dir.path().join("target.db");
    let target = format!("sqlite://{}", target_path.display());
    let missing_path = dir.path().join("typo").join("consoled.db");
    let empty_path = dir.path().join("empty.db");
    std::fs::File::create(&empty_path).unwrap();
    for source_path in [&missing_path, &empty_path] {
        let source = format!("sqlite://{}", source_path.display());
        let refused = migrate(&source, &target, &["--replace-target"])
            .await
            .unwrap_err();
        assert!(refused.contains("--from"), "{refused}");
        assert!(refused.contains("no consoled installation"), "{refused}");
        assert!(refused.contains(source_path.to_str().unwrap()), "{refused}");
    }
    assert!(!dir.path().join("typo").exists());
    assert_eq!(std::fs::metadata(&empty_path).unwrap().len(), 0);
    assert!(!target_path.exists(), "the target was created");

    // A PostgreSQL database without consoled's schema is no installation either.
    if let Some(admin) = crate::postgres::admin_url() {
        let blank = crate::postgres::fresh_database(&admin).await;
        let refused = migrate(&blank, &target, &[]).await.unwrap_err();
        assert!(refused.contains("no consoled tables"), "{refused}");
        let mut db = <sqlx::PgConnection as sqlx::Connection>::connect(&blank)
            .await
            .unwrap();
        let tables: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema()",
        )
        .fetch_one(&mut db)
        .await
        .unwrap();
        assert_eq!(tables, 0, "the source was written to");
    }
}

/// An older version let a NUL into SQLite; PostgreSQL cannot store one. The copy names
/// the row and leaves the target without a single row.
#[tokio::test]
async fn a_row_postgresql_cannot_store_is_named_and_nothing_is_copied() {
    let Some(admin) = crate::postgres::admin_url() else {
        eprintln!(
            "skipped: set {} to run the migration test with a row PostgreSQL cannot store",
            crate::postgres::ENV
        );
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let source = format!("sqlite://{}", dir.path().join("source.db").display());
    let mut old = start(&source).await;
    let token = old.admin_token().await;
    old.create_cluster(&token, "fine").await;
    let planted = old.create_cluster(&token, "to be broken").await;
    old.stop().await;
    {
        use sqlx::Connection;
        let mut db = sqlx::SqliteConnection::connect(&source).await.unwrap();
        sqlx::query(
            "UPDATE clusters SET description = 'before' || char(0) || 'after' WHERE id = $1",
        )
        .bind(&planted)
        .execute(&mut db)
        .await
        .unwrap();
    }

    let target = crate::postgres::fresh_database(&admin).await;
    let refused = migrate(&source, &target, &[]).await.unwrap_err();
    for needle in ["clusters", planted.as_str(), "description", "U+0000"] {
        assert!(refused.contains(needle), "{needle:?} not in {refused}");
    }

    use sqlx::Connection;
    let mut db = sqlx::PgConnection::connect(&target).await.unwrap();
    for (table, _) in consoled::storage::copy::TABLES {
        let rows: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}"))
            .fetch_one(&mut db)
            .await
            .unwrap();
        assert_eq!(rows, 0, "{table} has rows after a failed copy");
    }
}
