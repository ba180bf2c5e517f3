//! The admin console's own use cases: sign-in with a persisted lockout, server-side
//! sessions with their CSRF token, users' preferences, the dashboard's figures and what
//! changed between two notice versions. Every register page calls the same use cases as
//! the API, with the signed-in user's [`Principal`].
use crate::{App, AppError, AppResult, BreachView, Principal, ProcessorView, RequestView};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use registre_domain::breach::AuthorityDeadline;
use registre_domain::processor::ProcessorStatus;
use registre_domain::role::Permission;
use registre_domain::{DomainError, Language};
use registre_store::{ConsoleSessionRecord, StoreError, UserRecord};
use std::collections::BTreeMap;

/// Failed sign-ins in a row on one account from one client address that lock the account
/// for that address; from other addresses the right password still opens it.
pub const MAX_SIGN_IN_FAILURES: i64 = 5;
/// Failed sign-ins from one client address, whichever the accounts, that lock the address
/// out of every account.
pub const MAX_CLIENT_FAILURES: i64 = 20;
/// Failed sign-ins on one account from all addresses together that lock it everywhere:
/// then the right password is not enough, and gets a mailed unlock link instead.
pub const MAX_ACCOUNT_FAILURES: i64 = 20;
/// How long a lock lasts, and how long failures are remembered.
pub const LOCKOUT_MINUTES: i64 = 15;
/// How long a mailed unlock link is good for (once).
pub const UNLOCK_LINK_MINUTES: i64 = 15;
/// A session's life; signing in again starts a new one.
pub const SESSION_HOURS: i64 = 8;
/// The time zone of a user who has not chosen one.
pub const DEFAULT_TIME_ZONE: &str = "Europe/Paris";
/// Days the dashboard's consent chart covers.
pub const CHART_DAYS: i64 = 30;

/// Audit entries read at most per search call.
pub const AUDIT_SCAN: i64 = 5000;

/// Someone the audit log names: a console user by email, an API key by name.
#[derive(Clone, Debug)]
pub struct AuditActor {
    /// As the log writes it (`user:{id}`, `api_key:{id}`).
    pub actor: String,
    pub name: String,
    pub api_key: bool,
}

/// What the audit log page filters on; every part is optional.
#[derive(Clone, Debug, Default)]
pub struct AuditFilter {
    /// The actor exactly as the log writes it.
    pub actor: Option<String>,
    /// The register: the part of the action before the dot (`processor`, `breach`...).
    pub register: Option<String>,
    /// From this instant (included).
    pub from: Option<DateTime<Utc>>,
    /// Before this instant (excluded).
    pub until: Option<DateTime<Utc>>,
}

impl AuditFilter {
    pub fn matches(&self, entry: &registre_domain::audit::AuditEntry) -> bool {
        self.actor.as_ref().is_none_or(|a| &entry.actor == a)
            && self.register.as_ref().is_none_or(|r| {
                entry.action.split('.').next() == Some(r.as_str())
                    || entry.target.split(':').next() == Some(r.as_str())
            })
            && self.from.is_none_or(|from| entry.at >= from)
            && self.until.is_none_or(|until| entry.at < until)
    }
}

/// A page of the filtered audit log.
#[derive(Clone, Debug)]
pub struct AuditSearch {
    pub entries: Vec<registre_domain::audit::AuditEntry>,
    /// Where the next page starts (`before`), when older entries remain.
    pub older: Option<i64>,
}

/// A signed-in user, as every console page sees them.
#[derive(Clone)]
pub struct ConsoleSession {
    pub principal: Principal,
    pub user: UserRecord,
    pub language: Language,
    pub time_zone: chrono_tz::Tz,
    /// The token every form of this session carries.
    pub csrf: String,
    pub expires_at: DateTime<Utc>,
    id_hash: String,
}

impl std::fmt::Debug for ConsoleSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConsoleSession")
            .field("principal", &self.principal)
            .finish_non_exhaustive()
    }
}

