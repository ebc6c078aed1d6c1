//! The exec driver's bookkeeping: a cluster's lease goes to one runner at a time, a runner
//! that lost it writes nothing, deleted clusters stay listed until their teardown is
//! recorded, and a probe is claimed by one replica per interval.

use consoled::domain::Timestamp;
use consoled::storage::{DriverState, DriverStepResult};

use crate::{audit, new_cluster, on_every_backend, org, Backend};

async fn leases_go_to_one_runner_at_a_time(b: &Backend) {
    let store = b.store.as_ref();
    let a = org(store, "a").await;
    let c = new_cluster(&a.id, "c", 10);
    store
        .insert_cluster(&c, &audit(&a.id, &c.id))
        .await
        .unwrap();
    assert_eq!(
        store.driver_work(Timestamp(1_000), 10).await.unwrap(),
        vec![c.id.clone()]
    );

    // Two runners race for a cluster never seen: one gets it.
    let other = b.reopen().await;
    let (one, two) = tokio::join!(
        store.claim_driver_lease(&c.id, &a.id, "r1", Timestamp(1_000), Timestamp(11_000)),
        other.claim_driver_lease(&c.id, &a.id, "r2", Timestamp(1_000), Timestamp(11_000)),
    );
    let (one, two) = (one.unwrap(), two.unwrap());
    assert!(one.is_some() != two.is_some(), "exactly one claim succeeds");
    let (winner, loser) = if one.is_some() {
        ("r1", "r2")
    } else {
        ("r2", "r1")
    };
    // Leased: not due for anyone else, and not claimable until it expires.
    assert!(store
        .driver_work(Timestamp(2_000), 10)
        .await
        .unwrap()
        .is_empty());
    assert!(store
        .claim_driver_lease(&c.id, &a.id, loser, Timestamp(5_000), Timestamp(15_000))
        .await
        .unwrap()
        .is_none());
    assert!(store
        .renew_driver_lease(&c.id, winner, Timestamp(12_000))
        .await
        .unwrap());
    // Expired: the other runner takes over, and the first one's result is not written.
    let taken = store
        .claim_driver_lease(&c.id, &a.id, loser, Timestamp(12_001), Timestamp(22_000))
        .await
        .unwrap()
        .expect("an expired lease can be taken over");
    let late = DriverStepResult {
        state: DriverState {
            seen_version: c.version,
            applied: Some("{}".into()),
            ..taken.clone()
        },
        audit: vec![audit(&a.id, &c.id)],
        ..Default::default()
    };
    assert!(!store.finish_driver_step(winner, &late).await.unwrap());
    assert!(store.finish_driver_step(loser, &late).await.unwrap());
    let stored = store.driver_state(&c.id).await.unwrap().unwrap();
    assert_eq!(stored.applied.as_deref(), Some("{}"));
    assert_eq!(stored.lease_owner, None);
    // In step with the cluster: no work until it changes.
    assert!(store
        .driver_work(Timestamp(30_000), 10)
        .await
        .unwrap()
        .is_empty());

    // Deleted: listed as a teardown until a finished step forgets it.
    store
        .delete_cluster(&a.id, &c.id, &audit(&a.id, &c.id))
        .await
        .unwrap();
    assert_eq!(
        store.driver_work(Timestamp(30_000), 10).await.unwrap(),
        vec![c.id.clone()]
    );
    let deleting = store.deleting_clusters().await.unwrap();
    assert_eq!(deleting.len(), 1);
    assert!(deleting[0].deleted_at.is_some());
    let state = store
        .claim_driver_lease(&c.id, &a.id, "r3", Timestamp(30_000), Timestamp(40_000))
        .await
        .unwrap()
        .unwrap();
    let done = DriverStepResult {
        state,
        forget: true,
        ..Default::default()
    };
    assert!(store.finish_driver_step("r3", &done).await.unwrap());
    assert!(store.deleting_clusters().await.unwrap().is_empty());
    assert!(store
        .driver_work(Timestamp(50_000), 10)
        .await
        .unwrap()
        .is_empty());
}

async fn a_probe_is_claimed_once_per_interval(b: &Backend) {
    let store = b.store.as_ref();
    let a = org(store, "a").await;
    let c = new_cluster(&a.id, "c", 10);
    store
        .insert_cluster(&c, &audit(&a.id, &c.id))
        .await
        .unwrap();
    let state = store
        .claim_driver_lease(&c.id, &a.id, "r", Timestamp(1_000), Timestamp(2_000))
        .await
        .unwrap()
        .unwrap();
    let reported = DriverStepResult {
        state: DriverState {
            seen_version: c.version,
            applied: Some("{}".into()),
            report: Some(r#"{"health":{"zeebe":"http://h/z"}}"#.into()),
            ..state
        },
        ..Default::default()
    };
    assert!(store.finish_driver_step("r", &reported).await.unwrap());
    let other = b.reopen().await;
    let (one, two) = tokio::join!(
        store.claim_probes(Timestamp(3_000), Timestamp(13_000), 10),
        other.claim_probes(Timestamp(3_000), Timestamp(13_000), 10),
    );
    assert_eq!(
        one.unwrap().len() + two.unwrap().len(),
        1,
        "one replica probes it"
    );
    assert!(store
        .claim_probes(Timestamp(12_999), Timestamp(23_000), 10)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        store
            .claim_probes(Timestamp(13_000), Timestamp(23_000), 10)
            .await
            .unwrap()
            .len(),
        1,
        "due again after the interval"
    );
}

#[tokio::test]
async fn driver_leases_hold() {
    on_every_backend!(leases_go_to_one_runner_at_a_time);
}

#[tokio::test]
async fn driver_probes_are_shared() {
    on_every_backend!(a_probe_is_claimed_once_per_interval);
}
