//! The create benchmark's reference: raw single-row INSERT transactions on SQLite through
//! the same driver (sqlx) and the same settings consoled uses (WAL, one writer connection),
//! at a chosen durability. Prints `{"inserts_per_second": N}`.
//!
//! `insert_baseline <dir> <seconds> <concurrency> <full|normal>`

use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
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
