//! The driver scripts' own suites, run from `cargo test`: the test driver
//! (`tests/driver/driver.test.mjs`: its token checks against a scratch issuer, its hook
//! actions) and the example Helm and Compose drivers against recording stubs of `helm`,
//! `kubectl` and `docker` (`examples/drivers/tests`). Under CI a missing Node or Python
//! fails; elsewhere the suite says it was skipped.

use std::path::Path;

fn run_suite(program: &str, args: &[&str], what: &str) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let output = match std::process::Command::new(program)
        .args(args)
        .current_dir(root)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .output()
    {
        Ok(output) => output,
        Err(e) => {
            assert!(
                std::env::var_os("CI").is_none_or(|ci| ci.is_empty()),
                "{program} is required in CI for {what}: {e}"
            );
            eprintln!("skipped: {what} need {program} ({e})");
            return;
        }
    };
    assert!(
        output.status.success(),
        "{what} failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn the_test_driver_verifies_tokens_and_runs_its_actions() {
    run_suite(
        "node",
        &["--test", "tests/driver/driver.test.mjs"],
        "the test driver's checks",
    );
}

#[test]
fn the_example_drivers_ask_helm_kubectl_and_docker_for_the_right_things() {
    run_suite(
        "python3",
        &["-m", "unittest", "discover", "-s", "examples/drivers/tests"],
        "the example drivers' tests",
    );
}
