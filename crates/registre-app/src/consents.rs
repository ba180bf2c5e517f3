//! Recording consents in the ledger and answering "may we?".
use crate::{App, AppError, AppResult, Principal};
use chrono::{DateTime, Utc};
use registre_domain::ledger::{
    self, ConsentAction, ConsentEvent, ConsentSource, Decision, NewConsentEvent, SubjectFlags,
};
use registre_domain::purpose::LegalBasis;
use registre_domain::role::Permission;
use registre_domain::{DomainError, Email};
use registre_store::ChangeSet;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Who the consent is about: an email, an external id, or both.
#[derive(Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubjectRef {
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub external_id: Option<String>,
}

impl std::fmt::Debug for SubjectRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SubjectRef(<redacted>)")
    }
}

#[derive(Clone, Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConsentRequest {
    pub subject: SubjectRef,
    pub purpose: String,
    /// `grant` or `withdraw`.
    pub action: String,
    /// `form`, `portal`, `api` (default), `import`, `email_link`.
    #[serde(default)]
    pub source: Option<String>,
    #[serde(default)]
    pub touchpoint: Option<String>,
    /// The notice the person saw; defaults to the touchpoint's current one.
    #[serde(default)]
    pub notice_version: Option<String>,
    /// When the person acted, if earlier than now (imports).
    #[serde(default)]
    pub occurred_at: Option<DateTime<Utc>>,
    /// Where the record comes from (a file, a system); never personal data.
    #[serde(default)]
    pub provenance: Option<String>,
}

/// A subject's consents: the state of each purpose, and the events behind it.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct SubjectConsents {
    pub subject_id: Option<Uuid>,
    pub erased: bool,
    pub restricted: bool,
    pub objected_to_marketing: bool,
    pub purposes: Vec<PurposeConsent>,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct PurposeConsent {
    pub purpose: String,
    pub legal_basis: LegalBasis,
    pub allowed: bool,
    pub state: String,
    pub since: Option<DateTime<Utc>>,
    pub history: Vec<ConsentEvent>,
}

/// Most events of one subject returned inline; beyond, callers page through the ledger.
const HISTORY_LIMIT: i64 = 10_000;

fn parse_email(raw: &str) -> AppResult<Email> {
    Ok(Email::parse(raw)?)
}

impl App {
    /// Records a grant or withdrawal, with its webhook, in one durable transaction.
    pub async fn record_consent(
        &self,
        by: &Principal,
        request: ConsentRequest,
    ) -> AppResult<ConsentEvent> {
        let request = &request;
        let mut events = crate::retry::retry_on_new_subject_conflict(|retried| async move {
            let change = self
                .prepare_consent_with(by, request.clone(), !retried)
                .await?;
            self.commit_one(change).await
        })
        .await?;
        events
            .pop()
            .ok_or_else(|| AppError::internal("the ledger returned no event"))
    }

    /// Validates a grant or withdrawal and turns it into the change set that records it
    /// (the event and its webhook message), without committing it.
    pub(crate) async fn prepare_consent(
        &self,
        by: &Principal,
        request: ConsentRequest,
    ) -> AppResult<ChangeSet> {
        self.prepare_consent_with(by, request, false).await
    }

