//! Processors (Art. 28), sub-processors and the third-party tools of the site (emailing,
//! CRM, CMS, helpdesk): who they are, what they do for which purposes, where the data goes,
//! and the due-diligence questionnaire of PRODUCT.md with the rules that turn its answers
//! into findings, a risk level, a status and the date of the next review.
//!
//! The rules are plain functions listed in [`RULES`], one per finding code, each documented
//! with the article or guidance it comes from; `evaluate` runs them all.
use crate::email::Email;
use crate::organisation::{is_country_code, is_in_eea, validate_line};
use crate::purpose::TransferSafeguard;
use crate::{DomainError, Key};
use chrono::{DateTime, Months, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// What the entry is to the organisation.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ProcessorRole {
    /// Processes data on the organisation's behalf (Art. 28).
    #[default]
    Processor,
    /// Engaged by a processor (Art. 28(2), (4)).
    Subprocessor,
    /// A tool on the site (CMS, analytics, chat...) that handles visitors' data.
    ThirdPartyTool,
    /// Decides purposes and means together with the organisation (Art. 26).
    JointController,
    /// A recipient that is a controller in its own right: no Art. 28 contract applies.
    IndependentController,
}

impl ProcessorRole {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Processor => "processor",
            Self::Subprocessor => "subprocessor",
            Self::ThirdPartyTool => "third_party_tool",
            Self::JointController => "joint_controller",
            Self::IndependentController => "independent_controller",
        }
    }

    /// Whether the law requires a written contract (Art. 28(3)) or arrangement (Art. 26).
    pub fn needs_contract(self) -> bool {
        self != Self::IndependentController
    }
}

/// A processor as written by an administrator (POST/PUT body).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProcessorInput {
    pub name: String,
    /// What it does: `emailing`, `crm`, `cms`, `hosting`, `helpdesk`...
    pub service: String,
    #[serde(default)]
    pub role: ProcessorRole,
    /// ISO 3166 alpha-2 code of the country where the data is processed.
    pub country: String,
    /// `null`, `adequacy`, `scc` or `bcr`: the Chapter V safeguard for a country outside the EEA.
    #[serde(default)]
    pub transfer_mechanism: Option<TransferSafeguard>,
    /// When the data processing agreement (Art. 28(3)) was signed.
    #[serde(default)]
    pub dpa_signed_on: Option<NaiveDate>,
    /// Where the signed agreement is filed (a reference, a URL, a document number).
    #[serde(default)]
    pub dpa_reference: Option<String>,
    /// Who at the vendor answers for data protection: the questionnaire is mailed there.
    #[serde(default)]
    pub contact_email: Option<String>,
    #[serde(default)]
    pub purposes: Vec<String>,
    #[serde(default)]
    pub data_categories: Vec<String>,
    /// Sub-processors, by the name of their own entry in the register.
    #[serde(default)]
    pub subprocessors: Vec<String>,
    // Fields a client may send back from a GET; ignored.
    #[serde(default, skip_serializing)]
    #[schema(ignore)]
    pub id: Option<serde_json::Value>,
    #[serde(default, skip_serializing)]
    #[schema(ignore)]
    pub status: Option<serde_json::Value>,
    #[serde(default, skip_serializing)]
    #[schema(ignore)]
    pub risk: Option<serde_json::Value>,
    #[serde(default, skip_serializing)]
    #[schema(ignore)]
    pub findings: Option<serde_json::Value>,
    #[serde(default, skip_serializing)]
    #[schema(ignore)]
    pub review_due_on: Option<serde_json::Value>,
    #[serde(default, skip_serializing)]
    #[schema(ignore)]
    pub review_due_soon: Option<serde_json::Value>,
    #[serde(default, skip_serializing)]
    #[schema(ignore)]
    pub review_overdue: Option<serde_json::Value>,
    #[serde(default, skip_serializing)]
    #[schema(ignore)]
    pub assessment: Option<serde_json::Value>,
    #[serde(default, skip_serializing)]
    #[schema(ignore)]
    pub assessed_at: Option<serde_json::Value>,
    #[serde(default, skip_serializing)]
    #[schema(ignore)]
    pub draft_pending: Option<serde_json::Value>,
    #[serde(default, skip_serializing)]
    #[schema(ignore)]
    pub created_at: Option<serde_json::Value>,
    #[serde(default, skip_serializing)]
    #[schema(ignore)]
    pub updated_at: Option<serde_json::Value>,
}

/// A valid processor entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Processor {
    pub id: Uuid,
    pub name: String,
    pub service: String,
    pub role: ProcessorRole,
    pub country: String,
    pub transfer_mechanism: Option<TransferSafeguard>,
    pub dpa_signed_on: Option<NaiveDate>,
    pub dpa_reference: Option<String>,
    /// Who at the vendor answers for data protection (the questionnaire is mailed there).
    #[serde(default)]
    pub contact_email: Option<String>,
    pub purposes: Vec<String>,
    pub data_categories: Vec<String>,
    pub subprocessors: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The name by which entries are compared: names are references, so "brevo" and "Brevo "
/// are the same entry.
pub fn name_key(name: &str) -> String {
    name.trim().to_lowercase()
}

fn no_later_than(field: &str, date: NaiveDate, today: NaiveDate) -> Result<NaiveDate, DomainError> {
    if date > today {
        Err(DomainError::invalid(
            field,
            format!("{date} is in the future"),
        ))
    } else {
        Ok(date)
    }
}

fn keys(field: &str, raw: &[String]) -> Result<Vec<String>, DomainError> {
    let mut out: Vec<String> = Vec::new();
    for (i, value) in raw.iter().enumerate() {
        let key = Key::parse(&format!("{field}/{i}"), value.trim())?;
        if !out.iter().any(|k| k == key.as_str()) {
            out.push(key.to_string());
        }
    }
    Ok(out)
}

