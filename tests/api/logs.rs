//! Logs for pipelines: `--log-format json` writes one JSON object per line, and every line
//! of a request carries its id, which is the caller's `X-Request-Id` when sane, else a new
//! one, and comes back in the response.

use serde_json::Value;

use crate::process::ServerProcess;

#[tokio::test]
async fn json_logs_carry_the_request_id_of_each_line() {
    let dir = tempfile::tempdir().unwrap();
    let server = ServerProcess::start(
        dir.path(),
        &["--log-format", "json"],
        &[("CONSOLED_LOG", "debug,sqlx=warn,hyper=warn,h2=warn")],
        true,
    )
    .await;
    let http = reqwest::Client::new();
    // A sane id is kept and returned.
    let response = http
        .get(server.url("/clusters"))
        .header("x-request-id", "pipeline-test-4711")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), reqwest::StatusCode::UNAUTHORIZED);
    assert_eq!(response.headers()["x-request-id"], "pipeline-test-4711");
    // Others are replaced by a new one; a request without one gets one.
    for sent in [Some("has spaces in it"), Some(&*"x".repeat(129)), None] {
        let mut request = http.get(server.url("/healthz"));
        if let Some(id) = sent {
            request = request.header("x-request-id", id);
        }
        let response = request.send().await.unwrap();
        let id = response.headers()["x-request-id"]
            .to_str()
            .unwrap()
            .to_string();
        assert_eq!(id.len(), 32, "{id}");
        assert!(id.bytes().all(|b| b.is_ascii_hexdigit()));
    }
    let token = server.admin_token(&http).await;
    let response = http
        .get(server.url("/clusters"))
        .bearer_auth(&token)
        .header("x-request-id", "pipeline-test-4712")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), reqwest::StatusCode::OK);

    // The activity a request causes names it: a given id and a generated one.
    let org = crate::helpers::jwt_claims(&token)["https://camunda.com/orgId"]
        .as_str()
        .unwrap()
        .to_string();
    let mut ids = Vec::new();
    for (email, sent) in [
        ("ann@logs.test", Some("pipeline-test-4713")),
        ("ben@logs.test", None),
    ] {
        let mut request = http
            .post(server.url(&format!("/members/{email}")))
            .bearer_auth(&token)
            .json(&serde_json::json!({ "orgRoles": ["developer"] }));
        if let Some(id) = sent {
            request = request.header("x-request-id", id);
        }
        let response = request.send().await.unwrap();
        assert!(response.status().is_success());
        ids.push(
            response.headers()["x-request-id"]
                .to_str()
                .unwrap()
                .to_string(),
        );
    }
    assert_eq!(ids[0], "pipeline-test-4713");
    let store = consoled::storage::open(&server.database_url).await.unwrap();
    let records = store.audit_events(&org, 10).await.unwrap();
    for (email, id) in [("ben@logs.test", &ids[1]), ("ann@logs.test", &ids[0])] {
        let record = records
            .iter()
            .find(|r| r.entity_id == email || r.audit.contains(email))
            .unwrap_or_else(|| panic!("no record of {email}: {records:?}"));
        assert_eq!(
            record.request_id.as_deref(),
            Some(id.as_str()),
            "{record:?}"
        );
    }

    let log = server.log();
    let lines: Vec<Value> = log
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
        .collect();
    assert!(lines.len() > 3, "{log}");
    for line in &lines {
        for field in ["timestamp", "level", "target"] {
            assert!(line.get(field).is_some(), "{field} missing in {line}");
        }
    }
    let of_request = |id: &str| -> Vec<&Value> {
        lines
            .iter()
            .filter(|l| l["span"]["request_id"] == id)
            .collect()
    };
    for id in ["pipeline-test-4711", "pipeline-test-4712"] {
        let found = of_request(id);
        assert!(
            found.iter().any(|l| l["message"] == "request answered"),
            "no line of {id}: {log}"
        );
    }
    let answered = of_request("pipeline-test-4712");
    assert!(answered.iter().any(|l| l["status"] == 200), "{answered:?}");
    // No secret reaches the log, in this format either.
    assert!(!log.contains(crate::helpers::CLIENT_SECRET));
    assert!(!log.contains(&token));
}
