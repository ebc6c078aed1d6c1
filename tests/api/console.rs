//! The web console's sign-in: one-time links, sign-in and out, sessions, CSRF, throttling,
//! the start page and the headers every page carries. A browser is a reqwest client with a
//! cookie jar that does not follow redirects, so each answer is seen as sent.

use std::sync::Arc;

use reqwest::cookie::{CookieStore, Jar};
use reqwest::{Method, Response, StatusCode};
use serde_json::json;

use crate::helpers::*;

pub(crate) const OWNER: &str = "owner@consoled.local";
pub(crate) const PASSWORD: &str = "correct horse battery staple";
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
     frame-ancestors 'none'; form-action 'self'; base-uri 'none'";

pub(crate) struct Browser<'a> {
    pub app: &'a TestApp,
    pub http: reqwest::Client,
    jar: Arc<Jar>,
}

/// The value of the hidden input `name` of a page.
pub(crate) fn hidden(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no {name} in {html}"))
        + marker.len();
    let end = html[start..].find('"').unwrap();
    html[start..start + end].to_string()
}

/// The path of a link printed with the test server's public URL.
pub(crate) fn path_of(link: &str, app: &TestApp) -> String {
    link.strip_prefix(&app.base_url)
        .unwrap_or_else(|| panic!("{link} is not under {}", app.base_url))
        .to_string()
}

impl<'a> Browser<'a> {
    pub(crate) fn new(app: &'a TestApp) -> Self {
        let jar = Arc::new(Jar::default());
        let http = reqwest::Client::builder()
            .cookie_provider(jar.clone())
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Browser { app, http, jar }
    }

    pub(crate) async fn get(&self, path: &str) -> Response {
        self.http.get(self.app.url(path)).send().await.unwrap()
    }

    /// A GET with one more request header.
    pub(crate) async fn get_with(&self, path: &str, name: &str, value: &str) -> Response {
        self.http
            .get(self.app.url(path))
            .header(name, value)
            .send()
            .await
            .unwrap()
    }

    pub(crate) async fn post(&self, path: &str, form: &[(&str, &str)]) -> Response {
        self.http
            .post(self.app.url(path))
            .form(form)
            .send()
            .await
            .unwrap()
    }

    /// A page that must answer 200; its HTML.
    pub(crate) async fn page(&self, path: &str) -> String {
        let response = self.get(path).await;
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        response.text().await.unwrap()
    }

    /// The browser's cookie `name` as sent to the console.
    fn cookie(&self, name: &str) -> Option<String> {
        let url = self.app.url("/console").parse().unwrap();
        let cookies = self.jar.cookies(&url)?;
        cookies
            .to_str()
            .unwrap()
            .split("; ")
            .filter_map(|pair| pair.split_once('='))
            .find(|(key, _)| *key == name)
            .map(|(_, value)| value.to_string())
    }

    /// Opens a link's page and sets `password` with its form.
    pub(crate) async fn set_password(&self, link_path: &str, password: &str) -> Response {
        let html = self.page(link_path).await;
        let token = hidden(&html, "form_token");
        self.post(
            link_path,
            &[
                ("form_token", &token),
                ("password", password),
                ("confirm", password),
            ],
        )
        .await
    }

    /// Fills in the login form.
    async fn sign_in(&self, email: &str, password: &str) -> Response {
        let html = self.page("/console/login").await;
        let token = hidden(&html, "form_token");
        self.post(
            "/console/login",
            &[
                ("form_token", &token),
                ("email", email),
                ("password", password),
            ],
        )
        .await
    }

    /// Signs in and asserts the redirect to the start page.
    pub(crate) async fn signed_in(&self, email: &str, password: &str) {
        let response = self.sign_in(email, password).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        assert_eq!(response.headers()["location"], "/console");
    }

    /// The session's CSRF token, from the start page's sign-out form.
    pub(crate) async fn csrf(&self) -> String {
        hidden(&self.page("/console").await, "csrf")
    }
}

