//! `consoled migrate`: copies every row of one database into another, empty one — SQLite to
//! PostgreSQL, or back, or between two databases of the same kind.
//!
//! Values are copied as stored: hashes of client secrets and everything sealed under the
//! master key stay valid, because the server on the target runs with the same master key.
//! Both schemas are brought up to date with this build's migrations first (as `serve`
//! would), then every table of [`TABLES`] is copied, parents first, in one transaction on
//! the target, read from one consistent snapshot of the source. The row count of every
//! table is compared between the source snapshot and the target before the target commits;
//! any difference rolls the whole copy back. So does a row the target cannot store (on
//! PostgreSQL: text with a NUL, which SQLite holds), named by its table and key.
//!
//! The columns are read from the target's schema, so a new column needs nothing here. A new
//! table is one line in [`TABLES`]; until it is there, every copy (and the test that runs
//! one) fails naming it.

use std::collections::BTreeSet;
use std::str::FromStr;
use std::time::Duration;

use anyhow::{bail, Context};
use futures_util::{StreamExt, TryStreamExt};
use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Database, Decode, Encode, Postgres, Row, Sqlite, Transaction, Type};

use super::sql_prelude::{LOCK_FIRST_ORGANIZATION, LOCK_MEMBERS, LOCK_SIGNING_KEYS};

/// Every table of the schema, parents before the tables that refer to them, with the
/// columns its rows are copied in order of. Adding a table to the migrations means adding
/// it here.
pub const TABLES: &[(&str, &str)] = &[
    ("organizations", "id"),
    ("api_clients", "client_id"),
    ("signing_keys", "kid"),
    ("members", "org_id, email"),
    ("clusters", "id"),
    ("zeebe_clients", "id"),
    ("connector_secrets", "cluster_id, name"),
    ("backups", "id"),
    ("monitoring", "cluster_id"),
    ("monitoring_clients", "id"),
    ("secure_connectivity", "cluster_id"),
    // In `seq` order, with `seq` copied: the activity keeps its order, and new records
    // on the target come after the copied ones.
    ("audit_events", "seq"),
];

/// Tables of the database that are not data: the migrations' own bookkeeping, which each
/// side keeps for itself.
const NOT_COPIED: &[&str] = &["_sqlx_migrations"];

/// Parameters per INSERT statement (SQLite allows 32766, PostgreSQL 65535).
const PARAMETERS_PER_INSERT: usize = 1000;

#[derive(Debug, Clone, Copy, Default)]
pub struct CopyOptions {
    /// Delete every row of the target first (in the same transaction) instead of
    /// refusing a target that has data.
    pub replace_target: bool,
}

/// Rows of one table in the source snapshot and in the target after the copy.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TableCount {
    pub table: &'static str,
    pub source: u64,
    pub target: u64,
}

#[derive(Debug, Clone)]
pub struct CopyReport {
    /// In [`TABLES`] order.
    pub tables: Vec<TableCount>,
    /// Rows the target had before (and lost) with `replace_target`.
    pub replaced: u64,
}

impl CopyReport {
    pub fn rows(&self) -> u64 {
        self.tables.iter().map(|t| t.target).sum()
    }
}

