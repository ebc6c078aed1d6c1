//! Resource limits: body size (413), request head size and header count (431), request
//! timeout (408), concurrent requests (503), and slow or idle clients, which cannot hold a
//! connection for long. Slow clients are played over raw TCP.

use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::*;

/// A raw HTTP/1.1 response: status, head, body.
struct RawResponse {
    status: u16,
    head: String,
    body: String,
}

/// Reads one response (the head, then `Content-Length` bytes of body).
async fn read_response(stream: &mut TcpStream) -> RawResponse {
    let mut data = Vec::new();
    let mut buf = [0u8; 4096];
    let head_end = loop {
        if let Some(end) = data.windows(4).position(|w| w == b"\r\n\r\n") {
            break end + 4;
        }
        let n = stream.read(&mut buf).await.unwrap();
        assert!(n > 0, "connection closed before a response");
        data.extend_from_slice(&buf[..n]);
    };
    let head = String::from_utf8_lossy(&data[..head_end]).to_string();
    let length: usize = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length:")
                .map(|v| v.trim().parse().unwrap())
        })
        .unwrap_or(0);
    while data.len() < head_end + length {
        let n = stream.read(&mut buf).await.unwrap();
        assert!(n > 0, "connection closed inside the body");
        data.extend_from_slice(&buf[..n]);
    }
    RawResponse {
        status: head[9..12].parse().unwrap(),
        body: String::from_utf8_lossy(&data[head_end..head_end + length]).to_string(),
        head,
    }
}

/// Waits until the server closes the connection; returns how long that took.
async fn closed_within(stream: &mut TcpStream, limit: Duration) -> Duration {
    let started = Instant::now();
    let mut buf = [0u8; 1024];
    loop {
        match tokio::time::timeout(limit, stream.read(&mut buf)).await {
            Err(_) => panic!("the connection was still open after {limit:?}"),
            Ok(Ok(0)) | Ok(Err(_)) => return started.elapsed(),
            Ok(Ok(_)) => {}
        }
    }
}

