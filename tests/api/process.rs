//! The real `consoled` binary as a child process, for tests that kill it or read its log.
//! It runs on SQLite in its data dir, or on a fresh PostgreSQL database under
//! CONSOLED_TEST_BACKEND=postgres (kept across restarts of the same `ServerProcess`).

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use tokio::process::{Child, Command};

use crate::helpers::{
    bootstrap_token, free_port, test_backend_url, CLIENT_ID, CLIENT_SECRET, MASTER_KEY,
};

pub struct ServerProcess {
    child: Option<Child>,
    pub port: u16,
    pub base: String,
    pub data_dir: PathBuf,
    /// Where stderr goes when logging was asked for.
    pub log_path: Option<PathBuf>,
    pub database_url: String,
    args: Vec<String>,
    env: Vec<(String, String)>,
}

impl ServerProcess {
    /// Starts `consoled serve` with the test's bootstrap client and master key, plus `args`
    /// and `env`; with `log`, stderr is appended to `<data_dir>/server.log`.
    pub async fn start(data_dir: &Path, args: &[&str], env: &[(&str, &str)], log: bool) -> Self {
        let database_url = match test_backend_url().await {
            Some(url) => url,
            None => format!("sqlite://{}", data_dir.join("consoled.db").display()),
        };
        let port = free_port();
        let mut server = ServerProcess {
            child: None,
            port,
            base: format!("http://127.0.0.1:{port}"),
            data_dir: data_dir.to_path_buf(),
            log_path: log.then(|| data_dir.join("server.log")),
            database_url,
            args: args.iter().map(|s| s.to_string()).collect(),
            env: env
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        };
        server.spawn().await;
        server
    }

    async fn spawn(&mut self) {
        let stderr = match &self.log_path {
            Some(path) => Stdio::from(
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)
                    .unwrap(),
            ),
            None => Stdio::null(),
        };
        let child = Command::new(env!("CARGO_BIN_EXE_consoled"))
            .args(["serve", "--listen", &format!("127.0.0.1:{}", self.port)])
            .args(["--database-url", &self.database_url])
            .args(&self.args)
            .env("CONSOLED_DATA_DIR", &self.data_dir)
            .env("CONSOLED_MASTER_KEY", MASTER_KEY)
            .env("CONSOLED_BOOTSTRAP_CLIENT_ID", CLIENT_ID)
            .env("CONSOLED_BOOTSTRAP_CLIENT_SECRET", CLIENT_SECRET)
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdout(Stdio::null())
            .stderr(stderr)
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        self.child = Some(child);
        let http = reqwest::Client::new();
        for _ in 0..200 {
            if http
                .get(format!("{}/healthz", self.base))
                .send()
                .await
                .is_ok()
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the server did not start");
    }

    /// SIGKILL: no shutdown code runs.
    pub async fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.start_kill().unwrap();
            child.wait().await.unwrap();
        }
    }

    /// Kills the server and starts it again on the same port and database.
    pub async fn restart_after_kill(&mut self) {
        self.kill().await;
        self.spawn().await;
    }

    /// Everything the server logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log_path.as_ref().expect("started with a log")).unwrap()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A Console API token for the bootstrap client.
    pub async fn admin_token(&self, http: &reqwest::Client) -> String {
        bootstrap_token(http, &self.base).await
    }
}