/// Whether the only script of a page is the console's own file (no inline script, nothing
/// from elsewhere).
pub(crate) fn only_the_console_script(html: &str) -> bool {
    html.matches("<script").count() == 1
        && html.contains("<script src=\"/console/assets/")
        && html.contains("/console.js\" defer></script>")
}

pub(crate) fn location(response: &Response) -> &str {
    response.headers()["location"].to_str().unwrap()
}

/// The owner's password set through the first start's link.
pub(crate) async fn owner_with_password(app: &TestApp) {
    let link = app.owner_link.clone().expect("the first start made a link");
    let browser = Browser::new(app);
    let set = browser.set_password(&path_of(&link, app), PASSWORD).await;
    assert_eq!(set.status(), StatusCode::SEE_OTHER);
}

/// Invites `email` with `roles` through the CLI; the printed link's path.
pub(crate) async fn invite(app: &TestApp, email: &str, roles: &str) -> String {
    let output = app
        .consoled(&[
            "members",
            "invite",
            email,
            "--roles",
            roles,
            "--public-url",
            &app.base_url,
            "--json",
        ])
        .await;
    assert!(output.status.success(), "{output:?}");
    let printed: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(printed["invitePending"], true);
    path_of(printed["link"].as_str().unwrap(), app)
}

async fn sessions(app: &TestApp) -> i64 {
    app.query_i64("SELECT COUNT(*) FROM console_sessions", &[])
        .await
}

#[tokio::test]
async fn the_owner_link_of_the_first_start_sets_a_password_once_and_signs_in() {
    let app = TestApp::spawn().await;
    let link = path_of(app.owner_link.as_deref().unwrap(), &app);
    let browser = Browser::new(&app);

    // Pages send an anonymous browser to the login page; `/` leads to the console.
    let start = browser.get("/console").await;
    assert_eq!(start.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&start), "/console/login");
    assert_eq!(location(&browser.get("/").await), "/console");

    let html = browser.page(&link).await;
    assert!(html.contains(OWNER), "{html}");
    // A password that breaks the rules: the form again, nothing taken.
    let token = hidden(&html, "form_token");
    let short = browser
        .post(
            &link,
            &[
                ("form_token", &token),
                ("password", "short"),
                ("confirm", "short"),
            ],
        )
        .await;
    assert_eq!(short.status(), StatusCode::BAD_REQUEST);
    assert!(short
        .text()
        .await
        .unwrap()
        .contains("at least 12 characters"));

    let set = browser.set_password(&link, PASSWORD).await;
    assert_eq!(set.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&set), "/console/login?password_set=1");

    // Used twice: gone, for the page and the form.
    let again = browser.get(&link).await;
    assert_eq!(again.status(), StatusCode::GONE);
    assert!(again
        .text()
        .await
        .unwrap()
        .contains("already used or has expired"));
    let token = browser.cookie("consoled_form").unwrap();
    let reused = browser
        .post(
            &link,
            &[
                ("form_token", &token),
                ("password", "another password!"),
                ("confirm", "another password!"),
            ],
        )
        .await;
    assert_eq!(reused.status(), StatusCode::GONE);
    assert_eq!(
        app.query_i64("SELECT COUNT(*) FROM sign_in_links", &[])
            .await,
        0
    );
    let stored: i64 = app
        .query_i64(
            "SELECT COUNT(*) FROM member_passwords WHERE email = $1 AND password_hash LIKE '$argon2id$%'",
            &[OWNER],
        )
        .await;
    assert_eq!(stored, 1);

    let signed_in = browser.sign_in(OWNER, PASSWORD).await;
    assert_eq!(signed_in.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&signed_in), "/console");
    let cookie = signed_in
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|c| c.starts_with("consoled_session="))
        .expect("a session cookie");
    for attribute in ["HttpOnly", "SameSite=Lax", "Path=/console"] {
        assert!(cookie.contains(attribute), "{cookie}");
    }
    // The public URL is http here.
    assert!(!cookie.contains("Secure"), "{cookie}");

    let start = browser.get("/console").await;
    assert_eq!(start.status(), StatusCode::OK);
    assert_eq!(start.headers()["content-security-policy"], CSP);
    assert_eq!(start.headers()["referrer-policy"], "same-origin");
    assert_eq!(start.headers()["cache-control"], "no-store");
    assert_eq!(start.headers()["x-frame-options"], "DENY");
    let html = start.text().await.unwrap();
    assert!(html.contains("<main") && html.contains("<h1>Clusters</h1>"));
    assert!(
        only_the_console_script(&html) && !html.contains("style="),
        "{html}"
    );

    // The stylesheet: versioned, cached for long, and the page's only asset.
    let css = html
        .split("href=\"")
        .find_map(|rest| rest.split('"').next().filter(|h| h.ends_with(".css")))
        .unwrap()
        .to_string();
    let asset = browser.get(&css).await;
    assert_eq!(asset.status(), StatusCode::OK);
    assert_eq!(asset.headers()["content-type"], "text/css; charset=utf-8");
    assert!(asset.headers()["cache-control"]
        .to_str()
        .unwrap()
        .contains("max-age=31536000"));
    assert!(asset
        .text()
        .await
        .unwrap()
        .contains("prefers-color-scheme: dark"));
    assert_eq!(
        browser
            .get("/console/assets/0000/console.css")
            .await
            .status(),
        StatusCode::NOT_FOUND
    );

    // The activity: the password set and the sign-in, by the owner, without the password.
    let token = app.admin_token().await;
    let activity = app.activity(&token).await;
    let by_owner: Vec<&str> = activity
        .iter()
        .filter(|a| a["userId"] == OWNER)
        .map(|a| a["audit"].as_str().unwrap())
        .collect();
    assert!(
        by_owner.iter().any(|a| a.contains("set a password")),
        "{by_owner:?}"
    );
    assert!(
        by_owner.iter().any(|a| a.contains("signed in")),
        "{by_owner:?}"
    );
    assert!(!serde_json::to_string(&activity).unwrap().contains(PASSWORD));
}

