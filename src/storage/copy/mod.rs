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
//! The columns are read from the target's schema, so a new column needs nothing here, and
//! the tables are those of the `resources!` list in `storage/mod.rs`; a table missing there
//! fails every copy (and the test that runs one), naming it.
//!
//! `side` holds the two databases, `values` what is read and written.

mod side;
mod values;

use std::collections::BTreeSet;

use anyhow::{bail, Context};
use futures_util::TryStreamExt;

use side::{Role, Side};
use values::{Column, Kind, RowsOf};

pub use super::TABLES;

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

    #[tokio::test]
    async fn the_tables_cover_the_sqlite_schema_parents_first() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("schema.db").display());
        check_schema(&url).await.unwrap();
    }
}
