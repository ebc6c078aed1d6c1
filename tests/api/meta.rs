use clap::Parser;
use consoled::cli::Cli;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::*;

#[tokio::test]
async fn ip_ranges_come_from_config() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let response = app.get("/meta/ip-ranges", &token).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body, json!({"web-modeler": ["127.0.0.1/32", "::1/128"]}));

    let app = TestApp::spawn_with(&[
        "--web-modeler-ip-ranges",
        "10.0.0.0/8, 2001:0db8::/32,192.0.2.7/32",
    ])
    .await;
    let token = app.admin_token().await;
    let body: Value = app
        .get("/meta/ip-ranges", &token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        body,
        json!({"web-modeler": ["10.0.0.0/8", "2001:db8::/32", "192.0.2.7/32"]})
    );
}

#[test]
fn malformed_ip_ranges_are_refused_at_start() {
    for bad in [
        "10.0.0.0",
        "10.0.0.0/33",
        "::/129",
        "example.com/8",
        "10.0.0.0/x",
    ] {
        let parsed = Cli::try_parse_from(["consoled", "serve", "--web-modeler-ip-ranges", bad]);
        let err = parsed.expect_err(bad).to_string();
        assert!(err.contains("CIDR"), "{bad}: {err}");
    }
}