impl ProcessorInput {
    /// Checks everything that does not need the store; the caller checks that purposes and
    /// data categories exist and that the name is not taken.
    pub fn validate(self, id: Uuid, now: DateTime<Utc>) -> Result<Processor, DomainError> {
        let today = now.date_naive();
        let name = validate_line("name", &self.name, 200, true)?;
        let service = validate_line("service", &self.service, 100, true)?;
        let country = self.country.trim().to_ascii_uppercase();
        if !is_country_code(&country) {
            return Err(DomainError::invalid(
                "country",
                format!(
                    "{:?} is not an ISO 3166 alpha-2 country code (FR, DE, US...)",
                    self.country
                ),
            ));
        }
        if self.transfer_mechanism == Some(TransferSafeguard::Derogation) {
            return Err(DomainError::invalid(
                "transfer_mechanism",
                "Art. 49 derogations cover occasional transfers, not a processor's regular processing: use adequacy, scc or bcr",
            ));
        }
        let dpa_signed_on = self
            .dpa_signed_on
            .map(|d| no_later_than("dpa_signed_on", d, today))
            .transpose()?;
        let dpa_reference = match self.dpa_reference.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(reference) => Some(validate_line("dpa_reference", reference, 500, true)?),
        };
        let contact_email = match self.contact_email.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(raw) => Some(
                Email::parse(raw)
                    .map_err(|_| {
                        DomainError::invalid("contact_email", "not a valid email address")
                    })?
                    .as_str()
                    .to_string(),
            ),
        };
        let mut subprocessors: Vec<String> = Vec::new();
        for (i, raw) in self.subprocessors.iter().enumerate() {
            let sub = validate_line(&format!("subprocessors/{i}"), raw, 200, true)?;
            if name_key(&sub) == name_key(&name) {
                return Err(DomainError::invalid(
                    format!("subprocessors/{i}"),
                    "an entry cannot be its own sub-processor",
                ));
            }
            if !subprocessors.iter().any(|s| name_key(s) == name_key(&sub)) {
                subprocessors.push(sub);
            }
        }
        Ok(Processor {
            id,
            name,
            service,
            role: self.role,
            country,
            transfer_mechanism: self.transfer_mechanism,
            dpa_signed_on,
            dpa_reference,
            contact_email,
            purposes: keys("purposes", &self.purposes)?,
            data_categories: keys("data_categories", &self.data_categories)?,
            subprocessors,
            created_at: now,
            updated_at: now,
        })
    }
}

// ---- the questionnaire ----

/// Something that backs an answer: a document reference, an uploaded file, or both.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Evidence {
    /// A certificate number, a policy's title and version, a report's reference, a URL.
    #[serde(default)]
    pub reference: Option<String>,
    /// An evidence file uploaded to this processor (`POST /api/v1/processors/{id}/evidence`).
    #[serde(default)]
    pub file_id: Option<Uuid>,
}

/// Do you have a DPO, and who is it?
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DpoAnswer {
    #[serde(default)]
    pub appointed: bool,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    /// When this answer was given; the day of the assessment when absent.
    #[serde(default)]
    pub answered_on: Option<NaiveDate>,
    #[serde(default)]
    pub evidence: Vec<Evidence>,
}

/// Have you mapped all the data you process?
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DataMappingAnswer {
    #[serde(default)]
    pub complete: bool,
    #[serde(default)]
    pub last_updated_on: Option<NaiveDate>,
    #[serde(default)]
    pub answered_on: Option<NaiveDate>,
    #[serde(default)]
    pub evidence: Vec<Evidence>,
}

/// Do you pass personal data to third parties, and how do you control and verify them?
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ThirdPartiesAnswer {
    #[serde(default)]
    pub shares_data: bool,
    #[serde(default)]
    pub recipients: Vec<String>,
    /// How the recipients are controlled and verified (contracts, audits, certifications).
    #[serde(default)]
    pub controls: Option<String>,
    #[serde(default)]
    pub answered_on: Option<NaiveDate>,
    #[serde(default)]
    pub evidence: Vec<Evidence>,
}

/// How do you protect the data, and what do you do on loss, theft or hacking?
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProtectionAnswer {
    /// `encryption_at_rest`, `encryption_in_transit`, `access_control`, `backups`,
    /// `pseudonymisation`, `logging`, `mfa`, `staff_training`, or a measure in words.
    #[serde(default)]
    pub measures: Vec<String>,
    #[serde(default)]
    pub incident_procedure: bool,
    /// Within how many hours of becoming aware the processor tells the organisation of a breach.
    #[serde(default)]
    pub breach_notification_hours: Option<i64>,
    #[serde(default)]
    pub answered_on: Option<NaiveDate>,
    #[serde(default)]
    pub evidence: Vec<Evidence>,
}

/// Do you run security tests, and which?
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SecurityTestsAnswer {
    #[serde(default)]
    pub performed: bool,
    /// `penetration_test`, `vulnerability_scan`, `code_review`, `audit`, `certification`...
    #[serde(default)]
    pub kinds: Vec<String>,
    #[serde(default)]
    pub last_on: Option<NaiveDate>,
    #[serde(default)]
    pub answered_on: Option<NaiveDate>,
    #[serde(default)]
    pub evidence: Vec<Evidence>,
}

/// The due-diligence answers (PUT body). A section left out counts as not answered, which
/// the rules read as the safeguard not being in place.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssessmentInput {
    #[serde(default)]
    pub dpo: Option<DpoAnswer>,
    #[serde(default)]
    pub data_mapping: Option<DataMappingAnswer>,
    #[serde(default)]
    pub third_parties: Option<ThirdPartiesAnswer>,
    #[serde(default)]
    pub protection: Option<ProtectionAnswer>,
    #[serde(default)]
    pub security_tests: Option<SecurityTestsAnswer>,
    // Fields a client may send back from a GET; ignored.
    #[serde(default, skip_serializing)]
    #[schema(ignore)]
    pub assessed_at: Option<serde_json::Value>,
    #[serde(default, skip_serializing)]
    #[schema(ignore)]
    pub source: Option<serde_json::Value>,
}

/// Where an assessment's answers came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AssessmentSource {
    /// Typed in by the organisation (API or console).
    Api,
    /// Filled in by the vendor through a questionnaire link, then accepted.
    VendorQuestionnaire,
}

/// Validated answers, each with the date it was given.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Assessment {
    pub dpo: Option<DpoAnswer>,
    pub data_mapping: Option<DataMappingAnswer>,
    pub third_parties: Option<ThirdPartiesAnswer>,
    pub protection: Option<ProtectionAnswer>,
    pub security_tests: Option<SecurityTestsAnswer>,
    pub assessed_at: DateTime<Utc>,
    pub source: AssessmentSource,
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

fn lines(field: &str, raw: &[String], max_items: usize) -> Result<Vec<String>, DomainError> {
    if raw.len() > max_items {
        return Err(DomainError::invalid(
            field,
            format!("at most {max_items} entries"),
        ));
    }
    let mut out: Vec<String> = Vec::new();
    for (i, value) in raw.iter().enumerate() {
        let line = validate_line(&format!("{field}/{i}"), value, 200, false)?;
        if !line.is_empty() && !out.contains(&line) {
            out.push(line);
        }
    }
    Ok(out)
}

fn evidence(field: &str, raw: Vec<Evidence>) -> Result<Vec<Evidence>, DomainError> {
    if raw.len() > 20 {
        return Err(DomainError::invalid(
            field,
            "at most 20 pieces of evidence per answer",
        ));
    }
    let mut out = Vec::new();
    for (i, item) in raw.into_iter().enumerate() {
        let reference = optional_text(
            &format!("{field}/{i}/reference"),
            item.reference.as_deref(),
            500,
        )?;
        if reference.is_none() && item.file_id.is_none() {
            return Err(DomainError::invalid(
                format!("{field}/{i}"),
                "give a reference, a file_id, or both",
            ));
        }
        out.push(Evidence {
            reference,
            file_id: item.file_id,
        });
    }
    Ok(out)
}

