//! The console's sessions, sign-in lockout, user preferences and dashboard figures.
use super::access::user;
use super::engine::{Engine, Get};
use super::{SqlBackend, Stmt, append_audit};
use crate::{
    ConsentActivityRow, ConsoleSessionRecord, ConsoleStore, SignInFailures, StoreError,
    StoreResult, TouchpointActivityRow, UserRecord,
};
use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use registre_domain::audit::AuditRecord;
use sqlx::{AssertSqlSafe, Row};
use std::collections::BTreeMap;
use uuid::Uuid;

fn failures<R: Row>(row: &R) -> StoreResult<SignInFailures>
where
    R::Database: Engine,
{
    Ok(SignInFailures {
        failures: row.col("failures")?,
        last_failure_at: row.col("last_failure_at")?,
        locked_until: row.col("locked_until")?,
    })
}

fn day(raw: &str) -> StoreResult<NaiveDate> {
    NaiveDate::parse_from_str(raw, "%Y-%m-%d").map_err(|_| StoreError::Corrupt("event day".into()))
}

#[async_trait]
impl<B: SqlBackend> ConsoleStore for B {
    async fn insert_console_session(
        &self,
        session: &ConsoleSessionRecord,
        audit: &AuditRecord,
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        // Sessions past their expiry go as new ones come.
        Stmt::<B::Db>::new("DELETE FROM console_sessions WHERE expires_at < $1")
            .bind(session.created_at)
            .run(&mut tx)
            .await
            .map_err(B::map_err)?;
        Stmt::<B::Db>::new("INSERT INTO console_sessions (id_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)")
            .bind(&session.id_hash)
            .bind(session.user_id)
            .bind(session.created_at)
            .bind(session.expires_at)
            .run(&mut tx)
            .await
            .map_err(B::map_err)?;
        append_audit::<B>(&mut tx, audit).await?;
        tx.commit().await.map_err(B::map_err)
    }

    async fn console_session(
        &self,
        id_hash: &str,
    ) -> StoreResult<Option<(ConsoleSessionRecord, UserRecord)>> {
        let row = Stmt::<B::Db>::new(
            "SELECT s.id_hash, s.user_id, s.created_at AS session_created_at, s.expires_at, u.* \
             FROM console_sessions s JOIN users u ON u.id = s.user_id WHERE s.id_hash = $1",
        )
        .bind(id_hash)
        .fetch_optional(&mut *self.read().await?)
        .await
        .map_err(B::map_err)?;
        let Some(row) = row else { return Ok(None) };
        let session = ConsoleSessionRecord {
            id_hash: row.col("id_hash")?,
            user_id: row.col("user_id")?,
            created_at: row.col("session_created_at")?,
            expires_at: row.col("expires_at")?,
        };
        Ok(Some((session, user(&row)?)))
    }

