//! Limits hold for the installation: replicas on one PostgreSQL database share one token
//! budget per client id and per source, one lockout, and one API budget; killing the
//! replica that counted does not reset them. Runs when CONSOLED_TEST_POSTGRES_URL is set.
//!
//! Every budget here refills far slower than the test runs (one request per 100 s), so
//! each count is exact.

use std::time::Duration;

use reqwest::StatusCode;

use crate::helpers::{bootstrap_token, CLIENT_ID, CLIENT_SECRET};
use crate::replicas::{start_replica_with_env, Replica};

/// `flags` with every other limit off.
fn only<'a>(flags: &[&'a str]) -> Vec<&'a str> {
    let mut args = flags.to_vec();
    for (flag, off) in [
        ("--token-limit-per-source", "off"),
        ("--token-limit-per-client", "off"),
        ("--token-failures-before-lockout", "0"),
    ] {
        if !flags.contains(&flag) {
            args.extend([flag, off]);
        }
    }
    args
}

/// `n` replicas on a fresh database, with no limits but `flags`.
async fn replicas(n: usize, flags: &[&str]) -> Option<(String, Vec<Replica>)> {
    let admin = crate::postgres::admin_url_or_skip("the shared limit tests")?;
    let url = crate::postgres::fresh_database(&admin).await;
    let mut started = Vec::new();
    for _ in 0..n {
        started.push(start_replica_with_env(&url, &only(flags), &[]).await);
    }
    Some((url, started))
}

async fn token_status(http: &reqwest::Client, base: &str, id: &str, secret: &str) -> StatusCode {
    http.post(format!("{base}/oauth/token"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", id),
            ("client_secret", secret),
        ])
        .send()
        .await
        .unwrap()
        .status()
}

/// Token requests of the bootstrap client spread over `replicas` in turn; the statuses.
async fn spread_tokens(
    http: &reqwest::Client,
    replicas: &[Replica],
    count: usize,
) -> Vec<StatusCode> {
    let mut statuses = Vec::new();
    for i in 0..count {
        let base = &replicas[i % replicas.len()].base;
        statuses.push(token_status(http, base, CLIENT_ID, CLIENT_SECRET).await);
    }
    statuses
}

fn count_of(statuses: &[StatusCode], status: StatusCode) -> usize {
    statuses.iter().filter(|s| **s == status).count()
}

/// Kills the first replica (SIGKILL) and starts a fresh one in its place.
async fn replace_first(url: &str, replicas: &mut Vec<Replica>, flags: &[&str]) {
    let mut killed = replicas.remove(0);
    killed.child.start_kill().unwrap();
    let _ = killed.child.wait().await;
    replicas.push(start_replica_with_env(url, &only(flags), &[]).await);
}

