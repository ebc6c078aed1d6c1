use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::*;

async fn members(app: &TestApp, token: &str) -> Value {
    let response = app.get("/members", token).await;
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

async fn post_member(app: &TestApp, token: &str, email: &str, body: Value) -> reqwest::Response {
    app.call(
        Method::POST,
        &format!("/members/{email}"),
        token,
        Some(body),
    )
    .await
}

async fn delete_member(app: &TestApp, token: &str, email: &str) -> reqwest::Response {
    app.call(Method::DELETE, &format!("/members/{email}"), token, None)
        .await
}

fn find<'a>(list: &'a Value, email: &str) -> Option<&'a Value> {
    list.as_array()
        .unwrap()
        .iter()
        .find(|m| m["email"] == email)
}

#[tokio::test]
async fn the_owner_comes_with_the_organization_and_is_protected() {
    let app = TestApp::spawn_with(&["--owner-email", "Boss@Example.com"]).await;
    let token = app.admin_token().await;
    let list = members(&app, &token).await;
    assert_eq!(
        list,
        json!([{
            "name": "boss@example.com",
            "email": "boss@example.com",
            "roles": ["owner"],
            "invitePending": false,
        }])
    );
    let changed = post_member(
        &app,
        &token,
        "boss@example.com",
        json!({"orgRoles": ["developer"]}),
    )
    .await;
    let message = assert_error(changed, StatusCode::FORBIDDEN).await;
    assert!(message.contains("owner"), "{message}");
    // The owner is found whatever the case of the address.
    let removed = delete_member(&app, &token, "BOSS@example.com").await;
    let message = assert_error(removed, StatusCode::FORBIDDEN).await;
    assert!(message.contains("owner"), "{message}");
    assert_eq!(members(&app, &token).await, list);
}

#[tokio::test]
async fn invite_replace_roles_and_remove() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let owner_only = members(&app, &token).await;
    assert_eq!(owner_only[0]["email"], "owner@consoled.local");

    // The SDK sends the raw email: `+` must stay a plus, not become a space.
    let invited = post_member(
        &app,
        &token,
        "dev+1@example.com",
        json!({"orgRoles": ["developer", "modeler", "developer"]}),
    )
    .await;
    assert_eq!(invited.status(), StatusCode::NO_CONTENT);
    assert_eq!(invited.text().await.unwrap(), "");
    let list = members(&app, &token).await;
    assert_eq!(list.as_array().unwrap().len(), 2);
    assert_eq!(
        find(&list, "dev+1@example.com").unwrap(),
        &json!({
            "name": "dev+1@example.com",
            "email": "dev+1@example.com",
            "roles": ["developer", "modeler"],
            "invitePending": true,
        })
    );

    // Posting again replaces the roles; percent-encoding and case do not make a new member.
    let replaced = post_member(
        &app,
        &token,
        "Dev%2B1@Example.com",
        json!({"orgRoles": ["admin"]}),
    )
    .await;
    assert_eq!(replaced.status(), StatusCode::NO_CONTENT);
    let list = members(&app, &token).await;
    assert_eq!(list.as_array().unwrap().len(), 2);
    let member = find(&list, "dev+1@example.com").unwrap();
    assert_eq!(member["roles"], json!(["admin"]));
    assert_eq!(member["invitePending"], true);

    let removed = delete_member(&app, &token, "dev+1@example.com").await;
    assert_eq!(removed.status(), StatusCode::NO_CONTENT);
    assert_eq!(removed.text().await.unwrap(), "");
    assert_eq!(members(&app, &token).await, owner_only);
    let again = delete_member(&app, &token, "dev+1@example.com").await;
    let message = assert_error(again, StatusCode::NOT_FOUND).await;
    assert!(message.contains("dev+1@example.com"), "{message}");
}

