//! The breach register (Art. 33, 34): every personal-data breach is recorded, with the
//! 72-hour clock to the authority that starts when the organisation becomes aware of it,
//! the decision to tell the people affected, a notification text with what the CNIL's form
//! asks for, and a log of what was notified to whom and when.
use crate::localised::{Language, LocalisedText};
use crate::organisation::{Organisation, validate_line};
use crate::{DomainError, Key};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use uuid::Uuid;

/// Art. 33(1): "without undue delay and, where feasible, not later than 72 hours after
/// having become aware of it".
pub const AUTHORITY_DEADLINE_HOURS: i64 = 72;

/// How much clock skew a "now" from a client may have before it counts as the future.
pub const CLOCK_SKEW_MINUTES: i64 = 5;

/// The risk to people's rights and freedoms, which decides who must be told.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BreachRisk {
    /// Unlikely to result in a risk: recorded, nobody to notify (Art. 33(1), 33(5)).
    Unlikely,
    /// A risk: the authority is told (Art. 33).
    Risk,
    /// A high risk: the authority and the people are told (Art. 34).
    High,
}

impl BreachRisk {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unlikely => "unlikely",
            Self::Risk => "risk",
            Self::High => "high",
        }
    }
}

/// What the breach did to the data (the three criteria of the CNIL's form).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BreachNature {
    /// Data disclosed or accessed without authorisation.
    Confidentiality,
    /// Data altered without authorisation.
    Integrity,
    /// Data lost or made unavailable.
    Availability,
}

/// A breach as recorded by the DPO (POST/PUT body).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BreachInput {
    /// When the organisation became aware of the breach: the 72 hours start here.
    pub aware_at: DateTime<Utc>,
    /// When the breach happened, if known.
    #[serde(default)]
    pub occurred_at: Option<DateTime<Utc>>,
    pub description: String,
    #[serde(default)]
    pub nature: Vec<BreachNature>,
    #[serde(default)]
    pub data_categories: Vec<String>,
    /// Approximate number of people concerned.
    pub subjects_affected: i64,
    /// Approximate number of records concerned.
    pub records_affected: i64,
    #[serde(default)]
    pub likely_consequences: String,
    /// Measures taken or proposed to address the breach and mitigate its effects.
    #[serde(default)]
    pub measures: String,
    pub risk: BreachRisk,
    /// The processor the breach came from, by its name in the register.
    #[serde(default)]
    pub processor: Option<String>,
    // Fields a client may send back from a GET; ignored.
    #[serde(default, skip_serializing)]
    #[schema(ignore)]
    pub id: Option<serde_json::Value>,
    #[serde(default, skip_serializing)]
    #[schema(ignore)]
    pub processor_id: Option<serde_json::Value>,
    #[serde(default, skip_serializing)]
    #[schema(ignore)]
    pub notify_authority_by: Option<serde_json::Value>,
    #[serde(default, skip_serializing)]
    #[schema(ignore)]
    pub authority_notification_required: Option<serde_json::Value>,
    #[serde(default, skip_serializing)]
    #[schema(ignore)]
    pub subjects_notification_required: Option<serde_json::Value>,
    #[serde(default, skip_serializing)]
    #[schema(ignore)]
    pub authority_deadline: Option<serde_json::Value>,
    #[serde(default, skip_serializing)]
    #[schema(ignore)]
    pub authority_notified_at: Option<serde_json::Value>,
    #[serde(default, skip_serializing)]
    #[schema(ignore)]
    pub subjects_notified_at: Option<serde_json::Value>,
    #[serde(default, skip_serializing)]
    #[schema(ignore)]
    pub notification_text: Option<serde_json::Value>,
    #[serde(default, skip_serializing)]
    #[schema(ignore)]
    pub notifications: Option<serde_json::Value>,
    #[serde(default, skip_serializing)]
    #[schema(ignore)]
    pub created_at: Option<serde_json::Value>,
    #[serde(default, skip_serializing)]
    #[schema(ignore)]
    pub updated_at: Option<serde_json::Value>,
}

