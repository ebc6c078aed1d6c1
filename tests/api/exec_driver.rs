//! The exec provisioning driver end to end: the real binary runs `tests/driver/hook.mjs`,
//! which starts a real process per cluster (`tests/driver/cluster.mjs`) that serves health
//! URLs and verifies bearer tokens against consoled's discovery document and JWKS, as a
//! Camunda cluster configured to trust consoled would. Needs Node; under CI a missing Node
//! fails the test.

use std::path::{Path, PathBuf};
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::*;
use crate::process::ServerProcess;

const BASE_DOMAIN: &str = "camunda.test";

fn node_available() -> bool {
    let found = std::process::Command::new("node")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        assert!(
            std::env::var_os("CI").is_none_or(|ci| ci.is_empty()),
            "Node is required in CI for the exec driver tests"
        );
        eprintln!("skipped: Node is not installed (the test driver is a Node script)");
    }
    found
}

fn driver_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/driver")
}

/// A server with the exec driver and the test hook; its driver state lives in `state`.
async fn server(data: &Path, state: &Path) -> ServerProcess {
    server_with(data, state, &[]).await
}

async fn server_with(data: &Path, state: &Path, extra: &[&str]) -> ServerProcess {
    let hook = driver_dir().join("hook.mjs");
    let mut args = vec![
        "--driver",
        "exec",
        "--driver-command",
        hook.to_str().unwrap(),
        "--health-interval",
        "300ms",
        "--reconcile-interval",
        "100ms",
        "--driver-timeout",
        "20s",
        "--base-domain",
        BASE_DOMAIN,
    ];
    args.extend_from_slice(extra);
    ServerProcess::start(
        data,
        &args,
        &[("CONSOLED_TEST_DRIVER_DIR", state.to_str().unwrap())],
        true,
    )
    .await
}

/// Kills every fake cluster started with state dir `0` when the test ends, passed or not.
struct Reaper(PathBuf);

impl Drop for Reaper {
    fn drop(&mut self) {
        let Some(dir) = self.0.to_str() else { return };
        for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
            let Some(pid) = entry
                .file_name()
                .to_str()
                .and_then(|p| p.parse::<i64>().ok())
            else {
                continue;
            };
            if std::fs::read(entry.path().join("cmdline")).is_ok_and(|c| contains(&c, dir)) {
                kill(pid);
            }
        }
    }
}

/// Every call the hook received, oldest first.
fn calls(state: &Path) -> Vec<Value> {
    std::fs::read_to_string(state.join("calls.jsonl"))
        .unwrap_or_default()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

fn calls_of(state: &Path, cluster: &str, action: &str) -> Vec<Value> {
    calls(state)
        .into_iter()
        .filter(|c| c["action"] == action && c["input"]["cluster"]["uuid"] == cluster)
        .collect()
}

/// The fake cluster's record: pid and port.
fn record(state: &Path, cluster: &str) -> Option<Value> {
    let text = std::fs::read_to_string(state.join(format!("{cluster}.json"))).ok()?;
    serde_json::from_str(&text).ok()
}

/// Whether a process runs (a zombie does not count: orphans may wait to be reaped).
/// Running fake-cluster processes of `cluster` (zombies excepted).
fn cluster_processes(cluster: &str) -> usize {
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| {
            let path = e.ok()?.path();
            let pid: i64 = path.file_name()?.to_str()?.parse().ok()?;
            let cmdline = std::fs::read(path.join("cmdline")).ok()?;
            (contains(&cmdline, cluster) && contains(&cmdline, "cluster.mjs") && alive(pid))
                .then_some(())
        })
        .count()
}

fn alive(pid: i64) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .is_ok_and(|stat| !stat.split(") ").nth(1).unwrap_or("").starts_with('Z'))
}

fn kill(pid: i64) {
    let _ = std::process::Command::new("kill")
        .args(["-9", &pid.to_string()])
        .status();
}

struct Api<'a> {
    server: &'a ServerProcess,
    http: reqwest::Client,
    token: String,
}

