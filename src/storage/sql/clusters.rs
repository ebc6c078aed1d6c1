// Included into each backend module (`storage/sqlite`, `storage/postgres.rs`), where
// `Backend` is that backend's store type (a `SqlBackend`) and `Db` its sqlx driver.
#[allow(unused_imports)]
use super::{Backend, Db};
#[allow(unused_imports)]
use crate::storage::sql_prelude::*;

#[async_trait]
impl crate::storage::ClusterStore for Backend {
    async fn insert_cluster(&self, c: &Cluster, audit: &AuditEntry) -> StoreResult<()> {
        self.insert_cluster_durably(c, audit).await
    }

    async fn cluster(&self, org_id: &str, id: &str) -> StoreResult<Option<Cluster>> {
        let row: Option<ClusterRow> = self
            .fetch_optional_by(concat!(
            "SELECT ",
            cluster_columns!(),
            " FROM clusters WHERE id = $1 AND org_id = $2"
        ), &[id, org_id])
            .await?;
        Ok(row.map(Into::into))
    }

    async fn clusters(&self, org_id: &str) -> StoreResult<Vec<Cluster>> {
        let rows: Vec<ClusterRow> = self
            .fetch_all_by(concat!(
            "SELECT ",
            cluster_columns!(),
            " FROM clusters WHERE org_id = $1 ORDER BY created_at, id"
        ), &[org_id])
            .await?;
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
        // A cluster the exec driver handles is torn down next, without waiting out the
        // backoff of a step that was failing.
        sqlx::query(
            "UPDATE driver_state SET deleted_at = $1, attempts = 0, next_attempt_at = 0, \
             step = NULL, operation_id = NULL WHERE cluster_id = $2",
        )
        .bind(audit.timestamp.millis())
        .bind(id)
        .execute(&mut *tx)
        .await
        .db()?;
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

    async fn cluster_status_counts(&self) -> StoreResult<Vec<(String, i64)>> {
        sqlx::query_as("SELECT status, COUNT(*) FROM clusters GROUP BY status")
            .fetch_all(self.reader())
            .await
            .db()
    }

    async fn transitional_clusters(&self, limit: i64) -> StoreResult<Vec<Cluster>> {
        let rows: Vec<ClusterRow> = sqlx::query_as(concat!(
            "SELECT ",
            cluster_columns!(),
            " FROM clusters \
             WHERE status IN ('Creating', 'Updating', 'Resuming') ORDER BY status_since LIMIT $1"
        ))
        .bind(limit)
        .fetch_all(self.reader())
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
        let applied = Backend::apply_cluster_steps(&mut tx, steps).await?;
        if applied == 0 {
            return Ok(0);
        }
        self.commit(tx).await?;
        Ok(applied)
    }
}

impl Backend {
    /// Applies reconciler steps inside the caller's transaction, each conditional on its
    /// version, with the activity records of those that applied; how many applied.
    pub(in crate::storage) async fn apply_cluster_steps(
        tx: &mut sqlx::Transaction<'_, Db>,
        steps: &[ClusterStep],
    ) -> StoreResult<usize> {
        if steps.is_empty() {
            return Ok(0);
        }
        // One statement for the whole pass; a step whose version moved on (another writer
        // got there first) matches nothing and is skipped, its audit record with it.
        let mut update = sqlx::QueryBuilder::<Db>::new(
            "WITH step (step_id, expected_version, status, zeebe_status, operate_status, \
             tasklist_status, optimize_status, connectors_status, generation_id, \
             target_generation_id, status_since) AS (",
        );
        update.push_values(steps, |mut row, step| {
            let p = &step.progress;
            row.push_bind(&step.id)
                .push_bind(step.expected_version)
                .push_bind(p.status.as_str())
                .push_bind(p.components.zeebe.as_str())
                .push_bind(p.components.operate.as_str())
                .push_bind(p.components.tasklist.as_str())
                .push_bind(p.components.optimize.as_str())
                .push_bind(p.components.connectors.as_str())
                .push_bind(&p.generation_id)
                .push_bind(&p.target_generation_id)
                .push_bind(p.status_since.millis());
        });
        update.push(
            ") UPDATE clusters SET status = step.status, zeebe_status = step.zeebe_status, \
             operate_status = step.operate_status, tasklist_status = step.tasklist_status, \
             optimize_status = step.optimize_status, connectors_status = step.connectors_status, \
             generation_id = step.generation_id, target_generation_id = step.target_generation_id, \
             status_since = step.status_since, version = clusters.version + 1 \
             FROM step WHERE clusters.id = step.step_id AND clusters.version = step.expected_version \
             RETURNING id",
        );
        let applied: std::collections::HashSet<String> = update
            .build_query_scalar()
            .fetch_all(&mut **tx)
            .await
            .db()?
            .into_iter()
            .collect();
        let audits: Vec<&AuditEntry> = steps
            .iter()
            .filter(|step| applied.contains(&step.id))
            .filter_map(|step| step.audit.as_ref())
            .collect();
        Backend::insert_audits(tx, &audits).await?;
        Ok(applied.len())
    }

