//! The console's cluster pages: the create form, a cluster's page and its actions, the live
//! status JSON. Each change must show in the API and in the activity trail with the
//! member's email as actor; each form is CSRF-checked and refused (403, nothing written) for
//! a role the matrix does not allow.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::console::{
    invite, location, only_the_console_script, owner_with_password, Browser, OWNER, PASSWORD,
};
use crate::helpers::*;

/// The owner, signed in, and the session's CSRF token.
async fn owner<'a>(app: &'a TestApp) -> (Browser<'a>, String) {
    owner_with_password(app).await;
    let browser = Browser::new(app);
    browser.signed_in(OWNER, PASSWORD).await;
    let csrf = browser.csrf().await;
    (browser, csrf)
}

/// A member invited with `roles`, with a password, signed in; and its CSRF token.
async fn member<'a>(app: &'a TestApp, email: &str, roles: &str) -> (Browser<'a>, String) {
    let link = invite(app, email, roles).await;
    let browser = Browser::new(app);
    assert_eq!(
        browser.set_password(&link, PASSWORD).await.status(),
        StatusCode::SEE_OTHER
    );
    browser.signed_in(email, PASSWORD).await;
    let csrf = browser.csrf().await;
    (browser, csrf)
}

/// The create form's fields for the catalog's defaults.
fn create_form(params: &Value, name: &str, csrf: &str) -> Vec<(String, String)> {
    let body = default_cluster_body(params, name);
    let field = |key: &str| body[key].as_str().unwrap().to_string();
    vec![
        ("csrf".into(), csrf.into()),
        ("name".into(), name.into()),
        ("channel".into(), field("channelId")),
        ("generation".into(), field("generationId")),
        ("region".into(), field("regionId")),
        ("plan".into(), field("planTypeId")),
        ("stage_label".into(), "dev".into()),
    ]
}

fn as_refs(form: &[(String, String)]) -> Vec<(&str, &str)> {
    form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
}

async fn cluster_count(app: &TestApp) -> i64 {
    app.query_i64("SELECT COUNT(*) FROM clusters", &[]).await
}

async fn status_of(browser: &Browser<'_>, id: &str) -> Value {
    let response = browser.get("/console/clusters/status.json").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["cache-control"], "private, no-cache");
    let body: Value = response.json().await.unwrap();
    body["clusters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["uuid"] == id)
        .map(|c| c["status"].clone())
        .unwrap_or(Value::Null)
}

