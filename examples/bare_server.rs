//! The benchmark's reference: a bare axum server answering every request with fixed bytes,
//! so consoled's throughput can be reported as a ratio measured in the same run.
//!
//! `bare_server <listen-addr> <body-file>`

use axum::body::Bytes;
use axum::http::header;
use axum::routing::any;
use axum::Router;

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let listen = args.next().unwrap_or_else(|| "127.0.0.1:18999".into());
    let body = match args.next() {
        Some(path) => Bytes::from(std::fs::read(path).expect("body file is readable")),
        None => Bytes::from_static(b"{}"),
    };
    let app = Router::new().fallback(any(move || {
        let body = body.clone();
        async move { ([(header::CONTENT_TYPE, "application/json")], body) }
    }));
    let listener = tokio::net::TcpListener::bind(&listen).await.expect("bind");
    axum::serve(listener, app).await.expect("serve");
}
