//! `PATCH /clusters/{uuid}`.

use consoled::domain::audit::AuditType;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::*;

async fn patch(app: &TestApp, token: &str, cluster: &str, body: Value) -> reqwest::Response {
    app.call(
        Method::PATCH,
        &format!("/clusters/{cluster}"),
        token,
        Some(body),
    )
    .await
}

/// The properties of the reference's `Cluster` schema (additionalProperties: false) plus
/// `connectorsStatus`, which the hosted service sends inside `status`.
const CLUSTER_PROPERTIES: &[&str] = &[
    "autoUpdate",
    "backupRegion",
    "channel",
    "created",
    "generation",
    "ipallowlist",
    "ipwhitelist",
    "labels",
    "links",
    "name",
    "ownerId",
    "planType",
    "region",
    "status",
    "uuid",
];

#[tokio::test]
async fn a_patch_changes_the_cluster_and_records_each_change() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let id = app.create_cluster(&token, "before").await;
    app.wait_healthy(&token, &id).await;

    let body = json!({
        "name": "after",
        "description": "sent by the JS SDK",
        "stageLabel": "prod",
        "numberOfAllocatedHwPackages": 2,
    });
    assert_no_content(patch(&app, &token, &id, body).await).await;

    let cluster = app.cluster_json(&token, &id).await;
    assert_eq!(cluster["name"], "after");
    assert_eq!(cluster["labels"], json!(["prod"]));
    assert_eq!(
        cluster["status"]["ready"], "Healthy",
        "a patch is no lifecycle change"
    );
    for key in cluster.as_object().unwrap().keys() {
        assert!(
            CLUSTER_PROPERTIES.contains(&key.as_str()),
            "{key} is not in the reference"
        );
    }
    let listed: Value = app.get("/clusters", &token).await.json().await.unwrap();
    assert_eq!(listed[0], cluster);

    // A new stage replaces the old one; other fields stay.
    assert_no_content(patch(&app, &token, &id, json!({"stageLabel": "dev"})).await).await;
    let cluster = app.cluster_json(&token, &id).await;
    assert_eq!(cluster["labels"], json!(["dev"]));
    assert_eq!(cluster["name"], "after");

    let events = app.activity(&token).await;
    let text = |value: &Value| value.as_str().map(str::to_string);
    let change = |attribute: &str| {
        events
            .iter()
            .filter(|e| e["entity"] == "cluster" && e["entityId"] == id.as_str())
            .filter(|e| e["entityAttribute"] == attribute)
            .map(|e| {
                (
                    text(&e["entityAttributeValueFrom"]),
                    text(&e["entityAttributeValueTo"]),
                    text(&e["userId"]).unwrap(),
                )
            })
            .collect::<Vec<_>>()
    };
    let some = |s: &str| Some(s.to_string());
    let actor = CLIENT_ID.to_string();
    assert_eq!(
        change("name"),
        vec![(some("before"), some("after"), actor.clone())]
    );
    assert_eq!(
        change("description"),
        vec![(None, some("sent by the JS SDK"), actor.clone())]
    );
    assert_eq!(
        change("stageLabel"),
        vec![
            (some("prod"), some("dev"), actor.clone()),
            (None, some("prod"), actor.clone()),
        ]
    );
    assert_eq!(
        change("numberOfAllocatedHwPackages"),
        vec![(some("1"), some("2"), actor)]
    );
}

#[tokio::test]
async fn an_empty_or_repeated_patch_is_accepted_and_records_nothing() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let id = app.create_cluster(&token, "same").await;
    assert_no_content(patch(&app, &token, &id, json!({})).await).await;
    assert_no_content(patch(&app, &token, &id, json!({"name": "same"})).await).await;
    let events = app.activity(&token).await;
    let updates_by_the_client = events
        .iter()
        .filter(|e| e["userId"] == CLIENT_ID && e["auditType"] == AuditType::Update.code())
        .count();
    assert_eq!(updates_by_the_client, 0, "{events:?}");
}

