//! Storage rules for cluster operations: settings updates, connector secrets.

use consoled::domain::cluster::{Cluster, StageLabel};
use consoled::domain::connector_secret::ConnectorSecret;
use consoled::domain::ip_allowlist::IpAllowlistEntry;
use consoled::domain::organization::Organization;
use consoled::domain::Timestamp;
use consoled::storage::{Store, StoreError};

use crate::{audit, entity_ids, new_cluster, on_every_backend, org, Backend};

async fn org_with_cluster(store: &dyn Store, name: &str) -> (Organization, Cluster) {
    let org = org(store, name).await;
    let cluster = new_cluster(&org.id, &format!("{name}-cluster"), 1);
    store
        .insert_cluster(&cluster, &audit(&org.id, &cluster.id))
        .await
        .unwrap();
    (org, cluster)
}

fn secret(cluster: &Cluster, name: &str) -> ConnectorSecret {
    ConnectorSecret {
        cluster_id: cluster.id.clone(),
        org_id: cluster.org_id.clone(),
        name: name.into(),
        sealed_value: name.as_bytes().to_vec(),
        created_at: Timestamp(2),
        updated_at: Timestamp(2),
    }
}

async fn settings_updates_are_conditional_on_the_version(b: &Backend) {
    let store = b.store.as_ref();
    let (a, c) = org_with_cluster(store, "a").await;
    let mut changed = c.clone();
    changed.name = "renamed".into();
    changed.description = Some("text".into());
    changed.stage_label = Some(StageLabel::Prod);
    changed.hardware_packages = 3.0;
    changed.ip_allowlist = vec![IpAllowlistEntry {
        ip: "10.0.0.0/8, ::1".into(),
        description: "office".into(),
    }];
    let records = [audit(&a.id, "change-1"), audit(&a.id, "change-2")];
    assert!(store
        .update_cluster_settings(&changed, &records)
        .await
        .unwrap());
    let stored = store.cluster(&a.id, &c.id).await.unwrap().unwrap();
    assert_eq!(
        stored,
        Cluster {
            version: c.version + 1,
            ..changed.clone()
        }
    );
    assert_eq!(store.clusters(&a.id).await.unwrap(), vec![stored.clone()]);

    // A write based on the old version, or aimed at another organization, changes nothing.
    let stale = audit(&a.id, "stale");
    assert!(!store
        .update_cluster_settings(&changed, std::slice::from_ref(&stale))
        .await
        .unwrap());
    let mut foreign = stored.clone();
    foreign.org_id = "other-org".into();
    foreign.name = "hijacked".into();
    assert!(!store.update_cluster_settings(&foreign, &[]).await.unwrap());
    assert_eq!(store.cluster(&a.id, &c.id).await.unwrap(), Some(stored));

    let ids = entity_ids(store, &a.id).await;
    assert!(ids.contains(&"change-1".to_string()) && ids.contains(&"change-2".to_string()));
    assert!(!ids.contains(&"stale".to_string()));
}