#[tokio::test]
async fn the_owner_creates_a_cluster_with_the_form_and_the_api_sees_it() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let params = app.parameters(&token).await;
    let (owner, csrf) = owner(&app).await;

    // The form offers the catalog's choices.
    let html = owner.page("/console/clusters/new").await;
    for key in ["channels", "regions", "clusterPlanTypes"] {
        for item in params[key].as_array().unwrap() {
            let id = item["uuid"].as_str().unwrap();
            assert!(html.contains(&format!("value=\"{id}\"")), "{key} {id}");
        }
    }
    assert!(html.contains("value=\"prod\""));

    // A bad choice shows the form again with the message and what was typed, escaped.
    let mut bad = create_form(&params, "<b>demo</b>", &csrf);
    bad[4].1 = "nowhere".into();
    let response = owner.post("/console/clusters", &as_refs(&bad)).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let html = response.text().await.unwrap();
    assert!(html.contains("is not a region"), "{html}");
    assert!(
        html.contains("value=\"&#60;b&#62;demo&#60;/b&#62;\""),
        "{html}"
    );
    assert!(!html.contains("<b>demo"), "{html}");
    assert_eq!(cluster_count(&app).await, 0);

    let name = "<b>demo</b> & co";
    let response = owner
        .post(
            "/console/clusters",
            &as_refs(&create_form(&params, name, &csrf)),
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let path = location(&response).to_string();
    let id = path.strip_prefix("/console/clusters/").unwrap().to_string();

    let listed: Value = app.get("/clusters", &token).await.json().await.unwrap();
    let cluster = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["uuid"] == id.as_str())
        .expect("the API lists the cluster");
    assert_eq!(cluster["name"], name);
    assert_eq!(cluster["labels"], json!(["dev"]));
    let activity = app.activity(&token).await;
    let created = activity
        .iter()
        .find(|a| a["entityId"] == id.as_str() && a["auditType"] == "create")
        .or_else(|| activity.iter().find(|a| a["entityId"] == id.as_str()))
        .expect("an activity record of the creation");
    assert_eq!(created["userId"], OWNER);

    // The live status turns Healthy once provisioned, for the cluster and each component.
    let status = eventually("the status JSON says Healthy", || async {
        let status = status_of(&owner, &id).await;
        (status["ready"] == "Healthy").then_some(status)
    })
    .await;
    for component in ["zeebe", "operate", "tasklist", "optimize", "connectors"] {
        assert_eq!(status[component], "Healthy", "{component}");
    }
    // Only for a session: anyone else is sent to the login page.
    let stranger = Browser::new(&app);
    let response = stranger.get("/console/clusters/status.json").await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), "/console/login");

    // The cluster's page: escaped name, statuses with their live cells, links, actions.
    let response = owner.get(&path).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .contains("script-src 'self'"));
    let html = response.text().await.unwrap();
    assert!(
        html.contains("&#60;b&#62;demo&#60;/b&#62; &#38; co"),
        "{html}"
    );
    assert!(!html.contains("<b>demo"), "{html}");
    assert!(html.contains(&format!("data-cluster=\"{id}\"")));
    assert!(html.contains("data-component=\"ready\">Healthy"));
    assert!(html.contains("data-component=\"connectors\""));
    let links = &cluster["links"];
    for link in ["zeebe", "operate", "tasklist", "optimize", "connectors"] {
        assert!(html.contains(links[link].as_str().unwrap()), "{link}");
    }
    assert!(html.contains(&format!("/console/clusters/{id}/delete")));
    assert!(html.contains(&format!("/console/clusters/{id}/rename")));
    assert!(only_the_console_script(&html), "{html}");
    // The list links to it and carries the live cell.
    let list = owner.page("/console").await;
    assert!(list.contains(&format!("href=\"/console/clusters/{id}\"")));
    assert!(list.contains("/console/clusters/new"));

    // The script is served from the console's assets.
    let script = hidden_script(&list);
    let response = owner.get(&script).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()["content-type"],
        "text/javascript; charset=utf-8"
    );
    assert!(response.text().await.unwrap().contains("status.json"));
}

/// The path of the page's script.
fn hidden_script(html: &str) -> String {
    let start = html.find("<script src=\"").expect("a script") + "<script src=\"".len();
    let end = html[start..].find('"').unwrap();
    html[start..start + end].to_string()
}