/// A recorded breach, as stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Breach {
    pub id: Uuid,
    pub aware_at: DateTime<Utc>,
    pub occurred_at: Option<DateTime<Utc>>,
    pub description: String,
    pub nature: Vec<BreachNature>,
    pub data_categories: Vec<String>,
    pub subjects_affected: i64,
    pub records_affected: i64,
    pub likely_consequences: String,
    pub measures: String,
    pub risk: BreachRisk,
    pub processor_id: Option<Uuid>,
    pub notifications: Vec<Notification>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Who was told.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum NotificationRecipient {
    /// The supervisory authority (Art. 33).
    Authority,
    /// The people affected (Art. 34).
    Subjects,
    /// A processor concerned.
    Processor,
    /// Another controller (joint controller, client).
    Controller,
    Other,
}

/// A notification to log (POST body).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NotificationInput {
    pub recipient: NotificationRecipient,
    /// When it was sent; now when absent.
    #[serde(default)]
    pub notified_at: Option<DateTime<Utc>>,
    /// How: `cnil_online_form`, `email`, `letter`, `website_notice`...
    #[serde(default)]
    pub channel: Option<String>,
    /// The authority's case number, a message id...
    #[serde(default)]
    pub reference: Option<String>,
    /// What was said; the notification text in the organisation's language when absent.
    #[serde(default)]
    pub content: Option<String>,
    /// Required when the authority is told after the 72 hours (Art. 33(1)).
    #[serde(default)]
    pub reason_for_delay: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Notification {
    pub id: Uuid,
    pub recipient: NotificationRecipient,
    pub notified_at: DateTime<Utc>,
    pub channel: Option<String>,
    pub reference: Option<String>,
    pub content: String,
    pub reason_for_delay: Option<String>,
    pub recorded_at: DateTime<Utc>,
}

/// Where the 72 hours stand.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AuthorityDeadline {
    /// The risk is unlikely: no notification is due.
    NotRequired,
    /// Not yet notified, still within the 72 hours.
    Running,
    /// Not notified and the 72 hours have passed.
    Overdue,
    /// Notified within the 72 hours.
    Met,
    /// Notified after the 72 hours, with the reasons for the delay.
    NotifiedLate,
}

fn required_text(field: &str, raw: &str, max: usize) -> Result<String, DomainError> {
    validate_line(field, raw, max, true)
}

fn optional_text(
    field: &str,
    raw: Option<&str>,
    max: usize,
) -> Result<Option<String>, DomainError> {
    match raw.map(str::trim) {
        None | Some("") => Ok(None),
        Some(text) => Ok(Some(validate_line(field, text, max, true)?)),
    }
}