#[tokio::test]
async fn bad_emails_and_roles_are_400_naming_the_problem_and_write_nothing() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let before = members(&app, &token).await;
    let events_before = app.activity(&token).await.len();

    for email in [
        "not-an-email",
        "a@b",
        "two@@example.com",
        "a%20b@example.com",
    ] {
        let response = post_member(&app, &token, email, json!({"orgRoles": ["developer"]})).await;
        let message = assert_error(response, StatusCode::BAD_REQUEST).await;
        assert!(message.contains("invalid email"), "{email}: {message}");
        let response = delete_member(&app, &token, email).await;
        assert_error(response, StatusCode::BAD_REQUEST).await;
    }
    let cases = [
        (json!({"orgRoles": ["not-a-role"]}), "not-a-role"),
        (json!({"orgRoles": ["developer", "owner"]}), "owner"),
        (json!({"orgRoles": ["member"]}), "member"),
        (json!({"orgRoles": ["Admin"]}), "Admin"),
        (json!({"orgRoles": []}), "orgRoles"),
        (json!({}), "orgRoles"),
        (json!({"orgRoles": "admin"}), "orgRoles"),
        (
            json!({"orgRoles": ["admin"], "name": "x"}),
            "unknown field `name`",
        ),
    ];
    for (body, named) in cases {
        let response = post_member(&app, &token, "new@example.com", body.clone()).await;
        let message = assert_error(response, StatusCode::BAD_REQUEST).await;
        assert!(message.contains(named), "{body}: {message}");
    }
    let not_json = app
        .http
        .post(app.url("/members/new@example.com"))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body("{")
        .send()
        .await
        .unwrap();
    assert_error(not_json, StatusCode::BAD_REQUEST).await;

    assert_eq!(members(&app, &token).await, before);
    assert_eq!(app.activity(&token).await.len(), events_before);
}

#[tokio::test]
async fn the_seat_limit_counts_members_and_invites() {
    let app = TestApp::spawn_with(&["--max-members", "3"]).await;
    let token = app.admin_token().await;
    let roles = json!({"orgRoles": ["visitor"]});
    for email in ["one@example.com", "two@example.com"] {
        let response = post_member(&app, &token, email, roles.clone()).await;
        assert_eq!(response.status(), StatusCode::NO_CONTENT);
    }
    let full = post_member(&app, &token, "three@example.com", roles.clone()).await;
    let message = assert_error(full, StatusCode::FORBIDDEN).await;
    assert!(message.contains("seats"), "{message}");
    assert!(find(&members(&app, &token).await, "three@example.com").is_none());

    // Changing the roles of someone who has a seat needs no new one.
    let changed = post_member(
        &app,
        &token,
        "one@example.com",
        json!({"orgRoles": ["taskuser"]}),
    )
    .await;
    assert_eq!(changed.status(), StatusCode::NO_CONTENT);

    // A freed seat can be taken again.
    let removed = delete_member(&app, &token, "two@example.com").await;
    assert_eq!(removed.status(), StatusCode::NO_CONTENT);
    let invited = post_member(&app, &token, "three@example.com", roles).await;
    assert_eq!(invited.status(), StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn member_changes_are_audited_with_their_roles() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let email = "audited@example.com";
    post_member(&app, &token, email, json!({"orgRoles": ["analyst"]})).await;
    post_member(
        &app,
        &token,
        email,
        json!({"orgRoles": ["analyst", "admin"]}),
    )
    .await;
    // The same roles again change nothing, so they leave no record.
    post_member(
        &app,
        &token,
        email,
        json!({"orgRoles": ["admin", "analyst"]}),
    )
    .await;
    delete_member(&app, &token, email).await;

    let events: Vec<Value> = app
        .activity(&token)
        .await
        .into_iter()
        // The owner's first sign-in link is a member record of the first start.
        .filter(|e| e["entity"] == "member" && e["entityId"] == email)
        .collect();
    assert_eq!(events.len(), 3, "{events:?}");
    let (deleted, updated, created) = (&events[0], &events[1], &events[2]);
    for event in &events {
        assert_eq!(event["entityId"], email);
        assert_eq!(event["userId"], CLIENT_ID);
    }
    assert_eq!(created["auditType"], "c");
    assert_eq!(updated["auditType"], "u");
    assert_eq!(updated["entityAttribute"], "roles");
    assert_eq!(updated["entityAttributeValueFrom"], "analyst");
    assert_eq!(updated["entityAttributeValueTo"], "admin,analyst");
    assert_eq!(deleted["auditType"], "d");
}

#[tokio::test]
async fn a_missing_scope_is_reported_before_a_bad_request() {
    let app = TestApp::spawn().await;
    let token = app.scoped_token("get:members").await;
    let response = app
        .http
        .post(app.url("/members/not-an-email"))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body("{")
        .send()
        .await
        .unwrap();
    let message = assert_error(response, StatusCode::FORBIDDEN).await;
    assert!(message.contains("create:members"), "{message}");
}