    /// [`Self::prepare_consent`]; with `defer_new_subject`, a person not known yet is not
    /// created now but carried in the change set's `new_subjects` (the commit then fails on
    /// [`registre_store::SUBJECT_INDEX_CONSTRAINT`] if someone created them meanwhile).
    async fn prepare_consent_with(
        &self,
        by: &Principal,
        request: ConsentRequest,
        defer_new_subject: bool,
    ) -> AppResult<ChangeSet> {
        by.require(Permission::OperateSubjects)?;
        let action = match request.action.as_str() {
            "grant" => ConsentAction::Grant,
            "withdraw" => ConsentAction::Withdraw,
            other => {
                return Err(DomainError::invalid(
                    "action",
                    format!("{other:?} is not grant or withdraw"),
                )
                .into());
            }
        };
        let source = match request.source.as_deref() {
            None => ConsentSource::Api,
            Some(raw) => ConsentSource::parse(raw)
                .filter(|s| *s != ConsentSource::System)
                .ok_or_else(|| {
                    DomainError::invalid(
                        "source",
                        "expected form, portal, api, import or email_link",
                    )
                })?,
        };
        let purpose = self.purpose(&request.purpose).await?;
        if purpose.legal_basis != LegalBasis::Consent && action == ConsentAction::Grant {
            return Err(DomainError::Rule(format!(
                "purpose {} rests on {}, not consent: there is nothing to grant",
                purpose.key,
                purpose.legal_basis.as_str()
            ))
            .into());
        }
        let provenance = match request.provenance.as_deref().map(str::trim) {
            Some(p) if p.len() > 200 || p.chars().any(char::is_control) => {
                return Err(
                    DomainError::invalid("provenance", "at most 200 printable characters").into(),
                );
            }
            Some("") | None => None,
            Some(p) => Some(p.to_string()),
        };
        let now = self.now();
        if let Some(at) = request.occurred_at
            && at > now + chrono::Duration::minutes(5)
        {
            return Err(DomainError::invalid("occurred_at", "cannot be in the future").into());
        }
        let notice_version = self
            .notice_version_for(
                &request.purpose,
                request.touchpoint.as_deref(),
                request.notice_version.as_deref(),
            )
            .await?;
        let email = match request.subject.email.as_deref() {
            Some(raw) => Some(parse_email(raw)?),
            None => None,
        };
        let external_id = request
            .subject
            .external_id
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty());
        if let Some(id) = external_id
            && (id.len() > 200 || id.chars().any(char::is_control))
        {
            return Err(DomainError::invalid(
                "subject.external_id",
                "at most 200 printable characters",
            )
            .into());
        }
        let mut new_subject = None;
        let subject = match (&email, external_id) {
            (Some(email), _) => {
                // A withdrawal for someone we do not know changes nothing, but is still
                // recorded so that a later import cannot override it; for an erased person,
                // only a fresh, explicit consent starts a new subject.
                let existing = self.find_subject(email).await?;
                if existing.is_none()
                    && self
                        .store()
                        .suppressed_since(&self.blind_index(email))
                        .await?
                        .is_some()
                    && !ledger::opens_subject(action, source, true)
                {
                    return Err(DomainError::Rule(
                        "this person was erased; only a fresh, explicit consent from them can start a new record (an import or a withdrawal cannot bring them back)".into(),
                    )
                    .into());
                }
                match (defer_new_subject, existing) {
                    (_, Some(existing)) => existing,
                    (true, None) => {
                        let (record, _) = self.new_subject(email)?;
                        new_subject = Some(record.clone());
                        record
                    }
                    (false, None) => self.subject_with_key(email).await?.0,
                }
            }
            (None, Some(_)) => {
                return Err(DomainError::invalid("subject.email", "an email is needed to record a consent for a new person; external ids are attached to it").into());
            }
            (None, None) => {
                return Err(
                    DomainError::invalid("subject", "give an email or an external id").into(),
                );
            }
        };
        let event = NewConsentEvent {
            event_id: Uuid::now_v7(),
            subject_id: subject.id,
            purpose: Some(purpose.key.to_string()),
            action,
            source,
            touchpoint: request.touchpoint.clone(),
            notice_version,
            provenance,
            occurred_at: request.occurred_at,
        };
        let topic = if action == ConsentAction::Grant {
            "consent.granted"
        } else {
            "consent.withdrawn"
        };
        let payload = serde_json::json!({
            "id": event.event_id, "type": topic, "occurred_at": event.occurred_at.unwrap_or(now),
            "data": {"email": email.as_ref().map(|e| e.as_str()), "purpose": purpose.key.as_str(), "event_id": event.event_id, "source": source.as_str()}
        });
        Ok(ChangeSet {
            events: vec![event],
            outbox: self
                .webhook_message(topic, Some(subject.id), &payload)
                .await?,
            new_subjects: new_subject.into_iter().collect(),
            at: now,
            ..Default::default()
        })
    }

    pub(crate) async fn commit_one(&self, change: ChangeSet) -> AppResult<Vec<ConsentEvent>> {
        let mut results = self.commit_changes(vec![change]).await;
        match results.pop() {
            Some(result) => Ok(result?),
            None => Err(AppError::internal("the ledger returned no result")),
        }
    }

    /// Commits change sets through the group committer and wakes the worker of each outbox
    /// channel one of them wrote to.
    pub(crate) async fn commit_changes(
        &self,
        changes: Vec<ChangeSet>,
    ) -> Vec<registre_store::StoreResult<Vec<ConsentEvent>>> {
        let writes_to = |channel: &str| {
            changes
                .iter()
                .flat_map(|c| &c.outbox)
                .any(|m| m.channel == channel)
        };
        let (webhooks, mail) = (
            writes_to(crate::webhooks::WEBHOOK_CHANNEL),
            writes_to(crate::mail_outbox::MAIL_CHANNEL),
        );
        let results = self.store().commit(changes).await;
        if webhooks {
            self.wake_outbox();
        }
        if mail {
            self.wake_mail_worker();
        }
        results
    }

    /// The notice version to record with a consent.
    async fn notice_version_for(
        &self,
        purpose: &str,
        touchpoint: Option<&str>,
        given: Option<&str>,
    ) -> AppResult<Option<String>> {
        if let Some(version) = given {
            self.notice(version)
                .await
                .map_err(|_| DomainError::invalid("notice_version", "unknown notice version"))?;
            return Ok(Some(version.to_string()));
        }
        let touchpoint = match touchpoint {
            Some(key) => {
                let touchpoint = self.touchpoint(key).await.map_err(|_| {
                    DomainError::invalid("touchpoint", format!("unknown touchpoint {key:?}"))
                })?;
                if !touchpoint.purposes.iter().any(|p| p == purpose) {
                    return Err(DomainError::invalid(
                        "touchpoint",
                        format!("touchpoint {key} does not serve purpose {purpose}"),
                    )
                    .into());
                }
                Some(touchpoint)
            }
            None => self
                .cached_touchpoints()
                .await?
                .iter()
                .find(|t| t.purposes.iter().any(|p| p == purpose))
                .cloned(),
        };
        match touchpoint {
            Some(touchpoint) => Ok(Some(
                self.current_notice_shared(&touchpoint)
                    .await?
                    .version
                    .clone(),
            )),
            None => Ok(None),
        }
    }

    /// May we process this person's data for this purpose now?
    pub async fn check(
        &self,
        by: &Principal,
        email: &str,
        purpose_key: &str,
    ) -> AppResult<Decision> {
        by.require(Permission::Read)?;
        let purpose = self.purpose(purpose_key).await?;
        let email = parse_email(email)?;
        let blind_index = self.blind_index(&email);
        let view = self.store().check_view(&blind_index, purpose_key).await?;
        let Some(subject) = view.subject else {
            let flags = SubjectFlags {
                erased: view.erased_since.is_some(),
                ..Default::default()
            };
            let mut decision = ledger::decide(&purpose, flags, None, false);
            if let Some(at) = view.erased_since {
                decision.since = Some(at);
            }
            return Ok(decision);
        };
        let flags = SubjectFlags {
            erased: false,
            restricted: subject.restricted,
            objected_to_marketing: subject.objected_to_marketing,
        };
        Ok(ledger::decide(
            &purpose,
            flags,
            view.state.map(|s| (s.state, s.since)),
            true,
        ))
    }

    /// Every purpose's state for one person, with the history behind it.
    pub async fn subject_consents(
        &self,
        by: &Principal,
        email: &str,
    ) -> AppResult<SubjectConsents> {
        by.require(Permission::Read)?;
        let email = parse_email(email)?;
        let purposes = self.purposes().await?;
        let blind_index = self.blind_index(&email);
        let Some(subject) = self.store().subject_by_index(&blind_index).await? else {
            let erased = self.store().suppressed_since(&blind_index).await?.is_some();
            return Ok(SubjectConsents {
                subject_id: None,
                erased,
                restricted: false,
                objected_to_marketing: false,
                purposes: purposes
                    .iter()
                    .map(|p| {
                        let d = ledger::decide(
                            p,
                            SubjectFlags {
                                erased,
                                ..Default::default()
                            },
                            None,
                            false,
                        );
                        PurposeConsent {
                            purpose: p.key.to_string(),
                            legal_basis: p.legal_basis,
                            allowed: d.allowed,
                            state: d.state,
                            since: d.since,
                            history: vec![],
                        }
                    })
                    .collect(),
            });
        };
        let states = self.store().consent_states_of(subject.id).await?;
        let events = self.store().events_of(subject.id, 0, HISTORY_LIMIT).await?;
        let flags = SubjectFlags {
            erased: false,
            restricted: subject.restricted,
            objected_to_marketing: subject.objected_to_marketing,
        };
        let purposes = purposes
            .iter()
            .map(|p| {
                let state = states
                    .iter()
                    .find(|s| s.purpose == p.key.as_str())
                    .map(|s| (s.state, s.since));
                let d = ledger::decide(p, flags, state, true);
                PurposeConsent {
                    purpose: p.key.to_string(),
                    legal_basis: p.legal_basis,
                    allowed: d.allowed,
                    state: d.state,
                    since: d.since,
                    history: events
                        .iter()
                        .filter(|e| {
                            e.purpose.as_deref() == Some(p.key.as_str()) || e.purpose.is_none()
                        })
                        .cloned()
                        .collect(),
                }
            })
            .collect();
        Ok(SubjectConsents {
            subject_id: Some(subject.id),
            erased: false,
            restricted: subject.restricted,
            objected_to_marketing: subject.objected_to_marketing,
            purposes,
        })
    }

    pub async fn consent_event(&self, by: &Principal, event_id: Uuid) -> AppResult<ConsentEvent> {
        by.require(Permission::Read)?;
        self.store()
            .event(event_id)
            .await?
            .ok_or_else(|| AppError::not_found("consent event"))
    }
}
