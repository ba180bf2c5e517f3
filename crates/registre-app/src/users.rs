//! Console users administered by an administrator: role, disabling, and a password reset
//! through a mailed link. The organisation never loses its last active administrator: the
//! store refuses the change that would leave none, in the change's own transaction.
use crate::mail::Mail;
use crate::tokens::{TokenKind, TokenProblem};
use crate::{App, AppError, AppResult, Principal};
use chrono::Duration;
use registre_domain::role::Permission;
use registre_domain::{Language, Role};
use registre_store::{StoreError, UserRecord};
use uuid::Uuid;

/// How long a password reset link stays valid.
pub const RESET_LINK_HOURS: i64 = 24;

/// Whom a valid reset link is for.
#[derive(Clone)]
pub struct PasswordResetFor {
    pub email: String,
    pub language: Language,
}

impl std::fmt::Debug for PasswordResetFor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordResetFor").finish_non_exhaustive()
    }
}

/// Why a reset link does not work.
#[derive(Debug)]
pub enum ResetProblem {
    Link(TokenProblem),
    Invalid(registre_domain::DomainError),
    Other(AppError),
}

impl From<AppError> for ResetProblem {
    fn from(error: AppError) -> Self {
        match error {
            AppError::Domain(e) => Self::Invalid(e),
            other => Self::Other(other),
        }
    }
}

fn last_admin(error: StoreError) -> AppError {
    match error {
        StoreError::Conflict { constraint } if constraint == "users_last_admin" => {
            AppError::Conflict(
                "the organisation must keep at least one active administrator".into(),
            )
        }
        other => other.into(),
    }
}

/// What binds a reset link to the password it replaces: once changed, the link is dead.
fn password_binding(user: &UserRecord) -> String {
    registre_crypto::sha256_hex(user.password_hash.as_deref().unwrap_or("").as_bytes())
}

impl App {
    async fn user_to_change(&self, by: &Principal, id: Uuid) -> AppResult<UserRecord> {
        by.require(Permission::Administer)?;
        self.store()
            .user(id)
            .await?
            .ok_or_else(|| AppError::not_found("user"))
    }

    /// Gives a user another role; refused when it would leave no active administrator.
    pub async fn set_user_role(&self, by: &Principal, id: Uuid, role: Role) -> AppResult<()> {
        let mut user = self.user_to_change(by, id).await?;
        let from = user.role;
        if from == role {
            return Ok(());
        }
        user.role = role;
        let audit = self.audit_record(
            by,
            "user.role_changed",
            format!("user:{id}"),
            serde_json::json!({"from": from.as_str(), "role": role.as_str()}),
        );
        // The sessions end: the next sign-in carries the new role.
        self.store()
            .update_user(&user, true, &audit)
            .await
            .map_err(last_admin)
    }

    /// Disables a user (their sessions end, they cannot sign in) or enables them again.
    pub async fn set_user_disabled(
        &self,
        by: &Principal,
        id: Uuid,
        disabled: bool,
    ) -> AppResult<()> {
        let mut user = self.user_to_change(by, id).await?;
        if user.disabled_at.is_some() == disabled {
            return Ok(());
        }
        user.disabled_at = disabled.then(|| self.now());
        let audit = self.audit_record(
            by,
            if disabled {
                "user.disabled"
            } else {
                "user.enabled"
            },
            format!("user:{id}"),
            serde_json::json!({}),
        );
        self.store()
            .update_user(&user, disabled, &audit)
            .await
            .map_err(last_admin)
    }

