use async_trait::async_trait;

use super::*;

pub(super) async fn insert_member_row(
    tx: &mut Transaction<'_, Sqlite>,
    m: &Member,
) -> StoreResult<()> {
    sqlx::query(&format!(
        "INSERT INTO members ({MEMBER_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)"
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

#[async_trait]
impl crate::storage::MemberStore for SqliteStore {
    async fn members(&self, org_id: &str) -> StoreResult<Vec<Member>> {
        let rows: Vec<MemberRow> = sqlx::query_as(&format!(
            "SELECT {MEMBER_COLUMNS} FROM members WHERE org_id = ? \
             ORDER BY is_owner DESC, created_at, email"
        ))
        .bind(org_id)
        .fetch_all(&self.reader)
        .await
        .db()?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    async fn member(&self, org_id: &str, email: &str) -> StoreResult<Option<Member>> {
        let row: Option<MemberRow> = sqlx::query_as(&format!(
            "SELECT {MEMBER_COLUMNS} FROM members WHERE org_id = ? AND email = ?"
        ))
        .bind(org_id)
        .bind(email)
        .fetch_optional(&self.reader)
        .await
        .db()?;
        Ok(row.map(Into::into))
    }

    async fn insert_member(
        &self,
        member: &Member,
        max_members: u32,
        audit: &AuditEntry,
    ) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        // Counted inside the write transaction, so concurrent invites cannot overfill.
        let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM members WHERE org_id = ?")
            .bind(&member.org_id)
            .fetch_one(&mut *tx)
            .await
            .db()?;
        if count >= i64::from(max_members) {
            return Err(StoreError::LimitReached);
        }
        insert_member_row(&mut tx, member).await?;
        insert_audit(&mut tx, audit).await?;
        tx.commit().await.db()
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
            "UPDATE members SET roles = ? \
             WHERE org_id = ? AND email = ? AND roles = ? AND NOT is_owner",
        )
        .bind(roles_to_text(roles))
        .bind(org_id)
        .bind(email)
        .bind(roles_to_text(expected))
        .execute(&mut *tx)
        .await
        .db()?
        .rows_affected();
        if updated == 0 {
            return Ok(false);
        }
        insert_audit(&mut tx, audit).await?;
        tx.commit().await.db()?;
        Ok(true)
    }

    async fn accept_member(
        &self,
        org_id: &str,
        email: &str,
        name: &str,
        audit: &AuditEntry,
    ) -> StoreResult<bool> {
        let mut tx = self.begin().await?;
        let updated = sqlx::query(
            "UPDATE members SET invite_pending = FALSE, name = ? \
             WHERE org_id = ? AND email = ? AND invite_pending",
        )
        .bind(name)
        .bind(org_id)
        .bind(email)
        .execute(&mut *tx)
        .await
        .db()?
        .rows_affected();
        if updated == 0 {
            return Ok(false);
        }
        insert_audit(&mut tx, audit).await?;
        tx.commit().await.db()?;
        Ok(true)
    }

    async fn delete_member(
        &self,
        org_id: &str,
        email: &str,
        audit: &AuditEntry,
    ) -> StoreResult<bool> {
        let mut tx = self.begin().await?;
        let deleted =
            sqlx::query("DELETE FROM members WHERE org_id = ? AND email = ? AND NOT is_owner")
                .bind(org_id)
                .bind(email)
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
}
