//! The test harness: a real server on port 0 with a fresh SQLite database, driven over HTTP,
//! and every helper the HTTP tests share (tokens, clusters, organizations, the audit trail,
//! direct database access, the operator CLI, assertions).

use std::net::SocketAddr;
use std::process::Output;
use std::time::Duration;

use clap::Parser;
use consoled::app::Application;
use consoled::cli::{Cli, Command};
use consoled::config::ServeArgs;
use reqwest::{Method, Response, StatusCode};
use serde_json::{json, Value};
use sqlx::{PgPool, SqlitePool};
use tempfile::TempDir;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub const CLIENT_ID: &str = "test-admin-client";
pub const CLIENT_SECRET: &str = "test-admin-secret-0123456789abcdef";
pub const MASTER_KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
/// The audience of Console API tokens.
pub const CONSOLE_AUDIENCE: &str = "api.cloud.camunda.io";

// ---------------------------------------------------------------------------------------
// The server

pub struct TestApp {
    pub addr: SocketAddr,
    pub base_url: String,
    pub http: reqwest::Client,
    pub data_dir: TempDir,
    pub database_url: String,
    /// The owner's one-time console link printed on the first start (`None` after it).
    pub owner_link: Option<String>,
    extra_args: Vec<String>,
    shutdown: Option<oneshot::Sender<()>>,
    handle: Option<JoinHandle<()>>,
}

fn serve_args(data_dir: &std::path::Path, listen: &str, extra: &[String]) -> ServeArgs {
    let defaults = [
        ("--listen", listen),
        ("--data-dir", data_dir.to_str().unwrap()),
        ("--provision-delay", "300ms"),
        ("--reconcile-interval", "50ms"),
        ("--bootstrap-client-id", CLIENT_ID),
        ("--bootstrap-client-secret", CLIENT_SECRET),
        ("--master-key", MASTER_KEY),
    ];
    let mut argv: Vec<String> = vec!["consoled".into(), "serve".into()];
    for (flag, value) in defaults {
        // A flag given by the test replaces the default.
        if !extra.iter().any(|e| e == flag) {
            argv.push(flag.into());
            argv.push(value.into());
        }
    }
    argv.extend(extra.iter().cloned());
    match Cli::parse_from(argv).command {
        Command::Serve(args) => *args,
        _ => unreachable!(),
    }
}

impl TestApp {
    /// Starts a server with the default test settings.
    pub async fn spawn() -> TestApp {
        Self::spawn_with(&[]).await
    }

    /// Starts a server with extra `serve` flags.
    pub async fn spawn_with(extra: &[&str]) -> TestApp {
        init_logging();
        let data_dir = tempfile::tempdir().unwrap();
        let mut extra: Vec<String> = extra.iter().map(|s| s.to_string()).collect();
        let given_url = extra
            .iter()
            .position(|e| e == "--database-url")
            .map(|i| extra[i + 1].clone());
        let database_url = match given_url {
            Some(url) => url,
            None => match test_backend_url().await {
                Some(url) => {
                    extra.extend(["--database-url".to_string(), url.clone()]);
                    url
                }
                None => format!("sqlite://{}", data_dir.path().join("consoled.db").display()),
            },
        };
        // Serving TLS: trust the test's certificate.
        let mut http = reqwest::Client::builder().timeout(Duration::from_secs(30));
        if let Some(i) = extra.iter().position(|e| e == "--tls-cert") {
            let pem = std::fs::read(&extra[i + 1]).unwrap();
            http = http.add_root_certificate(reqwest::Certificate::from_pem(&pem).unwrap());
        }
        let mut app = TestApp {
            addr: "127.0.0.1:0".parse().unwrap(),
            base_url: String::new(),
            http: http.build().unwrap(),
            data_dir,
            database_url,
            owner_link: None,
            extra_args: extra,
            shutdown: None,
            handle: None,
        };
        app.start("127.0.0.1:0").await;
        app
    }

