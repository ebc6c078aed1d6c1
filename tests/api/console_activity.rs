//! The organization's activity in the console: the trail newest first with the member's
//! email as actor, filters that narrow it (applied by the store's query), pages, and the
//! CSV export of the same selection with formula cells defused.

use reqwest::StatusCode;

use crate::console::{signed_in, Browser, OWNER, PASSWORD};
use crate::helpers::*;

/// The HTML as a browser reads its attributes (`&` in links is escaped).
fn unescaped(html: &str) -> String {
    html.replace("&#38;", "&").replace("&amp;", "&")
}

/// The `href` of the link whose text is `text`.
fn href_of(html: &str, text: &str) -> String {
    let html = unescaped(html);
    let text_at = html
        .find(&format!(">{text}</a>"))
        .unwrap_or_else(|| panic!("a link {text:?} in {html}"));
    let start = html[..text_at].rfind("href=\"").unwrap() + "href=\"".len();
    let end = start + html[start..].find('"').unwrap();
    html[start..end].to_string()
}

/// Table rows of the activity page.
fn rows(html: &str) -> usize {
    let body = &html[html.find("<tbody>").unwrap()..html.find("</tbody>").unwrap()];
    body.matches("<tr>").count()
}

async fn csv(browser: &Browser<'_>, query: &str) -> (reqwest::header::HeaderMap, String) {
    let response = browser.get(&format!("/console/activity.csv?{query}")).await;
    assert_eq!(response.status(), StatusCode::OK, "{query}");
    let headers = response.headers().clone();
    (headers, response.text().await.unwrap())
}

#[tokio::test]
async fn the_activity_is_filtered_paged_and_exported_as_csv() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let (owner, csrf) = signed_in(&app, OWNER, None).await;
    // A change by the API's client, and invites by the owner in the console; one email
    // starts like a formula (`=` is allowed before the @).
    app.create_cluster(&token, "api-made").await;
    for email in ["=cmd@example.com", "plain@example.com"] {
        let invited = owner
            .post(
                "/console/members",
                &[("csrf", &csrf), ("email", email), ("role", "visitor")],
            )
            .await;
        assert_eq!(invited.status(), StatusCode::OK, "{email}");
    }

    let html = owner.page("/console/activity").await;
    assert!(html.contains("<caption id=\"activity-caption\">"), "{html}");
    assert!(
        html.contains("Invited plain@example.com with roles visitor"),
        "{html}"
    );
    assert!(html.contains("Created cluster"), "{html}");
    // Newest first.
    assert!(
        html.find("Issued an invite link for plain@example.com")
            .unwrap()
            < html.find("Invited =cmd@example.com").unwrap(),
        "{html}"
    );
    assert!(html.contains(&format!(">{OWNER}</a>")), "{html}");

    // Filters: by actor, kind of change, resource and text; each narrows the list.
    let by_owner = owner
        .page(&format!("/console/activity?actor={OWNER}"))
        .await;
    assert!(by_owner.contains("Invited plain@example.com"), "{by_owner}");
    assert!(!by_owner.contains("Created cluster"), "{by_owner}");
    let clusters = owner.page("/console/activity?resource=cluster").await;
    assert!(clusters.contains("Created cluster"), "{clusters}");
    assert!(!clusters.contains("Invited"), "{clusters}");
    let searched = owner.page("/console/activity?q=PLAIN%40").await;
    assert_eq!(rows(&searched), 2, "{searched}");
    assert!(!searched.contains("=cmd@"), "{searched}");
    // `%` and `_` are matched as typed, not as wildcards.
    let wildcard = owner.page("/console/activity?q=%25").await;
    assert_eq!(rows(&wildcard), 0, "{wildcard}");
    assert!(wildcard.contains("No activity matches the filters."));
    let deletes = owner.page("/console/activity?type=d").await;
    assert_eq!(rows(&deletes), 0, "{deletes}");
    let creates = owner
        .page(&format!("/console/activity?type=c&actor={OWNER}&q=invited"))
        .await;
    assert_eq!(rows(&creates), 2, "{creates}");
    let long_ago = owner.page("/console/activity?to=2000-01-01").await;
    assert_eq!(rows(&long_ago), 0, "{long_ago}");
    let recent = owner.page("/console/activity?from=2000-01-01").await;
    assert!(rows(&recent) >= 5, "{recent}");
    let bad = owner.get("/console/activity?from=yesterday").await;
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    // A NUL in a text filter (PostgreSQL cannot even compare with one): 400 with the
    // reason, on the page and for the CSV, on either backend.
    for path in [
        "/console/activity?q=a%00b",
        "/console/activity?actor=%00",
        "/console/activity?resource=cluster%00",
        "/console/activity.csv?q=%00",
    ] {
        let response = owner.get(path).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{path}");
        assert!(response.text().await.unwrap().contains("U+0000"), "{path}");
    }
    assert!(bad.text().await.unwrap().contains("is not a date"));

    // The CSV: the same selection, with its header row, as a download.
    let (headers, all) = csv(&owner, "").await;
    assert_eq!(headers["content-type"], "text/csv; charset=utf-8");
    assert_eq!(
        headers["content-disposition"],
        "attachment; filename=\"activity.csv\""
    );
    assert!(all.starts_with("service,orgId,timestamp,audit,auditType,entity,entityId,userId,"));
    assert!(all.contains("Created cluster"), "{all}");
    // The filter link of the page leads to the filtered CSV.
    let csv_href = href_of(&by_owner, "Download the filtered activity as CSV");
    let query = csv_href.strip_prefix("/console/activity.csv?").unwrap();
    let (_, filtered) = csv(&owner, query).await;
    let lines: Vec<&str> = filtered.trim_end().split("\r\n").collect();
    assert!(lines.len() >= 5, "{filtered}");
    for line in &lines[1..] {
        assert!(line.contains(&format!(",{OWNER}")), "{line}");
    }
    assert!(!filtered.contains("Created cluster"), "{filtered}");
    // A cell that a spreadsheet would run starts with a quote.
    assert!(
        filtered.contains(",member,'=cmd@example.com,"),
        "{filtered}"
    );
    assert!(!filtered.contains(",=cmd@"), "{filtered}");
}

