//! Helpers for the cluster-operation tests: narrowed tokens and direct looks into the
//! database (the audit trail has no HTTP endpoint yet).

use consoled::domain::audit::AuditEntry;
use reqwest::StatusCode;
use serde_json::Value;
use sqlx::sqlite::{SqliteConnectOptions, SqlitePool};

use crate::helpers::*;

/// A token of the bootstrap client narrowed to `scope`.
pub async fn scoped_token(app: &TestApp, scope: &str) -> String {
    let response = app
        .http
        .post(app.url("/oauth/token"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", CLIENT_ID),
            ("client_secret", CLIENT_SECRET),
            ("audience", "api.cloud.camunda.io"),
            ("scope", scope),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    body["access_token"].as_str().unwrap().to_string()
}

pub fn org_of(token: &str) -> String {
    jwt_claims(token)["https://camunda.com/orgId"]
        .as_str()
        .unwrap()
        .to_string()
}

/// The organization's audit records, newest first, read through the store.
pub async fn audit_events(app: &TestApp, org_id: &str) -> Vec<AuditEntry> {
    let url = format!(
        "sqlite://{}",
        app.data_dir.path().join("consoled.db").display()
    );
    let store = consoled::storage::open(&url).await.unwrap();
    store.audit_events(org_id, 1000).await.unwrap()
}

/// A read-only connection to the server's database, for checks the API cannot express.
pub async fn database(app: &TestApp) -> SqlitePool {
    let options = SqliteConnectOptions::new()
        .filename(app.data_dir.path().join("consoled.db"))
        .read_only(true);
    SqlitePool::connect_with(options).await.unwrap()
}

/// Rows of `table` that belong to `cluster_id`.
pub async fn rows_of_cluster(app: &TestApp, table: &str, cluster_id: &str) -> i64 {
    let db = database(app).await;
    let count = sqlx::query_scalar(&format!(
        "SELECT COUNT(*) FROM {table} WHERE cluster_id = ?"
    ))
    .bind(cluster_id)
    .fetch_one(&db)
    .await
    .unwrap();
    db.close().await;
    count
}

/// Asserts a 204 with a really empty body (the JS SDK parses it as JSON).
pub async fn assert_no_content(response: reqwest::Response) {
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert!(
        response.bytes().await.unwrap().is_empty(),
        "a 204 has no body"
    );
}
