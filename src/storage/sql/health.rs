#[allow(unused_imports)]
use super::{Backend, Db};
#[allow(unused_imports)]
use crate::storage::sql_prelude::*;

#[async_trait]
impl crate::storage::HealthStore for Backend {
    async fn check_ready(&self) -> StoreResult<()> {
        let applied: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM _sqlx_migrations WHERE success")
                .fetch_one(self.reader())
                .await
                .db()?;
        let known = Backend::migrator().iter().count() as i64;
        if applied < known {
            return Err(StoreError::Other(anyhow::anyhow!(
                "{applied} of {known} migrations applied"
            )));
        }
        Ok(())
    }

    fn write_epoch(&self) -> Option<u64> {
        <Backend as SqlBackend>::write_epoch(self)
    }

    fn pool_usage(&self) -> Vec<crate::telemetry::metrics::PoolUsage> {
        let usage = |pool: &'static str, of: &sqlx::Pool<Db>| crate::telemetry::metrics::PoolUsage {
            pool,
            open: of.size(),
            idle: u32::try_from(of.num_idle()).unwrap_or(u32::MAX),
            max: of.options().get_max_connections(),
        };
        let (reader, writer) = (self.reader().pool(), self.writer().pool());
        // PostgreSQL reads and writes on one pool; SQLite has its one writer apart.
        if std::ptr::eq(reader, writer) {
            vec![usage("all", reader)]
        } else {
            vec![usage("reader", reader), usage("writer", writer)]
        }
    }

    fn changes(&self) -> Option<tokio::sync::broadcast::Receiver<crate::storage::changes::Change>> {
        <Backend as SqlBackend>::changes(self)
    }

    fn shared_limits(
        &self,
    ) -> Option<std::sync::Arc<dyn crate::storage::shared_limits::SharedLimitStore>> {
        <Backend as SqlBackend>::shared_limits(self)
    }
}
