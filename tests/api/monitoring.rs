//! Bring-your-own monitoring: activation, monitoring clients, and the metrics endpoint
//! they authenticate to.

use base64::Engine;
use reqwest::{Method, Response, StatusCode};
use serde_json::{json, Value};

use crate::helpers::*;

const UNKNOWN: &str = "00000000-0000-4000-8000-000000000000";

async fn clients(app: &TestApp, token: &str, cluster: &str) -> Value {
    let response = app
        .get(&format!("/clusters/{cluster}/monitoring/clients"), token)
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

async fn create_client(app: &TestApp, token: &str, cluster: &str, username: &str) -> Response {
    app.call(
        Method::POST,
        &format!("/clusters/{cluster}/monitoring/clients"),
        token,
        Some(json!({ "username": username })),
    )
    .await
}

async fn activate(app: &TestApp, token: &str, cluster: &str) -> Response {
    app.send_empty(
        Method::POST,
        &format!("/clusters/{cluster}/monitoring"),
        token,
    )
    .await
}

async fn scrape(app: &TestApp, cluster: &str, authorization: Option<String>) -> Response {
    let mut request = app
        .http
        .get(app.url(&format!("/monitoring/{cluster}/metrics")));
    if let Some(value) = authorization {
        request = request.header("authorization", value);
    }
    request.send().await.unwrap()
}

fn basic(username: &str, password: &str) -> Option<String> {
    let encoded =
        base64::engine::general_purpose::STANDARD.encode(format!("{username}:{password}"));
    Some(format!("Basic {encoded}"))
}

async fn assert_unauthorized(response: Response) {
    let challenge = response.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(challenge.starts_with("Basic "), "{challenge}");
    assert_error(response, StatusCode::UNAUTHORIZED).await;
}

#[tokio::test]
async fn monitoring_clients_scrape_the_metrics_endpoint() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let cluster = app.healthy_cluster(&token, "watched").await;

    // Inactive: no clients, an empty status, and no way to create a client.
    assert_eq!(
        clients(&app, &token, &cluster).await,
        json!({ "clients": [], "status": {} })
    );
    let early = create_client(&app, &token, &cluster, "prometheus").await;
    let message = assert_error(early, StatusCode::PRECONDITION_FAILED).await;
    assert!(message.contains("activate"), "{message}");

    let response = activate(&app, &token, &cluster).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        activate(&app, &token, &cluster).await.status(),
        StatusCode::NO_CONTENT
    );
    let active = clients(&app, &token, &cluster).await;
    assert_eq!(active["clients"], json!([]));
    assert_eq!(
        active["status"]["metricsEndpoint"],
        json!({
            "target": app.addr.to_string(),
            "scheme": "http",
            "path": format!("/monitoring/{cluster}/metrics"),
        })
    );
    assert!(active["status"]["conditions"].is_array());

    let response = create_client(&app, &token, &cluster, "prometheus").await;
    assert_eq!(response.status(), StatusCode::OK);
    let created: Value = response.json().await.unwrap();
    let client_id = created["uuid"].as_str().unwrap().to_string();
    let password = created["password"].as_str().unwrap().to_string();
    assert!(password.len() >= 32);
    assert_eq!(created["username"], "prometheus");
    assert_eq!(created["name"], "prometheus");
    assert_eq!(created["createdBy"], CLIENT_ID);
    assert_eq!(created["createdByName"], "bootstrap");
    assert_eq!(created["lastUsed"], "");
    assert_rfc3339(created["created"].as_str().unwrap());

    let duplicate = create_client(&app, &token, &cluster, "prometheus").await;
    assert_error(duplicate, StatusCode::CONFLICT).await;
    let bad = create_client(&app, &token, &cluster, "has:colon").await;
    let message = assert_error(bad, StatusCode::BAD_REQUEST).await;
    assert!(message.contains("username"), "{message}");
    let listed = clients(&app, &token, &cluster).await;
    let listed = listed["clients"].as_array().unwrap();
    assert_eq!(listed.len(), 1);
    assert!(
        listed[0].get("password").is_none(),
        "the list reveals no password"
    );

    // The endpoint serves Prometheus text to the right credentials only.
    let response = scrape(&app, &cluster, basic("prometheus", &password)).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()["content-type"],
        "text/plain; version=0.0.4; charset=utf-8"
    );
    let text = response.text().await.unwrap();
    assert!(
        text.contains("consoled_cluster_status{status=\"Healthy\"} 1\n"),
        "{text}"
    );
    assert!(text.contains("consoled_cluster_healthy 1\n"), "{text}");
    assert!(
        text.contains(&format!("cluster_id=\"{cluster}\"")),
        "{text}"
    );
    assert!(
        text.contains("# TYPE consoled_component_status gauge"),
        "{text}"
    );

    assert_unauthorized(scrape(&app, &cluster, basic("prometheus", "wrong")).await).await;
    assert_unauthorized(scrape(&app, &cluster, basic("nobody", &password)).await).await;
    assert_unauthorized(scrape(&app, &cluster, None).await).await;
    assert_unauthorized(scrape(&app, &cluster, Some(format!("Bearer {token}"))).await).await;
    assert_unauthorized(scrape(&app, UNKNOWN, basic("prometheus", &password)).await).await;

    let used = clients(&app, &token, &cluster).await;
    assert_rfc3339(used["clients"][0]["lastUsed"].as_str().unwrap());

    // Rotation: a new password, and the old one stops working.
    let response = app
        .send_empty(
            Method::POST,
            &format!("/clusters/{cluster}/monitoring/clients/{client_id}/rotate"),
            &token,
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let rotated: Value = response.json().await.unwrap();
    assert_eq!(rotated["uuid"], client_id.as_str());
    let new_password = rotated["password"].as_str().unwrap();
    assert_ne!(new_password, password);
    assert_unauthorized(scrape(&app, &cluster, basic("prometheus", &password)).await).await;
    assert_eq!(
        scrape(&app, &cluster, basic("prometheus", new_password))
            .await
            .status(),
        StatusCode::OK
    );

    let delete_path = format!("/clusters/{cluster}/monitoring/clients/{client_id}");
    let deleted = app.call(Method::DELETE, &delete_path, &token, None).await;
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    assert_error(
        app.call(Method::DELETE, &delete_path, &token, None).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    let rotate_gone = app
        .send_empty(Method::POST, &format!("{delete_path}/rotate"), &token)
        .await;
    assert_error(rotate_gone, StatusCode::NOT_FOUND).await;
    assert_unauthorized(scrape(&app, &cluster, basic("prometheus", new_password)).await).await;

    let response = app
        .call(
            Method::DELETE,
            &format!("/clusters/{cluster}/monitoring"),
            &token,
            None,
        )
        .await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        clients(&app, &token, &cluster).await,
        json!({ "clients": [], "status": {} })
    );
}