/// Copies every table of `from` into `to`; see the module documentation.
pub async fn copy(from: &str, to: &str, options: CopyOptions) -> anyhow::Result<CopyReport> {
    if from.trim() == to.trim() {
        bail!("--from and --to name the same database");
    }
    // Before anything is opened: a mistyped or empty source must not get a schema, nor
    // cause the target to be created.
    super::require_installation(from)
        .await
        .context("the source (--from)")?;
    let mut source = Side::open(from, Role::Source)
        .await
        .with_context(|| format!("opening the source {}", redact_url(from)))?;
    let mut target = Side::open(to, Role::Target)
        .await
        .with_context(|| format!("opening the target {}", redact_url(to)))?;

    source.check_tables().await.context("the source")?;
    target.check_tables().await.context("the target")?;
    target.lock_out_first_start().await?;

    let mut replaced = 0;
    let present = target.counts().await?;
    let occupied: Vec<String> = present
        .iter()
        .filter(|(_, n)| *n > 0)
        .map(|(table, n)| format!("{table}: {n}"))
        .collect();
    if !occupied.is_empty() {
        if !options.replace_target {
            bail!(
                "the target database is not empty ({}); a server may already have started on \
                 it. Pass --replace-target to delete its contents first",
                occupied.join(", ")
            );
        }
        for (table, _) in TABLES.iter().rev() {
            target
                .execute(&format!("DELETE FROM {}", quote(table)))
                .await?;
        }
        replaced = present.iter().map(|(_, n)| n).sum();
    }

    let mut tables = Vec::new();
    for (table, order_by) in TABLES {
        let columns = target.columns(table).await?;
        let source_columns = source.columns(table).await?;
        let names = |cs: &[Column]| cs.iter().map(|c| c.name.clone()).collect::<BTreeSet<_>>();
        if names(&columns) != names(&source_columns) {
            bail!(
                "table {table} has the columns {:?} in the source but {:?} in the target",
                names(&source_columns),
                names(&columns)
            );
        }
        // Decoded as the source stores them, encoded as the target does.
        let kinds: Vec<(Kind, Kind)> = columns
            .iter()
            .map(|c| {
                let from = source_columns.iter().find(|s| s.name == c.name).unwrap();
                (from.kind, c.kind)
            })
            .collect();
        let list = columns
            .iter()
            .map(|c| quote(&c.name))
            .collect::<Vec<_>>()
            .join(", ");
        let select = format!("SELECT {list} FROM {} ORDER BY {order_by}", quote(table));
        let insert = format!("INSERT INTO {} ({list}) VALUES ", quote(table));
        let rows = RowsOf {
            table,
            key: order_by,
            columns: &columns,
        };
        let copied = copy_rows(&mut source, &mut target, &select, &insert, &kinds, &rows)
            .await
            .with_context(|| format!("copying {table}; nothing was copied"))?;
        target.after_copy(table, &columns).await?;

        let source_count = source.count(table).await?;
        let target_count = target.count(table).await?;
        if source_count != copied || target_count != copied {
            bail!(
                "table {table}: the source has {source_count} rows, {copied} were copied and \
                 the target has {target_count}; nothing was committed"
            );
        }
        tables.push(TableCount {
            table,
            source: source_count,
            target: target_count,
        });
    }
    target.commit().await.context("committing the target")?;
    source.commit().await?;
    Ok(CopyReport { tables, replaced })
}

/// Checks that [`TABLES`] covers every table of the schema `url` has after this build's
/// migrations, parents before children (applying the migrations if needed).
pub async fn check_schema(url: &str) -> anyhow::Result<()> {
    let mut side = Side::open(url, Role::Target).await?;
    side.check_tables().await
}

/// `url` without its password, for messages.
pub fn redact_url(url: &str) -> String {
    let Some(scheme_end) = url.find("://").map(|i| i + 3) else {
        return url.to_string();
    };
    let rest = &url[scheme_end..];
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    match authority.rfind('@') {
        Some(at) => match authority[..at].find(':') {
            Some(colon) => format!(
                "{}{}:***{}",
                &url[..scheme_end],
                &authority[..colon],
                &rest[at..]
            ),
            None => url.to_string(),
        },
        None => url.to_string(),
    }
}

/// A double-quoted SQL identifier (table and column names come from the schema).
fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Source,
    Target,
}

/// What a column holds, from its declared type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Text,
    Int,
    Int32,
    Real,
    Bool,
    Bytes,
}

#[derive(Debug, Clone)]
struct Column {
    name: String,
    kind: Kind,
}

fn kind_of(table: &str, column: &str, declared: &str) -> anyhow::Result<Kind> {
    Ok(match declared.to_ascii_lowercase().as_str() {
        "text" | "character varying" | "varchar" => Kind::Text,
        // SQLite's INTEGER is 64 bits wide.
        "integer" | "bigint" | "int8" => Kind::Int,
        "int4" | "smallint" => Kind::Int32,
        "real" | "double precision" | "float8" => Kind::Real,
        "boolean" | "bool" => Kind::Bool,
        "blob" | "bytea" => Kind::Bytes,
        other => {
            bail!("column {table}.{column} has the type {other:?}, which migrate does not know")
        }
    })
}

