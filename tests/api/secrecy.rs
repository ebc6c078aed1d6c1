//! Secrets stay secret. The real binary runs the whole flow with every log level on
//! (`CONSOLED_LOG=trace`), through success and failure paths; then no client secret,
//! connector-secret value, monitoring password, access token or master key may appear in
//! its log, in the activity trail, or in any error body, and none of the secrets that are
//! kept hashed or encrypted may appear in the database.

use std::time::Duration;

use base64::Engine;
use reqwest::{Method, Response};
use serde_json::{json, Value};

use crate::helpers::*;
use crate::process::ServerProcess;

/// Drives the API over HTTP, keeping every error body it is answered with.
struct Flow {
    http: reqwest::Client,
    server: ServerProcess,
    error_bodies: Vec<String>,
}

impl Flow {
    async fn send(&mut self, request: reqwest::RequestBuilder) -> (u16, String) {
        let response: Response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        if status >= 400 {
            self.error_bodies.push(text.clone());
        }
        (status, text)
    }

    async fn call(
        &mut self,
        method: Method,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut request = self
            .http
            .request(method, self.server.url(path))
            .bearer_auth(token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let (status, text) = self.send(request).await;
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    async fn token(&mut self, fields: &[(&str, &str)]) -> (u16, Value) {
        let request = self.http.post(self.server.url("/oauth/token")).form(fields);
        let (status, text) = self.send(request).await;
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    async fn scrape(&mut self, cluster: &str, user: &str, password: &str) -> u16 {
        let request = self
            .http
            .get(self.server.url(&format!("/monitoring/{cluster}/metrics")))
            .basic_auth(user, Some(password));
        self.send(request).await.0
    }
}

/// The database as bytes: SQLite's files, or on PostgreSQL every row of every table as
/// JSON text.
async fn database_contents(server: &ServerProcess) -> Vec<u8> {
    if server.database_url.starts_with("sqlite:") {
        let mut bytes = Vec::new();
        for file in ["consoled.db", "consoled.db-wal", "consoled.db-shm"] {
            if let Ok(content) = std::fs::read(server.data_dir.join(file)) {
                bytes.extend(content);
            }
        }
        return bytes;
    }
    let db = sqlx::PgPool::connect(&server.database_url).await.unwrap();
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT table_name::text FROM information_schema.tables WHERE table_schema = 'public'",
    )
    .fetch_all(&db)
    .await
    .unwrap();
    let mut bytes = Vec::new();
    for table in tables {
        let rows: Vec<String> =
            sqlx::query_scalar(&format!("SELECT row_to_json(t)::text FROM \"{table}\" t"))
                .fetch_all(&db)
                .await
                .unwrap();
        for row in rows {
            bytes.extend(row.into_bytes());
        }
    }
    bytes
}

fn hex(text: &str) -> String {
    text.bytes().map(|b| format!("{b:02x}")).collect()
}

#[tokio::test]
async fn no_secret_reaches_the_log_the_audit_trail_error_bodies_or_the_database() {
    secrets_stay_secret("text").await;
}

/// The same with `--log-format json`, for log pipelines: every line is one JSON object.
#[tokio::test]
async fn no_secret_reaches_json_logs_or_the_metrics_either() {
    secrets_stay_secret("json").await;
}

/// The whole flow, logging in `log_format`, with consoled's own metrics served (their
/// exposition is checked for secrets like the log).
async fn secrets_stay_secret(log_format: &str) {
    let data_dir = tempfile::tempdir().unwrap();
    let metrics_address = format!("127.0.0.1:{}", free_port());
    let server = ServerProcess::start(
        data_dir.path(),
        &[
            "--provision-delay",
            "0s",
            "--reconcile-interval",
            "100ms",
            "--log-format",
            log_format,
            "--metrics-listen",
            &metrics_address,
        ],
        &[("CONSOLED_LOG", "trace")],
        true,
    )
    .await;
    let mut flow = Flow {
        http: reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap(),
        server,
        error_bodies: Vec::new(),
    };
    // Secrets that must never show, and whether they are kept (hashed or encrypted) in the
    // database.
    let mut secrets: Vec<(String, &str)> = vec![
        (CLIENT_SECRET.to_string(), "the bootstrap client secret"),
        (MASTER_KEY.to_string(), "the master key"),
    ];
    let wrong_secret = "wrong-secret-canary-4b1d9e";
    let connector_values = [
        "connector-canary-created-5a1f",
        "connector-canary-updated-e02b",
    ];

    // Tokens: form, JSON, HTTP Basic; a wrong secret, a malformed body.
    let credentials = [
        ("grant_type", "client_credentials"),
        ("client_id", CLIENT_ID),
        ("client_secret", CLIENT_SECRET),
    ];
    let (status, body) = flow.token(&credentials).await;
    assert_eq!(status, 200);
    let token = body["access_token"].as_str().unwrap().to_string();
    let json_request = flow
        .http
        .post(flow.server.url("/oauth/token"))
        .json(&json!({"grant_type": "client_credentials", "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}));
    assert_eq!(flow.send(json_request).await.0, 200);
    let basic = flow
        .http
        .post(flow.server.url("/oauth/token"))
        .basic_auth(CLIENT_ID, Some(CLIENT_SECRET))
        .form(&[("grant_type", "client_credentials"), ("scope", "nonsense")]);
    assert_eq!(flow.send(basic).await.0, 400);
    let (status, _) = flow
        .token(&[
            ("grant_type", "client_credentials"),
            ("client_id", CLIENT_ID),
            ("client_secret", wrong_secret),
        ])
        .await;
    assert_eq!(status, 401);
    let (status, _) = flow
        .token(&[
            ("grant_type", "password"),
            ("client_id", CLIENT_ID),
            ("client_secret", CLIENT_SECRET),
        ])
        .await;
    assert_eq!(status, 400);
    let malformed = flow
        .http
        .post(flow.server.url("/oauth/token"))
        .header("content-type", "application/json")
        .body(format!("{{\"client_secret\": \"{CLIENT_SECRET}\""));
    assert_eq!(flow.send(malformed).await.0, 400);
    secrets.push((wrong_secret.to_string(), "a wrong secret"));
    secrets.push((token.clone(), "an access token"));

    // A cluster and a cluster client, whose token is fetched too.
    let (_, params) = flow
        .call(Method::GET, "/clusters/parameters", &token, None)
        .await;
    let (status, created) = flow
        .call(
            Method::POST,
            "/clusters",
            &token,
            Some(json!({
                "name": "logged",
                "channelId": params["channels"][0]["uuid"],
                "generationId": params["channels"][0]["defaultGeneration"]["uuid"],
                "regionId": params["regions"][0]["uuid"],
                "planTypeId": params["clusterPlanTypes"][1]["uuid"],
            })),
        )
        .await;
    assert_eq!(status, 200);
    let cluster = created["clusterId"].as_str().unwrap().to_string();
    for _ in 0..100 {
        let (_, c) = flow
            .call(Method::GET, &format!("/clusters/{cluster}"), &token, None)
            .await;
        if c["status"]["ready"] == "Healthy" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (status, client) = flow
        .call(
            Method::POST,
            &format!("/clusters/{cluster}/clients"),
            &token,
            Some(json!({"clientName": "worker"})),
        )
        .await;
    assert_eq!(status, 200, "{client}");
    let client_id = client["clientId"].as_str().unwrap().to_string();
    let client_secret = client["clientSecret"].as_str().unwrap().to_string();
    let (status, zeebe) = flow
        .token(&[
            ("grant_type", "client_credentials"),
            ("client_id", &client_id),
            ("client_secret", &client_secret),
            ("audience", "zeebe.camunda.io"),
        ])
        .await;
    assert_eq!(status, 200);
    let zeebe_token = zeebe["access_token"].as_str().unwrap().to_string();
    // A Zeebe token on the Console API, and a damaged Console token.
    assert_eq!(
        flow.call(Method::GET, "/clusters", &zeebe_token, None)
            .await
            .0,
        401
    );
    let damaged = format!("{token}x");
    assert_eq!(
        flow.call(Method::GET, "/clusters", &damaged, None).await.0,
        401
    );
    secrets.push((client_secret.clone(), "a cluster client secret"));
    secrets.push((zeebe_token.clone(), "a Zeebe access token"));

    // Connector secrets, through success and failure.
    let path = format!("/clusters/{cluster}/secrets");
    for (body, expected) in [
        (
            json!({"secretName": "LOGGED", "secretValue": connector_values[0]}),
            204,
        ),
        (
            json!({"secretName": "LOGGED", "secretValue": connector_values[0]}),
            409,
        ),
        (
            json!({"secretName": "BAD NAME", "secretValue": connector_values[0]}),
            400,
        ),
        (
            json!({"secretName": "X", "secretValue": connector_values[0], "extra": 1}),
            400,
        ),
    ] {
        assert_eq!(
            flow.call(Method::POST, &path, &token, Some(body)).await.0,
            expected
        );
    }
    let update = json!({"secretValue": connector_values[1]});
    assert_eq!(
        flow.call(
            Method::PUT,
            &format!("{path}/LOGGED"),
            &token,
            Some(update.clone())
        )
        .await
        .0,
        204
    );
    assert_eq!(
        flow.call(
            Method::PUT,
            &format!("{path}/MISSING"),
            &token,
            Some(update)
        )
        .await
        .0,
        404
    );
    let (status, listed) = flow.call(Method::GET, &path, &token, None).await;
    assert_eq!(
        (status, &listed["LOGGED"]),
        (200, &json!(connector_values[1]))
    );
    for value in connector_values {
        secrets.push((value.to_string(), "a connector secret value"));
    }

    // Monitoring: a password, a scrape, a rotation, the old password refused.
    let monitoring = format!("/clusters/{cluster}/monitoring");
    let activate = flow
        .http
        .post(flow.server.url(&monitoring))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body("");
    assert_eq!(flow.send(activate).await.0, 204);
    let (status, monitor) = flow
        .call(
            Method::POST,
            &format!("{monitoring}/clients"),
            &token,
            Some(json!({"username": "prometheus"})),
        )
        .await;
    assert_eq!(status, 200);
    let password = monitor["password"].as_str().unwrap().to_string();
    assert_eq!(flow.scrape(&cluster, "prometheus", &password).await, 200);
    let rotate = format!(
        "{monitoring}/clients/{}/rotate",
        monitor["uuid"].as_str().unwrap()
    );
    let (status, rotated) = flow.call(Method::POST, &rotate, &token, None).await;
    assert_eq!(status, 200);
    let new_password = rotated["password"].as_str().unwrap().to_string();
    assert_eq!(flow.scrape(&cluster, "prometheus", &password).await, 401);
    assert_eq!(
        flow.scrape(&cluster, "prometheus", &new_password).await,
        200
    );
    secrets.push((password.clone(), "a monitoring password"));
    secrets.push((new_password.clone(), "a rotated monitoring password"));

    // The activity trail, both forms.
    let (status, activity) = flow.call(Method::GET, "/activity/json", &token, None).await;
    assert_eq!(status, 200);
    assert!(activity.as_array().unwrap().len() >= 5);
    let csv = flow
        .http
        .get(flow.server.url("/activity/csv"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();

    let metrics = scrape_metrics(&flow.http, &metrics_address).await;
    assert!(
        metrics.contains("consoled_http_requests_total"),
        "{metrics}"
    );

    let mut server = flow.server;
    server.kill().await;
    let log = server.log();
    assert!(log.contains("DEBUG"), "logging was on");
    if log_format == "json" {
        for line in log.lines() {
            let parsed: Value =
                serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
            assert!(parsed["timestamp"].is_string() && parsed["level"].is_string());
        }
    }
    assert!(
        log.contains("bearer token rejected"),
        "refusals were logged"
    );
    let errors = flow.error_bodies.join("\n");
    assert!(flow.error_bodies.len() >= 10);
    let trail = format!("{activity}\n{csv}");
    let encoded_master_key = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(
        base64::engine::general_purpose::STANDARD
            .decode(MASTER_KEY)
            .unwrap(),
    );
    secrets.push((encoded_master_key, "the master key, URL-safe"));
    for (secret, what) in &secrets {
        assert!(!log.contains(secret.as_str()), "{what} is in the log");
        assert!(
            !metrics.contains(secret.as_str()),
            "{what} is in the metrics"
        );
        assert!(
            !trail.contains(secret.as_str()),
            "{what} is in the audit trail"
        );
        assert!(
            !errors.contains(secret.as_str()),
            "{what} is in an error body"
        );
    }
    // Token signatures alone are secrets too (a log line might cut the token).
    for token in [&token, &zeebe_token] {
        let signature = token.rsplit('.').next().unwrap();
        assert!(!log.contains(signature), "a token signature is in the log");
    }

    // At rest: the hashed and encrypted ones are not in the database in any plain form.
    let database = database_contents(&server).await;
    assert!(
        contains(&database, "LOGGED"),
        "the check reads the database"
    );
    let at_rest = [
        (CLIENT_SECRET, "the bootstrap client secret"),
        (client_secret.as_str(), "a cluster client secret"),
        (password.as_str(), "a monitoring password"),
        (new_password.as_str(), "a rotated monitoring password"),
        (connector_values[0], "a connector secret value"),
        (connector_values[1], "a connector secret value"),
        (MASTER_KEY, "the master key"),
        (token.as_str(), "an access token"),
    ];
    for (secret, what) in at_rest {
        assert!(!contains(&database, secret), "{what} is in the database");
        assert!(
            !contains(&database, &hex(secret)),
            "{what} is in the database as hex"
        );
    }
}
