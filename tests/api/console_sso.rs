//! Single sign-on in a real browser against a real OpenID provider: the npm package
//! `oidc-provider` (a certified implementation), started by this test with one client
//! registered for consoled and four users (tests/browser/oidc_provider.mjs), and Chromium
//! driven by tests/browser/console_sso.mjs through the provider's login, consent and logout
//! pages. Set up like the other browser tests, and failing like them under
//! CONSOLED_REQUIRE_BROWSER.

use std::path::Path;
use std::process::Stdio;

use reqwest::Method;
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use crate::helpers::TestApp;

const CLIENT_SECRET: &str = "the-provider-knows-consoled-by-this";

/// The provider harness, killed with the test.
struct Provider {
    _child: Child,
    issuer: String,
    control: String,
}

async fn start_provider(dir: &Path) -> Provider {
    let mut child = Command::new("node")
        .arg("oidc_provider.mjs")
        .current_dir(dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("node runs");
    let stdout = child.stdout.take().unwrap();
    let mut first = String::new();
    let mut lines = BufReader::new(stdout);
    let read = lines.read_line(&mut first);
    tokio::time::timeout(std::time::Duration::from_secs(30), read)
        .await
        .expect("the provider starts within 30 s")
        .unwrap();
    let started: Value = serde_json::from_str(&first).expect("the provider's first line");
    Provider {
        _child: child,
        issuer: started["issuer"].as_str().unwrap().to_string(),
        control: started["control"].as_str().unwrap().to_string(),
    }
}

#[tokio::test]
async fn members_sign_in_through_a_real_openid_provider_in_a_browser() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = root.join("tests/browser");
    if !crate::docs_page::browser_ready(&dir) {
        return;
    }
    assert!(
        dir.join("node_modules/oidc-provider").exists(),
        "oidc-provider is missing: run `npm ci` in tests/browser"
    );
    let provider = start_provider(&dir).await;
    let app = TestApp::spawn_with(&[
        "--oidc-issuer",
        &provider.issuer,
        "--oidc-client-id",
        "consoled",
        "--oidc-client-secret",
        CLIENT_SECRET,
        "--oidc-auto-join",
        "developer",
        "--oidc-allowed-domains",
        "auto.test",
    ])
    .await;
    // alice is an admin and carol a developer (both invited; signing in makes them active).
    let token = app.admin_token().await;
    for (email, role) in [
        ("alice@acme.test", "admin"),
        ("carol@acme.test", "developer"),
    ] {
        let response = app
            .call(
                Method::POST,
                &format!("/members/{email}"),
                &token,
                Some(json!({ "orgRoles": [role] })),
            )
            .await;
        assert!(response.status().is_success(), "{email}");
    }
    let configured = reqwest::Client::new()
        .post(format!("{}/configure", provider.control))
        .json(&json!({
            "clients": [{
                "client_id": "consoled",
                "client_secret": CLIENT_SECRET,
                "redirect_uris": [format!("{}/console/sso/callback", app.base_url)],
                "post_logout_redirect_uris": [format!("{}/console/login", app.base_url)],
            }],
            "users": {
                "alice": { "email": "alice@acme.test", "email_verified": true, "name": "Alice" },
                "bob": { "email": "bob@other.test", "email_verified": true, "name": "Bob" },
                "carol": { "email": "carol@acme.test", "email_verified": false, "name": "Carol" },
                "dave": { "email": "dave@auto.test", "email_verified": true, "name": "Dave" },
            },
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(configured.status(), reqwest::StatusCode::NO_CONTENT);

    let artifacts = root.join("target/browser-artifacts");
    std::fs::create_dir_all(&artifacts).unwrap();
    let output = Command::new("node")
        .arg("--test")
        .arg("console_sso.mjs")
        .current_dir(&dir)
        .env("CONSOLED_URL", &app.base_url)
        .env("OIDC_ISSUER", &provider.issuer)
        .env("OIDC_CONTROL", &provider.control)
        .env("CONSOLED_ARTIFACTS", &artifacts)
        .env("CONSOLED_AUTO_JOIN", "1")
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

    // What the browser did is consoled's: alice and dave are active members, bob is not.
    let store = consoled::storage::open(&app.database_url).await.unwrap();
    let org = TestApp::org_of(&token);
    let alice = store
        .member(&org, "alice@acme.test")
        .await
        .unwrap()
        .unwrap();
    assert!(!alice.invite_pending);
    let dave = store.member(&org, "dave@auto.test").await.unwrap().unwrap();
    assert_eq!(
        dave.roles,
        vec![consoled::domain::member::OrgRole::Developer]
    );
    assert!(store
        .member(&org, "bob@other.test")
        .await
        .unwrap()
        .is_none());
    let carol = store
        .member(&org, "carol@acme.test")
        .await
        .unwrap()
        .unwrap();
    assert!(
        carol.invite_pending,
        "carol's unverified email did not sign her in"
    );
}
