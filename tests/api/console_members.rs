//! The organization's members in the console: inviting (the one-time link is shown to hand
//! over), changing roles, removing, and the refusals: without the CSRF token, for roles the
//! matrix does not allow, and for the owner. Each change goes through the API's own
//! functions and lands in the activity with the member's email as actor.

use reqwest::StatusCode;
use serde_json::Value;

use crate::console::{invite, location, owner_with_password, signed_in, Browser, OWNER, PASSWORD};
use crate::helpers::*;

/// The one-time link of a link page, as a path of the test server.
fn shown_link(html: &str, app: &TestApp) -> String {
    let marker = "id=\"sign-in-link\">";
    let start = html.find(marker).unwrap_or_else(|| panic!("{html}")) + marker.len();
    let end = html[start..].find("</code>").unwrap();
    crate::console::path_of(&html[start..start + end], app)
}

/// The member `email` as the API lists it, if any.
async fn member(app: &TestApp, token: &str, email: &str) -> Option<Value> {
    let members: Value = app.get("/members", token).await.json().await.unwrap();
    members
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["email"] == email)
        .cloned()
}

async fn audit_count(app: &TestApp) -> i64 {
    app.query_i64("SELECT COUNT(*) FROM audit_events", &[])
        .await
}

async fn member_count(app: &TestApp) -> i64 {
    app.query_i64("SELECT COUNT(*) FROM members", &[]).await
}

