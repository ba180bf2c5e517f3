//! Single-use tokens.
use super::{SqlBackend, Stmt};
use crate::{StoreResult, TokenStore};
use async_trait::async_trait;
use chrono::{DateTime, Utc};

#[async_trait]
impl<B: SqlBackend> TokenStore for B {
    async fn consume_nonce(&self, nonce: &str, expires_at: DateTime<Utc>) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        let done = Stmt::<B::Db>::new("INSERT INTO spent_tokens (nonce, expires_at) VALUES ($1, $2) ON CONFLICT (nonce) DO NOTHING")
            .bind(nonce)
            .bind(expires_at)
            .run(&mut tx)
            .await
            .map_err(B::map_err)?;
        tx.commit().await.map_err(B::map_err)?;
        Ok(B::rows_affected(&done) == 1)
    }
}