/// One value as read, ready to be written.
#[derive(Debug, Clone)]
enum Value {
    Text(Option<String>),
    Int(Option<i64>),
    Real(Option<f64>),
    Bool(Option<bool>),
    Bytes(Option<Vec<u8>>),
}

fn decode_row<'r, R: Row>(row: &'r R, kinds: &[(Kind, Kind)]) -> anyhow::Result<Vec<Value>>
where
    usize: sqlx::ColumnIndex<R>,
    Option<String>: Decode<'r, R::Database> + Type<R::Database>,
    Option<i64>: Decode<'r, R::Database> + Type<R::Database>,
    Option<i32>: Decode<'r, R::Database> + Type<R::Database>,
    Option<f64>: Decode<'r, R::Database> + Type<R::Database>,
    Option<bool>: Decode<'r, R::Database> + Type<R::Database>,
    Option<Vec<u8>>: Decode<'r, R::Database> + Type<R::Database>,
{
    kinds
        .iter()
        .enumerate()
        .map(|(i, (kind, _))| {
            Ok(match kind {
                Kind::Text => Value::Text(row.try_get(i)?),
                Kind::Int => Value::Int(row.try_get(i)?),
                Kind::Int32 => Value::Int(row.try_get::<Option<i32>, _>(i)?.map(i64::from)),
                Kind::Real => Value::Real(row.try_get(i)?),
                Kind::Bool => Value::Bool(row.try_get(i)?),
                Kind::Bytes => Value::Bytes(row.try_get(i)?),
            })
        })
        .collect()
}

type Query<'q, DB> = sqlx::query::Query<'q, DB, <DB as Database>::Arguments<'q>>;

fn bind<'q, DB: Database>(
    query: Query<'q, DB>,
    value: Value,
    kind: Kind,
) -> anyhow::Result<Query<'q, DB>>
where
    Option<String>: Encode<'q, DB> + Type<DB>,
    Option<i64>: Encode<'q, DB> + Type<DB>,
    Option<i32>: Encode<'q, DB> + Type<DB>,
    Option<f64>: Encode<'q, DB> + Type<DB>,
    Option<bool>: Encode<'q, DB> + Type<DB>,
    Option<Vec<u8>>: Encode<'q, DB> + Type<DB>,
{
    Ok(match (value, kind) {
        (Value::Text(v), Kind::Text) => query.bind(v),
        (Value::Int(v), Kind::Int) => query.bind(v),
        (Value::Int(v), Kind::Int32) => query.bind(v.map(i32::try_from).transpose()?),
        (Value::Real(v), Kind::Real) => query.bind(v),
        (Value::Bool(v), Kind::Bool) => query.bind(v),
        (Value::Bytes(v), Kind::Bytes) => query.bind(v),
        (value, kind) => bail!("cannot store {value:?} in a column of kind {kind:?}"),
    })
}

/// An INSERT of `rows` rows of `width` values: `prefix` followed by the placeholders.
fn insert_sql(prefix: &str, width: usize, rows: usize) -> String {
    let mut sql = String::from(prefix);
    for r in 0..rows {
        if r > 0 {
            sql.push_str(", ");
        }
        sql.push('(');
        for c in 0..width {
            if c > 0 {
                sql.push_str(", ");
            }
            sql.push_str(&format!("${}", r * width + c + 1));
        }
        sql.push(')');
    }
    sql
}

/// The table being copied, for naming a row in an error.
struct RowsOf<'a> {
    table: &'a str,
    /// The columns that identify a row (the table's entry in [`TABLES`]).
    key: &'a str,
    /// In the order of the values of a row.
    columns: &'a [Column],
}