    async fn start(&mut self, listen: &str) {
        let args = serve_args(self.data_dir.path(), listen, &self.extra_args);
        let app = Application::build(args).await.expect("server builds");
        self.addr = app.local_addr();
        if let Some(link) = &app.first_owner_link {
            self.owner_link = Some(link.clone());
        }
        let scheme = if app.serves_tls() { "https" } else { "http" };
        self.base_url = format!("{scheme}://{}", self.addr);
        let (tx, rx) = oneshot::channel();
        self.shutdown = Some(tx);
        self.handle = Some(tokio::spawn(async move {
            app.run_until(async {
                let _ = rx.await;
            })
            .await
            .expect("server runs");
        }));
    }

    /// Stops the server gracefully and starts it again on the same port and data dir.
    pub async fn restart(&mut self) {
        self.stop().await;
        let listen = self.addr.to_string();
        self.start(&listen).await;
    }

    pub async fn stop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(handle) = self.handle.take() {
            handle.await.unwrap();
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base_url, path)
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// With CONSOLED_TEST_BACKEND=postgres (and CONSOLED_TEST_POSTGRES_URL), every test server
/// runs on a fresh PostgreSQL database instead of SQLite.
pub async fn test_backend_url() -> Option<String> {
    if std::env::var("CONSOLED_TEST_BACKEND").ok().as_deref() != Some("postgres") {
        return None;
    }
    let admin = crate::postgres::admin_url()
        .expect("CONSOLED_TEST_BACKEND=postgres needs CONSOLED_TEST_POSTGRES_URL");
    Some(crate::postgres::fresh_database(&admin).await)
}

/// A port nobody listens on right now.
pub fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

fn init_logging() {
    if std::env::var_os("TEST_LOG").is_some() {
        let _ = tracing_subscriber::fmt()
            .with_env_filter("debug,sqlx=warn")
            .try_init();
    }
}

// ---------------------------------------------------------------------------------------
// Tokens

/// A client-credentials request to the token endpoint of the server at `base` (a `TestApp`,
/// a `ServerProcess` or a replica); asserts a 200 and returns the token response.
pub async fn token_response(http: &reqwest::Client, base: &str, form: &[(&str, &str)]) -> Value {
    let mut fields = vec![("grant_type", "client_credentials")];
    fields.extend_from_slice(form);
    let response = http
        .post(format!("{base}/oauth/token"))
        .form(&fields)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK, "token request failed");
    response.json().await.unwrap()
}

/// A Console API token of the bootstrap client from the server at `base`.
pub async fn bootstrap_token(http: &reqwest::Client, base: &str) -> String {
    let form = [("client_id", CLIENT_ID), ("client_secret", CLIENT_SECRET)];
    access_token(&token_response(http, base, &form).await)
}

fn access_token(response: &Value) -> String {
    response["access_token"].as_str().unwrap().to_string()
}

