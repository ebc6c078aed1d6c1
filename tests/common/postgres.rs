//! Scratch PostgreSQL databases for tests. Tests that need one run when
//! CONSOLED_TEST_POSTGRES_URL points at a server (any database on it); each gets a fresh
//! database of its own, so tests never share state. Without it they are skipped, except
//! under CI (`CI` set and not empty, as `.ci/run` sets it), where they fail.

use sqlx::Connection;

pub const ENV: &str = "CONSOLED_TEST_POSTGRES_URL";

/// The admin URL when PostgreSQL tests are enabled.
pub fn admin_url() -> Option<String> {
    std::env::var(ENV).ok().filter(|u| !u.is_empty())
}

/// The admin URL, or `None` after saying that `what` is skipped. Under CI a missing
/// PostgreSQL fails the test instead of letting it pass without running.
pub fn admin_url_or_skip(what: &str) -> Option<String> {
    let url = admin_url();
    if url.is_none() {
        let in_ci = std::env::var_os("CI").is_some_and(|ci| !ci.is_empty());
        assert!(
            !in_ci,
            "PostgreSQL is required in CI, but {ENV} is not set ({what}; CI is set, so they \
             fail instead of being skipped)"
        );
        eprintln!("skipped: {what} ({ENV} is not set)");
    }
    url
}

/// Creates an empty database and returns its URL.
pub async fn fresh_database(admin_url: &str) -> String {
    let name = format!("consoled_test_{}", uuid::Uuid::new_v4().simple());
    let mut admin = sqlx::PgConnection::connect(admin_url)
        .await
        .expect("PostgreSQL is reachable");
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut admin)
        .await
        .expect("scratch database is created");
    with_database(admin_url, &name)
}

/// `admin_url` with its database replaced by `name`.
pub fn with_database(admin_url: &str, name: &str) -> String {
    let (base, query) = match admin_url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (admin_url, None),
    };
    let authority_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let base = match base[authority_end..].find('/') {
        Some(slash) => &base[..authority_end + slash],
        None => base,
    };
    match query {
        Some(query) => format!("{base}/{name}?{query}"),
        None => format!("{base}/{name}"),
    }
}
