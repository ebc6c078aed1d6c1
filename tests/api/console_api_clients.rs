//! The organization's Console API clients in the console (`/console/api-clients`): create
//! (the secret shown once, with what a client needs), rotate (the old secret and its tokens
//! refused), delete; and a cluster's monitoring tab. Each change lands in the activity with
//! the member's email and is refused (403, nothing written) without the CSRF token or for a
//! role the matrix does not allow.

use base64::Engine;
use reqwest::{Response, StatusCode};
use serde_json::{json, Value};

use crate::console::{env_vars, location, signed_in, unescape, var, OWNER};
use crate::helpers::*;

const PATH: &str = "/console/api-clients";

/// A result page's credentials: (client id, secret), after checking what it must carry.
async fn shown_once(app: &TestApp, response: Response) -> (String, String) {
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let html = response.text().await.unwrap();
    assert!(html.contains("shown only once"));
    let vars = env_vars(&html);
    assert_eq!(var(&vars, "CAMUNDA_OAUTH_URL"), app.url("/oauth/token"));
    assert_eq!(
        var(&vars, "CAMUNDA_CONSOLE_OAUTH_AUDIENCE"),
        CONSOLE_AUDIENCE
    );
    assert_eq!(var(&vars, "CAMUNDA_CONSOLE_BASE_URL"), app.base_url);
    let id = var(&vars, "CAMUNDA_CONSOLE_CLIENT_ID").to_string();
    let secret = var(&vars, "CAMUNDA_CONSOLE_CLIENT_SECRET").to_string();
    assert!(html.contains(&format!("<code data-copy>{secret}</code>")));
    (id, secret)
}

async fn token_status(app: &TestApp, id: &str, secret: &str) -> StatusCode {
    app.http
        .post(app.url("/oauth/token"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", id),
            ("client_secret", secret),
            ("audience", CONSOLE_AUDIENCE),
        ])
        .send()
        .await
        .unwrap()
        .status()
}

async fn api_client_count(app: &TestApp) -> i64 {
    app.query_i64("SELECT COUNT(*) FROM api_clients", &[]).await
}

async fn generation(app: &TestApp, id: &str) -> i64 {
    app.query_i64(
        "SELECT secret_generation FROM api_clients WHERE client_id = $1",
        &[id],
    )
    .await
}

fn recorded_by<'a>(activity: &'a [Value], id: &str, kind: &str) -> &'a Value {
    activity
        .iter()
        .find(|a| a["entityId"] == id && a["auditType"] == kind)
        .unwrap_or_else(|| panic!("a {kind} record of {id}"))
}