#[tokio::test]
async fn long_activity_comes_in_pages() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let org_id = TestApp::org_of(&token);
    let (owner, _) = signed_in(&app, OWNER, None).await;
    for i in 0..60 {
        app.execute_sql(
            "INSERT INTO audit_events (id, org_id, ts, service, audit_type, audit, entity, \
             entity_id, user_id) VALUES ($1, $2, 1700000000000, 'console', 'u', $3, 'bulk', \
             $4, 'bulk-writer')",
            &[
                &format!("bulk-{i}"),
                &org_id,
                &format!("Bulk change {i:02}"),
                &format!("b{i}"),
            ],
        )
        .await;
    }
    let first = owner.page("/console/activity?resource=bulk").await;
    assert_eq!(rows(&first), 50, "{first}");
    assert!(first.contains("Bulk change 59"));
    assert!(!first.contains("Bulk change 09"));
    let older = href_of(&first, "Show older events");
    assert!(older.contains("resource=bulk"), "{older}");
    let second = owner.page(&older).await;
    assert_eq!(rows(&second), 10, "{second}");
    assert!(second.contains("Bulk change 09") && second.contains("Bulk change 00"));
    assert!(!second.contains("Show older events"));
    let newest = href_of(&second, "Newest events");
    assert_eq!(rows(&owner.page(&newest).await), 50);
    // The CSV has every matching record, not a page.
    let response = owner.get("/console/activity.csv?resource=bulk").await;
    let body = response.text().await.unwrap();
    assert_eq!(body.trim_end().split("\r\n").count(), 61);
}

#[tokio::test]
async fn the_activity_needs_a_role_that_reads_it() {
    let app = TestApp::spawn().await;
    crate::console::owner_with_password(&app).await;
    for (email, roles, status) in [
        ("visitor@example.com", "visitor", StatusCode::FORBIDDEN),
        ("dev@example.com", "developer", StatusCode::FORBIDDEN),
        ("ops@example.com", "operationsengineer", StatusCode::OK),
    ] {
        let link = crate::console::invite(&app, email, roles).await;
        let browser = Browser::new(&app);
        assert_eq!(
            browser.set_password(&link, PASSWORD).await.status(),
            StatusCode::SEE_OTHER
        );
        browser.signed_in(email, PASSWORD).await;
        let page = browser.get("/console/activity").await;
        assert_eq!(page.status(), status, "{roles}");
        let html = page.text().await.unwrap();
        // The header links the page only for roles that may open it.
        assert_eq!(
            html.contains("href=\"/console/activity\">Activity</a>"),
            status == StatusCode::OK,
            "{roles}"
        );
        let export = browser.get("/console/activity.csv").await;
        assert_eq!(export.status(), status, "{roles}");
        if status == StatusCode::FORBIDDEN {
            assert!(!export.text().await.unwrap().contains("service,orgId"));
        }
    }
}
