use crate::{PostgresStore, map_err};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use registre_store::{StoreResult, TokenStore};

#[async_trait]
impl TokenStore for PostgresStore {
    async fn consume_nonce(&self, nonce: &str, expires_at: DateTime<Utc>) -> StoreResult<bool> {
        let done = sqlx::query("INSERT INTO spent_tokens (nonce, expires_at) VALUES ($1, $2) ON CONFLICT (nonce) DO NOTHING")
            .bind(nonce)
            .bind(expires_at)
            .execute(&self.writer)
            .await
            .map_err(map_err)?;
        Ok(done.rows_affected() == 1)
    }
}
