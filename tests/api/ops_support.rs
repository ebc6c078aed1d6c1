//! Helpers for the cluster-operation tests: narrowed tokens and direct looks into the
//! database (the audit trail has no HTTP endpoint yet).

use consoled::domain::audit::AuditEntry;
use reqwest::StatusCode;
use serde_json::Value;
use sqlx::{PgPool, SqlitePool};

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
    let store = consoled::storage::open(&app.database_url).await.unwrap();
    store.audit_events(org_id, 1000).await.unwrap()
}

/// Runs a scalar query (`$1`-style placeholders) directly on the server's database, for
/// checks the API cannot express. Works on either backend.
pub async fn query_i64(app: &TestApp, sql: &str, args: &[&str]) -> i64 {
    if app.database_url.starts_with("postgres") {
        let db = PgPool::connect(&app.database_url).await.unwrap();
        let mut query = sqlx::query_scalar(sql);
        for arg in args {
            query = query.bind(*arg);
        }
        let value = query.fetch_one(&db).await.unwrap();
        db.close().await;
        value
    } else {
        let db = SqlitePool::connect(&app.database_url).await.unwrap();
        let mut query = sqlx::query_scalar(sql);
        for arg in args {
            query = query.bind(*arg);
        }
        let value = query.fetch_one(&db).await.unwrap();
        db.close().await;
        value
    }
}

/// Runs a statement directly on the server's database (as someone with database access
/// could). Works on either backend.
pub async fn execute_sql(app: &TestApp, sql: &str) {
    if app.database_url.starts_with("postgres") {
        let db = PgPool::connect(&app.database_url).await.unwrap();
        sqlx::query(sql).execute(&db).await.unwrap();
        db.close().await;
    } else {
        let db = SqlitePool::connect(&app.database_url).await.unwrap();
        sqlx::query(sql).execute(&db).await.unwrap();
        db.close().await;
    }
}

/// Rows of `table` that belong to `cluster_id`.
pub async fn rows_of_cluster(app: &TestApp, table: &str, cluster_id: &str) -> i64 {
    let sql = format!("SELECT COUNT(*) FROM {table} WHERE cluster_id = $1");
    query_i64(app, &sql, &[cluster_id]).await
}

/// Asserts a 204 with a really empty body (the JS SDK parses it as JSON).
pub async fn assert_no_content(response: reqwest::Response) {
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert!(
        response.bytes().await.unwrap().is_empty(),
        "a 204 has no body"
    );
}
