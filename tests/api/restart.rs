use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};

use crate::helpers::*;
use crate::process::ServerProcess;

#[tokio::test]
async fn tokens_clusters_and_lifecycle_survive_a_restart() {
    let mut app = TestApp::spawn_with(&["--provision-delay", "1500ms"]).await;
    let token = app.admin_token().await;
    let healthy = app.create_cluster(&token, "before").await;
    app.wait_healthy(&token, &healthy).await;
    let creating = app.create_cluster(&token, "mid-way").await;

    app.restart().await;

    // The old token still verifies: the signing key is kept in the database.
    let cluster: Value = app
        .get(&format!("/clusters/{healthy}"), &token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(cluster["status"]["ready"], "Healthy");
    // Provisioning that was under way continues.
    app.wait_healthy(&token, &creating).await;
    // Bootstrapping again is idempotent: the same credentials still work.
    let again = app.admin_token().await;
    let list: Value = app.get("/clusters", &again).await.json().await.unwrap();
    assert_eq!(list.as_array().unwrap().len(), 2);
}

/// What became of one request.
#[derive(Debug, Clone, PartialEq)]
enum Outcome {
    /// Answered with success: it must be there after the crash.
    Acked,
    /// Answered with an error: it must not be there.
    Refused(u16),
    /// No answer (the server died): wholly there or wholly absent.
    Unknown,
}

#[derive(Debug, Clone)]
enum Op {
    Create { name: String },
    Rename { to: String },
    Delete,
}

/// The requests made for one cluster, in order (a worker makes them one after another).
#[derive(Debug, Clone)]
struct History {
    /// The name it was created with.
    name: String,
    /// Known once the create was acknowledged.
    id: Option<String>,
    ops: Vec<(Op, Outcome)>,
}

/// The cluster's state after applying `ops`: `None` when deleted, else its name.
fn apply(ops: &[(Op, Outcome)], include: impl Fn(&Outcome) -> bool) -> Option<String> {
    let mut state = None;
    for (op, outcome) in ops {
        if !include(outcome) {
            continue;
        }
        state = match op {
            Op::Create { name } => Some(name.clone()),
            Op::Rename { to } => state.map(|_| to.clone()),
            Op::Delete => None,
        };
    }
    state
}

async fn outcome(result: reqwest::Result<reqwest::Response>) -> (Outcome, Option<Value>) {
    match result {
        Ok(response) if response.status().is_success() => {
            let body = response.json::<Value>().await.ok();
            (Outcome::Acked, body)
        }
        // An answer whose body did not arrive whole is no acknowledgement.
        Ok(response) => (Outcome::Refused(response.status().as_u16()), None),
        Err(_) => (Outcome::Unknown, None),
    }
}

/// One client: creates clusters, renames each twice and deletes every third, until the
/// server dies under it or it is told to stop.
async fn worker(
    base: String,
    token: String,
    body: Value,
    worker: usize,
    stop: Arc<AtomicBool>,
    acked: Arc<AtomicUsize>,
) -> Vec<History> {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let mut histories = Vec::new();
    'clusters: for i in 0.. {
        let name = format!("w{worker}-{i}");
        let mut history = History {
            name: name.clone(),
            id: None,
            ops: Vec::new(),
        };
        let mut body = body.clone();
        body["name"] = json!(name);
        let sent = http
            .post(format!("{base}/clusters"))
            .bearer_auth(&token)
            .json(&body)
            .send()
            .await;
        let (result, created) = outcome(sent).await;
        history
            .ops
            .push((Op::Create { name: name.clone() }, result.clone()));
        let id = created.and_then(|c| c["clusterId"].as_str().map(str::to_string));
        if result != Outcome::Acked || id.is_none() {
            histories.push(history);
            break;
        }
        acked.fetch_add(1, Ordering::Relaxed);
        let id = id.unwrap();
        history.id = Some(id.clone());
        let mut steps = vec![
            Op::Rename {
                to: format!("{name}-a"),
            },
            Op::Rename {
                to: format!("{name}-b"),
            },
        ];
        if i % 3 == 0 {
            steps.push(Op::Delete);
        }
        for step in steps {
            if stop.load(Ordering::Relaxed) {
                histories.push(history);
                break 'clusters;
            }
            let url = format!("{base}/clusters/{id}");
            let sent = match &step {
                Op::Rename { to } => {
                    http.patch(&url)
                        .bearer_auth(&token)
                        .json(&json!({ "name": to }))
                        .send()
                        .await
                }
                Op::Delete => http.delete(&url).bearer_auth(&token).send().await,
                Op::Create { .. } => unreachable!(),
            };
            let (result, _) = outcome(sent).await;
            let done = result == Outcome::Unknown;
            if result == Outcome::Acked {
                acked.fetch_add(1, Ordering::Relaxed);
            }
            history.ops.push((step, result));
            if done {
                histories.push(history);
                break 'clusters;
            }
        }
        histories.push(history);
        if stop.load(Ordering::Relaxed) {
            break;
        }
    }
    histories
}