impl RowsOf<'_> {
    /// `id "…"`, or `org_id "…", email "…"`: the key columns of `row`.
    fn identify(&self, row: &[Value]) -> String {
        self.key
            .split(',')
            .map(str::trim)
            .map(|key| {
                let value = self
                    .columns
                    .iter()
                    .position(|c| c.name == key)
                    .map(|i| match &row[i] {
                        Value::Text(Some(v)) => format!("{v:?}"),
                        Value::Int(Some(v)) => v.to_string(),
                        other => format!("{other:?}"),
                    })
                    .unwrap_or_default();
                format!("{key} {value}")
            })
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// PostgreSQL cannot store a NUL in text (SQLite can, and versions before the rule
    /// against it let one in): such a row is named instead of failing a whole INSERT
    /// with a message that names no row.
    fn check_storable_in_postgres(&self, row: &[Value]) -> anyhow::Result<()> {
        for (column, value) in self.columns.iter().zip(row) {
            if let Value::Text(Some(text)) = value {
                if text.contains('\0') {
                    bail!(
                        "table {}, row {}: column {} holds a NUL character (U+0000), which \
                         PostgreSQL cannot store. Remove it from that row of the source and \
                         migrate again",
                        self.table,
                        self.identify(row),
                        column.name
                    );
                }
            }
        }
        Ok(())
    }
}

/// Streams the rows of `select` from the source into the target in multi-row INSERTs;
/// returns how many were copied.
async fn copy_rows(
    source: &mut Side,
    target: &mut Side,
    select: &str,
    insert: &str,
    kinds: &[(Kind, Kind)],
    of: &RowsOf<'_>,
) -> anyhow::Result<u64> {
    let per_insert = (PARAMETERS_PER_INSERT / kinds.len().max(1)).max(1);
    let to_postgres = matches!(target, Side::Postgres(_));
    let mut rows = source.rows(select, kinds);
    let mut batch = Vec::with_capacity(per_insert);
    let mut copied = 0;
    while let Some(row) = rows.try_next().await? {
        if to_postgres {
            of.check_storable_in_postgres(&row)?;
        }
        batch.push(row);
        if batch.len() == per_insert {
            copied += batch.len() as u64;
            target
                .insert(insert, kinds, std::mem::take(&mut batch))
                .await?;
        }
    }
    if !batch.is_empty() {
        copied += batch.len() as u64;
        target.insert(insert, kinds, batch).await?;
    }
    Ok(copied)
}

/// One database, inside the transaction the copy runs in: a snapshot for the source, the
/// whole write for the target.
enum Side {
    Sqlite(Transaction<'static, Sqlite>),
    Postgres(Transaction<'static, Postgres>),
}

impl Side {
    async fn open(url: &str, role: Role) -> anyhow::Result<Side> {
        if url.starts_with("sqlite:") {
            let mut options = SqliteConnectOptions::from_str(url)?
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(5));
            if role == Role::Target {
                // As `serve` opens it; a mistyped source must not become an empty database.
                options = options
                    .create_if_missing(true)
                    .journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Full);
                if let Some(parent) = options.get_filename().parent() {
                    if !parent.as_os_str().is_empty() {
                        std::fs::create_dir_all(parent)?;
                    }
                }
            }
            let pool = SqlitePoolOptions::new()
                .max_connections(1)
                .connect_with(options)
                .await?;
            super::sqlite::MIGRATOR.run(&pool).await?;
            // A deferred transaction reads one snapshot; an immediate one holds the write
            // lock from the start, so a server writing meanwhile waits for the copy.
            let begin = match role {
                Role::Source => "BEGIN",
                Role::Target => "BEGIN IMMEDIATE",
            };
            Ok(Side::Sqlite(pool.begin_with(begin).await?))
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            let pool: PgPool = PgPoolOptions::new().max_connections(1).connect(url).await?;
            super::postgres::MIGRATOR.run(&pool).await?;
            let begin = match role {
                Role::Source => "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
                Role::Target => "BEGIN",
            };
            Ok(Side::Postgres(pool.begin_with(begin).await?))
        } else {
            bail!("unsupported database URL {url:?}: use sqlite://PATH or postgres://...")
        }
    }

    async fn execute(&mut self, sql: &str) -> anyhow::Result<()> {
        match self {
            Side::Sqlite(tx) => sqlx::query(sql).execute(&mut **tx).await.map(drop)?,
            Side::Postgres(tx) => sqlx::query(sql).execute(&mut **tx).await.map(drop)?,
        }
        Ok(())
    }

