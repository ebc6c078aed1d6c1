//! The organization's activity (`/console/activity`): the audit trail, newest first, a page
//! at a time, narrowed by filters in the query string (actor, kind of change, kind of
//! resource, text, a range of days), and the same selection as CSV
//! (`/console/activity.csv`, written by the API's `to_csv`, formula cells defused).
//!
//! The filters are applied by the store's query (`audit_search`); the next page continues
//! below the last record shown (`before`), so records arriving meanwhile do not shift it.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use time::macros::format_description;

use super::session::SignedIn;
use super::{internal_error, not_allowed, page, Layout, ACTIVITY_PATH};
use crate::domain::audit::{AuditEntry, AuditType};
use crate::domain::permissions::{may, Action};
use crate::domain::text::check_stored;
use crate::domain::Timestamp;
use crate::http::activity::{to_csv, AuditDto, MAX_EVENTS};
use crate::http::AppState;
use crate::storage::AuditFilter;

/// Records on one page.
const PAGE_SIZE: i64 = 50;

/// The kinds of resource the activity records, offered as suggestions for the filter
/// (any value can be typed).
const RESOURCES: &[&str] = &[
    "apiClient",
    "backup",
    "client",
    "cluster",
    "member",
    "monitoring",
    "monitoringClient",
    "organization",
    "secret",
    "secureConnectivity",
];

/// The filters, as the form sends them (empty fields mean "any").
#[derive(Debug, Default, Clone, Deserialize, Serialize)]
#[serde(default)]
pub struct ActivityQuery {
    actor: String,
    #[serde(rename = "type")]
    kind: String,
    resource: String,
    q: String,
    /// First day, `YYYY-MM-DD` (UTC).
    from: String,
    /// Last day, `YYYY-MM-DD` (UTC), included.
    to: String,
    /// Continue below this record (the next page); not part of the CSV's selection.
    #[serde(skip_serializing_if = "Option::is_none")]
    before: Option<i64>,
}

fn nonempty(text: &str) -> Option<String> {
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_string())
}

/// Midnight (UTC) at the start of a `YYYY-MM-DD` day.
fn day_start(text: &str) -> Result<Timestamp, String> {
    let day = time::Date::parse(text, format_description!("[year]-[month]-[day]"))
        .map_err(|_| format!("{text:?} is not a date (YYYY-MM-DD)"))?;
    Ok(Timestamp(
        day.midnight().assume_utc().unix_timestamp() * 1000,
    ))
}

impl ActivityQuery {
    /// The store's filter, or why the query cannot be one.
    fn filter(&self) -> Result<AuditFilter, String> {
        // Nothing stored holds a NUL, and PostgreSQL refuses to compare with one.
        for (field, value) in [
            ("The actor", &self.actor),
            ("The resource", &self.resource),
            ("The text", &self.q),
        ] {
            check_stored(field, value).map_err(|e| e.to_string())?;
        }
        let audit_type = match nonempty(&self.kind) {
            None => None,
            Some(code) => Some(
                AuditType::from_code(&code)
                    .ok_or_else(|| format!("{code:?} is not a kind of change"))?,
            ),
        };
        let from = nonempty(&self.from).map(|d| day_start(&d)).transpose()?;
        // The last day is included: up to the start of the day after.
        let until = nonempty(&self.to)
            .map(|d| day_start(&d).map(|t| Timestamp(t.millis() + 86_400_000)))
            .transpose()?;
        Ok(AuditFilter {
            actor: nonempty(&self.actor),
            audit_type,
            entity: nonempty(&self.resource),
            text: nonempty(&self.q),
            from,
            until,
            before: self.before,
        })
    }

    fn query_string(&self) -> String {
        serde_urlencoded::to_string(self).unwrap_or_default()
    }
}

struct EventRow {
    time: String,
    actor: String,
    /// The actor's records only: the page with this actor as filter.
    actor_href: String,
    kind: &'static str,
    description: String,
    target: String,
    change: Option<String>,
}

fn kind_label(kind: AuditType) -> &'static str {
    match kind {
        AuditType::Create => "Create",
        AuditType::Read => "Read",
        AuditType::Update => "Update",
        AuditType::Delete => "Delete",
    }
}

fn event_row(e: AuditEntry) -> EventRow {
    let target = match (&e.parent_entity, &e.parent_entity_id) {
        (Some(parent), Some(parent_id)) => {
            format!("{} {} (of {parent} {parent_id})", e.entity, e.entity_id)
        }
        _ => format!("{} {}", e.entity, e.entity_id),
    };
    let change = e.entity_attribute.as_ref().map(|attribute| {
        format!(
            "{attribute}: {} → {}",
            e.value_from.as_deref().unwrap_or("–"),
            e.value_to.as_deref().unwrap_or("–")
        )
    });
    let actor_filter = ActivityQuery {
        actor: e.user_id.clone(),
        ..ActivityQuery::default()
    };
    EventRow {
        time: e.timestamp.to_rfc3339(),
        actor_href: format!("{ACTIVITY_PATH}?{}", actor_filter.query_string()),
        actor: e.user_id,
        kind: kind_label(e.audit_type),
        description: e.audit,
        target,
        change,
    }
}