    async fn delete_console_session(
        &self,
        id_hash: &str,
        audit: Option<&AuditRecord>,
    ) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        let done = Stmt::<B::Db>::new("DELETE FROM console_sessions WHERE id_hash = $1")
            .bind(id_hash)
            .run(&mut tx)
            .await
            .map_err(B::map_err)?;
        if let Some(audit) = audit {
            append_audit::<B>(&mut tx, audit).await?;
        }
        tx.commit().await.map_err(B::map_err)?;
        Ok(B::rows_affected(&done) > 0)
    }

    async fn sign_in_failures(&self, account: &str) -> StoreResult<Option<SignInFailures>> {
        let row = Stmt::<B::Db>::new("SELECT * FROM sign_in_failures WHERE account = $1")
            .bind(account)
            .fetch_optional(&mut *self.read().await?)
            .await
            .map_err(B::map_err)?;
        row.as_ref().map(failures).transpose()
    }

    async fn record_sign_in_failure(
        &self,
        account: &str,
        at: DateTime<Utc>,
        window_start: DateTime<Utc>,
        max_failures: i64,
        lock_until: DateTime<Utc>,
    ) -> StoreResult<SignInFailures> {
        let mut tx = self.begin_write().await?;
        let row = Stmt::<B::Db>::new(
            "INSERT INTO sign_in_failures (account, failures, last_failure_at, locked_until) VALUES ($1, 1, $2, NULL) \
             ON CONFLICT (account) DO UPDATE SET \
             failures = CASE WHEN sign_in_failures.last_failure_at < $3 THEN 1 ELSE sign_in_failures.failures + 1 END, \
             last_failure_at = $2 \
             RETURNING *",
        )
        .bind(account)
        .bind(at)
        .bind(window_start)
        .fetch_one(&mut tx)
        .await
        .map_err(B::map_err)?;
        let mut state = failures(&row)?;
        if state.failures >= max_failures {
            Stmt::<B::Db>::new(
                "UPDATE sign_in_failures SET failures = 0, locked_until = $2 WHERE account = $1",
            )
            .bind(account)
            .bind(lock_until)
            .run(&mut tx)
            .await
            .map_err(B::map_err)?;
            state.failures = 0;
            state.locked_until = Some(lock_until);
        }
        tx.commit().await.map_err(B::map_err)?;
        Ok(state)
    }

    async fn clear_sign_in_failures(&self, account: &str) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        Stmt::<B::Db>::new("DELETE FROM sign_in_failures WHERE account = $1")
            .bind(account)
            .run(&mut tx)
            .await
            .map_err(B::map_err)?;
        tx.commit().await.map_err(B::map_err)
    }

    async fn user(&self, id: Uuid) -> StoreResult<Option<UserRecord>> {
        let row = Stmt::<B::Db>::new("SELECT * FROM users WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *self.read().await?)
            .await
            .map_err(B::map_err)?;
        row.as_ref().map(user).transpose()
    }

    async fn update_user_preferences(
        &self,
        id: Uuid,
        language: &str,
        time_zone: &str,
        audit: &AuditRecord,
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        let done =
            Stmt::<B::Db>::new("UPDATE users SET language = $2, time_zone = $3 WHERE id = $1")
                .bind(id)
                .bind(language)
                .bind(time_zone)
                .run(&mut tx)
                .await
                .map_err(B::map_err)?;
        if B::rows_affected(&done) == 0 {
            return Err(StoreError::NotFound);
        }
        append_audit::<B>(&mut tx, audit).await?;
        tx.commit().await.map_err(B::map_err)
    }

    async fn update_user(
        &self,
        user: &UserRecord,
        end_sessions: bool,
        audit: &AuditRecord,
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        // Serialises changes to administrators: two demotions at once cannot both see the
        // other's admin still there.
        Stmt::<B::Db>::new(AssertSqlSafe(format!(
            "SELECT id FROM users WHERE role = 'admin' AND disabled_at IS NULL{}",
            B::DIALECT.for_update
        )))
        .fetch_all(&mut tx)
        .await
        .map_err(B::map_err)?;
        let done = Stmt::<B::Db>::new(
            "UPDATE users SET role = $2, password_hash = $3, disabled_at = $4 WHERE id = $1",
        )
        .bind(user.id)
        .bind(user.role.as_str())
        .bind(&user.password_hash)
        .bind(user.disabled_at)
        .run(&mut tx)
        .await
        .map_err(B::map_err)?;
        if B::rows_affected(&done) == 0 {
            return Err(StoreError::NotFound);
        }
        let admins: i64 = Stmt::<B::Db>::new(
            "SELECT COUNT(*) AS n FROM users WHERE role = 'admin' AND disabled_at IS NULL",
        )
        .fetch_one(&mut tx)
        .await
        .map_err(B::map_err)?
        .col("n")?;
        if admins == 0 {
            return Err(StoreError::Conflict {
                constraint: "users_last_admin".into(),
            });
        }
        if end_sessions {
            Stmt::<B::Db>::new("DELETE FROM console_sessions WHERE user_id = $1")
                .bind(user.id)
                .run(&mut tx)
                .await
                .map_err(B::map_err)?;
        }
        append_audit::<B>(&mut tx, audit).await?;
        tx.commit().await.map_err(B::map_err)
    }

    async fn audit_length(&self) -> StoreResult<i64> {
        let row = Stmt::<B::Db>::new("SELECT seq FROM chain_heads WHERE chain = 'audit'")
            .fetch_optional(&mut *self.read().await?)
            .await
            .map_err(B::map_err)?;
        row.map_or(Ok(0), |row| row.col("seq"))
    }

    async fn consent_activity(&self, since: DateTime<Utc>) -> StoreResult<Vec<ConsentActivityRow>> {
        let rows = Stmt::<B::Db>::new(AssertSqlSafe(format!(
            "SELECT {} AS day, purpose, action, COUNT(*) AS n FROM consent_events \
             WHERE recorded_at >= $1 AND purpose IS NOT NULL \
             GROUP BY day, purpose, action ORDER BY day, purpose, action",
            (B::DIALECT.utc_day)("recorded_at")
        )))
        .bind(since)
        .fetch_all(&mut *self.read().await?)
        .await
        .map_err(B::map_err)?;
        rows.iter()
            .map(|row| {
                Ok(ConsentActivityRow {
                    day: day(&row.col::<String>("day")?)?,
                    purpose: row.col("purpose")?,
                    action: row.col("action")?,
                    count: row.col("n")?,
                })
            })
            .collect()
    }

    async fn touchpoint_activity(
        &self,
        since: DateTime<Utc>,
    ) -> StoreResult<Vec<TouchpointActivityRow>> {
        let mut by_touchpoint: BTreeMap<String, TouchpointActivityRow> = BTreeMap::new();
        let rows = Stmt::<B::Db>::new(
            "SELECT touchpoint, COUNT(*) AS n FROM submissions WHERE received_at >= $1 GROUP BY touchpoint",
        )
        .bind(since)
        .fetch_all(&mut *self.read().await?)
        .await
        .map_err(B::map_err)?;
        for row in &rows {
            let touchpoint: String = row.col("touchpoint")?;
            by_touchpoint
                .entry(touchpoint.clone())
                .or_insert_with(|| TouchpointActivityRow {
                    touchpoint,
                    ..Default::default()
                })
                .submissions = row.col("n")?;
        }
        let rows = Stmt::<B::Db>::new(
            "SELECT touchpoint, purpose, COUNT(*) AS n FROM consent_events \
             WHERE recorded_at >= $1 AND touchpoint IS NOT NULL AND purpose IS NOT NULL AND action = 'grant' \
             GROUP BY touchpoint, purpose ORDER BY touchpoint, purpose",
        )
        .bind(since)
        .fetch_all(&mut *self.read().await?)
        .await
        .map_err(B::map_err)?;
        for row in &rows {
            let touchpoint: String = row.col("touchpoint")?;
            by_touchpoint
                .entry(touchpoint.clone())
                .or_insert_with(|| TouchpointActivityRow {
                    touchpoint,
                    ..Default::default()
                })
                .grants
                .push((row.col("purpose")?, row.col("n")?));
        }
        Ok(by_touchpoint.into_values().collect())
    }
}
