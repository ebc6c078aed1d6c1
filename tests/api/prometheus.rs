//! consoled's own metrics, scraped by a real Prometheus (Debian's `prometheus` package):
//! the target is up, and Prometheus's HTTP API returns the request counters, the latency
//! histogram and the clusters-by-status gauge after some traffic; `promtool check metrics`
//! passes on the exposition. Under CI a missing Prometheus fails the test.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::*;
use crate::process::ServerProcess;

/// Prometheus and promtool, where Debian puts them; None (a skip) only outside CI.
fn prometheus_binaries() -> Option<(&'static str, &'static str)> {
    let found = ["/usr/bin/prometheus", "/usr/bin/promtool"]
        .iter()
        .all(|p| Path::new(p).exists());
    if !found {
        assert!(
            std::env::var_os("CI").is_none_or(|ci| ci.is_empty()),
            "Prometheus (Debian's prometheus package) is required in CI"
        );
        eprintln!("skipped: prometheus is not installed (apt-get install prometheus)");
        return None;
    }
    Some(("/usr/bin/prometheus", "/usr/bin/promtool"))
}

/// Kills Prometheus when the test ends, passed or not.
struct Killed(std::process::Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The alert rules docs/operations.md recommends: the YAML block under its heading
/// "Alerts worth having", so that what the page shows is what is checked.
fn documented_alert_rules() -> String {
    let page =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/operations.md"))
            .unwrap();
    let section = &page[page
        .find("### Alerts worth having")
        .expect("the alerts section")..];
    let start = section.find("```yaml\n").expect("a YAML block") + "```yaml\n".len();
    let end = start + section[start..].find("```").expect("the block's end");
    section[start..end].to_string()
}

/// Prometheus scraping `target` every second and evaluating `rules` (a rule file's path).
async fn start_prometheus(
    binary: &str,
    dir: &Path,
    target: &str,
    rules: &Path,
) -> (Killed, String) {
    let config = dir.join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 900ms\n  evaluation_interval: 1s\n\
             rule_files: ['{}']\n\
             scrape_configs:\n  - job_name: consoled\n    static_configs:\n      - targets: ['{target}']\n",
            rules.display()
        ),
    )
    .unwrap();
    let port = free_port();
    let child = std::process::Command::new(binary)
        .arg(format!("--config.file={}", config.display()))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.join("data").display()
        ))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.join("prometheus.log")).unwrap())
        .spawn()
        .expect("prometheus starts");
    (Killed(child), format!("http://127.0.0.1:{port}"))
}

/// Prometheus's answer to an instant query.
async fn query(http: &reqwest::Client, prometheus: &str, promql: &str) -> Value {
    let response = http
        .get(format!("{prometheus}/api/v1/query"))
        .query(&[("query", promql)])
        .send()
        .await;
    match response {
        Ok(response) => response.json().await.unwrap_or(Value::Null),
        Err(_) => Value::Null,
    }
}