/// What a sign-in attempt gave.
#[derive(Debug)]
pub enum SignIn {
    /// The cookie to set, and the new session.
    Done {
        cookie: String,
        session: Box<ConsoleSession>,
    },
    /// Wrong email or password (which one is not said).
    Refused,
    /// Too many failures: no password is checked until then.
    Locked { until: DateTime<Utc> },
    /// The right password on an account locked by failures from elsewhere: a link that
    /// opens the session was mailed to the account's address.
    UnlockMailed,
}

/// One line of the dashboard's consent chart: a purpose's grants and withdrawals per day.
#[derive(Clone, Debug)]
pub struct PurposeSeries {
    pub purpose: String,
    pub grants: Vec<i64>,
    pub withdrawals: Vec<i64>,
    pub total_grants: i64,
    pub total_withdrawals: i64,
}

/// Opt-in through one touchpoint: consents granted per form sent, per purpose.
#[derive(Clone, Debug)]
pub struct TouchpointRate {
    pub touchpoint: String,
    pub submissions: i64,
    /// `(purpose, grants, percent of submissions)`.
    pub purposes: Vec<(String, i64, i64)>,
}

/// A touchpoint whose notice has a new version.
#[derive(Clone, Debug)]
pub struct NoticeChange {
    pub touchpoint: String,
    pub version: String,
    pub previous_version: String,
    pub published_at: DateTime<Utc>,
}

/// What needs the DPO's attention first, then how consent goes.
#[derive(Clone, Debug)]
pub struct Dashboard {
    pub overdue_requests: Vec<RequestView>,
    pub due_soon_requests: Vec<RequestView>,
    /// Requests received and not yet looked at (identity not checked), not already above.
    pub new_requests: Vec<RequestView>,
    /// Breaches whose authority clock runs or ran out, or whose people are still to be told.
    pub open_breaches: Vec<BreachView>,
    pub processors: Vec<ProcessorView>,
    pub changed_notices: Vec<NoticeChange>,
    pub days: Vec<NaiveDate>,
    pub series: Vec<PurposeSeries>,
    pub touchpoints: Vec<TouchpointRate>,
}

/// Who a sign-in is counted against: the address, known user or not, never stored in clear.
fn account_of(email: &str) -> String {
    registre_crypto::sha256_hex(email.trim().to_lowercase().as_bytes())
}

/// Failures of one client address on one account.
fn pair_of(email: &str, client: &str) -> String {
    format!(
        "pair:{}",
        registre_crypto::sha256_hex(
            format!("{}\n{client}", email.trim().to_lowercase()).as_bytes()
        )
    )
}

/// Failures of one client address, whichever the accounts.
fn client_of(client: &str) -> String {
    format!("client:{}", registre_crypto::sha256_hex(client.as_bytes()))
}

/// Parses an IANA time zone name.
pub fn parse_time_zone(raw: &str) -> Option<chrono_tz::Tz> {
    raw.trim().parse::<chrono_tz::Tz>().ok()
}

fn json_client(tag: &str) -> serde_json::Value {
    serde_json::json!({"client": tag})
}

impl App {
    fn console_mac(&self, purpose: &str, token: &str) -> String {
        URL_SAFE_NO_PAD.encode(
            self.keyring()
                .token_mac(format!("console-{purpose}:{token}").as_bytes()),
        )
    }

    /// The sign-in form's CSRF token: a MAC of the random value in its cookie.
    pub fn console_sign_in_token(&self, nonce: &str) -> String {
        self.console_mac("sign-in", nonce)
    }

    pub fn console_sign_in_token_ok(&self, nonce: &str, given: &str) -> bool {
        registre_crypto::constant_time_eq(
            self.console_sign_in_token(nonce).as_bytes(),
            given.as_bytes(),
        )
    }