#[tokio::test]
async fn roles_without_the_permission_get_403_and_nothing_is_written() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let params = app.parameters(&token).await;
    let id = app.create_cluster(&token, "shared").await;

    let (visitor, csrf) = member(&app, "visitor@example.com", "visitor").await;
    let before = cluster_count(&app).await;
    let response = visitor
        .post(
            "/console/clusters",
            &as_refs(&create_form(&params, "nope", &csrf)),
        )
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(cluster_count(&app).await, before);
    assert_eq!(
        visitor.get("/console/clusters/new").await.status(),
        StatusCode::FORBIDDEN
    );
    assert!(!visitor
        .page("/console")
        .await
        .contains("/console/clusters/new"));

    let (developer, csrf) = member(&app, "dev@example.com", "developer").await;
    let html = developer.page(&format!("/console/clusters/{id}")).await;
    assert!(html.contains("shared"));
    assert!(
        !html.contains("/delete\""),
        "no delete form for a developer"
    );
    for (action, form) in [
        ("delete", vec![("csrf", csrf.as_str()), ("name", "shared")]),
        ("rename", vec![("csrf", csrf.as_str()), ("name", "mine")]),
        ("wake", vec![("csrf", csrf.as_str())]),
        ("suspend", vec![("csrf", csrf.as_str())]),
        ("upgrade", vec![("csrf", csrf.as_str())]),
    ] {
        let response = developer
            .post(&format!("/console/clusters/{id}/{action}"), &form)
            .await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{action}");
    }
    let cluster = app.cluster_json(&token, &id).await;
    assert_eq!(cluster["name"], "shared");
    assert_ne!(cluster["status"]["ready"], "Suspended");
    let activity = app.activity(&token).await;
    assert!(activity
        .iter()
        .all(|a| a["userId"] != "dev@example.com" || a["entityId"] != id.as_str()));

    // Another organization's cluster, or none: 404.
    let missing = developer
        .get("/console/clusters/00000000-0000-0000-0000-000000000000")
        .await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn rename_and_delete_by_name_with_csrf() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let id = app.create_cluster(&token, "before").await;
    let (owner, csrf) = owner(&app).await;
    let page = format!("/console/clusters/{id}");

    // Without the CSRF token: 403, nothing changed.
    for action in ["rename", "delete"] {
        let response = owner
            .post(&format!("{page}/{action}"), &[("name", "before")])
            .await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{action}");
        let response = owner
            .post(
                &format!("{page}/{action}"),
                &[("csrf", "wrong"), ("name", "before")],
            )
            .await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{action}");
    }
    let params = app.parameters(&token).await;
    let mut form = create_form(&params, "no-token", &csrf);
    form.remove(0);
    let response = owner.post("/console/clusters", &as_refs(&form)).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(cluster_count(&app).await, 1);
    assert_eq!(app.cluster_json(&token, &id).await["name"], "before");

    // Rename.
    let response = owner
        .post(
            &format!("{page}/rename"),
            &[("csrf", &csrf), ("name", "after")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), page);
    assert_eq!(app.cluster_json(&token, &id).await["name"], "after");
    let activity = app.activity(&token).await;
    let renamed = activity
        .iter()
        .find(|a| a["entityId"] == id.as_str() && a["entityAttribute"] == "name")
        .expect("a record of the rename");
    assert_eq!(renamed["userId"], OWNER);
    // An invalid name: the page again with the message.
    let response = owner
        .post(
            &format!("{page}/rename"),
            &[("csrf", &csrf), ("name", &"x".repeat(51))],
        )
        .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(response.text().await.unwrap().contains("class=\"error\""));
    assert_eq!(app.cluster_json(&token, &id).await["name"], "after");

    // Delete with the wrong name: refused, nothing deleted.
    let response = owner
        .post(
            &format!("{page}/delete"),
            &[("csrf", &csrf), ("name", "before")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let html = response.text().await.unwrap();
    assert!(html.contains("nothing was deleted"), "{html}");
    assert_eq!(app.cluster_json(&token, &id).await["name"], "after");

    // With the right name: gone, and back to the list.
    let response = owner
        .post(
            &format!("{page}/delete"),
            &[("csrf", &csrf), ("name", "after")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), "/console");
    assert_eq!(
        app.get(&format!("/clusters/{id}"), &token).await.status(),
        StatusCode::NOT_FOUND
    );
    let activity = app.activity(&token).await;
    let deleted = activity
        .iter()
        .find(|a| a["entityId"] == id.as_str() && a["auditType"] == "delete")
        .or_else(|| {
            activity
                .iter()
                .find(|a| a["entityId"] == id.as_str() && a["audit"] == "Deleted cluster")
        })
        .expect("a record of the deletion");
    assert_eq!(deleted["userId"], OWNER);
    assert_eq!(owner.get(&page).await.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn wake_and_upgrade_from_the_cluster_page() {
    let app = TestApp::spawn_with(&["--suspend-after", "700ms"]).await;
    let token = app.admin_token().await;
    let trial_plan = app.plan_type(&token, 0).await;
    let trial = app
        .create_cluster_with(&token, "trial", json!({ "planTypeId": trial_plan }))
        .await;
    let generations = app.stable_generations(&token).await;
    let pinned = app
        .create_cluster_with(
            &token,
            "pinned",
            json!({ "generationId": generations.old, "autoUpdate": false }),
        )
        .await;
    app.wait_status(&token, &trial, "Suspended").await;
    app.wait_healthy(&token, &pinned).await;
    let (owner, csrf) = owner(&app).await;

    let page = format!("/console/clusters/{trial}");
    let html = owner.page(&page).await;
    assert!(
        html.contains(&format!("{page}/wake")),
        "a Suspended cluster offers wake"
    );
    let response = owner
        .post(&format!("{page}/wake"), &[("csrf", &csrf)])
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let woke = app.cluster_json(&token, &trial).await;
    assert_ne!(woke["status"]["ready"], "Suspended");
    let activity = app.activity(&token).await;
    let record = activity
        .iter()
        .find(|a| a["entityId"] == trial.as_str() && a["entityAttribute"] == "status")
        .expect("a record of the wake");
    assert_eq!(record["userId"], OWNER);

    let page = format!("/console/clusters/{pinned}");
    let html = owner.page(&page).await;
    assert!(html.contains(&format!("{page}/upgrade")), "{html}");
    let response = owner
        .post(&format!("{page}/upgrade"), &[("csrf", &csrf)])
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let upgraded = app.wait_healthy(&token, &pinned).await;
    assert_eq!(upgraded["generation"]["uuid"], generations.new);
    let activity = app.activity(&token).await;
    assert!(activity
        .iter()
        .any(|a| a["entityId"] == pinned.as_str() && a["userId"] == OWNER));
    // No newer generation now: no upgrade form; posting anyway shows the refusal.
    let html = owner.page(&page).await;
    assert!(!html.contains(&format!("{page}/upgrade")));
    let response = owner
        .post(&format!("{page}/upgrade"), &[("csrf", &csrf)])
        .await;
    assert!(response.status().is_client_error());
    assert!(response.text().await.unwrap().contains("class=\"error\""));
}

#[tokio::test]
async fn suspend_from_the_cluster_page_then_wake() {
    // Slow provisioning, so the cluster is still Creating when the page is first read.
    let app = TestApp::spawn_with(&["--provision-delay", "3s"]).await;
    let token = app.admin_token().await;
    let (engineer, csrf) = member(&app, "ops@example.com", "operationsengineer").await;
    let id = app.create_cluster(&token, "sleepy").await;
    let page = format!("/console/clusters/{id}");

    // Not Healthy yet: the form is there for the script to show, hidden; posting is refused
    // with the domain's message and nothing changes.
    let html = engineer.page(&page).await;
    assert!(html.contains(&format!(
        "action=\"{page}/suspend\" data-shown-when=\"Healthy\" hidden"
    )));
    let response = engineer
        .post(&format!("{page}/suspend"), &[("csrf", &csrf)])
        .await;
    assert_eq!(response.status(), StatusCode::PRECONDITION_FAILED);
    assert!(response
        .text()
        .await
        .unwrap()
        .contains("only a Healthy cluster can be suspended"));

    app.wait_healthy(&token, &id).await;
    let html = engineer.page(&page).await;
    assert!(html.contains(&format!(
        "action=\"{page}/suspend\" data-shown-when=\"Healthy\">"
    )));
    assert!(html.contains(&format!(
        "action=\"{page}/wake\" data-shown-when=\"Suspended\" hidden"
    )));
    // Without the token: refused, still Healthy.
    let response = engineer.post(&format!("{page}/suspend"), &[]).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        app.cluster_json(&token, &id).await["status"]["ready"],
        "Healthy"
    );

    let response = engineer
        .post(&format!("{page}/suspend"), &[("csrf", &csrf)])
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), page);
    let cluster = app.cluster_json(&token, &id).await;
    assert_eq!(cluster["status"]["ready"], "Suspended");
    assert_eq!(cluster["status"]["zeebeStatus"], "Suspended");
    let activity = app.activity(&token).await;
    let record = activity
        .iter()
        .find(|a| a["entityId"] == id.as_str() && a["entityAttributeValueTo"] == "Suspended")
        .expect("a record of the suspension");
    assert_eq!(record["userId"], "ops@example.com");
    assert_eq!(record["entityAttributeValueFrom"], "Healthy");

    let html = engineer.page(&page).await;
    assert!(html.contains(&format!(
        "action=\"{page}/wake\" data-shown-when=\"Suspended\">"
    )));
    let response = engineer
        .post(&format!("{page}/wake"), &[("csrf", &csrf)])
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    app.wait_healthy(&token, &id).await;
}

