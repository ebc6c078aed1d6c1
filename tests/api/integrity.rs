//! Concurrency and integrity across cluster resources: racing creates never duplicate,
//! a deleted cluster answers 404 everywhere, and deleting a cluster removes what it owns.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::*;

async fn post(app: &TestApp, token: &str, path: &str, body: Value) -> reqwest::Response {
    app.call(Method::POST, path, token, Some(body)).await
}

#[tokio::test]
async fn racing_creates_of_one_secret_name_make_one_secret() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let id = app.create_cluster(&token, "c").await;
    let path = format!("/clusters/{id}/secrets");
    let body = |v: &str| json!({"secretName": "RACED", "secretValue": v});
    for _ in 0..5 {
        let (a, b, c, d) = tokio::join!(
            post(&app, &token, &path, body("a")),
            post(&app, &token, &path, body("b")),
            post(&app, &token, &path, body("c")),
            post(&app, &token, &path, body("d")),
        );
        let mut statuses: Vec<_> = [a, b, c, d].iter().map(|r| r.status()).collect();
        statuses.sort();
        assert_eq!(
            statuses,
            vec![
                StatusCode::NO_CONTENT,
                StatusCode::CONFLICT,
                StatusCode::CONFLICT,
                StatusCode::CONFLICT
            ]
        );
        let secrets: Value = app.get(&path, &token).await.json().await.unwrap();
        assert_eq!(secrets.as_object().unwrap().len(), 1, "{secrets}");
        let deleted = app
            .call(Method::DELETE, &format!("{path}/RACED"), &token, None)
            .await;
        assert_no_content(deleted).await;
    }
}

#[tokio::test]
async fn racing_creates_of_one_client_name_make_one_client() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let id = app.create_cluster(&token, "c").await;
    let path = format!("/clusters/{id}/clients");
    let body = json!({"clientName": "raced"});
    let (a, b, c, d) = tokio::join!(
        post(&app, &token, &path, body.clone()),
        post(&app, &token, &path, body.clone()),
        post(&app, &token, &path, body.clone()),
        post(&app, &token, &path, body.clone()),
    );
    let mut statuses: Vec<_> = [a, b, c, d].iter().map(|r| r.status()).collect();
    statuses.sort();
    // A duplicate client name is 400 on the hosted service, not 409.
    assert_eq!(
        statuses,
        vec![
            StatusCode::OK,
            StatusCode::BAD_REQUEST,
            StatusCode::BAD_REQUEST,
            StatusCode::BAD_REQUEST
        ]
    );
    let clients: Value = app.get(&path, &token).await.json().await.unwrap();
    assert_eq!(clients.as_array().unwrap().len(), 1, "{clients}");
}

#[tokio::test]
async fn a_deleted_cluster_answers_404_to_every_operation() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let id = app.create_cluster(&token, "doomed").await;
    let secret = json!({"secretName": "S", "secretValue": "v"});
    assert_no_content(
        post(
            &app,
            &token,
            &format!("/clusters/{id}/secrets"),
            secret.clone(),
        )
        .await,
    )
    .await;
    assert_no_content(
        app.call(Method::DELETE, &format!("/clusters/{id}"), &token, None)
            .await,
    )
    .await;

    let allowlist = json!({"ipallowlist": []});
    let whitelist = json!({"ipwhitelist": []});
    let value = json!({"secretValue": "w"});
    let client = json!({"clientName": "late"});
    let attempts: Vec<(Method, String, Option<Value>)> = vec![
        (Method::GET, format!("/clusters/{id}"), None),
        (
            Method::PATCH,
            format!("/clusters/{id}"),
            Some(json!({"name": "x"})),
        ),
        (Method::DELETE, format!("/clusters/{id}"), None),
        (
            Method::PUT,
            format!("/clusters/{id}/ipallowlist"),
            Some(allowlist),
        ),
        (
            Method::PUT,
            format!("/clusters/{id}/ipwhitelist"),
            Some(whitelist),
        ),
        (Method::GET, format!("/clusters/{id}/secrets"), None),
        (
            Method::POST,
            format!("/clusters/{id}/secrets"),
            Some(secret),
        ),
        (
            Method::PUT,
            format!("/clusters/{id}/secrets/S"),
            Some(value),
        ),
        (Method::DELETE, format!("/clusters/{id}/secrets/S"), None),
        (Method::GET, format!("/clusters/{id}/clients"), None),
        (
            Method::POST,
            format!("/clusters/{id}/clients"),
            Some(client),
        ),
    ];
    for (method, path, body) in attempts {
        let response = app.call(method.clone(), &path, &token, body).await;
        let message = assert_error(response, StatusCode::NOT_FOUND).await;
        assert!(message.contains("cluster"), "{method} {path}: {message}");
    }
}