#[tokio::test]
async fn wrong_passwords_show_the_form_again_and_lock_the_account_at_that_source() {
    let app = TestApp::spawn_with(&["--token-failures-before-lockout", "3"]).await;
    owner_with_password(&app).await;
    let browser = Browser::new(&app);

    let unknown = browser.sign_in("nobody@example.com", PASSWORD).await;
    assert_eq!(unknown.status(), StatusCode::UNAUTHORIZED);
    for _ in 0..3 {
        let wrong = browser.sign_in(OWNER, "not the password at all").await;
        assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
        let html = wrong.text().await.unwrap();
        assert!(html.contains("Wrong email or password."), "{html}");
        // The form again, with the email kept and the password not.
        assert!(html.contains(&format!("value=\"{OWNER}\"")), "{html}");
        assert!(!html.contains("not the password at all"));
    }
    // Locked: even the right password is refused for a while.
    let locked = browser.sign_in(OWNER, PASSWORD).await;
    assert_eq!(locked.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(locked.headers().contains_key("retry-after"));
    assert!(locked
        .text()
        .await
        .unwrap()
        .contains("Too many sign-in attempts"));
    assert_eq!(sessions(&app).await, 0);

    let activity = app.activity(&app.admin_token().await).await;
    let refused = activity
        .iter()
        .filter(|a| a["userId"] == OWNER && a["audit"].as_str().unwrap().contains("Refused"))
        .count();
    assert_eq!(refused, 3);
    assert!(!serde_json::to_string(&activity)
        .unwrap()
        .contains("not the password at all"));
}

#[tokio::test]
async fn forms_without_their_token_are_refused_and_change_nothing() {
    let app = TestApp::spawn().await;
    let link = path_of(app.owner_link.as_deref().unwrap(), &app);
    let browser = Browser::new(&app);

    // Setting a password without the form token, or with another one.
    browser.page(&link).await;
    for token in ["", "x"] {
        let refused = browser
            .post(
                &link,
                &[
                    ("form_token", token),
                    ("password", PASSWORD),
                    ("confirm", PASSWORD),
                ],
            )
            .await;
        assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    }
    assert_eq!(
        app.query_i64("SELECT COUNT(*) FROM member_passwords", &[])
            .await,
        0
    );
    assert_eq!(
        browser.set_password(&link, PASSWORD).await.status(),
        StatusCode::SEE_OTHER
    );

    // Signing in without the form token.
    let refused = browser
        .post(
            "/console/login",
            &[("email", OWNER), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert_eq!(sessions(&app).await, 0);

    // A form another site sent, with the right token: refused by its origin.
    let html = browser.page("/console/login").await;
    let token = hidden(&html, "form_token");
    let cross_site = browser
        .http
        .post(app.url("/console/login"))
        .header("origin", "https://evil.example")
        .form(&[
            ("form_token", token.as_str()),
            ("email", OWNER),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(cross_site.status(), StatusCode::FORBIDDEN);
    assert_eq!(sessions(&app).await, 0);
    // A hidden origin (`Origin: null`) counts only when the browser says same-origin.
    for (fetch_site, status) in [
        (None, StatusCode::FORBIDDEN),
        (Some("cross-site"), StatusCode::FORBIDDEN),
        (Some("same-origin"), StatusCode::SEE_OTHER),
    ] {
        let mut request = browser
            .http
            .post(app.url("/console/login"))
            .header("origin", "null")
            .form(&[
                ("form_token", token.as_str()),
                ("email", OWNER),
                ("password", PASSWORD),
            ]);
        if let Some(site) = fetch_site {
            request = request.header("sec-fetch-site", site);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), status, "{fetch_site:?}");
    }
    assert_eq!(sessions(&app).await, 1);
    // The same form from this origin works.
    let same_site = browser
        .http
        .post(app.url("/console/login"))
        .header("origin", &app.base_url)
        .form(&[
            ("form_token", token.as_str()),
            ("email", OWNER),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(same_site.status(), StatusCode::SEE_OTHER);

    // Signing out without the session's CSRF token, or with a wrong one.
    let csrf = browser.csrf().await;
    for wrong in [vec![], vec![("csrf", "wrong")], vec![("csrf", "")]] {
        let refused = browser.post("/console/logout", &wrong).await;
        assert_eq!(refused.status(), StatusCode::FORBIDDEN);
        assert_eq!(sessions(&app).await, 2);
    }
    assert_eq!(browser.get("/console").await.status(), StatusCode::OK);
    let signed_out = browser.post("/console/logout", &[("csrf", &csrf)]).await;
    assert_eq!(signed_out.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn signing_out_ends_the_session_everywhere() {
    let app = TestApp::spawn().await;
    owner_with_password(&app).await;
    let browser = Browser::new(&app);
    browser.signed_in(OWNER, PASSWORD).await;
    let session = browser.cookie("consoled_session").unwrap();
    let csrf = browser.csrf().await;

    let signed_out = browser.post("/console/logout", &[("csrf", &csrf)]).await;
    assert_eq!(signed_out.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&signed_out), "/console/login");
    assert_eq!(sessions(&app).await, 0);

    // The old cookie, replayed from anywhere, no longer works.
    let replay = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(app.url("/console"))
        .header("cookie", format!("consoled_session={session}"))
        .send()
        .await
        .unwrap();
    assert_eq!(replay.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&replay), "/console/login");

    let activity = app.activity(&app.admin_token().await).await;
    assert!(activity
        .iter()
        .any(|a| a["userId"] == OWNER && a["audit"].as_str().unwrap().contains("signed out")));
}

#[tokio::test]
async fn an_idle_session_ends() {
    let app = TestApp::spawn().await;
    owner_with_password(&app).await;
    let browser = Browser::new(&app);
    browser.signed_in(OWNER, PASSWORD).await;
    assert_eq!(browser.get("/console").await.status(), StatusCode::OK);

    // 31 minutes without a request (the domain's tests check the rule to the millisecond).
    app.execute_sql(
        "UPDATE console_sessions SET last_seen_at = last_seen_at - 1860000",
        &[],
    )
    .await;
    let ended = browser.get("/console").await;
    assert_eq!(ended.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&ended), "/console/login");
    assert_eq!(sessions(&app).await, 0);
}

#[tokio::test]
async fn an_invited_visitor_signs_in_sees_the_clusters_and_removal_ends_the_session() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    app.create_cluster(&token, "<script>alert(1)</script>")
        .await;
    let email = "Visitor@Example.com";
    let link = invite(&app, email, "visitor").await;

    let visitor = Browser::new(&app);
    // Pending: no password yet, so no sign-in.
    assert_eq!(
        visitor
            .sign_in("visitor@example.com", PASSWORD)
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        visitor.set_password(&link, PASSWORD).await.status(),
        StatusCode::SEE_OTHER
    );
    let members: serde_json::Value = app.get("/members", &token).await.json().await.unwrap();
    let member = members
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["email"] == "visitor@example.com")
        .unwrap();
    assert_eq!(member["invitePending"], false);
    let activity = app.activity(&token).await;
    let accepted = activity
        .iter()
        .find(|a| a["userId"] == "visitor@example.com")
        .expect("the visitor's own record");
    assert_eq!(accepted["entityAttribute"], "invitePending");

    visitor.signed_in("visitor@example.com", PASSWORD).await;
    let html = visitor.page("/console").await;
    // The name is shown as text, never as markup.
    assert!(
        html.contains("&#60;script&#62;alert(1)&#60;/script&#62;"),
        "{html}"
    );
    assert!(only_the_console_script(&html), "{html}");
    assert!(
        html.contains("Healthy") || html.contains("Creating"),
        "{html}"
    );
    assert!(html.contains("visitor@example.com"));

    // Removing the member through the API ends the session.
    let removed = app
        .call(Method::DELETE, "/members/visitor@example.com", &token, None)
        .await;
    assert_eq!(removed.status(), StatusCode::NO_CONTENT);
    assert_eq!(sessions(&app).await, 0);
    let ended = visitor.get("/console").await;
    assert_eq!(ended.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&ended), "/console/login");
}

#[tokio::test]
async fn a_reset_link_replaces_the_password_and_ends_the_sessions() {
    let app = TestApp::spawn().await;
    owner_with_password(&app).await;
    let browser = Browser::new(&app);
    browser.signed_in(OWNER, PASSWORD).await;

    let reset = |email: &'static str| {
        let app = &app;
        async move {
            app.consoled(&[
                "members",
                "reset-password",
                email,
                "--public-url",
                &app.base_url,
            ])
            .await
        }
    };
    let first = reset(OWNER).await;
    let second = reset(OWNER).await;
    assert!(second.status.success(), "{second:?}");
    let link_of = |output: &std::process::Output| {
        let stdout = String::from_utf8_lossy(&output.stdout).to_string();
        let link = stdout
            .split_whitespace()
            .find(|w| w.contains("/console/links/"))
            .unwrap()
            .to_string();
        path_of(&link, &app)
    };
    // A newer link replaces the older one.
    assert_eq!(
        browser.get(&link_of(&first)).await.status(),
        StatusCode::GONE
    );
    let other = Browser::new(&app);
    let new_password = "a brand new passphrase";
    assert_eq!(
        other
            .set_password(&link_of(&second), new_password)
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
    // The old session ended with the old password.
    assert_eq!(
        browser.get("/console").await.status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        other.sign_in(OWNER, PASSWORD).await.status(),
        StatusCode::UNAUTHORIZED
    );
    other.signed_in(OWNER, new_password).await;

    let unknown = reset("nobody@example.com").await;
    assert!(!unknown.status.success());
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("not a member"));
    // An invite made through the API gets its link this way too.
    let token = app.admin_token().await;
    let invited = app
        .call(
            Method::POST,
            "/members/dev@example.com",
            &token,
            Some(json!({"orgRoles": ["developer"]})),
        )
        .await;
    assert_no_content(invited).await;
    let invite = reset("dev@example.com").await;
    let page = Browser::new(&app).page(&link_of(&invite)).await;
    assert!(page.contains("Welcome"), "{page}");
}

#[tokio::test]
async fn cookies_are_secure_when_the_public_url_is_https() {
    let app = TestApp::spawn_with(&["--public-url", "https://consoled.example.test"]).await;
    let link = app.owner_link.clone().unwrap();
    assert!(
        link.starts_with("https://consoled.example.test/console/links/"),
        "{link}"
    );
    let page = Browser::new(&app).get("/console/login").await;
    let cookie = page.headers()["set-cookie"].to_str().unwrap();
    assert!(cookie.starts_with("consoled_form="), "{cookie}");
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/console", "Secure"] {
        assert!(cookie.contains(attribute), "{cookie}");
    }
}

