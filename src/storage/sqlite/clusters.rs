use async_trait::async_trait;

use super::*;

#[async_trait]
impl crate::storage::ClusterStore for SqliteStore {
    async fn insert_cluster(&self, c: &Cluster, audit: &AuditEntry) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        sqlx::query(&format!(
            "INSERT INTO clusters ({CLUSTER_COLUMNS}) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        ))
        .bind(&c.id)
        .bind(&c.org_id)
        .bind(&c.name)
        .bind(&c.description)
        .bind(&c.channel_id)
        .bind(&c.generation_id)
        .bind(&c.region_id)
        .bind(&c.plan_type_id)
        .bind(&c.backup_region_id)
        .bind(c.auto_update)
        .bind(c.stage_label.map(StageLabel::as_str))
        .bind(c.hardware_packages)
        .bind(c.status.as_str())
        .bind(c.components.zeebe.as_str())
        .bind(c.components.operate.as_str())
        .bind(c.components.tasklist.as_str())
        .bind(c.components.optimize.as_str())
        .bind(c.components.connectors.as_str())
        .bind(&c.target_generation_id)
        .bind(c.status_since.millis())
        .bind(c.created_at.millis())
        .bind(c.version)
        .bind(allowlist_json(&c.ip_allowlist))
        .execute(&mut *tx)
        .await
        .db()?;
        insert_audit(&mut tx, audit).await?;
        tx.commit().await.db()
    }

    async fn cluster(&self, org_id: &str, id: &str) -> StoreResult<Option<Cluster>> {
        let row: Option<ClusterRow> = sqlx::query_as(&format!(
            "SELECT {CLUSTER_COLUMNS} FROM clusters WHERE id = ? AND org_id = ?"
        ))
        .bind(id)
        .bind(org_id)
        .fetch_optional(&self.reader)
        .await
        .db()?;
        Ok(row.map(Into::into))
    }

    async fn clusters(&self, org_id: &str) -> StoreResult<Vec<Cluster>> {
        let rows: Vec<ClusterRow> = sqlx::query_as(&format!(
            "SELECT {CLUSTER_COLUMNS} FROM clusters WHERE org_id = ? ORDER BY created_at, id"
        ))
        .bind(org_id)
        .fetch_all(&self.reader)
        .await
        .db()?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    async fn delete_cluster(
        &self,
        org_id: &str,
        id: &str,
        audit: &AuditEntry,
    ) -> StoreResult<bool> {
        let mut tx = self.begin().await?;
        let deleted = sqlx::query("DELETE FROM clusters WHERE id = ? AND org_id = ?")
            .bind(id)
            .bind(org_id)
            .execute(&mut *tx)
            .await
            .db()?
            .rows_affected();
        if deleted == 0 {
            return Ok(false);
        }
        insert_audit(&mut tx, audit).await?;
        tx.commit().await.db()?;
        Ok(true)
    }

    async fn update_cluster_settings(
        &self,
        c: &Cluster,
        audit: &[AuditEntry],
    ) -> StoreResult<bool> {
        let mut tx = self.begin().await?;
        let updated = sqlx::query(
            "UPDATE clusters SET name = ?, description = ?, stage_label = ?, \
             hardware_packages = ?, ip_allowlist = ?, version = version + 1 \
             WHERE id = ? AND org_id = ? AND version = ?",
        )
        .bind(&c.name)
        .bind(&c.description)
        .bind(c.stage_label.map(StageLabel::as_str))
        .bind(c.hardware_packages)
        .bind(allowlist_json(&c.ip_allowlist))
        .bind(&c.id)
        .bind(&c.org_id)
        .bind(c.version)
        .execute(&mut *tx)
        .await
        .db()?
        .rows_affected();
        if updated == 0 {
            return Ok(false);
        }
        for entry in audit {
            insert_audit(&mut tx, entry).await?;
        }
        tx.commit().await.db()?;
        Ok(true)
    }

    async fn transitional_clusters(&self, limit: i64) -> StoreResult<Vec<Cluster>> {
        let rows: Vec<ClusterRow> = sqlx::query_as(&format!(
            "SELECT {CLUSTER_COLUMNS} FROM clusters \
             WHERE status IN ('Creating', 'Updating', 'Resuming') ORDER BY status_since LIMIT ?"
        ))
        .bind(limit)
        .fetch_all(&self.writer)
        .await
        .db()?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    async fn advance_cluster(
        &self,
        id: &str,
        expected_version: i64,
        p: &ClusterProgress,
        audit: Option<&AuditEntry>,
    ) -> StoreResult<bool> {
        let mut tx = self.begin().await?;
        let updated = sqlx::query(
            "UPDATE clusters SET status = ?, zeebe_status = ?, operate_status = ?, \
             tasklist_status = ?, optimize_status = ?, connectors_status = ?, generation_id = ?, \
             target_generation_id = ?, status_since = ?, version = version + 1 \
             WHERE id = ? AND version = ?",
        )
        .bind(p.status.as_str())
        .bind(p.components.zeebe.as_str())
        .bind(p.components.operate.as_str())
        .bind(p.components.tasklist.as_str())
        .bind(p.components.optimize.as_str())
        .bind(p.components.connectors.as_str())
        .bind(&p.generation_id)
        .bind(&p.target_generation_id)
        .bind(p.status_since.millis())
        .bind(id)
        .bind(expected_version)
        .execute(&mut *tx)
        .await
        .db()?
        .rows_affected();
        if updated == 0 {
            return Ok(false);
        }
        if let Some(audit) = audit {
            insert_audit(&mut tx, audit).await?;
        }
        tx.commit().await.db()?;
        Ok(true)
    }
}
