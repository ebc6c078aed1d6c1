//! Whether a database URL holds a consoled installation, found out without writing
//! anything: operator commands refuse to work on a database that is not one, so a mistyped
//! `--data-dir` or `--database-url` is reported instead of becoming a new installation.
//!
//! An installation is a database with consoled's schema (its migrations table, the
//! `organizations` and `signing_keys` tables), at least one organization and at least one
//! signing key. The first start of `consoled serve` and `consoled init` create both; a
//! first start that stopped before it had created them left no installation.

use std::str::FromStr;

use anyhow::Context;
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{Connection, PgConnection, SqliteConnection};

use super::copy::redact_url;
use super::Engine;

/// What is missing from a database (on either backend's connection `$db`) that has
/// (`$schema`) or lacks consoled's tables.
macro_rules! absence {
    ($schema:expr, $db:ident) => {
        if !$schema {
            Some(Absence::NoSchema)
        } else {
            let filled: bool = sqlx::query_scalar(
                "SELECT EXISTS (SELECT 1 FROM organizations) \
                 AND EXISTS (SELECT 1 FROM signing_keys)",
            )
            .fetch_one(&mut $db)
            .await?;
            (!filled).then_some(Absence::Empty)
        }
    };
}

/// Why `url` names no installation, or `None` when it names one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Absence {
    /// No database file (SQLite).
    NoDatabase,
    /// A database without consoled's tables.
    NoSchema,
    /// The schema, but no organization or no signing key.
    Empty,
}

impl std::fmt::Display for Absence {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Absence::NoDatabase => "the database file does not exist",
            Absence::NoSchema => "the database has no consoled tables",
            Absence::Empty => "the database has no organization or no signing key",
        })
    }
}

/// Refuses a URL that names no installation, saying where it looked and why. Reads only:
/// a missing SQLite file, or its directory, is not created.
pub async fn require_installation(url: &str) -> anyhow::Result<()> {
    match find_installation(url).await? {
        None => Ok(()),
        Some(absence) => {
            let location = match sqlite_path(url)? {
                Some(path) => path.display().to_string(),
                None => redact_url(url),
            };
            anyhow::bail!("no consoled installation at {location}: {absence}")
        }
    }
}

/// `None` when `url` holds an installation; otherwise what is missing.
pub async fn find_installation(url: &str) -> anyhow::Result<Option<Absence>> {
    match Engine::of(url)? {
        Engine::Sqlite => {
            // Read-only and never created: an empty file stays empty.
            let options = super::sqlite::connect_options(url, None)?
                .create_if_missing(false)
                .read_only(true);
            let path = options.get_filename();
            if !path.is_file() {
                return Ok(Some(Absence::NoDatabase));
            }
            let mut db = SqliteConnection::connect_with(&options)
                .await
                .with_context(|| format!("opening {}", path.display()))?;
            let schema: bool = sqlx::query_scalar(
                "SELECT count(*) = 3 FROM sqlite_master WHERE type = 'table' \
                 AND name IN ('_sqlx_migrations', 'organizations', 'signing_keys')",
            )
            .fetch_one(&mut db)
            .await?;
            let found = absence!(schema, db);
            db.close().await?;
            Ok(found)
        }
        Engine::Postgres => {
            let mut db = PgConnection::connect(url)
                .await
                .with_context(|| format!("connecting to {}", redact_url(url)))?;
            let schema: bool = sqlx::query_scalar(
                "SELECT to_regclass('_sqlx_migrations') IS NOT NULL \
                 AND to_regclass('organizations') IS NOT NULL \
                 AND to_regclass('signing_keys') IS NOT NULL",
            )
            .fetch_one(&mut db)
            .await?;
            let found = absence!(schema, db);
            db.close().await?;
            Ok(found)
        }
    }
}

/// The file of a SQLite URL; `None` for any other URL.
fn sqlite_path(url: &str) -> anyhow::Result<Option<std::path::PathBuf>> {
    match Engine::of(url)? {
        Engine::Sqlite => Ok(Some(
            SqliteConnectOptions::from_str(url)?
                .get_filename()
                .to_path_buf(),
        )),
        Engine::Postgres => Ok(None),
    }
}
