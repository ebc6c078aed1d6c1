//! HTTPS served directly (`--tls-cert`, `--tls-key`) with a self-signed certificate made
//! here: the whole flow works over it, every URL handed out is https, and plain HTTP on the
//! port gets nowhere.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::helpers::*;

struct Certificate {
    dir: tempfile::TempDir,
}

impl Certificate {
    fn localhost() -> Certificate {
        let dir = tempfile::tempdir().unwrap();
        let certified =
            rcgen::generate_simple_self_signed(vec!["localhost".into(), "127.0.0.1".into()])
                .unwrap();
        std::fs::write(dir.path().join("cert.pem"), certified.cert.pem()).unwrap();
        std::fs::write(
            dir.path().join("key.pem"),
            certified.signing_key.serialize_pem(),
        )
        .unwrap();
        Certificate { dir }
    }

    fn cert_path(&self) -> String {
        self.dir.path().join("cert.pem").display().to_string()
    }

    fn key_path(&self) -> String {
        self.dir.path().join("key.pem").display().to_string()
    }
}

/// Every URL in a JSON document.
fn urls(value: &Value, found: &mut Vec<String>) {
    match value {
        Value::String(s) if s.contains("://") => found.push(s.clone()),
        Value::Array(items) => items.iter().for_each(|v| urls(v, found)),
        Value::Object(map) => map.values().for_each(|v| urls(v, found)),
        _ => {}
    }
}

#[tokio::test]
async fn https_is_served_and_every_url_handed_out_is_https() {
    let cert = Certificate::localhost();
    let app = TestApp::spawn_with(&[
        "--tls-cert",
        &cert.cert_path(),
        "--tls-key",
        &cert.key_path(),
    ])
    .await;
    assert!(app.base_url.starts_with("https://"), "{}", app.base_url);

    // The whole flow over HTTPS, with the client trusting the test's certificate.
    let token = app.admin_token().await;
    assert_eq!(jwt_claims(&token)["iss"], app.base_url);
    let cluster = app.create_cluster(&token, "secure").await;
    let cluster_json = app.wait_healthy(&token, &cluster).await;
    let created: Value = app
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
    let details: Value = app
        .get(
            &format!(
                "/clusters/{cluster}/clients/{}",
                created["clientId"].as_str().unwrap()
            ),
            &token,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        details["ZEEBE_AUTHORIZATION_SERVER_URL"],
        format!("{}/oauth/token", app.base_url)
    );
    let activated = app
        .send_empty(
            Method::POST,
            &format!("/clusters/{cluster}/monitoring"),
            &token,
        )
        .await;
    assert_eq!(activated.status(), StatusCode::NO_CONTENT);
    let monitoring: Value = app
        .get(&format!("/clusters/{cluster}/monitoring/clients"), &token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(monitoring["status"]["metricsEndpoint"]["scheme"], "https");
    let discovery: Value = app
        .http
        .get(app.url("/.well-known/openid-configuration"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();

    let mut found = Vec::new();
    for document in [&cluster_json, &created, &details, &discovery] {
        urls(document, &mut found);
    }
    assert!(found.len() >= 8, "{found:?}");
    for url in &found {
        assert!(url.starts_with("https://"), "{url} is not https");
    }
    // The cluster client's token works, fetched from the https token URL handed out.
    let zeebe = app
        .token_for(
            created["clientId"].as_str().unwrap(),
            created["clientSecret"].as_str().unwrap(),
            "zeebe.camunda.io",
        )
        .await;
    assert_eq!(jwt_claims(&zeebe)["iss"], app.base_url);

    // A client that does not trust the certificate cannot connect.
    let untrusting = reqwest::Client::new();
    assert!(untrusting.get(app.url("/healthz")).send().await.is_err());

    // Plain HTTP on the TLS port gets no HTTP answer.
    let mut stream = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: test\r\n\r\n")
        .await
        .unwrap();
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut answer)).await;
    assert!(
        !answer.starts_with(b"HTTP/1.1 200"),
        "plain HTTP was served"
    );
}

#[tokio::test]
async fn a_silent_tls_client_is_cut_off_at_the_handshake() {
    let cert = Certificate::localhost();
    let app = TestApp::spawn_with(&[
        "--tls-cert",
        &cert.cert_path(),
        "--tls-key",
        &cert.key_path(),
        "--header-read-timeout",
        "1s",
    ])
    .await;
    let mut stream = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    let started = std::time::Instant::now();
    let mut buf = [0u8; 16];
    let read = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buf)).await;
    assert!(matches!(read, Ok(Ok(0)) | Ok(Err(_))), "still open");
    assert!(started.elapsed() < Duration::from_secs(4));
    // Meanwhile others are served.
    let ok = app.http.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(ok.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_certificate_without_its_key_is_refused_at_start() {
    let cert = Certificate::localhost();
    let other = Certificate::localhost();
    let data_dir = tempfile::tempdir().unwrap();
    for args in [
        vec!["--tls-cert", &cert.cert_path()],
        vec![
            "--tls-cert",
            &cert.cert_path(),
            "--tls-key",
            &other.key_path(),
        ],
        vec![
            "--tls-cert",
            &cert.key_path(),
            "--tls-key",
            &cert.key_path(),
        ],
    ] {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_consoled"))
            .args(["serve", "--listen", "127.0.0.1:0"])
            .args(&args)
            .env("CONSOLED_DATA_DIR", data_dir.path())
            .output()
            .unwrap();
        assert!(!output.status.success(), "{args:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.to_lowercase().contains("tls"), "{args:?}: {stderr}");
    }
}
