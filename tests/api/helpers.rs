//! The test harness: a real server on port 0 with a fresh SQLite database, driven over HTTP.

use std::net::SocketAddr;
use std::time::Duration;

use clap::Parser;
use consoled::app::Application;
use consoled::cli::{Cli, Command};
use consoled::config::ServeArgs;
use reqwest::{Method, Response, StatusCode};
use serde_json::{json, Value};
use tempfile::TempDir;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub const CLIENT_ID: &str = "test-admin-client";
pub const CLIENT_SECRET: &str = "test-admin-secret-0123456789abcdef";
pub const MASTER_KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

pub struct TestApp {
    pub addr: SocketAddr,
    pub base_url: String,
    pub http: reqwest::Client,
    pub data_dir: TempDir,
    pub database_url: String,
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

    /// A Console API token for the bootstrap client.
    pub async fn admin_token(&self) -> String {
        self.token_for(CLIENT_ID, CLIENT_SECRET, "api.cloud.camunda.io")
            .await
    }

    pub async fn token_for(&self, id: &str, secret: &str, audience: &str) -> String {
        let response = self
            .http
            .post(self.url("/oauth/token"))
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", id),
                ("client_secret", secret),
                ("audience", audience),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "token request failed");
        let body: Value = response.json().await.unwrap();
        body["access_token"].as_str().unwrap().to_string()
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

    /// The catalog's first channel, default generation, first region and first plan type.
    pub async fn create_cluster_body(&self, token: &str, name: &str) -> Value {
        let params: Value = self
            .get("/clusters/parameters", token)
            .await
            .json()
            .await
            .unwrap();
        json!({
            "name": name,
            "channelId": params["channels"][0]["uuid"],
            "generationId": params["channels"][0]["defaultGeneration"]["uuid"],
            "regionId": params["regions"][0]["uuid"],
            "planTypeId": params["clusterPlanTypes"][1]["uuid"],
        })
    }

    /// Creates a cluster and returns its id.
    pub async fn create_cluster(&self, token: &str, name: &str) -> String {
        let body = self.create_cluster_body(token, name).await;
        let response = self
            .call(Method::POST, "/clusters", token, Some(body))
            .await;
        assert_eq!(response.status(), StatusCode::OK);
        let created: Value = response.json().await.unwrap();
        created["clusterId"].as_str().unwrap().to_string()
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
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

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

/// Decodes the payload of a JWT without verifying it.
pub fn jwt_claims(token: &str) -> Value {
    use base64::Engine;
    let payload = token.split('.').nth(1).unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
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

fn init_logging() {
    if std::env::var_os("TEST_LOG").is_some() {
        let _ = tracing_subscriber::fmt()
            .with_env_filter("debug,sqlx=warn")
            .try_init();
    }
}

/// An organization created directly in the database, with an all-scopes Console API client.
pub struct OrgFixture {
    pub org_id: String,
    pub client_id: String,
    pub client_secret: String,
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
            Timestamp::now(),
        )
        .await
        .unwrap();
        (credentials.client_id, credentials.client_secret)
    }

    /// Creates another organization with an all-scopes client and returns a token for it.
    pub async fn other_org_token(&self) -> String {
        let org = self.create_org("other").await;
        self.token_for(&org.client_id, &org.client_secret, "api.cloud.camunda.io")
            .await
    }

    /// A token for the bootstrap client narrowed to `scopes` (space-separated).
    pub async fn scoped_token(&self, scopes: &str) -> String {
        let response = self
            .http
            .post(self.url("/oauth/token"))
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", CLIENT_ID),
                ("client_secret", CLIENT_SECRET),
                ("scope", scopes),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "narrowing to {scopes:?}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["scope"], scopes);
        body["access_token"].as_str().unwrap().to_string()
    }

    /// `GET /activity/json`, newest first.
    pub async fn activity(&self, token: &str) -> Vec<Value> {
        let response = self.get("/activity/json", token).await;
        assert_eq!(response.status(), StatusCode::OK);
        response.json().await.unwrap()
    }

    /// The organization id a token was issued for.
    pub fn org_of(token: &str) -> String {
        jwt_claims(token)["https://camunda.com/orgId"]
            .as_str()
            .unwrap()
            .to_string()
    }
}
