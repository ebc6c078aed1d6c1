// Included into each backend module (`storage/sqlite`, `storage/postgres.rs`), where
// `Backend` is that backend's store type (a `SqlBackend`) and `Db` its sqlx driver.
#[allow(unused_imports)]
use super::{Backend, Db};
#[allow(unused_imports)]
use crate::storage::sql_prelude::*;

#[async_trait]
impl crate::storage::AccountStore for Backend {
    async fn accounts(&self, email: &str) -> StoreResult<Vec<Account>> {
        let rows: Vec<AccountRow> = self
            .fetch_all_by(
                concat!(
                    "SELECT ",
                    joined_member_columns!(),
                    ", p.password_hash FROM members m \
                     JOIN member_passwords p ON p.org_id = m.org_id AND p.email = m.email \
                     JOIN organizations o ON o.id = m.org_id \
                     WHERE m.email = $1 ORDER BY o.created_at, o.id"
                ),
                &[email],
            )
            .await?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    async fn insert_sign_in_link(&self, link: &SignInLink, audit: &AuditEntry) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        let members: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM members WHERE org_id = $1 AND email = $2")
                .bind(&link.org_id)
                .bind(&link.email)
                .fetch_one(&mut *tx)
                .await
                .db()?;
        if members == 0 {
            return Err(StoreError::NotFound);
        }
        // A new link replaces the earlier ones: only the newest link handed out works.
        sqlx::query("DELETE FROM sign_in_links WHERE org_id = $1 AND email = $2")
            .bind(&link.org_id)
            .bind(&link.email)
            .execute(&mut *tx)
            .await
            .db()?;
        sqlx::query(concat!(
            "INSERT INTO sign_in_links (",
            sign_in_link_columns!(),
            ") VALUES ($1, $2, $3, $4, $5, $6)"
        ))
        .bind(&link.token_hash)
        .bind(&link.org_id)
        .bind(&link.email)
        .bind(link.purpose.as_str())
        .bind(link.created_at.millis())
        .bind(link.expires_at.millis())
        .execute(&mut *tx)
        .await
        .db()?;
        Backend::insert_audit(&mut tx, audit).await?;
        self.commit(tx).await
    }

    async fn sign_in_link(&self, token_hash: &str) -> StoreResult<Option<SignInLink>> {
        let row: Option<SignInLinkRow> = self
            .fetch_optional_by(
                concat!(
                    "SELECT ",
                    sign_in_link_columns!(),
                    " FROM sign_in_links WHERE token_hash = $1"
                ),
                &[token_hash],
            )
            .await?;
        Ok(row.map(Into::into))
    }

    async fn take_sign_in_link(
        &self,
        link: &SignInLink,
        password_hash: &str,
        now: Timestamp,
        audit: &AuditEntry,
    ) -> StoreResult<bool> {
        let mut tx = self.begin().await?;
        // Deleting is taking: of two uses at once, only one deletes the row.
        let taken = sqlx::query(
            "DELETE FROM sign_in_links \
             WHERE token_hash = $1 AND org_id = $2 AND email = $3 AND expires_at > $4",
        )
        .bind(&link.token_hash)
        .bind(&link.org_id)
        .bind(&link.email)
        .bind(now.millis())
        .execute(&mut *tx)
        .await
        .db()?
        .rows_affected();
        if taken == 0 {
            return Ok(false);
        }
        sqlx::query(
            "INSERT INTO member_passwords (org_id, email, password_hash, updated_at) \
             VALUES ($1, $2, $3, $4) \
             ON CONFLICT (org_id, email) DO UPDATE \
             SET password_hash = excluded.password_hash, updated_at = excluded.updated_at",
        )
        .bind(&link.org_id)
        .bind(&link.email)
        .bind(password_hash)
        .bind(now.millis())
        .execute(&mut *tx)
        .await
        .db()?;
        if link.purpose == LinkPurpose::Invite {
            sqlx::query(
                "UPDATE members SET invite_pending = FALSE \
                 WHERE org_id = $1 AND email = $2 AND invite_pending",
            )
            .bind(&link.org_id)
            .bind(&link.email)
            .execute(&mut *tx)
            .await
            .db()?;
        }
        // A new password ends every session signed in with the old one.
        sqlx::query("DELETE FROM console_sessions WHERE org_id = $1 AND email = $2")
            .bind(&link.org_id)
            .bind(&link.email)
            .execute(&mut *tx)
            .await
            .db()?;
        Backend::insert_audit(&mut tx, audit).await?;
        self.commit(tx).await?;
        Ok(true)
    }

    async fn insert_session(&self, session: &ConsoleSession, audit: &AuditEntry) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        sqlx::query(
            "INSERT INTO console_sessions \
             (id_hash, org_id, email, csrf_token, created_at, last_seen_at, identity_provider) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&session.id_hash)
        .bind(&session.org_id)
        .bind(&session.email)
        .bind(&session.csrf_token)
        .bind(session.created_at.millis())
        .bind(session.last_seen_at.millis())
        .bind(&session.identity_provider)
        .execute(&mut *tx)
        .await
        .db()?;
        Backend::insert_audit(&mut tx, audit).await?;
        self.commit(tx).await
    }

    async fn session(&self, id_hash: &str) -> StoreResult<Option<(ConsoleSession, Member)>> {
        let row: Option<SessionRow> = self
            .fetch_optional_by(
                concat!(
                    "SELECT s.id_hash, s.csrf_token, s.created_at AS session_created_at, \
                     s.last_seen_at, s.identity_provider, ",
                    joined_member_columns!(),
                    " FROM console_sessions s \
                     JOIN members m ON m.org_id = s.org_id AND m.email = s.email \
                     WHERE s.id_hash = $1"
                ),
                &[id_hash],
            )
            .await?;
        Ok(row.map(Into::into))
    }

    async fn touch_session(&self, id_hash: &str, now: Timestamp) -> StoreResult<()> {
        sqlx::query(
            "UPDATE console_sessions SET last_seen_at = $1 \
             WHERE id_hash = $2 AND last_seen_at < $1",
        )
        .bind(now.millis())
        .bind(id_hash)
        .execute(self.writer())
        .await
        .db()?;
        Ok(())
    }

    async fn delete_session(&self, id_hash: &str, audit: Option<&AuditEntry>) -> StoreResult<bool> {
        let mut tx = self.begin().await?;
        let deleted = sqlx::query("DELETE FROM console_sessions WHERE id_hash = $1")
            .bind(id_hash)
            .execute(&mut *tx)
            .await
            .db()?
            .rows_affected();
        match audit {
            Some(audit) => self.commit_audited(tx, deleted, audit).await,
            None => {
                self.commit(tx).await?;
                Ok(deleted > 0)
            }
        }
    }

    async fn delete_expired_sign_ins(
        &self,
        idle_before: Timestamp,
        started_before: Timestamp,
        now: Timestamp,
    ) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        sqlx::query("DELETE FROM console_sessions WHERE last_seen_at <= $1 OR created_at <= $2")
            .bind(idle_before.millis())
            .bind(started_before.millis())
            .execute(&mut *tx)
            .await
            .db()?;
        sqlx::query("DELETE FROM sign_in_links WHERE expires_at <= $1")
            .bind(now.millis())
            .execute(&mut *tx)
            .await
            .db()?;
        self.commit(tx).await
    }

    async fn record_activity(&self, audit: &AuditEntry) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        Backend::insert_audit(&mut tx, audit).await?;
        self.commit(tx).await
    }
}
