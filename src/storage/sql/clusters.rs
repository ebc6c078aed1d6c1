// Included into each backend module (`storage/sqlite.rs`, `storage/postgres.rs`), where
// `Backend` is that backend's store type and `Db` its sqlx driver.
#[allow(unused_imports)]
use super::{Backend, Db};
#[allow(unused_imports)]
use crate::storage::sql_prelude::*;

#[async_trait]
impl crate::storage::ClusterStore for Backend {
    async fn insert_cluster(&self, c: &Cluster, audit: &AuditEntry) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        sqlx::query(concat!("INSERT INTO clusters (", cluster_columns!(), ") \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23)"))
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
        Backend::insert_audit(&mut tx, audit).await?;
        self.commit(tx).await
    }

    async fn cluster(&self, org_id: &str, id: &str) -> StoreResult<Option<Cluster>> {
        let row: Option<ClusterRow> = sqlx::query_as(concat!(
            "SELECT ",
            cluster_columns!(),
            " FROM clusters WHERE id = $1 AND org_id = $2"
        ))
        .bind(id)
        .bind(org_id)
        .fetch_optional(&self.reader)
        .await
        .db()?;
        Ok(row.map(Into::into))
    }

    async fn clusters(&self, org_id: &str) -> StoreResult<Vec<Cluster>> {
        let rows: Vec<ClusterRow> = sqlx::query_as(concat!(
            "SELECT ",
            cluster_columns!(),
            " FROM clusters WHERE org_id = $1 ORDER BY created_at, id"
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
        let deleted = sqlx::query("DELETE FROM clusters WHERE id = $1 AND org_id = $2")
            .bind(id)
            .bind(org_id)
            .execute(&mut *tx)
            .await
            .db()?
            .rows_affected();
        self.commit_audited(tx, deleted, audit).await
    }

    async fn update_cluster_settings(
        &self,
        c: &Cluster,
        audit: &[AuditEntry],
    ) -> StoreResult<bool> {
        let mut tx = self.begin().await?;
        let updated = sqlx::query(
            "UPDATE clusters SET name = $1, description = $2, stage_label = $3, \
             hardware_packages = $4, ip_allowlist = $5, version = version + 1 \
             WHERE id = $6 AND org_id = $7 AND version = $8",
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
            Backend::insert_audit(&mut tx, entry).await?;
        }
        self.commit(tx).await?;
        Ok(true)
    }

    async fn transitional_clusters(&self, limit: i64) -> StoreResult<Vec<Cluster>> {
        let rows: Vec<ClusterRow> = sqlx::query_as(concat!(
            "SELECT ",
            cluster_columns!(),
            " FROM clusters \
             WHERE status IN ('Creating', 'Updating', 'Resuming') ORDER BY status_since LIMIT $1"
        ))
        .bind(limit)
        .fetch_all(&self.reader)
        .await
        .db()?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    async fn advance_cluster(
        &self,
        id: &str,
        expected_version: i64,
        progress: &ClusterProgress,
        audit: Option<&AuditEntry>,
    ) -> StoreResult<bool> {
        let step = ClusterStep {
            id: id.to_string(),
            expected_version,
            progress: progress.clone(),
            audit: audit.cloned(),
        };
        Ok(self.advance_clusters(std::slice::from_ref(&step)).await? == 1)
    }

    async fn advance_clusters(&self, steps: &[ClusterStep]) -> StoreResult<usize> {
        if steps.is_empty() {
            return Ok(0);
        }
        let mut tx = self.begin().await?;
        let mut applied = 0;
        for step in steps {
            let p = &step.progress;
            let updated = sqlx::query(
                "UPDATE clusters SET status = $1, zeebe_status = $2, operate_status = $3, \
                 tasklist_status = $4, optimize_status = $5, connectors_status = $6, generation_id = $7, \
                 target_generation_id = $8, status_since = $9, version = version + 1 \
                 WHERE id = $10 AND version = $11",
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
            .bind(&step.id)
            .bind(step.expected_version)
            .execute(&mut *tx)
            .await
            .db()?
            .rows_affected();
            // A step that lost to another writer is skipped; its audit record with it.
            if updated == 1 {
                applied += 1;
                if let Some(audit) = &step.audit {
                    Backend::insert_audit(&mut tx, audit).await?;
                }
            }
        }
        if applied > 0 {
            self.commit(tx).await?;
        }
        Ok(applied)
    }
}
