use consoled::domain::api_client::ApiClient;
use consoled::domain::audit::{AuditEntry, AuditType};
use consoled::domain::cluster::{Cluster, ComponentStatus, Components};
use consoled::domain::scope::ScopeSet;
use consoled::domain::zeebe_client::{Permission, ZeebeClient};
use consoled::domain::Timestamp;
use consoled::storage::{AuditFilter, ClusterProgress, ClusterStep, SigningKeyRecord, StoreError};

use crate::{audit, new_cluster, on_every_backend, org, Backend};

fn zeebe_client(cluster: &Cluster, name: &str) -> ZeebeClient {
    ZeebeClient {
        id: uuid::Uuid::new_v4().to_string(),
        cluster_id: cluster.id.clone(),
        org_id: cluster.org_id.clone(),
        client_id: uuid::Uuid::new_v4().simple().to_string(),
        name: name.into(),
        secret_hash: vec![1, 2, 3],
        permissions: vec![Permission::Zeebe, Permission::Operate],
        created_at: Timestamp(5),
    }
}

async fn organizations_and_api_clients(b: &Backend) {
    let store = b.store.as_ref();
    let a = org(store, "a").await;
    let listed = store.organizations().await.unwrap();
    assert_eq!(listed, vec![a.clone()]);
    assert_eq!(store.organization(&a.id).await.unwrap(), Some(a.clone()));
    assert_eq!(store.organization("missing").await.unwrap(), None);

    let client = ApiClient {
        client_id: "c1".into(),
        org_id: a.id.clone(),
        name: "ci".into(),
        scopes: ScopeSet::parse("get:clusters create:clusters").unwrap(),
        secret_hash: vec![9; 32],
        secret_generation: 1,
        created_at: Timestamp(7),
    };
    store
        .insert_api_client(&client, &audit(&a.id, "c1"))
        .await
        .unwrap();
    assert_eq!(store.api_client("c1").await.unwrap(), Some(client.clone()));
    let duplicate = store
        .insert_api_client(&client, &audit(&a.id, "c1-again"))
        .await;
    assert!(
        matches!(duplicate, Err(StoreError::Conflict(_))),
        "{duplicate:?}"
    );

    let rotated = ApiClient {
        secret_hash: vec![8; 32],
        secret_generation: 2,
        ..client.clone()
    };
    assert!(store
        .update_api_client(&rotated, &audit(&a.id, "c1"))
        .await
        .unwrap());
    assert_eq!(store.api_client("c1").await.unwrap(), Some(rotated));
    let ghost = ApiClient {
        client_id: "ghost".into(),
        ..client
    };
    assert!(!store
        .update_api_client(&ghost, &audit(&a.id, "ghost"))
        .await
        .unwrap());
}

async fn clusters_are_confined_to_their_organization(b: &Backend) {
    let store = b.store.as_ref();
    let (a, other) = (org(store, "a").await, org(store, "b").await);
    let first = new_cluster(&a.id, "first", 10);
    let second = new_cluster(&a.id, "second", 20);
    let foreign = new_cluster(&other.id, "foreign", 15);
    for c in [&second, &first, &foreign] {
        store
            .insert_cluster(c, &audit(&c.org_id, &c.id))
            .await
            .unwrap();
    }
    assert_eq!(
        store.cluster(&a.id, &first.id).await.unwrap(),
        Some(first.clone())
    );
    assert_eq!(store.cluster(&other.id, &first.id).await.unwrap(), None);
    let listed = store.clusters(&a.id).await.unwrap();
    assert_eq!(
        listed,
        vec![first.clone(), second.clone()],
        "oldest first, own org only"
    );
    assert!(!store
        .delete_cluster(&other.id, &first.id, &audit(&other.id, "x"))
        .await
        .unwrap());
    assert!(store
        .delete_cluster(&a.id, &first.id, &audit(&a.id, &first.id))
        .await
        .unwrap());
    assert_eq!(store.clusters(&a.id).await.unwrap(), vec![second]);
}

