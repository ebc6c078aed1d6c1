//! Storage rules of the newer stores on every backend: backups, monitoring and its clients,
//! secure connectivity, and members (seats, the owner, conditional role changes).

use std::time::Duration;

use consoled::domain::backup::{Backup, BackupComponents, BackupStatus};
use consoled::domain::cluster::{Cluster, ComponentStatus, Components};
use consoled::domain::member::{Member, OrgRole};
use consoled::domain::monitoring::MonitoringClient;
use consoled::domain::organization::Organization;
use consoled::domain::secure_connectivity::SecureConnectivity;
use consoled::domain::Timestamp;
use consoled::storage::{ClusterProgress, Store, StoreError};

use crate::{audit, entity_ids, new_cluster, on_every_backend, org, Backend};

/// A cluster of `org`, Creating unless `healthy`.
async fn cluster(store: &dyn Store, org: &Organization, healthy: bool) -> Cluster {
    let name = format!("c-{}", uuid::Uuid::new_v4().simple());
    let cluster = new_cluster(&org.id, &name, 1);
    store
        .insert_cluster(&cluster, &audit(&org.id, &cluster.id))
        .await
        .unwrap();
    if !healthy {
        return cluster;
    }
    let progress = ClusterProgress {
        status: ComponentStatus::Healthy,
        components: Components::all(ComponentStatus::Healthy),
        generation_id: cluster.generation_id.clone(),
        target_generation_id: None,
        status_since: Timestamp(2),
    };
    assert!(store
        .advance_cluster(&cluster.id, cluster.version, &progress, None)
        .await
        .unwrap());
    store.cluster(&org.id, &cluster.id).await.unwrap().unwrap()
}

fn backup(cluster: &Cluster, at: i64) -> Backup {
    let mut backup = Backup::start(cluster, Timestamp(at)).unwrap();
    backup.created_at = Timestamp(at);
    backup
}

async fn backups_keep_their_rules(b: &Backend) {
    let store = b.store.as_ref();
    let a = org(store, "a").await;
    let other = org(store, "b").await;
    let creating = cluster(store, &a, false).await;
    let healthy = cluster(store, &a, true).await;

    // Only a Healthy cluster gets a backup; the domain rule is checked again in the write.
    let mut early = backup(&healthy, 10);
    early.cluster_id = creating.id.clone();
    assert!(!store
        .insert_backup(&early, &audit(&a.id, "early"))
        .await
        .unwrap());
    // Another organization's cluster is not found.
    let mut foreign = backup(&healthy, 10);
    foreign.org_id = other.id.clone();
    assert!(matches!(
        store
            .insert_backup(&foreign, &audit(&other.id, "foreign"))
            .await,
        Err(StoreError::NotFound)
    ));

    let second = backup(&healthy, 30);
    let first = backup(&healthy, 20);
    for (backup, record) in [(&second, "second"), (&first, "first")] {
        assert!(store
            .insert_backup(backup, &audit(&a.id, record))
            .await
            .unwrap());
    }
    // Oldest first, confined to the organization.
    assert_eq!(
        store.backups(&a.id, &healthy.id).await.unwrap(),
        vec![first.clone(), second.clone()]
    );
    assert!(store
        .backups(&other.id, &healthy.id)
        .await
        .unwrap()
        .is_empty());
    let running: Vec<String> = store
        .in_progress_backups(10)
        .await
        .unwrap()
        .into_iter()
        .map(|b| b.id)
        .collect();
    assert_eq!(running, vec![first.id.clone(), second.id.clone()]);

    // Progress is conditional on the version read: two writers from version 0, one wins.
    let done = Backup {
        status: BackupStatus::Complete,
        components: BackupComponents::all(BackupStatus::Complete),
        completed_at: Some(Timestamp(40)),
        ..first.clone()
    };
    let other_store = b.reopen().await;
    let (done_1, done_2) = (audit(&a.id, "done"), audit(&a.id, "done"));
    let (one, two) = tokio::join!(
        store.advance_backup(0, &done, Some(&done_1)),
        other_store.advance_backup(0, &done, Some(&done_2)),
    );
    assert_eq!(
        [one, two]
            .into_iter()
            .filter(|r| matches!(r, Ok(true)))
            .count(),
        1
    );
    let stored = store.backups(&a.id, &healthy.id).await.unwrap();
    assert_eq!(
        stored[0],
        Backup {
            version: 1,
            ..done.clone()
        }
    );
    assert_eq!(
        entity_ids(store, &a.id)
            .await
            .iter()
            .filter(|id| *id == "done")
            .count(),
        1
    );
    assert_eq!(
        store.in_progress_backups(10).await.unwrap(),
        vec![second.clone()]
    );

    // Deleting answers with the backup as it was; another organization cannot.
    assert_eq!(
        store
            .delete_backup(&other.id, &healthy.id, &second.id, &audit(&other.id, "x"))
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        store
            .delete_backup(&a.id, &healthy.id, &second.id, &audit(&a.id, "deleted"))
            .await
            .unwrap(),
        Some(second.clone())
    );
    assert_eq!(
        store
            .delete_backup(&a.id, &healthy.id, &second.id, &audit(&a.id, "again"))
            .await
            .unwrap(),
        None
    );
    // The reconciler's write on a deleted backup is discarded.
    assert!(!store.advance_backup(0, &second, None).await.unwrap());

    // Deleting the cluster deletes its backups.
    assert!(store
        .delete_cluster(&a.id, &healthy.id, &audit(&a.id, "gone"))
        .await
        .unwrap());
    assert!(store.backups(&a.id, &healthy.id).await.unwrap().is_empty());
    let ids = entity_ids(store, &a.id).await;
    for missing in ["early", "x", "again"] {
        assert!(!ids.contains(&missing.to_string()), "{missing} recorded");
    }
}