fn answered_on(
    field: &str,
    given: Option<NaiveDate>,
    today: NaiveDate,
) -> Result<Option<NaiveDate>, DomainError> {
    Ok(Some(no_later_than(
        &format!("{field}.answered_on"),
        given.unwrap_or(today),
        today,
    )?))
}

impl AssessmentInput {
    /// Checks dates (none in the future), texts and evidence; fills each answer's date with
    /// the day of the assessment when it is not given. Evidence files' existence is checked
    /// by the caller.
    pub fn validate(
        self,
        now: DateTime<Utc>,
        source: AssessmentSource,
    ) -> Result<Assessment, DomainError> {
        let today = now.date_naive();
        let dpo = match self.dpo {
            None => None,
            Some(answer) => Some(DpoAnswer {
                appointed: answer.appointed,
                name: optional_text("dpo.name", answer.name.as_deref(), 200)?,
                email: match answer.email.as_deref().map(str::trim) {
                    None | Some("") => None,
                    Some(raw) => Some(
                        Email::parse(raw)
                            .map_err(|_| {
                                DomainError::invalid("dpo.email", "not a valid email address")
                            })?
                            .as_str()
                            .to_string(),
                    ),
                },
                answered_on: answered_on("dpo", answer.answered_on, today)?,
                evidence: evidence("dpo.evidence", answer.evidence)?,
            }),
        };
        let data_mapping = match self.data_mapping {
            None => None,
            Some(answer) => Some(DataMappingAnswer {
                complete: answer.complete,
                last_updated_on: answer
                    .last_updated_on
                    .map(|d| no_later_than("data_mapping.last_updated_on", d, today))
                    .transpose()?,
                answered_on: answered_on("data_mapping", answer.answered_on, today)?,
                evidence: evidence("data_mapping.evidence", answer.evidence)?,
            }),
        };
        let third_parties = match self.third_parties {
            None => None,
            Some(answer) => Some(ThirdPartiesAnswer {
                shares_data: answer.shares_data,
                recipients: lines("third_parties.recipients", &answer.recipients, 100)?,
                controls: match answer.controls.as_deref().map(str::trim) {
                    None | Some("") => None,
                    Some(text) => Some(validate_line("third_parties.controls", text, 2000, true)?),
                },
                answered_on: answered_on("third_parties", answer.answered_on, today)?,
                evidence: evidence("third_parties.evidence", answer.evidence)?,
            }),
        };
        let protection = match self.protection {
            None => None,
            Some(answer) => {
                if let Some(hours) = answer.breach_notification_hours
                    && !(0..=8760).contains(&hours)
                {
                    return Err(DomainError::invalid(
                        "protection.breach_notification_hours",
                        "a number of hours between 0 and 8760",
                    ));
                }
                Some(ProtectionAnswer {
                    measures: lines("protection.measures", &answer.measures, 50)?,
                    incident_procedure: answer.incident_procedure,
                    breach_notification_hours: answer.breach_notification_hours,
                    answered_on: answered_on("protection", answer.answered_on, today)?,
                    evidence: evidence("protection.evidence", answer.evidence)?,
                })
            }
        };
        let security_tests = match self.security_tests {
            None => None,
            Some(answer) => Some(SecurityTestsAnswer {
                performed: answer.performed,
                kinds: lines("security_tests.kinds", &answer.kinds, 20)?,
                last_on: answer
                    .last_on
                    .map(|d| no_later_than("security_tests.last_on", d, today))
                    .transpose()?,
                answered_on: answered_on("security_tests", answer.answered_on, today)?,
                evidence: evidence("security_tests.evidence", answer.evidence)?,
            }),
        };
        Ok(Assessment {
            dpo,
            data_mapping,
            third_parties,
            protection,
            security_tests,
            assessed_at: now,
            source,
        })
    }
}

impl Assessment {
    /// Every evidence file the answers name.
    pub fn evidence_files(&self) -> Vec<Uuid> {
        let all = [
            self.dpo.as_ref().map(|a| &a.evidence),
            self.data_mapping.as_ref().map(|a| &a.evidence),
            self.third_parties.as_ref().map(|a| &a.evidence),
            self.protection.as_ref().map(|a| &a.evidence),
            self.security_tests.as_ref().map(|a| &a.evidence),
        ];
        all.into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| e.file_id)
            .collect()
    }

    /// The answers as the input they were given as (to fill a form or copy a draft).
    pub fn to_input(&self) -> AssessmentInput {
        AssessmentInput {
            dpo: self.dpo.clone(),
            data_mapping: self.data_mapping.clone(),
            third_parties: self.third_parties.clone(),
            protection: self.protection.clone(),
            security_tests: self.security_tests.clone(),
            assessed_at: None,
            source: None,
        }
    }
}

// ---- findings ----

#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Low,
    Medium,
    High,
}

/// `unknown` until the entry is assessed or a rule finds something.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Risk {
    Unknown,
    Low,
    Medium,
    High,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ProcessorStatus {
    /// Never assessed.
    PendingAssessment,
    /// Assessed, nothing above a low finding.
    Compliant,
    /// Assessed, medium findings to act on.
    NeedsAttention,
    /// A high finding: the safeguards the law asks for are missing.
    NonCompliant,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Finding {
    /// Stable snake_case code (`no_dpa`, `transfer_without_safeguard`...).
    pub code: String,
    pub severity: Severity,
    /// What is wrong and what to do, in English.
    pub message: String,
    /// The same, in French.
    pub message_fr: String,
}

fn finding(
    code: &str,
    severity: Severity,
    en: impl Into<String>,
    fr: impl Into<String>,
) -> Option<Finding> {
    Some(Finding {
        code: code.into(),
        severity,
        message: en.into(),
        message_fr: fr.into(),
    })
}

/// What the rules look at.
#[derive(Clone, Copy, Debug)]
pub struct Facts<'a> {
    pub processor: &'a Processor,
    pub assessment: Option<&'a Assessment>,
    pub today: NaiveDate,
    /// Sub-processors this entry names that have no entry of their own.
    pub unregistered_subprocessors: &'a [String],
}

