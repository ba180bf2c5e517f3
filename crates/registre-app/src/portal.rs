//! The privacy portal's use cases: a person proves they hold an address by a link sent to
//! it, then sees and changes their consents and files requests. The portal never tells
//! whether an address is known: every address gets the same answer and the same mail.
use crate::mail::Mail;
use crate::request_history::SentRequestMail;
use crate::requests::{NewRequest, RequestView};
use crate::tokens::{TokenKind, TokenProblem};
use crate::{App, AppError, AppResult, ConsentRequest, Principal, SubjectRef};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::Duration;
use registre_domain::ledger::ConsentEvent;
use registre_domain::purpose::LegalBasis;
use registre_domain::{Email, Language, LocalisedText};
use serde::Serialize;
use std::collections::BTreeSet;

/// Where the sealed address in a portal token lives.
const PORTAL_EMAIL_CONTEXT: &str = "portal.email";
pub const SIGN_IN_VALIDITY_MINUTES: i64 = 30;
pub const SESSION_VALIDITY_MINUTES: i64 = 60;
/// Sign-in mails one address receives per window: enough to retry, too few to flood.
pub const SIGN_IN_MAILS_PER_ADDRESS: u32 = 3;
/// Sign-in requests one client may make per window.
pub const SIGN_IN_REQUESTS_PER_IP: u32 = 30;
pub const SIGN_IN_WINDOW_MINUTES: i64 = 15;

/// A signed-in person.
#[derive(Clone)]
pub struct PortalSession {
    pub email: Email,
    /// Binds the CSRF token to this session.
    nonce: String,
}

impl std::fmt::Debug for PortalSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PortalSession(<redacted>)")
    }
}

/// One purpose as the portal shows it.
#[derive(Clone, Debug, Serialize)]
pub struct PortalPurpose {
    pub key: String,
    pub title: LocalisedText,
    pub description: LocalisedText,
    pub legal_basis: LegalBasis,
    pub legitimate_interest: Option<LocalisedText>,
    pub retention_days: i64,
    pub recipients: Vec<String>,
    pub state: String,
    pub allowed: bool,
    pub since: Option<chrono::DateTime<chrono::Utc>>,
    /// Consent purposes can be granted or withdrawn here.
    pub consent_based: bool,
    pub history: Vec<ConsentEvent>,
}

/// One of the person's requests, with the mails they were sent about it.
#[derive(Clone, Debug)]
pub struct PortalRequest {
    pub request: RequestView,
    pub mails: Vec<SentRequestMail>,
}

/// Everything the signed-in page shows: what concerns this person, not every purpose of
/// the organisation.
#[derive(Clone, Debug)]
pub struct PortalOverview {
    /// The purposes of the forms the person used and those with a history for them:
    /// consents they gave or may give there, and processing on another basis that applies.
    pub purposes: Vec<PortalPurpose>,
    pub requests: Vec<PortalRequest>,
    pub restricted: bool,
    pub objected_to_marketing: bool,
}

impl App {
    fn seal_portal_email(&self, email: &Email) -> AppResult<String> {
        let sealed = self
            .keyring()
            .system_key()
            .seal(PORTAL_EMAIL_CONTEXT, email.as_str().as_bytes())?;
        Ok(URL_SAFE_NO_PAD.encode(sealed))
    }

    fn open_portal_email(&self, payload: &serde_json::Value) -> Option<Email> {
        let sealed = URL_SAFE_NO_PAD.decode(payload.get("e")?.as_str()?).ok()?;
        let text = self
            .keyring()
            .system_key()
            .open_string(PORTAL_EMAIL_CONTEXT, &sealed)
            .ok()?;
        Email::parse(&text).ok()
    }

