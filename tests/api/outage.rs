//! A database outage answers 503 with Retry-After (no hang, no SQL text) and the server
//! recovers by itself. The database sits behind a TCP proxy the test can cut.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::Value;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;

use crate::helpers::*;

/// Forwards 127.0.0.1:<port> to PostgreSQL until cut.
struct Proxy {
    port: u16,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Proxy {
    async fn start(port: u16, upstream: String) -> Proxy {
        let listener = TcpListener::bind(("127.0.0.1", port)).await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let task = tokio::spawn(async move {
            let mut connections = JoinSet::new();
            loop {
                let Ok((mut inbound, _)) = listener.accept().await else {
                    return;
                };
                let upstream = upstream.clone();
                connections.spawn(async move {
                    if let Ok(mut outbound) = TcpStream::connect(upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
            }
        });
        Proxy {
            port,
            task: Some(task),
        }
    }

    /// Drops the listener and every forwarded connection.
    fn cut(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

fn upstream_of(url: &str) -> (String, String) {
    // postgres://user@host:port/db -> ("host:port", "postgres://user@127.0.0.1:{proxy}/db")
    let after_scheme = url.split_once("://").unwrap().1;
    let host_and_rest = after_scheme
        .rsplit_once('@')
        .map_or(after_scheme, |(_, h)| h);
    let host_port = host_and_rest.split(['/', '?']).next().unwrap();
    let host_port = if host_port.contains(':') {
        host_port.to_string()
    } else {
        format!("{host_port}:5432")
    };
    (
        host_port.clone(),
        url.replacen(&host_port, "127.0.0.1:{proxy}", 1),
    )
}

async fn wait_for(app: &TestApp, token: &str, wanted: StatusCode) -> reqwest::Response {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let started = tokio::time::Instant::now();
        let response = app.get("/clusters", token).await;
        assert!(
            started.elapsed() < Duration::from_secs(8),
            "a request hung during the outage"
        );
        if response.status() == wanted {
            return response;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "never answered {wanted}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn database_outage_is_503_and_recovers() {
    let Some(admin) = crate::postgres::admin_url_or_skip("the outage test") else {
        return;
    };
    let direct = crate::postgres::fresh_database(&admin).await;
    let (upstream, template) = upstream_of(&direct);
    let mut proxy = Proxy::start(0, upstream.clone()).await;
    let via_proxy = template.replace("{proxy}", &proxy.port.to_string());
    let app =
        TestApp::spawn_with(&["--database-url", &via_proxy, "--db-acquire-timeout", "1s"]).await;
    let token = app.admin_token().await;
    assert_eq!(app.get("/clusters", &token).await.status(), StatusCode::OK);

    proxy.cut();
    let down = wait_for(&app, &token, StatusCode::SERVICE_UNAVAILABLE).await;
    assert!(down.headers().contains_key("retry-after"));
    let body: Value = down.json().await.unwrap();
    assert_eq!(body["status"], 503);
    let text = body.to_string().to_lowercase();
    assert!(
        !text.contains("sql") && !text.contains("connection"),
        "{text}"
    );
    let ready = app.http.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), StatusCode::SERVICE_UNAVAILABLE);
    let alive = app.http.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(alive.status(), StatusCode::OK);

    let _proxy = Proxy::start(proxy.port, upstream).await;
    wait_for(&app, &token, StatusCode::OK).await;
    let ready = app.http.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), StatusCode::OK);
}

/// SQLite held by another process (an operator's long write, a backup tool) past the busy
/// timeout: writes answer 503 with Retry-After, nothing is written, and the next create
/// after the lock is released works.
#[tokio::test]
async fn a_sqlite_database_locked_by_another_process_is_503() {
    use sqlx::Connection;
    let app = TestApp::spawn().await;
    if !app.database_url.starts_with("sqlite:") {
        eprintln!("skipped: SQLite only");
        return;
    }
    let token = app.admin_token().await;
    let body = app.create_cluster_body(&token, "locked-out").await;
    let mut other_process = sqlx::SqliteConnection::connect(&app.database_url)
        .await
        .unwrap();
    sqlx::query("BEGIN IMMEDIATE")
        .execute(&mut other_process)
        .await
        .unwrap();
    let refused = app
        .call(
            reqwest::Method::POST,
            "/clusters",
            &token,
            Some(body.clone()),
        )
        .await;
    assert_eq!(refused.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(refused.headers().contains_key("retry-after"));
    let error: Value = refused.json().await.unwrap();
    assert_eq!(error["status"], 503);
    assert!(!error.to_string().to_lowercase().contains("sql"), "{error}");
    sqlx::query("ROLLBACK")
        .execute(&mut other_process)
        .await
        .unwrap();

    let listed: Value = app.get("/clusters", &token).await.json().await.unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 0);
    let created = app
        .call(reqwest::Method::POST, "/clusters", &token, Some(body))
        .await;
    assert_eq!(created.status(), StatusCode::OK);
}
