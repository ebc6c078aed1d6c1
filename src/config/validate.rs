//! Validation of the serve settings.
//!
//! A check about one value is the flag's value parser, so clap's error names the flag; a
//! rule relating several flags is in `ServeArgs::validate`. Both run before anything is
//! opened or written.

use std::time::Duration;

use super::ServeArgs;
use crate::domain::ip_allowlist::IpRange;

/// Parses a `--trusted-proxies` entry: an address or CIDR range.
pub(super) fn parse_ip_range(text: &str) -> Result<IpRange, String> {
    IpRange::parse(text.trim())
        .ok_or_else(|| format!("{text:?} is not an address or CIDR block such as 10.0.0.0/8"))
}

/// Validates an IPv4 or IPv6 CIDR block (`10.0.0.0/8`, `2001:db8::/32`) and returns it
/// in canonical form.
pub(super) fn parse_cidr(text: &str) -> Result<String, String> {
    let invalid = || format!("{text:?} is not a CIDR block such as 10.0.0.0/8");
    let (addr, prefix) = text.trim().split_once('/').ok_or_else(invalid)?;
    let addr: std::net::IpAddr = addr.parse().map_err(|_| invalid())?;
    let prefix: u8 = prefix.parse().map_err(|_| invalid())?;
    let max = if addr.is_ipv4() { 32 } else { 128 };
    if prefix > max {
        return Err(invalid());
    }
    Ok(format!("{addr}/{prefix}"))
}

pub(super) const SECOND: Duration = Duration::from_secs(1);
pub(super) const MINUTE: Duration = Duration::from_secs(60);
pub(super) const HOUR: Duration = Duration::from_secs(3600);
pub(super) const DAY: Duration = Duration::from_secs(86_400);

/// Smallest accepted `--max-body-bytes`: room for any request of the API.
pub(super) const MIN_BODY_BYTES: usize = 1024;
/// Longest accepted audience.
pub(super) const MAX_AUDIENCE_CHARS: usize = 255;

impl ServeArgs {
    /// Checks the rules between settings; each message names the flags involved.
    pub fn validate(&self) -> anyhow::Result<()> {
        let format = humantime::format_duration;
        anyhow::ensure!(
            self.token_reuse_window < self.token_lifetime,
            "--token-reuse-window ({}) must be shorter than --token-lifetime ({}): a reused \
             token must still have time left",
            format(self.token_reuse_window),
            format(self.token_lifetime)
        );
        anyhow::ensure!(
            self.idle_timeout >= self.request_timeout,
            "--idle-timeout ({}) must be at least --request-timeout ({})",
            format(self.idle_timeout),
            format(self.request_timeout)
        );
        // An empty value may leave a list empty rather than holding an empty entry.
        anyhow::ensure!(
            !self.console_audiences.is_empty(),
            "--console-audiences must name at least one audience"
        );
        anyhow::ensure!(
            !self.zeebe_audiences.is_empty(),
            "--zeebe-audiences must name at least one audience"
        );
        // The public URL's host is known before the listener is bound; only a port 0 is not.
        let console_audiences =
            crate::auth::console_audiences(&self.console_audiences, &self.public_url(self.listen));
        check_audiences_apart(&console_audiences, &self.zeebe_audiences)?;
        let origins: Vec<&String> = self
            .cors_allowed_origins
            .iter()
            .filter(|o| !o.is_empty())
            .collect();
        anyhow::ensure!(
            origins.len() <= 1 || !origins.iter().any(|o| *o == "*"),
            "--cors-allowed-origins: `*` allows every origin and cannot be combined with others"
        );
        self.validate_driver()?;
        if let Some(url) = &self.storage.database_url {
            anyhow::ensure!(
                ["sqlite:", "postgres:", "postgresql:"]
                    .iter()
                    .any(|scheme| url.starts_with(scheme)),
                "--database-url {} is not supported: use sqlite://PATH or postgres://...",
                crate::storage::copy::redact_url(url)
            );
        }
        self.sso.settings()?;
        self.validate_bootstrap_client()
    }