#[tokio::test]
async fn deactivating_monitoring_or_deleting_the_cluster_revokes_its_clients() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let cluster = app.healthy_cluster(&token, "revoked").await;
    activate(&app, &token, &cluster).await;
    let created: Value = create_client(&app, &token, &cluster, "p1")
        .await
        .json()
        .await
        .unwrap();
    let password = created["password"].as_str().unwrap().to_string();
    assert_eq!(
        scrape(&app, &cluster, basic("p1", &password))
            .await
            .status(),
        StatusCode::OK
    );

    app.call(
        Method::DELETE,
        &format!("/clusters/{cluster}/monitoring"),
        &token,
        None,
    )
    .await;
    assert_unauthorized(scrape(&app, &cluster, basic("p1", &password)).await).await;
    // Reactivated monitoring starts without clients.
    activate(&app, &token, &cluster).await;
    assert_eq!(clients(&app, &token, &cluster).await["clients"], json!([]));

    let created: Value = create_client(&app, &token, &cluster, "p2")
        .await
        .json()
        .await
        .unwrap();
    let password = created["password"].as_str().unwrap().to_string();
    let deleted = app
        .call(
            Method::DELETE,
            &format!("/clusters/{cluster}"),
            &token,
            None,
        )
        .await;
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    assert_unauthorized(scrape(&app, &cluster, basic("p2", &password)).await).await;
}

#[tokio::test]
async fn passwords_are_stored_only_as_keyed_hashes() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let cluster = app.healthy_cluster(&token, "hashed").await;
    activate(&app, &token, &cluster).await;
    let created: Value = create_client(&app, &token, &cluster, "p")
        .await
        .json()
        .await
        .unwrap();
    let rotated: Value = app
        .send_empty(
            Method::POST,
            &format!(
                "/clusters/{cluster}/monitoring/clients/{}/rotate",
                created["uuid"].as_str().unwrap()
            ),
            &token,
        )
        .await
        .json()
        .await
        .unwrap();
    // Every file of the database (the WAL included) and the audit trail.
    for password in [&created["password"], &rotated["password"]] {
        let password = password.as_str().unwrap().as_bytes();
        for entry in std::fs::read_dir(app.data_dir.path()).unwrap() {
            let bytes = std::fs::read(entry.unwrap().path()).unwrap();
            assert!(!bytes.windows(password.len()).any(|w| w == password));
        }
    }
}

#[tokio::test]
async fn monitoring_of_unknown_or_foreign_clusters_is_not_found() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let cluster = app.healthy_cluster(&token, "private").await;
    activate(&app, &token, &cluster).await;
    let created: Value = create_client(&app, &token, &cluster, "p")
        .await
        .json()
        .await
        .unwrap();
    let client_id = created["uuid"].as_str().unwrap();
    let other = app.other_org_token().await;
    for (who, id) in [(&token, UNKNOWN), (&other, cluster.as_str())] {
        let base = format!("/clusters/{id}/monitoring");
        assert_error(
            app.send_empty(Method::POST, &base, who).await,
            StatusCode::NOT_FOUND,
        )
        .await;
        assert_error(
            app.call(Method::DELETE, &base, who, None).await,
            StatusCode::NOT_FOUND,
        )
        .await;
        assert_error(
            app.get(&format!("{base}/clients"), who).await,
            StatusCode::NOT_FOUND,
        )
        .await;
        assert_error(
            create_client(&app, who, id, "x").await,
            StatusCode::NOT_FOUND,
        )
        .await;
        let rotate = app
            .send_empty(
                Method::POST,
                &format!("{base}/clients/{client_id}/rotate"),
                who,
            )
            .await;
        assert_error(rotate, StatusCode::NOT_FOUND).await;
        let delete = app
            .call(
                Method::DELETE,
                &format!("{base}/clients/{client_id}"),
                who,
                None,
            )
            .await;
        assert_error(delete, StatusCode::NOT_FOUND).await;
    }
    // The foreign organization changed nothing.
    assert_eq!(
        clients(&app, &token, &cluster).await["clients"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let read_only = app.scoped_token("get:clusters").await;
    assert_eq!(
        clients(&app, &read_only, &cluster).await["clients"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let message = assert_error(
        activate(&app, &read_only, &cluster).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    assert!(message.contains("update:clusters"), "{message}");
}
