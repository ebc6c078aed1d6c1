//! The pools the shared queries read and write through outside transactions, wrapped so
//! that each query's time — from asking for a connection to its last row — lands in the
//! metrics (`consoled_db_query_duration_seconds`). Transactions are timed at their begin
//! and commit instead (the backends' `begin` and `commit`).

use std::time::Instant;

use futures_util::future::BoxFuture;
use futures_util::stream::BoxStream;
use futures_util::StreamExt;
use sqlx::Describe;
use sqlx::{Database, Either, Execute, Executor, Pool};

use crate::telemetry::metrics;

/// A pool whose queries are timed under `kind` (`read` or `write`).
#[derive(Debug)]
pub(crate) struct Timed<'p, DB: Database> {
    pool: &'p Pool<DB>,
    kind: &'static str,
}

impl<DB: Database> Clone for Timed<'_, DB> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<DB: Database> Copy for Timed<'_, DB> {}

impl<'p, DB: Database> Timed<'p, DB> {
    pub(crate) fn new(pool: &'p Pool<DB>, kind: &'static str) -> Self {
        Timed { pool, kind }
    }

    pub(crate) fn pool(&self) -> &'p Pool<DB> {
        self.pool
    }
}

/// Records the time since it was made when dropped: when a query's stream is done with,
/// however it ended. Reads no clock while metrics are off.
struct RecordOnDrop {
    started: Option<Instant>,
    kind: &'static str,
}

impl RecordOnDrop {
    fn start(kind: &'static str) -> Self {
        RecordOnDrop {
            started: metrics::on().then(Instant::now),
            kind,
        }
    }
}

impl Drop for RecordOnDrop {
    fn drop(&mut self) {
        if let Some(started) = self.started {
            metrics::db_query(self.kind, started.elapsed());
        }
    }
}

impl<'p, DB: Database> Executor<'p> for Timed<'p, DB>
where
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
{
    type Database = DB;

    fn fetch_many<'e, 'q: 'e, E>(
        self,
        query: E,
    ) -> BoxStream<'e, Result<Either<DB::QueryResult, DB::Row>, sqlx::Error>>
    where
        'p: 'e,
        E: 'q + Execute<'q, DB>,
    {
        let guard = RecordOnDrop::start(self.kind);
        self.pool
            .fetch_many(query)
            .map(move |item| {
                let _ = &guard;
                item
            })
            .boxed()
    }

    fn fetch_optional<'e, 'q: 'e, E>(
        self,
        query: E,
    ) -> BoxFuture<'e, Result<Option<DB::Row>, sqlx::Error>>
    where
        'p: 'e,
        E: 'q + Execute<'q, DB>,
    {
        let guard = RecordOnDrop::start(self.kind);
        let fetched = self.pool.fetch_optional(query);
        Box::pin(async move {
            let row = fetched.await;
            drop(guard);
            row
        })
    }

    fn prepare_with<'e, 'q: 'e>(
        self,
        sql: &'q str,
        parameters: &'e [DB::TypeInfo],
    ) -> BoxFuture<'e, Result<DB::Statement<'q>, sqlx::Error>>
    where
        'p: 'e,
    {
        self.pool.prepare_with(sql, parameters)
    }

    fn describe<'e, 'q: 'e>(self, sql: &'q str) -> BoxFuture<'e, Result<Describe<DB>, sqlx::Error>>
    where
        'p: 'e,
    {
        self.pool.describe(sql)
    }
}
