//! `consoled migrate`: copies an installation into another database and reports the row
//! count of every table (a table by default, JSON with `--json`).

use clap::Args;
use serde::Serialize;

use super::table;
use crate::storage::copy::{self, CopyOptions, TableCount};

/// `consoled migrate --from URL --to URL`
#[derive(Debug, Clone, Args)]
pub struct MigrateArgs {
    /// The database to copy from (`sqlite://PATH` or `postgres://...`). Its schema is
    /// brought up to date first, as `consoled serve` would; it is otherwise only read.
    #[arg(long)]
    pub from: String,

    /// The database to copy into; it must be empty. A SQLite file is created if missing;
    /// a PostgreSQL database must exist (its tables are created).
    #[arg(long)]
    pub to: String,

    /// Delete everything in the target first, in the same transaction as the copy,
    /// instead of refusing a target that has data (e.g. from a server started on it).
    #[arg(long)]
    pub replace_target: bool,

    /// Print the report as JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Report<'a> {
    from: String,
    to: String,
    tables: &'a [TableCount],
    rows: u64,
    replaced_rows: u64,
}

pub async fn run(args: MigrateArgs) -> anyhow::Result<()> {
    let options = CopyOptions {
        replace_target: args.replace_target,
    };
    let report = copy::copy(&args.from, &args.to, options).await?;
    let (from, to) = (copy::redact_url(&args.from), copy::redact_url(&args.to));
    if args.json {
        let json = Report {
            from,
            to,
            tables: &report.tables,
            rows: report.rows(),
            replaced_rows: report.replaced,
        };
        println!("{}", serde_json::to_string_pretty(&json)?);
        return Ok(());
    }
    let mut rows: Vec<Vec<String>> = report
        .tables
        .iter()
        .map(|t| {
            vec![
                t.table.to_string(),
                t.source.to_string(),
                t.target.to_string(),
            ]
        })
        .collect();
    let total: u64 = report.tables.iter().map(|t| t.source).sum();
    rows.push(vec![
        "total".into(),
        total.to_string(),
        report.rows().to_string(),
    ]);
    print!("{}", table::render(&["TABLE", "SOURCE", "TARGET"], &rows));
    if report.replaced > 0 {
        println!(
            "Deleted the {} rows the target had before.",
            report.replaced
        );
    }
    println!(
        "Copied {} rows from {from} to {to}; every table's count matches.\n\
         Start the servers on the target with the same master key (CONSOLED_MASTER_KEY, \
         or the master.key file of the data dir).",
        report.rows()
    );
    Ok(())
}