/// Decodes the payload of a JWT without verifying it.
pub fn jwt_claims(token: &str) -> Value {
    use base64::Engine;
    let payload = token.split('.').nth(1).unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

impl TestApp {
    /// A Console API token for the bootstrap client.
    pub async fn admin_token(&self) -> String {
        self.token_for(CLIENT_ID, CLIENT_SECRET, CONSOLE_AUDIENCE)
            .await
    }

    pub async fn token_for(&self, id: &str, secret: &str, audience: &str) -> String {
        let form = [
            ("client_id", id),
            ("client_secret", secret),
            ("audience", audience),
        ];
        access_token(&token_response(&self.http, &self.base_url, &form).await)
    }

    /// A Console API token for the bootstrap client narrowed to `scopes` (space-separated).
    pub async fn scoped_token(&self, scopes: &str) -> String {
        let form = [
            ("client_id", CLIENT_ID),
            ("client_secret", CLIENT_SECRET),
            ("audience", CONSOLE_AUDIENCE),
            ("scope", scopes),
        ];
        let body = token_response(&self.http, &self.base_url, &form).await;
        assert_eq!(body["scope"], scopes, "narrowing to {scopes:?}");
        access_token(&body)
    }

    /// Creates another organization with an all-scopes client and returns a token for it.
    pub async fn other_org_token(&self) -> String {
        let org = self.create_org("other").await;
        self.token_for(&org.client_id, &org.client_secret, CONSOLE_AUDIENCE)
            .await
    }

    /// The organization id a token was issued for.
    pub fn org_of(token: &str) -> String {
        jwt_claims(token)["https://camunda.com/orgId"]
            .as_str()
            .unwrap()
            .to_string()
    }
}

// ---------------------------------------------------------------------------------------
// Requests

impl TestApp {
    /// Invites `member` (as it goes in the path) as a developer; asserts the 204.
    pub async fn invite_developer(&self, token: &str, member: &str) {
        let invited = self
            .call(
                Method::POST,
                &format!("/members/{member}"),
                token,
                Some(json!({"orgRoles": ["developer"]})),
            )
            .await;
        assert_eq!(invited.status(), StatusCode::NO_CONTENT, "invite {member}");
    }

    /// Sends a request with a bearer token and an optional JSON body.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> Response {
        let mut request = self.http.request(method, self.url(path)).bearer_auth(token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        request.send().await.unwrap()
    }

    pub async fn get(&self, path: &str, token: &str) -> Response {
        self.call(Method::GET, path, token, None).await
    }

    /// A POST or PUT the way the JS SDK sends body-less ones: `content-type:
    /// application/json` and an empty body.
    pub async fn send_empty(&self, method: Method, path: &str, token: &str) -> Response {
        self.http
            .request(method, self.url(path))
            .bearer_auth(token)
            .header("content-type", "application/json")
            .body("")
            .send()
            .await
            .unwrap()
    }
}

// ---------------------------------------------------------------------------------------
// Clusters

/// `GET /clusters/parameters` of the server at `base`: the catalog.
pub async fn cluster_parameters(http: &reqwest::Client, base: &str, token: &str) -> Value {
    let response = http
        .get(format!("{base}/clusters/parameters"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

/// A create body from the catalog's first channel, its default generation, the first region
/// and the second plan type.
pub fn default_cluster_body(params: &Value, name: &str) -> Value {
    json!({
        "name": name,
        "channelId": params["channels"][0]["uuid"],
        "generationId": params["channels"][0]["defaultGeneration"]["uuid"],
        "regionId": params["regions"][0]["uuid"],
        "planTypeId": params["clusterPlanTypes"][1]["uuid"],
    })
}

/// The built-in catalog's Stable channel lists an older generation first.
pub struct Generations {
    pub old: String,
    pub new: String,
}

impl TestApp {
    /// `GET /clusters/parameters`: the catalog.
    pub async fn parameters(&self, token: &str) -> Value {
        cluster_parameters(&self.http, &self.base_url, token).await
    }

    /// The catalog's first channel, default generation, first region and second plan type.
    pub async fn create_cluster_body(&self, token: &str, name: &str) -> Value {
        default_cluster_body(&self.parameters(token).await, name)
    }

    /// Creates a cluster and returns its id.
    pub async fn create_cluster(&self, token: &str, name: &str) -> String {
        self.create_cluster_with(token, name, json!({})).await
    }

    /// Creates a cluster from the default body with `overrides` merged in; returns its id.
    pub async fn create_cluster_with(&self, token: &str, name: &str, overrides: Value) -> String {
        let mut body = self.create_cluster_body(token, name).await;
        for (key, value) in overrides.as_object().unwrap() {
            body[key] = value.clone();
        }
        let response = self
            .call(Method::POST, "/clusters", token, Some(body))
            .await;
        assert_eq!(response.status(), StatusCode::OK);
        let created: Value = response.json().await.unwrap();
        created["clusterId"].as_str().unwrap().to_string()
    }

    /// Creates a cluster and waits until it is Healthy; returns its id.
    pub async fn healthy_cluster(&self, token: &str, name: &str) -> String {
        let id = self.create_cluster(token, name).await;
        self.wait_healthy(token, &id).await;
        id
    }

    /// `GET /clusters/{id}`, asserting a 200.
    pub async fn cluster_json(&self, token: &str, id: &str) -> Value {
        let response = self.get(&format!("/clusters/{id}"), token).await;
        assert_eq!(response.status(), StatusCode::OK);
        response.json().await.unwrap()
    }

    /// Polls the cluster until `ready` is Healthy.
    pub async fn wait_healthy(&self, token: &str, cluster_id: &str) -> Value {
        self.wait_status(token, cluster_id, "Healthy").await
    }

    pub async fn wait_status(&self, token: &str, cluster_id: &str, wanted: &str) -> Value {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
        loop {
            let cluster: Value = self
                .get(&format!("/clusters/{cluster_id}"), token)
                .await
                .json()
                .await
                .unwrap();
            if cluster["status"]["ready"] == wanted {
                return cluster;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "cluster never became {wanted}: {cluster}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The older and the default generation of the Stable channel.
    pub async fn stable_generations(&self, token: &str) -> Generations {
        let params = self.parameters(token).await;
        let stable = &params["channels"][0];
        let allowed = stable["allowedGenerations"].as_array().unwrap();
        Generations {
            old: allowed[0]["uuid"].as_str().unwrap().to_string(),
            new: stable["defaultGeneration"]["uuid"]
                .as_str()
                .unwrap()
                .to_string(),
        }
    }

    /// Plan types of the built-in catalog by position: 0 is the (suspendable) trial plan.
    pub async fn plan_type(&self, token: &str, index: usize) -> String {
        self.parameters(token).await["clusterPlanTypes"][index]["uuid"]
            .as_str()
            .unwrap()
            .to_string()
    }
}

// ---------------------------------------------------------------------------------------
// Organizations, the audit trail, the database and the operator CLI

/// An organization created directly in the database, with an all-scopes Console API client.
pub struct OrgFixture {
    pub org_id: String,
    pub client_id: String,
    pub client_secret: String,
}

/// Runs `$body` with `$db` a pool on the app's database, on either backend.
macro_rules! with_database {
    ($app:expr, |$db:ident| $body:expr) => {
        if $app.database_url.starts_with("postgres") {
            let $db = PgPool::connect(&$app.database_url).await.unwrap();
            let value = $body;
            $db.close().await;
            value
        } else {
            let $db = SqlitePool::connect(&$app.database_url).await.unwrap();
            let value = $body;
            $db.close().await;
            value
        }
    };
}

impl TestApp {
    /// The test server's store and keyring, opened from this process as the CLI would.
    pub async fn open_store(
        &self,
    ) -> (
        std::sync::Arc<dyn consoled::storage::Store>,
        consoled::crypto::Keyring,
    ) {
        let store = consoled::storage::open(&self.database_url).await.unwrap();
        let keyring =
            consoled::crypto::Keyring::load(Some(MASTER_KEY), self.data_dir.path()).unwrap();
        (store, keyring)
    }

    /// Creates an organization (owned by `owner@<name>.example.com`) with an all-scopes client.
    pub async fn create_org(&self, name: &str) -> OrgFixture {
        use consoled::domain::Timestamp;
        let (store, _) = self.open_store().await;
        let owner = format!("owner@{name}.example.com");
        let org = consoled::operator::orgs::create(store.as_ref(), name, &owner, Timestamp::now())
            .await
            .unwrap();
        let (client_id, client_secret) = self.create_api_client(&org.id, "all").await;
        OrgFixture {
            org_id: org.id,
            client_id,
            client_secret,
        }
    }

    /// Creates a Console API client with `scopes` (comma-separated, or `all`) in `org_id`.
    pub async fn create_api_client(&self, org_id: &str, scopes: &str) -> (String, String) {
        use consoled::domain::Timestamp;
        use consoled::operator::api_clients;
        let (store, keyring) = self.open_store().await;
        let scopes = api_clients::parse_scopes(scopes).unwrap();
        let credentials = api_clients::create(
            store.as_ref(),
            &keyring,
            "test client",
            scopes,
            Some(org_id),
            consoled::operator::OPERATOR,
            Timestamp::now(),
        )
        .await
        .unwrap();
        (credentials.client_id, credentials.client_secret)
    }

    /// The token's organization's audit trail: `GET /activity/json`, newest first.
    pub async fn activity(&self, token: &str) -> Vec<Value> {
        let response = self.get("/activity/json", token).await;
        assert_eq!(response.status(), StatusCode::OK);
        response.json().await.unwrap()
    }

    /// Runs a scalar query (`$1`-style placeholders) directly on the server's database, for
    /// checks the API cannot express. Works on either backend.
    pub async fn query_i64(&self, sql: &str, args: &[&str]) -> i64 {
        with_database!(self, |db| {
            let mut query = sqlx::query_scalar(sql);
            for arg in args {
                query = query.bind(*arg);
            }
            query.fetch_one(&db).await.unwrap()
        })
    }

    /// Runs a statement directly on the server's database (as someone with database access
    /// could). Works on either backend.
    pub async fn execute_sql(&self, sql: &str, args: &[&str]) {
        with_database!(self, |db| {
            let mut query = sqlx::query(sql);
            for arg in args {
                query = query.bind(*arg);
            }
            query.execute(&db).await.unwrap();
        })
    }

    /// Rows of `table` that belong to `cluster_id`.
    pub async fn rows_of_cluster(&self, table: &str, cluster_id: &str) -> i64 {
        let sql = format!("SELECT COUNT(*) FROM {table} WHERE cluster_id = $1");
        self.query_i64(&sql, &[cluster_id]).await
    }

    /// Runs the real `consoled <args>` on the app's data dir and database, with the server's
    /// master key, as an operator would.
    pub async fn consoled(&self, args: &[&str]) -> Output {
        tokio::process::Command::new(env!("CARGO_BIN_EXE_consoled"))
            .args(args)
            .env("CONSOLED_DATA_DIR", self.data_dir.path())
            .env("CONSOLED_DATABASE_URL", &self.database_url)
            .env("CONSOLED_MASTER_KEY", MASTER_KEY)
            .env("CONSOLED_LOG", "warn")
            .output()
            .await
            .expect("the consoled binary runs")
    }
}

// ---------------------------------------------------------------------------------------
// Assertions and polling

/// Asserts the status and the API's error shape; returns the message.
pub async fn assert_error(response: Response, status: StatusCode) -> String {
    assert_eq!(response.status(), status);
    assert_eq!(
        response.headers()["content-type"].to_str().unwrap(),
        "application/json"
    );
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], status.as_u16(), "{body}");
    let message = body["message"]
        .as_str()
        .expect("error has a message")
        .to_string();
    assert!(!message.is_empty());
    message
}

/// Asserts a 204 with a really empty body (the JS SDK parses it as JSON).
pub async fn assert_no_content(response: Response) {
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert!(
        response.bytes().await.unwrap().is_empty(),
        "a 204 has no body"
    );
}

/// Asserts that `text` is an RFC 3339 time.
pub fn assert_rfc3339(text: &str) {
    assert!(
        time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).is_ok(),
        "{text:?} is not RFC 3339"
    );
}

/// Whether `needle` (not empty) occurs in `haystack`, byte for byte.
pub fn contains(haystack: &[u8], needle: &str) -> bool {
    !needle.is_empty()
        && haystack
            .windows(needle.len())
            .any(|w| w == needle.as_bytes())
}

/// Polls `probe` until it returns `Some`, for at most 15 seconds.
pub async fn eventually<T, F, Fut>(what: &str, probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    eventually_within(what, Duration::from_secs(15), probe).await
}

/// Polls `probe` until it returns `Some`, for at most `within`.
pub async fn eventually_within<T, F, Fut>(what: &str, within: Duration, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + within;
    loop {
        if let Some(found) = probe().await {
            return found;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The exposition of consoled's own metrics served on `--metrics-listen address`.
pub async fn scrape_metrics(http: &reqwest::Client, address: &str) -> String {
    let response = http
        .get(format!("http://{address}/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    response.text().await.unwrap()
}

/// Polls the cluster on the server at `base` until its `ready` is `wanted`, for at most
/// `within`; returns it.
pub async fn wait_cluster_status(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    cluster_id: &str,
    wanted: &str,
    within: Duration,
) -> Value {
    eventually_within(
        &format!("cluster {cluster_id} to be {wanted}"),
        within,
        || async {
            let cluster: Value = http
                .get(format!("{base}/clusters/{cluster_id}"))
                .bearer_auth(token)
                .send()
                .await
                .ok()?
                .json()
                .await
                .ok()?;
            (cluster["status"]["ready"] == wanted).then_some(cluster)
        },
    )
    .await
}