#[tokio::test]
async fn three_replicas_share_one_token_budget_per_client() {
    let flags = ["--token-limit-per-client", "6/10m"];
    let Some((url, mut replicas)) = replicas(3, &flags).await else {
        return;
    };
    let http = reqwest::Client::new();
    // Each process alone would allow 6, three of them 18: the installation allows 6.
    let statuses = spread_tokens(&http, &replicas, 15).await;
    assert_eq!(count_of(&statuses, StatusCode::OK), 6, "{statuses:?}");
    assert_eq!(
        count_of(&statuses, StatusCode::TOO_MANY_REQUESTS),
        9,
        "{statuses:?}"
    );
    // The replica that counted first is killed and replaced: the budget stays spent.
    replace_first(&url, &mut replicas, &flags).await;
    let statuses = spread_tokens(&http, &replicas, 6).await;
    assert_eq!(
        count_of(&statuses, StatusCode::TOO_MANY_REQUESTS),
        6,
        "{statuses:?}"
    );
    // Another client id has its own budget; an id with a NUL is counted like any other.
    for replica in &replicas {
        let status = token_status(&http, &replica.base, "no\0body", "guess").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
}

#[tokio::test]
async fn three_replicas_share_one_budget_per_source() {
    let flags = ["--token-limit-per-source", "5/500s"];
    let Some((url, mut replicas)) = replicas(3, &flags).await else {
        return;
    };
    let http = reqwest::Client::new();
    let statuses = spread_tokens(&http, &replicas, 12).await;
    assert_eq!(count_of(&statuses, StatusCode::OK), 5, "{statuses:?}");
    replace_first(&url, &mut replicas, &flags).await;
    let statuses = spread_tokens(&http, &replicas, 3).await;
    assert_eq!(
        count_of(&statuses, StatusCode::TOO_MANY_REQUESTS),
        3,
        "{statuses:?}"
    );
}

#[tokio::test]
async fn three_replicas_share_one_lockout() {
    let flags = [
        "--token-failures-before-lockout",
        "3",
        "--token-lockout",
        "1m",
    ];
    let Some((url, mut replicas)) = replicas(3, &flags).await else {
        return;
    };
    let http = reqwest::Client::new();
    // The right secret works everywhere before the lockout.
    for replica in &replicas {
        let status = token_status(&http, &replica.base, CLIENT_ID, CLIENT_SECRET).await;
        assert_eq!(status, StatusCode::OK);
    }
    // One wrong secret on each replica: no replica alone saw three.
    for replica in &replicas {
        let status = token_status(&http, &replica.base, CLIENT_ID, "guess").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    // The installation did: the right secret is refused on every replica.
    for replica in &replicas {
        let status = token_status(&http, &replica.base, CLIENT_ID, CLIENT_SECRET).await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{}", replica.base);
    }
    // A replica killed and a new one started: still locked.
    replace_first(&url, &mut replicas, &flags).await;
    for replica in &replicas {
        let status = token_status(&http, &replica.base, CLIENT_ID, CLIENT_SECRET).await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{}", replica.base);
    }
}

#[tokio::test]
async fn a_right_secret_on_one_replica_ends_the_streak_on_all() {
    let flags = [
        "--token-failures-before-lockout",
        "3",
        "--token-lockout",
        "1m",
    ];
    let Some((_url, replicas)) = replicas(2, &flags).await else {
        return;
    };
    let http = reqwest::Client::new();
    for replica in &replicas {
        let status = token_status(&http, &replica.base, CLIENT_ID, "guess").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    // Two failures on record; a right secret through the first replica clears them.
    let status = token_status(&http, &replicas[0].base, CLIENT_ID, CLIENT_SECRET).await;
    assert_eq!(status, StatusCode::OK);
    // So two more wrong ones through the second do not lock (they would have: 2 + 2 ≥ 3).
    for _ in 0..2 {
        let status = token_status(&http, &replicas[1].base, CLIENT_ID, "guess").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    let status = token_status(&http, &replicas[1].base, CLIENT_ID, CLIENT_SECRET).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn three_replicas_share_one_api_budget_per_client() {
    let flags = ["--api-limit-per-client", "8/800s"];
    let Some((url, mut replicas)) = replicas(3, &flags).await else {
        return;
    };
    let http = reqwest::Client::new();
    let token = bootstrap_token(&http, &replicas[0].base).await;
    let mut statuses = Vec::new();
    for i in 0..15 {
        let base = &replicas[i % 3].base;
        let response = http
            .get(format!("{base}/clusters"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        statuses.push(response.status());
    }
    assert_eq!(count_of(&statuses, StatusCode::OK), 8, "{statuses:?}");
    replace_first(&url, &mut replicas, &flags).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    for replica in &replicas {
        let response = http
            .get(format!("{}/clusters", replica.base))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert!(response.headers().contains_key("retry-after"));
    }
}

#[tokio::test]
async fn a_lockout_made_on_one_replica_reaches_another_that_counts_nothing() {
    // No rate limit is counted: replica A asks the database about a lockout only for keys
    // the change feed announced; B's failures must be announced to it.
    let flags = [
        "--token-failures-before-lockout",
        "2",
        "--token-lockout",
        "1m",
    ];
    let Some((_url, replicas)) = replicas(2, &flags).await else {
        return;
    };
    let http = reqwest::Client::new();
    let (a, b) = (&replicas[0].base, &replicas[1].base);
    assert_eq!(
        token_status(&http, a, CLIENT_ID, CLIENT_SECRET).await,
        StatusCode::OK
    );
    for _ in 0..2 {
        assert_eq!(
            token_status(&http, b, CLIENT_ID, "guess").await,
            StatusCode::UNAUTHORIZED
        );
    }
    let started = std::time::Instant::now();
    loop {
        let status = token_status(&http, a, CLIENT_ID, CLIENT_SECRET).await;
        if status == StatusCode::TOO_MANY_REQUESTS {
            break;
        }
        assert_eq!(status, StatusCode::OK);
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "A still issues tokens to a client locked on B"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}