#[tokio::test]
async fn the_live_data_lists_every_cluster_with_its_fields_and_revalidates_with_an_etag() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let (owner, _) = owner(&app).await;
    let first = app.create_cluster(&token, "first").await;

    let response = owner.get("/console/clusters/status.json").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "application/json");
    assert!(response.headers().contains_key("etag"));
    let body: Value = response.json().await.unwrap();
    let clusters = body["clusters"].as_array().unwrap();
    assert_eq!(clusters.len(), 1);
    let api = app.cluster_json(&token, &first).await;
    assert_eq!(clusters[0]["uuid"], first.as_str());
    assert_eq!(clusters[0]["name"], "first");
    assert_eq!(clusters[0]["generation"], api["generation"]["name"]);
    assert_eq!(clusters[0]["region"], api["region"]["name"]);
    assert_eq!(clusters[0]["plan"], api["planType"]["name"]);
    assert!(clusters[0]["status"]["ready"].is_string());
    assert!(clusters[0]["status"]["zeebe"].is_string());

    // Unchanged: 304 without a body.
    app.wait_healthy(&token, &first).await;
    let response = owner.get("/console/clusters/status.json").await;
    let etag = response.headers()["etag"].to_str().unwrap().to_string();
    let response = owner
        .get_with("/console/clusters/status.json", "if-none-match", &etag)
        .await;
    assert_eq!(response.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(response.headers()["etag"], etag.as_str());
    assert!(response.bytes().await.unwrap().is_empty());

    // A cluster created through the API (elsewhere) and a rename: a new tag and the rows.
    let second = app.create_cluster(&token, "second").await;
    let response = owner
        .get_with("/console/clusters/status.json", "if-none-match", &etag)
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_ne!(response.headers()["etag"], etag.as_str());
    let body: Value = response.json().await.unwrap();
    let ids: Vec<&str> = body["clusters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["uuid"].as_str().unwrap())
        .collect();
    assert!(ids.contains(&first.as_str()) && ids.contains(&second.as_str()));

    // Pages are compressed for browsers that ask; the rows carry what the script updates.
    let response = owner.get_with("/console", "accept-encoding", "gzip").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-encoding"], "gzip");
    let list = owner.page("/console").await;
    assert!(list.contains(&format!("<tr data-cluster=\"{second}\">")));
    assert!(list.contains("data-field=\"name\">second</a>"));
}

/// The walk-through in a real browser (tests/browser/console_clusters.mjs): first
/// start, sign-in, a cluster created and turning Healthy without a reload, the list at 360 px
/// and dark, an API client whose copied credentials get a token, a connector secret,
/// monitoring, a Console API client, a developer invited who signs in in a second browser
/// and cannot delete the cluster, and the activity with every step, filtered and exported;
/// with
/// axe-core on each page and screenshots in target/browser-artifacts. Set up like the docs
/// page's browser test (and failing like it under CONSOLED_REQUIRE_BROWSER).
#[tokio::test]
async fn a_browser_creates_a_cluster_and_sees_it_turn_healthy_live() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = root.join("tests/browser");
    if !crate::docs_page::browser_ready(&dir) || !dir.join("node_modules/axe-core").exists() {
        assert!(
            std::env::var_os("CONSOLED_REQUIRE_BROWSER").is_none(),
            "axe-core is missing: run `npm ci` in tests/browser"
        );
        return;
    }
    // Slow provisioning, so the list shows the cluster Creating before the script sees it
    // turn Healthy.
    let app = TestApp::spawn_with(&["--provision-delay", "6s"]).await;
    let artifacts = root.join("target/browser-artifacts");
    std::fs::create_dir_all(&artifacts).unwrap();
    let output = tokio::process::Command::new("node")
        .arg("--test")
        .arg("console_clusters.mjs")
        .current_dir(&dir)
        .env("CONSOLED_URL", &app.base_url)
        .env("CONSOLED_OWNER_LINK", app.owner_link.as_deref().unwrap())
        .env("CONSOLED_OWNER_EMAIL", OWNER)
        .env("CONSOLED_ARTIFACTS", &artifacts)
        .output()
        .await
        .expect("node runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "the browser test failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("# fail 0"), "{stdout}");
    assert!(stdout.contains("# pass 1"), "{stdout}");
    // The cluster the browser made is the API's.
    let token = app.admin_token().await;
    let clusters: Value = app.get("/clusters", &token).await.json().await.unwrap();
    assert_eq!(clusters[0]["name"], "browser-demo");
    assert_eq!(clusters[0]["status"]["ready"], "Healthy");
}