    /// Checks that the cluster exists in the organization and locks its row where the
    /// backend needs it ([`SqlBackend::LOCK_ROWS`]), so limits checked by counting its
    /// children (clients, secrets) hold under concurrent writers.
    pub(in crate::storage) async fn lock_cluster(
        tx: &mut sqlx::Transaction<'_, Db>,
        org_id: &str,
        cluster_id: &str,
    ) -> StoreResult<bool> {
        let sql = format!(
            "SELECT id FROM clusters WHERE id = $1 AND org_id = $2{}",
            Backend::LOCK_ROWS
        );
        let found: Option<String> = sqlx::query_scalar(&sql)
            .bind(cluster_id)
            .bind(org_id)
            .fetch_optional(&mut **tx)
            .await
            .db()?;
        Ok(found.is_some())
    }

    /// Inserts new clusters and their activity records: two statements however many
    /// clusters, so a group of concurrent creates costs the writer little more than one.
    pub(in crate::storage) async fn insert_new_clusters(
        tx: &mut sqlx::Transaction<'_, Db>,
        created: &[(&Cluster, &AuditEntry)],
    ) -> StoreResult<()> {
        if created.is_empty() {
            return Ok(());
        }
        let mut insert = sqlx::QueryBuilder::<Db>::new(concat!(
            "INSERT INTO clusters (",
            cluster_columns!(),
            ") "
        ));
        insert.push_values(created, |mut row, (c, _)| {
            row.push_bind(&c.id)
                .push_bind(&c.org_id)
                .push_bind(&c.name)
                .push_bind(&c.description)
                .push_bind(&c.channel_id)
                .push_bind(&c.generation_id)
                .push_bind(&c.region_id)
                .push_bind(&c.plan_type_id)
                .push_bind(&c.backup_region_id)
                .push_bind(c.auto_update)
                .push_bind(c.stage_label.map(StageLabel::as_str))
                .push_bind(c.hardware_packages)
                .push_bind(c.status.as_str())
                .push_bind(c.components.zeebe.as_str())
                .push_bind(c.components.operate.as_str())
                .push_bind(c.components.tasklist.as_str())
                .push_bind(c.components.optimize.as_str())
                .push_bind(c.components.connectors.as_str())
                .push_bind(&c.target_generation_id)
                .push_bind(c.status_since.millis())
                .push_bind(c.created_at.millis())
                .push_bind(c.version)
                .push_bind(allowlist_json(&c.ip_allowlist));
        });
        insert.build().execute(&mut **tx).await.db()?;
        let audits: Vec<&AuditEntry> = created.iter().map(|(_, audit)| *audit).collect();
        Backend::insert_audits(tx, &audits).await
    }
}
