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

use std::sync::Arc;

use super::changes::ChangeFeed;
use super::{ResultExt, StoreResult};

/// A request counted against the budget of `key`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counted<'a> {
    pub key: &'a [u8],
    pub rate: SharedRate,
}

/// What a count found: the rate limits' answer and the lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SharedCount {
    /// Some when a rate limit refused the request: how long until one is allowed.
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
    /// Counts one request of a source and, if the source's budget allowed it, of a client,
    /// and reads the lock of `lock_key`, in one statement. Each part is optional.
    async fn count(
        &self,
        source: Option<Counted<'_>>,
        client: Option<Counted<'_>>,
        lock_key: Option<&[u8]>,
    ) -> StoreResult<SharedCount>;

    /// Records a wrong secret for `lock_key`; from the threshold on, locks it.
    async fn record_failure(&self, lock_key: &[u8], rule: SharedLockout) -> StoreResult<()>;

    /// A right secret ends the streak.
    async fn clear_failures(&self, lock_key: &[u8]) -> StoreResult<()>;

    /// Deletes what holds nothing back any more.
    async fn sweep(&self, forget_after: Duration) -> StoreResult<()>;

    /// The lockout keys with wrong secrets on record.
    async fn failure_keys(&self) -> StoreResult<Vec<Vec<u8>>>;

    /// Whether every change of those keys reaches this process now, as
    /// [`Change::Failures`](super::changes::Change::Failures).
    fn failures_announced(&self) -> bool;
}

pub struct PgSharedLimits {
    pool: PgPool,
    feed: Arc<ChangeFeed>,
}

impl PgSharedLimits {
    pub fn new(pool: PgPool, feed: Arc<ChangeFeed>) -> Self {
        PgSharedLimits { pool, feed }
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

/// $1 source key, $2 its interval (µs; NULL: not counted), $3 its tolerance (µs); $4..$6
/// the same for the client; $7 the lock key. A `*_counted` CTE holds a row only when its
/// request was allowed, and the client is counted only when the source allowed it, as if
/// the two were checked one after the other. The outer reads see the rows as they were
/// before, which is what a wait is computed from.
const COUNT: &str = with_now!(
    ", source_counted AS (
        INSERT INTO rate_limits AS r (key, tat)
        SELECT $1, now.us + $2 FROM now WHERE $2 IS NOT NULL
        ON CONFLICT (key) DO UPDATE SET tat = GREATEST(r.tat, EXCLUDED.tat - $2) + $2
        WHERE GREATEST(r.tat, EXCLUDED.tat - $2) + $2 <= EXCLUDED.tat - $2 + $3
        RETURNING 1
    ),
    source_ok AS (SELECT $2::bigint IS NULL OR EXISTS (SELECT 1 FROM source_counted) AS ok),
    client_counted AS (
        INSERT INTO rate_limits AS r (key, tat)
        SELECT $4, now.us + $5 FROM now, source_ok WHERE $5 IS NOT NULL AND source_ok.ok
        ON CONFLICT (key) DO UPDATE SET tat = GREATEST(r.tat, EXCLUDED.tat - $5) + $5
        WHERE GREATEST(r.tat, EXCLUDED.tat - $5) + $5 <= EXCLUDED.tat - $5 + $6
        RETURNING 1
    )
    SELECT
        source_ok.ok AS source_allowed,
        (SELECT GREATEST(r.tat, now.us) + $2 - (now.us + $3)
            FROM rate_limits r WHERE r.key = $1) AS source_wait_us,
        ($5::bigint IS NULL OR EXISTS (SELECT 1 FROM client_counted)) AS client_allowed,
        (SELECT GREATEST(r.tat, now.us) + $5 - (now.us + $6)
            FROM rate_limits r WHERE r.key = $4) AS client_wait_us,
        (SELECT f.locked_until - now.us FROM failed_secrets f WHERE f.key = $7) AS locked_us,
        EXISTS (SELECT 1 FROM failed_secrets f WHERE f.key = $7) AS has_failures
    FROM now, source_ok"
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
        source: Option<Counted<'_>>,
        client: Option<Counted<'_>>,
        lock_key: Option<&[u8]>,
    ) -> StoreResult<SharedCount> {
        let row: (bool, Option<i64>, bool, Option<i64>, Option<i64>, bool) = sqlx::query_as(COUNT)
            .bind(source.map(|c| c.key))
            .bind(source.map(|c| micros(c.rate.interval)))
            .bind(source.map(|c| micros(c.rate.tolerance)).unwrap_or(0))
            .bind(client.map(|c| c.key))
            .bind(client.map(|c| micros(c.rate.interval)))
            .bind(client.map(|c| micros(c.rate.tolerance)).unwrap_or(0))
            .bind(lock_key)
            .fetch_one(&self.pool)
            .await
            .db()?;
        let (source_allowed, source_wait, client_allowed, client_wait, locked_us, has_failures) =
            row;
        // Another replica's first request of a key may be too new for this statement's
        // snapshot: then one interval is the wait.
        let wait = |refused: Option<Counted<'_>>, us: Option<i64>| {
            positive(us)
                .or(refused.map(|c| c.rate.interval))
                .unwrap_or(Duration::from_secs(1))
        };
        let wait = if !source_allowed {
            Some(wait(source, source_wait))
        } else if !client_allowed {
            Some(wait(client, client_wait))
        } else {
            None
        };
        Ok(SharedCount {
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

    async fn failure_keys(&self) -> StoreResult<Vec<Vec<u8>>> {
        sqlx::query_scalar("SELECT key FROM failed_secrets")
            .fetch_all(&self.pool)
            .await
            .db()
    }

    fn failures_announced(&self) -> bool {
        self.feed.is_live()
    }
}