    /// Checked here, not by value parsers, so a refused secret is never echoed.
    /// The exec driver needs a command that can run; it is checked here so that a typo
    /// fails the start, not every cluster's first step.
    fn validate_driver(&self) -> anyhow::Result<()> {
        use crate::reconciler::DriverKind;
        match (self.driver, &self.driver_command) {
            (DriverKind::Simulated, _) => Ok(()),
            (DriverKind::Exec, None) => anyhow::bail!(
                "--driver exec needs --driver-command (CONSOLED_DRIVER_COMMAND): the \
                 executable that provisions clusters"
            ),
            (DriverKind::Exec, Some(command)) => {
                let meta = std::fs::metadata(command)
                    .map_err(|e| anyhow::anyhow!("--driver-command {}: {e}", command.display()))?;
                #[cfg(unix)]
                {
                    use std::os::unix::fs::PermissionsExt;
                    anyhow::ensure!(
                        meta.is_file() && meta.permissions().mode() & 0o111 != 0,
                        "--driver-command {} is not an executable file",
                        command.display()
                    );
                }
                #[cfg(not(unix))]
                anyhow::ensure!(
                    meta.is_file(),
                    "--driver-command {} is not a file",
                    command.display()
                );
                Ok(())
            }
        }
    }

    fn validate_bootstrap_client(&self) -> anyhow::Result<()> {
        match (&self.bootstrap_client_id, &self.bootstrap_client_secret) {
            (None, None) => Ok(()),
            (Some(id), Some(secret)) => {
                anyhow::ensure!(
                    !id.trim().is_empty() && !id.chars().any(char::is_control),
                    "--bootstrap-client-id (CONSOLED_BOOTSTRAP_CLIENT_ID) must not be empty \
                     or contain control characters"
                );
                anyhow::ensure!(
                    secret.chars().count() >= 16 && !secret.chars().any(char::is_control),
                    "--bootstrap-client-secret (CONSOLED_BOOTSTRAP_CLIENT_SECRET) must have at \
                     least 16 characters and no control characters"
                );
                Ok(())
            }
            _ => anyhow::bail!(
                "set both --bootstrap-client-id and --bootstrap-client-secret \
                 (CONSOLED_BOOTSTRAP_CLIENT_ID, CONSOLED_BOOTSTRAP_CLIENT_SECRET), or neither"
            ),
        }
    }
}

/// Refuses an audience that is both a Console API and a Zeebe audience: a token for the
/// one must never be taken for the other.
pub fn check_audiences_apart(console: &[String], zeebe: &[String]) -> anyhow::Result<()> {
    match console.iter().find(|a| zeebe.contains(a)) {
        Some(shared) => anyhow::bail!(
            "audience {shared:?} is both a Console API audience (--console-audiences, or the \
             host of --public-url) and a Zeebe audience (--zeebe-audiences)"
        ),
        None => Ok(()),
    }
}

/// A value parser for a duration from `min` to `max`.
pub(super) fn duration_within(
    min: Duration,
    max: Duration,
) -> impl Fn(&str) -> Result<Duration, String> + Clone + Send + Sync + 'static {
    move |text| {
        let duration = parse_duration(text)?;
        let format = format_bound;
        match (duration < min, duration > max) {
            (false, false) => Ok(duration),
            _ if min.is_zero() => Err(format!("must be at most {}", format(max))),
            _ => Err(format!("must be from {} to {}", format(min), format(max))),
        }
    }
}

/// A value parser for `0s` (off) or a duration from `min` to `max`.
pub(super) fn zero_or_duration_within(
    min: Duration,
    max: Duration,
) -> impl Fn(&str) -> Result<Duration, String> + Clone + Send + Sync + 'static {
    let within = duration_within(min, max);
    move |text| match parse_duration(text)? {
        zero if zero.is_zero() => Ok(zero),
        _ => within(text).map_err(|e| format!("{e}, or 0s")),
    }
}

/// A bound as the operator would write it: whole days as days (humantime would give a
/// year as "11months 30days 3h 50m 24s").
pub(super) fn format_bound(bound: Duration) -> String {
    let secs = bound.as_secs();
    if bound > DAY && secs.is_multiple_of(DAY.as_secs()) {
        format!("{}d", secs / DAY.as_secs())
    } else {
        humantime::format_duration(bound).to_string()
    }
}

