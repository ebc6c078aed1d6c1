//! What is on a cluster, in the console: its API clients (the secret shown once, with a
//! credentials file of environment variables). Each change goes through the API's own
//! functions, lands in the activity with the member's email, and is refused (403, nothing
//! written) without the CSRF token or for a role the matrix does not allow.

use reqwest::StatusCode;
use serde_json::Value;

use crate::console::{env_vars, location, signed_in, unescape, var, OWNER};
use crate::helpers::*;

async fn client_count(app: &TestApp) -> i64 {
    app.query_i64("SELECT COUNT(*) FROM zeebe_clients", &[])
        .await
}

#[tokio::test]
async fn the_owner_creates_an_api_client_whose_credentials_file_gets_a_token() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let cluster = app.create_cluster(&token, "resources").await;
    let (owner, csrf) = signed_in(&app, OWNER, None).await;
    let path = format!("/console/clusters/{cluster}/clients");

    let html = owner.page(&format!("/console/clusters/{cluster}")).await;
    assert!(
        html.contains(&format!("href=\"{path}\"")),
        "a tab to the clients"
    );
    let html = owner.page(&path).await;
    assert!(html.contains("no API clients yet"));
    for p in ["zeebe", "operate", "tasklist", "optimize", "secrets"] {
        assert!(html.contains(&format!("name=\"{p}\"")), "{p}");
    }

    // No permission ticked: the form again, nothing written.
    let response = owner
        .post(&path, &[("csrf", &csrf), ("name", "worker")])
        .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(client_count(&app).await, 0);

    let form = [
        ("csrf", csrf.as_str()),
        ("name", "worker"),
        ("zeebe", "on"),
        ("operate", "on"),
    ];
    let response = owner.post(&path, &form).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let html = response.text().await.unwrap();
    assert!(html.contains("shown only once"));
    let vars = env_vars(&html);
    let names: Vec<&str> = vars.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "ZEEBE_ADDRESS",
            "ZEEBE_CLIENT_ID",
            "ZEEBE_CLIENT_SECRET",
            "ZEEBE_AUTHORIZATION_SERVER_URL",
            "ZEEBE_TOKEN_AUDIENCE",
            "CAMUNDA_CLUSTER_ID",
            "CAMUNDA_CLUSTER_REGION",
            "CAMUNDA_CREDENTIALS_SCOPES",
            "CAMUNDA_OAUTH_URL",
            "CAMUNDA_OPERATE_BASE_URL",
        ]
    );
    let (id, secret) = (
        var(&vars, "ZEEBE_CLIENT_ID"),
        var(&vars, "ZEEBE_CLIENT_SECRET"),
    );
    assert!(html.contains(&format!("<code data-copy>{secret}</code>")));
    assert_eq!(var(&vars, "CAMUNDA_CLUSTER_ID"), cluster);
    assert_eq!(var(&vars, "CAMUNDA_CREDENTIALS_SCOPES"), "Zeebe,Operate");
    assert_eq!(
        var(&vars, "ZEEBE_AUTHORIZATION_SERVER_URL"),
        app.url("/oauth/token")
    );
    assert_eq!(var(&vars, "CAMUNDA_OAUTH_URL"), app.url("/oauth/token"));

    // The same values as the API's.
    let api: Value = app
        .get(&format!("/clusters/{cluster}"), &token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        var(&vars, "CAMUNDA_OPERATE_BASE_URL"),
        api["links"]["operate"]
    );
    assert!(var(&vars, "ZEEBE_ADDRESS").starts_with(api["links"]["zeebe"].as_str().unwrap()));

    // The credentials get a token.
    let audience = var(&vars, "ZEEBE_TOKEN_AUDIENCE").to_string();
    let zeebe_token = app.token_for(id, secret, &audience).await;
    assert!(!zeebe_token.is_empty());

    // The list shows the client, never its secret; the API lists it too.
    let html = owner.page(&path).await;
    assert!(html.contains(id) && html.contains("worker"));
    assert!(!html.contains(secret));
    let listed: Value = app
        .get(&format!("/clusters/{cluster}/clients"), &token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed[0]["clientId"], id);
    assert_eq!(
        listed[0]["permissions"],
        serde_json::json!(["Zeebe", "Operate"])
    );

    // A duplicate name is the API's 400, shown on the form.
    let response = owner.post(&path, &form).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(response.text().await.unwrap().contains("must be unique"));

    let activity = app.activity(&token).await;
    let created = activity
        .iter()
        .find(|a| a["entityId"] == id && a["auditType"] == "c")
        .expect("the creation's record");
    assert_eq!(created["userId"], OWNER);

    // Delete: gone from the API, recorded with the owner's email.
    let delete = format!("{path}/{id}/delete");
    let response = owner.post(&delete, &[("csrf", &csrf)]).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), path);
    assert_eq!(client_count(&app).await, 0);
    let activity = app.activity(&token).await;
    let deleted = activity
        .iter()
        .find(|a| a["entityId"] == id && a["auditType"] == "d")
        .expect("the deletion's record");
    assert_eq!(deleted["userId"], OWNER);
}

