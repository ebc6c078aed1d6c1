// Included into each backend module (`storage/sqlite`, `storage/postgres.rs`), where
// `Backend` is that backend's store type (a `SqlBackend`) and `Db` its sqlx driver.
#[allow(unused_imports)]
use super::{Backend, Db};
#[allow(unused_imports)]
use crate::storage::sql_prelude::*;

/// `$first, $first+1, ...` for `n` values: the lists below come from the catalog, not
/// from clients, and are short.
fn placeholders(first: usize, n: usize) -> String {
    (first..first + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[async_trait]
impl crate::storage::ClusterLifecycleStore for Backend {
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
                placeholders(1, current_generations.len())
            )
        };
        let sql = format!(
            concat!(
                "SELECT ",
                cluster_columns!(),
                " FROM clusters WHERE status = 'Healthy' AND auto_update = TRUE {} \
                 ORDER BY status_since LIMIT ${}"
            ),
            up_to_date,
            current_generations.len() + 1
        );
        let mut query = sqlx::query_as::<_, ClusterRow>(&sql);
        for generation in current_generations {
            query = query.bind(generation);
        }
        let rows = query.bind(limit).fetch_all(self.reader()).await.db()?;
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
            concat!(
                "SELECT ",
                cluster_columns!(),
                " FROM clusters WHERE status = 'Healthy' AND status_since <= $1 \
                 AND plan_type_id IN ({}) ORDER BY status_since LIMIT ${}"
            ),
            placeholders(2, plan_type_ids.len()),
            plan_type_ids.len() + 2
        );
        let mut query = sqlx::query_as::<_, ClusterRow>(&sql).bind(healthy_since.millis());
        for plan in plan_type_ids {
            query = query.bind(plan);
        }
        let rows = query.bind(limit).fetch_all(self.reader()).await.db()?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    async fn cluster_by_id(&self, id: &str) -> StoreResult<Option<Cluster>> {
        let row: Option<ClusterRow> = self
            .fetch_optional_by(concat!(
            "SELECT ",
            cluster_columns!(),
            " FROM clusters WHERE id = $1"
        ), &[id])
            .await?;
        Ok(row.map(Into::into))
    }

    async fn clusters_by_ids(&self, ids: &[String]) -> StoreResult<Vec<Cluster>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            concat!(
                "SELECT ",
                cluster_columns!(),
                " FROM clusters WHERE id IN ({})"
            ),
            placeholders(1, ids.len())
        );
        let mut query = sqlx::query_as::<_, ClusterRow>(&sql);
        for id in ids {
            query = query.bind(id);
        }
        let rows = query.fetch_all(self.reader()).await.db()?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    async fn all_clusters(&self) -> StoreResult<Vec<Cluster>> {
        let rows: Vec<ClusterRow> = sqlx::query_as(concat!(
            "SELECT ",
            cluster_columns!(),
            " FROM clusters ORDER BY org_id, created_at, id"
        ))
        .fetch_all(self.reader())
        .await
        .db()?;
        Ok(rows.into_iter().map(Into::into).collect())
    }
}
