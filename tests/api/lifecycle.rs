//! Upgrade, auto-update, idle suspension, the operator's suspend command, and wake.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::*;

const UNKNOWN: &str = "00000000-0000-4000-8000-000000000000";

/// A cluster on the Stable channel's older generation without auto-update, Healthy.
async fn old_cluster(app: &TestApp, token: &str, name: &str) -> (String, Generations) {
    let generations = app.stable_generations(token).await;
    let id = app
        .create_cluster_with(
            token,
            name,
            json!({ "generationId": generations.old, "autoUpdate": false }),
        )
        .await;
    app.wait_healthy(token, &id).await;
    (id, generations)
}

async fn upgrade(app: &TestApp, token: &str, id: &str) -> reqwest::Response {
    app.send_empty(Method::PUT, &format!("/clusters/{id}/upgrade"), token)
        .await
}

async fn wake(app: &TestApp, token: &str, id: &str) -> reqwest::Response {
    app.send_empty(Method::PUT, &format!("/clusters/{id}/wake"), token)
        .await
}

#[tokio::test]
async fn upgrade_moves_a_healthy_cluster_to_the_newest_generation() {
    let app = TestApp::spawn_with(&["--provision-delay", "800ms"]).await;
    let token = app.admin_token().await;
    let org_id = jwt_claims(&token)["https://camunda.com/orgId"].clone();
    let (id, generations) = old_cluster(&app, &token, "to-upgrade").await;

    let response = upgrade(&app, &token, &id).await;
    assert_eq!(response.status(), StatusCode::OK);
    let dto: Value = response.json().await.unwrap();
    assert_eq!(
        dto,
        json!({
            "cluster": { "id": id, "name": "to-upgrade" },
            "oldGeneration": { "id": generations.old, "name": "Camunda 8.6.15" },
            "newGeneration": { "id": generations.new, "name": "Camunda 8.7.3" },
            "orgId": org_id,
        })
    );

    let updating = app.cluster_json(&token, &id).await;
    assert_eq!(updating["status"]["ready"], "Updating");
    assert_eq!(updating["generation"]["uuid"], generations.old);
    let message = assert_error(
        upgrade(&app, &token, &id).await,
        StatusCode::PRECONDITION_FAILED,
    )
    .await;
    assert!(message.contains("Updating"), "{message}");

    let healthy = app.wait_healthy(&token, &id).await;
    assert_eq!(healthy["generation"]["uuid"], generations.new);
    assert_eq!(healthy["generation"]["name"], "Camunda 8.7.3");
    let message = assert_error(upgrade(&app, &token, &id).await, StatusCode::BAD_REQUEST).await;
    assert!(message.contains("no upgrade available"), "{message}");
}

#[tokio::test]
async fn upgrade_needs_an_existing_cluster_of_the_org_and_the_scope() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let (id, generations) = old_cluster(&app, &token, "guarded").await;
    assert_error(upgrade(&app, &token, UNKNOWN).await, StatusCode::NOT_FOUND).await;
    let other = app.other_org_token().await;
    assert_error(upgrade(&app, &other, &id).await, StatusCode::NOT_FOUND).await;
    assert_error(wake(&app, &other, &id).await, StatusCode::NOT_FOUND).await;
    let read_only = app.scoped_token("get:clusters").await;
    let message = assert_error(upgrade(&app, &read_only, &id).await, StatusCode::FORBIDDEN).await;
    assert!(message.contains("update:clusters"), "{message}");
    assert_error(wake(&app, &read_only, &id).await, StatusCode::FORBIDDEN).await;
    // Nothing of that changed the cluster.
    let cluster = app.cluster_json(&token, &id).await;
    assert_eq!(cluster["status"]["ready"], "Healthy");
    assert_eq!(cluster["generation"]["uuid"], generations.old);
}

#[tokio::test]
async fn an_upgrade_in_flight_survives_a_restart() {
    let mut app = TestApp::spawn_with(&["--provision-delay", "1500ms"]).await;
    let token = app.admin_token().await;
    let (id, generations) = old_cluster(&app, &token, "restarted-upgrade").await;
    assert_eq!(upgrade(&app, &token, &id).await.status(), StatusCode::OK);

    app.restart().await;

    let cluster = app.cluster_json(&token, &id).await;
    assert_eq!(cluster["status"]["ready"], "Updating");
    let healthy = app.wait_healthy(&token, &id).await;
    assert_eq!(healthy["generation"]["uuid"], generations.new);
}

