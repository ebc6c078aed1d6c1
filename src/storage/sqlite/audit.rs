use async_trait::async_trait;

use super::*;

#[async_trait]
impl crate::storage::AuditStore for SqliteStore {
    async fn audit_events(&self, org_id: &str, limit: i64) -> StoreResult<Vec<AuditEntry>> {
        let rows: Vec<AuditRow> = sqlx::query_as(
            "SELECT id, org_id, ts, service, audit_type, audit, entity, entity_id, entity_attribute, \
             value_from, value_to, parent_entity, parent_entity_id, user_id \
             FROM audit_events WHERE org_id = ? ORDER BY seq DESC LIMIT ?",
        )
        .bind(org_id)
        .bind(limit)
        .fetch_all(&self.reader)
        .await
        .db()?;
        Ok(rows.into_iter().map(Into::into).collect())
    }
}
