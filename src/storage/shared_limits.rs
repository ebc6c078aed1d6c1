//! Rate-limit and lockout state shared by every replica of an installation (PostgreSQL).
//!
//! Each check is one statement on the pool, atomic in the database: the GCRA of
//! `http::limits` written as a conditional upsert, so that two replicas counting the same
//! key at once both see the other's request. Times are on the database's clock, the one
//! clock all replicas share. The tables are `UNLOGGED` (see the migration): a count costs
//! no WAL flush.
//!
//! On SQLite there is none of this: one server owns the database file, so its memory
//! (the in-process limiters) is the installation's.

use std::time::Duration;

use async_trait::async_trait;
use sqlx::postgres::PgPool;

use super::{ResultExt, StoreResult};

/// What a client's token request found: the rate limit's answer and the client's lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientCount {
    /// Some when the rate limit refused the request: how long until one is allowed.
    pub wait: Option<Duration>,
    /// Some while the client id is locked at this source: for how long still.
    pub locked_for: Option<Duration>,
    /// Whether wrong secrets are on record (a right one then clears them).
    pub has_failures: bool,
}

/// A GCRA rate: one request per `interval`, at most `tolerance` ahead of now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SharedRate {
    pub interval: Duration,
    pub tolerance: Duration,
}

/// When wrong secrets lock a key, as `http::limits::LockoutPolicy` says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SharedLockout {
    pub threshold: u32,
    pub first_lock: Duration,
    pub longest_lock: Duration,
    pub forget_after: Duration,
}

#[async_trait]
pub trait SharedLimitStore: Send + Sync + 'static {
    /// Counts one request of `key` (when `rate` is given) and reads the lock of `lock_key`
    /// (when given), in one statement.
    async fn count(
        &self,
        key: &[u8],
        rate: Option<SharedRate>,
        lock_key: Option<&[u8]>,
    ) -> StoreResult<ClientCount>;

    /// Records a wrong secret for `lock_key`; from the threshold on, locks it.
    async fn record_failure(&self, lock_key: &[u8], rule: SharedLockout) -> StoreResult<()>;

    /// A right secret ends the streak.
    async fn clear_failures(&self, lock_key: &[u8]) -> StoreResult<()>;

    /// Deletes what holds nothing back any more.
    async fn sweep(&self, forget_after: Duration) -> StoreResult<()>;
}

pub struct PgSharedLimits {
    pool: PgPool,
}

impl PgSharedLimits {
    pub fn new(pool: PgPool) -> Self {
        PgSharedLimits { pool }
    }
}

/// Opens each statement: `now.us`, the database's time in microseconds.
macro_rules! with_now {
    ($($sql:literal),*) => {
        concat!(
            "WITH now AS (SELECT (extract(epoch FROM clock_timestamp()) * 1000000)::bigint AS us) ",
            $($sql),*
        )
    };
}

/// $1 key, $2 interval (µs, NULL: not counted), $3 tolerance (µs), $4 lock key.
/// `counted` holds a row only when the request was allowed; the outer reads see the rows
/// as they were before it, which is what the wait is computed from.
const COUNT: &str = with_now!(
    ", counted AS (
        INSERT INTO rate_limits AS r (key, tat)
        SELECT $1, now.us + $2 FROM now WHERE $2 IS NOT NULL
        ON CONFLICT (key) DO UPDATE SET tat = GREATEST(r.tat, EXCLUDED.tat - $2) + $2
        WHERE GREATEST(r.tat, EXCLUDED.tat - $2) + $2 <= EXCLUDED.tat - $2 + $3
        RETURNING 1
    )
    SELECT
        ($2 IS NULL OR EXISTS (SELECT 1 FROM counted)) AS allowed,
        (SELECT GREATEST(r.tat, now.us) + $2 - (now.us + $3)
            FROM rate_limits r, now WHERE r.key = $1) AS wait_us,
        (SELECT f.locked_until - now.us FROM failed_secrets f, now WHERE f.key = $4) AS locked_us,
        EXISTS (SELECT 1 FROM failed_secrets f WHERE f.key = $4) AS has_failures"
);

