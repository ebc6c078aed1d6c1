use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::helpers::*;

const STATUS_FIELDS: [&str; 5] = [
    "status",
    "zeebeStatus",
    "operateStatus",
    "tasklistStatus",
    "optimizeStatus",
];

async fn list(app: &TestApp, token: &str, cluster: &str) -> Vec<Value> {
    let response = app
        .get(&format!("/clusters/{cluster}/backups"), token)
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    response
        .json::<Value>()
        .await
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

async fn wait_complete(app: &TestApp, token: &str, cluster: &str, backup: &str) -> Value {
    eventually("the backup to complete", || async {
        list(app, token, cluster)
            .await
            .into_iter()
            .find(|b| b["uuid"] == backup && b["status"] == "Complete")
    })
    .await
}

#[tokio::test]
async fn a_backup_runs_to_complete_and_deleting_answers_with_it() {
    let app = TestApp::spawn_with(&["--provision-delay", "600ms"]).await;
    let token = app.admin_token().await;
    let cluster = app.healthy_cluster(&token, "backed-up").await;
    assert!(list(&app, &token, &cluster).await.is_empty());

    let response = app
        .send_empty(
            Method::POST,
            &format!("/clusters/{cluster}/backups"),
            &token,
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let backup: Value = response.json().await.unwrap();
    let id = backup["uuid"].as_str().unwrap().to_string();
    assert!(backup["name"].as_str().unwrap().starts_with("backup-"));
    assert_rfc3339(backup["created"].as_str().unwrap());
    // Required by the schema; empty until the backup is done.
    assert_eq!(backup["completed"], "");
    for field in STATUS_FIELDS {
        assert_eq!(backup[field], "In progress", "{field}");
    }
    assert_eq!(backup.as_object().unwrap().len(), 9, "{backup}");
    assert_eq!(list(&app, &token, &cluster).await, vec![backup.clone()]);

    let done = wait_complete(&app, &token, &cluster, &id).await;
    for field in STATUS_FIELDS {
        assert_eq!(done[field], "Complete", "{field}");
    }
    let completed = done["completed"].as_str().unwrap();
    assert_rfc3339(completed);
    assert!(completed >= backup["created"].as_str().unwrap());
    assert_eq!(done["created"], backup["created"]);

    let response = app
        .call(
            Method::DELETE,
            &format!("/clusters/{cluster}/backups/{id}"),
            &token,
            None,
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let deleted: Value = response.json().await.unwrap();
    assert_eq!(deleted, done);
    assert!(list(&app, &token, &cluster).await.is_empty());
    let again = app
        .call(
            Method::DELETE,
            &format!("/clusters/{cluster}/backups/{id}"),
            &token,
            None,
        )
        .await;
    assert_error(again, StatusCode::NOT_FOUND).await;
}

#[tokio::test]
async fn a_running_backup_can_be_deleted() {
    let app = TestApp::spawn_with(&["--provision-delay", "300ms"]).await;
    let token = app.admin_token().await;
    let cluster = app.healthy_cluster(&token, "cancel").await;
    let backup: Value = app
        .send_empty(
            Method::POST,
            &format!("/clusters/{cluster}/backups"),
            &token,
        )
        .await
        .json()
        .await
        .unwrap();
    let id = backup["uuid"].as_str().unwrap();
    let response = app
        .call(
            Method::DELETE,
            &format!("/clusters/{cluster}/backups/{id}"),
            &token,
            None,
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let deleted: Value = response.json().await.unwrap();
    assert_eq!(deleted["uuid"], id);
    // The reconciler's next step on the deleted backup loses its conditional write.
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert!(list(&app, &token, &cluster).await.is_empty());
}

#[tokio::test]
async fn only_a_healthy_cluster_can_be_backed_up() {
    let app = TestApp::spawn_with(&["--provision-delay", "1h"]).await;
    let token = app.admin_token().await;
    let creating = app.create_cluster(&token, "creating").await;
    let response = app
        .send_empty(
            Method::POST,
            &format!("/clusters/{creating}/backups"),
            &token,
        )
        .await;
    let message = assert_error(response, StatusCode::PRECONDITION_FAILED).await;
    assert!(message.contains("Healthy"), "{message}");
    assert!(list(&app, &token, &creating).await.is_empty());
}

#[tokio::test]
async fn unknown_and_foreign_clusters_and_backups_are_not_found() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let cluster = app.healthy_cluster(&token, "mine").await;
    let backup: Value = app
        .send_empty(
            Method::POST,
            &format!("/clusters/{cluster}/backups"),
            &token,
        )
        .await
        .json()
        .await
        .unwrap();
    let backup_id = backup["uuid"].as_str().unwrap();
    let unknown = "00000000-0000-4000-8000-000000000000";

    let other = app.other_org_token().await;
    for (who, cluster_id) in [(&token, unknown), (&other, cluster.as_str())] {
        let get = app
            .get(&format!("/clusters/{cluster_id}/backups"), who)
            .await;
        assert_error(get, StatusCode::NOT_FOUND).await;
        let post = app
            .send_empty(
                Method::POST,
                &format!("/clusters/{cluster_id}/backups"),
                who,
            )
            .await;
        assert_error(post, StatusCode::NOT_FOUND).await;
        let delete = app
            .call(
                Method::DELETE,
                &format!("/clusters/{cluster_id}/backups/{backup_id}"),
                who,
                None,
            )
            .await;
        assert_error(delete, StatusCode::NOT_FOUND).await;
    }
    let unknown_backup = app
        .call(
            Method::DELETE,
            &format!("/clusters/{cluster}/backups/{unknown}"),
            &token,
            None,
        )
        .await;
    assert_error(unknown_backup, StatusCode::NOT_FOUND).await;
    // The foreign attempts changed nothing.
    assert_eq!(list(&app, &token, &cluster).await.len(), 1);
}

#[tokio::test]
async fn each_backup_operation_needs_its_scope() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let cluster = app.healthy_cluster(&token, "scoped").await;
    let path = format!("/clusters/{cluster}/backups");
    let read_only = app.scoped_token("get:backups").await;
    assert_eq!(app.get(&path, &read_only).await.status(), StatusCode::OK);
    let message = assert_error(
        app.send_empty(Method::POST, &path, &read_only).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    assert!(message.contains("create:backups"), "{message}");

    let create_only = app.scoped_token("create:backups").await;
    assert_error(app.get(&path, &create_only).await, StatusCode::FORBIDDEN).await;
    let backup: Value = app
        .send_empty(Method::POST, &path, &create_only)
        .await
        .json()
        .await
        .unwrap();
    let id = backup["uuid"].as_str().unwrap();
    let delete = app
        .call(Method::DELETE, &format!("{path}/{id}"), &create_only, None)
        .await;
    let message = assert_error(delete, StatusCode::FORBIDDEN).await;
    assert!(message.contains("delete:backups"), "{message}");
}

#[tokio::test]
async fn a_backup_in_flight_survives_a_restart() {
    let mut app = TestApp::spawn_with(&["--provision-delay", "1500ms"]).await;
    let token = app.admin_token().await;
    let cluster = app.healthy_cluster(&token, "restarted").await;
    let backup: Value = app
        .send_empty(
            Method::POST,
            &format!("/clusters/{cluster}/backups"),
            &token,
        )
        .await
        .json()
        .await
        .unwrap();
    let id = backup["uuid"].as_str().unwrap().to_string();

    app.restart().await;

    let listed = list(&app, &token, &cluster).await;
    assert_eq!(listed[0]["status"], "In progress");
    let done = wait_complete(&app, &token, &cluster, &id).await;
    assert_rfc3339(done["completed"].as_str().unwrap());
}