/// A rule: facts in, at most one finding out.
pub type Rule = fn(&Facts<'_>) -> Option<Finding>;

/// Every rule, in the order findings are listed.
pub const RULES: [(&str, Rule); 13] = [
    ("no_dpa", rule_no_dpa),
    (
        "transfer_without_safeguard",
        rule_transfer_without_safeguard,
    ),
    ("adequacy_not_recognised", rule_adequacy_not_recognised),
    ("unregistered_subprocessor", rule_unregistered_subprocessor),
    ("no_dpo", rule_no_dpo),
    ("no_data_mapping", rule_no_data_mapping),
    ("stale_data_mapping", rule_stale_data_mapping),
    (
        "uncontrolled_third_parties",
        rule_uncontrolled_third_parties,
    ),
    ("no_incident_procedure", rule_no_incident_procedure),
    ("slow_breach_notification", rule_slow_breach_notification),
    ("no_encryption", rule_no_encryption),
    ("no_security_tests", rule_no_security_tests),
    ("stale_security_tests", rule_stale_security_tests),
];

/// Breach notice a processor must beat: the organisation has 72 h from awareness to tell
/// the authority (Art. 33(1)), so a processor taking more than 48 h leaves it too little.
pub const MAX_PROCESSOR_BREACH_NOTICE_HOURS: i64 = 48;

/// Countries (and territories) with an EU adequacy decision (Art. 45). For the United States
/// it covers organisations certified under the EU-US Data Privacy Framework.
const ADEQUACY_CODES: &str = "AD AR CA CH FO GB GG IL IM JE JP KR NZ US UY";

pub fn has_adequacy_decision(country: &str) -> bool {
    ADEQUACY_CODES.split(' ').any(|c| c == country)
}

/// High. Art. 28(3): processing by a processor is governed by a contract (Art. 26 for joint
/// controllers). Independent controllers are exempt.
pub fn rule_no_dpa(facts: &Facts<'_>) -> Option<Finding> {
    let p = facts.processor;
    if !p.role.needs_contract() || p.dpa_signed_on.is_some() {
        return None;
    }
    if p.role == ProcessorRole::JointController {
        return finding(
            "no_dpa",
            Severity::High,
            format!(
                "No arrangement with {} is recorded: joint controllers must set out their responsibilities (Art. 26).",
                p.name
            ),
            format!(
                "Aucun accord avec {} n'est enregistré : les responsables conjoints doivent définir leurs obligations (art. 26).",
                p.name
            ),
        );
    }
    finding(
        "no_dpa",
        Severity::High,
        format!(
            "No signed data processing agreement with {} is recorded (Art. 28(3)): sign one and record its date.",
            p.name
        ),
        format!(
            "Aucun contrat de sous-traitance signé avec {} n'est enregistré (art. 28.3) : faites-le signer et notez sa date.",
            p.name
        ),
    )
}

/// High. Chapter V: data may leave the EEA only under an adequacy decision, standard
/// contractual clauses or binding corporate rules.
pub fn rule_transfer_without_safeguard(facts: &Facts<'_>) -> Option<Finding> {
    let p = facts.processor;
    if is_in_eea(&p.country) || p.transfer_mechanism.is_some() {
        return None;
    }
    finding(
        "transfer_without_safeguard",
        Severity::High,
        format!(
            "{} processes data in {}, outside the EEA, with no transfer safeguard: record an adequacy decision, SCCs or BCRs.",
            p.name, p.country
        ),
        format!(
            "{} traite les données en dehors de l'EEE ({}) sans garantie de transfert : indiquez une décision d'adéquation, des clauses contractuelles types ou des BCR.",
            p.name, p.country
        ),
    )
}

/// Medium. Art. 45: adequacy is the Commission's decision for a given country; claiming it
/// for a country that has none leaves the transfer without a safeguard.
pub fn rule_adequacy_not_recognised(facts: &Facts<'_>) -> Option<Finding> {
    let p = facts.processor;
    if is_in_eea(&p.country)
        || p.transfer_mechanism != Some(TransferSafeguard::Adequacy)
        || has_adequacy_decision(&p.country)
    {
        return None;
    }
    finding(
        "adequacy_not_recognised",
        Severity::Medium,
        format!(
            "{} has no EU adequacy decision: the transfer to {} needs SCCs or BCRs.",
            p.country, p.name
        ),
        format!(
            "{} ne bénéficie d'aucune décision d'adéquation : le transfert vers {} nécessite des clauses contractuelles types ou des BCR.",
            p.country, p.name
        ),
    )
}

/// Medium. Art. 28(2), (4): the organisation must know, and be able to object to, every
/// sub-processor; one without an entry has no recorded country, contract or assessment.
pub fn rule_unregistered_subprocessor(facts: &Facts<'_>) -> Option<Finding> {
    if facts.unregistered_subprocessors.is_empty() {
        return None;
    }
    let names = facts.unregistered_subprocessors.join(", ");
    finding(
        "unregistered_subprocessor",
        Severity::Medium,
        format!(
            "Sub-processors without an entry of their own: {names}. Add them so that their country and safeguards are known."
        ),
        format!(
            "Sous-traitants ultérieurs sans fiche : {names}. Ajoutez-les pour connaître leur pays et leurs garanties."
        ),
    )
}

/// Medium. Seed questionnaire, Art. 37-39: who at the processor answers for data protection.
pub fn rule_no_dpo(facts: &Facts<'_>) -> Option<Finding> {
    let assessment = facts.assessment?;
    if assessment.dpo.as_ref().is_some_and(|d| d.appointed) {
        return None;
    }
    finding(
        "no_dpo",
        Severity::Medium,
        "The processor has no data protection officer (or did not say): ask who answers for data protection.",
        "Le sous-traitant n'a pas de délégué à la protection des données (ou ne l'a pas indiqué) : demandez qui en répond.",
    )
}

/// Medium. Art. 30(2): a processor keeps a record of the processing it carries out.
pub fn rule_no_data_mapping(facts: &Facts<'_>) -> Option<Finding> {
    let assessment = facts.assessment?;
    if assessment.data_mapping.as_ref().is_some_and(|m| m.complete) {
        return None;
    }
    finding(
        "no_data_mapping",
        Severity::Medium,
        "The processor has not mapped all the data it processes (Art. 30(2)).",
        "Le sous-traitant n'a pas cartographié toutes les données qu'il traite (art. 30.2).",
    )
}

/// Low. A map not updated for more than 12 months no longer describes the processing.
pub fn rule_stale_data_mapping(facts: &Facts<'_>) -> Option<Finding> {
    let mapping = facts
        .assessment?
        .data_mapping
        .as_ref()
        .filter(|m| m.complete)?;
    let updated = mapping.last_updated_on?;
    if !older_than_months(updated, 12, facts.today) {
        return None;
    }
    finding(
        "stale_data_mapping",
        Severity::Low,
        format!("The data mapping was last updated on {updated}, more than 12 months ago."),
        format!("La cartographie des données date du {updated}, il y a plus de 12 mois."),
    )
}

/// High. Art. 28(4): data passed on must be bound by the same obligations, and the
/// processor must say how it controls and verifies its recipients.
pub fn rule_uncontrolled_third_parties(facts: &Facts<'_>) -> Option<Finding> {
    let assessment = facts.assessment?;
    match &assessment.third_parties {
        Some(answer) if !answer.shares_data => None,
        Some(answer) if answer.controls.is_some() => None,
        Some(_) => finding(
            "uncontrolled_third_parties",
            Severity::High,
            "The processor passes personal data to third parties without saying how it controls and verifies them (Art. 28(4)).",
            "Le sous-traitant transmet des données à des tiers sans indiquer comment il les contrôle et les vérifie (art. 28.4).",
        ),
        None => finding(
            "uncontrolled_third_parties",
            Severity::High,
            "The processor did not say whether it passes personal data to third parties, nor how it controls them.",
            "Le sous-traitant n'a pas dit s'il transmet des données à des tiers, ni comment il les contrôle.",
        ),
    }
}

/// High. Art. 32, 33(2): a procedure for loss, theft or hacking, with notice to the
/// controller without undue delay.
pub fn rule_no_incident_procedure(facts: &Facts<'_>) -> Option<Finding> {
    let assessment = facts.assessment?;
    if assessment
        .protection
        .as_ref()
        .is_some_and(|p| p.incident_procedure)
    {
        return None;
    }
    finding(
        "no_incident_procedure",
        Severity::High,
        "The processor has no procedure for data loss, theft or hacking (Art. 32, 33(2)).",
        "Le sous-traitant n'a pas de procédure en cas de perte, de vol ou de piratage des données (art. 32 et 33.2).",
    )
}

/// Medium. Art. 33(2) with 33(1): the organisation's 72 hours run from its own awareness;
/// a processor that takes more than 48 h (or commits to no delay) leaves it too little.
pub fn rule_slow_breach_notification(facts: &Facts<'_>) -> Option<Finding> {
    let protection = facts.assessment?.protection.as_ref()?;
    match protection.breach_notification_hours {
        Some(hours) if hours <= MAX_PROCESSOR_BREACH_NOTICE_HOURS => None,
        Some(hours) => finding(
            "slow_breach_notification",
            Severity::Medium,
            format!(
                "The processor tells of a breach within {hours} h: ask for 48 h at most, so that the authority can be told within 72 h."
            ),
            format!(
                "Le sous-traitant signale une violation sous {hours} h : exigez 48 h au plus, pour pouvoir notifier l'autorité sous 72 h."
            ),
        ),
        None => finding(
            "slow_breach_notification",
            Severity::Medium,
            "The processor commits to no delay for telling of a breach: ask for 48 h at most.",
            "Le sous-traitant ne s'engage sur aucun délai pour signaler une violation : exigez 48 h au plus.",
        ),
    }
}

/// Medium. Art. 32(1)(a): encryption is the first measure the law names.
pub fn rule_no_encryption(facts: &Facts<'_>) -> Option<Finding> {
    let protection = facts.assessment?.protection.as_ref()?;
    if protection
        .measures
        .iter()
        .any(|m| m == "encryption_at_rest" || m == "encryption_in_transit")
    {
        return None;
    }
    finding(
        "no_encryption",
        Severity::Medium,
        "The processor encrypts the data neither at rest nor in transit (Art. 32(1)(a)).",
        "Le sous-traitant ne chiffre les données ni au repos ni en transit (art. 32.1.a).",
    )
}

/// Medium. Art. 32(1)(d): a process for regularly testing the security measures.
pub fn rule_no_security_tests(facts: &Facts<'_>) -> Option<Finding> {
    let assessment = facts.assessment?;
    if assessment
        .security_tests
        .as_ref()
        .is_some_and(|t| t.performed)
    {
        return None;
    }
    finding(
        "no_security_tests",
        Severity::Medium,
        "The processor runs no security tests (Art. 32(1)(d)).",
        "Le sous-traitant ne réalise aucun test de sécurité (art. 32.1.d).",
    )
}

/// Medium. Art. 32(1)(d) asks for *regular* testing: the last test is over 12 months old,
/// or its date is unknown.
pub fn rule_stale_security_tests(facts: &Facts<'_>) -> Option<Finding> {
    let tests = facts
        .assessment?
        .security_tests
        .as_ref()
        .filter(|t| t.performed)?;
    match tests.last_on {
        Some(last) if !older_than_months(last, 12, facts.today) => None,
        Some(last) => finding(
            "stale_security_tests",
            Severity::Medium,
            format!("The last security test was on {last}, more than 12 months ago."),
            format!("Le dernier test de sécurité date du {last}, il y a plus de 12 mois."),
        ),
        None => finding(
            "stale_security_tests",
            Severity::Medium,
            "The processor runs security tests but did not say when the last one was.",
            "Le sous-traitant réalise des tests de sécurité mais n'a pas indiqué la date du dernier.",
        ),
    }
}

/// `date + months`, on the calendar: the same day, or the month's last day when that day
/// does not exist (31 January + 1 month = 28 or 29 February).
pub fn add_months(date: NaiveDate, months: u32) -> NaiveDate {
    date.checked_add_months(Months::new(months))
        .unwrap_or(NaiveDate::MAX)
}

/// Whether `date` is more than `months` months before `today`.
pub fn older_than_months(date: NaiveDate, months: u32, today: NaiveDate) -> bool {
    add_months(date, months) < today
}

/// What the rules say about one entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Evaluation {
    pub risk: Risk,
    pub status: ProcessorStatus,
    pub findings: Vec<Finding>,
    /// The next review: 12 months after the last assessment, 6 for a medium risk, 3 for a
    /// high one; for an entry never assessed, one month after it was registered.
    pub review_due_on: NaiveDate,
    /// The review is due within 30 days.
    pub review_due_soon: bool,
    /// The review date has passed.
    pub review_overdue: bool,
}