#[tokio::test]
async fn bodies_over_the_limit_are_413_and_nothing_is_written() {
    let app = TestApp::spawn_with(&["--max-body-bytes", "1024"]).await;
    let token = app.admin_token().await;
    let mut body = app.create_cluster_body(&token, "big").await;
    body["name"] = json!("n".repeat(2000));
    let response = app
        .call(Method::POST, "/clusters", &token, Some(body))
        .await;
    assert_error(response, StatusCode::PAYLOAD_TOO_LARGE).await;

    // The token endpoint answers in the OAuth shape.
    let padding = "p".repeat(2000);
    let response = app
        .http
        .post(app.url("/oauth/token"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", CLIENT_ID),
            ("client_secret", CLIENT_SECRET),
            ("padding", padding.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let error: Value = response.json().await.unwrap();
    assert_eq!(error["error"], "invalid_request");

    // A chunked body, whose length is not announced, is cut off at the limit too.
    let mut stream = TcpStream::connect(app.addr).await.unwrap();
    let head = format!(
        "POST /clusters HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let chunk = format!("400\r\n{}\r\n", " ".repeat(0x400));
    for _ in 0..4 {
        if stream.write_all(chunk.as_bytes()).await.is_err() {
            break;
        }
    }
    let response = read_response(&mut stream).await;
    assert_eq!(response.status, 413, "{}", response.head);
    let error: Value = serde_json::from_str(&response.body).unwrap();
    assert_eq!(error["status"], 413);

    let list: Value = app.get("/clusters", &token).await.json().await.unwrap();
    assert_eq!(list, json!([]));
}

/// Sends a token request head and the start of its body, then nothing more.
async fn stalled_token_request(addr: std::net::SocketAddr) -> TcpStream {
    let mut stalled = TcpStream::connect(addr).await.unwrap();
    stalled
        .write_all(
            b"POST /oauth/token HTTP/1.1\r\nHost: test\r\n\
              Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\n\
              grant_type=",
        )
        .await
        .unwrap();
    stalled
}

/// Reads a 408 in the API's error shape, with the connection closed after it (its body was
/// never read).
async fn assert_408_and_closed(stalled: &mut TcpStream) {
    let response = read_response(stalled).await;
    assert_eq!(response.status, 408, "{}", response.head);
    assert!(
        response
            .head
            .to_ascii_lowercase()
            .contains("connection: close"),
        "{}",
        response.head
    );
    let error: Value = serde_json::from_str(&response.body).unwrap();
    assert_eq!(error["status"], 408);
    closed_within(stalled, Duration::from_secs(2)).await;
}

#[tokio::test]
async fn a_stalled_request_is_408_and_requests_beyond_the_bound_are_shed_with_503() {
    let app = TestApp::spawn_with(&[
        "--request-timeout",
        "1s",
        "--body-read-timeout",
        "10s",
        "--max-concurrent-requests",
        "1",
    ])
    .await;
    // A request whose body never finishes holds the only slot.
    let mut stalled = stalled_token_request(app.addr).await;
    let started = Instant::now();
    tokio::time::sleep(Duration::from_millis(200)).await;

    // Another request is not queued: 503 at once, with Retry-After.
    let shed = app
        .http
        .get(app.url("/.well-known/jwks.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(shed.headers()["retry-after"], "1");
    assert_eq!(shed.headers()["cache-control"], "no-store");
    assert_error(shed, StatusCode::SERVICE_UNAVAILABLE).await;
    // Liveness and readiness never wait behind API work.
    for probe in ["/healthz", "/readyz"] {
        let response = app.http.get(app.url(probe)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{probe}");
    }

    // The stalled one gets 408 after the request timeout.
    assert_408_and_closed(&mut stalled).await;
    let elapsed = started.elapsed();
    assert!(
        elapsed >= Duration::from_millis(900) && elapsed < Duration::from_secs(5),
        "{elapsed:?}"
    );

    // The slot is free again.
    let ok = app
        .http
        .get(app.url("/.well-known/jwks.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_body_that_stops_arriving_is_408_after_the_body_read_timeout_not_the_request_timeout() {
    let app = TestApp::spawn_with(&["--body-read-timeout", "1s"]).await;
    let started = Instant::now();
    let mut stalled = stalled_token_request(app.addr).await;
    assert_408_and_closed(&mut stalled).await;
    let elapsed = started.elapsed();
    assert!(
        elapsed >= Duration::from_millis(900) && elapsed < Duration::from_secs(4),
        "the default request timeout is 30 s; the body had {elapsed:?}"
    );
}

#[tokio::test]
async fn slow_or_silent_clients_cannot_hold_connections() {
    let app = TestApp::spawn_with(&["--header-read-timeout", "1s", "--max-connections", "3"]).await;
    let addr = app.addr;
    // Three connections take every slot: one says nothing, two trickle a header a byte at
    // a time (slow loris), each for at most 10 seconds.
    let silent = tokio::spawn(async move {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        closed_within(&mut stream, Duration::from_secs(5)).await
    });
    let trickling = (0..2)
        .map(|_| {
            tokio::spawn(async move {
                let started = Instant::now();
                let mut stream = TcpStream::connect(addr).await.unwrap();
                stream
                    .write_all(b"GET /healthz HTTP/1.1\r\nHost: test\r\nX-Slow: ")
                    .await
                    .unwrap();
                let mut buf = [0u8; 256];
                for _ in 0..50 {
                    if stream.write_all(b"z").await.is_err() {
                        return started.elapsed();
                    }
                    match tokio::time::timeout(Duration::from_millis(200), stream.read(&mut buf))
                        .await
                    {
                        Ok(Ok(0)) | Ok(Err(_)) => return started.elapsed(),
                        _ => {}
                    }
                }
                panic!("a slow-loris connection was kept open for 10 seconds");
            })
        })
        .collect::<Vec<_>>();
    tokio::time::sleep(Duration::from_millis(100)).await;

    // A normal client gets through once the slow ones have been cut off.
    let started = Instant::now();
    let response = app.http.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(started.elapsed() < Duration::from_secs(5));

    let silent = silent.await.unwrap();
    assert!(silent < Duration::from_secs(4), "{silent:?}");
    for task in trickling {
        let held = task.await.unwrap();
        assert!(held < Duration::from_secs(4), "{held:?}");
    }
}

#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed() {
    let app = TestApp::spawn_with(&[
        "--header-read-timeout",
        "30s",
        "--idle-timeout",
        "2s",
        "--request-timeout",
        "1s",
    ])
    .await;
    let mut stream = TcpStream::connect(app.addr).await.unwrap();
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: test\r\n\r\n")
        .await
        .unwrap();
    assert_eq!(read_response(&mut stream).await.status, 200);
    let idle = closed_within(&mut stream, Duration::from_secs(5)).await;
    assert!(idle >= Duration::from_millis(1500), "{idle:?}");
}

#[tokio::test]
async fn request_heads_over_the_limits_are_431() {
    let app = TestApp::spawn_with(&["--max-header-bytes", "8192", "--max-headers", "20"]).await;
    let big = "v".repeat(9000);
    let response = app
        .http
        .get(app.url("/healthz"))
        .header("x-big", big.as_str())
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE
    );

    let mut request = app.http.get(app.url("/healthz"));
    for i in 0..30 {
        request = request.header(format!("x-header-{i}"), "v");
    }
    let response = request.send().await.unwrap();
    assert_eq!(
        response.status(),
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE
    );

    // Within the limits all is well.
    let response = app
        .http
        .get(app.url("/healthz"))
        .header("x-big", "v".repeat(4000))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn an_idle_timeout_shorter_than_the_request_timeout_is_refused() {
    let data_dir = tempfile::tempdir().unwrap();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_consoled"))
        .args(["serve", "--listen", "127.0.0.1:0"])
        .args(["--idle-timeout", "5s", "--request-timeout", "10s"])
        .env("CONSOLED_DATA_DIR", data_dir.path())
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--idle-timeout"), "{stderr}");
}

/// Writes the whole request, as Python's `requests` and Go's `net/http` do, and only then
/// reads the answer.
async fn send_all_then_read(addr: std::net::SocketAddr, head: &str, body: &[u8]) -> RawResponse {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(head.as_bytes()).await.unwrap();
    stream
        .write_all(body)
        .await
        .expect("the server cut the client off instead of reading the body it refused");
    read_response(&mut stream).await
}

#[tokio::test]
async fn a_client_that_sends_5_mb_before_reading_gets_the_413() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let five_mb = vec![b'x'; 5_000_000];

    // Announced: refused at once, and the body drained so the client reads the answer.
    let head = format!(
        "POST /clusters HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        five_mb.len()
    );
    let response = send_all_then_read(app.addr, &head, &five_mb).await;
    assert_eq!(response.status, 413, "{}", response.head);
    let error: Value = serde_json::from_str(&response.body).unwrap();
    assert_eq!(error["status"], 413);
    assert!(
        error["message"].as_str().unwrap().contains("bytes"),
        "{error}"
    );

    // Not announced (chunked): refused when the limit is crossed, then drained the same way.
    let head = format!(
        "POST /clusters HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    );
    let mut chunked = Vec::new();
    for piece in five_mb.chunks(64 * 1024) {
        chunked.extend_from_slice(format!("{:x}\r\n", piece.len()).as_bytes());
        chunked.extend_from_slice(piece);
        chunked.extend_from_slice(b"\r\n");
    }
    chunked.extend_from_slice(b"0\r\n\r\n");
    let response = send_all_then_read(app.addr, &head, &chunked).await;
    assert_eq!(response.status, 413, "{}", response.head);

    // The token endpoint, in its own error shape.
    let head = format!(
        "POST /oauth/token HTTP/1.1\r\nHost: test\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n",
        five_mb.len()
    );
    let response = send_all_then_read(app.addr, &head, &five_mb).await;
    assert_eq!(response.status, 413, "{}", response.head);
    let error: Value = serde_json::from_str(&response.body).unwrap();
    assert_eq!(error["error"], "invalid_request");

    let list: Value = app.get("/clusters", &token).await.json().await.unwrap();
    assert_eq!(list, json!([]));
}
