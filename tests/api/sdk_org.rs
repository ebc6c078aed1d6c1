//! The JS SDK's `AdminApiClient` on members, activity and IP ranges
//! (tests/sdk_org/org_flow.mjs, using the packages installed in tests/sdk).

use std::path::Path;

use crate::helpers::*;

#[tokio::test]
async fn admin_api_client_runs_the_members_and_activity_flow() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    if !root.join("tests/sdk/node_modules/@camunda8/sdk").exists() {
        assert!(
            std::env::var_os("CONSOLED_REQUIRE_SDK").is_none(),
            "CONSOLED_REQUIRE_SDK is set but tests/sdk has no node_modules: run `npm ci` there"
        );
        eprintln!("skipped: the JS SDK is not installed (run `npm ci` in tests/sdk)");
        return;
    }
    let app = TestApp::spawn().await;
    let output = tokio::process::Command::new("node")
        .args(["--test", "org_flow.mjs"])
        .current_dir(root.join("tests/sdk_org"))
        .env("CONSOLED_URL", &app.base_url)
        .env("CONSOLED_CLIENT_ID", CLIENT_ID)
        .env("CONSOLED_CLIENT_SECRET", CLIENT_SECRET)
        .output()
        .await
        .expect("node runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && stdout.contains("# fail 0") && stdout.contains("# skipped 0"),
        "the SDK suite failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}
