//! Running the driver command once: `COMMAND ACTION`, one JSON document on stdin, one on
//! stdout, a deadline, and an excerpt of stderr that is safe to log.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::process::Command;

/// Largest stdout accepted; a driver reports a handful of URLs.
const MAX_STDOUT_BYTES: usize = 1024 * 1024;
/// How much of stderr reaches the log and the activity trail.
pub const STDERR_EXCERPT_BYTES: usize = 4 * 1024;

/// Variables of consoled's own environment a driver command does not inherit: they hold
/// keys and credentials the command has no business with.
const WITHHELD_ENV: &[&str] = &[
    "CONSOLED_MASTER_KEY",
    "CONSOLED_BOOTSTRAP_CLIENT_SECRET",
    "CONSOLED_DATABASE_URL",
];

/// Why a run failed, in words fit for a log line and an activity record: secret values
/// masked, control characters replaced, at most [`STDERR_EXCERPT_BYTES`] of stderr.
#[derive(Debug, Clone, PartialEq)]
pub struct CommandFailure(pub String);

/// Runs `program action` with `input` on stdin and returns its stdout on exit 0.
pub async fn run(
    program: &Path,
    action: &str,
    input: &[u8],
    timeout: Duration,
    secrets: &[&str],
) -> Result<Vec<u8>, CommandFailure> {
    let mut command = Command::new(program);
    command
        .arg(action)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    for name in WITHHELD_ENV {
        command.env_remove(name);
    }
    let mut child = command
        .spawn()
        .map_err(|e| CommandFailure(format!("could not start {}: {e}", program.display())))?;
    let mut stdin = child.stdin.take().expect("stdin is piped");
    let stdout = child.stdout.take().expect("stdout is piped");
    let stderr = child.stderr.take().expect("stderr is piped");
    let longest_secret = secrets.iter().map(|s| s.len()).max().unwrap_or(0);
    let io = async {
        let write = async {
            // A command that exits without reading its input is judged by its exit status.
            let _ = stdin.write_all(input).await;
            drop(stdin);
        };
        let (_, out, err) = tokio::join!(
            write,
            read_capped(stdout, MAX_STDOUT_BYTES + 1),
            read_capped(stderr, STDERR_EXCERPT_BYTES + longest_secret)
        );
        let status = child.wait().await;
        (out, err, status)
    };
    let (out, err, status) = match tokio::time::timeout(timeout, io).await {
        Ok(done) => done,
        // Dropping the future kills the child (`kill_on_drop`).
        Err(_) => {
            return Err(CommandFailure(format!(
                "{action} did not finish within {}",
                humantime::format_duration(timeout)
            )))
        }
    };
    let excerpt = excerpt(&err.unwrap_or_default(), secrets);
    let status = status.map_err(|e| CommandFailure(format!("waiting for {action}: {e}")))?;
    if !status.success() {
        let code = status
            .code()
            .map_or_else(|| "a signal".to_string(), |c| format!("status {c}"));
        return Err(CommandFailure(format!(
            "{action} exited with {code}: {excerpt}"
        )));
    }
    let out = out.map_err(|e| CommandFailure(format!("reading the output of {action}: {e}")))?;
    if out.len() > MAX_STDOUT_BYTES {
        return Err(CommandFailure(format!(
            "{action} printed more than {MAX_STDOUT_BYTES} bytes"
        )));
    }
    Ok(out)
}

/// Reads up to `cap` bytes and drains the rest, so the child never blocks on a full pipe.
async fn read_capped(mut from: impl AsyncRead + Unpin, cap: usize) -> std::io::Result<Vec<u8>> {
    let mut kept = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        let n = from.read(&mut buf).await?;
        if n == 0 {
            return Ok(kept);
        }
        let room = cap.saturating_sub(kept.len());
        kept.extend_from_slice(&buf[..n.min(room)]);
    }
}

/// Stderr as it may be shown: every secret value masked (before truncating, so no part of
/// one survives at the cut), then at most [`STDERR_EXCERPT_BYTES`], control and
/// direction-changing characters replaced.
pub fn excerpt(stderr: &[u8], secrets: &[&str]) -> String {
    let mut text = String::from_utf8_lossy(stderr).into_owned();
    let mut secrets: Vec<&str> = secrets.iter().copied().filter(|s| !s.is_empty()).collect();
    secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
    for secret in secrets {
        text = text.replace(secret, "****");
    }
    if text.len() > STDERR_EXCERPT_BYTES {
        let mut cut = STDERR_EXCERPT_BYTES;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
    }
    let cleaned: String = text
        .trim()
        .chars()
        .map(|c| {
            if c == '\n' || c == '\t' {
                ' '
            } else if crate::domain::text::is_invisible_effect(c) {
                '\u{fffd}'
            } else {
                c
            }
        })
        .collect();
    if cleaned.is_empty() {
        "(no output on stderr)".to_string()
    } else {
        cleaned
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excerpts_mask_secrets_and_controls_and_are_bounded() {
        let stderr = b"failed: token=s3cr3t-value and s3cr3t\n\x1b[2Jdone";
        let text = excerpt(stderr, &["s3cr3t", "s3cr3t-value"]);
        assert_eq!(text, "failed: token=**** and **** \u{fffd}[2Jdone");
        let long = format!("{}s3cr3t", "x".repeat(STDERR_EXCERPT_BYTES - 3));
        let text = excerpt(long.as_bytes(), &["s3cr3t"]);
        assert!(
            !text.contains("s3c"),
            "no part of a secret survives the cut"
        );
        assert!(text.len() <= STDERR_EXCERPT_BYTES);
        assert_eq!(excerpt(b"  ", &[]), "(no output on stderr)");
    }

    #[tokio::test]
    async fn a_command_gets_its_action_and_input_and_its_failures_are_reported() {
        let dir = tempfile::tempdir().unwrap();
        let script = dir.path().join("driver");
        std::fs::write(
            &script,
            "#!/bin/sh\ninput=$(cat)\nif [ \"$1\" = fail ]; then echo \"no: $input\" >&2; exit 3; fi\n\
             if [ \"$1\" = slow ]; then sleep 5; fi\n\
             printf '{\"action\":\"%s\",\"env\":\"%s\",\"in\":%s}' \"$1\" \"$CONSOLED_MASTER_KEY\" \"$input\"\n",
        )
        .unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
        std::env::set_var("CONSOLED_MASTER_KEY", "k");
        let out = run(&script, "create", b"{\"a\":1}", Duration::from_secs(5), &[])
            .await
            .unwrap();
        let out: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(out["action"], "create");
        assert_eq!(out["env"], "", "the master key is withheld");
        assert_eq!(out["in"]["a"], 1);
        let failed = run(
            &script,
            "fail",
            b"hunter22",
            Duration::from_secs(5),
            &["hunter22"],
        )
        .await
        .unwrap_err();
        assert_eq!(failed.0, "fail exited with status 3: no: ****");
        let slow = run(&script, "slow", b"", Duration::from_millis(200), &[])
            .await
            .unwrap_err();
        assert!(slow.0.contains("did not finish within"), "{}", slow.0);
    }
}
