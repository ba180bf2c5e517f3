//! Users and API keys.
use super::{SqlBackend, Stmt, append_audit, engine::Get};
use crate::{AccessStore, ApiKeyRecord, StoreError, StoreResult, UserRecord};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use registre_domain::Role;
use registre_domain::audit::AuditRecord;
use sqlx::Row;
use uuid::Uuid;

fn role(name: String, what: &str) -> StoreResult<Role> {
    Role::parse(&name).ok_or_else(|| StoreError::Corrupt(format!("{what} role {name:?}")))
}

fn api_key<R: Row>(row: &R) -> StoreResult<ApiKeyRecord>
where
    R::Database: super::Engine,
{
    Ok(ApiKeyRecord {
        id: row.col("id")?,
        name: row.col("name")?,
        role: role(row.col("role")?, "api key")?,
        key_hash: row.col("key_hash")?,
        prefix: row.col("prefix")?,
        created_at: row.col("created_at")?,
        revoked_at: row.col("revoked_at")?,
    })
}

pub(super) fn user<R: Row>(row: &R) -> StoreResult<UserRecord>
where
    R::Database: super::Engine,
{
    Ok(UserRecord {
        id: row.col("id")?,
        email: row.col("email")?,
        role: role(row.col("role")?, "user")?,
        password_hash: row.col("password_hash")?,
        language: row.col("language")?,
        time_zone: row.col("time_zone")?,
        created_at: row.col("created_at")?,
        disabled_at: row.col("disabled_at")?,
    })
}

#[async_trait]
impl<B: SqlBackend> AccessStore for B {
    async fn create_api_key(&self, key: &ApiKeyRecord, audit: &AuditRecord) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        Stmt::<B::Db>::new("INSERT INTO api_keys (id, name, role, key_hash, prefix, created_at) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(key.id)
            .bind(&key.name)
            .bind(key.role.as_str())
            .bind(&key.key_hash)
            .bind(&key.prefix)
            .bind(key.created_at)
            .run(&mut tx)
            .await
            .map_err(B::map_err)?;
        append_audit::<B>(&mut tx, audit).await?;
        tx.commit().await.map_err(B::map_err)
    }

    async fn api_key_by_hash(&self, hash: &str) -> StoreResult<Option<ApiKeyRecord>> {
        let row = Stmt::<B::Db>::new("SELECT * FROM api_keys WHERE key_hash = $1")
            .bind(hash)
            .fetch_optional(&mut *self.read().await?)
            .await
            .map_err(B::map_err)?;
        row.as_ref().map(api_key).transpose()
    }

    async fn api_keys(&self) -> StoreResult<Vec<ApiKeyRecord>> {
        let rows = Stmt::<B::Db>::new("SELECT * FROM api_keys ORDER BY created_at")
            .fetch_all(&mut *self.read().await?)
            .await
            .map_err(B::map_err)?;
        rows.iter().map(api_key).collect()
    }

    async fn revoke_api_key(
        &self,
        id: Uuid,
        at: DateTime<Utc>,
        audit: &AuditRecord,
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        let done = Stmt::<B::Db>::new(
            "UPDATE api_keys SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL",
        )
        .bind(id)
        .bind(at)
        .run(&mut tx)
        .await
        .map_err(B::map_err)?;
        if B::rows_affected(&done) == 0 {
            return Err(StoreError::NotFound);
        }
        append_audit::<B>(&mut tx, audit).await?;
        tx.commit().await.map_err(B::map_err)
    }

    async fn create_user(&self, user: &UserRecord, audit: &AuditRecord) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        Stmt::<B::Db>::new("INSERT INTO users (id, email, role, password_hash, language, time_zone, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)")
            .bind(user.id)
            .bind(&user.email)
            .bind(user.role.as_str())
            .bind(&user.password_hash)
            .bind(&user.language)
            .bind(&user.time_zone)
            .bind(user.created_at)
            .run(&mut tx)
            .await
            .map_err(B::map_err)?;
        append_audit::<B>(&mut tx, audit).await?;
        tx.commit().await.map_err(B::map_err)
    }

    async fn user_by_email(&self, email: &str) -> StoreResult<Option<UserRecord>> {
        let row = Stmt::<B::Db>::new("SELECT * FROM users WHERE email = $1")
            .bind(email)
            .fetch_optional(&mut *self.read().await?)
            .await
            .map_err(B::map_err)?;
        row.as_ref().map(user).transpose()
    }

    async fn users(&self) -> StoreResult<Vec<UserRecord>> {
        let rows = Stmt::<B::Db>::new("SELECT * FROM users ORDER BY created_at")
            .fetch_all(&mut *self.read().await?)
            .await
            .map_err(B::map_err)?;
        rows.iter().map(user).collect()
    }
}