#[tokio::test]
async fn another_organizations_cluster_is_neither_shown_nor_changed() {
    let app = TestApp::spawn().await;
    let other = app.other_org_token().await;
    let theirs = app.create_cluster(&other, "theirs").await;
    let (owner, csrf) = owner(&app).await;
    let page = format!("/console/clusters/{theirs}");
    assert_eq!(owner.get(&page).await.status(), StatusCode::NOT_FOUND);
    for (action, form) in [
        ("delete", vec![("csrf", csrf.as_str()), ("name", "theirs")]),
        ("rename", vec![("csrf", csrf.as_str()), ("name", "mine")]),
        ("wake", vec![("csrf", csrf.as_str())]),
        ("suspend", vec![("csrf", csrf.as_str())]),
        ("upgrade", vec![("csrf", csrf.as_str())]),
    ] {
        let response = owner.post(&format!("{page}/{action}"), &form).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{action}");
    }
    assert_eq!(app.cluster_json(&other, &theirs).await["name"], "theirs");
    assert_eq!(status_of(&owner, &theirs).await, Value::Null);
    assert!(!owner.page("/console").await.contains("theirs"));
}

/// Addresses with a NUL where an id goes (PostgreSQL cannot even compare with one): the
/// page of an unknown thing, 404, on either backend; nothing is written.
#[tokio::test]
async fn an_id_with_a_nul_is_an_unknown_thing() {
    let app = TestApp::spawn().await;
    let (owner, csrf) = owner(&app).await;
    for path in [
        "/console/clusters/a%00b",
        "/console/clusters/a%00b/clients",
        "/console/clusters/a%00b/secrets",
        "/console/clusters/a%00b/ipallowlist",
        "/console/clusters/a%00b/backups",
        "/console/clusters/a%00b/monitoring",
        "/console/api-clients/a%00b/rotate",
        "/console/api-clients/a%00b/delete",
    ] {
        let response = owner.get(path).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "GET {path}");
    }
    for path in [
        "/console/clusters/a%00b/wake",
        "/console/clusters/a%00b/suspend",
        "/console/clusters/a%00b/backups",
        "/console/clusters/a%00b/monitoring/activate",
        "/console/api-clients/a%00b/rotate",
        "/console/api-clients/a%00b/delete",
    ] {
        let response = owner.post(path, &[("csrf", &csrf)]).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "POST {path}");
    }
}