#[tokio::test]
async fn concurrent_changes_to_different_settings_are_all_kept() {
    // Every settings write rewrites the whole row conditionally on the version it read, so
    // racing writers (and the reconciler provisioning the cluster) never undo each other.
    let app = TestApp::spawn_with(&["--provision-delay", "200ms"]).await;
    let token = app.admin_token().await;
    let id = app.create_cluster(&token, "racing").await;
    let allowlist_path = format!("/clusters/{id}/ipallowlist");
    for round in 0..8 {
        let name = format!("racing-{round}");
        let stage = ["dev", "test", "stage", "prod"][round % 4];
        let ip = format!("10.0.0.{round}");
        let allowlist = json!({"ipallowlist": [{"ip": ip, "description": "d"}]});
        let (a, b, c) = tokio::join!(
            patch(&app, &token, &id, json!({"name": name})),
            patch(&app, &token, &id, json!({"stageLabel": stage})),
            app.call(Method::PUT, &allowlist_path, &token, Some(allowlist)),
        );
        for response in [a, b, c] {
            assert_no_content(response).await;
        }
        let cluster = app.cluster_json(&token, &id).await;
        assert_eq!(cluster["name"], name);
        assert_eq!(cluster["labels"], json!([stage]));
        assert_eq!(cluster["ipallowlist"][0]["ip"], ip);
    }
    let cluster = app.wait_healthy(&token, &id).await;
    assert_eq!(cluster["name"], "racing-7");
}

#[tokio::test]
async fn invalid_patches_are_400_naming_the_field_and_change_nothing() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let id = app.create_cluster(&token, "kept").await;
    let before = app.cluster_json(&token, &id).await;
    let cases = [
        (json!({"name": ""}), "name"),
        (json!({"name": "x".repeat(51)}), "name"),
        (json!({"name": 42}), "name"),
        (json!({"stageLabel": "qa"}), "stageLabel"),
        (
            json!({"numberOfAllocatedHwPackages": 0}),
            "numberOfAllocatedHwPackages",
        ),
        (
            json!({"numberOfAllocatedHwPackages": 1.5}),
            "numberOfAllocatedHwPackages",
        ),
        (
            json!({"numberOfAllocatedHwPackages": "2"}),
            "numberOfAllocatedHwPackages",
        ),
        (json!({"labels": ["prod"]}), "labels"),
        // A valid field does not get written when another one is wrong.
        (json!({"name": "changed", "stageLabel": "qa"}), "stageLabel"),
    ];
    for (body, field) in cases {
        let message = assert_error(
            patch(&app, &token, &id, body.clone()).await,
            StatusCode::BAD_REQUEST,
        )
        .await;
        assert!(message.contains(field), "{body}: {message}");
    }
    let malformed = app
        .http
        .patch(app.url(&format!("/clusters/{id}")))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body("{\"name\":")
        .send()
        .await
        .unwrap();
    assert_error(malformed, StatusCode::BAD_REQUEST).await;
    let mut after = app.cluster_json(&token, &id).await;
    after["status"] = before["status"].clone();
    assert_eq!(after, before);
}

#[tokio::test]
async fn patching_an_unknown_foreign_or_deleted_cluster_is_404() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let id = app.create_cluster(&token, "mine").await;
    let body = json!({"name": "x"});

    assert_error(
        patch(&app, &token, "no-such-cluster", body.clone()).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    let other = app.other_org_token().await;
    assert_error(
        patch(&app, &other, &id, body.clone()).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_eq!(app.cluster_json(&token, &id).await["name"], "mine");

    let deleted = app
        .call(Method::DELETE, &format!("/clusters/{id}"), &token, None)
        .await;
    assert_no_content(deleted).await;
    assert_error(patch(&app, &token, &id, body).await, StatusCode::NOT_FOUND).await;
}

#[tokio::test]
async fn patching_needs_the_update_clusters_scope() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let id = app.create_cluster(&token, "c").await;
    let narrow = app.scoped_token("get:clusters").await;
    let message = assert_error(
        patch(&app, &narrow, &id, json!({"name": "x"})).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    assert!(message.contains("update:clusters"), "{message}");
    let allowed = app.scoped_token("update:clusters").await;
    assert_no_content(patch(&app, &allowed, &id, json!({"name": "x"})).await).await;
}
