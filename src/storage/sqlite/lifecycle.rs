use async_trait::async_trait;

use super::*;

/// `?, ?, ?` for `n` values: the lists below come from the catalog, not from clients.
fn placeholders(n: usize) -> String {
    vec!["?"; n].join(", ")
}

#[async_trait]
impl crate::storage::ClusterLifecycleStore for SqliteStore {
    async fn auto_update_candidates(
        &self,
        current_generations: &[String],
        limit: i64,
    ) -> StoreResult<Vec<Cluster>> {
        let up_to_date = if current_generations.is_empty() {
            String::new()
        } else {
            format!(
                "AND generation_id NOT IN ({})",
                placeholders(current_generations.len())
            )
        };
        let sql = format!(
            "SELECT {CLUSTER_COLUMNS} FROM clusters \
             WHERE status = 'Healthy' AND auto_update = TRUE {up_to_date} \
             ORDER BY status_since LIMIT ?"
        );
        let mut query = sqlx::query_as::<_, ClusterRow>(&sql);
        for generation in current_generations {
            query = query.bind(generation);
        }
        let rows = query.bind(limit).fetch_all(&self.reader).await.db()?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    async fn idle_candidates(
        &self,
        plan_type_ids: &[String],
        healthy_since: Timestamp,
        limit: i64,
    ) -> StoreResult<Vec<Cluster>> {
        if plan_type_ids.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT {CLUSTER_COLUMNS} FROM clusters \
             WHERE status = 'Healthy' AND status_since <= ? AND plan_type_id IN ({}) \
             ORDER BY status_since LIMIT ?",
            placeholders(plan_type_ids.len())
        );
        let mut query = sqlx::query_as::<_, ClusterRow>(&sql).bind(healthy_since.millis());
        for plan in plan_type_ids {
            query = query.bind(plan);
        }
        let rows = query.bind(limit).fetch_all(&self.reader).await.db()?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    async fn cluster_by_id(&self, id: &str) -> StoreResult<Option<Cluster>> {
        let row: Option<ClusterRow> = sqlx::query_as(&format!(
            "SELECT {CLUSTER_COLUMNS} FROM clusters WHERE id = ?"
        ))
        .bind(id)
        .fetch_optional(&self.reader)
        .await
        .db()?;
        Ok(row.map(Into::into))
    }

    async fn all_clusters(&self) -> StoreResult<Vec<Cluster>> {
        let rows: Vec<ClusterRow> = sqlx::query_as(&format!(
            "SELECT {CLUSTER_COLUMNS} FROM clusters ORDER BY org_id, created_at, id"
        ))
        .fetch_all(&self.reader)
        .await
        .db()?;
        Ok(rows.into_iter().map(Into::into).collect())
    }
}
