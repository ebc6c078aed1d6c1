use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::*;

#[tokio::test]
async fn parameters_list_the_catalog() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    for path in ["/clusters/parameters", "/clusters/parameters/"] {
        let response = app.get(path, &token).await;
        assert_eq!(response.status(), StatusCode::OK);
        let params: Value = response.json().await.unwrap();
        let stable = &params["channels"][0];
        assert_eq!(stable["name"], "Stable");
        assert!(stable["uuid"].is_string());
        assert!(stable["allowedGenerations"].as_array().unwrap().len() >= 2);
        assert!(stable["defaultGeneration"]["name"]
            .as_str()
            .unwrap()
            .starts_with("Camunda 8"));
        let plans: Vec<&str> = params["clusterPlanTypes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["name"].as_str().unwrap())
            .collect();
        assert!(plans.contains(&"Trial Cluster") && plans.contains(&"Advanced"));
        let region = &params["regions"][0];
        assert_eq!(region["name"], "Belgium, Europe (europe-west1)");
        assert!(region["provider"].is_string() && region["uuid"].is_string());
    }
}

#[tokio::test]
async fn a_created_cluster_becomes_healthy_with_hosted_links() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let org_id = jwt_claims(&token)["https://camunda.com/orgId"]
        .as_str()
        .unwrap()
        .to_string();
    let body = app.create_cluster_body(&token, "first").await;
    let response = app
        .call(Method::POST, "/clusters/", &token, Some(body.clone()))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let created: Value = response.json().await.unwrap();
    let id = created["clusterId"].as_str().unwrap().to_string();
    assert_eq!(created.as_object().unwrap().len(), 1);

    let creating: Value = app
        .get(&format!("/clusters/{id}"), &token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(creating["status"]["ready"], "Creating");

    let cluster = app.wait_healthy(&token, &id).await;
    for component in [
        "zeebeStatus",
        "operateStatus",
        "tasklistStatus",
        "optimizeStatus",
        "connectorsStatus",
    ] {
        assert_eq!(cluster["status"][component], "Healthy", "{component}");
    }
    assert_eq!(cluster["uuid"], id);
    assert_eq!(cluster["name"], "first");
    assert_eq!(cluster["ownerId"], org_id);
    assert_eq!(cluster["channel"]["uuid"], body["channelId"]);
    assert_eq!(cluster["generation"]["uuid"], body["generationId"]);
    assert_eq!(cluster["region"]["name"], "Belgium, Europe (europe-west1)");
    assert_eq!(cluster["planType"]["uuid"], body["planTypeId"]);
    assert_eq!(cluster["autoUpdate"], true);
    let created_at = cluster["created"].as_str().unwrap();
    assert!(time::OffsetDateTime::parse(
        created_at,
        &time::format_description::well_known::Rfc3339
    )
    .is_ok());
    assert!(created_at.ends_with('Z'));
    let links = &cluster["links"];
    assert_eq!(links["zeebe"], format!("{id}.bru-2.zeebe.camunda.local"));
    assert_eq!(
        links["operate"],
        format!("https://bru-2.operate.camunda.local/{id}")
    );
    assert_eq!(
        links["tasklist"],
        format!("https://bru-2.tasklist.camunda.local/{id}")
    );
    assert_eq!(
        links["console"],
        format!("https://console.camunda.local/org/{org_id}/cluster/{id}")
    );

    let list: Value = app.get("/clusters/", &token).await.json().await.unwrap();
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0], cluster);

    // The trailing-slash form of the item path works too.
    assert_eq!(
        app.get(&format!("/clusters/{id}/"), &token).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn base_domain_is_configurable() {
    let app = TestApp::spawn_with(&["--base-domain", "example.org"]).await;
    let token = app.admin_token().await;
    let id = app.create_cluster(&token, "c").await;
    let cluster: Value = app
        .get(&format!("/clusters/{id}"), &token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        cluster["links"]["zeebe"],
        format!("{id}.bru-2.zeebe.example.org")
    );
}

#[tokio::test]
async fn invalid_create_requests_are_400_naming_the_field_and_write_nothing() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let valid = app.create_cluster_body(&token, "ok").await;
    let alpha_generation =
        app.parameters(&token).await["channels"][1]["defaultGeneration"]["uuid"].clone();
    let cases: Vec<(&str, Value, &str)> = vec![
        ("name", json!(""), "name"),
        ("name", json!("x".repeat(51)), "name"),
        ("channelId", json!("nope"), "channelId"),
        ("generationId", json!("nope"), "generationId"),
        ("generationId", alpha_generation, "generationId"),
        ("regionId", json!("nope"), "regionId"),
        ("planTypeId", json!("nope"), "planTypeId"),
        ("stageLabel", json!("qa"), "stageLabel"),
        ("hardwarePackages", json!(-1), "hardwarePackages"),
        ("unexpected", json!(1), "unexpected"),
        ("name", json!(42), "name"),
    ];
    for (field, value, named) in cases {
        let mut body = valid.clone();
        body[field] = value;
        let message = assert_error(
            app.call(Method::POST, "/clusters", &token, Some(body))
                .await,
            StatusCode::BAD_REQUEST,
        )
        .await;
        assert!(message.contains(named), "{field}: {message}");
    }
    let mut missing = valid.clone();
    missing.as_object_mut().unwrap().remove("regionId");
    let message = assert_error(
        app.call(Method::POST, "/clusters", &token, Some(missing))
            .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert!(message.contains("regionId"), "{message}");

    let malformed = app
        .http
        .post(app.url("/clusters"))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body("{\"name\": ")
        .send()
        .await
        .unwrap();
    assert_error(malformed, StatusCode::BAD_REQUEST).await;

    let wrong_type = app
        .http
        .post(app.url("/clusters"))
        .bearer_auth(&token)
        .header("content-type", "text/plain")
        .body(valid.to_string())
        .send()
        .await
        .unwrap();
    assert_error(wrong_type, StatusCode::UNSUPPORTED_MEDIA_TYPE).await;

    let mut huge = valid.clone();
    huge["name"] = json!("x".repeat(200_000));
    let too_large = app
        .call(Method::POST, "/clusters", &token, Some(huge))
        .await;
    assert_error(too_large, StatusCode::PAYLOAD_TOO_LARGE).await;

    let list: Value = app.get("/clusters", &token).await.json().await.unwrap();
    assert_eq!(list, json!([]), "nothing was written");

    // A 50-character name is fine.
    let mut fifty = valid.clone();
    fifty["name"] = json!("x".repeat(50));
    assert_eq!(
        app.call(Method::POST, "/clusters", &token, Some(fifty))
            .await
            .status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn deleting_a_cluster_removes_it() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let id = app.create_cluster(&token, "doomed").await;
    let keep = app.create_cluster(&token, "kept").await;
    let deleted = app
        .call(Method::DELETE, &format!("/clusters/{id}"), &token, None)
        .await;
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    assert!(deleted.bytes().await.unwrap().is_empty());
    assert_error(
        app.get(&format!("/clusters/{id}"), &token).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_error(
        app.call(Method::DELETE, &format!("/clusters/{id}/"), &token, None)
            .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    let list: Value = app.get("/clusters", &token).await.json().await.unwrap();
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["uuid"], keep);
}

#[tokio::test]
async fn another_organizations_cluster_is_not_found() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let id = app.create_cluster(&token, "mine").await;
    let other = app.other_org_token().await;
    assert_error(
        app.get(&format!("/clusters/{id}"), &other).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_error(
        app.call(Method::DELETE, &format!("/clusters/{id}"), &other, None)
            .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_error(
        app.get(&format!("/clusters/{id}/clients"), &other).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    let create = app
        .call(
            Method::POST,
            &format!("/clusters/{id}/clients"),
            &other,
            Some(json!({"clientName": "x"})),
        )
        .await;
    assert_error(create, StatusCode::NOT_FOUND).await;
    let list: Value = app.get("/clusters", &other).await.json().await.unwrap();
    assert_eq!(list, json!([]));
    // Still there for its owner.
    assert_eq!(
        app.get(&format!("/clusters/{id}"), &token).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn unknown_paths_and_methods_answer_in_the_error_shape() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    assert_error(app.get("/nowhere", &token).await, StatusCode::NOT_FOUND).await;
    assert_error(
        app.call(Method::PUT, "/clusters", &token, None).await,
        StatusCode::METHOD_NOT_ALLOWED,
    )
    .await;
}