    /// Sends a sign-in link to `email`, whoever it belongs to. `client` identifies the
    /// requester for rate limiting (an IP address). Too many requests from one client are
    /// `RateLimited`; too many for one address are silently not mailed, so the answer
    /// stays the same.
    pub async fn request_portal_sign_in(
        &self,
        raw_email: &str,
        client: &str,
        language: Language,
    ) -> AppResult<()> {
        let now = self.now();
        let window = Duration::minutes(SIGN_IN_WINDOW_MINUTES);
        if !self.inner.rate_limits.allow(
            &format!("portal-ip:{client}"),
            SIGN_IN_REQUESTS_PER_IP,
            window,
            now,
        ) {
            return Err(AppError::RateLimited);
        }
        let email = Email::parse(raw_email)?;
        let per_address = format!("portal-address:{}", hex::encode(self.blind_index(&email)));
        if !self
            .inner
            .rate_limits
            .allow(&per_address, SIGN_IN_MAILS_PER_ADDRESS, window, now)
        {
            return Ok(());
        }
        let token = self.sign_token(
            TokenKind::PortalSignIn,
            serde_json::json!({"e": self.seal_portal_email(&email)?, "l": language.code()}),
            Duration::minutes(SIGN_IN_VALIDITY_MINUTES),
        );
        let organisation = self.organisation().await?;
        let link = format!(
            "{}/privacy/sign-in?token={token}&lang={}",
            self.config().public_url,
            language.code()
        );
        let fr = format!(
            "Bonjour,\n\nPour accéder à l'espace confidentialité {org}, ouvrez ce lien (valable 30 minutes, une seule fois) :\n{link}\n\nVous n'avez rien demandé ? Ignorez ce message : rien ne se passera.\n",
            org = registre_domain::words::de(&organisation.name)
        );
        let en = format!(
            "Hello,\n\nTo open {org}'s privacy portal, follow this link (valid for 30 minutes, once):\n{link}\n\nDid not ask for it? Ignore this message: nothing will happen.\n",
            org = organisation.name
        );
        // In the language the person asked in, only.
        let (subject, text) = match language {
            Language::Fr => (
                format!("Votre lien de connexion - {}", organisation.name),
                fr,
            ),
            Language::En => (format!("Your sign-in link - {}", organisation.name), en),
        };
        self.send_mail(Mail {
            to: email.as_str().to_string(),
            subject,
            text,
            language,
            html: None,
            unsubscribe_url: None,
        })
        .await
    }

    /// Spends a sign-in link and opens a session: the cookie value to set.
    pub async fn complete_portal_sign_in(
        &self,
        token: &str,
    ) -> AppResult<Result<String, TokenProblem>> {
        let verified = match self.consume_token(TokenKind::PortalSignIn, token).await? {
            Ok(verified) => verified,
            Err(problem) => return Ok(Err(problem)),
        };
        let Some(email) = self.open_portal_email(&verified.payload) else {
            return Ok(Err(TokenProblem::Invalid));
        };
        let session = self.sign_token(
            TokenKind::PortalSession,
            serde_json::json!({"e": self.seal_portal_email(&email)?}),
            Duration::minutes(SESSION_VALIDITY_MINUTES),
        );
        Ok(Ok(session))
    }

    /// The person behind a session cookie, if it is valid.
    pub fn portal_session(&self, cookie: &str) -> Option<PortalSession> {
        let verified = self.verify_token(TokenKind::PortalSession, cookie).ok()?;
        let email = self.open_portal_email(&verified.payload)?;
        Some(PortalSession {
            email,
            nonce: verified.nonce,
        })
    }

    /// The CSRF token of a session: a MAC of its nonce, so it cannot be made without the
    /// server's key nor reused with another session.
    pub fn portal_csrf(&self, session: &PortalSession) -> String {
        URL_SAFE_NO_PAD.encode(
            self.keyring()
                .token_mac(format!("portal-csrf:{}", session.nonce).as_bytes()),
        )
    }

    pub fn check_portal_csrf(&self, session: &PortalSession, given: &str) -> bool {
        registre_crypto::constant_time_eq(self.portal_csrf(session).as_bytes(), given.as_bytes())
    }