fn not_in_future(
    field: &str,
    at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<DateTime<Utc>, DomainError> {
    if at > now + Duration::minutes(CLOCK_SKEW_MINUTES) {
        Err(DomainError::invalid(field, "cannot be in the future"))
    } else {
        Ok(crate::clock::truncate_to_micros(at))
    }
}

/// Largest count accepted: more people than live on Earth is a typing error.
const MAX_COUNT: i64 = 10_000_000_000;

fn count(field: &str, value: i64) -> Result<i64, DomainError> {
    if value < 0 {
        Err(DomainError::invalid(field, "cannot be negative"))
    } else if value > MAX_COUNT {
        Err(DomainError::invalid(field, "is not a plausible number"))
    } else {
        Ok(value)
    }
}

impl BreachInput {
    /// Checks everything that does not need the store; the caller resolves the processor's
    /// name (passed in as `processor_id`) and checks the data categories.
    pub fn validate(
        self,
        id: Uuid,
        processor_id: Option<Uuid>,
        now: DateTime<Utc>,
    ) -> Result<Breach, DomainError> {
        let aware_at = not_in_future("aware_at", self.aware_at, now)?;
        let occurred_at = match self.occurred_at {
            None => None,
            Some(at) => {
                let at = not_in_future("occurred_at", at, now)?;
                if at > aware_at {
                    return Err(DomainError::invalid(
                        "occurred_at",
                        "a breach cannot happen after the organisation became aware of it",
                    ));
                }
                Some(at)
            }
        };
        let mut data_categories: Vec<String> = Vec::new();
        for (i, category) in self.data_categories.iter().enumerate() {
            let key = Key::parse(&format!("data_categories/{i}"), category.trim())?;
            if !data_categories.iter().any(|c| c == key.as_str()) {
                data_categories.push(key.to_string());
            }
        }
        let mut nature = Vec::new();
        for kind in self.nature {
            if !nature.contains(&kind) {
                nature.push(kind);
            }
        }
        Ok(Breach {
            id,
            aware_at,
            occurred_at,
            description: required_text("description", &self.description, 4000)?,
            nature,
            data_categories,
            subjects_affected: count("subjects_affected", self.subjects_affected)?,
            records_affected: count("records_affected", self.records_affected)?,
            likely_consequences: validate_line(
                "likely_consequences",
                &self.likely_consequences,
                4000,
                false,
            )?,
            measures: validate_line("measures", &self.measures, 4000, false)?,
            risk: self.risk,
            processor_id,
            notifications: Vec::new(),
            created_at: now,
            updated_at: now,
        })
    }
}

impl Breach {
    /// `aware_at` + 72 hours: exact hours on the UTC clock, so daylight saving changes and
    /// month ends change nothing.
    pub fn notify_authority_by(&self) -> DateTime<Utc> {
        self.aware_at + Duration::hours(AUTHORITY_DEADLINE_HOURS)
    }

    /// Art. 33(1): unless the breach is unlikely to result in a risk.
    pub fn authority_notification_required(&self) -> bool {
        self.risk != BreachRisk::Unlikely
    }

    /// Art. 34(1): when the risk is high.
    pub fn subjects_notification_required(&self) -> bool {
        self.risk == BreachRisk::High
    }

    pub fn first_notified(&self, recipient: NotificationRecipient) -> Option<DateTime<Utc>> {
        self.notifications
            .iter()
            .filter(|n| n.recipient == recipient)
            .map(|n| n.notified_at)
            .min()
    }

    pub fn authority_deadline(&self, now: DateTime<Utc>) -> AuthorityDeadline {
        let deadline = self.notify_authority_by();
        match self.first_notified(NotificationRecipient::Authority) {
            Some(at) if at <= deadline => AuthorityDeadline::Met,
            Some(_) => AuthorityDeadline::NotifiedLate,
            None if !self.authority_notification_required() => AuthorityDeadline::NotRequired,
            None if now > deadline => AuthorityDeadline::Overdue,
            None => AuthorityDeadline::Running,
        }
    }

    /// Checks a notification to log and returns it; `content` is the notification text to
    /// record when the input gives none.
    pub fn notification(
        &self,
        input: NotificationInput,
        default_content: String,
        now: DateTime<Utc>,
    ) -> Result<Notification, DomainError> {
        let notified_at = not_in_future("notified_at", input.notified_at.unwrap_or(now), now)?;
        if notified_at < self.aware_at {
            return Err(DomainError::invalid(
                "notified_at",
                "cannot be before the organisation became aware of the breach",
            ));
        }
        let reason_for_delay =
            optional_text("reason_for_delay", input.reason_for_delay.as_deref(), 4000)?;
        if input.recipient == NotificationRecipient::Authority
            && notified_at > self.notify_authority_by()
            && reason_for_delay.is_none()
            && self
                .first_notified(NotificationRecipient::Authority)
                .is_none()
        {
            return Err(DomainError::invalid(
                "reason_for_delay",
                "the authority is told after the 72 hours: Art. 33(1) asks for the reasons for the delay",
            ));
        }
        Ok(Notification {
            id: Uuid::now_v7(),
            recipient: input.recipient,
            notified_at,
            channel: optional_text("channel", input.channel.as_deref(), 100)?,
            reference: optional_text("reference", input.reference.as_deref(), 500)?,
            content: match optional_text("content", input.content.as_deref(), 20_000)? {
                Some(content) => content,
                None => default_content,
            },
            reason_for_delay,
            recorded_at: now,
        })
    }
}

/// What the notification text needs besides the breach.
#[derive(Clone, Debug)]
pub struct NotificationContext<'a> {
    pub organisation: &'a Organisation,
    pub category_labels: &'a BTreeMap<String, LocalisedText>,
    pub processor_name: Option<&'a str>,
}

fn when(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M UTC").to_string()
}

fn or_none(text: &str, language: Language) -> String {
    if text.trim().is_empty() {
        match language {
            Language::Fr => "Non renseigné.".to_string(),
            Language::En => "Not stated.".to_string(),
        }
    } else {
        text.trim().to_string()
    }
}

