//! Who is calling, and what they may do.
use crate::{App, AppError, AppResult};
use argon2::password_hash::{PasswordHasher, SaltString};
use registre_domain::role::Permission;
use registre_domain::{Email, Role};
use registre_store::{ApiKeyRecord, UserRecord};
use std::time::{Duration, Instant};
use uuid::Uuid;

/// An authenticated caller: a user, an API key, the CLI or the system itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Principal {
    /// As written in the audit log: `api_key:<id>`, `user:<id>`, `cli`, `system`.
    pub actor: String,
    pub role: Role,
}

impl Principal {
    pub fn cli() -> Self {
        Self {
            actor: "cli".into(),
            role: Role::Admin,
        }
    }

    pub fn system() -> Self {
        Self {
            actor: "system".into(),
            role: Role::Admin,
        }
    }

    /// A visitor acting on their own data through a public page (form, portal, email link).
    pub fn public() -> Self {
        Self {
            actor: "public".into(),
            role: Role::Agent,
        }
    }

    pub fn require(&self, permission: Permission) -> AppResult<()> {
        if self.role.allows(permission) {
            Ok(())
        } else {
            Err(AppError::Forbidden(match permission {
                Permission::Read => "read",
                Permission::OperateSubjects => "operate_subjects",
                Permission::ManageRegisters => "manage_registers",
                Permission::Administer => "administer",
            }))
        }
    }
}

/// A new API key: the secret is shown once and never stored.
#[derive(Clone, Debug, serde::Serialize)]
pub struct CreatedApiKey {
    pub id: Uuid,
    pub name: String,
    pub role: Role,
    pub key: String,
    pub prefix: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

const API_KEY_CACHE_TTL: Duration = Duration::from_secs(5);

impl App {
    pub async fn create_api_key(
        &self,
        by: &Principal,
        name: &str,
        role: Role,
    ) -> AppResult<CreatedApiKey> {
        by.require(Permission::Administer)?;
        let name = name.trim();
        if name.is_empty() || name.len() > 100 {
            return Err(
                registre_domain::DomainError::invalid("name", "1 to 100 characters").into(),
            );
        }
        let key = format!("rk_{}", registre_crypto::random_token(32));
        let record = ApiKeyRecord {
            id: Uuid::now_v7(),
            name: name.to_string(),
            role,
            key_hash: registre_crypto::sha256_hex(key.as_bytes()),
            prefix: key[..10].to_string(),
            created_at: self.now(),
            revoked_at: None,
        };
        let audit = self.audit_record(
            by,
            "api_key.created",
            format!("api_key:{}", record.id),
            serde_json::json!({"name": record.name, "role": role.as_str()}),
        );
        self.store().create_api_key(&record, &audit).await?;
        Ok(CreatedApiKey {
            id: record.id,
            name: record.name,
            role,
            key,
            prefix: record.prefix,
            created_at: record.created_at,
        })
    }

    pub async fn api_keys(&self, by: &Principal) -> AppResult<Vec<ApiKeyRecord>> {
        by.require(Permission::Administer)?;
        Ok(self.store().api_keys().await?)
    }

    pub async fn revoke_api_key(&self, by: &Principal, id: Uuid) -> AppResult<()> {
        by.require(Permission::Administer)?;
        let audit = self.audit_record(
            by,
            "api_key.revoked",
            format!("api_key:{id}"),
            serde_json::json!({}),
        );
        self.store()
            .revoke_api_key(id, self.now(), &audit)
            .await
            .map_err(|e| match e {
                registre_store::StoreError::NotFound => AppError::not_found("api key"),
                other => other.into(),
            })?;
        if let Ok(mut cache) = self.inner.api_key_cache.write() {
            cache.clear();
        }
        Ok(())
    }