#[tokio::test]
async fn a_visitor_sees_the_clients_but_creates_and_deletes_nothing_and_forms_need_their_token() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let cluster = app.create_cluster(&token, "resources").await;
    let path = format!("/console/clusters/{cluster}/clients");
    let (owner, owner_csrf) = signed_in(&app, OWNER, None).await;

    // Without the CSRF token: 403, nothing written.
    let response = owner
        .post(&path, &[("name", "worker"), ("zeebe", "on")])
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(client_count(&app).await, 0);
    let response = owner
        .post(
            &path,
            &[("csrf", &owner_csrf), ("name", "worker"), ("zeebe", "on")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let listed: Value = app
        .get(&format!("/clusters/{cluster}/clients"), &token)
        .await
        .json()
        .await
        .unwrap();
    let id = listed[0]["clientId"].as_str().unwrap().to_string();

    let (visitor, csrf) = signed_in(&app, "visitor@example.com", Some("visitor")).await;
    let html = visitor.page(&path).await;
    assert!(html.contains(&id));
    assert!(!html.contains("Create an API client"));
    assert!(!html.contains("/delete\""));
    let response = visitor
        .post(&path, &[("csrf", &csrf), ("name", "mine"), ("zeebe", "on")])
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let response = visitor
        .post(&format!("{path}/{id}/delete"), &[("csrf", &csrf)])
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(client_count(&app).await, 1);
    let response = owner.post(&format!("{path}/{id}/delete"), &[]).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(client_count(&app).await, 1);

    // A developer may.
    let (developer, csrf) = signed_in(&app, "dev@example.com", Some("developer")).await;
    let response = developer
        .post(
            &path,
            &[("csrf", &csrf), ("name", "dev"), ("tasklist", "on")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(client_count(&app).await, 2);
    let activity = app.activity(&token).await;
    assert!(activity
        .iter()
        .any(|a| a["userId"] == "dev@example.com" && a["auditType"] == "c"));
}

#[tokio::test]
async fn connector_secrets_are_added_revealed_on_request_changed_and_deleted() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let cluster = app.create_cluster(&token, "resources").await;
    let path = format!("/console/clusters/{cluster}/secrets");
    let api_path = format!("/clusters/{cluster}/secrets");
    let api_values = || async {
        let values: Value = app.get(&api_path, &token).await.json().await.unwrap();
        values
    };
    let (developer, csrf) = signed_in(&app, "dev@example.com", Some("developer")).await;
    let value = "s3cr3t-<value>&'";

    // Without the token: 403, nothing written.
    let response = developer
        .post(&path, &[("name", "API_KEY"), ("value", value)])
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(api_values().await, serde_json::json!({}));

    let response = developer
        .post(
            &path,
            &[("csrf", &csrf), ("name", "API_KEY"), ("value", value)],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), path);
    assert_eq!(api_values().await["API_KEY"], value);

    // The page lists the name, never the value.
    let html = developer.page(&path).await;
    assert!(html.contains("API_KEY"));
    assert!(!unescape(&html).contains(value), "{html}");
    assert!(!html.contains("s3cr3t"));

    // A duplicate is the API's 409, shown on the page.
    let response = developer
        .post(
            &path,
            &[("csrf", &csrf), ("name", "API_KEY"), ("value", "x")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
    assert!(response.text().await.unwrap().contains("must be unique"));

    // Reveal shows it, not cached.
    let reveal = format!("{path}/reveal");
    let response = developer
        .post(&reveal, &[("csrf", &csrf), ("name", "API_KEY")])
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["cache-control"], "no-store");
    assert!(unescape(&response.text().await.unwrap()).contains(value));
    let response = developer.post(&reveal, &[("name", "API_KEY")]).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);

    // A visitor sees the name only and can neither reveal nor change.
    let (visitor, visitor_csrf) = signed_in(&app, "visitor@example.com", Some("visitor")).await;
    let html = visitor.page(&path).await;
    assert!(html.contains("API_KEY") && !html.contains("Reveal"));
    let response = visitor
        .post(&reveal, &[("csrf", &visitor_csrf), ("name", "API_KEY")])
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let response = visitor
        .post(
            &format!("{path}/update"),
            &[
                ("csrf", &visitor_csrf),
                ("name", "API_KEY"),
                ("value", "mine"),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let response = visitor
        .post(
            &format!("{path}/delete"),
            &[("csrf", &visitor_csrf), ("name", "API_KEY")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(api_values().await["API_KEY"], value);

    // Change, then delete.
    let response = developer
        .post(
            &format!("{path}/update"),
            &[("csrf", &csrf), ("name", "API_KEY"), ("value", "n3w")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(api_values().await["API_KEY"], "n3w");
    let response = developer
        .post(
            &format!("{path}/delete"),
            &[("csrf", &csrf), ("name", "API_KEY")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(api_values().await, serde_json::json!({}));

    let activity = app.activity(&token).await;
    for kind in ["c", "u", "d"] {
        let record = activity
            .iter()
            .find(|a| a["entityId"] == "API_KEY" && a["auditType"] == kind)
            .unwrap_or_else(|| panic!("a record {kind}"));
        assert_eq!(record["userId"], "dev@example.com");
        assert!(!record.to_string().contains("s3cr3t"));
    }
}

#[tokio::test]
async fn an_operations_engineer_replaces_the_ip_allowlist_and_a_developer_may_not() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let cluster = app.create_cluster(&token, "resources").await;
    let path = format!("/console/clusters/{cluster}/ipallowlist");
    let api_list = || async {
        let body: Value = app
            .get(&format!("/clusters/{cluster}"), &token)
            .await
            .json()
            .await
            .unwrap();
        body["ipallowlist"].clone()
    };
    let (ops, csrf) = signed_in(&app, "ops@example.com", Some("operationsengineer")).await;
    assert!(ops.page(&path).await.contains("any address"));

    // An invalid entry: the API's 400 with the text kept, nothing written.
    let response = ops
        .post(
            &path,
            &[
                ("csrf", &csrf),
                ("entries", "10.0.0.0/24 office\nnot-an-ip x"),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(response.text().await.unwrap().contains("not-an-ip"));
    assert_eq!(api_list().await, serde_json::json!([]));

    let text = "10.0.0.0/24 office\n192.168.1.1/32, 192.168.1.2/32 vpn pair\n203.0.113.7\n";
    let response = ops.post(&path, &[("csrf", &csrf), ("entries", text)]).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        api_list().await,
        serde_json::json!([
            {"ip": "10.0.0.0/24", "description": "office"},
            {"ip": "192.168.1.1/32,192.168.1.2/32", "description": "vpn pair"},
            {"ip": "203.0.113.7", "description": ""},
        ])
    );
    assert!(ops.page(&path).await.contains("vpn pair"));

    let (developer, dev_csrf) = signed_in(&app, "dev@example.com", Some("developer")).await;
    let html = developer.page(&path).await;
    assert!(html.contains("vpn pair") && !html.contains("Save the allowlist"));
    let response = developer
        .post(&path, &[("csrf", &dev_csrf), ("entries", "")])
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let response = ops.post(&path, &[("entries", "")]).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(api_list().await.as_array().unwrap().len(), 3);

    // Empty clears it; recorded with the member's email.
    let response = ops.post(&path, &[("csrf", &csrf), ("entries", "")]).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(api_list().await, serde_json::json!([]));
    let activity = app.activity(&token).await;
    assert!(activity
        .iter()
        .any(|a| a["userId"] == "ops@example.com" && a["entityId"] == cluster.as_str()));
}

#[tokio::test]
async fn backups_are_taken_and_deleted_by_an_operations_engineer_only() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let cluster = app.create_cluster(&token, "resources").await;
    let path = format!("/console/clusters/{cluster}/backups");
    let api_backups = || async {
        let body: Value = app
            .get(&format!("/clusters/{cluster}/backups"), &token)
            .await
            .json()
            .await
            .unwrap();
        body.as_array().unwrap().clone()
    };
    let (ops, csrf) = signed_in(&app, "ops@example.com", Some("operationsengineer")).await;
    app.wait_healthy(&token, &cluster).await;
    assert!(ops.page(&path).await.contains("no backups yet"));

    let response = ops.post(&path, &[]).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let (developer, dev_csrf) = signed_in(&app, "dev@example.com", Some("developer")).await;
    let response = developer.post(&path, &[("csrf", &dev_csrf)]).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert!(api_backups().await.is_empty());

    let response = ops.post(&path, &[("csrf", &csrf)]).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let backups = api_backups().await;
    assert_eq!(backups.len(), 1);
    let id = backups[0]["uuid"].as_str().unwrap().to_string();
    let html = developer.page(&path).await;
    assert!(html.contains(backups[0]["name"].as_str().unwrap()));
    assert!(!html.contains("Take a backup"));

    let delete = format!("{path}/{id}/delete");
    let response = developer.post(&delete, &[("csrf", &dev_csrf)]).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let response = ops.post(&delete, &[("csrf", &csrf)]).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert!(api_backups().await.is_empty());

    let activity = app.activity(&token).await;
    for kind in ["c", "d"] {
        let record = activity
            .iter()
            .find(|a| a["entityId"] == id.as_str() && a["auditType"] == kind)
            .unwrap_or_else(|| panic!("a record {kind}"));
        assert_eq!(record["userId"], "ops@example.com");
    }
}
