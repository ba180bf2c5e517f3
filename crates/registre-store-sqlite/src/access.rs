use crate::documents::append_audit;
use crate::{SqliteStore, corrupt, map_err};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use registre_domain::Role;
use registre_domain::audit::AuditRecord;
use registre_store::{AccessStore, ApiKeyRecord, StoreError, StoreResult, UserRecord};
use sqlx::Row;
use uuid::Uuid;

fn api_key(row: &sqlx::sqlite::SqliteRow) -> StoreResult<ApiKeyRecord> {
    Ok(ApiKeyRecord {
        id: row.get("id"),
        name: row.get("name"),
        role: Role::parse(row.get("role")).ok_or_else(|| corrupt("api key role"))?,
        key_hash: row.get("key_hash"),
        prefix: row.get("prefix"),
        created_at: row.get("created_at"),
        revoked_at: row.get("revoked_at"),
    })
}

pub(crate) fn user(row: &sqlx::sqlite::SqliteRow) -> StoreResult<UserRecord> {
    Ok(UserRecord {
        id: row.get("id"),
        email: row.get("email"),
        role: Role::parse(row.get("role")).ok_or_else(|| corrupt("user role"))?,
        password_hash: row.get("password_hash"),
        language: row.get("language"),
        time_zone: row.get("time_zone"),
        created_at: row.get("created_at"),
        disabled_at: row.get("disabled_at"),
    })
}

#[async_trait]
impl AccessStore for SqliteStore {
    async fn create_api_key(&self, key: &ApiKeyRecord, audit: &AuditRecord) -> StoreResult<()> {
        let mut tx = self.write_tx().await?;
        sqlx::query("INSERT INTO api_keys (id, name, role, key_hash, prefix, created_at) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(key.id)
            .bind(&key.name)
            .bind(key.role.as_str())
            .bind(&key.key_hash)
            .bind(&key.prefix)
            .bind(key.created_at)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        append_audit(&mut tx, audit).await?;
        tx.commit().await.map_err(map_err)
    }

    async fn api_key_by_hash(&self, hash: &str) -> StoreResult<Option<ApiKeyRecord>> {
        let row = sqlx::query("SELECT * FROM api_keys WHERE key_hash = $1")
            .bind(hash)
            .fetch_optional(&self.reader)
            .await
            .map_err(map_err)?;
        row.as_ref().map(api_key).transpose()
    }

    async fn api_keys(&self) -> StoreResult<Vec<ApiKeyRecord>> {
        let rows = sqlx::query("SELECT * FROM api_keys ORDER BY created_at")
            .fetch_all(&self.reader)
            .await
            .map_err(map_err)?;
        rows.iter().map(api_key).collect()
    }

    async fn revoke_api_key(
        &self,
        id: Uuid,
        at: DateTime<Utc>,
        audit: &AuditRecord,
    ) -> StoreResult<()> {
        let mut tx = self.write_tx().await?;
        let done =
            sqlx::query("UPDATE api_keys SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL")
                .bind(id)
                .bind(at)
                .execute(&mut *tx)
                .await
                .map_err(map_err)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        append_audit(&mut tx, audit).await?;
        tx.commit().await.map_err(map_err)
    }

    async fn create_user(&self, user: &UserRecord, audit: &AuditRecord) -> StoreResult<()> {
        let mut tx = self.write_tx().await?;
        sqlx::query("INSERT INTO users (id, email, role, password_hash, language, time_zone, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)")
            .bind(user.id)
            .bind(&user.email)
            .bind(user.role.as_str())
            .bind(&user.password_hash)
            .bind(&user.language)
            .bind(&user.time_zone)
            .bind(user.created_at)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        append_audit(&mut tx, audit).await?;
        tx.commit().await.map_err(map_err)
    }

    async fn user_by_email(&self, email: &str) -> StoreResult<Option<UserRecord>> {
        let row = sqlx::query("SELECT * FROM users WHERE email = $1")
            .bind(email)
            .fetch_optional(&self.reader)
            .await
            .map_err(map_err)?;
        row.as_ref().map(user).transpose()
    }

    async fn users(&self) -> StoreResult<Vec<UserRecord>> {
        let rows = sqlx::query("SELECT * FROM users ORDER BY created_at")
            .fetch_all(&self.reader)
            .await
            .map_err(map_err)?;
        rows.iter().map(user).collect()
    }
}
