use std::process::Stdio;
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::helpers::*;

#[tokio::test]
async fn tokens_clusters_and_lifecycle_survive_a_restart() {
    let mut app = TestApp::spawn_with(&["--provision-delay", "1500ms"]).await;
    let token = app.admin_token().await;
    let healthy = app.create_cluster(&token, "before").await;
    app.wait_healthy(&token, &healthy).await;
    let creating = app.create_cluster(&token, "mid-way").await;

    app.restart().await;

    // The old token still verifies: the signing key is kept in the database.
    let cluster: Value = app
        .get(&format!("/clusters/{healthy}"), &token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(cluster["status"]["ready"], "Healthy");
    // Provisioning that was under way continues.
    app.wait_healthy(&token, &creating).await;
    // Bootstrapping again is idempotent: the same credentials still work.
    let again = app.admin_token().await;
    let list: Value = app.get("/clusters", &again).await.json().await.unwrap();
    assert_eq!(list.as_array().unwrap().len(), 2);
}

/// Runs the real binary, acknowledges writes, kills it with SIGKILL and checks they are there.
#[tokio::test]
async fn acknowledged_writes_survive_kill_9() {
    let data_dir = tempfile::tempdir().unwrap();
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let spawn = || {
        tokio::process::Command::new(env!("CARGO_BIN_EXE_consoled"))
            .args([
                "serve",
                "--listen",
                &format!("127.0.0.1:{port}"),
                "--provision-delay",
                "1h",
            ])
            .env("CONSOLED_DATA_DIR", data_dir.path())
            .env("CONSOLED_BOOTSTRAP_CLIENT_ID", CLIENT_ID)
            .env("CONSOLED_BOOTSTRAP_CLIENT_SECRET", CLIENT_SECRET)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap()
    };
    let http = reqwest::Client::new();
    let base = format!("http://127.0.0.1:{port}");
    let wait_up = |http: reqwest::Client, base: String| async move {
        for _ in 0..200 {
            if http.get(format!("{base}/healthz")).send().await.is_ok() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("server did not start");
    };

    let mut child = spawn();
    wait_up(http.clone(), base.clone()).await;
    let token = {
        let response = http
            .post(format!("{base}/oauth/token"))
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", CLIENT_ID),
                ("client_secret", CLIENT_SECRET),
            ])
            .send()
            .await
            .unwrap();
        let body: Value = response.json().await.unwrap();
        body["access_token"].as_str().unwrap().to_string()
    };
    let params: Value = http
        .get(format!("{base}/clusters/parameters"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut acknowledged = Vec::new();
    for i in 0..20 {
        let body = serde_json::json!({
            "name": format!("durable-{i}"),
            "channelId": params["channels"][0]["uuid"],
            "generationId": params["channels"][0]["defaultGeneration"]["uuid"],
            "regionId": params["regions"][0]["uuid"],
            "planTypeId": params["clusterPlanTypes"][0]["uuid"],
        });
        let response = http
            .request(Method::POST, format!("{base}/clusters"))
            .bearer_auth(&token)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let created: Value = response.json().await.unwrap();
        acknowledged.push(created["clusterId"].as_str().unwrap().to_string());
    }
    child.start_kill().unwrap();
    child.wait().await.unwrap();

    let mut child = spawn();
    wait_up(http.clone(), base.clone()).await;
    let list: Value = http
        .get(format!("{base}/clusters"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let ids: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["uuid"].as_str().unwrap())
        .collect();
    for id in &acknowledged {
        assert!(
            ids.contains(&id.as_str()),
            "acknowledged cluster {id} was lost"
        );
    }
    child.start_kill().unwrap();
    let _ = child.wait().await;
}