#[tokio::test]
async fn the_owner_creates_rotates_and_deletes_a_console_api_client() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let (owner, csrf) = signed_in(&app, OWNER, None).await;

    let html = owner.page(PATH).await;
    assert!(
        html.contains(&format!("href=\"{PATH}\"")),
        "the header links it"
    );
    assert!(html.contains(CLIENT_ID), "the bootstrap client is listed");
    assert!(html.contains("value=\"get:clusters\""));
    assert!(html.contains("<legend>Scopes</legend>"));
    let before = api_client_count(&app).await;

    // No scope ticked, or no name: the form again, nothing written.
    let response = owner.post(PATH, &[("csrf", &csrf), ("name", "tf")]).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(response
        .text()
        .await
        .unwrap()
        .contains("at least one scope"));
    let response = owner
        .post(
            PATH,
            &[("csrf", &csrf), ("name", " "), ("scope", "get:clusters")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(api_client_count(&app).await, before);

    let form = [
        ("csrf", csrf.as_str()),
        ("name", "terraform"),
        ("scope", "get:clusters"),
        ("scope", "create:clusters"),
    ];
    let (id, secret) = shown_once(&app, owner.post(PATH, &form).await).await;
    assert_eq!(api_client_count(&app).await, before + 1);

    // The credentials get a token that holds the ticked scopes, and only those.
    let token = app.token_for(&id, &secret, CONSOLE_AUDIENCE).await;
    assert_eq!(jwt_claims(&token)["scope"], "get:clusters create:clusters");
    assert_eq!(app.get("/clusters", &token).await.status(), StatusCode::OK);
    assert_eq!(
        app.get("/members", &token).await.status(),
        StatusCode::FORBIDDEN
    );
    let html = owner.page(PATH).await;
    assert!(html.contains(&id) && html.contains("terraform"));
    assert!(!html.contains(&secret), "the list never shows a secret");
    let activity = app.activity(&admin).await;
    assert_eq!(recorded_by(&activity, &id, "c")["userId"], OWNER);

    // Rotate: confirmed on its own page, then the new secret once; the old one and its
    // token are refused.
    let rotate = format!("{PATH}/{id}/rotate");
    let html = owner.page(&rotate).await;
    assert!(html.contains(&format!("action=\"{rotate}\"")));
    assert_eq!(generation(&app, &id).await, 1, "a look changes nothing");
    let (same_id, new_secret) =
        shown_once(&app, owner.post(&rotate, &[("csrf", &csrf)]).await).await;
    assert_eq!(same_id, id);
    assert_ne!(new_secret, secret);
    assert_eq!(
        token_status(&app, &id, &secret).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.get("/clusters", &token).await.status(),
        StatusCode::UNAUTHORIZED
    );
    let new_token = app.token_for(&id, &new_secret, CONSOLE_AUDIENCE).await;
    assert_eq!(
        app.get("/clusters", &new_token).await.status(),
        StatusCode::OK
    );
    let activity = app.activity(&admin).await;
    assert_eq!(recorded_by(&activity, &id, "u")["userId"], OWNER);

    // Delete: confirmed, then gone; its token and secret are refused.
    let delete = format!("{PATH}/{id}/delete");
    assert!(owner
        .page(&delete)
        .await
        .contains(&format!("action=\"{delete}\"")));
    let response = owner.post(&delete, &[("csrf", &csrf)]).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), PATH);
    assert_eq!(api_client_count(&app).await, before);
    assert_eq!(
        app.get("/clusters", &new_token).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        token_status(&app, &id, &new_secret).await,
        StatusCode::UNAUTHORIZED
    );
    let activity = app.activity(&admin).await;
    assert_eq!(recorded_by(&activity, &id, "d")["userId"], OWNER);
    // A second delete (an old tab) finds nothing.
    let response = owner.post(&delete, &[("csrf", &csrf)]).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn other_roles_and_forms_without_their_token_change_no_console_api_client() {
    let app = TestApp::spawn().await;
    let (owner, owner_csrf) = signed_in(&app, OWNER, None).await;
    let form = [
        ("csrf", owner_csrf.as_str()),
        ("name", "ci"),
        ("scope", "get:clusters"),
    ];
    let (id, secret) = shown_once(&app, owner.post(PATH, &form).await).await;
    let count = api_client_count(&app).await;
    let rotate = format!("{PATH}/{id}/rotate");
    let delete = format!("{PATH}/{id}/delete");

    // The owner without the CSRF token: 403, nothing written.
    let response = owner
        .post(PATH, &[("name", "sneaky"), ("scope", "get:clusters")])
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    for path in [&rotate, &delete] {
        let response = owner.post(path, &[("csrf", "wrong")]).await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{path}");
    }
    assert_eq!(api_client_count(&app).await, count);
    assert_eq!(generation(&app, &id).await, 1);

    for (email, role) in [
        ("dev@example.com", "developer"),
        ("visitor@example.com", "visitor"),
        ("ops@example.com", "operationsengineer"),
    ] {
        let (member, csrf) = signed_in(&app, email, Some(role)).await;
        let start = member.page("/console").await;
        assert!(!start.contains(&format!("href=\"{PATH}\"")), "{role}");
        for path in [PATH, rotate.as_str(), delete.as_str()] {
            let response = member.get(path).await;
            assert_eq!(response.status(), StatusCode::FORBIDDEN, "{role} {path}");
        }
        let response = member
            .post(
                PATH,
                &[("csrf", &csrf), ("name", "mine"), ("scope", "get:clusters")],
            )
            .await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{role}");
        for path in [&rotate, &delete] {
            let response = member.post(path, &[("csrf", &csrf)]).await;
            assert_eq!(response.status(), StatusCode::FORBIDDEN, "{role} {path}");
        }
        assert_eq!(api_client_count(&app).await, count, "{role}");
        assert_eq!(generation(&app, &id).await, 1, "{role}");
    }
    // The secret still works.
    let token = app.token_for(&id, &secret, CONSOLE_AUDIENCE).await;
    assert_eq!(app.get("/clusters", &token).await.status(), StatusCode::OK);

    // Another organization's client is unknown here, and stays untouched.
    let other = app.create_org("other").await;
    for path in [
        format!("{PATH}/{}/rotate", other.client_id),
        format!("{PATH}/{}/delete", other.client_id),
    ] {
        assert_eq!(owner.get(&path).await.status(), StatusCode::NOT_FOUND);
        let response = owner.post(&path, &[("csrf", &owner_csrf)]).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
    }
    assert_eq!(generation(&app, &other.client_id).await, 1);
}