    /// The principal behind a bearer key, or `Unauthorized`.
    pub async fn authenticate_api_key(&self, key: &str) -> AppResult<Principal> {
        let hash = registre_crypto::sha256_hex(key.as_bytes());
        if let Ok(cache) = self.inner.api_key_cache.read()
            && let Some((principal, at)) = cache.get(&hash)
            && at.elapsed() < API_KEY_CACHE_TTL
        {
            return principal.clone().ok_or(AppError::Unauthorized);
        }
        let record = self.store().api_key_by_hash(&hash).await?;
        let principal = record
            .filter(|r| r.revoked_at.is_none())
            .filter(|r| registre_crypto::constant_time_eq(r.key_hash.as_bytes(), hash.as_bytes()))
            .map(|r| Principal {
                actor: format!("api_key:{}", r.id),
                role: r.role,
            });
        if let Ok(mut cache) = self.inner.api_key_cache.write() {
            if cache.len() > 10_000 {
                cache.clear();
            }
            cache.insert(hash, (principal.clone(), Instant::now()));
        }
        principal.ok_or(AppError::Unauthorized)
    }

    pub async fn create_user(
        &self,
        by: &Principal,
        email: &str,
        role: Role,
        password: Option<&str>,
    ) -> AppResult<Uuid> {
        by.require(Permission::Administer)?;
        let email = Email::parse(email)?;
        let password_hash = match password {
            Some(password) => Some(hash_password(password)?),
            None => None,
        };
        let user = UserRecord {
            id: Uuid::now_v7(),
            email: email.as_str().to_string(),
            role,
            password_hash,
            language: "fr".into(),
            time_zone: crate::console::DEFAULT_TIME_ZONE.into(),
            created_at: self.now(),
            disabled_at: None,
        };
        let audit = self.audit_record(
            by,
            "user.created",
            format!("user:{}", user.id),
            serde_json::json!({"role": role.as_str()}),
        );
        self.store()
            .create_user(&user, &audit)
            .await
            .map_err(|e| match e {
                registre_store::StoreError::Conflict { .. } => {
                    AppError::Conflict("a user with this email exists".into())
                }
                other => other.into(),
            })?;
        Ok(user.id)
    }

    /// Checks a user's password; the same work is done whether or not the user exists, so
    /// timing does not reveal accounts.
    pub async fn authenticate_user(
        &self,
        email: &str,
        password: &str,
    ) -> AppResult<(Principal, UserRecord)> {
        let email = Email::parse(email).map_err(|_| AppError::Unauthorized)?;
        let user = self.store().user_by_email(email.as_str()).await?;
        let stored = user.as_ref().and_then(|u| u.password_hash.clone());
        let password = password.to_string();
        let valid =
            tokio::task::spawn_blocking(move || verify_password(stored.as_deref(), &password))
                .await
                .unwrap_or(false);
        match user {
            // A disabled account does not sign in, whatever its password.
            Some(user) if valid && user.disabled_at.is_none() => Ok((
                Principal {
                    actor: format!("user:{}", user.id),
                    role: user.role,
                },
                user,
            )),
            _ => Err(AppError::Unauthorized),
        }
    }
}

pub(crate) fn hash_password(password: &str) -> AppResult<String> {
    if password.chars().count() < 12 {
        return Err(
            registre_domain::DomainError::invalid("password", "at least 12 characters").into(),
        );
    }
    let salt = SaltString::generate(&mut rand::rngs::OsRng);
    argon2::Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|_| AppError::Crypto(registre_crypto::CryptoError::Seal))
}

/// A hash of a random password, checked when no user matches so that the work is the same.
const DECOY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$3rL9GvPGjlsQGqIL0r2I7f5LjXsWJ6cI3jJ2zj0nqGQ";

fn verify_password(stored: Option<&str>, password: &str) -> bool {
    use argon2::password_hash::{PasswordHash, PasswordVerifier};
    let (hash, real) = match stored {
        Some(hash) => (hash, true),
        None => (DECOY_HASH, false),
    };
    match PasswordHash::new(hash) {
        Ok(parsed) => {
            argon2::Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
                && real
        }
        Err(_) => false,
    }
}
