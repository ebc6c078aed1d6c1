//! Replicas on PostgreSQL cache reads and clients' revocation states as the single server
//! does, and drop them when any replica commits a change (the change feed: triggers,
//! `NOTIFY`, a listener per replica). While a replica's listener is down it reads from the
//! database; it reconnects and caches again. Runs when CONSOLED_TEST_POSTGRES_URL is set.
//!
//! The replicas run with a 30 s `--state-cache-ttl`, so anything seen within a second or
//! two came through the feed, not through the TTL. To show that a replica really serves
//! from its cache, a test changes a row with the triggers off (no notification): the
//! replica keeps answering what it had.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{json, Value};
use sqlx::PgPool;

use crate::helpers::{
    bootstrap_token, cluster_parameters, default_cluster_body, token_response, MASTER_KEY,
};
use crate::replicas::{start_replica_with_env, Replica};

const TTL: &str = "30s";
/// Far below the TTL: what the feed must achieve.
const SOON: Duration = Duration::from_secs(3);

async fn two_replicas() -> Option<(String, PgPool, Replica, Replica)> {
    let admin = crate::postgres::admin_url_or_skip("the replica cache tests")?;
    let url = crate::postgres::fresh_database(&admin).await;
    let a = start_replica_with_env(&url, &["--state-cache-ttl", TTL], &[]).await;
    let b = start_replica_with_env(&url, &["--state-cache-ttl", TTL], &[]).await;
    let pool = PgPool::connect(&url).await.unwrap();
    Some((url, pool, a, b))
}