    /// Makes a server starting on the target meanwhile wait for the copy instead of
    /// creating a first organization and signing key of its own (PostgreSQL; on SQLite
    /// the write lock already does).
    async fn lock_out_first_start(&mut self) -> anyhow::Result<()> {
        if let Side::Postgres(tx) = self {
            for lock in [LOCK_SIGNING_KEYS, LOCK_FIRST_ORGANIZATION, LOCK_MEMBERS] {
                sqlx::query("SELECT pg_advisory_xact_lock($1)")
                    .bind(lock)
                    .execute(&mut **tx)
                    .await?;
            }
        }
        Ok(())
    }

    /// The data tables of the schema.
    async fn tables(&mut self) -> anyhow::Result<BTreeSet<String>> {
        let names: Vec<String> = match self {
            Side::Sqlite(tx) => {
                sqlx::query_scalar(
                    "SELECT name FROM sqlite_master WHERE type = 'table' \
                     AND name NOT LIKE 'sqlite_%'",
                )
                .fetch_all(&mut **tx)
                .await?
            }
            Side::Postgres(tx) => {
                sqlx::query_scalar(
                    "SELECT table_name::text FROM information_schema.tables \
                     WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'",
                )
                .fetch_all(&mut **tx)
                .await?
            }
        };
        Ok(names
            .into_iter()
            .filter(|n| !NOT_COPIED.contains(&n.as_str()))
            .collect())
    }

    /// The tables `table` refers to with foreign keys.
    async fn parents(&mut self, table: &str) -> anyhow::Result<BTreeSet<String>> {
        let names: Vec<String> = match self {
            Side::Sqlite(tx) => {
                sqlx::query_scalar("SELECT \"table\" FROM pragma_foreign_key_list($1)")
                    .bind(table)
                    .fetch_all(&mut **tx)
                    .await?
            }
            Side::Postgres(tx) => {
                sqlx::query_scalar(
                    "SELECT p.relname::text FROM pg_constraint c \
                     JOIN pg_class t ON t.oid = c.conrelid \
                     JOIN pg_class p ON p.oid = c.confrelid \
                     WHERE c.contype = 'f' AND t.relname = $1 \
                     AND t.relnamespace = current_schema()::regnamespace",
                )
                .bind(table)
                .fetch_all(&mut **tx)
                .await?
            }
        };
        Ok(names.into_iter().collect())
    }

    /// Fails unless [`TABLES`] lists exactly the schema's tables, parents first.
    async fn check_tables(&mut self) -> anyhow::Result<()> {
        let present = self.tables().await?;
        let listed: BTreeSet<String> = TABLES.iter().map(|(t, _)| t.to_string()).collect();
        let uncovered: Vec<&String> = present.difference(&listed).collect();
        if !uncovered.is_empty() {
            bail!(
                "the schema has tables migrate does not copy: {uncovered:?} \
                 (add them to storage::copy::TABLES)"
            );
        }
        let absent: Vec<&String> = listed.difference(&present).collect();
        if !absent.is_empty() {
            bail!("storage::copy::TABLES lists tables the schema lacks: {absent:?}");
        }
        for (position, (table, _)) in TABLES.iter().enumerate() {
            for parent in self.parents(table).await? {
                let earlier = TABLES[..position].iter().any(|(t, _)| *t == parent);
                if parent != *table && !earlier {
                    bail!(
                        "{table} refers to {parent}, which storage::copy::TABLES lists after \
                         it: parents must come first"
                    );
                }
            }
        }
        Ok(())
    }