#[tokio::test]
async fn an_unknown_console_address_is_a_404_page() {
    let app = TestApp::spawn().await;
    let browser = Browser::new(&app);
    for path in [
        "/console/nope",
        "/console/clusters/a/b/c/d",
        "/console/assets",
    ] {
        let response = browser.get(path).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
        assert_eq!(
            response.headers()["content-type"],
            "text/html; charset=utf-8",
            "{path}"
        );
        assert!(response.headers().contains_key("content-security-policy"));
        assert!(response.text().await.unwrap().contains("Page not found"));
    }
    // The API's own 404 stays JSON.
    let response = browser.get("/nope").await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/json"));
}

/// A browser signed in as the owner (`roles: None`) or as a member invited through the CLI
/// with `roles`; with its CSRF token.
pub(crate) async fn signed_in<'a>(
    app: &'a TestApp,
    email: &str,
    roles: Option<&str>,
) -> (Browser<'a>, String) {
    match roles {
        None => owner_with_password(app).await,
        Some(roles) => {
            let link = invite(app, email, roles).await;
            let browser = Browser::new(app);
            assert_eq!(
                browser.set_password(&link, PASSWORD).await.status(),
                StatusCode::SEE_OTHER
            );
        }
    }
    let browser = Browser::new(app);
    browser.signed_in(email, PASSWORD).await;
    let csrf = browser.csrf().await;
    (browser, csrf)
}

/// Undoes the HTML escaping of a page's text.
pub(crate) fn unescape(html: &str) -> String {
    html.replace("&#39;", "'")
        .replace("&#34;", "\"")
        .replace("&#60;", "<")
        .replace("&#62;", ">")
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&#38;", "&")
        .replace("&amp;", "&")
}

/// The credentials file of a result page: its variables, in order.
pub(crate) fn env_vars(html: &str) -> Vec<(String, String)> {
    let start = html
        .find("<pre data-copy data-download=")
        .expect("the file's <pre>");
    let body = &html[start..];
    let body = &body[body.find('>').unwrap() + 1..body.find("</pre>").unwrap()];
    unescape(body)
        .lines()
        .map(|line| {
            let line = line.strip_prefix("export ").expect("export NAME='value'");
            let (name, value) = line.split_once('=').unwrap();
            let value = value
                .strip_prefix('\'')
                .unwrap()
                .strip_suffix('\'')
                .unwrap();
            (name.to_string(), value.to_string())
        })
        .collect()
}

/// One variable of [`env_vars`].
pub(crate) fn var<'v>(vars: &'v [(String, String)], name: &str) -> &'v str {
    vars.iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or_else(|| panic!("{name} in {vars:?}"))
}
