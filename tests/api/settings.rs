//! `consoled serve` refuses settings that cannot work, at start, naming the flag, and
//! before it writes anything.

use std::process::Output;
use std::time::Duration;

/// Runs `consoled serve` with `args` and `env` on a data dir that does not exist yet;
/// returns its output once it has exited, and whether it left the data dir behind.
async fn serve_with(args: &[&str], env: &[(&str, &str)]) -> (Output, bool) {
    let parent = tempfile::tempdir().unwrap();
    let data_dir = parent.path().join("data");
    let child = tokio::process::Command::new(env!("CARGO_BIN_EXE_consoled"))
        .args(["serve", "--listen", "127.0.0.1:0"])
        .args(args)
        .env("CONSOLED_DATA_DIR", &data_dir)
        .env_remove("CONSOLED_DATABASE_URL")
        .env("CONSOLED_LOG", "warn")
        .envs(env.iter().copied())
        .kill_on_drop(true)
        .output();
    // A refusal is immediate; a server that started would run until killed.
    let output = tokio::time::timeout(Duration::from_secs(20), child)
        .await
        .unwrap_or_else(|_| panic!("the server started with {args:?} {env:?}"))
        .unwrap();
    (output, data_dir.exists())
}

/// Asserts that the server refused to start, with `flag` named on stderr, and wrote nothing.
async fn assert_refused(args: &[&str], env: &[(&str, &str)], flag: &str) {
    let (output, wrote) = serve_with(args, env).await;
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{args:?} {env:?}: exit 0");
    assert!(
        stderr.contains(flag),
        "{args:?} {env:?}: {flag} not in {stderr}"
    );
    assert!(!wrote, "{args:?} {env:?}: the data dir was created");
}

#[tokio::test]
async fn a_script_url_is_no_public_url() {
    assert_refused(
        &["--public-url", "javascript:alert(1)"],
        &[],
        "--public-url",
    )
    .await;
}

#[tokio::test]
async fn a_token_lifetime_of_zero_is_refused() {
    assert_refused(&["--token-lifetime", "0s"], &[], "--token-lifetime").await;
    assert_refused(
        &[],
        &[("CONSOLED_TOKEN_LIFETIME", "0s")],
        "--token-lifetime",
    )
    .await;
}

#[tokio::test]
async fn every_setting_that_cannot_work_is_refused_naming_its_flag() {
    let cases: &[(&[&str], &str)] = &[
        // The public URL: the token issuer and every URL handed out.
        (&["--public-url", "ftp://example.com"], "--public-url"),
        (&["--public-url", "example.com"], "--public-url"),
        (&["--public-url", "http:example.com"], "--public-url"),
        (&["--public-url", "https://"], "--public-url"),
        (
            &["--public-url", "https://user:pw@example.com"],
            "--public-url",
        ),
        (
            &["--public-url", "https://example.com/?tenant=1"],
            "--public-url",
        ),
        (
            &["--public-url", "https://example.com/#top"],
            "--public-url",
        ),
        (&["--public-url", "https://exa mple.com"], "--public-url"),
        (&["--public-url", "https://example.com/\n"], "--public-url"),
        // Lifetimes and intervals.
        (&["--token-lifetime", "59s"], "--token-lifetime"),
        (&["--token-lifetime", "400d"], "--token-lifetime"),
        (&["--token-reuse-window", "24h"], "--token-reuse-window"),
        (
            &["--token-lifetime", "5m", "--token-reuse-window", "10m"],
            "--token-reuse-window",
        ),
        (&["--key-refresh-interval", "0s"], "--key-refresh-interval"),
        (&["--key-refresh-interval", "2h"], "--key-refresh-interval"),
        (&["--reconcile-interval", "0s"], "--reconcile-interval"),
        (&["--state-cache-ttl", "1h"], "--state-cache-ttl"),
        (&["--clock-skew", "1h"], "--clock-skew"),
        (&["--provision-delay", "400d"], "--provision-delay"),
        (&["--suspend-after", "1ms"], "--suspend-after"),
        (&["--suspend-after", "100000d"], "--suspend-after"),
        (&["--db-acquire-timeout", "0s"], "--db-acquire-timeout"),
        (&["--token-lockout", "0s"], "--token-lockout"),
        (&["--request-timeout", "0s"], "--request-timeout"),
        (&["--header-read-timeout", "0s"], "--header-read-timeout"),
        (&["--idle-timeout", "0s"], "--idle-timeout"),
        (&["--request-timeout", "2m"], "--idle-timeout"),
        // Counts.
        (&["--db-max-connections", "0"], "--db-max-connections"),
        (&["--max-body-bytes", "0"], "--max-body-bytes"),
        (&["--max-members", "0"], "--max-members"),
        (
            &["--max-clients-per-cluster", "0"],
            "--max-clients-per-cluster",
        ),
        (
            &["--max-secrets-per-cluster", "0"],
            "--max-secrets-per-cluster",
        ),
        // Names.
        (&["--base-domain", "camunda..local"], "--base-domain"),
        (&["--base-domain", "https://camunda.local"], "--base-domain"),
        (&["--base-domain", "camunda-.local"], "--base-domain"),
        (&["--base-domain", ""], "--base-domain"),
        (&["--console-audiences", ""], "--console-audiences"),
        (
            &["--console-audiences", "api.example.com,"],
            "--console-audiences",
        ),
        (
            &["--console-audiences", "api\u{7}.example.com"],
            "--console-audiences",
        ),
        (&["--zeebe-audiences", "zeebe example"], "--zeebe-audiences"),
        (
            &["--console-audiences", "zeebe.camunda.io"],
            "--zeebe-audiences",
        ),
        (&["--owner-email", "not-an-email"], "--owner-email"),
        (&["--database-url", "mysql://db/consoled"], "--database-url"),
        // CORS.
        (
            &["--cors-allowed-origins", "app.example.com"],
            "--cors-allowed-origins",
        ),
        (
            &["--cors-allowed-origins", "https://app.example.com/path"],
            "--cors-allowed-origins",
        ),
        (
            &["--cors-allowed-origins", "*,https://app.example.com"],
            "--cors-allowed-origins",
        ),
        // Bootstrap client: both or neither.
        (
            &["--bootstrap-client-id", "admin"],
            "CONSOLED_BOOTSTRAP_CLIENT_SECRET",
        ),
    ];
    for (args, flag) in cases {
        assert_refused(args, &[], flag).await;
    }
}

#[tokio::test]
async fn a_refused_bootstrap_secret_is_not_echoed() {
    let secret = "long-enough-but-a-bell\u{7}in-it";
    let (output, _) = serve_with(
        &["--bootstrap-client-id", "admin"],
        &[("CONSOLED_BOOTSTRAP_CLIENT_SECRET", secret)],
    )
    .await;
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(
        stderr.contains("CONSOLED_BOOTSTRAP_CLIENT_SECRET"),
        "{stderr}"
    );
    assert!(!stderr.contains("long-enough"), "{stderr}");
}