#[tokio::test]
async fn auto_update_clusters_follow_the_default_generation() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let generations = app.stable_generations(&token).await;
    let following = app
        .create_cluster_with(
            &token,
            "follows",
            json!({ "generationId": generations.old }),
        )
        .await;
    let pinned = app
        .create_cluster_with(
            &token,
            "pinned",
            json!({ "generationId": generations.old, "autoUpdate": false }),
        )
        .await;

    let updated = eventually("the auto-update", || async {
        let c = app.cluster_json(&token, &following).await;
        (c["status"]["ready"] == "Healthy" && c["generation"]["uuid"] == generations.new.as_str())
            .then_some(c)
    })
    .await;
    assert_eq!(updated["autoUpdate"], true);

    let pinned = app.wait_healthy(&token, &pinned).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let pinned = app
        .cluster_json(&token, pinned["uuid"].as_str().unwrap())
        .await;
    assert_eq!(pinned["status"]["ready"], "Healthy");
    assert_eq!(pinned["generation"]["uuid"], generations.old);
}

#[tokio::test]
async fn idle_trial_clusters_are_suspended_and_wake_resumes_them() {
    let app = TestApp::spawn_with(&["--suspend-after", "700ms"]).await;
    let token = app.admin_token().await;
    let trial_plan = app.plan_type(&token, 0).await;
    let trial = app
        .create_cluster_with(&token, "trial", json!({ "planTypeId": trial_plan }))
        .await;
    let basic = app.healthy_cluster(&token, "basic").await;

    let suspended = app.wait_status(&token, &trial, "Suspended").await;
    for component in [
        "zeebeStatus",
        "operateStatus",
        "tasklistStatus",
        "optimizeStatus",
    ] {
        assert_eq!(suspended["status"][component], "Suspended", "{component}");
    }
    // Plans that are not suspendable stay up however idle they are.
    assert_eq!(
        app.cluster_json(&token, &basic).await["status"]["ready"],
        "Healthy"
    );

    let response = wake(&app, &token, &trial).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert!(response.bytes().await.unwrap().is_empty());
    let resuming = app.cluster_json(&token, &trial).await;
    assert_eq!(resuming["status"]["ready"], "Resuming");
    app.wait_healthy(&token, &trial).await;
}

#[tokio::test]
async fn wake_on_an_awake_cluster_changes_nothing() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let id = app.healthy_cluster(&token, "awake").await;
    let before = app.cluster_json(&token, &id).await;
    assert_eq!(
        wake(&app, &token, &id).await.status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(app.cluster_json(&token, &id).await, before);
    assert_error(wake(&app, &token, UNKNOWN).await, StatusCode::NOT_FOUND).await;
}

#[tokio::test]
async fn the_operator_suspends_a_cluster_from_the_cli() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let id = app.healthy_cluster(&token, "operated").await;

    let output = app.consoled(&["clusters", "suspend", &id]).await;
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("Suspended cluster"), "{stdout}");
    assert_eq!(
        app.cluster_json(&token, &id).await["status"]["ready"],
        "Suspended"
    );

    let again = app.consoled(&["clusters", "suspend", &id]).await;
    assert!(again.status.success());
    assert!(String::from_utf8_lossy(&again.stdout).contains("already suspended"));

    let listed = app.consoled(&["clusters", "list", "--json"]).await;
    assert!(listed.status.success());
    let clusters: Value = serde_json::from_slice(&listed.stdout).unwrap();
    let row = clusters
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id.as_str())
        .expect("the cluster is listed");
    assert_eq!(row["status"], "Suspended");
    assert_eq!(row["name"], "operated");
    let table = app.consoled(&["clusters", "list"]).await;
    assert!(String::from_utf8_lossy(&table.stdout).contains(&id));

    let unknown = app.consoled(&["clusters", "suspend", UNKNOWN]).await;
    assert!(!unknown.status.success());
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("no cluster"));

    assert_eq!(
        wake(&app, &token, &id).await.status(),
        StatusCode::NO_CONTENT
    );
    app.wait_healthy(&token, &id).await;
}

#[tokio::test]
async fn the_cli_refuses_to_suspend_a_cluster_that_is_not_healthy() {
    let app = TestApp::spawn_with(&["--provision-delay", "1h"]).await;
    let token = app.admin_token().await;
    let id = app.create_cluster(&token, "still-creating").await;
    let output = app.consoled(&["clusters", "suspend", &id]).await;
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("only a Healthy cluster"), "{stderr}");
    assert_eq!(
        app.cluster_json(&token, &id).await["status"]["ready"],
        "Creating"
    );
}
