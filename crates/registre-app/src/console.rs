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

/// Failed sign-ins in a row that lock an account.
pub const MAX_SIGN_IN_FAILURES: i64 = 5;
/// How long a locked account stays locked, and how long failures are remembered.
pub const LOCKOUT_MINUTES: i64 = 15;
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

/// Parses an IANA time zone name.
pub fn parse_time_zone(raw: &str) -> Option<chrono_tz::Tz> {
    raw.trim().parse::<chrono_tz::Tz>().ok()
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

    /// Checks a password unless the account is locked; five failures in a row within
    /// [`LOCKOUT_MINUTES`] lock it for as long. The lockout is in the store, so it holds
    /// across restarts and servers.
    pub async fn console_sign_in(&self, email: &str, password: &str) -> AppResult<SignIn> {
        let account = account_of(email);
        let now = self.now();
        if let Some(failures) = self.store().sign_in_failures(&account).await?
            && let Some(until) = failures.locked_until
            && until > now
        {
            return Ok(SignIn::Locked { until });
        }
        match self.authenticate_user(email, password).await {
            Ok((principal, user)) => {
                self.store().clear_sign_in_failures(&account).await?;
                let token = registre_crypto::random_token(32);
                let cookie = format!("{token}.{}", self.console_mac("session", &token));
                let record = ConsoleSessionRecord {
                    id_hash: registre_crypto::sha256_hex(token.as_bytes()),
                    user_id: user.id,
                    created_at: now,
                    expires_at: now + Duration::hours(SESSION_HOURS),
                };
                let audit = self.audit_record(
                    &principal,
                    "user.signed_in",
                    format!("user:{}", user.id),
                    serde_json::json!({}),
                );
                self.store().insert_console_session(&record, &audit).await?;
                let session = self.session_of(&token, record, user)?;
                Ok(SignIn::Done {
                    cookie,
                    session: Box::new(session),
                })
            }
            Err(AppError::Unauthorized) => {
                let lock_until = now + Duration::minutes(LOCKOUT_MINUTES);
                let state = self
                    .store()
                    .record_sign_in_failure(
                        &account,
                        now,
                        now - Duration::minutes(LOCKOUT_MINUTES),
                        MAX_SIGN_IN_FAILURES,
                        lock_until,
                    )
                    .await?;
                let locked = state.locked_until.filter(|until| *until > now);
                self.audit_failed_sign_in(email, locked.is_some()).await?;
                match locked {
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

    /// A failed sign-in on a real account goes to the audit log (the user's id, never the
    /// address typed). Failures for unknown addresses are only counted: logging them would
    /// let anyone fill the audit log, and the lockout bounds those on real accounts.
    async fn audit_failed_sign_in(&self, email: &str, locked: bool) -> AppResult<()> {
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
        let action = if locked {
            "user.locked_out"
        } else {
            "user.sign_in_failed"
        };
        let audit = self.audit_record(
            &actor,
            action,
            format!("user:{}", user.id),
            serde_json::json!({}),
        );
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
