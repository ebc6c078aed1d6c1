//! The console's static files, compiled into the binary and served under
//! `/console/assets/<version>/<name>`, where the version is a hash of the file's bytes: the
//! URL changes with the content, so browsers may cache each one for a year.

use std::sync::OnceLock;

use axum::extract::Path;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

/// Name, content type, bytes.
const ASSETS: &[(&str, &str, &[u8])] = &[
    (
        "console.css",
        "text/css; charset=utf-8",
        include_bytes!("assets/console.css"),
    ),
    (
        "console.js",
        "text/javascript; charset=utf-8",
        include_bytes!("assets/console.js"),
    ),
];

/// Each asset's version: the first 12 hex digits of the SHA-256 of its bytes.
fn versions() -> &'static [String] {
    static VERSIONS: OnceLock<Vec<String>> = OnceLock::new();
    VERSIONS.get_or_init(|| {
        ASSETS
            .iter()
            .map(|(_, _, bytes)| {
                Sha256::digest(bytes)
                    .iter()
                    .take(6)
                    .map(|b| format!("{b:02x}"))
                    .collect()
            })
            .collect()
    })
}

/// The URL of an asset, with its version.
pub fn url(name: &str) -> String {
    let index = ASSETS
        .iter()
        .position(|(asset, _, _)| *asset == name)
        .expect("a known asset");
    format!("/console/assets/{}/{name}", versions()[index])
}

pub async fn asset(Path((version, name)): Path<(String, String)>) -> Response {
    let found = ASSETS
        .iter()
        .zip(versions())
        .find(|((asset, _, _), v)| *asset == name && **v == version);
    let Some(((_, content_type, bytes), _)) = found else {
        return (StatusCode::NOT_FOUND, "no such file").into_response();
    };
    let mut response = bytes.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=31536000, immutable"),
    );
    response
}