    /// Mails the user a link, valid [`RESET_LINK_HOURS`] hours and good once, to choose a
    /// new password; their current password keeps working until then.
    pub async fn send_password_reset(&self, by: &Principal, id: Uuid) -> AppResult<()> {
        let user = self.user_to_change(by, id).await?;
        if user.disabled_at.is_some() {
            return Err(registre_domain::DomainError::Rule(
                "enable the user before resetting their password".into(),
            )
            .into());
        }
        let token = self.sign_token(
            TokenKind::PasswordReset,
            serde_json::json!({"user": user.id, "h": password_binding(&user)}),
            Duration::hours(RESET_LINK_HOURS),
        );
        let url = format!(
            "{}/console/reset-password?token={token}",
            self.config().public_url
        );
        let organisation = self.organisation().await?;
        let language = Language::parse(&user.language).unwrap_or_default();
        // In the user's language only.
        let (subject, text) = reset_mail(language, &organisation.name, &url);
        let audit = self.audit_record(
            by,
            "user.password_reset_sent",
            format!("user:{id}"),
            serde_json::json!({}),
        );
        self.send_mail(Mail {
            to: user.email.clone(),
            subject,
            text,
            language,
            html: None,
            unsubscribe_url: None,
        })
        .await?;
        self.store().append_audit(&audit).await?;
        Ok(())
    }

    async fn reset_link(&self, token: &str) -> Result<UserRecord, ResetProblem> {
        let verified = self
            .verify_token(TokenKind::PasswordReset, token)
            .map_err(ResetProblem::Link)?;
        let id = verified
            .payload
            .get("user")
            .and_then(|v| v.as_str())
            .and_then(|v| Uuid::parse_str(v).ok())
            .ok_or(ResetProblem::Link(TokenProblem::Invalid))?;
        let user = self
            .store()
            .user(id)
            .await
            .map_err(AppError::from)?
            .ok_or(ResetProblem::Link(TokenProblem::Invalid))?;
        let bound = verified.payload.get("h").and_then(|v| v.as_str());
        if bound != Some(password_binding(&user).as_str()) {
            return Err(ResetProblem::Link(TokenProblem::AlreadyUsed));
        }
        if user.disabled_at.is_some() {
            return Err(ResetProblem::Link(TokenProblem::Invalid));
        }
        Ok(user)
    }

    /// Whom a reset link is for, if it still works.
    pub async fn password_reset_for(&self, token: &str) -> Result<PasswordResetFor, ResetProblem> {
        let user = self.reset_link(token).await?;
        Ok(PasswordResetFor {
            language: Language::parse(&user.language).unwrap_or_default(),
            email: user.email,
        })
    }

    /// Sets the new password; the link is spent and every session of the user ends.
    pub async fn reset_password(&self, token: &str, password: &str) -> Result<(), ResetProblem> {
        let mut user = self.reset_link(token).await?;
        user.password_hash = Some(crate::access::hash_password(password)?);
        match self.consume_token(TokenKind::PasswordReset, token).await? {
            Ok(_) => {}
            Err(problem) => return Err(ResetProblem::Link(problem)),
        }
        let audit = self.audit_record(
            &Principal {
                actor: format!("user:{}", user.id),
                role: user.role,
            },
            "user.password_reset",
            format!("user:{}", user.id),
            serde_json::json!({}),
        );
        self.store()
            .update_user(&user, true, &audit)
            .await
            .map_err(|e| ResetProblem::Other(last_admin(e)))?;
        Ok(())
    }
}

fn reset_mail(language: Language, organisation: &str, url: &str) -> (String, String) {
    match language {
        Language::Fr => (
            format!("{organisation} : choisir un nouveau mot de passe pour la console"),
            format!(
                "Bonjour,\n\nUn administrateur {de_organisation} vous invite à choisir un nouveau mot de passe pour la console de conformité.\n\nChoisir le mot de passe (lien valable {RESET_LINK_HOURS} heures, pour une seule utilisation) :\n{url}\n\nVotre mot de passe actuel reste valable tant que vous n'en avez pas choisi un autre. Si vous n'attendiez pas ce message, prévenez votre administrateur.\n",
                de_organisation = registre_domain::words::de(organisation)
            ),
        ),
        Language::En => (
            format!("{organisation}: choose a new password for the console"),
            format!(
                "Hello,\n\nAn administrator of {organisation} invites you to choose a new password for the compliance console.\n\nChoose the password (link valid {RESET_LINK_HOURS} hours, for one use):\n{url}\n\nYour current password keeps working until you choose another one. If you did not expect this message, tell your administrator.\n"
            ),
        ),
    }
}
