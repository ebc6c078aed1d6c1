// Included into each backend module (`storage/sqlite`, `storage/postgres.rs`), where
// `Backend` is that backend's store type (a `SqlBackend`) and `Db` its sqlx driver.
#[allow(unused_imports)]
use super::{Backend, Db};
#[allow(unused_imports)]
use crate::storage::sql_prelude::*;

impl Backend {
    pub(in crate::storage) async fn insert_member_row(
        tx: &mut sqlx::Transaction<'_, Db>,
        m: &Member,
    ) -> StoreResult<()> {
        sqlx::query(concat!(
            "INSERT INTO members (",
            member_columns!(),
            ") VALUES ($1, $2, $3, $4, $5, $6, $7)"
        ))
        .bind(&m.org_id)
        .bind(&m.email)
        .bind(&m.name)
        .bind(roles_to_text(&m.roles))
        .bind(m.invite_pending)
        .bind(m.is_owner)
        .bind(m.created_at.millis())
        .execute(&mut **tx)
        .await
        .db()?;
        Ok(())
    }
}

#[async_trait]
impl crate::storage::MemberStore for Backend {
    async fn members(&self, org_id: &str) -> StoreResult<Vec<Member>> {
        let rows: Vec<MemberRow> = self
            .fetch_all_by(concat!(
            "SELECT ",
            member_columns!(),
            " FROM members WHERE org_id = $1 \
             ORDER BY is_owner DESC, created_at, email"
        ), &[org_id])
            .await?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    async fn member(&self, org_id: &str, email: &str) -> StoreResult<Option<Member>> {
        let row: Option<MemberRow> = self
            .fetch_optional_by(concat!(
            "SELECT ",
            member_columns!(),
            " FROM members WHERE org_id = $1 AND email = $2"
        ), &[org_id, email])
            .await?;
        Ok(row.map(Into::into))
    }

    async fn members_by_email(&self, email: &str) -> StoreResult<Vec<Member>> {
        let rows: Vec<MemberRow> = self
            .fetch_all_by(
                concat!(
                    "SELECT ",
                    joined_member_columns!(),
                    " FROM members m JOIN organizations o ON o.id = m.org_id \
                     WHERE m.email = $1 ORDER BY o.created_at, o.id"
                ),
                &[email],
            )
            .await?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    async fn insert_member(
        &self,
        member: &Member,
        max_members: u32,
        audit: &AuditEntry,
    ) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        // Counted inside the write transaction under a lock, so concurrent invites (on any
        // replica) cannot overfill.
        Backend::exclusive(&mut tx, LOCK_MEMBERS).await?;
        Backend::ensure_below_limit(
            &mut tx,
            "SELECT COUNT(*) FROM members WHERE org_id = $1",
            &member.org_id,
            max_members,
        )
        .await?;
        Backend::insert_member_row(&mut tx, member).await?;
        Backend::insert_audit(&mut tx, audit).await?;
        self.commit(tx).await
    }

    async fn update_member_roles(
        &self,
        org_id: &str,
        email: &str,
        expected: &[OrgRole],
        roles: &[OrgRole],
        audit: &AuditEntry,
    ) -> StoreResult<bool> {
        let mut tx = self.begin().await?;
        let updated = sqlx::query(
            "UPDATE members SET roles = $1 \
             WHERE org_id = $2 AND email = $3 AND roles = $4 AND NOT is_owner",
        )
        .bind(roles_to_text(roles))
        .bind(org_id)
        .bind(email)
        .bind(roles_to_text(expected))
        .execute(&mut *tx)
        .await
        .db()?
        .rows_affected();
        self.commit_audited(tx, updated, audit).await
    }

    async fn accept_member(
        &self,
        org_id: &str,
        email: &str,
        name: &str,
        audit: &AuditEntry,
    ) -> StoreResult<bool> {
        self.write_audited(
            "UPDATE members SET invite_pending = FALSE, name = $1 \
             WHERE org_id = $2 AND email = $3 AND invite_pending",
            &[name, org_id, email],
            audit,
        )
        .await
    }

    async fn delete_member(
        &self,
        org_id: &str,
        email: &str,
        audit: &AuditEntry,
    ) -> StoreResult<bool> {
        self.write_audited(
            "DELETE FROM members WHERE org_id = $1 AND email = $2 AND NOT is_owner",
            &[org_id, email],
            audit,
        )
        .await
    }
}
