//! The installation-wide limit state (PostgreSQL only: on SQLite one process owns the
//! database and counts in memory, so the store offers none). Counts are atomic across
//! connections: replicas racing for the last requests of a budget get exactly the budget.

use std::sync::Arc;
use std::time::Duration;

use consoled::storage::shared_limits::{Counted, SharedLimitStore, SharedLockout, SharedRate};

use crate::Backend;

/// Ten requests per 1,000 s: nothing refills while a test runs.
const RATE: SharedRate = SharedRate {
    interval: Duration::from_secs(100),
    tolerance: Duration::from_secs(1000),
};

fn client(key: &[u8]) -> Counted<'_> {
    Counted { key, rate: RATE }
}

fn shared(backend: &Backend) -> Option<Arc<dyn SharedLimitStore>> {
    let shared = backend.store.shared_limits();
    assert_eq!(
        shared.is_some(),
        backend.name == "postgres",
        "{}",
        backend.name
    );
    shared
}

async fn racing_requests_get_exactly_the_budget(backend: &Backend) {
    let Some(first) = shared(backend) else { return };
    let second = backend.reopen().await.shared_limits().unwrap();
    let attempts: Vec<_> = (0..40)
        .map(|i| {
            let store = if i % 2 == 0 {
                first.clone()
            } else {
                second.clone()
            };
            tokio::spawn(
                async move { store.count(None, Some(client(b"client:racer")), None).await },
            )
        })
        .collect();
    let mut allowed = 0;
    let mut waits = Vec::new();
    for attempt in attempts {
        let count = attempt.await.unwrap().unwrap();
        match count.wait {
            None => allowed += 1,
            Some(wait) => waits.push(wait),
        }
    }
    assert_eq!(allowed, 10);
    // The next request is allowed one interval after the budget ran out.
    assert!(
        waits
            .iter()
            .all(|w| *w > Duration::from_secs(90) && *w <= Duration::from_secs(100)),
        "{waits:?}"
    );
    // Another key has its own budget; a key may hold any byte.
    let other = first
        .count(None, Some(client(b"client:\0other")), None)
        .await
        .unwrap();
    assert_eq!(other.wait, None);
    // The sweep keeps what still holds back.
    first.sweep(Duration::from_secs(60)).await.unwrap();
    let after = first
        .count(None, Some(client(b"client:racer")), None)
        .await
        .unwrap();
    assert!(after.wait.is_some());
}

async fn failures_lock_from_the_threshold_doubling(backend: &Backend) {
    let Some(store) = shared(backend) else { return };
    let rule = SharedLockout {
        threshold: 3,
        first_lock: Duration::from_secs(10),
        longest_lock: Duration::from_secs(25),
        forget_after: Duration::from_secs(900),
    };
    let key: &[u8] = b"127.0.0.1\0victim";
    let lock = |store: Arc<dyn SharedLimitStore>| async move {
        store.count(None, None, Some(key)).await.unwrap()
    };
    let clean = lock(store.clone()).await;
    assert_eq!(
        (clean.locked_for, clean.has_failures, clean.wait),
        (None, false, None)
    );
    for _ in 0..2 {
        store.record_failure(key, rule).await.unwrap();
    }
    let two = lock(store.clone()).await;
    assert_eq!((two.locked_for, two.has_failures), (None, true));
    store.record_failure(key, rule).await.unwrap();
    let locked = lock(store.clone()).await.locked_for.unwrap();
    assert!(
        locked > Duration::from_secs(9) && locked <= Duration::from_secs(10),
        "{locked:?}"
    );
    store.record_failure(key, rule).await.unwrap();
    let doubled = lock(store.clone()).await.locked_for.unwrap();
    assert!(
        doubled > Duration::from_secs(19) && doubled <= Duration::from_secs(20),
        "{doubled:?}"
    );
    store.record_failure(key, rule).await.unwrap();
    let capped = lock(store.clone()).await.locked_for.unwrap();
    assert!(
        capped > Duration::from_secs(24) && capped <= Duration::from_secs(25),
        "{capped:?}"
    );
    // The sweep keeps a lock in force; a right secret ends it.
    store.sweep(rule.forget_after).await.unwrap();
    assert!(lock(store.clone()).await.locked_for.is_some());
    store.clear_failures(key).await.unwrap();
    let cleared = lock(store.clone()).await;
    assert_eq!((cleared.locked_for, cleared.has_failures), (None, false));
}

/// A source's budget refuses before the client's is counted, as two checks in a row would.
async fn a_refused_source_leaves_the_client_uncounted(backend: &Backend) {
    let Some(store) = shared(backend) else { return };
    let tight = SharedRate {
        interval: Duration::from_secs(100),
        tolerance: Duration::from_secs(100),
    };
    let source = Counted {
        key: b"source:10.0.0.1",
        rate: tight,
    };
    let first = store
        .count(Some(source), Some(client(b"client:a")), None)
        .await
        .unwrap();
    assert_eq!(first.wait, None);
    for _ in 0..3 {
        let refused = store
            .count(Some(source), Some(client(b"client:a")), None)
            .await
            .unwrap();
        assert!(refused.wait.unwrap() > Duration::from_secs(90));
    }
    // Nine of the client's ten remain: the refused requests did not count.
    let mut allowed = 0;
    for _ in 0..12 {
        let count = store
            .count(None, Some(client(b"client:a")), None)
            .await
            .unwrap();
        allowed += usize::from(count.wait.is_none());
    }
    assert_eq!(allowed, 9);
}

#[tokio::test]
async fn a_refused_source_leaves_the_client_uncounted_on_every_backend() {
    crate::on_every_backend!(a_refused_source_leaves_the_client_uncounted);
}

#[tokio::test]
async fn racing_requests_get_exactly_the_budget_on_every_backend() {
    crate::on_every_backend!(racing_requests_get_exactly_the_budget);
}

#[tokio::test]
async fn failures_lock_from_the_threshold_doubling_on_every_backend() {
    crate::on_every_backend!(failures_lock_from_the_threshold_doubling);
}