pub(super) fn parse_duration(text: &str) -> Result<Duration, String> {
    humantime::parse_duration(text.trim())
        .map_err(|e| format!("{e}; use a duration such as 500ms, 30s, 5m or 24h"))
}

/// `--public-url`: the token issuer and the base of every URL handed out, so an absolute
/// http(s) URL with a host, and nothing a client would mangle or leak: no user info, query
/// or fragment. Returned in canonical form without a trailing slash.
pub fn parse_public_url(text: &str) -> Result<String, String> {
    const EXPECTED: &str = "must be an absolute http:// or https:// URL with a host, such as \
                            https://console.example.com";
    // The URL parser would silently drop these; the issuer must be exactly what was meant.
    if text.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!("{EXPECTED}, without spaces or control characters"));
    }
    let lower = text.to_ascii_lowercase();
    if !lower.starts_with("http://") && !lower.starts_with("https://") {
        return Err(EXPECTED.to_string());
    }
    let url = url::Url::parse(text).map_err(|e| format!("{EXPECTED} ({e})"))?;
    if url.host_str().is_none_or(str::is_empty) {
        return Err(EXPECTED.to_string());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("must not contain a user name or password".into());
    }
    if url.query().is_some() {
        return Err("must not have a query (`?...`)".into());
    }
    if url.fragment().is_some() {
        return Err("must not have a fragment (`#...`)".into());
    }
    Ok(url.as_str().trim_end_matches('/').to_string())
}

/// `--base-domain`: a DNS name (letters, digits and hyphens in dot-separated labels of 1
/// to 63 characters), returned lower-cased; cluster host names are built under it.
pub(super) fn parse_dns_name(text: &str) -> Result<String, String> {
    let name = text.trim().to_ascii_lowercase();
    let invalid = |why: &str| {
        Err(format!(
            "must be a DNS name such as camunda.example.com ({why})"
        ))
    };
    if name.is_empty() || name.len() > 253 {
        return invalid("1 to 253 characters");
    }
    for label in name.split('.') {
        if label.is_empty() || label.len() > 63 {
            return invalid("each dot-separated label has 1 to 63 characters");
        }
        if !label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
            return invalid("only letters, digits, hyphens and dots");
        }
        if label.starts_with('-') || label.ends_with('-') {
            return invalid("a label neither starts nor ends with a hyphen");
        }
    }
    Ok(name)
}

/// An entry of `--console-audiences` or `--zeebe-audiences`: what clients send as
/// `audience` and find in the token's `aud`.
pub(super) fn parse_audience(text: &str) -> Result<String, String> {
    if text.is_empty() {
        return Err("an audience must not be empty".into());
    }
    if text.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("an audience must not contain spaces or control characters".into());
    }
    if text.chars().count() > MAX_AUDIENCE_CHARS {
        return Err(format!(
            "an audience has at most {MAX_AUDIENCE_CHARS} characters"
        ));
    }
    Ok(text.to_string())
}

/// An entry of `--cors-allowed-origins`: `*`, or an origin as browsers send it in `Origin`
/// (scheme, host, optional port), returned in that form. Empty entries are skipped later.
pub(super) fn parse_cors_origin(text: &str) -> Result<String, String> {
    const EXPECTED: &str =
        "a CORS origin is `*` or looks like https://app.example.com (scheme, host, optional port)";
    let text = text.trim();
    if text.is_empty() || text == "*" {
        return Ok(text.to_string());
    }
    let lower = text.to_ascii_lowercase();
    if !lower.starts_with("http://") && !lower.starts_with("https://") {
        return Err(EXPECTED.into());
    }
    let url = url::Url::parse(text).map_err(|_| EXPECTED.to_string())?;
    let bare = url.username().is_empty()
        && url.password().is_none()
        && url.path() == "/"
        && url.query().is_none()
        && url.fragment().is_none()
        && url.host_str().is_some_and(|h| !h.is_empty());
    if !bare {
        return Err(EXPECTED.into());
    }
    Ok(url.origin().ascii_serialization())
}