#[tokio::test]
async fn the_owner_invites_a_developer_changes_their_roles_and_removes_them() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let (owner, csrf) = signed_in(&app, OWNER, None).await;

    let html = owner.page("/console/members").await;
    assert!(html.contains("<caption id=\"members-caption\">"), "{html}");
    assert!(html.contains("(owner)"), "{html}");
    assert!(html.contains("<legend>Roles</legend>"), "{html}");

    // The invite answers with the link, kept out of caches.
    let invited = owner
        .post(
            "/console/members",
            &[
                ("csrf", &csrf),
                ("email", "Dev@Example.com"),
                ("role", "developer"),
            ],
        )
        .await;
    assert_eq!(invited.status(), StatusCode::OK);
    assert_eq!(invited.headers()["cache-control"], "no-store");
    let html = invited.text().await.unwrap();
    assert!(html.contains("No email is sent"), "{html}");
    assert!(
        html.contains("<code data-copy id=\"sign-in-link\">"),
        "{html}"
    );
    let first_link = shown_link(&html, &app);
    let dev = member(&app, &token, "dev@example.com").await.unwrap();
    assert_eq!(dev["invitePending"], true);
    assert_eq!(dev["roles"], serde_json::json!(["developer"]));

    // Inviting the pending invitee again: a fresh link (the first stops working) and the
    // roles now ticked.
    let again = owner
        .post(
            "/console/members",
            &[
                ("csrf", &csrf),
                ("email", "dev@example.com"),
                ("role", "developer"),
                ("role", "analyst"),
            ],
        )
        .await;
    assert_eq!(again.status(), StatusCode::OK);
    let link = shown_link(&again.text().await.unwrap(), &app);
    assert_ne!(link, first_link);
    assert_eq!(owner.get(&first_link).await.status(), StatusCode::GONE);
    let dev = member(&app, &token, "dev@example.com").await.unwrap();
    assert_eq!(dev["roles"], serde_json::json!(["analyst", "developer"]));
    // The pending row offers another link.
    let html = owner.page("/console/members").await;
    assert!(html.contains("Invite pending"), "{html}");
    assert!(html.contains("action=\"/console/members/link\""), "{html}");
    let renewed = owner
        .post(
            "/console/members/link",
            &[("csrf", &csrf), ("email", "dev@example.com")],
        )
        .await;
    assert_eq!(renewed.status(), StatusCode::OK);
    assert_eq!(renewed.headers()["cache-control"], "no-store");
    let link_after_reset = shown_link(&renewed.text().await.unwrap(), &app);
    assert_eq!(owner.get(&link).await.status(), StatusCode::GONE);

    // The invitee sets a password through the link and signs in.
    let developer = Browser::new(&app);
    let set = developer.set_password(&link_after_reset, PASSWORD).await;
    assert_eq!(set.status(), StatusCode::SEE_OTHER);
    developer.signed_in("dev@example.com", PASSWORD).await;
    assert_eq!(
        developer.get("/console/members").await.status(),
        StatusCode::FORBIDDEN
    );
    let html = owner.page("/console/members").await;
    assert!(html.contains("Active"), "{html}");

    // Roles take effect at once, both ways.
    let to_admin = owner
        .post(
            "/console/members/roles",
            &[
                ("csrf", &csrf),
                ("email", "dev@example.com"),
                ("role", "admin"),
            ],
        )
        .await;
    assert_eq!(to_admin.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&to_admin), "/console/members");
    assert_eq!(
        developer.get("/console/members").await.status(),
        StatusCode::OK
    );
    let back = owner
        .post(
            "/console/members/roles",
            &[
                ("csrf", &csrf),
                ("email", "dev@example.com"),
                ("role", "developer"),
            ],
        )
        .await;
    assert_eq!(back.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        developer.get("/console/members").await.status(),
        StatusCode::FORBIDDEN
    );
    // No role ticked: the page again, nothing changed.
    let none = owner
        .post(
            "/console/members/roles",
            &[("csrf", &csrf), ("email", "dev@example.com")],
        )
        .await;
    assert_eq!(none.status(), StatusCode::BAD_REQUEST);
    assert!(none.text().await.unwrap().contains("at least one role"));

    // An accepted member is not invited again.
    let twice = owner
        .post(
            "/console/members",
            &[
                ("csrf", &csrf),
                ("email", "dev@example.com"),
                ("role", "visitor"),
            ],
        )
        .await;
    assert_eq!(twice.status(), StatusCode::CONFLICT);
    assert!(twice.text().await.unwrap().contains("already a member"));
    let dev = member(&app, &token, "dev@example.com").await.unwrap();
    assert_eq!(dev["roles"], serde_json::json!(["developer"]));

    // Removal needs the email typed again; then it ends the member's session.
    let mistyped = owner
        .post(
            "/console/members/remove",
            &[
                ("csrf", &csrf),
                ("email", "dev@example.com"),
                ("confirm", "dev@example.org"),
            ],
        )
        .await;
    assert_eq!(mistyped.status(), StatusCode::BAD_REQUEST);
    assert!(member(&app, &token, "dev@example.com").await.is_some());
    let removed = owner
        .post(
            "/console/members/remove",
            &[
                ("csrf", &csrf),
                ("email", "dev@example.com"),
                ("confirm", "DEV@example.com"),
            ],
        )
        .await;
    assert_eq!(removed.status(), StatusCode::SEE_OTHER);
    assert!(member(&app, &token, "dev@example.com").await.is_none());
    let ended = developer.get("/console").await;
    assert_eq!(ended.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&ended), "/console/login");
    assert_eq!(
        app.query_i64(
            "SELECT COUNT(*) FROM console_sessions WHERE email = $1",
            &["dev@example.com"]
        )
        .await,
        0
    );

    // Every step is in the activity with the owner's email as actor.
    let activity = app.activity(&token).await;
    let by_owner: Vec<&str> = activity
        .iter()
        .filter(|a| a["userId"] == OWNER && a["entityId"] == "dev@example.com")
        .map(|a| a["audit"].as_str().unwrap())
        .collect();
    for step in [
        "Invited dev@example.com with roles developer",
        "Issued an invite link for dev@example.com",
        "Changed the roles of dev@example.com",
        "Removed dev@example.com from the organization",
    ] {
        assert!(by_owner.contains(&step), "{step} in {by_owner:?}");
    }
}