    /// The audit log, newest first: entries with `seq <= before` (all when `None`).
    pub async fn audit_log(
        &self,
        by: &Principal,
        before: Option<i64>,
        limit: i64,
    ) -> AppResult<Vec<registre_domain::audit::AuditEntry>> {
        by.require(Permission::Read)?;
        let limit = limit.clamp(1, 500);
        let end = match before {
            Some(seq) => seq,
            None => self.store().audit_length().await?,
        };
        let start = (end - limit).max(0);
        let mut entries = self.store().audit_entries(start, end - start).await?;
        entries.reverse();
        Ok(entries)
    }

    /// Who the audit log's actors are: `user:{id}` by the user's email, `api_key:{id}` by
    /// the key's name. Other actors (`cli`, `system`, `public`, links) are not listed.
    pub async fn audit_actors(&self, by: &Principal) -> AppResult<Vec<AuditActor>> {
        by.require(Permission::Read)?;
        let mut actors: Vec<AuditActor> = self
            .store()
            .users()
            .await?
            .into_iter()
            .map(|u| AuditActor {
                actor: format!("user:{}", u.id),
                name: u.email,
                api_key: false,
            })
            .collect();
        actors.extend(
            self.store()
                .api_keys()
                .await?
                .into_iter()
                .map(|k| AuditActor {
                    actor: format!("api_key:{}", k.id),
                    name: k.name,
                    api_key: true,
                }),
        );
        Ok(actors)
    }

