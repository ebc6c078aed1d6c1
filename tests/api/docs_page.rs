//! `GET /docs`: the page and its files come from the server itself, and a real headless
//! browser (tests/browser, `playwright-core` from npm and Debian's `chromium`) can use it.
//! The browser test needs `npm ci` in tests/browser and /usr/bin/chromium; `.ci/run`
//! prepares both and sets CONSOLED_REQUIRE_BROWSER=1 so that a missing setup fails instead
//! of skipping.

use std::path::Path;

use reqwest::StatusCode;

use crate::helpers::*;

#[tokio::test]
async fn the_docs_page_and_its_files_are_served_from_the_binary() {
    let app = TestApp::spawn().await;
    for path in ["/docs", "/docs/"] {
        let response = app.http.get(app.url(path)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        assert_eq!(
            response.headers()["content-type"],
            "text/html; charset=utf-8"
        );
        let csp = response.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .to_string();
        assert!(csp.contains("default-src 'none'"), "{csp}");
        let html = response.text().await.unwrap();
        assert!(
            !html.contains("http://") && !html.contains("https://"),
            "{html}"
        );
        assert!(html.contains("docs/swagger-ui-bundle.js"));
    }
    for (file, content_type) in [
        ("swagger-ui-bundle.js", "text/javascript; charset=utf-8"),
        ("swagger-ui.css", "text/css; charset=utf-8"),
        ("init.js", "text/javascript; charset=utf-8"),
        ("favicon-32x32.png", "image/png"),
        ("LICENSE", "text/plain; charset=utf-8"),
    ] {
        let response = app
            .http
            .get(app.url(&format!("/docs/{file}")))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{file}");
        assert_eq!(response.headers()["content-type"], content_type, "{file}");
        assert!(!response.bytes().await.unwrap().is_empty());
    }
    let init = app
        .http
        .get(app.url("/docs/init.js"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(init.contains("validatorUrl: null"), "no online validator");
    assert_error(
        app.http.get(app.url("/docs/nope.js")).send().await.unwrap(),
        StatusCode::NOT_FOUND,
    )
    .await;
}

pub(crate) fn browser_ready(dir: &Path) -> bool {
    let installed = dir.join("node_modules/playwright-core").exists();
    let chromium =
        Path::new("/usr/bin/chromium").exists() || std::env::var_os("CONSOLED_CHROMIUM").is_some();
    if !(installed && chromium) {
        assert!(
            std::env::var_os("CONSOLED_REQUIRE_BROWSER").is_none(),
            "CONSOLED_REQUIRE_BROWSER is set but the browser test is not set up: \
             playwright-core installed: {installed} (run `npm ci` in tests/browser), \
             chromium: {chromium} (apt-get install -y chromium)"
        );
        eprintln!(
            "skipped: the browser test needs `npm ci` in tests/browser and Debian's chromium"
        );
    }
    installed && chromium
}

#[tokio::test]
async fn a_browser_lists_the_operations_and_tries_a_call() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser");
    if !browser_ready(&dir) {
        return;
    }
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    app.create_cluster(&token, "docs-page-demo").await;
    let output = tokio::process::Command::new("node")
        .arg("--test")
        .arg("docs_page.mjs")
        .current_dir(&dir)
        .env("CONSOLED_URL", &app.base_url)
        .env("CONSOLED_TOKEN", &token)
        .env("CONSOLED_CLUSTER_NAME", "docs-page-demo")
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
}