#[tokio::test]
async fn deleting_a_cluster_removes_everything_it_owns() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let doomed = app.create_cluster(&token, "doomed").await;
    let kept = app.create_cluster(&token, "kept").await;
    for cluster in [&doomed, &kept] {
        for name in ["A", "B"] {
            let secret = json!({"secretName": name, "secretValue": "v"});
            let path = format!("/clusters/{cluster}/secrets");
            assert_no_content(post(&app, &token, &path, secret).await).await;
        }
        let path = format!("/clusters/{cluster}/clients");
        let created = post(&app, &token, &path, json!({"clientName": "w"})).await;
        assert_eq!(created.status(), StatusCode::OK);
    }
    assert_eq!(app.rows_of_cluster("connector_secrets", &doomed).await, 2);
    assert_eq!(app.rows_of_cluster("zeebe_clients", &doomed).await, 1);

    assert_no_content(
        app.call(Method::DELETE, &format!("/clusters/{doomed}"), &token, None)
            .await,
    )
    .await;
    assert_eq!(app.rows_of_cluster("connector_secrets", &doomed).await, 0);
    assert_eq!(app.rows_of_cluster("zeebe_clients", &doomed).await, 0);
    assert_eq!(app.rows_of_cluster("connector_secrets", &kept).await, 2);
    assert_eq!(app.rows_of_cluster("zeebe_clients", &kept).await, 1);

    // A new cluster never inherits anything, even under a reused name.
    let again = app.create_cluster(&token, "doomed").await;
    let secrets: Value = app
        .get(&format!("/clusters/{again}/secrets"), &token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(secrets, json!({}));
}

#[tokio::test]
async fn writes_racing_a_cluster_delete_leave_no_orphans() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    for round in 0..5 {
        let id = app.create_cluster(&token, &format!("c{round}")).await;
        let secrets = format!("/clusters/{id}/secrets");
        let clients = format!("/clusters/{id}/clients");
        let cluster = format!("/clusters/{id}");
        let (deleted, secret, client, patched) = tokio::join!(
            app.call(Method::DELETE, &cluster, &token, None),
            post(
                &app,
                &token,
                &secrets,
                json!({"secretName": "S", "secretValue": "v"})
            ),
            post(&app, &token, &clients, json!({"clientName": "w"})),
            app.call(
                Method::PATCH,
                &cluster,
                &token,
                Some(json!({"name": "renamed"}))
            ),
        );
        assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
        // Each write either landed before the delete or found the cluster gone.
        assert!(
            [StatusCode::NO_CONTENT, StatusCode::NOT_FOUND].contains(&secret.status()),
            "{}",
            secret.status()
        );
        assert!(
            [StatusCode::OK, StatusCode::NOT_FOUND].contains(&client.status()),
            "{}",
            client.status()
        );
        assert!(
            [StatusCode::NO_CONTENT, StatusCode::NOT_FOUND].contains(&patched.status()),
            "{}",
            patched.status()
        );
        assert_eq!(app.rows_of_cluster("connector_secrets", &id).await, 0);
        assert_eq!(app.rows_of_cluster("zeebe_clients", &id).await, 0);
    }
}