    /// The audit log, newest first, filtered: entries with `seq <= before` that match
    /// `filter`, at most `limit`. At most [`AUDIT_SCAN`] entries are read per call; the
    /// answer says where to go on from when more may match.
    pub async fn search_audit_log(
        &self,
        by: &Principal,
        filter: &AuditFilter,
        before: Option<i64>,
        limit: i64,
    ) -> AppResult<AuditSearch> {
        by.require(Permission::Read)?;
        let limit = limit.clamp(1, 500) as usize;
        let mut end = match before {
            Some(seq) => seq.min(self.store().audit_length().await?),
            None => self.store().audit_length().await?,
        };
        let mut entries = Vec::new();
        let mut scanned = 0;
        // Entries come newest first: once one is older than `from`, none after it matches.
        let mut past_from = false;
        'pages: while end > 0 && entries.len() < limit && scanned < AUDIT_SCAN {
            let start = (end - 200).max(0);
            let mut page = self.store().audit_entries(start, end - start).await?;
            page.reverse();
            if page.is_empty() {
                break;
            }
            for entry in page {
                end = entry.seq - 1;
                scanned += 1;
                if filter.from.is_some_and(|from| entry.at < from) {
                    past_from = true;
                    break 'pages;
                }
                if filter.matches(&entry) {
                    entries.push(entry);
                    if entries.len() == limit {
                        break 'pages;
                    }
                }
            }
        }
        Ok(AuditSearch {
            older: Some(end).filter(|seq| *seq > 0 && !past_from),
            entries,
        })
    }

    /// A short keyed tag of a client address for the audit log: the same address gives the
    /// same tag, so attempts can be told apart and counted, without the address itself.
    fn client_tag(&self, client: &str) -> String {
        let mac = self.console_mac("client", client);
        mac.chars().take(16).collect()
    }

    /// The lock in force on `key`, if any.
    async fn lock_on(&self, key: &str, now: DateTime<Utc>) -> AppResult<Option<DateTime<Utc>>> {
        Ok(self
            .store()
            .sign_in_failures(key)
            .await?
            .and_then(|failures| failures.locked_until)
            .filter(|until| *until > now))
    }

    /// Checks a password from `client` (the client's address) unless that address is
    /// locked out. Failures are counted three ways within [`LOCKOUT_MINUTES`]: on the
    /// account from this address ([`MAX_SIGN_IN_FAILURES`] lock it for this address only),
    /// from this address on any account ([`MAX_CLIENT_FAILURES`] lock the address out), and
    /// on the account from everywhere ([`MAX_ACCOUNT_FAILURES`]). Wrong passwords from others
    /// therefore never lock the real user out: from their own address the right password
    /// opens the account, and once it is locked everywhere, the right password mails an
    /// unlock link to the account's address. The counts are in the store, so they hold
    /// across restarts and servers; every failure on a real account, every lock and every
    /// unlock is in the audit log (with a tag of the address, never a password).
    pub async fn console_sign_in(
        &self,
        email: &str,
        password: &str,
        client: &str,
    ) -> AppResult<SignIn> {
        let account = account_of(email);
        let pair = pair_of(email, client);
        let client_key = client_of(client);
        let now = self.now();
        let mut locked_here = None;
        for key in [&client_key, &pair] {
            if let Some(until) = self.lock_on(key, now).await? {
                locked_here = locked_here.max(Some(until));
            }
        }
        if let Some(until) = locked_here {
            return Ok(SignIn::Locked { until });
        }
        match self.authenticate_user(email, password).await {
            Ok((principal, user)) => {
                if self.lock_on(&account, now).await?.is_some() {
                    self.mail_unlock_link(&principal, &user, client).await?;
                    return Ok(SignIn::UnlockMailed);
                }
                self.store().clear_sign_in_failures(&pair).await?;
                self.store().clear_sign_in_failures(&account).await?;
                let (cookie, session) = self
                    .open_console_session(&principal, user, json_client(&self.client_tag(client)))
                    .await?;
                Ok(SignIn::Done { cookie, session })
            }
            Err(AppError::Unauthorized) => {
                let lock_until = now + Duration::minutes(LOCKOUT_MINUTES);
                let window_start = now - Duration::minutes(LOCKOUT_MINUTES);
                let mut locks = Vec::new();
                for (key, max) in [
                    (&pair, MAX_SIGN_IN_FAILURES),
                    (&client_key, MAX_CLIENT_FAILURES),
                    (&account, MAX_ACCOUNT_FAILURES),
                ] {
                    let state = self
                        .store()
                        .record_sign_in_failure(key, now, window_start, max, lock_until)
                        .await?;
                    // Locked by this very failure: the count restarts at 0 when a lock is set.
                    locks.push(state.failures == 0 && state.locked_until.is_some());
                }
                let (pair_locked, client_locked, account_locked) = (locks[0], locks[1], locks[2]);
                let tag = self.client_tag(client);
                self.audit_failed_sign_in(email, &tag, pair_locked, account_locked)
                    .await?;
                if client_locked {
                    tracing::warn!(
                        "a client address was locked out of the console after repeated failures"
                    );
                    let audit = self.audit_record(
                        &Principal {
                            actor: "console".into(),
                            role: registre_domain::Role::Auditor,
                        },
                        "console.client_locked_out",
                        format!("client:{tag}"),
                        serde_json::json!({"client": tag, "minutes": LOCKOUT_MINUTES}),
                    );
                    self.store().append_audit(&audit).await?;
                }
                let mut locked_here = None;
                for key in [&client_key, &pair] {
                    if let Some(until) = self.lock_on(key, now).await? {
                        locked_here = locked_here.max(Some(until));
                    }
                }
                match locked_here {
                    Some(until) => {
                        tracing::warn!("a console account was locked after repeated failures");
                        Ok(SignIn::Locked { until })
                    }
                    None => Ok(SignIn::Refused),
                }
            }
            Err(other) => Err(other),
        }
    }

    /// A new session for a user whose sign-in is proven; `user.signed_in` in the audit log.
    async fn open_console_session(
        &self,
        principal: &Principal,
        user: UserRecord,
        details: serde_json::Value,
    ) -> AppResult<(String, Box<ConsoleSession>)> {
        let now = self.now();
        let token = registre_crypto::random_token(32);
        let cookie = format!("{token}.{}", self.console_mac("session", &token));
        let record = ConsoleSessionRecord {
            id_hash: registre_crypto::sha256_hex(token.as_bytes()),
            user_id: user.id,
            created_at: now,
            expires_at: now + Duration::hours(SESSION_HOURS),
        };
        let audit = self.audit_record(
            principal,
            "user.signed_in",
            format!("user:{}", user.id),
            details,
        );
        self.store().insert_console_session(&record, &audit).await?;
        let session = self.session_of(&token, record, user)?;
        Ok((cookie, Box::new(session)))
    }

    /// Mails the user a link that opens their session: the right password was given on an
    /// account locked by failures from elsewhere, and the mailbox proves the rest.
    async fn mail_unlock_link(
        &self,
        principal: &Principal,
        user: &UserRecord,
        client: &str,
    ) -> AppResult<()> {
        let tag = self.client_tag(client);
        let token = self.sign_token(
            crate::tokens::TokenKind::ConsoleUnlock,
            serde_json::json!({"u": user.id}),
            Duration::minutes(UNLOCK_LINK_MINUTES),
        );
        let link = format!("{}/console/unlock?token={token}", self.config().public_url);
        let organisation = self.organisation().await?;
        let language = Language::parse(&user.language).unwrap_or_default();
        let fr = format!(
            "Bonjour,\n\nDe nombreuses tentatives de connexion échouées ont verrouillé votre compte de la console {org}. Le bon mot de passe vient d'être saisi : pour ouvrir la session, suivez ce lien (valable {minutes} minutes, une seule fois) :\n{link}\n\nCe n'était pas vous ? Quelqu'un connaît votre mot de passe : changez-le et prévenez l'administrateur.\n",
            org = registre_domain::words::de(&organisation.name),
            minutes = UNLOCK_LINK_MINUTES
        );
        let en = format!(
            "Hello,\n\nMany failed sign-ins locked your account on {org}'s console. The right password was just given: to open the session, follow this link (valid for {minutes} minutes, once):\n{link}\n\nWas it not you? Someone knows your password: change it and tell the administrator.\n",
            org = organisation.name,
            minutes = UNLOCK_LINK_MINUTES
        );
        // In the user's language only.
        let (subject, text) = match language {
            Language::Fr => (
                format!("Déverrouiller votre compte - {}", organisation.name),
                fr,
            ),
            Language::En => (format!("Unlock your account - {}", organisation.name), en),
        };
        self.send_mail(crate::mail::Mail {
            to: user.email.clone(),
            subject,
            text,
            language,
            html: None,
            unsubscribe_url: None,
        })
        .await?;
        let audit = self.audit_record(
            principal,
            "user.unlock_link_sent",
            format!("user:{}", user.id),
            serde_json::json!({"client": tag}),
        );
        self.store().append_audit(&audit).await?;
        Ok(())
    }

    /// Spends a mailed unlock link: the account's lock is lifted and a session opened.
    /// `None` when the link is not valid, has expired or was used.
    pub async fn console_unlock(
        &self,
        token: &str,
        client: &str,
    ) -> AppResult<Option<(String, Box<ConsoleSession>)>> {
        let verified = match self
            .consume_token(crate::tokens::TokenKind::ConsoleUnlock, token)
            .await?
        {
            Ok(verified) => verified,
            Err(_) => return Ok(None),
        };
        let Some(user_id) = verified.payload["u"]
            .as_str()
            .and_then(|raw| uuid::Uuid::parse_str(raw).ok())
        else {
            return Ok(None);
        };
        let Some(user) = self.store().user(user_id).await? else {
            return Ok(None);
        };
        let principal = Principal {
            actor: format!("user:{}", user.id),
            role: user.role,
        };
        let tag = self.client_tag(client);
        self.store()
            .clear_sign_in_failures(&account_of(&user.email))
            .await?;
        self.store()
            .clear_sign_in_failures(&pair_of(&user.email, client))
            .await?;
        let audit = self.audit_record(
            &principal,
            "user.unlocked",
            format!("user:{}", user.id),
            serde_json::json!({"client": tag}),
        );
        self.store().append_audit(&audit).await?;
        let (cookie, session) = self
            .open_console_session(&principal, user, json_client(&tag))
            .await?;
        Ok(Some((cookie, session)))
    }

    /// A failed sign-in on a real account goes to the audit log (the user's id and a tag of
    /// the client's address, never the address typed nor the password). Failures for
    /// unknown addresses are only counted: logging them would let anyone fill the audit log,
    /// and the per-address lock bounds those on real accounts.
    async fn audit_failed_sign_in(
        &self,
        email: &str,
        client_tag: &str,
        locked_here: bool,
        locked_everywhere: bool,
    ) -> AppResult<()> {
        let Ok(email) = registre_domain::Email::parse(email) else {
            return Ok(());
        };
        let Some(user) = self.store().user_by_email(email.as_str()).await? else {
            return Ok(());
        };
        let actor = Principal {
            actor: "console".into(),
            role: user.role,
        };
        let (action, scope) = match (locked_here, locked_everywhere) {
            (_, true) => ("user.locked_out", "account"),
            (true, false) => ("user.locked_out", "address"),
            (false, false) => ("user.sign_in_failed", ""),
        };
        let details = if scope.is_empty() {
            serde_json::json!({"client": client_tag})
        } else {
            serde_json::json!({"client": client_tag, "scope": scope, "minutes": LOCKOUT_MINUTES})
        };
        let audit = self.audit_record(&actor, action, format!("user:{}", user.id), details);
        self.store().append_audit(&audit).await?;
        Ok(())
    }

    fn session_of(
        &self,
        token: &str,
        record: ConsoleSessionRecord,
        user: UserRecord,
    ) -> AppResult<ConsoleSession> {
        Ok(ConsoleSession {
            principal: Principal {
                actor: format!("user:{}", user.id),
                role: user.role,
            },
            language: Language::parse(&user.language).unwrap_or_default(),
            time_zone: parse_time_zone(&user.time_zone).unwrap_or(chrono_tz::Europe::Paris),
            csrf: self.console_mac("csrf", token),
            expires_at: record.expires_at,
            id_hash: record.id_hash,
            user,
        })
    }

    /// The session behind a cookie: signed by this server's key, on record, not expired.
    pub async fn console_session(&self, cookie: &str) -> AppResult<Option<ConsoleSession>> {
        let Some((token, mac)) = cookie.split_once('.') else {
            return Ok(None);
        };
        if token.len() > 128
            || !registre_crypto::constant_time_eq(
                mac.as_bytes(),
                self.console_mac("session", token).as_bytes(),
            )
        {
            return Ok(None);
        }
        let id_hash = registre_crypto::sha256_hex(token.as_bytes());
        let Some((record, user)) = self.store().console_session(&id_hash).await? else {
            return Ok(None);
        };
        if record.expires_at <= self.now() || user.disabled_at.is_some() {
            self.store().delete_console_session(&id_hash, None).await?;
            return Ok(None);
        }
        Ok(Some(self.session_of(token, record, user)?))
    }

    /// Whether a form's token belongs to this session.
    pub fn console_csrf_ok(&self, session: &ConsoleSession, given: &str) -> bool {
        registre_crypto::constant_time_eq(session.csrf.as_bytes(), given.as_bytes())
    }

    /// Ends the session on the server: its cookie opens nothing any more.
    pub async fn console_sign_out(&self, session: &ConsoleSession) -> AppResult<()> {
        let audit = self.audit_record(
            &session.principal,
            "user.signed_out",
            format!("user:{}", session.user.id),
            serde_json::json!({}),
        );
        self.store()
            .delete_console_session(&session.id_hash, Some(&audit))
            .await?;
        Ok(())
    }

    /// A user's own language and time zone.
    pub async fn set_console_preferences(
        &self,
        session: &ConsoleSession,
        language: &str,
        time_zone: &str,
    ) -> AppResult<()> {
        session.principal.require(Permission::Read)?;
        let language = Language::parse(language)
            .ok_or_else(|| DomainError::invalid("language", "fr or en"))?;
        let zone = parse_time_zone(time_zone)
            .ok_or_else(|| DomainError::invalid("time_zone", "an IANA time zone"))?;
        let audit = self.audit_record(
            &session.principal,
            "user.preferences_changed",
            format!("user:{}", session.user.id),
            serde_json::json!({"language": language.code(), "time_zone": zone.name()}),
        );
        self.store()
            .update_user_preferences(session.user.id, language.code(), zone.name(), &audit)
            .await
            .map_err(|e| match e {
                StoreError::NotFound => AppError::not_found("user"),
                other => other.into(),
            })
    }

    /// Console users, for administrators.
    pub async fn users(&self, by: &Principal) -> AppResult<Vec<UserRecord>> {
        by.require(Permission::Administer)?;
        Ok(self.store().users().await?)
    }

    /// What needs attention first, then the consent figures of the last [`CHART_DAYS`] days.
    pub async fn dashboard(&self, by: &Principal) -> AppResult<Dashboard> {
        by.require(Permission::Read)?;
        let now = self.now();
        let requests = self
            .list_requests(by, None, None, Some(crate::requests::MAX_PAGE))
            .await?
            .items;
        let new_requests = requests
            .iter()
            .filter(|r| {
                r.status == registre_domain::request::RequestStatus::Received
                    && !r.overdue
                    && !r.due_soon
            })
            .cloned()
            .collect();
        let (overdue_requests, due_soon_requests) = requests
            .into_iter()
            .filter(|r| r.overdue || r.due_soon)
            .partition(|r| r.overdue);
        let open_breaches = self
            .breaches()
            .await?
            .into_iter()
            .filter(|b| {
                matches!(
                    b.authority_deadline,
                    AuthorityDeadline::Running | AuthorityDeadline::Overdue
                ) || (b.subjects_notification_required && b.subjects_notified_at.is_none())
            })
            .collect();
        let processors = self
            .processors()
            .await?
            .into_iter()
            .filter(|p| {
                p.review_overdue
                    || p.review_due_soon
                    || matches!(
                        p.status,
                        ProcessorStatus::NonCompliant | ProcessorStatus::PendingAssessment
                    )
            })
            .collect();
        let mut changed_notices = Vec::new();
        for touchpoint in self.touchpoints().await? {
            let history = self.notice_history(touchpoint.key.as_str()).await?;
            if let [latest, previous, ..] = history.as_slice()
                && latest.published_at > now - Duration::days(CHART_DAYS)
            {
                changed_notices.push(NoticeChange {
                    touchpoint: touchpoint.key.to_string(),
                    version: latest.version.clone(),
                    previous_version: previous.version.clone(),
                    published_at: latest.published_at,
                });
            }
        }
        let first_day = (now - Duration::days(CHART_DAYS - 1)).date_naive();
        let since = first_day.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc();
        let days: Vec<NaiveDate> = first_day.iter_days().take(CHART_DAYS as usize).collect();
        let mut series: BTreeMap<String, PurposeSeries> = self
            .purposes()
            .await?
            .into_iter()
            .filter(|p| p.legal_basis == registre_domain::purpose::LegalBasis::Consent)
            .map(|p| {
                let key = p.key.to_string();
                (
                    key.clone(),
                    PurposeSeries {
                        purpose: key,
                        grants: vec![0; days.len()],
                        withdrawals: vec![0; days.len()],
                        total_grants: 0,
                        total_withdrawals: 0,
                    },
                )
            })
            .collect();
        for row in self.store().consent_activity(since).await? {
            let Some(line) = series.get_mut(&row.purpose) else {
                continue;
            };
            let Some(index) = days.iter().position(|d| *d == row.day) else {
                continue;
            };
            match row.action.as_str() {
                "grant" => {
                    line.grants[index] += row.count;
                    line.total_grants += row.count;
                }
                "withdraw" | "expire" | "object" => {
                    line.withdrawals[index] += row.count;
                    line.total_withdrawals += row.count;
                }
                _ => {}
            }
        }
        let touchpoints = self
            .store()
            .touchpoint_activity(since)
            .await?
            .into_iter()
            .map(|row| TouchpointRate {
                purposes: row
                    .grants
                    .iter()
                    .map(|(purpose, grants)| {
                        let percent = if row.submissions > 0 {
                            (grants * 100 / row.submissions).min(100)
                        } else {
                            0
                        };
                        (purpose.clone(), *grants, percent)
                    })
                    .collect(),
                touchpoint: row.touchpoint,
                submissions: row.submissions,
            })
            .collect();
        Ok(Dashboard {
            overdue_requests,
            due_soon_requests,
            new_requests,
            open_breaches,
            processors,
            changed_notices,
            days,
            series: series.into_values().collect(),
            touchpoints,
        })
    }

    /// The notice a touchpoint would publish with these settings, without saving anything.
    pub async fn preview_touchpoint(
        &self,
        by: &Principal,
        input: registre_domain::touchpoint::TouchpointInput,
    ) -> AppResult<crate::NoticeView> {
        by.require(Permission::ManageRegisters)?;
        let touchpoint = self.validated_touchpoint(input).await?;
        let organisation = self.organisation().await?;
        let purposes = self.purposes().await?;
        let labels: BTreeMap<String, registre_domain::localised::LocalisedText> = self
            .data_categories()
            .await?
            .into_iter()
            .map(|c| (c.key, c.label))
            .collect();
        let content = registre_domain::notice::NoticeContent::build(
            &organisation,
            &touchpoint,
            &purposes,
            &labels,
        );
        Ok(crate::NoticeView {
            version: content.version(),
            content,
            published_at: self.now(),
        })
    }

    /// What differs between two notice versions, one line per changed value
    /// (`purposes.newsletter.retention_days: 1095 → 730`).
    pub async fn notice_changes(&self, previous: &str, current: &str) -> AppResult<Vec<String>> {
        let old = self.notice(previous).await?;
        let new = self.notice(current).await?;
        let flat = |content: &registre_domain::notice::NoticeContent| {
            let mut out = BTreeMap::new();
            flatten(
                "",
                &serde_json::to_value(content).unwrap_or_default(),
                &mut out,
            );
            out
        };
        let (old, new) = (flat(&old.content), flat(&new.content));
        let mut lines = Vec::new();
        for (path, value) in &new {
            match old.get(path) {
                None => lines.push(format!("+ {path}: {value}")),
                Some(before) if before != value => {
                    lines.push(format!("{path}: {before} → {value}"))
                }
                Some(_) => {}
            }
        }
        for (path, value) in &old {
            if !new.contains_key(path) {
                lines.push(format!("− {path}: {value}"));
            }
        }
        Ok(lines)
    }
}

/// Flattens JSON to `path → value`; arrays of objects with a `key` or `name` are indexed by
/// it, so that a reordering is not a change.
fn flatten(prefix: &str, value: &serde_json::Value, out: &mut BTreeMap<String, String>) {
    let join = |name: &str| {
        if prefix.is_empty() {
            name.to_string()
        } else {
            format!("{prefix}.{name}")
        }
    };
    match value {
        serde_json::Value::Object(map) => {
            for (name, inner) in map {
                flatten(&join(name), inner, out);
            }
        }
        serde_json::Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                let label = item
                    .get("key")
                    .or_else(|| item.get("name"))
                    .and_then(|v| v.as_str())
                    .map(str::to_string)
                    .unwrap_or_else(|| i.to_string());
                flatten(&join(&label), item, out);
            }
        }
        serde_json::Value::String(text) => {
            out.insert(prefix.to_string(), text.clone());
        }
        other => {
            out.insert(prefix.to_string(), other.to_string());
        }
    }
}