    /// Every purpose with the person's state and history, and their requests.
    pub async fn portal_overview(&self, session: &PortalSession) -> AppResult<PortalOverview> {
        let consents = self
            .subject_consents(&Principal::public(), session.email.as_str())
            .await?;
        let purposes = self.purposes().await?;
        // The forms this person used: their purposes concern them, whatever their basis.
        let used: BTreeSet<&str> = consents
            .purposes
            .iter()
            .flat_map(|c| c.history.iter())
            .filter_map(|e| e.touchpoint.as_deref())
            .collect();
        let from_forms: BTreeSet<String> = self
            .touchpoints()
            .await?
            .into_iter()
            .filter(|t| used.contains(t.key.as_str()))
            .flat_map(|t| t.purposes)
            .collect();
        let mut shown = Vec::new();
        for purpose in purposes {
            let Some(consent) = consents
                .purposes
                .iter()
                .find(|c| c.purpose == purpose.key.as_str())
            else {
                continue;
            };
            let has_history = consent
                .history
                .iter()
                .any(|e| e.purpose.as_deref() == Some(purpose.key.as_str()));
            if !has_history && !from_forms.contains(purpose.key.as_str()) {
                continue;
            }
            shown.push(PortalPurpose {
                key: purpose.key.to_string(),
                title: purpose.title.clone(),
                description: purpose.description.clone(),
                legal_basis: purpose.legal_basis,
                legitimate_interest: purpose.legitimate_interest.clone(),
                retention_days: purpose.retention_days,
                recipients: purpose.recipients.clone(),
                state: consent.state.clone(),
                allowed: consent.allowed,
                since: consent.since,
                consent_based: purpose.legal_basis == LegalBasis::Consent,
                history: consent
                    .history
                    .iter()
                    .filter(|e| e.purpose.as_deref() == Some(purpose.key.as_str()))
                    .cloned()
                    .collect(),
            });
        }
        let mut requests = Vec::new();
        for request in self.requests_of_email(&session.email).await? {
            let mails = self.request_mails(&Principal::public(), request.id).await?;
            requests.push(PortalRequest { request, mails });
        }
        Ok(PortalOverview {
            purposes: shown,
            requests,
            restricted: consents.restricted,
            objected_to_marketing: consents.objected_to_marketing,
        })
    }

    /// A grant or withdrawal from the portal (source `portal`).
    pub async fn portal_set_consent(
        &self,
        session: &PortalSession,
        purpose: &str,
        grant: bool,
    ) -> AppResult<ConsentEvent> {
        let request = ConsentRequest {
            subject: SubjectRef {
                email: Some(session.email.as_str().to_string()),
                external_id: None,
            },
            purpose: purpose.to_string(),
            action: if grant { "grant" } else { "withdraw" }.into(),
            source: Some("portal".into()),
            touchpoint: None,
            notice_version: None,
            occurred_at: None,
            provenance: None,
        };
        self.record_consent(&Principal::public(), request).await
    }

    /// A request filed by the signed-in person, for their own address only: identity is
    /// verified by the sign-in link.
    pub async fn portal_file_request(
        &self,
        session: &PortalSession,
        request_type: &str,
        message: Option<&str>,
        language: Language,
    ) -> AppResult<RequestView> {
        let input = NewRequest {
            request_type: request_type.to_string(),
            email: session.email.as_str().to_string(),
            details: message.map(str::to_string),
            identity_verified: true,
            identity_verification: None,
            language: Some(language.code().to_string()),
            received_at: None,
            marketing: None,
        };
        self.create_request(
            &Principal {
                actor: "portal".into(),
                role: registre_domain::Role::Agent,
            },
            input,
            "portal",
        )
        .await
    }

    /// The signed-in person's export, streamed (JSON).
    pub async fn portal_export(
        &self,
        session: &PortalSession,
    ) -> AppResult<tokio::sync::mpsc::Receiver<Vec<u8>>> {
        self.export_subject_stream(
            &Principal {
                actor: "portal".into(),
                role: registre_domain::Role::Auditor,
            },
            session.email.as_str(),
        )
        .await
    }
}
