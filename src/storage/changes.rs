//! What other replicas committed, as PostgreSQL carries it: triggers on the tables whose
//! rows cached reads are made of (`migrations/postgres/0007_change_notifications.sql`) call
//! `pg_notify` in the writing transaction, so a notification exists exactly when the write
//! committed; every replica `LISTEN`s on [`CHANNEL`] and drops what changed.
//!
//! The feed is also honest about its own health: while the listening connection is down,
//! [`ChangeFeed::is_live`] is false and nothing may be served from a cache that relies on
//! it (the store's write epoch is unknown); after reconnecting it starts a new epoch
//! ([`Change::Resync`]), so whatever was cached before the outage is dropped.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Weak;
use std::time::Duration;

use sqlx::postgres::{PgListener, PgPool};
use tokio::sync::broadcast;

/// The notification channel of the triggers.
pub const CHANNEL: &str = "consoled_changes";

/// Notifications waiting for the dispatcher; beyond this it resynchronises.
const BACKLOG: usize = 4096;

/// One committed change, as the triggers describe it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// A row of the organization's clusters (or what is shown with them) changed.
    Org(String),
    /// A Console API client was created, rotated, changed or deleted.
    Client(String),
    /// The signing keys changed (a rotation).
    SigningKeys,
    /// Wrong secrets of a lockout key (`failed_secrets.key`) came on record (`present`)
    /// or went.
    Failures { key: Vec<u8>, present: bool },
    /// Notifications may have been missed: drop everything derived from the database.
    Resync,
}

impl Change {
    /// Reads a trigger's payload: `org:<id>`, `client:<id>` or `keys:`.
    pub fn parse(payload: &str) -> Option<Change> {
        let (kind, id) = payload.split_once(':')?;
        match kind {
            "org" if !id.is_empty() => Some(Change::Org(id.to_string())),
            "client" if !id.is_empty() => Some(Change::Client(id.to_string())),
            "keys" => Some(Change::SigningKeys),
            "lock" => {
                let (present, hex) = match id.split_at_checked(1)? {
                    ("+", hex) => (true, hex),
                    ("-", hex) => (false, hex),
                    _ => return None,
                };
                let key = decode_hex(hex)?;
                Some(Change::Failures { key, present })
            }
            _ => None,
        }
    }
}

/// Bytes from lower-case hex, as PostgreSQL's `encode(…, 'hex')` writes them.
fn decode_hex(hex: &str) -> Option<Vec<u8>> {
    if !hex.len().is_multiple_of(2) {
        return None;
    }
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
        .collect()
}

/// The listening side, shared by the store and its listener task.
pub struct ChangeFeed {
    live: AtomicBool,
    /// Moves with every commit made through this process and every resynchronisation.
    epoch: AtomicU64,
    sender: broadcast::Sender<Change>,
}

impl ChangeFeed {
    pub fn new() -> ChangeFeed {
        ChangeFeed {
            live: AtomicBool::new(false),
            epoch: AtomicU64::new(0),
            sender: broadcast::channel(BACKLOG).0,
        }
    }

    /// Whether every committed change reaches this process now.
    pub fn is_live(&self) -> bool {
        self.live.load(Ordering::Acquire)
    }

    /// The write epoch while the feed is live; None (nothing may be cached) while not.
    pub fn epoch(&self) -> Option<u64> {
        self.is_live().then(|| self.epoch.load(Ordering::Acquire))
    }

    /// A commit through this process: its own reads must see it at once, before its
    /// notification comes back.
    pub fn committed_here(&self) {
        self.epoch.fetch_add(1, Ordering::AcqRel);
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Change> {
        self.sender.subscribe()
    }

    fn went_down(&self) {
        self.live.store(false, Ordering::Release);
    }

    fn came_up(&self) {
        // A new epoch first, then live: nothing cached before the outage is served again.
        self.epoch.fetch_add(1, Ordering::AcqRel);
        self.live.store(true, Ordering::Release);
        let _ = self.sender.send(Change::Resync);
    }

    fn publish(&self, change: Change) {
        let _ = self.sender.send(change);
    }
}

impl Default for ChangeFeed {
    fn default() -> Self {
        ChangeFeed::new()
    }
}

/// Listens until the store is dropped: connects, `LISTEN`s, forwards every notification,
/// and on any failure marks the feed down and reconnects (backing off up to 2 s).
pub async fn listen(pool: PgPool, feed: Weak<ChangeFeed>) {
    let mut backoff = Duration::from_millis(50);
    loop {
        if feed.strong_count() == 0 {
            return;
        }
        let mut listener = match connect(&pool).await {
            Ok(listener) => listener,
            Err(e) => {
                tracing::warn!(error = %e, "the change listener cannot connect; reads are not cached");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(2));
                continue;
            }
        };
        let Some(up) = feed.upgrade() else { return };
        up.came_up();
        drop(up);
        backoff = Duration::from_millis(50);
        loop {
            // Wakes up now and then to notice a dropped store.
            let next = tokio::time::timeout(Duration::from_secs(1), listener.try_recv()).await;
            let Some(feed) = feed.upgrade() else { return };
            match next {
                Err(_) => continue,
                Ok(Ok(Some(notification))) => {
                    if let Some(change) = Change::parse(notification.payload()) {
                        feed.publish(change);
                    }
                }
                Ok(Ok(None)) | Ok(Err(_)) => {
                    feed.went_down();
                    tracing::warn!("the change listener lost its connection; reconnecting");
                    break;
                }
            }
        }
    }
}

async fn connect(pool: &PgPool) -> Result<PgListener, sqlx::Error> {
    let mut listener = PgListener::connect_with(pool).await?;
    // Never reconnect silently: a reconnection must start a new epoch (above), so a lost
    // connection ends this listener and `listen` makes a new one.
    listener.eager_reconnect(false);
    listener.listen(CHANNEL).await?;
    Ok(listener)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads() {
        assert_eq!(Change::parse("org:o1"), Some(Change::Org("o1".into())));
        assert_eq!(
            Change::parse("client:c:1"),
            Some(Change::Client("c:1".into()))
        );
        assert_eq!(Change::parse("keys:"), Some(Change::SigningKeys));
        assert_eq!(Change::parse("org:"), None);
        assert_eq!(Change::parse("nonsense"), None);
        assert_eq!(
            Change::parse("lock:+00ff41"),
            Some(Change::Failures {
                key: vec![0, 255, b'A'],
                present: true
            })
        );
        assert_eq!(
            Change::parse("lock:-"),
            Some(Change::Failures {
                key: vec![],
                present: false
            })
        );
        for bad in ["lock:", "lock:*00", "lock:+0", "lock:+zz", "lock:+é0"] {
            assert_eq!(Change::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn the_epoch_is_known_only_while_live_and_moves_on_resync() {
        let feed = ChangeFeed::new();
        assert_eq!(feed.epoch(), None);
        feed.came_up();
        let first = feed.epoch().unwrap();
        feed.committed_here();
        assert_eq!(feed.epoch(), Some(first + 1));
        feed.went_down();
        assert_eq!(feed.epoch(), None);
        feed.came_up();
        assert!(feed.epoch().unwrap() > first + 1);
    }
}
