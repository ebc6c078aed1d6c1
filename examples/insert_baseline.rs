//! The create benchmark's reference: raw single-row INSERT transactions through the same
//! driver (sqlx) and the same settings consoled uses, at the same durability. Prints
//! `{"inserts_per_second": N}`.
//!
//! - SQLite (WAL, one writer connection, `synchronous` as given):
//!   `insert_baseline <dir> <seconds> <concurrency> <full|normal>`
//! - PostgreSQL (a pool of 16 connections, consoled's `--db-max-connections` default; the
//!   server's own `synchronous_commit`): `insert_baseline postgres://… <seconds> <concurrency>`

use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

/// Runs `insert` from `concurrency` workers until `seconds` have passed; inserts a second.
async fn rate<F, Fut>(seconds: f64, concurrency: usize, insert: F) -> f64
where
    F: Fn() -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let done = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs_f64(seconds);
    let started = Instant::now();
    let workers: Vec<_> = (0..concurrency)
        .map(|_| {
            let (insert, done) = (insert.clone(), done.clone());
            tokio::spawn(async move {
                while Instant::now() < deadline {
                    insert().await;
                    done.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    for worker in workers {
        worker.await.unwrap();
    }
    done.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64()
}

async fn postgres(url: &str, seconds: f64, concurrency: usize) -> f64 {
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(16)
        .connect(url)
        .await
        .unwrap();
    sqlx::query(
        "CREATE TABLE IF NOT EXISTS baseline (id TEXT PRIMARY KEY, body TEXT NOT NULL, at BIGINT NOT NULL)",
    )
    .execute(&pool)
    .await
    .unwrap();
    rate(seconds, concurrency, move || {
        let pool = pool.clone();
        async move {
            let mut tx = pool.begin().await.unwrap();
            sqlx::query("INSERT INTO baseline (id, body, at) VALUES ($1, $2, $3)")
                .bind(uuid::Uuid::new_v4().to_string())
                .bind("x".repeat(200))
                .bind(0i64)
                .execute(&mut *tx)
                .await
                .unwrap();
            tx.commit().await.unwrap();
        }
    })
    .await
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args[1].starts_with("postgres") {
        let rate = postgres(&args[1], args[2].parse().unwrap(), args[3].parse().unwrap()).await;
        println!("{{\"inserts_per_second\": {rate:.1}}}");
        return;
    }
    let dir = &args[1];
    let seconds: f64 = args[2].parse().unwrap();
    let concurrency: usize = args[3].parse().unwrap();
    let synchronous = match args[4].as_str() {
        "full" => SqliteSynchronous::Full,
        _ => SqliteSynchronous::Normal,
    };
    let url = format!("sqlite://{dir}/baseline.db");
    let options = SqliteConnectOptions::from_str(&url)
        .unwrap()
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(synchronous);
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(options)
        .await
        .unwrap();
    sqlx::query("CREATE TABLE IF NOT EXISTS t (id TEXT PRIMARY KEY, body TEXT NOT NULL, at INTEGER NOT NULL)")
        .execute(&pool)
        .await
        .unwrap();
    let done = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs_f64(seconds);
    let started = Instant::now();
    let workers: Vec<_> = (0..concurrency)
        .map(|_| {
            let (pool, done) = (pool.clone(), done.clone());
            tokio::spawn(async move {
                while Instant::now() < deadline {
                    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await.unwrap();
                    sqlx::query("INSERT INTO t (id, body, at) VALUES ($1, $2, $3)")
                        .bind(uuid::Uuid::new_v4().to_string())
                        .bind("x".repeat(200))
                        .bind(0i64)
                        .execute(&mut *tx)
                        .await
                        .unwrap();
                    tx.commit().await.unwrap();
                    done.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    for worker in workers {
        worker.await.unwrap();
    }
    let rate = done.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64();
    println!("{{\"inserts_per_second\": {rate:.1}}}");
}
