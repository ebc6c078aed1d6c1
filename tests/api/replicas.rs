//! Several `consoled serve` processes on one PostgreSQL database behave as one server.
//! Runs when CONSOLED_TEST_POSTGRES_URL is set (`.ci/run` sets it; under CI it must be).

use std::process::Stdio;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{json, Value};
use tokio::process::{Child, Command};

use crate::helpers::{
    bootstrap_token, cluster_parameters, default_cluster_body, free_port, CLIENT_ID, CLIENT_SECRET,
    MASTER_KEY,
};

const PUBLIC_URL: &str = "http://consoled.replicas.test";

pub(crate) struct Replica {
    pub(crate) child: Child,
    pub(crate) base: String,
}

async fn start_replica(database_url: &str, extra: &[&str]) -> Replica {
    start_replica_with_env(database_url, extra, &[]).await
}

/// A replica with extra `serve` flags and environment variables.
pub(crate) async fn start_replica_with_env(
    database_url: &str,
    extra: &[&str],
    env: &[(&str, &str)],
) -> Replica {
    let port = free_port();
    let data_dir = tempfile::tempdir().unwrap().keep();
    let child = Command::new(env!("CARGO_BIN_EXE_consoled"))
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .args(extra)
        .env("CONSOLED_DATABASE_URL", database_url)
        .env("CONSOLED_DATA_DIR", &data_dir)
        .env("CONSOLED_MASTER_KEY", MASTER_KEY)
        .env("CONSOLED_PUBLIC_URL", PUBLIC_URL)
        .env("CONSOLED_BOOTSTRAP_CLIENT_ID", CLIENT_ID)
        .env("CONSOLED_BOOTSTRAP_CLIENT_SECRET", CLIENT_SECRET)
        .env("CONSOLED_PROVISION_DELAY", "600ms")
        .env("CONSOLED_RECONCILE_INTERVAL", "100ms")
        .env("CONSOLED_KEY_REFRESH_INTERVAL", "200ms")
        .envs(env.iter().copied())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    for _ in 0..300 {
        if let Ok(response) = http.get(format!("{base}/readyz")).send().await {
            if response.status() == StatusCode::OK {
                return Replica { child, base };
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("replica on {base} did not become ready");
}

async fn replicas(n: usize) -> Option<(String, Vec<Replica>)> {
    let admin = crate::postgres::admin_url_or_skip("the replica tests")?;
    let url = crate::postgres::fresh_database(&admin).await;
    // Started together, so they race to create the signing key and the bootstrap client.
    let handles: Vec<_> = (0..n)
        .map(|_| {
            let url = url.clone();
            tokio::spawn(async move { start_replica(&url, &[]).await })
        })
        .collect();
    let mut started = Vec::new();
    for handle in handles {
        started.push(handle.await.unwrap());
    }
    Some((url, started))
}

async fn create_cluster(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    name: &str,
) -> reqwest::Response {
    let params = cluster_parameters(http, base, token).await;
    let body = default_cluster_body(&params, name);
    http.post(format!("{base}/clusters"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn three_replicas_behave_as_one_server() {
    let Some((url, mut replicas)) = replicas(3).await else {
        return;
    };
    let http = reqwest::Client::new();

    // A token issued by one replica works on every other.
    let token = bootstrap_token(&http, &replicas[0].base).await;
    for replica in &replicas {
        let response = http
            .get(format!("{}/clusters", replica.base))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
    }
    let jwks: Vec<Value> = {
        let mut all = Vec::new();
        for replica in &replicas {
            let doc: Value = http
                .get(format!("{}/.well-known/jwks.json", replica.base))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            all.push(doc);
        }
        all
    };
    assert!(
        jwks.windows(2).all(|w| w[0] == w[1]),
        "every replica publishes the same key"
    );
    assert_eq!(
        jwks[0]["keys"].as_array().unwrap().len(),
        1,
        "one key despite three first starts"
    );

    // Creates spread over the replicas, one of which is killed mid-way.
    let mut created = Vec::new();
    let mut alive = 3;
    for i in 0..12 {
        let replica = &replicas[i % alive];
        let response = create_cluster(&http, &replica.base, &token, &format!("c{i}")).await;
        assert_eq!(response.status(), StatusCode::OK);
        let body: Value = response.json().await.unwrap();
        created.push(body["clusterId"].as_str().unwrap().to_string());
        if i == 5 {
            replicas[2].child.start_kill().unwrap();
            let _ = replicas[2].child.wait().await;
            alive = 2;
        }
    }
    let survivors = &replicas[..2];
    // Delete two through different replicas.
    for (i, id) in created.iter().take(2).enumerate() {
        let response = http
            .delete(format!("{}/clusters/{id}", survivors[i].base))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::NO_CONTENT);
    }
    // Every remaining cluster becomes Healthy, whichever replica created it.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let list: Value = http
            .get(format!("{}/clusters", survivors[1].base))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let list = list.as_array().unwrap();
        assert_eq!(list.len(), 10);
        if list.iter().all(|c| c["status"]["ready"] == "Healthy") {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "clusters stuck: {list:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Each transition to Healthy is on record exactly once.
    let store = consoled::storage::open(&url).await.unwrap();
    let org_id = crate::helpers::jwt_claims(&token)["https://camunda.com/orgId"]
        .as_str()
        .unwrap()
        .to_string();
    let records = store.audit_events(&org_id, 1000).await.unwrap();
    for id in &created[2..] {
        let healthy = records
            .iter()
            .filter(|r| r.entity_id == *id && r.value_to.as_deref() == Some("Healthy"))
            .count();
        assert_eq!(healthy, 1, "cluster {id} became Healthy {healthy} times");
    }

    // Uniqueness holds across replicas: the same client name created on two at once.
    let cluster = &created[5];
    let body = json!({"clientName": "same-name"});
    let (a, b) = tokio::join!(
        http.post(format!("{}/clusters/{cluster}/clients", survivors[0].base))
            .bearer_auth(&token)
            .json(&body)
            .send(),
        http.post(format!("{}/clusters/{cluster}/clients", survivors[1].base))
            .bearer_auth(&token)
            .json(&body)
            .send(),
    );
    let mut statuses = vec![a.unwrap().status(), b.unwrap().status()];
    statuses.sort();
    assert_eq!(statuses, vec![StatusCode::OK, StatusCode::BAD_REQUEST]);
}

#[tokio::test]
async fn key_rotation_reaches_every_replica_and_old_tokens_keep_working() {
    let Some((url, replicas)) = replicas(2).await else {
        return;
    };
    let http = reqwest::Client::new();
    let old_token = bootstrap_token(&http, &replicas[0].base).await;
    let old_kid = jsonwebtoken::decode_header(&old_token)
        .unwrap()
        .kid
        .unwrap();

    let output = Command::new(env!("CARGO_BIN_EXE_consoled"))
        .args(["keys", "rotate"])
        .env("CONSOLED_DATABASE_URL", &url)
        .env("CONSOLED_MASTER_KEY", MASTER_KEY)
        .output()
        .await
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let rotated: Value = serde_json::from_slice(&output.stdout).unwrap();
    let new_kid = rotated["kid"].as_str().unwrap().to_string();
    assert_ne!(new_kid, old_kid);

    for replica in &replicas {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        loop {
            let fresh = bootstrap_token(&http, &replica.base).await;
            if jsonwebtoken::decode_header(&fresh).unwrap().kid.as_deref() == Some(new_kid.as_str())
            {
                break;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{} still signs with the old key",
                replica.base
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let jwks: Value = http
            .get(format!("{}/.well-known/jwks.json", replica.base))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(
            jwks["keys"].as_array().unwrap().len(),
            2,
            "the old key is still published"
        );
        let response = http
            .get(format!("{}/clusters", replica.base))
            .bearer_auth(&old_token)
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.status(),
            StatusCode::OK,
            "a token signed before the rotation still works"
        );
    }
}

#[tokio::test]
async fn revocation_takes_effect_on_every_replica() {
    let Some((url, replicas)) = replicas(2).await else {
        return;
    };
    let http = reqwest::Client::new();
    let token = bootstrap_token(&http, &replicas[0].base).await;
    for replica in &replicas {
        let ok = http
            .get(format!("{}/clusters", replica.base))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(ok.status(), StatusCode::OK);
    }
    // Rotate the client's secret directly in the database, as the operator CLI does.
    let store = consoled::storage::open(&url).await.unwrap();
    let client = store.api_client(CLIENT_ID).await.unwrap().unwrap();
    let rotated = consoled::domain::api_client::ApiClient {
        secret_generation: client.secret_generation + 1,
        ..client.clone()
    };
    let audit = consoled::domain::audit::AuditEntry::new(
        &client.org_id,
        "test",
        consoled::domain::audit::AuditType::Update,
        "apiClient",
        CLIENT_ID,
        "rotated".into(),
        consoled::domain::Timestamp::now(),
    );
    assert!(store.update_api_client(&rotated, &audit).await.unwrap());
    // Servers rely on a client's state for at most CONSOLED_STATE_CACHE_TTL (250ms by
    // default); the CLI waits that long after a revocation, and so does this test.
    tokio::time::sleep(Duration::from_millis(300)).await;
    for replica in &replicas {
        let refused = http
            .get(format!("{}/clusters", replica.base))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(
            refused.status(),
            StatusCode::UNAUTHORIZED,
            "{} still accepts it",
            replica.base
        );
    }
}