async fn connector_secrets_keep_their_rules(b: &Backend) {
    let store = b.store.as_ref();
    let (a, c) = org_with_cluster(store, "a").await;
    let (other, other_cluster) = org_with_cluster(store, "b").await;

    for name in ["B", "A"] {
        store
            .insert_connector_secret(&secret(&c, name), 3, &audit(&a.id, name))
            .await
            .unwrap();
    }
    let refused = store
        .insert_connector_secret(&secret(&c, "A"), 3, &audit(&a.id, "dup"))
        .await;
    assert!(
        matches!(refused, Err(StoreError::Conflict(_))),
        "{refused:?}"
    );
    store
        .insert_connector_secret(&secret(&c, "C"), 3, &audit(&a.id, "C"))
        .await
        .unwrap();
    let over = store
        .insert_connector_secret(&secret(&c, "D"), 3, &audit(&a.id, "over"))
        .await;
    assert!(matches!(over, Err(StoreError::LimitReached)), "{over:?}");
    // Another organization cannot add to the cluster, nor can anyone add to a missing one.
    let mut foreign = secret(&c, "E");
    foreign.org_id = other.id.clone();
    let foreign = store
        .insert_connector_secret(&foreign, 3, &audit(&other.id, "foreign"))
        .await;
    assert!(matches!(foreign, Err(StoreError::NotFound)), "{foreign:?}");
    let mut orphan = secret(&c, "F");
    orphan.cluster_id = "missing".into();
    let orphan = store
        .insert_connector_secret(&orphan, 3, &audit(&a.id, "orphan"))
        .await;
    assert!(matches!(orphan, Err(StoreError::NotFound)), "{orphan:?}");

    let listed = store.connector_secrets(&a.id, &c.id).await.unwrap();
    let names: Vec<&str> = listed.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["A", "B", "C"], "ordered by name");
    assert_eq!(listed[0], secret(&c, "A"));
    assert!(store
        .connector_secrets(&other.id, &c.id)
        .await
        .unwrap()
        .is_empty());

    let now = Timestamp(9);
    assert!(store
        .update_connector_secret(&a.id, &c.id, "A", b"new", now, &audit(&a.id, "upd"))
        .await
        .unwrap());
    let updated = &store.connector_secrets(&a.id, &c.id).await.unwrap()[0];
    assert_eq!(
        (updated.sealed_value.as_slice(), updated.updated_at),
        (&b"new"[..], now)
    );
    for (org_id, name) in [(&a.id, "Z"), (&other.id, "A")] {
        assert!(!store
            .update_connector_secret(org_id, &c.id, name, b"x", now, &audit(org_id, "no-upd"))
            .await
            .unwrap());
        assert!(!store
            .delete_connector_secret(org_id, &c.id, name, &audit(org_id, "no-del"))
            .await
            .unwrap());
    }
    assert!(store
        .delete_connector_secret(&a.id, &c.id, "B", &audit(&a.id, "del"))
        .await
        .unwrap());

    // Failed writes left no activity records.
    let ids = entity_ids(store, &a.id).await;
    for refused in ["dup", "over", "orphan", "no-upd", "no-del"] {
        assert!(
            !ids.contains(&refused.to_string()),
            "{refused} left a record"
        );
    }
    assert!(!entity_ids(store, &other.id)
        .await
        .iter()
        .any(|id| id.starts_with("no-") || id == "foreign"));

    // Deleting the cluster deletes its secrets, and only its own.
    store
        .insert_connector_secret(&secret(&other_cluster, "A"), 3, &audit(&other.id, "A"))
        .await
        .unwrap();
    store
        .delete_cluster(&a.id, &c.id, &audit(&a.id, &c.id))
        .await
        .unwrap();
    assert!(store
        .connector_secrets(&a.id, &c.id)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        store
            .connector_secrets(&other.id, &other_cluster.id)
            .await
            .unwrap()
            .len(),
        1
    );
}

async fn racing_secret_inserts_respect_uniqueness_and_limits(b: &Backend) {
    let (a, c) = org_with_cluster(b.store.as_ref(), "a").await;
    let replicas = [b.store.clone(), b.reopen().await, b.reopen().await];

    // Same name from three replicas: one insert wins.
    let same = secret(&c, "SAME");
    let records = [audit(&a.id, "s1"), audit(&a.id, "s2"), audit(&a.id, "s3")];
    let results = tokio::join!(
        replicas[0].insert_connector_secret(&same, 10, &records[0]),
        replicas[1].insert_connector_secret(&same, 10, &records[1]),
        replicas[2].insert_connector_secret(&same, 10, &records[2]),
    );
    let results = [results.0, results.1, results.2];
    assert_eq!(
        results.iter().filter(|r| r.is_ok()).count(),
        1,
        "{results:?}"
    );
    assert!(results
        .iter()
        .all(|r| r.is_ok() || matches!(r, Err(StoreError::Conflict(_)))));

    // Different names racing for the last free slot: the limit still holds.
    let (x, y, z) = (secret(&c, "X"), secret(&c, "Y"), secret(&c, "Z"));
    let records = [audit(&a.id, "x"), audit(&a.id, "y"), audit(&a.id, "z")];
    let results = tokio::join!(
        replicas[0].insert_connector_secret(&x, 2, &records[0]),
        replicas[1].insert_connector_secret(&y, 2, &records[1]),
        replicas[2].insert_connector_secret(&z, 2, &records[2]),
    );
    let results = [results.0, results.1, results.2];
    assert_eq!(
        results.iter().filter(|r| r.is_ok()).count(),
        1,
        "{results:?}"
    );
    assert!(results
        .iter()
        .all(|r| r.is_ok() || matches!(r, Err(StoreError::LimitReached))));
    assert_eq!(
        b.store.connector_secrets(&a.id, &c.id).await.unwrap().len(),
        2
    );
}

#[tokio::test]
async fn settings_updates_apply_only_to_the_version_read() {
    on_every_backend!(settings_updates_are_conditional_on_the_version);
}

#[tokio::test]
async fn connector_secret_rules_hold() {
    on_every_backend!(connector_secrets_keep_their_rules);
}

#[tokio::test]
async fn racing_secret_inserts_never_duplicate_or_exceed_the_limit() {
    on_every_backend!(racing_secret_inserts_respect_uniqueness_and_limits);
}