async fn reconciler_steps_apply_once(b: &Backend) {
    let store = b.store.as_ref();
    let a = org(store, "a").await;
    let c = new_cluster(&a.id, "c", 10);
    store
        .insert_cluster(&c, &audit(&a.id, &c.id))
        .await
        .unwrap();
    let transitional = store.transitional_clusters(10).await.unwrap();
    assert_eq!(
        transitional.iter().map(|c| &c.id).collect::<Vec<_>>(),
        vec![&c.id]
    );

    let progress = ClusterProgress {
        status: ComponentStatus::Healthy,
        components: Components::all(ComponentStatus::Healthy),
        generation_id: c.generation_id.clone(),
        target_generation_id: None,
        status_since: Timestamp(99),
    };
    let done = audit(&a.id, &c.id);
    // Two reconcilers racing on the same version: exactly one applies, with one record.
    let other = b.reopen().await;
    let (one, two) = tokio::join!(
        store.advance_cluster(&c.id, c.version, &progress, Some(&done)),
        other.advance_cluster(&c.id, c.version, &progress, Some(&done)),
    );
    let applied = [one, two]
        .into_iter()
        .filter(|r| matches!(r, Ok(true)))
        .count();
    assert_eq!(applied, 1);
    let stored = store.cluster(&a.id, &c.id).await.unwrap().unwrap();
    assert_eq!(stored.status, ComponentStatus::Healthy);
    assert_eq!(stored.status_since, Timestamp(99));
    assert_eq!(stored.version, c.version + 1);
    assert!(store.transitional_clusters(10).await.unwrap().is_empty());
    let records = store.audit_events(&a.id, 100).await.unwrap();
    assert_eq!(records.iter().filter(|r| r.id == done.id).count(), 1);
}

/// Concurrent creates (which SQLite writes as one group commit): each lands with exactly
/// its own activity record, and one that fails (a repeated id) fails alone.
async fn concurrent_creates_commit_alone_or_together(b: &Backend) {
    let store = b.store.clone();
    let a = org(store.as_ref(), "a").await;
    let mut creates: Vec<(Cluster, AuditEntry)> = (0..40)
        .map(|i| {
            let c = new_cluster(&a.id, &format!("c{i}"), i);
            let record = audit(&a.id, &c.id);
            (c, record)
        })
        .collect();
    let repeated = creates[7].0.clone();
    let repeated_record = audit(&a.id, "repeated");
    creates.push((repeated, repeated_record.clone()));
    let outcomes = futures_util::future::join_all(creates.iter().map(|(c, record)| {
        let store = store.clone();
        async move { store.insert_cluster(c, record).await }
    }))
    .await;
    let failed: Vec<usize> = (0..outcomes.len())
        .filter(|&i| outcomes[i].is_err())
        .collect();
    assert_eq!(
        failed.len(),
        1,
        "exactly the repeated id fails: {outcomes:?}"
    );
    let loser = failed[0];
    assert!(loser == 7 || loser == 40);
    assert!(matches!(outcomes[loser], Err(StoreError::Conflict(_))));

    let stored = store.clusters(&a.id).await.unwrap();
    assert_eq!(stored.len(), 40);
    let records = store.audit_events(&a.id, 1000).await.unwrap();
    for (i, (_, record)) in creates.iter().enumerate() {
        let count = records.iter().filter(|r| r.id == record.id).count();
        assert_eq!(count, usize::from(i != loser), "record of create {i}");
    }
}