/// How long before the review date an entry shows as due.
pub const REVIEW_NOTICE_DAYS: i64 = 30;

/// Runs every rule; one `high` finding makes the risk high (PRODUCT.md).
pub fn evaluate(facts: &Facts<'_>) -> Evaluation {
    let findings: Vec<Finding> = RULES.iter().filter_map(|(_, rule)| rule(facts)).collect();
    let worst = findings.iter().map(|f| f.severity).max();
    let risk = match (facts.assessment, worst) {
        (None, None) => Risk::Unknown,
        (_, None) | (_, Some(Severity::Low)) => Risk::Low,
        (_, Some(Severity::Medium)) => Risk::Medium,
        (_, Some(Severity::High)) => Risk::High,
    };
    let status = match (facts.assessment, worst) {
        (None, _) => ProcessorStatus::PendingAssessment,
        (Some(_), Some(Severity::High)) => ProcessorStatus::NonCompliant,
        (Some(_), Some(Severity::Medium)) => ProcessorStatus::NeedsAttention,
        (Some(_), _) => ProcessorStatus::Compliant,
    };
    let review_due_on = review_due_on(facts.processor, facts.assessment, risk);
    let notice_from = review_due_on - chrono::Duration::days(REVIEW_NOTICE_DAYS);
    Evaluation {
        risk,
        status,
        findings,
        review_due_on,
        review_due_soon: facts.today >= notice_from && facts.today <= review_due_on,
        review_overdue: facts.today > review_due_on,
    }
}