pub(super) fn parse_max_body_bytes(text: &str) -> Result<usize, String> {
    match text.trim().parse::<usize>() {
        Ok(bytes) if bytes >= MIN_BODY_BYTES => Ok(bytes),
        _ => Err(format!(
            "must be a number of bytes, at least {MIN_BODY_BYTES}"
        )),
    }
}

/// `--owner-email`: checked and lower-cased as members' emails are.
pub fn parse_email(text: &str) -> Result<String, String> {
    crate::domain::member::normalize_email(text).map_err(|e| e.to_string())
}

#[cfg(test)]
mod validation {
    use super::*;

    use clap::Parser;

    /// The serve flags as `consoled serve` parses them.
    #[derive(Parser)]
    struct Serve {
        #[command(flatten)]
        args: ServeArgs,
    }

    fn serve(args: &[&str]) -> Result<ServeArgs, String> {
        let argv = ["consoled"].iter().chain(args);
        Ok(Serve::try_parse_from(argv).map_err(|e| e.to_string())?.args)
    }

    #[test]
    fn the_defaults_are_valid() {
        serve(&[]).unwrap().validate().unwrap();
    }

    #[test]
    fn public_urls_are_kept_in_canonical_form() {
        for (given, kept) in [
            (
                "https://console.example.com/",
                "https://console.example.com",
            ),
            (
                "HTTPS://Console.Example.com:443",
                "https://console.example.com",
            ),
            ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
            ("http://[::1]:8080/", "http://[::1]:8080"),
            (
                "https://example.com/consoled/",
                "https://example.com/consoled",
            ),
        ] {
            assert_eq!(parse_public_url(given).as_deref(), Ok(kept), "{given}");
        }
    }

    #[test]
    fn names_and_origins_are_kept_as_clients_send_them() {
        assert_eq!(
            parse_dns_name("Camunda.Example.com").unwrap(),
            "camunda.example.com"
        );
        assert_eq!(parse_dns_name("localhost").unwrap(), "localhost");
        assert_eq!(
            parse_cors_origin("https://App.example.com:443/").unwrap(),
            "https://app.example.com"
        );
        assert_eq!(
            parse_cors_origin("http://localhost:3000").unwrap(),
            "http://localhost:3000"
        );
        assert_eq!(parse_audience("127.0.0.1:8080").unwrap(), "127.0.0.1:8080");
    }

    #[test]
    fn bounds_are_inclusive_and_named_in_the_error() {
        assert!(serve(&["--token-lifetime", "1m"]).is_ok());
        assert!(serve(&["--token-lifetime", "30d"]).is_ok());
        let error = serve(&["--token-lifetime", "31d"]).unwrap_err();
        assert!(
            error.contains("--token-lifetime") && error.contains("1m to 30d"),
            "{error}"
        );
        assert!(serve(&["--suspend-after", "0s"]).is_ok());
        assert!(serve(&["--state-cache-ttl", "0s"]).is_ok());
    }

    #[test]
    fn relations_between_flags_name_both() {
        let args = serve(&["--token-lifetime", "1m", "--token-reuse-window", "1m"]).unwrap();
        let error = args.validate().unwrap_err().to_string();
        assert!(error.contains("--token-reuse-window") && error.contains("--token-lifetime"));
        let args = serve(&["--zeebe-audiences", "api.cloud.camunda.io"]).unwrap();
        let error = args.validate().unwrap_err().to_string();
        assert!(error.contains("--console-audiences") && error.contains("--zeebe-audiences"));
    }
}

/// Property tests: CIDR settings are operator input.
#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn cidr_settings_are_canonical_or_refused(
            text in prop_oneof![any::<String>(), "[0-9a-f:.]{0,20}/[0-9]{0,4}", " ?[0-9.]{7,15}/[0-9]{1,2} ?"],
        ) {
            if let Ok(canonical) = parse_cidr(&text) {
                prop_assert_eq!(parse_cidr(&canonical), Ok(canonical.clone()));
                prop_assert!(IpRange::parse(&canonical).is_some());
            }
            if let Ok(range) = parse_ip_range(&text) {
                prop_assert_eq!(parse_ip_range(&format!("{}/{}", range.addr, range.prefix)), Ok(range));
            }
        }
    }
}