struct KindChoice {
    value: &'static str,
    label: &'static str,
    selected: bool,
}

#[derive(Template)]
#[template(path = "activity.html")]
struct ActivityPage {
    layout: Layout,
    query: ActivityQuery,
    kinds: Vec<KindChoice>,
    resources: &'static [&'static str],
    events: Vec<EventRow>,
    error: Option<String>,
    filtered: bool,
    /// The next (older) page, when there is one.
    older_href: Option<String>,
    /// The first page, when this is a later one.
    newest_href: Option<String>,
    csv_href: String,
}

pub async fn activity_page(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Query(query): Query<ActivityQuery>,
) -> Response {
    if !may(&signed_in.member.roles, Action::ReadActivity) {
        return not_allowed(Action::ReadActivity.as_str());
    }
    let (status, error, events, older_href) = match query.filter() {
        Err(error) => (StatusCode::BAD_REQUEST, Some(error), Vec::new(), None),
        Ok(filter) => {
            // One more than a page says whether there is an older page.
            let mut found = match state
                .store
                .audit_search(&signed_in.member.org_id, &filter, PAGE_SIZE + 1)
                .await
            {
                Ok(found) => found,
                Err(e) => return internal_error(e),
            };
            let older = if found.len() as i64 > PAGE_SIZE {
                found.truncate(PAGE_SIZE as usize);
                let next = ActivityQuery {
                    before: found.last().map(|(seq, _)| *seq),
                    ..query.clone()
                };
                Some(format!("{ACTIVITY_PATH}?{}", next.query_string()))
            } else {
                None
            };
            (StatusCode::OK, None, found, older)
        }
    };
    let first_page = ActivityQuery {
        before: None,
        ..query.clone()
    };
    let body = ActivityPage {
        layout: Layout::signed_in(&signed_in),
        kinds: AuditType::ALL
            .iter()
            .map(|k| KindChoice {
                value: k.code(),
                label: kind_label(*k),
                selected: query.kind == k.code(),
            })
            .collect(),
        resources: RESOURCES,
        events: events.into_iter().map(|(_, e)| event_row(e)).collect(),
        error,
        filtered: first_page.query_string() != ActivityQuery::default().query_string(),
        older_href,
        newest_href: query
            .before
            .map(|_| format!("{ACTIVITY_PATH}?{}", first_page.query_string())),
        csv_href: format!("{ACTIVITY_PATH}.csv?{}", first_page.query_string()),
        query,
    };
    page(status, &body)
}

/// The selected records (all pages, at most the API's limit) as a CSV download.
pub async fn activity_csv(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Query(query): Query<ActivityQuery>,
) -> Response {
    if !may(&signed_in.member.roles, Action::ReadActivity) {
        return not_allowed(Action::ReadActivity.as_str());
    }
    let filter = match query.filter() {
        Ok(filter) => AuditFilter {
            before: None,
            ..filter
        },
        Err(error) => return super::message(StatusCode::BAD_REQUEST, "Invalid filter", &error),
    };
    let found = match state
        .store
        .audit_search(&signed_in.member.org_id, &filter, MAX_EVENTS)
        .await
    {
        Ok(found) => found,
        Err(e) => return internal_error(e),
    };
    let events: Vec<AuditDto> = found.into_iter().map(|(_, e)| e.into()).collect();
    let mut response = to_csv(&events).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    headers.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"activity.csv\""),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_are_utc_and_the_last_one_is_included() {
        let query = ActivityQuery {
            from: "2024-02-29".into(),
            to: "2024-02-29".into(),
            ..ActivityQuery::default()
        };
        let filter = query.filter().unwrap();
        assert_eq!(filter.from, Some(Timestamp(1_709_164_800_000)));
        assert_eq!(filter.until, Some(Timestamp(1_709_251_200_000)));
    }

    #[test]
    fn bad_dates_and_kinds_are_refused_and_empty_fields_mean_any() {
        for query in [
            ActivityQuery {
                from: "29.02.2024".into(),
                ..ActivityQuery::default()
            },
            ActivityQuery {
                kind: "x".into(),
                ..ActivityQuery::default()
            },
        ] {
            assert!(query.filter().is_err(), "{query:?}");
        }
        let any = ActivityQuery {
            actor: "  ".into(),
            ..ActivityQuery::default()
        };
        assert_eq!(any.filter().unwrap(), AuditFilter::default());
    }
}
