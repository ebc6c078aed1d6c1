use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::*;

async fn status(app: &TestApp, token: &str, cluster: &str) -> Value {
    let response = app
        .get(&format!("/clusters/{cluster}/secure-connectivity"), token)
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

async fn activate(app: &TestApp, token: &str, cluster: &str, body: Value) -> reqwest::Response {
    app.call(
        Method::POST,
        &format!("/clusters/{cluster}/secure-connectivity"),
        token,
        Some(body),
    )
    .await
}

#[tokio::test]
async fn secure_connectivity_is_activated_changed_and_deactivated() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let org_id = jwt_claims(&token)["https://camunda.com/orgId"].clone();
    let cluster = app.healthy_cluster(&token, "private-link").await;
    assert_eq!(
        status(&app, &token, &cluster).await,
        json!({ "status": {} })
    );

    let request = json!({
        "allowedPrincipals": ["arn:aws:iam::123456789012:root"],
        "allowedRegions": ["us-east-1"],
    });
    let response = activate(&app, &token, &cluster, request.clone()).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let doc = status(&app, &token, &cluster).await["status"].clone();
    assert_eq!(
        doc["spec"],
        json!({
            "allowedPrincipals": request["allowedPrincipals"],
            "allowedRegions": request["allowedRegions"],
            "cluster": { "id": cluster },
        })
    );
    assert_eq!(doc["metadata"]["labels"]["orgId"], org_id);
    assert!(doc["metadata"]["name"].is_string() && doc["metadata"]["namespace"].is_string());
    let state = &doc["status"];
    assert_eq!(state["observedGeneration"], 1);
    assert_eq!(state["endpointConnections"], json!([]));
    assert_eq!(state["endpointConnectionCount"], 0);
    for field in ["privateDnsName", "type", "serviceName", "region"] {
        assert!(state["endpoint"][field].is_string(), "endpoint.{field}");
    }
    assert!(state["urls"].is_object());
    let condition = &state["conditions"][0];
    assert_eq!(condition["type"], "Ready");
    assert_eq!(condition["status"], "True");
    assert_eq!(condition["observedGeneration"], 1);
    assert_rfc3339(condition["lastTransitionTime"].as_str().unwrap());

    // Posting again replaces the configuration.
    let changed = json!({
        "allowedPrincipals": ["arn:aws:iam::123456789012:role/deployer", "210987654321"],
        "allowedRegions": [],
    });
    assert_eq!(
        activate(&app, &token, &cluster, changed.clone())
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    let doc = status(&app, &token, &cluster).await["status"].clone();
    assert_eq!(
        doc["spec"]["allowedPrincipals"],
        changed["allowedPrincipals"]
    );
    assert_eq!(doc["spec"]["allowedRegions"], json!([]));
    assert_eq!(doc["status"]["observedGeneration"], 2);

    let path = format!("/clusters/{cluster}/secure-connectivity");
    let response = app.call(Method::DELETE, &path, &token, None).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        status(&app, &token, &cluster).await,
        json!({ "status": {} })
    );
    // Deactivating again is not an error.
    let response = app.call(Method::DELETE, &path, &token, None).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn invalid_requests_are_rejected_and_change_nothing() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let cluster = app.healthy_cluster(&token, "validated").await;
    let cases = [
        (
            json!({ "allowedPrincipals": ["*"], "allowedRegions": [] }),
            "\"*\"",
        ),
        (
            json!({ "allowedPrincipals": ["arn:aws:iam::123:root"], "allowedRegions": [] }),
            "arn:aws:iam::123:root",
        ),
        (
            json!({ "allowedPrincipals": ["123456789012"], "allowedRegions": ["mars-north-1x"] }),
            "mars-north-1x",
        ),
        (
            json!({ "allowedPrincipals": [], "allowedRegions": [] }),
            "allowedPrincipals",
        ),
        (
            json!({ "allowedPrincipals": ["123456789012", "123456789012"], "allowedRegions": [] }),
            "listed twice",
        ),
        (
            json!({ "allowedPrincipals": ["123456789012"] }),
            "allowedRegions",
        ),
        (
            json!({ "allowedPrincipals": "123456789012", "allowedRegions": [] }),
            "allowedPrincipals",
        ),
    ];
    for (body, named) in cases {
        let response = activate(&app, &token, &cluster, body.clone()).await;
        let message = assert_error(response, StatusCode::BAD_REQUEST).await;
        assert!(message.contains(named), "{body}: {message}");
    }
    assert_eq!(
        status(&app, &token, &cluster).await,
        json!({ "status": {} })
    );
}

#[tokio::test]
async fn secure_connectivity_of_unknown_or_foreign_clusters_is_not_found() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let cluster = app.healthy_cluster(&token, "mine").await;
    let body = json!({ "allowedPrincipals": ["123456789012"], "allowedRegions": ["eu-west-1"] });
    activate(&app, &token, &cluster, body.clone()).await;
    let other = app.other_org_token().await;
    for (who, id) in [
        (&token, "00000000-0000-4000-8000-000000000000"),
        (&other, cluster.as_str()),
    ] {
        let path = format!("/clusters/{id}/secure-connectivity");
        assert_error(app.get(&path, who).await, StatusCode::NOT_FOUND).await;
        assert_error(
            activate(&app, who, id, body.clone()).await,
            StatusCode::NOT_FOUND,
        )
        .await;
        assert_error(
            app.call(Method::DELETE, &path, who, None).await,
            StatusCode::NOT_FOUND,
        )
        .await;
    }
    let doc = status(&app, &token, &cluster).await;
    assert_eq!(
        doc["status"]["spec"]["allowedRegions"],
        json!(["eu-west-1"])
    );
    let read_only = app.scoped_token("get:clusters").await;
    let response = activate(&app, &read_only, &cluster, body).await;
    assert_error(response, StatusCode::FORBIDDEN).await;
}