/// The notification to the authority, pre-filled with what the CNIL's online form asks
/// for: nature of the breach, categories and approximate numbers of people and records,
/// the DPO's contact, likely consequences, measures taken or proposed.
pub fn notification_text(
    breach: &Breach,
    context: &NotificationContext<'_>,
    language: Language,
) -> String {
    let org = context.organisation;
    let fr = language == Language::Fr;
    let categories: Vec<String> = breach
        .data_categories
        .iter()
        .map(|key| {
            context
                .category_labels
                .get(key)
                .map(|l| l.get(language).to_string())
                .unwrap_or_else(|| key.clone())
        })
        .collect();
    let categories = if categories.is_empty() {
        or_none("", language)
    } else {
        categories.join(", ")
    };
    let nature: Vec<&str> = breach
        .nature
        .iter()
        .map(|n| match (n, fr) {
            (BreachNature::Confidentiality, true) => "perte de confidentialité",
            (BreachNature::Integrity, true) => "perte d'intégrité",
            (BreachNature::Availability, true) => "perte de disponibilité",
            (BreachNature::Confidentiality, false) => "loss of confidentiality",
            (BreachNature::Integrity, false) => "loss of integrity",
            (BreachNature::Availability, false) => "loss of availability",
        })
        .collect();
    let mut text = String::new();
    let mut line = |s: String| {
        text.push_str(&s);
        text.push('\n');
    };
    if fr {
        line(
            "Notification d'une violation de données à caractère personnel (article 33 du RGPD)"
                .into(),
        );
        line(String::new());
        line(format!(
            "Responsable du traitement : {}{}",
            org.name,
            if org.address.is_empty() {
                String::new()
            } else {
                format!(", {}", org.address)
            }
        ));
        line(format!(
            "Délégué à la protection des données : {}, {}",
            org.dpo.name, org.dpo.email
        ));
        line(format!("Autorité : {}", org.authority.name));
        line(String::new());
        line("1. Nature de la violation".into());
        line(breach.description.clone());
        if !nature.is_empty() {
            line(format!("Type : {}.", nature.join(", ")));
        }
        line(format!(
            "Date de la violation : {}",
            breach
                .occurred_at
                .map(when)
                .unwrap_or_else(|| "inconnue".into())
        ));
        line(format!(
            "Date de prise de connaissance : {}",
            when(breach.aware_at)
        ));
        line(format!(
            "Sous-traitant concerné : {}",
            context.processor_name.unwrap_or("aucun")
        ));
        line(String::new());
        line("2. Personnes concernées".into());
        line(format!(
            "Nombre approximatif de personnes concernées : {}",
            breach.subjects_affected
        ));
        line(String::new());
        line("3. Données concernées".into());
        line(format!("Catégories de données : {categories}"));
        line(format!(
            "Nombre approximatif d'enregistrements concernés : {}",
            breach.records_affected
        ));
        line(String::new());
        line("4. Conséquences probables".into());
        line(or_none(&breach.likely_consequences, language));
        line(String::new());
        line("5. Mesures prises ou envisagées".into());
        line(or_none(&breach.measures, language));
        line(String::new());
        line("6. Information des personnes concernées".into());
        line(
            if breach.subjects_notification_required() {
                "Le risque étant élevé, les personnes concernées sont informées (article 34)."
            } else {
                "Le risque n'étant pas élevé, les personnes concernées ne sont pas informées individuellement (article 34)."
            }
            .into(),
        );
        line(String::new());
        line(format!(
            "Délai de notification à l'autorité : {}",
            when(breach.notify_authority_by())
        ));
    } else {
        line("Notification of a personal data breach (Article 33 GDPR)".into());
        line(String::new());
        line(format!(
            "Controller: {}{}",
            org.name,
            if org.address.is_empty() {
                String::new()
            } else {
                format!(", {}", org.address)
            }
        ));
        line(format!(
            "Data protection officer: {}, {}",
            org.dpo.name, org.dpo.email
        ));
        line(format!("Authority: {}", org.authority.name));
        line(String::new());
        line("1. Nature of the breach".into());
        line(breach.description.clone());
        if !nature.is_empty() {
            line(format!("Kind: {}.", nature.join(", ")));
        }
        line(format!(
            "When the breach happened: {}",
            breach
                .occurred_at
                .map(when)
                .unwrap_or_else(|| "unknown".into())
        ));
        line(format!(
            "When the controller became aware of it: {}",
            when(breach.aware_at)
        ));
        line(format!(
            "Processor concerned: {}",
            context.processor_name.unwrap_or("none")
        ));
        line(String::new());
        line("2. People concerned".into());
        line(format!(
            "Approximate number of people concerned: {}",
            breach.subjects_affected
        ));
        line(String::new());
        line("3. Data concerned".into());
        line(format!("Categories of data: {categories}"));
        line(format!(
            "Approximate number of records concerned: {}",
            breach.records_affected
        ));
        line(String::new());
        line("4. Likely consequences".into());
        line(or_none(&breach.likely_consequences, language));
        line(String::new());
        line("5. Measures taken or proposed".into());
        line(or_none(&breach.measures, language));
        line(String::new());
        line("6. Communication to the people concerned".into());
        line(
            if breach.subjects_notification_required() {
                "The risk being high, the people concerned are told (Article 34)."
            } else {
                "The risk not being high, the people concerned are not told individually (Article 34)."
            }
            .into(),
        );
        line(String::new());
        line(format!(
            "Deadline for notifying the authority: {}",
            when(breach.notify_authority_by())
        ));
    }
    text
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn utc(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, h, 0, 0).unwrap()
    }

    fn input(json: serde_json::Value) -> BreachInput {
        serde_json::from_value(json).unwrap()
    }

    fn contract_breach() -> serde_json::Value {
        serde_json::json!({"aware_at": "2026-03-02T09:00:00Z", "description": "A laptop with an export of the newsletter list was stolen",
            "data_categories": ["contact"], "subjects_affected": 120, "records_affected": 300,
            "likely_consequences": "Phishing", "measures": "Remote wipe; passwords changed", "risk": "risk"})
    }

    fn recorded(json: serde_json::Value, now: DateTime<Utc>) -> Breach {
        input(json).validate(Uuid::now_v7(), None, now).unwrap()
    }

    #[test]
    fn the_authority_must_be_told_72_hours_after_awareness() {
        let breach = recorded(contract_breach(), utc(2026, 3, 2, 10));
        assert_eq!(breach.notify_authority_by(), utc(2026, 3, 5, 9));
        assert!(breach.authority_notification_required());
        assert!(!breach.subjects_notification_required());
    }

    #[test]
    fn the_deadline_is_exact_hours_across_month_ends_leap_days_and_daylight_saving() {
        let deadline = |aware: DateTime<Utc>| {
            let mut json = contract_breach();
            json["aware_at"] = serde_json::json!(aware);
            recorded(json, utc(2030, 1, 1, 0)).notify_authority_by()
        };
        // Month and year ends.
        assert_eq!(deadline(utc(2026, 1, 30, 22)), utc(2026, 2, 2, 22));
        assert_eq!(deadline(utc(2025, 12, 30, 12)), utc(2026, 1, 2, 12));
        // Leap day: 2028-02-28 + 72 h passes through 29 February.
        assert_eq!(deadline(utc(2028, 2, 28, 8)), utc(2028, 3, 2, 8));
        assert_eq!(deadline(utc(2027, 2, 28, 8)), utc(2027, 3, 3, 8));
        // Europe's clocks go forward on 2026-03-29 and back on 2026-10-25: UTC does not move.
        assert_eq!(deadline(utc(2026, 3, 28, 9)), utc(2026, 3, 31, 9));
        assert_eq!(deadline(utc(2026, 10, 24, 9)), utc(2026, 10, 27, 9));
        // An offset given by the client is converted, not ignored.
        let mut json = contract_breach();
        json["aware_at"] = "2026-03-28T10:00:00+01:00".into();
        assert_eq!(
            recorded(json, utc(2030, 1, 1, 0)).notify_authority_by(),
            utc(2026, 3, 31, 9)
        );
    }

    #[test]
    fn who_must_be_told_follows_the_risk() {
        for (risk, authority, people) in [
            ("unlikely", false, false),
            ("risk", true, false),
            ("high", true, true),
        ] {
            let mut json = contract_breach();
            json["risk"] = risk.into();
            let breach = recorded(json, utc(2026, 3, 2, 10));
            assert_eq!(
                (
                    breach.authority_notification_required(),
                    breach.subjects_notification_required()
                ),
                (authority, people),
                "{risk}"
            );
        }
        let mut json = contract_breach();
        json["risk"] = "severe".into();
        assert!(serde_json::from_value::<BreachInput>(json).is_err());
    }

    #[test]
    fn impossible_dates_and_negative_counts_are_refused() {
        let now = utc(2026, 3, 2, 10);
        let mut json = contract_breach();
        json["aware_at"] = "2026-03-03T09:00:00Z".into();
        let err = input(json).validate(Uuid::now_v7(), None, now).unwrap_err();
        assert!(matches!(err, DomainError::Invalid { ref field, .. } if field == "aware_at"));
        let mut json = contract_breach();
        json["occurred_at"] = "2026-03-02T09:30:00Z".into();
        assert!(input(json).validate(Uuid::now_v7(), None, now).is_err());
        for field in ["subjects_affected", "records_affected"] {
            let mut json = contract_breach();
            json[field] = (-1).into();
            let err = input(json).validate(Uuid::now_v7(), None, now).unwrap_err();
            assert!(matches!(err, DomainError::Invalid { field: ref f, .. } if f == field));
        }
        let mut json = contract_breach();
        json["description"] = " ".into();
        assert!(input(json).validate(Uuid::now_v7(), None, now).is_err());
    }

    #[test]
    fn the_deadline_state_moves_from_running_to_overdue_and_a_late_notice_needs_reasons() {
        let breach = recorded(contract_breach(), utc(2026, 3, 2, 10));
        assert_eq!(
            breach.authority_deadline(utc(2026, 3, 5, 8)),
            AuthorityDeadline::Running
        );
        assert_eq!(
            breach.authority_deadline(utc(2026, 3, 5, 10)),
            AuthorityDeadline::Overdue
        );
        let late = NotificationInput {
            recipient: NotificationRecipient::Authority,
            notified_at: None,
            channel: Some("cnil_online_form".into()),
            reference: None,
            content: None,
            reason_for_delay: None,
        };
        let now = utc(2026, 3, 6, 9);
        let err = breach
            .notification(late.clone(), "text".into(), now)
            .unwrap_err();
        assert!(
            matches!(err, DomainError::Invalid { ref field, .. } if field == "reason_for_delay")
        );
        let with_reason = NotificationInput {
            reason_for_delay: Some("Scope unknown until the forensic report".into()),
            ..late
        };
        let mut breach = breach;
        breach.notifications.push(
            breach
                .notification(with_reason, "text".into(), now)
                .unwrap(),
        );
        assert_eq!(
            breach.authority_deadline(now),
            AuthorityDeadline::NotifiedLate
        );
        assert_eq!(breach.notifications[0].content, "text");
    }

    #[test]
    fn a_notification_cannot_be_dated_in_the_future_or_before_awareness() {
        let breach = recorded(contract_breach(), utc(2026, 3, 2, 10));
        let at = |when: DateTime<Utc>| NotificationInput {
            recipient: NotificationRecipient::Subjects,
            notified_at: Some(when),
            channel: None,
            reference: None,
            content: Some("We are sorry".into()),
            reason_for_delay: None,
        };
        assert!(
            breach
                .notification(at(utc(2026, 3, 3, 0)), String::new(), utc(2026, 3, 2, 12))
                .is_err()
        );
        assert!(
            breach
                .notification(at(utc(2026, 3, 1, 0)), String::new(), utc(2026, 3, 2, 12))
                .is_err()
        );
        let ok = breach
            .notification(at(utc(2026, 3, 2, 11)), String::new(), utc(2026, 3, 2, 12))
            .unwrap();
        assert_eq!(ok.content, "We are sorry");
    }

    #[test]
    fn the_notification_text_has_what_the_cnil_form_asks_for_in_both_languages() {
        let mut json = contract_breach();
        json["nature"] = serde_json::json!(["confidentiality"]);
        let breach = recorded(json, utc(2026, 3, 2, 10));
        let organisation = Organisation::placeholder();
        let labels = BTreeMap::from([(
            "contact".to_string(),
            LocalisedText::new("Coordonnées", "Contact details"),
        )]);
        let context = NotificationContext {
            organisation: &organisation,
            category_labels: &labels,
            processor_name: Some("Brevo"),
        };
        let fr = notification_text(&breach, &context, Language::Fr);
        for expected in [
            "120",
            "300",
            "Coordonnées",
            "dpo@example.org",
            "Phishing",
            "Remote wipe",
            "Brevo",
            "perte de confidentialité",
            "2026-03-05 09:00 UTC",
        ] {
            assert!(fr.contains(expected), "{expected} missing from {fr}");
        }
        let en = notification_text(&breach, &context, Language::En);
        assert!(
            en.contains("Contact details")
                && en.contains("Approximate number of people concerned: 120")
        );
    }
}