    async fn columns(&mut self, table: &str) -> anyhow::Result<Vec<Column>> {
        let declared: Vec<(String, String)> =
            match self {
                Side::Sqlite(tx) => {
                    sqlx::query_as("SELECT name, type FROM pragma_table_info($1) ORDER BY cid")
                        .bind(table)
                        .fetch_all(&mut **tx)
                        .await?
                }
                Side::Postgres(tx) => sqlx::query_as(
                    "SELECT column_name::text, data_type::text FROM information_schema.columns \
                     WHERE table_schema = current_schema() AND table_name = $1 \
                     ORDER BY ordinal_position",
                )
                .bind(table)
                .fetch_all(&mut **tx)
                .await?,
            };
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

    async fn count(&mut self, table: &str) -> anyhow::Result<u64> {
        let sql = format!("SELECT COUNT(*) FROM {}", quote(table));
        let n: i64 = match self {
            Side::Sqlite(tx) => sqlx::query_scalar(&sql).fetch_one(&mut **tx).await?,
            Side::Postgres(tx) => sqlx::query_scalar(&sql).fetch_one(&mut **tx).await?,
        };
        Ok(n as u64)
    }

    async fn counts(&mut self) -> anyhow::Result<Vec<(&'static str, u64)>> {
        let mut counts = Vec::new();
        for (table, _) in TABLES {
            counts.push((*table, self.count(table).await?));
        }
        Ok(counts)
    }

    fn rows<'a>(
        &'a mut self,
        select: &'a str,
        kinds: &'a [(Kind, Kind)],
    ) -> futures_util::stream::BoxStream<'a, anyhow::Result<Vec<Value>>> {
        match self {
            Side::Sqlite(tx) => sqlx::query(select)
                .fetch(&mut **tx)
                .map(move |row| decode_row(&row?, kinds))
                .boxed(),
            Side::Postgres(tx) => sqlx::query(select)
                .fetch(&mut **tx)
                .map(move |row| decode_row(&row?, kinds))
                .boxed(),
        }
    }

    async fn insert(
        &mut self,
        prefix: &str,
        kinds: &[(Kind, Kind)],
        rows: Vec<Vec<Value>>,
    ) -> anyhow::Result<()> {
        let sql = insert_sql(prefix, kinds.len(), rows.len());
        let values = rows
            .into_iter()
            .flat_map(|row| row.into_iter().zip(kinds.iter().map(|(_, to)| *to)));
        match self {
            Side::Sqlite(tx) => {
                let mut query = sqlx::query(&sql);
                for (value, kind) in values {
                    query = bind(query, value, kind)?;
                }
                query.execute(&mut **tx).await?;
            }
            Side::Postgres(tx) => {
                let mut query = sqlx::query(&sql);
                for (value, kind) in values {
                    query = bind(query, value, kind)?;
                }
                query.execute(&mut **tx).await?;
            }
        }
        Ok(())
    }

    /// Moves PostgreSQL sequences (`audit_events.seq`) past the copied values, so new rows
    /// number after them. SQLite's AUTOINCREMENT already counts explicit values.
    async fn after_copy(&mut self, table: &str, columns: &[Column]) -> anyhow::Result<()> {
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

    async fn commit(self) -> anyhow::Result<()> {
        match self {
            Side::Sqlite(tx) => tx.commit().await?,
            Side::Postgres(tx) => tx.commit().await?,
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            redact_url("postgres://app:s3cret@db.example:5432/consoled?sslmode=require"),
            "postgres://app:***@db.example:5432/consoled?sslmode=require"
        );
        assert_eq!(
            redact_url("postgres://postgres@127.0.0.1/x"),
            "postgres://postgres@127.0.0.1/x"
        );
        assert_eq!(
            redact_url("sqlite://data/consoled.db"),
            "sqlite://data/consoled.db"
        );
    }

    #[test]
    fn a_row_postgresql_cannot_store_is_named_by_its_key() {
        let columns = [
            Column {
                name: "org_id".into(),
                kind: Kind::Text,
            },
            Column {
                name: "email".into(),
                kind: Kind::Text,
            },
            Column {
                name: "name".into(),
                kind: Kind::Text,
            },
        ];
        let of = RowsOf {
            table: "members",
            key: "org_id, email",
            columns: &columns,
        };
        let text = |v: &str| Value::Text(Some(v.into()));
        let fine = [text("o1"), text("a@example.com"), text("A")];
        assert!(of.check_storable_in_postgres(&fine).is_ok());
        let broken = [text("o1"), text("a@example.com"), text("A\0B")];
        let err = of
            .check_storable_in_postgres(&broken)
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with(
                "table members, row org_id \"o1\", email \"a@example.com\": column name holds a NUL"
            ),
            "{err}"
        );
    }

    #[test]
    fn inserts_number_their_placeholders() {
        assert_eq!(
            insert_sql("INSERT INTO t (a, b) VALUES ", 2, 2),
            "INSERT INTO t (a, b) VALUES ($1, $2), ($3, $4)"
        );
    }

    #[tokio::test]
    async fn the_tables_cover_the_sqlite_schema_parents_first() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("schema.db").display());
        check_schema(&url).await.unwrap();
    }
}