/// Several clients create, rename and delete clusters against the real binary; it is
/// killed with SIGKILL in the middle of it and started again. Every acknowledged write is
/// there with its audit record, every refused one is not, every one in flight is wholly
/// there or wholly absent (state and audit record alike), and provisioning that was under
/// way finishes.
#[tokio::test]
async fn a_burst_of_writes_survives_kill_9_mid_way() {
    const WORKERS: usize = 4;
    let data_dir = tempfile::tempdir().unwrap();
    let args = ["--provision-delay", "1s", "--reconcile-interval", "100ms"];
    let mut server = ServerProcess::start(data_dir.path(), &args, &[], false).await;
    let http = reqwest::Client::new();
    let token = server.admin_token(&http).await;
    // Each worker names its clusters.
    let params = cluster_parameters(&http, &server.base, &token).await;
    let body = default_cluster_body(&params, "");

    let stop = Arc::new(AtomicBool::new(false));
    let acked = Arc::new(AtomicUsize::new(0));
    let workers: Vec<_> = (0..WORKERS)
        .map(|w| {
            tokio::spawn(worker(
                server.base.clone(),
                token.clone(),
                body.clone(),
                w,
                stop.clone(),
                acked.clone(),
            ))
        })
        .collect();
    // Kill once a good number of writes went through, while the workers keep writing.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while acked.load(Ordering::Relaxed) < 80 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    server.kill().await;
    stop.store(true, Ordering::Relaxed);
    let mut histories = Vec::new();
    for worker in workers {
        histories.extend(worker.await.unwrap());
    }
    let unknown = histories
        .iter()
        .flat_map(|h| &h.ops)
        .filter(|(_, o)| *o == Outcome::Unknown)
        .count();
    assert!(
        acked.load(Ordering::Relaxed) >= 20,
        "too few writes before the kill"
    );

    server.restart_after_kill().await;
    let list: Value = http
        .get(server.url("/clusters"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let clusters = list.as_array().unwrap();
    let activity: Vec<Value> = http
        .get(server.url("/activity/json"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let audits_of = |id: &str, kind: &str| -> Vec<&Value> {
        activity
            .iter()
            .filter(|a| a["entity"] == "cluster" && a["entityId"] == id && a["auditType"] == kind)
            .collect()
    };

    let mut checked = 0;
    for history in &histories {
        let what = format!("{history:?}");
        let Some(id) = &history.id else {
            // The create was not acknowledged: at most one cluster of that name, and if it
            // is there, its create was audited with it.
            let named: Vec<&Value> = clusters
                .iter()
                .filter(|c| c["name"] == history.name.as_str())
                .collect();
            assert!(named.len() <= 1, "{what}");
            let quoted = format!("{:?}", history.name);
            let audited: Vec<&Value> = activity
                .iter()
                .filter(|a| {
                    a["auditType"] == "c" && a["audit"].as_str().unwrap().ends_with(&quoted)
                })
                .collect();
            assert_eq!(named.len(), audited.len(), "{what}");
            if history.ops[0].1 != Outcome::Unknown {
                assert!(named.is_empty(), "a refused create was written: {what}");
            }
            if let Some(cluster) = named.first() {
                assert_eq!(audited[0]["entityId"], cluster["uuid"], "{what}");
            }
            continue;
        };
        let with_acked = apply(&history.ops, |o| *o == Outcome::Acked);
        let with_unknown = apply(&history.ops, |o| {
            *o == Outcome::Acked || *o == Outcome::Unknown
        });
        let found = clusters.iter().find(|c| c["uuid"] == id.as_str());
        let state = found.map(|c| c["name"].as_str().unwrap().to_string());
        assert!(
            state == with_acked || state == with_unknown,
            "state {state:?}, expected {with_acked:?} or {with_unknown:?}: {what}"
        );
        // The audit trail says exactly what happened: one record per applied write.
        assert_eq!(audits_of(id, "c").len(), 1, "{what}");
        let applied_unknown = state == with_unknown && with_unknown != with_acked;
        for (op, outcome) in &history.ops {
            let applied = match outcome {
                Outcome::Acked => true,
                Outcome::Refused(_) => false,
                Outcome::Unknown => applied_unknown,
            };
            let records = match op {
                Op::Create { .. } => continue,
                Op::Rename { to } => audits_of(id, "u")
                    .into_iter()
                    .filter(|a| {
                        a["entityAttribute"] == "name" && a["entityAttributeValueTo"] == to.as_str()
                    })
                    .count(),
                Op::Delete => audits_of(id, "d").len(),
            };
            assert_eq!(
                records,
                usize::from(applied),
                "{op:?} ({outcome:?}): {what}"
            );
        }
        checked += 1;
    }
    assert!(checked >= 20, "only {checked} clusters checked");
    eprintln!(
        "crash test: {} acknowledged writes, {unknown} in flight at the kill, {} clusters left",
        acked.load(Ordering::Relaxed),
        clusters.len()
    );

    // Provisioning in flight at the kill resumes: every cluster becomes Healthy.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let list: Value = http
            .get(server.url("/clusters"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let pending: Vec<&Value> = list
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["status"]["ready"] != "Healthy")
            .collect();
        if pending.is_empty() {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "never became Healthy: {pending:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    server.kill().await;
}
