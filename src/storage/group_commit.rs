//! Group commit for cluster creates, on both backends.
//!
//! SQLite has one writer, and at the default durability every commit waits for the disk;
//! on PostgreSQL every transaction is several round trips and its commit serializes with
//! the others' change notifications. Creates that arrive while a commit is under way queue
//! here and are written together by the next transaction (one multi-row insert for the
//! clusters, one for their activity records, one commit), so a burst of N creates costs a
//! handful of commits instead of N. Every caller is answered only after the commit that
//! holds its rows, so an acknowledged create is exactly as durable as before.

use tokio::sync::{mpsc, oneshot};

use crate::domain::audit::AuditEntry;
use crate::domain::cluster::Cluster;
use crate::storage::{StoreError, StoreResult};

/// At most this many creates share a transaction (23 bound values each, far below
/// SQLite's limit on parameters per statement).
const MAX_GROUP: usize = 128;

pub(crate) struct PendingCreate {
    pub cluster: Cluster,
    pub audit: AuditEntry,
    pub done: oneshot::Sender<StoreResult<()>>,
}

/// Writes a group of new clusters with their activity records in one transaction.
pub(crate) trait GroupWriter: Send + Sync + 'static {
    fn write(
        &self,
        group: &[(&Cluster, &AuditEntry)],
    ) -> impl std::future::Future<Output = StoreResult<()>> + Send;
}

/// The queue a store sends its creates to, and the task that writes them.
pub(crate) fn start(writer: impl GroupWriter) -> mpsc::UnboundedSender<PendingCreate> {
    let (creates, queue) = mpsc::unbounded_channel();
    tokio::spawn(run(writer, queue));
    creates
}

/// Queues a create and waits for the commit that holds it.
pub(crate) async fn create(
    queue: &mpsc::UnboundedSender<PendingCreate>,
    cluster: &Cluster,
    audit: &AuditEntry,
) -> StoreResult<()> {
    let (done, committed) = oneshot::channel();
    let pending = PendingCreate {
        cluster: cluster.clone(),
        audit: audit.clone(),
        done,
    };
    let stopped = || StoreError::Unavailable(sqlx::Error::PoolClosed);
    queue.send(pending).map_err(|_| stopped())?;
    committed.await.map_err(|_| stopped())?
}

/// Writes queued creates until every sender is gone (the store was dropped).
async fn run(writer: impl GroupWriter, mut queue: mpsc::UnboundedReceiver<PendingCreate>) {
    let mut group = Vec::with_capacity(MAX_GROUP);
    while queue.recv_many(&mut group, MAX_GROUP).await > 0 {
        match write(&writer, &group).await {
            // A caller that went away (its connection closed) still has its create.
            Ok(()) => group.drain(..).for_each(|pending| {
                let _ = pending.done.send(Ok(()));
            }),
            Err(e) if group.len() == 1 => {
                let _ = group.remove(0).done.send(Err(e));
            }
            // A constraint broken by one row is not allowed to fail its neighbours: each
            // create is tried alone and answered with its own outcome.
            Err(e) if breaks_a_constraint(&e) => {
                for pending in group.drain(..) {
                    let alone = write(&writer, std::slice::from_ref(&pending)).await;
                    let _ = pending.done.send(alone);
                }
            }
            // The database itself failed (busy past its timeout, disk full, I/O): retrying
            // one by one would only multiply the wait, so the whole group hears of it.
            Err(e) => {
                for pending in group.drain(..) {
                    let _ = pending.done.send(Err(shared_failure(&e)));
                }
            }
        }
    }
}

fn breaks_a_constraint(e: &StoreError) -> bool {
    match e {
        StoreError::Conflict(_) => true,
        StoreError::Database(sqlx::Error::Database(db)) => {
            !matches!(db.kind(), sqlx::error::ErrorKind::Other)
        }
        _ => false,
    }
}

/// The group's failure as each member's answer: unavailability stays a 503 (with its
/// cause), anything else an internal error.
fn shared_failure(e: &StoreError) -> StoreError {
    match e {
        StoreError::Unavailable(cause) => {
            StoreError::Unavailable(sqlx::Error::Io(std::io::Error::other(cause.to_string())))
        }
        other => StoreError::Other(anyhow::anyhow!("group commit failed: {other}")),
    }
}

async fn write(writer: &impl GroupWriter, group: &[PendingCreate]) -> StoreResult<()> {
    let created: Vec<(&Cluster, &AuditEntry)> = group
        .iter()
        .map(|pending| (&pending.cluster, &pending.audit))
        .collect();
    writer.write(&created).await
}