/// Polls `promql` until its first sample is above zero; fails with Prometheus's answer
/// after 30 s.
async fn eventually_positive(http: &reqwest::Client, prometheus: &str, promql: &str) -> f64 {
    let mut last = Value::Null;
    for _ in 0..150 {
        last = query(http, prometheus, promql).await;
        let value = last["data"]["result"][0]["value"][1]
            .as_str()
            .and_then(|v| v.parse::<f64>().ok());
        if let Some(value) = value.filter(|v| *v > 0.0) {
            return value;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("{promql} never became positive: {last}");
}

#[tokio::test]
async fn a_real_prometheus_scrapes_consoleds_own_metrics() {
    let Some((prometheus_bin, promtool)) = prometheus_binaries() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let metrics_port = free_port();
    let metrics_address = format!("127.0.0.1:{metrics_port}");
    let server = ServerProcess::start(
        dir.path(),
        &[
            "--metrics-listen",
            &metrics_address,
            "--provision-delay",
            "200ms",
            "--token-failures-before-lockout",
            "2",
        ],
        &[],
        true,
    )
    .await;
    let http = reqwest::Client::new();
    let metrics_url = format!("http://{metrics_address}/metrics");

    // The API's port does not serve consoled's metrics; the metrics port serves only them.
    let on_api = http.get(server.url("/metrics")).send().await.unwrap();
    assert_eq!(on_api.status(), StatusCode::NOT_FOUND);
    let elsewhere = http
        .get(format!("http://{metrics_address}/clusters"))
        .send()
        .await
        .unwrap();
    assert_eq!(elsewhere.status(), StatusCode::NOT_FOUND);

    // Some traffic: tokens issued and refused, a lockout, reads, a cluster created.
    let token = server.admin_token(&http).await;
    for _ in 0..3 {
        let refused = http
            .post(server.url("/oauth/token"))
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", CLIENT_ID),
                ("client_secret", "not-the-secret"),
            ])
            .send()
            .await
            .unwrap();
        assert!(refused.status().is_client_error());
    }
    let params = cluster_parameters(&http, &server.base, &token).await;
    let created = http
        .post(server.url("/clusters"))
        .bearer_auth(&token)
        .json(&default_cluster_body(&params, "scraped"))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::OK);
    let cluster_id = created.json::<Value>().await.unwrap()["clusterId"]
        .as_str()
        .unwrap()
        .to_string();
    for _ in 0..5 {
        let read = http
            .get(server.url(&format!("/clusters/{cluster_id}")))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(read.status(), StatusCode::OK);
    }

    // The exposition itself: the content type Prometheus reads, route templates as labels
    // (never the raw path with the cluster's id), and promtool's checks pass.
    let scraped = http.get(&metrics_url).send().await.unwrap();
    assert_eq!(scraped.status(), StatusCode::OK);
    assert_eq!(
        scraped.headers()["content-type"],
        "text/plain; version=0.0.4; charset=utf-8"
    );
    let exposition = scraped.text().await.unwrap();
    assert!(
        exposition.contains(r#"route="/clusters/{clusterUuid}""#),
        "{exposition}"
    );
    assert!(!exposition.contains(&cluster_id), "{exposition}");
    for name in [
        "consoled_build_info",
        "consoled_http_requests_total",
        "consoled_http_request_duration_seconds_bucket",
        "consoled_tokens_issued_total",
        r#"consoled_tokens_refused_total{reason="invalid_client"}"#,
        r#"consoled_limit_refusals_total{limit="lockout"}"#,
        "consoled_db_pool_connections",
        "consoled_db_query_duration_seconds_bucket",
        "consoled_db_commit_duration_seconds_bucket",
        "consoled_reconciler_pass_duration_seconds_bucket",
        r#"consoled_clusters{status="Creating"}"#,
        r#"consoled_cache_lookups_total{cache="verified_tokens",result="hit"}"#,
    ] {
        assert!(
            exposition.contains(name),
            "{name} missing in:\n{exposition}"
        );
    }
    let mut check = std::process::Command::new(promtool)
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut check.stdin.take().unwrap(), exposition.as_bytes()).unwrap();
    let checked = check.wait_with_output().unwrap();
    assert!(
        checked.status.success(),
        "promtool check metrics: {}{}",
        String::from_utf8_lossy(&checked.stdout),
        String::from_utf8_lossy(&checked.stderr)
    );

    // The documented alert rules are valid rules.
    let rules = dir.path().join("alerts.yml");
    std::fs::write(&rules, documented_alert_rules()).unwrap();
    let checked = std::process::Command::new(promtool)
        .args(["check", "rules"])
        .arg(&rules)
        .output()
        .unwrap();
    assert!(
        checked.status.success(),
        "promtool check rules: {}{}",
        String::from_utf8_lossy(&checked.stdout),
        String::from_utf8_lossy(&checked.stderr)
    );

    // Prometheus scrapes it: the target is up, and its API has the values.
    let (_prometheus, prometheus) =
        start_prometheus(prometheus_bin, dir.path(), &metrics_address, &rules).await;
    eventually_positive(&http, &prometheus, r#"up{job="consoled"}"#).await;
    let requests = eventually_positive(
        &http,
        &prometheus,
        r#"sum(consoled_http_requests_total{route="/clusters/{clusterUuid}",method="GET",status="200"})"#,
    )
    .await;
    assert!(requests >= 5.0, "{requests}");
    eventually_positive(
        &http,
        &prometheus,
        r#"sum(consoled_http_request_duration_seconds_bucket{route="/oauth/token",le="+Inf"})"#,
    )
    .await;
    eventually_positive(
        &http,
        &prometheus,
        r#"sum(consoled_tokens_refused_total{reason="invalid_client"})"#,
    )
    .await;
    // The reconciler made the cluster Healthy; the gauge counts it there.
    wait_cluster_status(
        &http,
        &server.base,
        &token,
        &cluster_id,
        "Healthy",
        Duration::from_secs(10),
    )
    .await;
    eventually_positive(&http, &prometheus, r#"consoled_clusters{status="Healthy"}"#).await;
    eventually_positive(
        &http,
        &prometheus,
        "sum(consoled_reconciler_pass_duration_seconds_count)",
    )
    .await;

    // Prometheus evaluates every documented alert rule against these series without error.
    let rule_health = eventually_within(
        "the alert rules to be evaluated",
        Duration::from_secs(30),
        || async {
            let body: Value = http
                .get(format!("{prometheus}/api/v1/rules"))
                .send()
                .await
                .ok()?
                .json()
                .await
                .ok()?;
            let rules: Vec<(String, String)> = body["data"]["groups"]
                .as_array()?
                .iter()
                .flat_map(|group| group["rules"].as_array().cloned().unwrap_or_default())
                .map(|rule| {
                    let field = |name: &str| rule[name].as_str().unwrap_or_default().to_string();
                    (field("name"), field("health"))
                })
                .collect();
            (!rules.is_empty() && rules.iter().all(|(_, health)| health != "unknown"))
                .then_some(rules)
        },
    )
    .await;
    assert!(rule_health.len() >= 5, "{rule_health:?}");
    for (name, health) in &rule_health {
        assert_eq!(health, "ok", "the alert rule {name}");
    }
}
