//! `consoled migrate`: copies an installation into another database and reports the row
//! count of every table (a table by default, JSON with `--json`).

use serde::Serialize;

use super::table;
use crate::config::MigrateArgs;
use crate::storage::copy::{self, CopyOptions, TableCount};

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