/// Form fields with a NUL where a name or an email goes: refused with a 4xx page, never a
/// 500, on either backend.
#[tokio::test]
async fn form_fields_with_a_nul_are_refused() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let id = app.create_cluster(&token, "target").await;
    let (owner, csrf) = owner(&app).await;
    let nul = "a\0b";
    let cluster = format!("/console/clusters/{id}");
    for (path, fields) in [
        (format!("{cluster}/secrets/reveal"), vec![("name", nul)]),
        (
            format!("{cluster}/secrets/update"),
            vec![("name", nul), ("value", "v")],
        ),
        (format!("{cluster}/secrets/delete"), vec![("name", nul)]),
        (
            format!("{cluster}/secrets"),
            vec![("name", nul), ("value", "v")],
        ),
        (
            format!("{cluster}/secrets"),
            vec![("name", "OK"), ("value", nul)],
        ),
        (format!("{cluster}/rename"), vec![("name", nul)]),
        (format!("{cluster}/delete"), vec![("name", nul)]),
        (
            format!("{cluster}/clients"),
            vec![("name", nul), ("zeebe", "on")],
        ),
        (
            format!("{cluster}/ipallowlist"),
            vec![("entries", "10.0.0.1 a\0b")],
        ),
        (
            format!("{cluster}/monitoring/clients"),
            vec![("username", nul)],
        ),
        (
            "/console/members".to_string(),
            vec![("email", nul), ("role", "developer")],
        ),
        (
            "/console/members/roles".to_string(),
            vec![("email", nul), ("role", "developer")],
        ),
        (
            "/console/members/remove".to_string(),
            vec![("email", nul), ("confirm", nul)],
        ),
        ("/console/members/link".to_string(), vec![("email", nul)]),
        (
            "/console/api-clients".to_string(),
            vec![("name", nul), ("scope", "get:clusters")],
        ),
    ] {
        let mut form = vec![("csrf", csrf.as_str())];
        form.extend(fields);
        let response = owner.post(&path, &form).await;
        assert!(
            response.status().is_client_error() || response.status().is_redirection(),
            "POST {path}: {}",
            response.status()
        );
    }
    assert_eq!(app.cluster_json(&token, &id).await["name"], "target");
}