// ---------------------------------------------------------------------------------------
// Monitoring

async fn monitoring_status(app: &TestApp, token: &str, cluster: &str) -> Value {
    let response = app
        .get(&format!("/clusters/{cluster}/monitoring/clients"), token)
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

async fn scrape(app: &TestApp, cluster: &str, username: &str, password: &str) -> StatusCode {
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("{username}:{password}"));
    app.http
        .get(app.url(&format!("/monitoring/{cluster}/metrics")))
        .header("authorization", format!("Basic {basic}"))
        .send()
        .await
        .unwrap()
        .status()
}

/// The value after `<dt>{label}</dt>` on a page.
fn fact(html: &str, label: &str) -> String {
    let marker = format!("<dt>{label}</dt><dd><code data-copy>");
    let start = html.find(&marker).unwrap_or_else(|| panic!("{label}")) + marker.len();
    let end = html[start..].find("</code>").unwrap();
    unescape(&html[start..start + end])
}

#[tokio::test]
async fn an_operations_engineer_opens_monitoring_whose_client_scrapes_the_metrics() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let cluster = app.healthy_cluster(&admin, "watched").await;
    let path = format!("/console/clusters/{cluster}/monitoring");
    let (ops, csrf) = signed_in(&app, "ops@example.com", Some("operationsengineer")).await;
    let (dev, dev_csrf) = signed_in(&app, "dev@example.com", Some("developer")).await;

    let html = ops.page(&format!("/console/clusters/{cluster}")).await;
    assert!(
        html.contains(&format!("href=\"{path}\"")),
        "a Monitoring tab"
    );
    let html = ops.page(&path).await;
    assert!(html.contains("Activate monitoring"));

    // A developer sees the tab but changes nothing; nor does a form without its token.
    let html = dev.page(&path).await;
    assert!(!html.contains("Activate monitoring"));
    let response = dev
        .post(&format!("{path}/activate"), &[("csrf", &dev_csrf)])
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let response = ops.post(&format!("{path}/activate"), &[]).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        monitoring_status(&app, &admin, &cluster).await["status"],
        json!({})
    );

    let response = ops
        .post(&format!("{path}/activate"), &[("csrf", &csrf)])
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), path);
    let metrics_url = app.url(&format!("/monitoring/{cluster}/metrics"));
    let html = ops.page(&path).await;
    assert_eq!(fact(&html, "Metrics URL"), metrics_url);

    // A username the API refuses: the form again with its message.
    let clients = format!("{path}/clients");
    let response = ops
        .post(&clients, &[("csrf", &csrf), ("username", "has:colon")])
        .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let response = dev
        .post(&clients, &[("csrf", &dev_csrf), ("username", "dev")])
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.rows_of_cluster("monitoring_clients", &cluster).await, 0);

    let response = ops
        .post(&clients, &[("csrf", &csrf), ("username", "prometheus")])
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let html = response.text().await.unwrap();
    assert!(html.contains("shown only once"));
    assert_eq!(fact(&html, "Metrics URL"), metrics_url);
    let password = fact(&html, "Password");
    assert_eq!(
        scrape(&app, &cluster, "prometheus", &password).await,
        StatusCode::OK
    );

    let listed = monitoring_status(&app, &admin, &cluster).await;
    let client_id = listed["clients"][0]["uuid"].as_str().unwrap().to_string();
    assert_eq!(listed["clients"][0]["createdBy"], "ops@example.com");
    let html = dev.page(&path).await;
    assert!(html.contains("prometheus") && !html.contains(&password));
    let activity = app.activity(&admin).await;
    assert_eq!(
        recorded_by(&activity, &client_id, "c")["userId"],
        "ops@example.com"
    );

    // Delete: the developer may not; the operations engineer may, and the scrape stops.
    let delete = format!("{clients}/{client_id}/delete");
    let response = dev.post(&delete, &[("csrf", &dev_csrf)]).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.rows_of_cluster("monitoring_clients", &cluster).await, 1);
    let response = ops.post(&delete, &[("csrf", &csrf)]).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        scrape(&app, &cluster, "prometheus", &password).await,
        StatusCode::UNAUTHORIZED
    );
    let activity = app.activity(&admin).await;
    assert_eq!(
        recorded_by(&activity, &client_id, "d")["userId"],
        "ops@example.com"
    );

    let response = ops
        .post(&format!("{path}/deactivate"), &[("csrf", &csrf)])
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        monitoring_status(&app, &admin, &cluster).await["status"],
        json!({})
    );
    assert!(ops.page(&path).await.contains("Activate monitoring"));
}