async fn get(http: &reqwest::Client, base: &str, path: &str, token: &str) -> reqwest::Response {
    http.get(format!("{base}{path}"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

async fn cluster_name(http: &reqwest::Client, base: &str, id: &str, token: &str) -> String {
    let body: Value = get(http, base, &format!("/clusters/{id}"), token)
        .await
        .json()
        .await
        .unwrap();
    body["name"].as_str().unwrap().to_string()
}

/// A Healthy cluster created through `base`.
async fn healthy_cluster(http: &reqwest::Client, base: &str, token: &str) -> String {
    let params = cluster_parameters(http, base, token).await;
    let response = http
        .post(format!("{base}/clusters"))
        .bearer_auth(token)
        .json(&default_cluster_body(&params, "cached"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let id = response.json::<Value>().await.unwrap()["clusterId"]
        .as_str()
        .unwrap()
        .to_string();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let body: Value = get(http, base, &format!("/clusters/{id}"), token)
            .await
            .json()
            .await
            .unwrap();
        if body["status"]["ready"] == "Healthy" {
            return id;
        }
        assert!(Instant::now() < deadline, "never Healthy: {body}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Renames a cluster in the database without telling anyone (the triggers off).
async fn rename_silently(pool: &PgPool, id: &str, name: &str) {
    let mut tx = pool.begin().await.unwrap();
    sqlx::query("ALTER TABLE clusters DISABLE TRIGGER clusters_changed")
        .execute(&mut *tx)
        .await
        .unwrap();
    sqlx::query("UPDATE clusters SET name = $1 WHERE id = $2")
        .bind(name)
        .bind(id)
        .execute(&mut *tx)
        .await
        .unwrap();
    sqlx::query("ALTER TABLE clusters ENABLE TRIGGER clusters_changed")
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
}

/// Waits until `base` answers `name` for the cluster; how long that took.
async fn until_named(
    http: &reqwest::Client,
    base: &str,
    id: &str,
    token: &str,
    name: &str,
) -> Duration {
    let started = Instant::now();
    loop {
        if cluster_name(http, base, id, token).await == name {
            return started.elapsed();
        }
        assert!(
            started.elapsed() < SOON,
            "{base} still does not show {name:?} after {SOON:?}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// The listeners connected now (one per live replica).
async fn listeners(pool: &PgPool) -> i64 {
    sqlx::query_scalar(
        "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() \
         AND query ILIKE 'LISTEN%consoled_changes%'",
    )
    .fetch_one(pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn a_change_through_one_replica_is_read_on_another_long_before_the_ttl() {
    let Some((_url, pool, a, b)) = two_replicas().await else {
        return;
    };
    let http = reqwest::Client::new();
    let token = bootstrap_token(&http, &a.base).await;
    let id = healthy_cluster(&http, &a.base, &token).await;

    // B serves from its cache: a silent change of the row is not seen.
    assert_eq!(cluster_name(&http, &b.base, &id, &token).await, "cached");
    rename_silently(&pool, &id, "silent").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(cluster_name(&http, &b.base, &id, &token).await, "cached");
    get(&http, &b.base, "/clusters", &token).await;

    // A rename through A: B shows it at once, the document and the list.
    let response = http
        .patch(format!("{}/clusters/{id}", a.base))
        .bearer_auth(&token)
        .json(&json!({ "name": "renamed" }))
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success(), "{}", response.status());
    let took = until_named(&http, &b.base, &id, &token, "renamed").await;
    eprintln!("propagation A -> B: {took:?}");
    let list: Value = get(&http, &b.base, "/clusters", &token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list[0]["name"], "renamed");

    // A delete through A: gone on B.
    let response = http
        .delete(format!("{}/clusters/{id}", a.base))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success());
    let started = Instant::now();
    while get(&http, &b.base, &format!("/clusters/{id}"), &token)
        .await
        .status()
        != StatusCode::NOT_FOUND
    {
        assert!(
            started.elapsed() < SOON,
            "the deleted cluster is still on B"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test]
async fn a_rotated_client_is_refused_on_another_replica_long_before_the_ttl() {
    let Some((url, _pool, a, b)) = two_replicas().await else {
        return;
    };
    let http = reqwest::Client::new();
    let cli = |args: &[&str]| {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_consoled"))
            .args(args)
            .env("CONSOLED_DATABASE_URL", &url)
            .env("CONSOLED_MASTER_KEY", MASTER_KEY)
            // The CLI's own wait for other processes' caches: none, the feed is under test.
            .env("CONSOLED_STATE_CACHE_TTL", "0s")
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        serde_json::from_slice::<Value>(&output.stdout).unwrap()
    };
    let client = cli(&[
        "api-clients",
        "create",
        "--name",
        "rotated",
        "--scopes",
        "all",
        "--json",
    ]);
    let (client_id, secret) = (
        client["clientId"].as_str().unwrap(),
        client["clientSecret"].as_str().unwrap(),
    );
    let old = token_response(
        &http,
        &a.base,
        &[("client_id", client_id), ("client_secret", secret)],
    )
    .await["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    // B knows the client now (its state cached for the TTL).
    assert_eq!(
        get(&http, &b.base, "/clusters", &old).await.status(),
        StatusCode::OK
    );

    cli(&["api-clients", "rotate", client_id, "--json"]);
    let started = Instant::now();
    while get(&http, &b.base, "/clusters", &old).await.status() != StatusCode::UNAUTHORIZED {
        assert!(started.elapsed() < SOON, "B still takes the old token");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    eprintln!("revocation on B: {:?}", started.elapsed());
    // And the old secret at B's token endpoint.
    let response = http
        .post(format!("{}/oauth/token", b.base))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", client_id),
            ("client_secret", secret),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_lost_listener_reads_from_the_database_until_it_reconnects() {
    let Some((_url, pool, a, b)) = two_replicas().await else {
        return;
    };
    let http = reqwest::Client::new();
    let token = bootstrap_token(&http, &a.base).await;
    let id = healthy_cluster(&http, &a.base, &token).await;
    assert_eq!(cluster_name(&http, &b.base, &id, &token).await, "cached");
    assert_eq!(listeners(&pool).await, 2);

    // Both listeners killed: what changes silently is read from the database, not from
    // what was cached before.
    let killed: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = current_database() AND query ILIKE 'LISTEN%consoled_changes%') t",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(killed, 2);
    rename_silently(&pool, &id, "during-outage").await;
    until_named(&http, &b.base, &id, &token, "during-outage").await;

    // They reconnect, and caching resumes: a silent change is not seen again.
    let started = Instant::now();
    while listeners(&pool).await < 2 {
        assert!(started.elapsed() < SOON, "the listeners did not reconnect");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Cached anew after the reconnection.
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(
        cluster_name(&http, &b.base, &id, &token).await,
        "during-outage"
    );
    rename_silently(&pool, &id, "after").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        cluster_name(&http, &b.base, &id, &token).await,
        "during-outage",
        "B caches again"
    );
    // And a change through A still arrives.
    let response = http
        .patch(format!("{}/clusters/{id}", a.base))
        .bearer_auth(&token)
        .json(&json!({ "name": "through-a" }))
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success());
    until_named(&http, &b.base, &id, &token, "through-a").await;
}

#[tokio::test]
async fn a_replica_killed_during_a_burst_of_writes_leaves_no_stale_entry_on_another() {
    let Some((_url, pool, mut a, b)) = two_replicas().await else {
        return;
    };
    let http = reqwest::Client::new();
    let token = bootstrap_token(&http, &a.base).await;
    let id = healthy_cluster(&http, &a.base, &token).await;
    assert_eq!(cluster_name(&http, &b.base, &id, &token).await, "cached");

    // Renames through A as fast as it answers; A is killed (SIGKILL) in the middle.
    let burst = {
        let (http, base, token, id) = (http.clone(), a.base.clone(), token.clone(), id.clone());
        tokio::spawn(async move {
            for i in 0.. {
                let sent = http
                    .patch(format!("{base}/clusters/{id}"))
                    .bearer_auth(&token)
                    .json(&json!({ "name": format!("burst-{i}") }))
                    .send()
                    .await;
                if sent.is_err() {
                    return i;
                }
            }
            unreachable!()
        })
    };
    tokio::time::sleep(Duration::from_millis(400)).await;
    a.child.start_kill().unwrap();
    let _ = a.child.wait().await;
    let renames = burst.await.unwrap();
    assert!(renames > 5, "the burst wrote something ({renames})");

    // B shows what the database holds, far within the TTL, in the document and the list.
    let stored: String = sqlx::query_scalar("SELECT name FROM clusters WHERE id = $1")
        .bind(&id)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert!(stored.starts_with("burst-"), "{stored}");
    until_named(&http, &b.base, &id, &token, &stored).await;
    let list: Value = get(&http, &b.base, "/clusters", &token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list[0]["name"], stored.as_str());
}
