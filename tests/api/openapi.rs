//! The OpenAPI document: the committed copy is current, the server serves it, every
//! reference in it resolves, and every operation in it is routed.

use std::path::Path;

use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::helpers::*;

const COMMITTED: &str = "docs/openapi.json";
const REGENERATE: &str = "cargo run --quiet -- openapi > docs/openapi.json";

fn document() -> Value {
    serde_json::from_str(consoled::http::openapi::document_json()).unwrap()
}

#[test]
fn the_committed_document_is_the_one_the_code_generates() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(COMMITTED);
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    let generated = consoled::http::openapi::document_json();
    if committed != generated {
        let first_difference = committed
            .lines()
            .zip(generated.lines())
            .enumerate()
            .find(|(_, (a, b))| a != b)
            .map(|(i, (a, b))| format!("line {}:\n  committed: {a}\n  generated: {b}", i + 1))
            .unwrap_or_else(|| "one is a prefix of the other".into());
        panic!(
            "{COMMITTED} is not the document the code generates; regenerate it with\n\n    \
             {REGENERATE}\n\nand commit it. First difference at {first_difference}"
        );
    }
}

#[tokio::test]
async fn the_server_serves_the_document_and_the_cli_prints_it() {
    let app = TestApp::spawn().await;
    let response = app.http.get(app.url("/openapi.json")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "application/json");
    assert_eq!(
        response.text().await.unwrap(),
        consoled::http::openapi::document_json()
    );

    let output = std::process::Command::new(env!("CARGO_BIN_EXE_consoled"))
        .arg("openapi")
        .output()
        .unwrap();
    assert!(output.status.success());
    assert_eq!(
        String::from_utf8(output.stdout).unwrap(),
        consoled::http::openapi::document_json()
    );
}

fn collect_refs<'a>(value: &'a Value, refs: &mut Vec<&'a str>) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(r)) = map.get("$ref") {
                refs.push(r);
            }
            map.values().for_each(|v| collect_refs(v, refs));
        }
        Value::Array(items) => items.iter().for_each(|v| collect_refs(v, refs)),
        _ => {}
    }
}

#[test]
fn every_reference_resolves_and_every_operation_is_complete() {
    let doc = document();
    assert_eq!(doc["openapi"], "3.1.0");
    let mut refs = Vec::new();
    collect_refs(&doc, &mut refs);
    for r in refs {
        assert!(
            doc.pointer(r.trim_start_matches('#')).is_some(),
            "unresolved {r}"
        );
    }
    let mut ids = std::collections::BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let id = operation["operationId"].as_str().unwrap_or_default();
            assert!(!id.is_empty(), "{method} {path} has no operationId");
            assert!(ids.insert(id.to_string()), "operationId {id} twice");
            assert!(operation["tags"].is_array(), "{id} has no tag");
            for (status, response) in operation["responses"].as_object().unwrap() {
                if status.starts_with('4') || status.starts_with('5') {
                    assert!(
                        response["content"]["application/json"]["schema"].is_object(),
                        "{id} {status} has no error body"
                    );
                }
            }
        }
    }
    let bearer = &doc["components"]["securitySchemes"]["bearer"];
    assert_eq!(bearer["type"], "http");
    assert_eq!(bearer["scheme"], "bearer");
    assert_eq!(bearer["bearerFormat"], "JWT");
}

/// A request to each documented operation reaches a handler: no "no such endpoint" 404 and
/// no 405 from the router's fallbacks.
#[tokio::test]
async fn every_documented_operation_is_routed() {
    let app = TestApp::spawn().await;
    let doc = document();
    for (path, item) in doc["paths"].as_object().unwrap() {
        let concrete = path
            .split('/')
            .map(|segment| {
                if segment == "{asset}" {
                    "init.js"
                } else if segment.starts_with('{') {
                    "x"
                } else {
                    segment
                }
            })
            .collect::<Vec<_>>()
            .join("/");
        for method in item.as_object().unwrap().keys() {
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let response = app
                .http
                .request(method.clone(), app.url(&concrete))
                .send()
                .await
                .unwrap();
            let status = response.status();
            let body = response.text().await.unwrap();
            assert_ne!(status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
            assert!(
                !body.contains("no such endpoint"),
                "{method} {path} is documented but not routed"
            );
        }
    }
}