/// A reconciler pass is one write: steps whose version moved on are skipped with their
/// records, the others apply with theirs.
async fn reconciler_pass_skips_stale_steps(b: &Backend) {
    let store = b.store.as_ref();
    let a = org(store, "a").await;
    let mut clusters = Vec::new();
    for i in 0..5 {
        let c = new_cluster(&a.id, &format!("c{i}"), i);
        store
            .insert_cluster(&c, &audit(&a.id, &c.id))
            .await
            .unwrap();
        clusters.push(c);
    }
    let steps: Vec<ClusterStep> = clusters
        .iter()
        .enumerate()
        .map(|(i, c)| ClusterStep {
            id: c.id.clone(),
            // The third step was computed from a version that is no longer current.
            expected_version: if i == 2 { c.version - 1 } else { c.version },
            progress: ClusterProgress {
                status: ComponentStatus::Healthy,
                components: Components::all(ComponentStatus::Healthy),
                generation_id: c.generation_id.clone(),
                target_generation_id: None,
                status_since: Timestamp(500 + i as i64),
            },
            audit: (i % 2 == 0).then(|| audit(&a.id, &format!("healthy-{i}"))),
        })
        .collect();
    assert_eq!(store.advance_clusters(&steps).await.unwrap(), 4);
    for (i, c) in clusters.iter().enumerate() {
        let stored = store.cluster(&a.id, &c.id).await.unwrap().unwrap();
        if i == 2 {
            assert_eq!(stored, *c);
        } else {
            assert_eq!(stored.status, ComponentStatus::Healthy);
            assert_eq!(stored.status_since, Timestamp(500 + i as i64));
            assert_eq!(stored.version, c.version + 1);
        }
    }
    let records = store.audit_events(&a.id, 100).await.unwrap();
    let healthy: Vec<&str> = records
        .iter()
        .filter(|r| r.entity_id.starts_with("healthy-"))
        .map(|r| r.entity_id.as_str())
        .collect();
    assert_eq!(healthy, ["healthy-4", "healthy-0"]);
    assert_eq!(store.transitional_clusters(10).await.unwrap().len(), 1);
}

async fn zeebe_clients_enforce_limits_and_uniqueness(b: &Backend) {
    let store = b.store.as_ref();
    let a = org(store, "a").await;
    let c = new_cluster(&a.id, "c", 10);
    store
        .insert_cluster(&c, &audit(&a.id, &c.id))
        .await
        .unwrap();

    let first = zeebe_client(&c, "worker");
    store
        .insert_zeebe_client(&first, 2, &audit(&a.id, "z1"))
        .await
        .unwrap();
    let same_name = zeebe_client(&c, "worker");
    let refused = store
        .insert_zeebe_client(&same_name, 2, &audit(&a.id, "z2"))
        .await;
    assert!(
        matches!(refused, Err(StoreError::Conflict(_))),
        "{refused:?}"
    );
    store
        .insert_zeebe_client(&zeebe_client(&c, "second"), 2, &audit(&a.id, "z3"))
        .await
        .unwrap();
    let over = store
        .insert_zeebe_client(&zeebe_client(&c, "third"), 2, &audit(&a.id, "z4"))
        .await;
    assert!(matches!(over, Err(StoreError::LimitReached)), "{over:?}");

    let mut orphan = zeebe_client(&c, "orphan");
    orphan.cluster_id = "missing".into();
    let missing = store
        .insert_zeebe_client(&orphan, 2, &audit(&a.id, "z5"))
        .await;
    assert!(matches!(missing, Err(StoreError::NotFound)), "{missing:?}");

    // Failed writes left no activity records.
    let ids: Vec<String> = store
        .audit_events(&a.id, 100)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.entity_id)
        .collect();
    for refused in ["z2", "z4", "z5"] {
        assert!(
            !ids.contains(&refused.to_string()),
            "{refused} left a record"
        );
    }

    let listed = store.zeebe_clients(&a.id, &c.id).await.unwrap();
    assert_eq!(listed.len(), 2);
    assert_eq!(listed.iter().find(|z| z.name == "worker"), Some(&first));
    let credential = store
        .zeebe_credential(&first.client_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(credential.client, first);
    assert_eq!(credential.cluster_status, ComponentStatus::Creating);
    assert_eq!(
        store
            .zeebe_client("other-org", &c.id, &first.client_id)
            .await
            .unwrap(),
        None
    );

    // Deleting the cluster deletes its clients.
    store
        .delete_cluster(&a.id, &c.id, &audit(&a.id, &c.id))
        .await
        .unwrap();
    assert!(store
        .zeebe_credential(&first.client_id)
        .await
        .unwrap()
        .is_none());
}

