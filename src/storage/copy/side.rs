//! The two databases of a copy, each inside the transaction the copy runs in. What differs
//! between SQLite and PostgreSQL comes from their [`SqlBackend`] implementations.

use std::collections::BTreeSet;

use anyhow::bail;
use futures_util::StreamExt;
use sqlx::postgres::PgPoolOptions;
use sqlx::sqlite::SqlitePoolOptions;
use sqlx::{Postgres, Sqlite, Transaction};

use super::values::{bind, decode_row, insert_sql, kind_of, Column, Kind, Value};
use super::{quote, TABLES};
use crate::storage::backend::SqlBackend;
use crate::storage::sql_prelude::{LOCK_FIRST_ORGANIZATION, LOCK_MEMBERS, LOCK_SIGNING_KEYS};
use crate::storage::{sqlite, Engine, PgStore, SqliteDurability, SqliteStore};

/// Tables of the database that are not data: the migrations' own bookkeeping, which each
/// side keeps for itself, and the shared rate-limit state (PostgreSQL), forgotten within
/// minutes anyway.
const NOT_COPIED: &[&str] = &["_sqlx_migrations", "rate_limits", "failed_secrets"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Role {
    Source,
    Target,
}

/// One database, inside the transaction the copy runs in: a snapshot for the source, the
/// whole write for the target.
pub(super) enum Side {
    Sqlite(Transaction<'static, Sqlite>),
    Postgres(Transaction<'static, Postgres>),
}

/// Evaluates `$body` with `$tx` the side's transaction and `B` its backend.
macro_rules! on_side {
    ($side:expr, $tx:ident => $body:expr) => {
        match $side {
            Side::Sqlite($tx) => {
                #[allow(dead_code)]
                type B = SqliteStore;
                $body
            }
            Side::Postgres($tx) => {
                #[allow(dead_code)]
                type B = PgStore;
                $body
            }
        }
    };
}

impl Side {
    pub(super) async fn open(url: &str, role: Role) -> anyhow::Result<Side> {
        Ok(match Engine::of(url)? {
            Engine::Sqlite => {
                // The target as `serve` opens it; a mistyped source must not become an
                // empty database.
                let serve = (role == Role::Target).then_some(SqliteDurability::PowerLoss);
                let pool = SqlitePoolOptions::new()
                    .max_connections(1)
                    .connect_with(sqlite::connect_options(url, serve)?)
                    .await?;
                SqliteStore::migrator().run(&pool).await?;
                Side::Sqlite(pool.begin_with(begin::<SqliteStore>(role)).await?)
            }
            Engine::Postgres => {
                let pool = PgPoolOptions::new().max_connections(1).connect(url).await?;
                PgStore::migrator().run(&pool).await?;
                Side::Postgres(pool.begin_with(begin::<PgStore>(role)).await?)
            }
        })
    }

    pub(super) async fn execute(&mut self, sql: &str) -> anyhow::Result<()> {
        on_side!(self, tx => sqlx::query(sql).execute(&mut **tx).await.map(drop)?);
        Ok(())
    }

    /// Makes a server starting on the target meanwhile wait for the copy instead of
    /// creating a first organization and signing key of its own (PostgreSQL; on SQLite
    /// the write lock already does).
    pub(super) async fn lock_out_first_start(&mut self) -> anyhow::Result<()> {
        for lock in [LOCK_SIGNING_KEYS, LOCK_FIRST_ORGANIZATION, LOCK_MEMBERS] {
            on_side!(self, tx => B::exclusive(tx, lock).await?);
        }
        Ok(())
    }

    /// The data tables of the schema.
    async fn tables(&mut self) -> anyhow::Result<BTreeSet<String>> {
        let names: Vec<String> = on_side!(self, tx => {
            sqlx::query_scalar(B::CATALOG_TABLES).fetch_all(&mut **tx).await?
        });
        Ok(names
            .into_iter()
            .filter(|n| !NOT_COPIED.contains(&n.as_str()))
            .collect())
    }

    /// The tables `table` refers to with foreign keys.
    async fn parents(&mut self, table: &str) -> anyhow::Result<BTreeSet<String>> {
        let names: Vec<String> = on_side!(self, tx => {
            sqlx::query_scalar(B::CATALOG_PARENTS)
                .bind(table)
                .fetch_all(&mut **tx)
                .await?
        });
        Ok(names.into_iter().collect())
    }

    /// Fails unless [`TABLES`] lists exactly the schema's tables, parents first.
    pub(super) async fn check_tables(&mut self) -> anyhow::Result<()> {
        let present = self.tables().await?;
        let listed: BTreeSet<String> = TABLES.iter().map(|(t, _)| t.to_string()).collect();
        let uncovered: Vec<&String> = present.difference(&listed).collect();
        if !uncovered.is_empty() {
            bail!(
                "the schema has tables migrate does not copy: {uncovered:?} \
                 (add them to the resources! list in storage/mod.rs)"
            );
        }
        let absent: Vec<&String> = listed.difference(&present).collect();
        if !absent.is_empty() {
            bail!("storage::TABLES lists tables the schema lacks: {absent:?}");
        }
        for (position, (table, _)) in TABLES.iter().enumerate() {
            for parent in self.parents(table).await? {
                let earlier = TABLES[..position].iter().any(|(t, _)| *t == parent);
                if parent != *table && !earlier {
                    bail!(
                        "{table} refers to {parent}, which storage::TABLES lists after it: \
                         parents must come first"
                    );
                }
            }
        }
        Ok(())
    }

    pub(super) async fn columns(&mut self, table: &str) -> anyhow::Result<Vec<Column>> {
        let declared: Vec<(String, String)> = on_side!(self, tx => {
            sqlx::query_as(B::CATALOG_COLUMNS)
                .bind(table)
                .fetch_all(&mut **tx)
                .await?
        });
        if declared.is_empty() {
            bail!("table {table} does not exist");
        }
        declared
            .into_iter()
            .map(|(name, ty)| {
                let kind = kind_of(table, &name, &ty)?;
                Ok(Column { name, kind })
            })
            .collect()
    }

    pub(super) async fn count(&mut self, table: &str) -> anyhow::Result<u64> {
        let sql = format!("SELECT COUNT(*) FROM {}", quote(table));
        let n: i64 = on_side!(self, tx => sqlx::query_scalar(&sql).fetch_one(&mut **tx).await?);
        Ok(n as u64)
    }

    pub(super) async fn counts(&mut self) -> anyhow::Result<Vec<(&'static str, u64)>> {
        let mut counts = Vec::new();
        for (table, _) in TABLES {
            counts.push((*table, self.count(table).await?));
        }
        Ok(counts)
    }

    pub(super) fn rows<'a>(
        &'a mut self,
        select: &'a str,
        kinds: &'a [(Kind, Kind)],
    ) -> futures_util::stream::BoxStream<'a, anyhow::Result<Vec<Value>>> {
        on_side!(self, tx => {
            sqlx::query(select)
                .fetch(&mut **tx)
                .map(move |row| decode_row(&row?, kinds))
                .boxed()
        })
    }

    pub(super) async fn insert(
        &mut self,
        prefix: &str,
        kinds: &[(Kind, Kind)],
        rows: Vec<Vec<Value>>,
    ) -> anyhow::Result<()> {
        let sql = insert_sql(prefix, kinds.len(), rows.len());
        let values = rows
            .into_iter()
            .flat_map(|row| row.into_iter().zip(kinds.iter().map(|(_, to)| *to)));
        on_side!(self, tx => {
            let mut query = sqlx::query(&sql);
            for (value, kind) in values {
                query = bind(query, value, kind)?;
            }
            query.execute(&mut **tx).await?;
        });
        Ok(())
    }

    /// Moves PostgreSQL sequences (`audit_events.seq`) past the copied values, so new rows
    /// number after them. SQLite's AUTOINCREMENT already counts explicit values.
    pub(super) async fn after_copy(
        &mut self,
        table: &str,
        columns: &[Column],
    ) -> anyhow::Result<()> {
        let Side::Postgres(tx) = self else {
            return Ok(());
        };
        for column in columns {
            let sequence: Option<String> =
                sqlx::query_scalar("SELECT pg_get_serial_sequence($1, $2)")
                    .bind(quote(table))
                    .bind(&column.name)
                    .fetch_one(&mut **tx)
                    .await?;
            let Some(sequence) = sequence else { continue };
            let sql = format!(
                "SELECT setval($1::regclass, COALESCE((SELECT MAX({c}) FROM {t}), 0) + 1, false)",
                c = quote(&column.name),
                t = quote(table),
            );
            sqlx::query(&sql).bind(sequence).execute(&mut **tx).await?;
        }
        Ok(())
    }

    pub(super) async fn commit(self) -> anyhow::Result<()> {
        on_side!(self, tx => tx.commit().await?);
        Ok(())
    }
}

/// How the side's transaction begins: a snapshot to read, or the whole write.
fn begin<B: SqlBackend>(role: Role) -> &'static str {
    match role {
        Role::Source => B::BEGIN_SNAPSHOT,
        Role::Target => B::BEGIN_EXCLUSIVE,
    }
}