/// $1 key, $2 threshold, $3 first lock (µs), $4 longest lock (µs), $5 forget after (µs).
/// The streak starts over when the last failure is older than $5; each failure from the
/// threshold on doubles the lock.
const RECORD_FAILURE: &str = with_now!(
    "
    INSERT INTO failed_secrets AS f (key, failures, last_failure, locked_until)
    SELECT $1, 1, now.us, CASE WHEN $2 <= 1 THEN now.us + LEAST($3, $4) END FROM now
    ON CONFLICT (key) DO UPDATE SET
        failures = CASE WHEN f.last_failure + $5 <= EXCLUDED.last_failure THEN 1
                        ELSE LEAST(f.failures, 1000000) + 1 END,
        last_failure = EXCLUDED.last_failure,
        locked_until = CASE
            WHEN (CASE WHEN f.last_failure + $5 <= EXCLUDED.last_failure THEN 1
                       ELSE LEAST(f.failures, 1000000) + 1 END) >= $2
            THEN EXCLUDED.last_failure + LEAST($3 * (1::bigint << LEAST(
                (CASE WHEN f.last_failure + $5 <= EXCLUDED.last_failure THEN 1
                      ELSE LEAST(f.failures, 1000000) + 1 END) - $2, 20)), $4)
            ELSE f.locked_until END"
);

const SWEEP_RATES: &str = with_now!("DELETE FROM rate_limits USING now WHERE tat <= now.us");
const SWEEP_FAILURES: &str = with_now!(
    "DELETE FROM failed_secrets USING now ",
    "WHERE COALESCE(locked_until, 0) <= now.us AND last_failure + $1 <= now.us"
);

fn micros(d: Duration) -> i64 {
    i64::try_from(d.as_micros()).unwrap_or(i64::MAX)
}

fn positive(us: Option<i64>) -> Option<Duration> {
    us.filter(|us| *us > 0)
        .map(|us| Duration::from_micros(us as u64))
}

#[async_trait]
impl SharedLimitStore for PgSharedLimits {
    async fn count(
        &self,
        key: &[u8],
        rate: Option<SharedRate>,
        lock_key: Option<&[u8]>,
    ) -> StoreResult<ClientCount> {
        let (allowed, wait_us, locked_us, has_failures): (bool, Option<i64>, Option<i64>, bool) =
            sqlx::query_as(COUNT)
                .bind(key)
                .bind(rate.map(|r| micros(r.interval)))
                .bind(rate.map(|r| micros(r.tolerance)).unwrap_or(0))
                .bind(lock_key)
                .fetch_one(&self.pool)
                .await
                .db()?;
        let wait = (!allowed).then(|| {
            // Another replica's first request of the key may be too new for this
            // statement's snapshot: then one interval is the wait.
            positive(wait_us)
                .or(rate.map(|r| r.interval))
                .unwrap_or(Duration::from_secs(1))
        });
        Ok(ClientCount {
            wait,
            locked_for: positive(locked_us),
            has_failures,
        })
    }

    async fn record_failure(&self, lock_key: &[u8], rule: SharedLockout) -> StoreResult<()> {
        sqlx::query(RECORD_FAILURE)
            .bind(lock_key)
            .bind(i32::try_from(rule.threshold).unwrap_or(i32::MAX))
            .bind(micros(rule.first_lock))
            .bind(micros(rule.longest_lock))
            .bind(micros(rule.forget_after))
            .execute(&self.pool)
            .await
            .db()?;
        Ok(())
    }

    async fn clear_failures(&self, lock_key: &[u8]) -> StoreResult<()> {
        sqlx::query("DELETE FROM failed_secrets WHERE key = $1")
            .bind(lock_key)
            .execute(&self.pool)
            .await
            .db()?;
        Ok(())
    }

    async fn sweep(&self, forget_after: Duration) -> StoreResult<()> {
        sqlx::query(SWEEP_RATES).execute(&self.pool).await.db()?;
        sqlx::query(SWEEP_FAILURES)
            .bind(micros(forget_after))
            .execute(&self.pool)
            .await
            .db()?;
        Ok(())
    }
}