#[tokio::test]
async fn the_owner_cannot_be_changed_or_removed_and_bad_invites_are_refused() {
    let app = TestApp::spawn().await;
    let (owner, csrf) = signed_in(&app, OWNER, None).await;
    let audits = audit_count(&app).await;

    let change = owner
        .post(
            "/console/members/roles",
            &[("csrf", &csrf), ("email", OWNER), ("role", "developer")],
        )
        .await;
    assert_eq!(change.status(), StatusCode::FORBIDDEN);
    assert!(change
        .text()
        .await
        .unwrap()
        .contains("owner&#39;s roles cannot be changed"));
    let remove = owner
        .post(
            "/console/members/remove",
            &[("csrf", &csrf), ("email", OWNER), ("confirm", OWNER)],
        )
        .await;
    assert_eq!(remove.status(), StatusCode::FORBIDDEN);
    assert!(remove
        .text()
        .await
        .unwrap()
        .contains("owner cannot be removed"));
    let reinvite = owner
        .post(
            "/console/members",
            &[("csrf", &csrf), ("email", OWNER), ("role", "visitor")],
        )
        .await;
    assert_eq!(reinvite.status(), StatusCode::FORBIDDEN);

    // The email and the roles are checked by the API's rules.
    for (email, role, status, says) in [
        (
            "not-an-email",
            "visitor",
            StatusCode::BAD_REQUEST,
            "invalid email",
        ),
        (
            "a@example.com",
            "owner",
            StatusCode::BAD_REQUEST,
            "not an assignable role",
        ),
        (
            "a@example.com",
            "",
            StatusCode::BAD_REQUEST,
            "at least one role",
        ),
    ] {
        let mut form = vec![("csrf", csrf.as_str()), ("email", email)];
        if !role.is_empty() {
            form.push(("role", role));
        }
        let refused = owner.post("/console/members", &form).await;
        assert_eq!(refused.status(), status, "{email} {role}");
        let html = refused.text().await.unwrap();
        assert!(html.contains(says), "{says}: {html}");
        // What was typed stays in the form.
        assert!(html.contains(&format!("value=\"{email}\"")), "{html}");
    }
    assert_eq!(member_count(&app).await, 1);
    assert_eq!(audit_count(&app).await, audits);
}

#[tokio::test]
async fn members_forms_need_their_token_and_the_matrix_allows_them_to_owners_and_admins_only() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    owner_with_password(&app).await;
    // A pending invite the refused forms aim at.
    invite(&app, "target@example.com", "visitor").await;
    let owner = Browser::new(&app);
    owner.signed_in(OWNER, PASSWORD).await;
    let owner_csrf = owner.csrf().await;

    for (email, roles) in [
        ("dev@example.com", "developer"),
        ("visitor@example.com", "visitor"),
        ("ops@example.com", "operationsengineer"),
    ] {
        let (browser, csrf) = signed_in(&app, email, Some(roles)).await;
        assert_eq!(
            browser.get("/console/members").await.status(),
            StatusCode::FORBIDDEN,
            "{roles}"
        );
        let members = member_count(&app).await;
        let audits = audit_count(&app).await;
        for (path, form) in [
            (
                "/console/members",
                vec![("email", "new@example.com"), ("role", "admin")],
            ),
            (
                "/console/members/roles",
                vec![("email", "target@example.com"), ("role", "admin")],
            ),
            (
                "/console/members/remove",
                vec![
                    ("email", "target@example.com"),
                    ("confirm", "target@example.com"),
                ],
            ),
            (
                "/console/members/link",
                vec![("email", "target@example.com")],
            ),
        ] {
            let mut with_token = vec![("csrf", csrf.as_str())];
            with_token.extend(form.iter().copied());
            let refused = browser.post(path, &with_token).await;
            assert_eq!(refused.status(), StatusCode::FORBIDDEN, "{roles} {path}");
            assert!(refused.text().await.unwrap().contains("manage members"));

            // The owner's forms without their token, or with a wrong one, are refused too.
            for wrong in ["", "wrong"] {
                let mut with_wrong = vec![("csrf", wrong)];
                with_wrong.extend(form.iter().copied());
                let refused = owner.post(path, &with_wrong).await;
                assert_eq!(refused.status(), StatusCode::FORBIDDEN, "{path} {wrong:?}");
            }
            let refused = owner.post(path, &form).await;
            assert_eq!(refused.status(), StatusCode::FORBIDDEN, "{path} no token");
        }
        assert_eq!(member_count(&app).await, members, "{roles}");
        assert_eq!(audit_count(&app).await, audits, "{roles}");
        let target = member(&app, &token, "target@example.com").await.unwrap();
        assert_eq!(target["roles"], serde_json::json!(["visitor"]));
        assert_eq!(
            app.query_i64(
                "SELECT COUNT(*) FROM sign_in_links WHERE email = $1",
                &["target@example.com"]
            )
            .await,
            1
        );
    }
    // The owner's token works.
    let changed = owner
        .post(
            "/console/members/roles",
            &[
                ("csrf", &owner_csrf),
                ("email", "target@example.com"),
                ("role", "modeler"),
            ],
        )
        .await;
    assert_eq!(changed.status(), StatusCode::SEE_OTHER);
}