/// 12 months after the last assessment, sooner the higher the risk; a first assessment is
/// due a month after registration.
pub fn review_due_on(
    processor: &Processor,
    assessment: Option<&Assessment>,
    risk: Risk,
) -> NaiveDate {
    match assessment {
        None => add_months(processor.created_at.date_naive(), 1),
        Some(assessment) => {
            let months = match risk {
                Risk::High => 3,
                Risk::Medium => 6,
                Risk::Low | Risk::Unknown => 12,
            };
            add_months(assessment.assessed_at.date_naive(), months)
        }
    }
}

/// Labels of the protection measures the questionnaire offers, in French and English.
pub const MEASURES: [(&str, &str, &str); 8] = [
    (
        "encryption_at_rest",
        "Chiffrement des données au repos",
        "Encryption at rest",
    ),
    (
        "encryption_in_transit",
        "Chiffrement des données en transit",
        "Encryption in transit",
    ),
    ("access_control", "Contrôle des accès", "Access control"),
    ("backups", "Sauvegardes", "Backups"),
    ("pseudonymisation", "Pseudonymisation", "Pseudonymisation"),
    ("logging", "Journalisation des accès", "Access logging"),
    (
        "mfa",
        "Authentification multifacteur",
        "Multi-factor authentication",
    ),
    ("staff_training", "Formation du personnel", "Staff training"),
];

/// Kinds of security test the questionnaire offers.
pub const TEST_KINDS: [(&str, &str, &str); 5] = [
    ("penetration_test", "Test d'intrusion", "Penetration test"),
    (
        "vulnerability_scan",
        "Analyse de vulnérabilités",
        "Vulnerability scan",
    ),
    ("code_review", "Revue de code", "Code review"),
    ("audit", "Audit de sécurité", "Security audit"),
    (
        "certification",
        "Certification (ISO 27001, SOC 2...)",
        "Certification (ISO 27001, SOC 2...)",
    ),
];

/// The label of a measure or test kind from one of the lists above, in `language`; a value
/// a vendor typed themselves ("other") is its own label.
pub fn choice_label<'a>(
    options: &[(&'static str, &'static str, &'static str)],
    value: &'a str,
    language: crate::Language,
) -> &'a str {
    match options.iter().find(|(key, _, _)| *key == value) {
        Some((_, fr, _)) if language == crate::Language::Fr => fr,
        Some((_, _, en)) => en,
        None => value,
    }
}