fn monitoring_client(cluster: &Cluster, username: &str) -> MonitoringClient {
    MonitoringClient {
        id: uuid::Uuid::new_v4().to_string(),
        cluster_id: cluster.id.clone(),
        org_id: cluster.org_id.clone(),
        username: username.into(),
        password_hash: vec![1, 2, 3],
        created_at: Timestamp(5),
        created_by: "creator".into(),
        created_by_name: "Creator".into(),
        last_used_at: None,
    }
}

async fn monitoring_keeps_its_rules(b: &Backend) {
    let store = b.store.as_ref();
    let a = org(store, "a").await;
    let other = org(store, "b").await;
    let c = cluster(store, &a, true).await;
    let prometheus = monitoring_client(&c, "prometheus");

    // No clients while monitoring is inactive.
    assert!(!store
        .insert_monitoring_client(&prometheus, 2, &audit(&a.id, "inactive"))
        .await
        .unwrap());
    assert!(matches!(
        store
            .activate_monitoring(&other.id, &c.id, Timestamp(3), &audit(&other.id, "x"))
            .await,
        Err(StoreError::NotFound)
    ));
    assert!(store
        .activate_monitoring(&a.id, &c.id, Timestamp(3), &audit(&a.id, "activated"))
        .await
        .unwrap());
    // Idempotent: the second activation writes nothing.
    assert!(!store
        .activate_monitoring(&a.id, &c.id, Timestamp(4), &audit(&a.id, "twice"))
        .await
        .unwrap());
    assert_eq!(
        store.monitoring_activated_at(&a.id, &c.id).await.unwrap(),
        Some(Timestamp(3))
    );
    assert_eq!(
        store
            .monitoring_activated_at(&other.id, &c.id)
            .await
            .unwrap(),
        None
    );

    assert!(store
        .insert_monitoring_client(&prometheus, 2, &audit(&a.id, "prometheus"))
        .await
        .unwrap());
    // Usernames are unique per cluster, and the limit holds.
    let taken = monitoring_client(&c, "prometheus");
    assert!(matches!(
        store
            .insert_monitoring_client(&taken, 2, &audit(&a.id, "taken"))
            .await,
        Err(StoreError::Conflict(_))
    ));
    let grafana = monitoring_client(&c, "grafana");
    assert!(store
        .insert_monitoring_client(&grafana, 2, &audit(&a.id, "grafana"))
        .await
        .unwrap());
    assert!(matches!(
        store
            .insert_monitoring_client(&monitoring_client(&c, "third"), 2, &audit(&a.id, "third"))
            .await,
        Err(StoreError::LimitReached)
    ));
    assert_eq!(
        store.monitoring_clients(&a.id, &c.id).await.unwrap().len(),
        2
    );
    assert!(store
        .monitoring_clients(&other.id, &c.id)
        .await
        .unwrap()
        .is_empty());

    // Rotation replaces the hash, only within the organization.
    assert_eq!(
        store
            .rotate_monitoring_password(&other.id, &c.id, &prometheus.id, &[9], &audit(&a.id, "y"))
            .await
            .unwrap(),
        None
    );
    let rotated = store
        .rotate_monitoring_password(&a.id, &c.id, &prometheus.id, &[7, 7], &audit(&a.id, "rot"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(rotated.password_hash, vec![7, 7]);
    let credential = store
        .monitoring_credential(&c.id, "prometheus")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(credential.password_hash, vec![7, 7]);

    // Use is recorded at most once per resolution.
    let minute = Duration::from_secs(60);
    store
        .touch_monitoring_client(&prometheus.id, Timestamp(100_000), minute)
        .await
        .unwrap();
    store
        .touch_monitoring_client(&prometheus.id, Timestamp(130_000), minute)
        .await
        .unwrap();
    let used = |clients: Vec<MonitoringClient>| {
        clients
            .into_iter()
            .find(|m| m.id == prometheus.id)
            .unwrap()
            .last_used_at
    };
    assert_eq!(
        used(store.monitoring_clients(&a.id, &c.id).await.unwrap()),
        Some(Timestamp(100_000))
    );
    store
        .touch_monitoring_client(&prometheus.id, Timestamp(170_000), minute)
        .await
        .unwrap();
    assert_eq!(
        used(store.monitoring_clients(&a.id, &c.id).await.unwrap()),
        Some(Timestamp(170_000))
    );

    assert!(!store
        .delete_monitoring_client(&other.id, &c.id, &grafana.id, &audit(&a.id, "z"))
        .await
        .unwrap());
    assert!(store
        .delete_monitoring_client(&a.id, &c.id, &grafana.id, &audit(&a.id, "del"))
        .await
        .unwrap());
    assert!(!store
        .delete_monitoring_client(&a.id, &c.id, &grafana.id, &audit(&a.id, "del2"))
        .await
        .unwrap());

    // Deactivating deletes the clients with it.
    assert!(store
        .deactivate_monitoring(&a.id, &c.id, &audit(&a.id, "off"))
        .await
        .unwrap());
    assert!(!store
        .deactivate_monitoring(&a.id, &c.id, &audit(&a.id, "off2"))
        .await
        .unwrap());
    assert!(store
        .monitoring_clients(&a.id, &c.id)
        .await
        .unwrap()
        .is_empty());
    assert!(store
        .monitoring_credential(&c.id, "prometheus")
        .await
        .unwrap()
        .is_none());

    let ids = entity_ids(store, &a.id).await;
    for missing in [
        "inactive", "twice", "taken", "third", "y", "z", "del2", "off2",
    ] {
        assert!(!ids.contains(&missing.to_string()), "{missing} recorded");
    }
    for present in ["activated", "prometheus", "grafana", "rot", "del", "off"] {
        assert!(ids.contains(&present.to_string()), "{present} not recorded");
    }
}

async fn secure_connectivity_keeps_its_rules(b: &Backend) {
    let store = b.store.as_ref();
    let a = org(store, "a").await;
    let other = org(store, "b").await;
    let c = cluster(store, &a, true).await;
    let config = SecureConnectivity {
        cluster_id: c.id.clone(),
        org_id: a.id.clone(),
        allowed_principals: vec!["123456789012".into()],
        allowed_regions: vec!["us-east-1".into()],
        generation: 1,
        activated_at: Timestamp(10),
        updated_at: Timestamp(10),
    };
    assert!(matches!(
        store
            .put_secure_connectivity(
                &SecureConnectivity {
                    org_id: other.id.clone(),
                    ..config.clone()
                },
                &audit(&other.id, "x"),
            )
            .await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(
        store
            .put_secure_connectivity(&config, &audit(&a.id, "on"))
            .await
            .unwrap(),
        config
    );
    // A second activation replaces the lists and counts the generation up, keeping the
    // time it was first activated.
    let changed = SecureConnectivity {
        allowed_principals: vec!["arn:aws:iam::123456789012:root".into()],
        allowed_regions: vec!["eu-west-1".into(), "eu-central-1".into()],
        activated_at: Timestamp(20),
        updated_at: Timestamp(20),
        ..config.clone()
    };
    let expected = SecureConnectivity {
        generation: 2,
        activated_at: Timestamp(10),
        ..changed.clone()
    };
    assert_eq!(
        store
            .put_secure_connectivity(&changed, &audit(&a.id, "changed"))
            .await
            .unwrap(),
        expected
    );
    assert_eq!(
        store.secure_connectivity(&a.id, &c.id).await.unwrap(),
        Some(expected)
    );
    assert_eq!(
        store.secure_connectivity(&other.id, &c.id).await.unwrap(),
        None
    );
    assert!(!store
        .delete_secure_connectivity(&other.id, &c.id, &audit(&other.id, "y"))
        .await
        .unwrap());
    assert!(store
        .delete_secure_connectivity(&a.id, &c.id, &audit(&a.id, "off"))
        .await
        .unwrap());
    assert!(!store
        .delete_secure_connectivity(&a.id, &c.id, &audit(&a.id, "off2"))
        .await
        .unwrap());
    assert_eq!(store.secure_connectivity(&a.id, &c.id).await.unwrap(), None);

    // Deleting the cluster deletes its configuration.
    store
        .put_secure_connectivity(&config, &audit(&a.id, "on again"))
        .await
        .unwrap();
    assert!(store
        .delete_cluster(&a.id, &c.id, &audit(&a.id, "gone"))
        .await
        .unwrap());
    assert_eq!(store.secure_connectivity(&a.id, &c.id).await.unwrap(), None);
    let ids = entity_ids(store, &a.id).await;
    assert!(!ids.contains(&"off2".to_string()));
    assert!(entity_ids(store, &other.id)
        .await
        .iter()
        .all(|id| id != "x" && id != "y"));
}

async fn members_keep_their_rules(b: &Backend) {
    let store = b.store.as_ref();
    let a = org(store, "a").await;
    let other = org(store, "b").await;
    let owner_email = "owner@a.example.com";
    let members = store.members(&a.id).await.unwrap();
    assert_eq!(members.len(), 1);
    assert!(members[0].is_owner && members[0].email == owner_email);

    let invite = Member::invite(
        &a.id,
        "dev@example.com",
        vec![OrgRole::Developer],
        Timestamp(5),
    );
    store
        .insert_member(&invite, 3, &audit(&a.id, "invited"))
        .await
        .unwrap();
    // The same email again is a conflict; in another organization it is another member.
    assert!(matches!(
        store
            .insert_member(&invite, 3, &audit(&a.id, "twice"))
            .await,
        Err(StoreError::Conflict(_))
    ));
    let elsewhere = Member {
        org_id: other.id.clone(),
        ..invite.clone()
    };
    store
        .insert_member(&elsewhere, 3, &audit(&other.id, "elsewhere"))
        .await
        .unwrap();

    // Roles change only if they are still what the caller read, and never the owner's.
    assert!(!store
        .update_member_roles(
            &a.id,
            "dev@example.com",
            &[OrgRole::Admin],
            &[OrgRole::Analyst],
            &audit(&a.id, "stale"),
        )
        .await
        .unwrap());
    assert!(store
        .update_member_roles(
            &a.id,
            "dev@example.com",
            &[OrgRole::Developer],
            &[OrgRole::Analyst, OrgRole::Developer],
            &audit(&a.id, "roles"),
        )
        .await
        .unwrap());
    assert!(!store
        .update_member_roles(
            &a.id,
            owner_email,
            &[OrgRole::Owner],
            &[OrgRole::Admin],
            &audit(&a.id, "owner roles"),
        )
        .await
        .unwrap());
    let stored = store
        .member(&a.id, "dev@example.com")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.roles, vec![OrgRole::Analyst, OrgRole::Developer]);
    // The other organization's member is untouched.
    assert_eq!(
        store
            .member(&other.id, "dev@example.com")
            .await
            .unwrap()
            .unwrap()
            .roles,
        vec![OrgRole::Developer]
    );

    // Accepting ends a pending invite once.
    assert!(store
        .accept_member(
            &a.id,
            "dev@example.com",
            "Dev Eloper",
            &audit(&a.id, "accepted")
        )
        .await
        .unwrap());
    assert!(!store
        .accept_member(
            &a.id,
            "dev@example.com",
            "Again",
            &audit(&a.id, "accepted2")
        )
        .await
        .unwrap());
    let accepted = store
        .member(&a.id, "dev@example.com")
        .await
        .unwrap()
        .unwrap();
    assert!(!accepted.invite_pending);
    assert_eq!(accepted.name, "Dev Eloper");

    // Seats: concurrent invites on different connections never overfill (3 seats: the
    // owner, dev and one more).
    let second_store = b.reopen().await;
    let one = Member::invite(
        &a.id,
        "one@example.com",
        vec![OrgRole::Visitor],
        Timestamp(6),
    );
    let two = Member::invite(
        &a.id,
        "two@example.com",
        vec![OrgRole::Visitor],
        Timestamp(6),
    );
    let (audit_one, audit_two) = (audit(&a.id, "one"), audit(&a.id, "two"));
    let (first, second) = tokio::join!(
        store.insert_member(&one, 3, &audit_one),
        second_store.insert_member(&two, 3, &audit_two),
    );
    let results = [first, second];
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 1);
    assert!(results
        .iter()
        .any(|r| matches!(r, Err(StoreError::LimitReached))));
    assert_eq!(store.members(&a.id).await.unwrap().len(), 3);

    // The owner cannot be removed; others can, once, only in their organization.
    assert!(!store
        .delete_member(&a.id, owner_email, &audit(&a.id, "owner gone"))
        .await
        .unwrap());
    assert!(!store
        .delete_member(&other.id, owner_email, &audit(&other.id, "foreign"))
        .await
        .unwrap());
    assert!(store
        .delete_member(&a.id, "dev@example.com", &audit(&a.id, "removed"))
        .await
        .unwrap());
    assert!(!store
        .delete_member(&a.id, "dev@example.com", &audit(&a.id, "removed2"))
        .await
        .unwrap());
    assert!(store
        .member(&other.id, "dev@example.com")
        .await
        .unwrap()
        .is_some());

    let ids = entity_ids(store, &a.id).await;
    for missing in [
        "twice",
        "stale",
        "owner roles",
        "accepted2",
        "owner gone",
        "removed2",
    ] {
        assert!(!ids.contains(&missing.to_string()), "{missing} recorded");
    }
    for present in ["invited", "roles", "accepted", "removed"] {
        assert!(ids.contains(&present.to_string()), "{present} not recorded");
    }
}

#[tokio::test]
async fn backup_rules_hold() {
    on_every_backend!(backups_keep_their_rules);
}

#[tokio::test]
async fn monitoring_rules_hold() {
    on_every_backend!(monitoring_keeps_its_rules);
}

#[tokio::test]
async fn secure_connectivity_rules_hold() {
    on_every_backend!(secure_connectivity_keeps_its_rules);
}

#[tokio::test]
async fn member_rules_hold() {
    on_every_backend!(members_keep_their_rules);
}

/// `consoled migrate` copies every table of the schema, parents first.
#[tokio::test]
async fn migrate_covers_every_table() {
    for backend in crate::backends().await {
        consoled::storage::copy::check_schema(&backend.url)
            .await
            .unwrap_or_else(|e| panic!("{}: {e:#}", backend.name));
    }
}
