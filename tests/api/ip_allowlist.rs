//! `PUT /clusters/{uuid}/ipallowlist` and the deprecated `PUT /clusters/{uuid}/ipwhitelist`.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::*;

async fn put_list(
    app: &TestApp,
    token: &str,
    cluster: &str,
    key: &str,
    entries: Value,
) -> reqwest::Response {
    app.call(
        Method::PUT,
        &format!("/clusters/{cluster}/{key}"),
        token,
        Some(json!({ key: entries })),
    )
    .await
}

async fn shown(app: &TestApp, token: &str, cluster: &str) -> (Value, Value) {
    let cluster: Value = app
        .get(&format!("/clusters/{cluster}"), token)
        .await
        .json()
        .await
        .unwrap();
    (
        cluster["ipallowlist"].clone(),
        cluster["ipwhitelist"].clone(),
    )
}

#[tokio::test]
async fn the_allowlist_is_shown_under_both_names_and_an_empty_list_clears_it() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let id = app.create_cluster(&token, "c").await;
    assert_eq!(shown(&app, &token, &id).await, (json!([]), json!([])));

    // Kept exactly as sent: clients compare what they read back with what they wrote.
    let entries = json!([
        {"ip": "10.0.0.0/24", "description": "office"},
        {"ip": "192.168.1.1/32,192.168.1.2/32", "description": "vpn pair"},
        {"ip": "2001:db8::/48, ::1", "description": "v6"},
        {"ip": "203.0.113.7", "description": ""},
    ]);
    assert_no_content(put_list(&app, &token, &id, "ipallowlist", entries.clone()).await).await;
    assert_eq!(
        shown(&app, &token, &id).await,
        (entries.clone(), entries.clone())
    );
    let listed: Value = app.get("/clusters", &token).await.json().await.unwrap();
    assert_eq!(listed[0]["ipallowlist"], entries);

    assert_no_content(put_list(&app, &token, &id, "ipallowlist", json!([])).await).await;
    assert_eq!(shown(&app, &token, &id).await, (json!([]), json!([])));

    // The deprecated path and body key set the same list.
    let legacy = json!([{"ip": "172.16.0.0/16", "description": "legacy"}]);
    assert_no_content(put_list(&app, &token, &id, "ipwhitelist", legacy.clone()).await).await;
    assert_eq!(shown(&app, &token, &id).await, (legacy.clone(), legacy));
    assert_no_content(put_list(&app, &token, &id, "ipwhitelist", json!([])).await).await;
    assert_eq!(shown(&app, &token, &id).await, (json!([]), json!([])));

    // An entry without a description reads back with an empty one.
    let bare = json!([{"ip": "10.1.0.0/16"}]);
    assert_no_content(put_list(&app, &token, &id, "ipallowlist", bare).await).await;
    let (allowlist, _) = shown(&app, &token, &id).await;
    assert_eq!(allowlist, json!([{"ip": "10.1.0.0/16", "description": ""}]));

    let events = app.activity(&token).await;
    let recorded = events
        .iter()
        .filter(|e| e["entityAttribute"] == "ipallowlist")
        .count();
    assert_eq!(recorded, 5, "one record per change");
}

#[tokio::test]
async fn the_allowlist_survives_a_restart() {
    let mut app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let id = app.create_cluster(&token, "c").await;
    let entries = json!([{"ip": "10.0.0.0/8", "description": "corp"}]);
    assert_no_content(put_list(&app, &token, &id, "ipallowlist", entries.clone()).await).await;
    app.restart().await;
    assert_eq!(shown(&app, &token, &id).await.0, entries);
}

#[tokio::test]
async fn an_invalid_entry_is_400_naming_it_and_nothing_is_written() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let id = app.create_cluster(&token, "c").await;
    let kept = json!([{"ip": "10.0.0.0/24", "description": "kept"}]);
    assert_no_content(put_list(&app, &token, &id, "ipallowlist", kept.clone()).await).await;

    let good = json!({"ip": "10.0.0.1", "description": "ok"});
    for (key, bad_ip) in [
        ("ipallowlist", "not-an-ip"),
        ("ipallowlist", "10.0.0.0/33"),
        ("ipallowlist", "10.0.0.256"),
        ("ipallowlist", "10.0.0.1,"),
        ("ipallowlist", "10.0.0.1 10.0.0.2"),
        ("ipallowlist", "2001:db8::/129"),
        ("ipallowlist", ""),
        ("ipwhitelist", "nope/8"),
    ] {
        let entries = json!([good, {"ip": bad_ip, "description": "bad"}]);
        let message = assert_error(
            put_list(&app, &token, &id, key, entries).await,
            StatusCode::BAD_REQUEST,
        )
        .await;
        assert!(message.contains(&format!("{key}[1]")), "{message}");
        assert!(message.contains(&format!("{bad_ip:?}")), "{message}");
    }

    let path = format!("/clusters/{id}/ipallowlist");
    for body in [
        json!({}),
        json!({"ipallowlist": null}),
        json!({"ipallowlist": "10.0.0.0/8"}),
        json!({"ipallowlist": [{"description": "no ip"}]}),
        json!({"ipallowlist": [{"ip": "10.0.0.1", "description": "x", "port": 443}]}),
        json!({"ipallowlist": [], "extra": true}),
        // The deprecated key on the new path is not accepted (nor the reverse).
        json!({"ipwhitelist": []}),
    ] {
        assert_error(
            app.call(Method::PUT, &path, &token, Some(body)).await,
            StatusCode::BAD_REQUEST,
        )
        .await;
    }
    let reverse = app
        .call(
            Method::PUT,
            &format!("/clusters/{id}/ipwhitelist"),
            &token,
            Some(json!({"ipallowlist": []})),
        )
        .await;
    assert_error(reverse, StatusCode::BAD_REQUEST).await;

    assert_eq!(shown(&app, &token, &id).await, (kept.clone(), kept));
}

#[tokio::test]
async fn unknown_foreign_and_deleted_clusters_are_404() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let id = app.create_cluster(&token, "c").await;
    let entries = json!([{"ip": "10.0.0.0/8", "description": "x"}]);
    for key in ["ipallowlist", "ipwhitelist"] {
        assert_error(
            put_list(&app, &token, "no-such-cluster", key, entries.clone()).await,
            StatusCode::NOT_FOUND,
        )
        .await;
    }
    let other = app.other_org_token().await;
    for key in ["ipallowlist", "ipwhitelist"] {
        assert_error(
            put_list(&app, &other, &id, key, entries.clone()).await,
            StatusCode::NOT_FOUND,
        )
        .await;
    }
    assert_eq!(shown(&app, &token, &id).await.0, json!([]));

    assert_no_content(
        app.call(Method::DELETE, &format!("/clusters/{id}"), &token, None)
            .await,
    )
    .await;
    assert_error(
        put_list(&app, &token, &id, "ipallowlist", entries).await,
        StatusCode::NOT_FOUND,
    )
    .await;
}

#[tokio::test]
async fn the_update_ipallowlist_scope_is_required() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let id = app.create_cluster(&token, "c").await;
    let narrow = app.scoped_token("get:clusters update:clusters").await;
    for key in ["ipallowlist", "ipwhitelist"] {
        let message = assert_error(
            put_list(&app, &narrow, &id, key, json!([])).await,
            StatusCode::FORBIDDEN,
        )
        .await;
        assert!(message.contains("update:ipallowlist"), "{message}");
    }
    let allowed = app.scoped_token("update:ipallowlist").await;
    assert_no_content(put_list(&app, &allowed, &id, "ipallowlist", json!([])).await).await;
}
