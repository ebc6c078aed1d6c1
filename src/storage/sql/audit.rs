// Included into each backend module (`storage/sqlite`, `storage/postgres.rs`), where
// `Backend` is that backend's store type (a `SqlBackend`) and `Db` its sqlx driver.
#[allow(unused_imports)]
use super::{Backend, Db};
#[allow(unused_imports)]
use crate::storage::sql_prelude::*;

#[async_trait]
impl crate::storage::AuditStore for Backend {
    async fn audit_events(&self, org_id: &str, limit: i64) -> StoreResult<Vec<AuditEntry>> {
        let rows: Vec<AuditRow> = sqlx::query_as(
            "SELECT id, org_id, ts, service, audit_type, audit, entity, entity_id, entity_attribute, \
             value_from, value_to, parent_entity, parent_entity_id, user_id, request_id \
             FROM audit_events WHERE org_id = $1 ORDER BY seq DESC LIMIT $2",
        )
        .bind(org_id)
        .bind(limit)
        .fetch_all(self.reader())
        .await
        .db()?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    async fn audit_search(
        &self,
        org_id: &str,
        filter: &crate::storage::AuditFilter,
        limit: i64,
    ) -> StoreResult<Vec<(i64, AuditEntry)>> {
        let mut query = sqlx::QueryBuilder::<Db>::new(
            "SELECT seq, id, org_id, ts, service, audit_type, audit, entity, entity_id, \
             entity_attribute, value_from, value_to, parent_entity, parent_entity_id, user_id, \
             request_id FROM audit_events WHERE org_id = ",
        );
        query.push_bind(org_id);
        if let Some(actor) = &filter.actor {
            query.push(" AND user_id = ").push_bind(actor);
        }
        if let Some(kind) = filter.audit_type {
            query.push(" AND audit_type = ").push_bind(kind.code());
        }
        if let Some(entity) = &filter.entity {
            query.push(" AND entity = ").push_bind(entity);
        }
        if let Some(text) = &filter.text {
            // LIKE with its wildcards escaped, so the text is matched as typed; both sides
            // lower-cased (SQLite's LOWER changes ASCII letters only).
            let pattern = format!("%{}%", like_escaped(&text.to_lowercase()));
            query
                .push(" AND (LOWER(audit) LIKE ")
                .push_bind(pattern.clone())
                .push(" ESCAPE '\\' OR LOWER(entity_id) LIKE ")
                .push_bind(pattern)
                .push(" ESCAPE '\\')");
        }
        if let Some(from) = filter.from {
            query.push(" AND ts >= ").push_bind(from.millis());
        }
        if let Some(until) = filter.until {
            query.push(" AND ts < ").push_bind(until.millis());
        }
        if let Some(before) = filter.before {
            query.push(" AND seq < ").push_bind(before);
        }
        query.push(" ORDER BY seq DESC LIMIT ").push_bind(limit);
        let rows: Vec<PositionedAuditRow> = query
            .build_query_as()
            .fetch_all(self.reader())
            .await
            .db()?;
        Ok(rows.into_iter().map(|r| (r.seq, r.row.into())).collect())
    }
}

/// An activity record with its position in the trail.
#[derive(FromRow)]
struct PositionedAuditRow {
    seq: i64,
    #[sqlx(flatten)]
    row: AuditRow,
}

/// `text` with LIKE's wildcards and its escape character escaped (by `\`).
fn like_escaped(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

impl Backend {
    /// The rows a read statement that binds the text `keys` in order returns.
    pub(in crate::storage) async fn fetch_all_by<R>(
        &self,
        sql: &'static str,
        keys: &[&str],
    ) -> StoreResult<Vec<R>>
    where
        R: for<'r> FromRow<'r, <Db as sqlx::Database>::Row> + Send + Unpin,
    {
        let mut query = sqlx::query_as(sql);
        for key in keys {
            query = query.bind(*key);
        }
        query.fetch_all(self.reader()).await.db()
    }

    /// The row, if any, a read statement that binds the text `keys` in order returns.
    pub(in crate::storage) async fn fetch_optional_by<R>(
        &self,
        sql: &'static str,
        keys: &[&str],
    ) -> StoreResult<Option<R>>
    where
        R: for<'r> FromRow<'r, <Db as sqlx::Database>::Row> + Send + Unpin,
    {
        let mut query = sqlx::query_as(sql);
        for key in keys {
            query = query.bind(*key);
        }
        query.fetch_optional(self.reader()).await.db()
    }

    /// Refuses with `LimitReached` when `count_query` (a `COUNT(*)` keyed by `$1`) has
    /// reached `limit`. Runs inside the write transaction, after the lock that serializes
    /// these inserts, so concurrent writers cannot overfill.
    pub(in crate::storage) async fn ensure_below_limit(
        tx: &mut sqlx::Transaction<'_, Db>,
        count_query: &'static str,
        key: &str,
        limit: u32,
    ) -> StoreResult<()> {
        let count: i64 = sqlx::query_scalar(count_query)
            .bind(key)
            .fetch_one(&mut **tx)
            .await
            .db()?;
        if count >= i64::from(limit) {
            return Err(StoreError::LimitReached);
        }
        Ok(())
    }

    /// Finishes a conditional write: commits it with its activity record when it changed
    /// `rows` rows, and writes nothing when it matched none. Returns whether it applied.
    pub(in crate::storage) async fn commit_audited(
        &self,
        mut tx: sqlx::Transaction<'static, Db>,
        rows: u64,
        audit: &crate::domain::audit::AuditEntry,
    ) -> StoreResult<bool> {
        if rows == 0 {
            return Ok(false);
        }
        Backend::insert_audit(&mut tx, audit).await?;
        self.commit(tx).await?;
        Ok(true)
    }

    /// Runs one write statement that binds `keys` in order, and commits it with its
    /// activity record when it changed a row (see [`Self::commit_audited`]).
    pub(in crate::storage) async fn write_audited(
        &self,
        sql: &'static str,
        keys: &[&str],
        audit: &crate::domain::audit::AuditEntry,
    ) -> StoreResult<bool> {
        let mut tx = self.begin().await?;
        let mut query = sqlx::query(sql);
        for key in keys {
            query = query.bind(*key);
        }
        let rows = query.execute(&mut *tx).await.db()?.rows_affected();
        self.commit_audited(tx, rows, audit).await
    }

    /// Writes an activity record inside the caller's transaction.
    pub(in crate::storage) async fn insert_audit(
        tx: &mut sqlx::Transaction<'_, Db>,
        a: &crate::domain::audit::AuditEntry,
    ) -> StoreResult<()> {
        Backend::insert_audits(tx, std::slice::from_ref(&a)).await
    }

    /// Writes activity records inside the caller's transaction, in one statement however
    /// many: batched writers (group commit, reconciler passes) pay one round trip for all.
    pub(in crate::storage) async fn insert_audits(
        tx: &mut sqlx::Transaction<'_, Db>,
        entries: &[&crate::domain::audit::AuditEntry],
    ) -> StoreResult<()> {
        if entries.is_empty() {
            return Ok(());
        }
        let mut insert = sqlx::QueryBuilder::<Db>::new(
            "INSERT INTO audit_events (id, org_id, ts, service, audit_type, audit, entity, entity_id, \
             entity_attribute, value_from, value_to, parent_entity, parent_entity_id, user_id, request_id) ",
        );
        insert.push_values(entries, |mut row, a| {
            row.push_bind(&a.id)
                .push_bind(&a.org_id)
                .push_bind(a.timestamp.millis())
                .push_bind(&a.service)
                .push_bind(a.audit_type.code())
                .push_bind(&a.audit)
                .push_bind(&a.entity)
                .push_bind(&a.entity_id)
                .push_bind(&a.entity_attribute)
                .push_bind(&a.value_from)
                .push_bind(&a.value_to)
                .push_bind(&a.parent_entity)
                .push_bind(&a.parent_entity_id)
                .push_bind(&a.user_id)
                .push_bind(&a.request_id);
        });
        insert.build().execute(&mut **tx).await.db()?;
        Ok(())
    }
}