impl Api<'_> {
    async fn get(&self, path: &str) -> reqwest::Response {
        self.http
            .get(self.server.url(path))
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap()
    }

    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> reqwest::Response {
        let mut request = self
            .http
            .request(method, self.server.url(path))
            .bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        request.send().await.unwrap()
    }

    async fn cluster(&self, id: &str) -> Value {
        self.get(&format!("/clusters/{id}"))
            .await
            .json()
            .await
            .unwrap()
    }

    async fn status(&self, id: &str) -> String {
        self.cluster(id).await["status"]["ready"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    async fn wait_status(&self, id: &str, wanted: &str, within: Duration) -> Value {
        eventually_within(&format!("cluster {id} to be {wanted}"), within, || async {
            let cluster = self.cluster(id).await;
            (cluster["status"]["ready"] == wanted).then_some(cluster)
        })
        .await
    }

    /// Creates a cluster on generation `generation` (the catalog default when `None`).
    async fn create_cluster(&self, name: &str, generation: Option<&str>) -> String {
        let params = cluster_parameters(&self.http, &self.server.base, &self.token).await;
        let mut body = default_cluster_body(&params, name);
        if let Some(generation) = generation {
            // Held on that generation until the test upgrades it.
            body["generationId"] = json!(generation);
            body["autoUpdate"] = json!(false);
        }
        let response = self
            .send(reqwest::Method::POST, "/clusters", Some(body))
            .await;
        assert_eq!(response.status(), StatusCode::OK);
        let created: Value = response.json().await.unwrap();
        created["clusterId"].as_str().unwrap().to_string()
    }

    /// A cluster client and a Zeebe token for it.
    async fn client_token(&self, cluster: &str) -> (String, String) {
        let response = self
            .send(
                reqwest::Method::POST,
                &format!("/clusters/{cluster}/clients"),
                Some(json!({"clientName": "worker"})),
            )
            .await;
        assert_eq!(response.status(), StatusCode::OK);
        let created: Value = response.json().await.unwrap();
        let id = created["clientId"].as_str().unwrap().to_string();
        let secret = created["clientSecret"].as_str().unwrap().to_string();
        let token = token_response(
            &self.http,
            &self.server.base,
            &[
                ("client_id", &id),
                ("client_secret", &secret),
                ("audience", "zeebe.camunda.io"),
            ],
        )
        .await["access_token"]
            .as_str()
            .unwrap()
            .to_string();
        (id, token)
    }

    async fn activity_about(&self, cluster: &str) -> Vec<Value> {
        let all: Vec<Value> = self.get("/activity/json").await.json().await.unwrap();
        all.into_iter()
            .filter(|a| a["entityId"] == cluster)
            .collect()
    }

    async fn records_saying(&self, cluster: &str, text: &str) -> usize {
        self.activity_about(cluster)
            .await
            .iter()
            .filter(|a| a["audit"].as_str().unwrap_or_default().contains(text))
            .count()
    }
}

/// `GET /v2/topology` of a fake cluster with `token`.
async fn topology(http: &reqwest::Client, port: i64, token: &str) -> StatusCode {
    http.get(format!("http://127.0.0.1:{port}/v2/topology"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .status()
}

/// Runs the real `consoled` binary against the server's database.
async fn consoled(server: &ServerProcess, args: &[&str]) -> std::process::Output {
    tokio::process::Command::new(env!("CARGO_BIN_EXE_consoled"))
        .args(args)
        .env("CONSOLED_DATA_DIR", &server.data_dir)
        .env("CONSOLED_DATABASE_URL", &server.database_url)
        .env("CONSOLED_MASTER_KEY", MASTER_KEY)
        .env("CONSOLED_LOG", "warn")
        .output()
        .await
        .unwrap()
}

/// `consoled clusters list --deleting --json`: the teardowns still pending.
async fn deleting(server: &ServerProcess) -> Vec<Value> {
    let out = consoled(server, &["clusters", "list", "--deleting", "--json"]).await;
    serde_json::from_slice(&out.stdout).unwrap()
}

#[tokio::test]
async fn a_cluster_lives_through_the_exec_driver() {
    if !node_available() {
        return;
    }
    let data = tempfile::tempdir().unwrap();
    let state_dir = tempfile::tempdir().unwrap();
    let state = state_dir.path();
    let _reaper = Reaper(state.to_path_buf());
    let metrics_address = format!("127.0.0.1:{}", free_port());
    let server = server_with(data.path(), state, &["--metrics-listen", &metrics_address]).await;
    let http = reqwest::Client::new();
    let api = Api {
        token: server.admin_token(&http).await,
        server: &server,
        http: http.clone(),
    };
    let params = cluster_parameters(&http, &server.base, &api.token).await;
    let stable = &params["channels"][0];
    let older = stable["allowedGenerations"][0]["uuid"]
        .as_str()
        .unwrap()
        .to_string();

    // Create: the hook starts the cluster's process; it is Healthy only once it answers.
    let cluster = api.create_cluster("real", Some(&older)).await;
    std::fs::write(state.join(format!("{cluster}.down")), "").unwrap();
    let rec = eventually_within("the cluster's process", Duration::from_secs(15), || async {
        record(state, &cluster).filter(|r| r["port"].is_i64())
    })
    .await;
    let port = rec["port"].as_i64().unwrap();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        api.status(&cluster).await,
        "Creating",
        "not Healthy while nothing answers"
    );
    std::fs::remove_file(state.join(format!("{cluster}.down"))).unwrap();
    let healthy = api
        .wait_status(&cluster, "Healthy", Duration::from_secs(10))
        .await;
    assert_eq!(healthy["status"]["zeebeStatus"], "Healthy");

    let create = &calls_of(state, &cluster, "create")[0]["input"];
    assert_eq!(create["version"], 1);
    assert_eq!(create["action"], "create");
    assert!(create["operationId"].is_string());
    assert_eq!(create["cluster"]["name"], "real");
    assert_eq!(create["cluster"]["orgId"], healthy["ownerId"]);
    assert_eq!(create["cluster"]["generation"]["uuid"], older.as_str());
    assert!(create["cluster"]["generation"]["versions"]["zeebe"].is_string());
    assert_eq!(
        create["cluster"]["region"]["uuid"],
        healthy["region"]["uuid"]
    );
    assert_eq!(create["auth"]["issuer"], server.base.as_str());
    assert_eq!(
        create["auth"]["jwksUri"],
        format!("{}/.well-known/jwks.json", server.base)
    );
    assert_eq!(
        create["auth"]["audience"],
        format!("{cluster}.zeebe.{BASE_DOMAIN}")
    );
    assert_eq!(create["auth"]["clientIdClaim"], "azp");

    // The cluster's protected endpoint takes its own clients' tokens and no one else's.
    let (client_id, token) = api.client_token(&cluster).await;
    assert_eq!(topology(&http, port, &token).await, StatusCode::OK);
    let other = api.create_cluster("other", None).await;
    api.wait_status(&other, "Healthy", Duration::from_secs(15))
        .await;
    let (_, other_token) = api.client_token(&other).await;
    assert_eq!(
        topology(&http, port, &other_token).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        topology(&http, port, &api.token).await,
        StatusCode::UNAUTHORIZED
    );

    // Connection details and links are the hook's endpoints.
    let details: Value = api
        .get(&format!("/clusters/{cluster}/clients/{client_id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(details["ZEEBE_ADDRESS"], format!("127.0.0.1:{port}"));
    let links = &api.cluster(&cluster).await["links"];
    assert_eq!(links["operate"], format!("http://127.0.0.1:{port}/operate"));
    assert_eq!(links["zeebe"], format!("127.0.0.1:{port}"));

    // The process dies: Unhealthy within three health intervals (and a pass), one record.
    kill(rec["pid"].as_i64().unwrap());
    let died = tokio::time::Instant::now();
    api.wait_status(&cluster, "Unhealthy", Duration::from_secs(5))
        .await;
    assert!(
        died.elapsed() < Duration::from_millis(2500),
        "{:?}",
        died.elapsed()
    );
    tokio::time::sleep(Duration::from_millis(1000)).await;
    assert_eq!(api.records_saying(&cluster, "is Unhealthy").await, 1);
    let restarted = tokio::process::Command::new("node")
        .arg(driver_dir().join("restart.mjs"))
        .arg(state)
        .arg(&cluster)
        .status()
        .await
        .unwrap();
    assert!(restarted.success());
    api.wait_status(&cluster, "Healthy", Duration::from_secs(5))
        .await;
    assert_eq!(api.records_saying(&cluster, "is Healthy").await, 2);

    // Upgrade: the hook gets the new generation; Healthy on it once it answers.
    let response = api
        .send(
            reqwest::Method::PUT,
            &format!("/clusters/{cluster}/upgrade"),
            None,
        )
        .await;
    assert!(response.status().is_success(), "{}", response.status());
    let upgraded = eventually_within("the upgrade", Duration::from_secs(15), || async {
        let c = api.cluster(&cluster).await;
        (c["status"]["ready"] == "Healthy" && c["generation"]["uuid"] != older.as_str())
            .then_some(c)
    })
    .await;
    let upgrade = calls_of(state, &cluster, "upgrade");
    assert_eq!(upgrade.len(), 1);
    assert_eq!(
        upgrade[0]["input"]["cluster"]["generation"]["uuid"],
        upgraded["generation"]["uuid"]
    );

    // Update: a connector secret reaches the hook on stdin.
    let response = api
        .send(
            reqwest::Method::POST,
            &format!("/clusters/{cluster}/secrets"),
            Some(json!({"secretName": "API_KEY", "secretValue": "first-value-1234"})),
        )
        .await;
    assert!(response.status().is_success());
    let update = eventually_within("the update", Duration::from_secs(10), || async {
        calls_of(state, &cluster, "update").pop()
    })
    .await;
    assert_eq!(
        update["input"]["cluster"]["connectorSecrets"],
        json!({"API_KEY": "first-value-1234"})
    );

    // Suspend (by the operator) and wake (by the API).
    let out = consoled(&server, &["clusters", "suspend", &cluster]).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    eventually_within("the suspend step", Duration::from_secs(10), || async {
        calls_of(state, &cluster, "suspend").pop()
    })
    .await;
    eventually_within("the process to stop", Duration::from_secs(5), || async {
        (cluster_processes(&cluster) == 0).then_some(())
    })
    .await;
    assert_eq!(api.status(&cluster).await, "Suspended");
    let response = api
        .send(
            reqwest::Method::PUT,
            &format!("/clusters/{cluster}/wake"),
            None,
        )
        .await;
    assert!(response.status().is_success());
    api.wait_status(&cluster, "Healthy", Duration::from_secs(10))
        .await;
    assert_eq!(calls_of(state, &cluster, "wake").len(), 1);

    // Backups: taken by the driver's backup step, removed by its delete-backup step.
    let backup: Value = api
        .send(
            reqwest::Method::POST,
            &format!("/clusters/{cluster}/backups"),
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    let backup_id = backup["uuid"].as_str().unwrap().to_string();
    eventually_within(
        "the backup to complete",
        Duration::from_secs(10),
        || async {
            let backups: Value = api
                .get(&format!("/clusters/{cluster}/backups"))
                .await
                .json()
                .await
                .unwrap();
            backups
                .as_array()?
                .iter()
                .find(|b| b["uuid"] == backup_id.as_str() && b["status"] == "Complete")
                .cloned()
        },
    )
    .await;
    let taken = calls_of(state, &cluster, "backup");
    assert_eq!(taken.len(), 1);
    assert_eq!(taken[0]["input"]["backup"]["uuid"], backup_id.as_str());
    let response = api
        .send(
            reqwest::Method::DELETE,
            &format!("/clusters/{cluster}/backups/{backup_id}"),
            None,
        )
        .await;
    assert!(response.status().is_success(), "{}", response.status());
    let removed = eventually_within(
        "the delete-backup step",
        Duration::from_secs(10),
        || async { calls_of(state, &cluster, "delete-backup").pop() },
    )
    .await;
    assert_eq!(removed["input"]["backup"]["uuid"], backup_id.as_str());

    // A hook that fails twice, then succeeds: retried, recovered, the secret never shown.
    std::fs::write(state.join("fail-update"), "2").unwrap();
    let secret_value = "very-secret-value-98765";
    let response = api
        .send(
            reqwest::Method::POST,
            &format!("/clusters/{cluster}/secrets"),
            Some(json!({"secretName": "TOKEN", "secretValue": secret_value})),
        )
        .await;
    assert!(response.status().is_success());
    api.wait_status(&cluster, "Unhealthy", Duration::from_secs(10))
        .await;
    eventually_within("the retries", Duration::from_secs(15), || async {
        (calls_of(state, &cluster, "update").len() >= 4).then_some(())
    })
    .await;
    api.wait_status(&cluster, "Healthy", Duration::from_secs(10))
        .await;
    let activity = serde_json::to_string(&api.activity_about(&cluster).await).unwrap();
    assert!(activity.contains("cannot apply secret"), "{activity}");
    assert!(activity.contains("****"));
    assert!(!activity.contains(secret_value));
    assert!(!activity.contains("first-value-1234"));
    let log = server.log();
    assert!(log.contains("cannot apply secret"));
    assert!(
        !log.contains(secret_value),
        "a secret value reached the log"
    );

    // Delete: gone from the API at once, torn down in the background.
    let response = api
        .send(
            reqwest::Method::DELETE,
            &format!("/clusters/{cluster}"),
            None,
        )
        .await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        api.get(&format!("/clusters/{cluster}")).await.status(),
        StatusCode::NOT_FOUND
    );
    eventually_within("the teardown", Duration::from_secs(10), || async {
        (record(state, &cluster).is_none() && cluster_processes(&cluster) == 0).then_some(())
    })
    .await;
    assert_eq!(calls_of(state, &cluster, "delete").len(), 1);
    eventually_within(
        "the deleting list to empty",
        Duration::from_secs(5),
        || async { deleting(&server).await.is_empty().then_some(()) },
    )
    .await;

    // consoled's own metrics saw the driver's commands and the health probes.
    let metrics = scrape_metrics(&http, &metrics_address).await;
    for (series, at_least) in [
        (
            r#"consoled_driver_actions_total{action="create",outcome="ok"}"#,
            1.0,
        ),
        (
            r#"consoled_driver_actions_total{action="delete",outcome="ok"}"#,
            1.0,
        ),
        (
            r#"consoled_driver_action_duration_seconds_count{action="create"}"#,
            1.0,
        ),
        (r#"consoled_health_probes_total{outcome="up"}"#, 1.0),
        // The cluster answered nothing while it was held down.
        (r#"consoled_health_probes_total{outcome="down"}"#, 1.0),
        ("consoled_reconciler_steps_applied_total", 2.0),
    ] {
        let value = sample(&metrics, series).unwrap_or_else(|| panic!("{series} in {metrics}"));
        assert!(value >= at_least, "{series} = {value}");
    }
}

/// The value of the series written exactly `series` in a Prometheus text exposition.
fn sample(exposition: &str, series: &str) -> Option<f64> {
    exposition
        .lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
        .and_then(|value| value.trim().parse().ok())
}

#[tokio::test]
async fn kill_9_in_the_middle_of_a_create_and_of_a_delete_finishes_each_once() {
    if !node_available() {
        return;
    }
    let data = tempfile::tempdir().unwrap();
    let state_dir = tempfile::tempdir().unwrap();
    let state = state_dir.path();
    let _reaper = Reaper(state.to_path_buf());
    let mut server = server(data.path(), state).await;
    let http = reqwest::Client::new();
    let token = server.admin_token(&http).await;

    std::fs::write(state.join("delay-create"), "1500").unwrap();
    let cluster = {
        let api = Api {
            server: &server,
            http: http.clone(),
            token: token.clone(),
        };
        api.create_cluster("crashy", None).await
    };
    eventually_within("the create call", Duration::from_secs(10), || async {
        calls_of(state, &cluster, "create").pop()
    })
    .await;
    server.restart_after_kill().await;
    std::fs::remove_file(state.join("delay-create")).unwrap();
    let token = server.admin_token(&http).await;
    let api = Api {
        server: &server,
        http: http.clone(),
        token,
    };
    api.wait_status(&cluster, "Healthy", Duration::from_secs(30))
        .await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(api.records_saying(&cluster, "is Healthy").await, 1);
    let rec = record(state, &cluster).unwrap();
    let processes = cluster_processes(&cluster);
    assert_eq!(processes, 1, "one process for the cluster: {rec}");

    std::fs::write(state.join("delay-delete"), "1500").unwrap();
    let response = api
        .send(
            reqwest::Method::DELETE,
            &format!("/clusters/{cluster}"),
            None,
        )
        .await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    eventually_within("the delete call", Duration::from_secs(10), || async {
        calls_of(state, &cluster, "delete").pop()
    })
    .await;
    drop(api);
    server.kill().await;
    // While the server is down, the operator sees what is still being torn down.
    let pending = deleting(&server).await;
    assert_eq!(pending[0]["id"], cluster.as_str(), "{pending:?}");
    assert_eq!(pending[0]["name"], "crashy");
    server.restart_after_kill().await;
    std::fs::remove_file(state.join("delay-delete")).unwrap();
    let token = server.admin_token(&http).await;
    let api = Api {
        server: &server,
        http: http.clone(),
        token,
    };
    eventually_within(
        "the teardown after the restart",
        Duration::from_secs(30),
        || async { deleting(&server).await.is_empty().then_some(()) },
    )
    .await;
    assert!(
        record(state, &cluster).is_none(),
        "the hook removed the cluster"
    );
    assert!(!alive(rec["pid"].as_i64().unwrap()));
    assert_eq!(
        api.records_saying(&cluster, "tore the cluster down").await,
        1
    );
}

#[tokio::test]
async fn replicas_run_each_step_once_and_share_the_probing() {
    if !node_available() {
        return;
    }
    let Some(admin) = crate::postgres::admin_url_or_skip("the exec driver replica test") else {
        return;
    };
    let url = crate::postgres::fresh_database(&admin).await;
    let state_dir = tempfile::tempdir().unwrap();
    let state = state_dir.path();
    let _reaper = Reaper(state.to_path_buf());
    let hook = driver_dir().join("hook.mjs");
    let env = [
        ("CONSOLED_DRIVER", "exec"),
        ("CONSOLED_DRIVER_COMMAND", hook.to_str().unwrap()),
        ("CONSOLED_HEALTH_INTERVAL", "500ms"),
        ("CONSOLED_TEST_DRIVER_DIR", state.to_str().unwrap()),
    ];
    let mut replicas = Vec::new();
    for _ in 0..3 {
        replicas.push(crate::replicas::start_replica_with_env(&url, &[], &env).await);
    }
    let http = reqwest::Client::new();
    let token = bootstrap_token(&http, &replicas[0].base).await;
    let params = cluster_parameters(&http, &replicas[0].base, &token).await;
    let created: Value = http
        .post(format!("{}/clusters", replicas[1].base))
        .bearer_auth(&token)
        .json(&default_cluster_body(&params, "shared"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let cluster = created["clusterId"].as_str().unwrap().to_string();
    wait_cluster_status(
        &http,
        &replicas[2].base,
        &token,
        &cluster,
        "Healthy",
        Duration::from_secs(20),
    )
    .await;
    assert_eq!(
        calls_of(state, &cluster, "create").len(),
        1,
        "one replica ran the create"
    );

    // Over 4 s, a 500 ms interval allows about 8 probe rounds of 5 components; three
    // replicas probing on their own would make about 24.
    let port = record(state, &cluster).unwrap()["port"].as_i64().unwrap();
    let stats = |http: reqwest::Client| async move {
        let s: Value = http
            .get(format!("http://127.0.0.1:{port}/stats"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        s["healthRequests"].as_i64().unwrap()
    };
    let before = stats(http.clone()).await;
    tokio::time::sleep(Duration::from_secs(4)).await;
    let rounds = (stats(http.clone()).await - before) / 5;
    assert!((5..=10).contains(&rounds), "{rounds} probe rounds in 4 s");

    let response = http
        .delete(format!("{}/clusters/{cluster}", replicas[0].base))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    eventually_within("the teardown", Duration::from_secs(15), || async {
        (cluster_processes(&cluster) == 0).then_some(())
    })
    .await;
    assert_eq!(
        calls_of(state, &cluster, "delete").len(),
        1,
        "one replica ran the delete"
    );
}