/// The label of a measure in `language`; a measure given in words is shown as it is.
pub fn measure_label(measure: &str, language: crate::Language) -> String {
    choice_label(&MEASURES, measure, language).to_string()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(y: i32, m: u32, d: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, 10, 0, 0).unwrap()
    }

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn mailjet() -> Processor {
        let input: ProcessorInput = serde_json::from_value(serde_json::json!({
            "name": "Mailjet", "service": "emailing", "role": "processor", "country": "FR",
            "transfer_mechanism": null, "dpa_signed_on": "2024-01-10",
            "purposes": ["newsletter"], "data_categories": ["contact"], "subprocessors": ["OVHcloud"]}))
        .unwrap();
        input.validate(Uuid::now_v7(), at(2025, 10, 1)).unwrap()
    }

    /// The answers of PRODUCT.md: nothing to find.
    fn good_answers() -> AssessmentInput {
        serde_json::from_value(serde_json::json!({
            "dpo": {"appointed": true, "name": "Jean Dupont", "email": "dpo@mailjet.example"},
            "data_mapping": {"complete": true, "last_updated_on": "2025-06-01"},
            "third_parties": {"shares_data": true, "recipients": ["OVHcloud"], "controls": "annual audits, DPAs"},
            "protection": {"measures": ["encryption_at_rest", "encryption_in_transit", "access_control", "backups"],
                           "incident_procedure": true, "breach_notification_hours": 24},
            "security_tests": {"performed": true, "kinds": ["penetration_test", "vulnerability_scan"], "last_on": "2025-09-01"}}))
        .unwrap()
    }

    fn assessed(answers: AssessmentInput) -> Assessment {
        answers
            .validate(at(2025, 10, 1), AssessmentSource::Api)
            .unwrap()
    }

    fn codes_for(
        processor: &Processor,
        assessment: Option<&Assessment>,
        today: NaiveDate,
    ) -> Vec<String> {
        let facts = Facts {
            processor,
            assessment,
            today,
            unregistered_subprocessors: &[],
        };
        evaluate(&facts)
            .findings
            .into_iter()
            .map(|f| f.code)
            .collect()
    }

    fn only(code: &str, processor: &Processor, assessment: Option<&Assessment>) -> Finding {
        let facts = Facts {
            processor,
            assessment,
            today: date(2025, 10, 1),
            unregistered_subprocessors: &[],
        };
        let rule = RULES.iter().find(|(c, _)| *c == code).unwrap().1;
        rule(&facts).unwrap_or_else(|| panic!("{code} did not fire"))
    }

    #[test]
    fn the_answers_of_the_contract_find_nothing_and_make_a_compliant_low_risk_entry() {
        let processor = mailjet();
        let assessment = assessed(good_answers());
        let facts = Facts {
            processor: &processor,
            assessment: Some(&assessment),
            today: date(2025, 10, 1),
            unregistered_subprocessors: &[],
        };
        let evaluation = evaluate(&facts);
        assert_eq!(evaluation.findings, vec![]);
        assert_eq!(
            (evaluation.risk, evaluation.status),
            (Risk::Low, ProcessorStatus::Compliant)
        );
        assert_eq!(evaluation.review_due_on, date(2026, 10, 1));
        assert!(!evaluation.review_due_soon && !evaluation.review_overdue);
    }

    #[test]
    fn every_rule_has_a_unique_code_matching_what_it_reports() {
        let mut seen = std::collections::HashSet::new();
        for (code, _) in RULES {
            assert!(seen.insert(code), "{code} twice");
        }
    }

    #[test]
    fn rule_no_dpa_fires_without_a_signed_agreement_except_for_independent_controllers() {
        let mut processor = mailjet();
        processor.dpa_signed_on = None;
        let f = only("no_dpa", &processor, None);
        assert_eq!((f.code.as_str(), f.severity), ("no_dpa", Severity::High));
        processor.role = ProcessorRole::IndependentController;
        assert!(!codes_for(&processor, None, date(2025, 10, 1)).contains(&"no_dpa".to_string()));
    }

    #[test]
    fn rule_transfer_without_safeguard_fires_outside_the_eea_without_a_mechanism() {
        let mut processor = mailjet();
        processor.country = "US".into();
        assert_eq!(
            only("transfer_without_safeguard", &processor, None).severity,
            Severity::High
        );
        processor.transfer_mechanism = Some(TransferSafeguard::Scc);
        assert!(codes_for(&processor, None, date(2025, 10, 1)).is_empty());
        // Inside the EEA (Norway is not in the EU) nothing is needed.
        processor.country = "NO".into();
        processor.transfer_mechanism = None;
        assert!(codes_for(&processor, None, date(2025, 10, 1)).is_empty());
    }

    #[test]
    fn rule_adequacy_not_recognised_fires_for_a_country_without_a_decision() {
        let mut processor = mailjet();
        processor.country = "IN".into();
        processor.transfer_mechanism = Some(TransferSafeguard::Adequacy);
        assert_eq!(
            only("adequacy_not_recognised", &processor, None).severity,
            Severity::Medium
        );
        processor.country = "JP".into();
        assert!(codes_for(&processor, None, date(2025, 10, 1)).is_empty());
    }

    #[test]
    fn rule_unregistered_subprocessor_names_the_missing_entries() {
        let processor = mailjet();
        let missing = vec!["OVHcloud".to_string()];
        let facts = Facts {
            processor: &processor,
            assessment: None,
            today: date(2025, 10, 1),
            unregistered_subprocessors: &missing,
        };
        let f = rule_unregistered_subprocessor(&facts).unwrap();
        assert!(f.message.contains("OVHcloud") && f.message_fr.contains("OVHcloud"));
    }

    #[test]
    fn rule_no_dpo_fires_when_none_is_appointed_or_the_question_is_unanswered() {
        let processor = mailjet();
        let mut answers = good_answers();
        answers.dpo = Some(DpoAnswer {
            appointed: false,
            ..Default::default()
        });
        assert_eq!(
            only("no_dpo", &processor, Some(&assessed(answers.clone()))).severity,
            Severity::Medium
        );
        answers.dpo = None;
        only("no_dpo", &processor, Some(&assessed(answers)));
    }

    #[test]
    fn rule_no_data_mapping_fires_when_the_mapping_is_incomplete() {
        let processor = mailjet();
        let mut answers = good_answers();
        answers.data_mapping = Some(DataMappingAnswer {
            complete: false,
            ..Default::default()
        });
        assert_eq!(
            only("no_data_mapping", &processor, Some(&assessed(answers))).severity,
            Severity::Medium
        );
    }

    #[test]
    fn rule_stale_data_mapping_fires_after_twelve_months() {
        let processor = mailjet();
        let mut answers = good_answers();
        answers.data_mapping.as_mut().unwrap().last_updated_on = Some(date(2024, 9, 30));
        assert_eq!(
            only(
                "stale_data_mapping",
                &processor,
                Some(&assessed(answers.clone()))
            )
            .severity,
            Severity::Low
        );
        // Exactly twelve months is not yet stale.
        answers.data_mapping.as_mut().unwrap().last_updated_on = Some(date(2024, 10, 1));
        assert!(codes_for(&processor, Some(&assessed(answers)), date(2025, 10, 1)).is_empty());
    }

    #[test]
    fn rule_uncontrolled_third_parties_fires_when_data_is_shared_without_controls() {
        let processor = mailjet();
        let mut answers = good_answers();
        answers.third_parties.as_mut().unwrap().controls = Some("   ".into());
        assert_eq!(
            only(
                "uncontrolled_third_parties",
                &processor,
                Some(&assessed(answers.clone()))
            )
            .severity,
            Severity::High
        );
        answers.third_parties = Some(ThirdPartiesAnswer {
            shares_data: false,
            ..Default::default()
        });
        assert!(codes_for(&processor, Some(&assessed(answers)), date(2025, 10, 1)).is_empty());
    }

    #[test]
    fn rule_no_incident_procedure_fires_without_a_procedure() {
        let processor = mailjet();
        let mut answers = good_answers();
        answers.protection.as_mut().unwrap().incident_procedure = false;
        assert_eq!(
            only(
                "no_incident_procedure",
                &processor,
                Some(&assessed(answers))
            )
            .severity,
            Severity::High
        );
    }

    #[test]
    fn rule_slow_breach_notification_fires_over_48_hours_or_without_a_commitment() {
        let processor = mailjet();
        let mut answers = good_answers();
        answers
            .protection
            .as_mut()
            .unwrap()
            .breach_notification_hours = Some(72);
        assert_eq!(
            only(
                "slow_breach_notification",
                &processor,
                Some(&assessed(answers.clone()))
            )
            .severity,
            Severity::Medium
        );
        answers
            .protection
            .as_mut()
            .unwrap()
            .breach_notification_hours = None;
        only(
            "slow_breach_notification",
            &processor,
            Some(&assessed(answers.clone())),
        );
        answers
            .protection
            .as_mut()
            .unwrap()
            .breach_notification_hours = Some(48);
        assert!(codes_for(&processor, Some(&assessed(answers)), date(2025, 10, 1)).is_empty());
    }

    #[test]
    fn rule_no_encryption_fires_without_either_encryption() {
        let processor = mailjet();
        let mut answers = good_answers();
        answers.protection.as_mut().unwrap().measures = vec!["backups".into()];
        assert_eq!(
            only("no_encryption", &processor, Some(&assessed(answers))).severity,
            Severity::Medium
        );
    }

    #[test]
    fn rule_no_security_tests_fires_when_none_are_run() {
        let processor = mailjet();
        let mut answers = good_answers();
        answers.security_tests = Some(SecurityTestsAnswer::default());
        assert_eq!(
            only("no_security_tests", &processor, Some(&assessed(answers))).severity,
            Severity::Medium
        );
    }

    #[test]
    fn rule_stale_security_tests_fires_after_twelve_months_or_without_a_date() {
        let processor = mailjet();
        let mut answers = good_answers();
        answers.security_tests.as_mut().unwrap().last_on = Some(date(2024, 8, 1));
        assert_eq!(
            only(
                "stale_security_tests",
                &processor,
                Some(&assessed(answers.clone()))
            )
            .severity,
            Severity::Medium
        );
        answers.security_tests.as_mut().unwrap().last_on = None;
        only("stale_security_tests", &processor, Some(&assessed(answers)));
    }

    #[test]
    fn one_high_finding_makes_the_risk_high_and_the_entry_non_compliant_with_a_review_in_three_months()
     {
        let mut processor = mailjet();
        processor.dpa_signed_on = None;
        let assessment = assessed(good_answers());
        let facts = Facts {
            processor: &processor,
            assessment: Some(&assessment),
            today: date(2025, 10, 1),
            unregistered_subprocessors: &[],
        };
        let evaluation = evaluate(&facts);
        assert_eq!(
            (evaluation.risk, evaluation.status),
            (Risk::High, ProcessorStatus::NonCompliant)
        );
        assert_eq!(evaluation.review_due_on, date(2026, 1, 1));
    }

    #[test]
    fn medium_findings_need_attention_and_a_review_in_six_months() {
        let processor = mailjet();
        let mut answers = good_answers();
        answers.dpo = None;
        let assessment = assessed(answers);
        let facts = Facts {
            processor: &processor,
            assessment: Some(&assessment),
            today: date(2025, 10, 1),
            unregistered_subprocessors: &[],
        };
        let evaluation = evaluate(&facts);
        assert_eq!(
            (evaluation.risk, evaluation.status),
            (Risk::Medium, ProcessorStatus::NeedsAttention)
        );
        assert_eq!(evaluation.review_due_on, date(2026, 4, 1));
    }

    #[test]
    fn an_entry_never_assessed_is_pending_with_an_unknown_risk_and_due_a_month_after_registration()
    {
        let processor = mailjet();
        let facts = Facts {
            processor: &processor,
            assessment: None,
            today: date(2025, 10, 1),
            unregistered_subprocessors: &[],
        };
        let evaluation = evaluate(&facts);
        assert_eq!(
            (evaluation.risk, evaluation.status),
            (Risk::Unknown, ProcessorStatus::PendingAssessment)
        );
        assert_eq!(evaluation.review_due_on, date(2025, 11, 1));
        assert!(
            !evaluation.review_due_soon
                || evaluation.review_due_on - facts.today <= chrono::Duration::days(30)
        );
    }

    #[test]
    fn the_review_shows_as_due_thirty_days_before_and_overdue_after() {
        let processor = mailjet();
        let mut answers = good_answers();
        answers.security_tests.as_mut().unwrap().last_on = Some(date(2025, 10, 1));
        let assessment = assessed(answers);
        let check = |today: NaiveDate| {
            let facts = Facts {
                processor: &processor,
                assessment: Some(&assessment),
                today,
                unregistered_subprocessors: &[],
            };
            let e = evaluate(&facts);
            (e.review_due_soon, e.review_overdue)
        };
        assert_eq!(check(date(2026, 8, 31)), (false, false));
        assert_eq!(check(date(2026, 9, 1)), (true, false));
        assert_eq!(check(date(2026, 10, 1)), (true, false));
        assert_eq!(check(date(2026, 10, 2)), (false, true));
    }

    #[test]
    fn review_dates_follow_the_calendar_across_month_ends_and_leap_years() {
        // 29 February + 12 months: no 29 February in 2025, so the 28th.
        assert_eq!(add_months(date(2024, 2, 29), 12), date(2025, 2, 28));
        // 31 August + 6 months: February's last day.
        assert_eq!(add_months(date(2025, 8, 31), 6), date(2026, 2, 28));
        assert_eq!(add_months(date(2027, 8, 31), 6), date(2028, 2, 29));
        // 30 November + 3 months.
        assert_eq!(add_months(date(2025, 11, 30), 3), date(2026, 2, 28));
        // 31 October + 1 month.
        assert_eq!(add_months(date(2025, 10, 31), 1), date(2025, 11, 30));
        // A year end.
        assert_eq!(add_months(date(2025, 12, 15), 1), date(2026, 1, 15));
    }

    #[test]
    fn dates_in_the_future_are_refused() {
        let mut input: ProcessorInput = serde_json::from_value(serde_json::json!({
            "name": "Mailjet", "service": "emailing", "country": "FR", "dpa_signed_on": "2025-10-02"}))
        .unwrap();
        let err = input
            .clone()
            .validate(Uuid::now_v7(), at(2025, 10, 1))
            .unwrap_err();
        assert!(matches!(err, DomainError::Invalid { ref field, .. } if field == "dpa_signed_on"));
        input.dpa_signed_on = Some(date(2025, 10, 1));
        assert!(input.validate(Uuid::now_v7(), at(2025, 10, 1)).is_ok());
        let mut answers = good_answers();
        answers.security_tests.as_mut().unwrap().last_on = Some(date(2026, 1, 1));
        let err = answers
            .validate(at(2025, 10, 1), AssessmentSource::Api)
            .unwrap_err();
        assert!(
            matches!(err, DomainError::Invalid { ref field, .. } if field == "security_tests.last_on")
        );
        let mut answers = good_answers();
        answers.dpo.as_mut().unwrap().answered_on = Some(date(2025, 10, 2));
        assert!(
            answers
                .validate(at(2025, 10, 1), AssessmentSource::Api)
                .is_err()
        );
    }

    #[test]
    fn unknown_countries_derogations_and_self_references_are_refused() {
        let base = serde_json::json!({"name": "Acme", "service": "crm", "country": "XX"});
        let err = serde_json::from_value::<ProcessorInput>(base.clone())
            .unwrap()
            .validate(Uuid::now_v7(), Utc::now())
            .unwrap_err();
        assert!(matches!(err, DomainError::Invalid { ref field, .. } if field == "country"));
        let mut json = base.clone();
        json["country"] = "us".into();
        json["transfer_mechanism"] = "derogation".into();
        assert!(
            serde_json::from_value::<ProcessorInput>(json)
                .unwrap()
                .validate(Uuid::now_v7(), Utc::now())
                .is_err()
        );
        let mut json = base;
        json["country"] = "de".into();
        json["subprocessors"] = serde_json::json!(["acme "]);
        assert!(
            serde_json::from_value::<ProcessorInput>(json)
                .unwrap()
                .validate(Uuid::now_v7(), Utc::now())
                .is_err()
        );
    }

    #[test]
    fn answers_are_dated_and_evidence_needs_a_reference_or_a_file() {
        let assessment = assessed(good_answers());
        assert_eq!(
            assessment.dpo.as_ref().unwrap().answered_on,
            Some(date(2025, 10, 1))
        );
        let mut answers = good_answers();
        answers.protection.as_mut().unwrap().evidence = vec![Evidence {
            reference: Some(" ".into()),
            file_id: None,
        }];
        assert!(
            answers
                .validate(at(2025, 10, 1), AssessmentSource::Api)
                .is_err()
        );
        let mut answers = good_answers();
        answers
            .protection
            .as_mut()
            .unwrap()
            .breach_notification_hours = Some(-1);
        assert!(
            answers
                .validate(at(2025, 10, 1), AssessmentSource::Api)
                .is_err()
        );
    }
}
