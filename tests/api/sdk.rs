//! Runs the Camunda 8 JS SDK's `AdminApiClient` (tests/sdk, `@camunda8/sdk` from npm)
//! against a real server. Needs Node and `npm ci` in tests/sdk; `.ci/run` prepares both and
//! sets CONSOLED_REQUIRE_SDK=1 so that a missing setup fails instead of skipping.

use std::path::Path;

use crate::helpers::*;

fn sdk_ready(dir: &Path) -> bool {
    let installed = dir.join("node_modules/@camunda8/sdk").exists();
    if !installed {
        assert!(
            std::env::var_os("CONSOLED_REQUIRE_SDK").is_none(),
            "CONSOLED_REQUIRE_SDK is set but tests/sdk has no node_modules: run `npm ci` there"
        );
        eprintln!("skipped: the JS SDK is not installed (run `npm ci` in tests/sdk)");
    }
    installed
}

async fn run_sdk_suite(files: &[&str], full: bool) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sdk");
    if !sdk_ready(&dir) {
        return;
    }
    let app = TestApp::spawn().await;
    let mut command = tokio::process::Command::new("node");
    command
        .arg("--test")
        .args(files)
        .current_dir(&dir)
        .env("CONSOLED_URL", &app.base_url)
        .env("CONSOLED_CLIENT_ID", CLIENT_ID)
        .env("CONSOLED_CLIENT_SECRET", CLIENT_SECRET);
    if full {
        command.env("CONSOLED_SDK_FULL", "1");
    }
    let output = command.output().await.expect("node runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "the SDK suite failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("# fail 0"), "{stdout}");
    // A skipped step (one failed before it, or a missing setting) is a failure too.
    assert!(stdout.contains("# skipped 0"), "{stdout}");
    eprintln!("{stdout}");
}

#[tokio::test]
async fn admin_api_client_runs_the_cluster_and_client_flow() {
    run_sdk_suite(&["admin_flow.mjs"], false).await;
}

/// Every other `AdminApiClient` operation: cluster update, allowlists, secrets, backups,
/// upgrade, wake, monitoring, secure connectivity, members, activity and IP ranges.
#[tokio::test]
async fn admin_api_client_runs_every_remaining_operation() {
    run_sdk_suite(&["admin_cluster_ops.mjs"], true).await;
}