async fn concurrent_first_starts_create_one_signing_key(b: &Backend) {
    let replicas = [b.store.clone(), b.reopen().await, b.reopen().await];
    let key = |kid: &str| SigningKeyRecord {
        kid: kid.into(),
        algorithm: "ES256".into(),
        private_key: vec![1],
        public_key: vec![2],
        created_at: Timestamp(1),
        retired_at: None,
    };
    let (k1, k2, k3) = (key("k1"), key("k2"), key("k3"));
    let results = tokio::join!(
        replicas[0].insert_first_signing_key(&k1),
        replicas[1].insert_first_signing_key(&k2),
        replicas[2].insert_first_signing_key(&k3),
    );
    let inserted = [results.0, results.1, results.2]
        .into_iter()
        .filter(|r| matches!(r, Ok(true)))
        .count();
    assert_eq!(inserted, 1);
    assert_eq!(b.store.signing_keys().await.unwrap().len(), 1);
}

async fn activity_is_newest_first(b: &Backend) {
    let store = b.store.as_ref();
    let a = org(store, "a").await;
    for name in ["one", "two", "three"] {
        let c = new_cluster(&a.id, name, 1);
        store.insert_cluster(&c, &audit(&a.id, name)).await.unwrap();
    }
    let records = store.audit_events(&a.id, 2).await.unwrap();
    let ids: Vec<&str> = records.iter().map(|r| r.entity_id.as_str()).collect();
    assert_eq!(ids, ["three", "two"]);
    assert!(store.audit_events("nobody", 10).await.unwrap().is_empty());
}

/// The console's activity filters: each narrows the selection in the query, and the
/// positions page through it.
async fn activity_is_searched_by_filters(b: &Backend) {
    let store = b.store.as_ref();
    let a = org(store, "a").await;
    let other = org(store, "b").await;
    let record = |org_id: &str, actor: &str, kind: AuditType, entity: &str, id: &str, at| {
        AuditEntry::new(
            org_id,
            actor,
            kind,
            entity,
            id,
            format!("Did 100% of {id}"),
            Timestamp(at),
        )
    };
    let records = [
        record(
            &a.id,
            "ann@x.com",
            AuditType::Create,
            "cluster",
            "Alpha_1",
            1_000,
        ),
        record(
            &a.id,
            "bob@x.com",
            AuditType::Delete,
            "cluster",
            "beta",
            2_000,
        ),
        record(
            &a.id,
            "ann@x.com",
            AuditType::Update,
            "member",
            "bob@x.com",
            3_000,
        ),
        record(
            &other.id,
            "ann@x.com",
            AuditType::Create,
            "cluster",
            "alpha",
            1_500,
        ),
    ];
    for (i, r) in records.iter().enumerate() {
        let c = new_cluster(&r.org_id, &format!("c{i}"), 1);
        store.insert_cluster(&c, r).await.unwrap();
    }
    let ids = |found: Vec<(i64, AuditEntry)>| -> Vec<String> {
        found.into_iter().map(|(_, e)| e.entity_id).collect()
    };
    let search = |filter: AuditFilter| {
        let org_id = a.id.clone();
        async move { store.audit_search(&org_id, &filter, 10).await.unwrap() }
    };
    let all = search(AuditFilter::default()).await;
    // The organization's own records only (its creation's record too), newest first.
    assert_eq!(ids(all.clone())[..3], ["bob@x.com", "beta", "Alpha_1"]);
    assert!(!ids(all.clone()).contains(&"alpha".to_string()));
    let older = ids(all[2..].to_vec());
    let cases = [
        (
            AuditFilter {
                actor: Some("ann@x.com".into()),
                ..Default::default()
            },
            vec!["bob@x.com", "Alpha_1"],
        ),
        (
            AuditFilter {
                audit_type: Some(AuditType::Delete),
                ..Default::default()
            },
            vec!["beta"],
        ),
        (
            AuditFilter {
                entity: Some("member".into()),
                ..Default::default()
            },
            vec!["bob@x.com"],
        ),
        // Case is ignored; `_` and `%` are literal.
        (
            AuditFilter {
                text: Some("ALPHA_".into()),
                ..Default::default()
            },
            vec!["Alpha_1"],
        ),
        (
            AuditFilter {
                text: Some("alpha%".into()),
                ..Default::default()
            },
            vec![],
        ),
        (
            AuditFilter {
                text: Some("100% of b".into()),
                ..Default::default()
            },
            vec!["bob@x.com", "beta"],
        ),
        (
            AuditFilter {
                from: Some(Timestamp(2_000)),
                until: Some(Timestamp(3_000)),
                ..Default::default()
            },
            vec!["beta"],
        ),
        (
            AuditFilter {
                actor: Some("ann@x.com".into()),
                entity: Some("cluster".into()),
                ..Default::default()
            },
            vec!["Alpha_1"],
        ),
        (
            AuditFilter {
                before: Some(all[1].0),
                ..Default::default()
            },
            older.iter().map(String::as_str).collect(),
        ),
    ];
    for (filter, expected) in cases {
        assert_eq!(ids(search(filter.clone()).await), expected, "{filter:?}");
    }
    let first = store
        .audit_search(&a.id, &AuditFilter::default(), 1)
        .await
        .unwrap();
    assert_eq!(ids(first), ["bob@x.com"]);
}

