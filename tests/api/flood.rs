//! Floods from a hostile source while a legitimate client works: slow token requests that
//! never finish their body, over HTTP/1.1 and over h2c, from one address and from many. The
//! legitimate client (on 127.0.0.1) must get every token and every read it asks for, and
//! `/healthz` and `/readyz` must stay 200. The attackers use other loopback addresses
//! (127.0.0.2 and up), which Linux routes like 127.0.0.1.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use futures_util::StreamExt;
use hyper_util::rt::{TokioExecutor, TokioIo};
use reqwest::StatusCode;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

use crate::helpers::*;

/// The start of a token form whose announced length is never reached.
const SLOW_HEAD: &[u8] = b"POST /oauth/token HTTP/1.1\r\nHost: consoled\r\n\
    Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\n\
    grant_type=client_cr";

/// The loopback address of the `n`th attacker.
fn attacker_address(n: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2 + n))
}

async fn connect_from(source: IpAddr, server: SocketAddr) -> std::io::Result<TcpStream> {
    let socket = TcpSocket::new_v4()?;
    socket.bind(SocketAddr::new(source, 0))?;
    socket.connect(server).await
}

/// Keeps `connections` slow token requests open from `sources` (spread evenly), opening a
/// new one whenever the server closes one, until `stop` is set.
fn slow_http1_flood(
    server: SocketAddr,
    sources: &[IpAddr],
    connections: usize,
    stop: Arc<AtomicBool>,
) -> Vec<tokio::task::JoinHandle<()>> {
    (0..connections)
        .map(|i| {
            let source = sources[i % sources.len()];
            let stop = stop.clone();
            tokio::spawn(async move {
                while !stop.load(Ordering::Relaxed) {
                    if let Ok(mut stream) = connect_from(source, server).await {
                        if stream.write_all(SLOW_HEAD).await.is_ok() {
                            // Hold it until the server gives up on it.
                            let mut sink = [0u8; 1024];
                            while !stop.load(Ordering::Relaxed) {
                                match tokio::time::timeout(
                                    Duration::from_millis(200),
                                    stream.read(&mut sink),
                                )
                                .await
                                {
                                    Ok(Ok(0)) | Ok(Err(_)) => break,
                                    _ => {}
                                }
                            }
                        }
                    }
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            })
        })
        .collect()
}

/// Opens `connections` h2c connections from `source`, each with `streams` token requests
/// whose bodies stop after 20 bytes, until `stop` is set.
fn slow_h2c_flood(
    server: SocketAddr,
    source: IpAddr,
    connections: usize,
    streams: usize,
    stop: Arc<AtomicBool>,
) -> Vec<tokio::task::JoinHandle<()>> {
    (0..connections)
        .map(|_| {
            let stop = stop.clone();
            tokio::spawn(async move {
                while !stop.load(Ordering::Relaxed) {
                    let Ok(stream) = connect_from(source, server).await else {
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    };
                    let Ok((sender, connection)) = hyper::client::conn::http2::handshake(
                        TokioExecutor::new(),
                        TokioIo::new(stream),
                    )
                    .await
                    else {
                        continue;
                    };
                    let driver = tokio::spawn(connection);
                    let requests: Vec<_> = (0..streams)
                        .map(|_| {
                            let mut sender = sender.clone();
                            tokio::spawn(async move {
                                let body = futures_util::stream::once(async {
                                    Ok::<_, std::io::Error>(Bytes::from_static(
                                        b"grant_type=client_cr",
                                    ))
                                })
                                .chain(futures_util::stream::pending());
                                let request = hyper::Request::post("http://consoled/oauth/token")
                                    .header("content-type", "application/x-www-form-urlencoded")
                                    .header("content-length", "100")
                                    .body(Body::from_stream(body))
                                    .unwrap();
                                let _ = sender.send_request(request).await;
                            })
                        })
                        .collect();
                    while !stop.load(Ordering::Relaxed) && !driver.is_finished() {
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                    for request in requests {
                        request.abort();
                    }
                    driver.abort();
                }
            })
        })
        .collect()
}

/// What the legitimate client saw: every status that was not 200, by what it asked for.
#[derive(Default)]
struct Observed {
    asked: AtomicUsize,
    failures: std::sync::Mutex<Vec<String>>,
}

impl Observed {
    fn record(&self, what: &str, status: Result<StatusCode, reqwest::Error>) {
        self.asked.fetch_add(1, Ordering::Relaxed);
        match status {
            Ok(StatusCode::OK) => {}
            Ok(status) => self
                .failures
                .lock()
                .unwrap()
                .push(format!("{what}: {status}")),
            Err(e) => self.failures.lock().unwrap().push(format!("{what}: {e}")),
        }
    }
}

/// For `duration`, a legitimate client (from 127.0.0.1) gets tokens when `with_tokens`, reads
/// clusters with its token, and probes `/healthz` and `/readyz`; returns what failed.
async fn legitimate_client(
    app: &TestApp,
    http: &reqwest::Client,
    token: &str,
    duration: Duration,
    with_tokens: bool,
) -> Observed {
    let observed = Observed::default();
    let started = Instant::now();
    let mut round = 0;
    while started.elapsed() < duration {
        round += 1;
        // Tokens at a pace the per-client limit (60/1m) allows over the test.
        if with_tokens && round % 4 == 1 {
            let response = http
                .post(app.url("/oauth/token"))
                .form(&[
                    ("grant_type", "client_credentials"),
                    ("client_id", CLIENT_ID),
                    ("client_secret", CLIENT_SECRET),
                ])
                .send()
                .await;
            observed.record("POST /oauth/token", response.map(|r| r.status()));
        }
        let response = http
            .get(app.url("/clusters"))
            .bearer_auth(token)
            .send()
            .await;
        observed.record("GET /clusters", response.map(|r| r.status()));
        for probe in ["/healthz", "/readyz"] {
            let response = http.get(app.url(probe)).send().await;
            observed.record(probe, response.map(|r| r.status()));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    observed
}

fn assert_all_answered_200(observed: Observed) {
    let failures = observed.failures.into_inner().unwrap();
    assert!(observed.asked.load(Ordering::Relaxed) > 20);
    assert!(
        failures.is_empty(),
        "{} of {} legitimate requests failed: {:?}",
        failures.len(),
        observed.asked.load(Ordering::Relaxed),
        &failures[..failures.len().min(10)]
    );
}

async fn stop_flood(stop: Arc<AtomicBool>, tasks: Vec<tokio::task::JoinHandle<()>>) {
    stop.store(true, Ordering::Relaxed);
    for task in tasks {
        task.abort();
        let _ = task.await;
    }
}

/// The repro: 260 connections from one address, each sending only the head and 20 bytes of
/// a 100-byte token form, repeated as soon as the server lets go, across the body deadline.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_token_flood_over_http1_starves_nobody() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let stop = Arc::new(AtomicBool::new(false));
    let flood = slow_http1_flood(app.addr, &[attacker_address(0)], 260, stop.clone());
    tokio::time::sleep(Duration::from_millis(500)).await;

    let observed = legitimate_client(&app, &app.http, &token, Duration::from_secs(7), true).await;
    stop_flood(stop, flood).await;
    assert_all_answered_200(observed);
}

/// The same over h2c: 3 connections × 100 streams from one address.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_token_flood_over_h2c_starves_nobody() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let stop = Arc::new(AtomicBool::new(false));
    let flood = slow_h2c_flood(app.addr, attacker_address(0), 3, 100, stop.clone());
    tokio::time::sleep(Duration::from_millis(500)).await;

    let observed = legitimate_client(&app, &app.http, &token, Duration::from_secs(7), true).await;
    stop_flood(stop, flood).await;
    assert_all_answered_200(observed);
}

/// 260 slow token requests spread over 13 addresses, each under every per-source bound:
/// unauthenticated requests may then fill their share, but callers with a token and the
/// probes keep theirs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_distributed_unauthenticated_flood_leaves_authenticated_callers_their_share() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let sources: Vec<IpAddr> = (0..13).map(attacker_address).collect();
    let stop = Arc::new(AtomicBool::new(false));
    let flood = slow_http1_flood(app.addr, &sources, 260, stop.clone());
    tokio::time::sleep(Duration::from_millis(500)).await;

    let observed = legitimate_client(&app, &app.http, &token, Duration::from_secs(3), false).await;
    // Unauthenticated requests from elsewhere are shed at once, not queued.
    let started = Instant::now();
    let shed = app
        .http
        .get(app.url("/.well-known/jwks.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(shed.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(started.elapsed() < Duration::from_secs(1));
    stop_flood(stop, flood).await;
    assert_all_answered_200(observed);
}

/// More connections from one address than `--max-connections-per-source` are closed at
/// once; other addresses are served.
#[tokio::test]
async fn connections_beyond_the_per_source_cap_are_closed() {
    let app = TestApp::spawn_with(&["--max-connections-per-source", "4"]).await;
    let mut held = Vec::new();
    for _ in 0..4 {
        let mut stream = connect_from(attacker_address(0), app.addr).await.unwrap();
        stream
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .unwrap();
        let mut buf = [0u8; 512];
        let n = stream.read(&mut buf).await.unwrap();
        assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
        held.push(stream);
    }
    let mut fifth = connect_from(attacker_address(0), app.addr).await.unwrap();
    let _ = fifth
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await;
    let mut buf = [0u8; 512];
    let read = tokio::time::timeout(Duration::from_secs(2), fifth.read(&mut buf))
        .await
        .expect("the fifth connection is closed at once");
    assert!(
        matches!(read, Ok(0) | Err(_)),
        "the fifth connection was served"
    );

    // Another address is not affected, and a closed connection gives its slot back.
    let response = app.http.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    held.pop();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut again = connect_from(attacker_address(0), app.addr).await.unwrap();
    again
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let n = again.read(&mut buf).await.unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
}

/// More unauthenticated requests in progress from one address than
/// `--max-requests-per-source` are refused with 429 before their body is read (in the
/// token endpoint's shape there), and the token limit per source applies at the head.
#[tokio::test]
async fn unauthenticated_requests_in_progress_are_capped_per_source() {
    let app = TestApp::spawn_with(&["--max-requests-per-source", "2"]).await;
    let mut stalled = Vec::new();
    for _ in 0..2 {
        let mut stream = connect_from(attacker_address(0), app.addr).await.unwrap();
        stream.write_all(SLOW_HEAD).await.unwrap();
        stalled.push(stream);
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut third = connect_from(attacker_address(0), app.addr).await.unwrap();
    third.write_all(SLOW_HEAD).await.unwrap();
    let mut buf = vec![0u8; 4096];
    let n = tokio::time::timeout(Duration::from_secs(2), third.read(&mut buf))
        .await
        .expect("refused at once, without waiting for the body")
        .unwrap();
    let text = String::from_utf8_lossy(&buf[..n]);
    assert!(text.starts_with("HTTP/1.1 429"), "{text}");
    assert!(
        text.to_ascii_lowercase().contains("retry-after: 1"),
        "{text}"
    );
    let body: Value = serde_json::from_str(text.split("\r\n\r\n").nth(1).unwrap()).unwrap();
    assert_eq!(body["error"], "temporarily_unavailable");

    // A legitimate client elsewhere is not affected.
    app.admin_token().await;
}

#[tokio::test]
async fn the_token_limit_per_source_is_counted_at_the_request_head() {
    let app = TestApp::spawn_with(&["--token-limit-per-source", "2/1m"]).await;
    for _ in 0..2 {
        let mut stream = connect_from(attacker_address(0), app.addr).await.unwrap();
        stream.write_all(SLOW_HEAD).await.unwrap();
        // Held open: these two never finish their body.
        std::mem::forget(stream);
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut third = connect_from(attacker_address(0), app.addr).await.unwrap();
    third.write_all(SLOW_HEAD).await.unwrap();
    let mut buf = vec![0u8; 4096];
    let n = tokio::time::timeout(Duration::from_secs(2), third.read(&mut buf))
        .await
        .expect("refused at the head, not after the body deadline")
        .unwrap();
    let text = String::from_utf8_lossy(&buf[..n]);
    assert!(text.starts_with("HTTP/1.1 429"), "{text}");
}

/// One client (a token's subject) holds at most `--max-requests-per-client` requests in
/// progress, so a client with a token that trickles bodies cannot take the whole share of
/// authenticated callers; other clients are not affected.
#[tokio::test]
async fn authenticated_requests_in_progress_are_capped_per_client() {
    let app = TestApp::spawn_with(&["--max-requests-per-client", "2"]).await;
    let token = app.admin_token().await;
    let org = TestApp::org_of(&token);
    let (other_id, other_secret) = app.create_api_client(&org, "all").await;
    let other = app
        .token_for(&other_id, &other_secret, "api.cloud.camunda.io")
        .await;
    let slow_create = format!(
        "POST /clusters HTTP/1.1\r\nHost: consoled\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"name\": "
    );
    let mut held = Vec::new();
    for _ in 0..2 {
        let mut stream = TcpStream::connect(app.addr).await.unwrap();
        stream.write_all(slow_create.as_bytes()).await.unwrap();
        held.push(stream);
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let refused = app.get("/clusters", &token).await;
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(refused.headers()["retry-after"], "1");
    assert_error(refused, StatusCode::TOO_MANY_REQUESTS).await;
    assert_eq!(app.get("/clusters", &other).await.status(), StatusCode::OK);
    // Once the slow ones are gone, the client is served again.
    drop(held);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(app.get("/clusters", &token).await.status(), StatusCode::OK);
}

/// The repro from the legitimate client's own address (both behind one NAT, say): its token
/// requests share the source's limits with the attacker, by design, but its reads with a
/// token and the probes are all answered 200.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_token_flood_from_the_callers_own_address_leaves_its_reads_and_probes_alone() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let stop = Arc::new(AtomicBool::new(false));
    let own = IpAddr::V4(Ipv4Addr::LOCALHOST);
    let flood = slow_http1_flood(app.addr, &[own], 260, stop.clone());
    tokio::time::sleep(Duration::from_millis(500)).await;

    // No connection reuse: every request needs a connection of its own during the flood.
    let fresh = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    let observed = legitimate_client(&app, &fresh, &token, Duration::from_secs(3), false).await;
    stop_flood(stop, flood).await;
    assert_all_answered_200(observed);
}
