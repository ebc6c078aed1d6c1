//! What a copy reads and writes: the kinds of columns, values as read, and the statements
//! and errors made of them.

use anyhow::bail;
use sqlx::{Database, Decode, Encode, Row, Type};

/// What a column holds, from its declared type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Text,
    Int,
    Int32,
    Real,
    Bool,
    Bytes,
}

#[derive(Debug, Clone)]
pub(super) struct Column {
    pub(super) name: String,
    pub(super) kind: Kind,
}

pub(super) fn kind_of(table: &str, column: &str, declared: &str) -> anyhow::Result<Kind> {
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
pub(super) enum Value {
    Text(Option<String>),
    Int(Option<i64>),
    Real(Option<f64>),
    Bool(Option<bool>),
    Bytes(Option<Vec<u8>>),
}

pub(super) fn decode_row<'r, R: Row>(
    row: &'r R,
    kinds: &[(Kind, Kind)],
) -> anyhow::Result<Vec<Value>>
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

pub(super) fn bind<'q, DB: Database>(
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
pub(super) fn insert_sql(prefix: &str, width: usize, rows: usize) -> String {
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
pub(super) struct RowsOf<'a> {
    pub(super) table: &'a str,
    /// The columns that identify a row (the table's entry in [`TABLES`]).
    pub(super) key: &'a str,
    /// In the order of the values of a row.
    pub(super) columns: &'a [Column],
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
    pub(super) fn check_storable_in_postgres(&self, row: &[Value]) -> anyhow::Result<()> {
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