#[tokio::test]
async fn organizations_and_api_clients_round_trip() {
    on_every_backend!(organizations_and_api_clients);
}

#[tokio::test]
async fn cluster_reads_and_deletes_are_confined() {
    on_every_backend!(clusters_are_confined_to_their_organization);
}

#[tokio::test]
async fn racing_reconciler_steps_apply_once() {
    on_every_backend!(reconciler_steps_apply_once);
}

#[tokio::test]
async fn zeebe_client_rules_hold() {
    on_every_backend!(zeebe_clients_enforce_limits_and_uniqueness);
}

#[tokio::test]
async fn one_signing_key_under_concurrent_starts() {
    on_every_backend!(concurrent_first_starts_create_one_signing_key);
}

#[tokio::test]
async fn activity_newest_first() {
    on_every_backend!(activity_is_newest_first);
}

#[tokio::test]
async fn activity_is_searched_by_filters_on_every_backend() {
    on_every_backend!(activity_is_searched_by_filters);
}

#[tokio::test]
async fn concurrent_creates_land_with_their_records() {
    on_every_backend!(concurrent_creates_commit_alone_or_together);
}

#[tokio::test]
async fn reconciler_pass_applies_current_steps_only() {
    on_every_backend!(reconciler_pass_skips_stale_steps);
}

/// When the database itself fails a group commit (here: another process holds SQLite's
/// write lock past the busy timeout), every create in the group fails once, together,
/// instead of being retried one by one; nothing is half-written and the next create works.
#[tokio::test]
async fn a_failed_group_commit_fails_its_creates_together() {
    use sqlx::Connection;
    let backend = crate::backends().await.remove(0);
    assert_eq!(backend.name, "sqlite");
    let store = backend.store.clone();
    let a = org(store.as_ref(), "a").await;

    let mut other_process = sqlx::SqliteConnection::connect(&backend.url).await.unwrap();
    sqlx::query("BEGIN IMMEDIATE")
        .execute(&mut other_process)
        .await
        .unwrap();
    let creates: Vec<(Cluster, AuditEntry)> = (0..10)
        .map(|i| {
            let c = new_cluster(&a.id, &format!("c{i}"), i);
            let record = audit(&a.id, &c.id);
            (c, record)
        })
        .collect();
    let started = std::time::Instant::now();
    let outcomes = futures_util::future::join_all(creates.iter().map(|(c, record)| {
        let store = store.clone();
        async move { store.insert_cluster(c, record).await }
    }))
    .await;
    let waited = started.elapsed();
    // Busy is worth retrying later: the HTTP layer answers it with 503 and Retry-After.
    assert!(
        outcomes
            .iter()
            .all(|o| matches!(o, Err(StoreError::Unavailable(_)))),
        "{outcomes:?}"
    );
    // One busy timeout (5 s) per group, not one per create.
    assert!(
        waited < std::time::Duration::from_secs(20),
        "took {waited:?}"
    );
    sqlx::query("ROLLBACK")
        .execute(&mut other_process)
        .await
        .unwrap();

    assert!(store.clusters(&a.id).await.unwrap().is_empty());
    let (c, record) = &creates[0];
    store.insert_cluster(c, record).await.unwrap();
    assert_eq!(store.clusters(&a.id).await.unwrap().len(), 1);
}
