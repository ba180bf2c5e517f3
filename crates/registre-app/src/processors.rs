//! The processor register: entries, due-diligence assessments with their evidence, the
//! sub-processor chain, and the questionnaire a vendor fills in through a signed link.
use crate::catalogue::{conflict_or, decode, encode};
use crate::tokens::{TokenKind, TokenProblem};
use crate::{App, AppError, AppResult, Principal};
use chrono::{DateTime, Duration, Utc};
use registre_domain::processor::{
    Assessment, AssessmentInput, AssessmentSource, Evaluation, Facts, Processor, ProcessorInput,
    ProcessorStatus, Risk, evaluate, name_key,
};
use registre_domain::purpose::TransferSafeguard;
use registre_domain::role::Permission;
use registre_domain::{DomainError, Language, Role};
use registre_store::{Document, DocumentKind, EvidenceRecord};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// How long a vendor questionnaire link stays valid.
pub const QUESTIONNAIRE_LINK_DAYS: i64 = 30;
/// Largest evidence file accepted.
pub const MAX_EVIDENCE_BYTES: usize = 5 * 1024 * 1024;
/// Earlier assessments kept with an entry.
const HISTORY: usize = 10;
/// Questionnaire links whose use is remembered, so that the page says it was used.
const REMEMBERED_LINKS: usize = 20;
/// Where evidence content lives, bound into its ciphertext.
const EVIDENCE_CONTEXT: &str = "evidence_files.content";

/// Answers a vendor sent through a questionnaire link, waiting for the DPO.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AssessmentDraft {
    pub submitted_at: DateTime<Utc>,
    pub language: Language,
    pub assessment: Assessment,
}

/// A processor entry as stored.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct ProcessorRecord {
    #[serde(flatten)]
    processor: Processor,
    #[serde(default)]
    assessment: Option<Assessment>,
    #[serde(default)]
    previous_assessments: Vec<Assessment>,
    #[serde(default)]
    draft: Option<AssessmentDraft>,
    /// Nonces of the questionnaire links already used.
    #[serde(default)]
    used_links: Vec<String>,
    /// Answers the DPO sent back to the vendor, with what to correct: the next link opens
    /// on them.
    #[serde(default)]
    returned: Option<ReturnedDraft>,
}

/// A vendor's draft sent back by the DPO with a comment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct ReturnedDraft {
    returned_at: DateTime<Utc>,
    comment: String,
    assessment: Assessment,
}

/// A processor as the API shows it: the entry, what the rules say, the current assessment.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct ProcessorView {
    #[serde(flatten)]
    pub processor: Processor,
    pub status: ProcessorStatus,
    pub risk: Risk,
    pub findings: Vec<registre_domain::processor::Finding>,
    pub review_due_on: chrono::NaiveDate,
    pub review_due_soon: bool,
    pub review_overdue: bool,
    pub assessed_at: Option<DateTime<Utc>>,
    pub assessment: Option<Assessment>,
    /// A vendor's answers wait for acceptance (`GET .../assessment-draft`).
    pub draft_pending: bool,
}

/// The answer to an assessment: `risk`, `status`, `findings` and the next review.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct AssessmentOutcome {
    #[serde(flatten)]
    pub evaluation: Evaluation,
    pub assessed_at: DateTime<Utc>,
}

/// A vendor's draft with what the rules would say of it.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct DraftView {
    #[serde(flatten)]
    pub draft: AssessmentDraft,
    /// What accepting the draft would give.
    pub preview: Evaluation,
}

/// An evidence file as listed (no content).
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct EvidenceView {
    pub id: Uuid,
    pub processor_id: Uuid,
    pub name: String,
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
    pub uploaded_at: DateTime<Utc>,
}

impl From<&EvidenceRecord> for EvidenceView {
    fn from(r: &EvidenceRecord) -> Self {
        Self {
            id: r.id,
            processor_id: r.processor_id,
            name: r.name.clone(),
            content_type: r.content_type.clone(),
            size: r.size,
            sha256: r.sha256.clone(),
            uploaded_at: r.uploaded_at,
        }
    }
}

/// One link of the sub-processor chain.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct ChainNode {
    pub name: String,
    /// Whether the name has an entry of its own in the register.
    pub registered: bool,
    pub id: Option<Uuid>,
    pub service: Option<String>,
    pub country: Option<String>,
    pub transfer_mechanism: Option<TransferSafeguard>,
    /// Outside the EEA.
    pub outside_eea: Option<bool>,
    pub status: Option<ProcessorStatus>,
    pub risk: Option<Risk>,
    /// The entry already appears above in the chain; it is not followed again.
    pub cycle: bool,
    #[schema(no_recursion)]
    pub subprocessors: Vec<ChainNode>,
}

/// A questionnaire link to give the vendor.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct QuestionnaireLink {
    pub url: String,
    pub expires_at: DateTime<Utc>,
}

#[derive(Clone, Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QuestionnaireLinkRequest {
    /// The language of the page the vendor opens (`fr` or `en`); the organisation's by default.
    #[serde(default)]
    pub language: Option<Language>,
}

/// What the vendor's page shows.
#[derive(Clone, Debug)]
pub struct VendorQuestionnaire {
    pub processor_name: String,
    pub organisation_name: String,
    pub dpo_email: String,
    pub language: Language,
    pub expires_at: DateTime<Utc>,
    /// Answers to start from: an earlier draft or the current assessment.
    pub prefill: AssessmentInput,
    /// What the DPO asked to correct when they sent the answers back.
    pub returned_comment: Option<String>,
}

/// What "send the questionnaire" did: the link, and the address it was mailed to.
#[derive(Clone, Debug)]
pub struct QuestionnaireSent {
    pub link: QuestionnaireLink,
    /// The processor's contact, when it has one and the mail went out.
    pub mailed_to: Option<String>,
}

/// Why a vendor's page does not open or a submission is refused.
#[derive(Debug)]
pub enum VendorProblem {
    Link(TokenProblem),
    Invalid(DomainError),
    Other(AppError),
}

impl From<AppError> for VendorProblem {
    fn from(error: AppError) -> Self {
        match error {
            AppError::Domain(e) => Self::Invalid(e),
            other => Self::Other(other),
        }
    }
}

/// Checks a file's declared type against its first bytes; returns the type to keep.
fn sniff(content_type: &str, bytes: &[u8]) -> Result<&'static str, DomainError> {
    let declared = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let zip = bytes.starts_with(b"PK\x03\x04");
    let kind = match declared.as_str() {
        "application/pdf" if bytes.starts_with(b"%PDF-") => "application/pdf",
        "image/png" if bytes.starts_with(b"\x89PNG\r\n\x1a\n") => "image/png",
        "image/jpeg" if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) => "image/jpeg",
        "text/plain" if std::str::from_utf8(bytes).is_ok() && !bytes.contains(&0) => "text/plain",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document" if zip => {
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
        }
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" if zip => {
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        }
        "application/pdf"
        | "image/png"
        | "image/jpeg"
        | "text/plain"
        | "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
        | "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" => {
            return Err(DomainError::invalid(
                "content_type",
                format!("the file's content is not {declared}"),
            ));
        }
        _ => {
            return Err(DomainError::invalid(
                "content_type",
                format!(
                    "{declared:?} is not accepted: send a PDF, PNG, JPEG, plain text, DOCX or XLSX file"
                ),
            ));
        }
    };
    Ok(kind)
}

fn file_name(raw: Option<&str>) -> Result<String, DomainError> {
    let name = raw
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .unwrap_or("evidence");
    if name.chars().count() > 200
        || name
            .chars()
            .any(|c| c.is_control() || c == '/' || c == '\\')
        || name.starts_with('.')
    {
        return Err(DomainError::invalid(
            "name",
            "a file name of at most 200 characters, without / \\ or a leading dot",
        ));
    }
    Ok(name.to_string())
}

fn parse_id(raw: &str) -> AppResult<Uuid> {
    Uuid::parse_str(raw).map_err(|_| AppError::not_found("processor"))
}

impl App {
    async fn processor_records(&self) -> AppResult<Vec<ProcessorRecord>> {
        self.store()
            .documents(DocumentKind::Processor)
            .await?
            .iter()
            .map(decode)
            .collect()
    }

    async fn processor_record(&self, id: &str) -> AppResult<(ProcessorRecord, Document)> {
        let id = parse_id(id)?;
        match self
            .store()
            .document(DocumentKind::Processor, &id.to_string())
            .await?
        {
            Some(document) => Ok((decode(&document)?, document)),
            None => Err(AppError::not_found("processor")),
        }
    }

    fn view(&self, record: &ProcessorRecord, all: &[ProcessorRecord]) -> ProcessorView {
        let evaluation = self.evaluation(record, record.assessment.as_ref(), all);
        ProcessorView {
            processor: record.processor.clone(),
            status: evaluation.status,
            risk: evaluation.risk,
            findings: evaluation.findings,
            review_due_on: evaluation.review_due_on,
            review_due_soon: evaluation.review_due_soon,
            review_overdue: evaluation.review_overdue,
            assessed_at: record.assessment.as_ref().map(|a| a.assessed_at),
            assessment: record.assessment.clone(),
            draft_pending: record.draft.is_some(),
        }
    }

    fn evaluation(
        &self,
        record: &ProcessorRecord,
        assessment: Option<&Assessment>,
        all: &[ProcessorRecord],
    ) -> Evaluation {
        let unregistered: Vec<String> = record
            .processor
            .subprocessors
            .iter()
            .filter(|name| {
                !all.iter()
                    .any(|r| name_key(&r.processor.name) == name_key(name))
            })
            .cloned()
            .collect();
        evaluate(&Facts {
            processor: &record.processor,
            assessment,
            today: self.now().date_naive(),
            unregistered_subprocessors: &unregistered,
        })
    }

    /// Every entry, by name.
    pub async fn processors(&self) -> AppResult<Vec<ProcessorView>> {
        let all = self.processor_records().await?;
        let mut views: Vec<ProcessorView> = all.iter().map(|r| self.view(r, &all)).collect();
        views.sort_by_key(|v| name_key(&v.processor.name));
        Ok(views)
    }

    pub async fn processor(&self, id: &str) -> AppResult<ProcessorView> {
        let (record, _) = self.processor_record(id).await?;
        let all = self.processor_records().await?;
        Ok(self.view(&record, &all))
    }

    /// The entry named `name`, if any (names are references).
    pub async fn processor_by_name(&self, name: &str) -> AppResult<Option<Processor>> {
        Ok(self
            .processor_records()
            .await?
            .into_iter()
            .find(|r| name_key(&r.processor.name) == name_key(name))
            .map(|r| r.processor))
    }

    /// Every entry with its current assessment (for the record of processing).
    pub(crate) async fn processors_with_assessments(
        &self,
    ) -> AppResult<Vec<(Processor, Option<Assessment>)>> {
        Ok(self
            .processor_records()
            .await?
            .into_iter()
            .map(|r| (r.processor, r.assessment))
            .collect())
    }

    async fn validated_processor(&self, input: ProcessorInput, id: Uuid) -> AppResult<Processor> {
        let processor = input.validate(id, self.now())?;
        let purposes = self.purposes().await?;
        for (i, key) in processor.purposes.iter().enumerate() {
            if !purposes.iter().any(|p| p.key.as_str() == key) {
                return Err(DomainError::invalid(
                    format!("purposes/{i}"),
                    format!("unknown purpose {key:?}"),
                )
                .into());
            }
        }
        self.check_categories("data_categories", &processor.data_categories)
            .await?;
        let taken = self.processor_records().await?.iter().any(|r| {
            r.processor.id != id && name_key(&r.processor.name) == name_key(&processor.name)
        });
        if taken {
            return Err(AppError::Conflict(format!(
                "a processor named {:?} already exists",
                processor.name
            )));
        }
        Ok(processor)
    }

    pub async fn create_processor(
        &self,
        by: &Principal,
        input: ProcessorInput,
    ) -> AppResult<ProcessorView> {
        by.require(Permission::ManageRegisters)?;
        let processor = self.validated_processor(input, Uuid::now_v7()).await?;
        let record = ProcessorRecord {
            processor,
            assessment: None,
            previous_assessments: Vec::new(),
            draft: None,
            used_links: Vec::new(),
            returned: None,
        };
        let p = &record.processor;
        let document = Document {
            kind: DocumentKind::Processor,
            key: p.id.to_string(),
            body: encode(&record)?,
            created_at: p.created_at,
            updated_at: p.updated_at,
        };
        let audit = self.audit_record(
            by,
            "processor.created",
            format!("processor:{}", p.id),
            serde_json::json!({"role": p.role.as_str(), "country": p.country, "service": p.service}),
        );
        self.store()
            .insert_document(&document, &audit)
            .await
            .map_err(|e| conflict_or(e, "processor"))?;
        self.processor(&p.id.to_string()).await
    }

    /// Replaces an entry; its assessments, draft and evidence stay.
    pub async fn update_processor(
        &self,
        by: &Principal,
        id: &str,
        input: ProcessorInput,
    ) -> AppResult<ProcessorView> {
        by.require(Permission::ManageRegisters)?;
        let (mut record, _) = self.processor_record(id).await?;
        let mut processor = self.validated_processor(input, record.processor.id).await?;
        processor.created_at = record.processor.created_at;
        record.processor = processor;
        let audit = self.audit_record(
            by,
            "processor.updated",
            format!("processor:{}", record.processor.id),
            serde_json::json!({"role": record.processor.role.as_str(), "country": record.processor.country}),
        );
        self.save_processor(&record, &audit).await?;
        self.processor(id).await
    }

    async fn save_processor(
        &self,
        record: &ProcessorRecord,
        audit: &registre_domain::audit::AuditRecord,
    ) -> AppResult<()> {
        let document = Document {
            kind: DocumentKind::Processor,
            key: record.processor.id.to_string(),
            body: encode(record)?,
            created_at: record.processor.created_at,
            updated_at: self.now(),
        };
        self.store()
            .update_document(&document, audit)
            .await
            .map_err(|e| conflict_or(e, "processor"))
    }

    async fn check_evidence_files(
        &self,
        processor_id: Uuid,
        assessment: &Assessment,
    ) -> AppResult<()> {
        let files = self.store().evidence_of(processor_id).await?;
        for file_id in assessment.evidence_files() {
            if !files.iter().any(|f| f.id == file_id) {
                return Err(DomainError::invalid(
                    "evidence/file_id",
                    format!("{file_id} is not an evidence file of this processor; upload it with POST /api/v1/processors/{processor_id}/evidence"),
                )
                .into());
            }
        }
        Ok(())
    }

    /// Makes `assessment` the current one; the previous one joins the history.
    async fn apply_assessment(
        &self,
        by: &Principal,
        mut record: ProcessorRecord,
        assessment: Assessment,
        action: &str,
    ) -> AppResult<AssessmentOutcome> {
        self.check_evidence_files(record.processor.id, &assessment)
            .await?;
        if let Some(previous) = record.assessment.take() {
            record.previous_assessments.insert(0, previous);
            record.previous_assessments.truncate(HISTORY);
        }
        let assessed_at = assessment.assessed_at;
        record.assessment = Some(assessment);
        let all = self.processor_records().await?;
        let evaluation = self.evaluation(&record, record.assessment.as_ref(), &all);
        let codes: Vec<&str> = evaluation
            .findings
            .iter()
            .map(|f| f.code.as_str())
            .collect();
        let audit = self.audit_record(
            by,
            action,
            format!("processor:{}", record.processor.id),
            serde_json::json!({"risk": evaluation.risk, "status": evaluation.status, "findings": codes}),
        );
        self.save_processor(&record, &audit).await?;
        Ok(AssessmentOutcome {
            evaluation,
            assessed_at,
        })
    }

    /// Records the due-diligence answers and returns what the rules make of them.
    pub async fn put_assessment(
        &self,
        by: &Principal,
        id: &str,
        input: AssessmentInput,
    ) -> AppResult<AssessmentOutcome> {
        by.require(Permission::ManageRegisters)?;
        let (record, _) = self.processor_record(id).await?;
        let assessment = input.validate(self.now(), AssessmentSource::Api)?;
        self.apply_assessment(by, record, assessment, "processor.assessed")
            .await
    }

    /// Records an assessment made at another time (the demo's history).
    pub(crate) async fn record_assessment(
        &self,
        by: &Principal,
        id: Uuid,
        assessment: Assessment,
    ) -> AppResult<AssessmentOutcome> {
        let (record, _) = self.processor_record(&id.to_string()).await?;
        self.apply_assessment(by, record, assessment, "processor.assessed")
            .await
    }

    // ---- evidence ----

    /// Stores a file that backs an answer, sealed; checks its size and that its content is
    /// of the type it claims.
    pub async fn upload_evidence(
        &self,
        by: &Principal,
        id: &str,
        name: Option<&str>,
        content_type: &str,
        bytes: &[u8],
    ) -> AppResult<EvidenceView> {
        by.require(Permission::ManageRegisters)?;
        let (record, _) = self.processor_record(id).await?;
        if bytes.len() > MAX_EVIDENCE_BYTES {
            return Err(AppError::TooLarge(format!(
                "an evidence file has at most {} MiB",
                MAX_EVIDENCE_BYTES / 1024 / 1024
            )));
        }
        if bytes.is_empty() {
            return Err(DomainError::invalid("body", "the file is empty").into());
        }
        let content_type = sniff(content_type, bytes)?;
        let name = file_name(name)?;
        let evidence = EvidenceRecord {
            id: Uuid::now_v7(),
            processor_id: record.processor.id,
            name,
            content_type: content_type.to_string(),
            size: i64::try_from(bytes.len()).unwrap_or(i64::MAX),
            sha256: registre_crypto::sha256_hex(bytes),
            sealed: self.keyring().system_key().seal(EVIDENCE_CONTEXT, bytes)?,
            uploaded_at: self.now(),
        };
        let audit = self.audit_record(
            by,
            "processor.evidence_uploaded",
            format!("processor:{}", record.processor.id),
            serde_json::json!({"evidence_id": evidence.id, "content_type": evidence.content_type, "size": evidence.size, "sha256": evidence.sha256}),
        );
        self.store().insert_evidence(&evidence, &audit).await?;
        Ok(EvidenceView::from(&evidence))
    }

    pub async fn evidence_files(&self, id: &str) -> AppResult<Vec<EvidenceView>> {
        let (record, _) = self.processor_record(id).await?;
        Ok(self
            .store()
            .evidence_of(record.processor.id)
            .await?
            .iter()
            .map(EvidenceView::from)
            .collect())
    }

    /// One evidence file and its content.
    pub async fn evidence_file(
        &self,
        id: &str,
        file_id: &str,
    ) -> AppResult<(EvidenceView, Vec<u8>)> {
        let (record, _) = self.processor_record(id).await?;
        let file_id = Uuid::parse_str(file_id).map_err(|_| AppError::not_found("evidence file"))?;
        let evidence = self
            .store()
            .evidence(file_id)
            .await?
            .filter(|e| e.processor_id == record.processor.id)
            .ok_or_else(|| AppError::not_found("evidence file"))?;
        let content = self
            .keyring()
            .system_key()
            .open(EVIDENCE_CONTEXT, &evidence.sealed)?;
        Ok((EvidenceView::from(&evidence), content))
    }

    // ---- chain ----

    /// The entry and its sub-processors, and theirs, as a tree; a name seen higher up is
    /// marked as a cycle and not followed again.
    pub async fn processor_chain(&self, id: &str) -> AppResult<ChainNode> {
        let (record, _) = self.processor_record(id).await?;
        let all = self.processor_records().await?;
        let mut path = Vec::new();
        Ok(self.chain_node(&record.processor.name, &all, &mut path))
    }

    fn chain_node(&self, name: &str, all: &[ProcessorRecord], path: &mut Vec<String>) -> ChainNode {
        let key = name_key(name);
        let Some(record) = all.iter().find(|r| name_key(&r.processor.name) == key) else {
            return ChainNode {
                name: name.to_string(),
                registered: false,
                id: None,
                service: None,
                country: None,
                transfer_mechanism: None,
                outside_eea: None,
                status: None,
                risk: None,
                cycle: false,
                subprocessors: Vec::new(),
            };
        };
        let evaluation = self.evaluation(record, record.assessment.as_ref(), all);
        let p = &record.processor;
        let cycle = path.contains(&key);
        let mut subprocessors = Vec::new();
        if !cycle && path.len() < 16 {
            path.push(key);
            for sub in &p.subprocessors {
                subprocessors.push(self.chain_node(sub, all, path));
            }
            path.pop();
        }
        ChainNode {
            name: p.name.clone(),
            registered: true,
            id: Some(p.id),
            service: Some(p.service.clone()),
            country: Some(p.country.clone()),
            transfer_mechanism: p.transfer_mechanism,
            outside_eea: Some(!registre_domain::organisation::is_in_eea(&p.country)),
            status: Some(evaluation.status),
            risk: Some(evaluation.risk),
            cycle,
            subprocessors,
        }
    }

    // ---- the vendor questionnaire ----

    /// A signed link, valid 30 days and good for one submission, that the vendor's contact
    /// opens to answer the questionnaire without an account.
    pub async fn questionnaire_link(
        &self,
        by: &Principal,
        id: &str,
        request: QuestionnaireLinkRequest,
    ) -> AppResult<QuestionnaireLink> {
        by.require(Permission::ManageRegisters)?;
        let (record, _) = self.processor_record(id).await?;
        let language = match request.language {
            Some(language) => language,
            None => self.organisation().await?.default_language,
        };
        let token = self.sign_token(
            TokenKind::VendorQuestionnaire,
            serde_json::json!({"processor": record.processor.id, "lang": language.code()}),
            Duration::days(QUESTIONNAIRE_LINK_DAYS),
        );
        let expires_at = self
            .verify_token(TokenKind::VendorQuestionnaire, &token)
            .map(|v| v.expires_at)
            .map_err(AppError::from)?;
        let audit = self.audit_record(
            by,
            "processor.questionnaire_link_created",
            format!("processor:{}", record.processor.id),
            serde_json::json!({"expires_at": expires_at, "language": language.code()}),
        );
        self.store().append_audit(&audit).await?;
        Ok(QuestionnaireLink {
            url: format!(
                "{}/vendor/questionnaire?token={token}",
                self.config().public_url
            ),
            expires_at,
        })
    }

    async fn vendor_link(
        &self,
        token: &str,
    ) -> Result<(ProcessorRecord, Language, crate::tokens::VerifiedToken), VendorProblem> {
        let verified = self
            .verify_token(TokenKind::VendorQuestionnaire, token)
            .map_err(VendorProblem::Link)?;
        let processor_id = verified
            .payload
            .get("processor")
            .and_then(|v| v.as_str())
            .unwrap_or_default()
            .to_string();
        let language = verified
            .payload
            .get("lang")
            .and_then(|v| v.as_str())
            .and_then(Language::parse)
            .unwrap_or_default();
        let record = match self.processor_record(&processor_id).await {
            Ok((record, _)) => record,
            Err(AppError::NotFound(_)) => return Err(VendorProblem::Link(TokenProblem::Invalid)),
            Err(other) => return Err(other.into()),
        };
        if record.used_links.contains(&verified.nonce) {
            return Err(VendorProblem::Link(TokenProblem::AlreadyUsed));
        }
        Ok((record, language, verified))
    }

    /// What the vendor's page shows for `token`.
    pub async fn vendor_questionnaire(
        &self,
        token: &str,
    ) -> Result<VendorQuestionnaire, VendorProblem> {
        let (record, language, verified) = self.vendor_link(token).await?;
        let organisation = self.organisation().await?;
        let prefill = match (&record.draft, &record.returned, &record.assessment) {
            (Some(draft), _, _) => draft.assessment.to_input(),
            (None, Some(returned), _) => returned.assessment.to_input(),
            (None, None, Some(assessment)) => assessment.to_input(),
            (None, None, None) => AssessmentInput::default(),
        };
        Ok(VendorQuestionnaire {
            processor_name: record.processor.name,
            organisation_name: organisation.name,
            dpo_email: organisation.dpo.email,
            language,
            expires_at: verified.expires_at,
            prefill,
            returned_comment: record.returned.map(|r| r.comment),
        })
    }

    /// Takes the vendor's answers as a draft for the DPO. The answers are checked before the
    /// link is spent, so a mistake can be corrected; then the link is spent, once.
    pub async fn submit_vendor_questionnaire(
        &self,
        token: &str,
        input: AssessmentInput,
    ) -> Result<(), VendorProblem> {
        let (_, language, _) = self.vendor_link(token).await?;
        let now = self.now();
        let assessment = input
            .validate(now, AssessmentSource::VendorQuestionnaire)
            .map_err(VendorProblem::Invalid)?;
        if !assessment.evidence_files().is_empty() {
            return Err(VendorProblem::Invalid(DomainError::invalid(
                "evidence",
                "files are sent to the DPO, not through this form",
            )));
        }
        let verified = match self
            .consume_token(TokenKind::VendorQuestionnaire, token)
            .await?
        {
            Ok(verified) => verified,
            Err(problem) => return Err(VendorProblem::Link(problem)),
        };
        // Read again: the record may have changed while the vendor typed.
        let (mut record, _) = self.vendor_link_record(&verified).await?;
        record.draft = Some(AssessmentDraft {
            submitted_at: now,
            language,
            assessment,
        });
        record.used_links.insert(0, verified.nonce.clone());
        record.used_links.truncate(REMEMBERED_LINKS);
        record.returned = None;
        let vendor = Principal {
            actor: format!("vendor_link:{}", record.processor.id),
            role: Role::Agent,
        };
        let audit = self.audit_record(
            &vendor,
            "processor.questionnaire_submitted",
            format!("processor:{}", record.processor.id),
            serde_json::json!({"language": language.code()}),
        );
        self.save_processor(&record, &audit).await?;
        Ok(())
    }

    async fn vendor_link_record(
        &self,
        verified: &crate::tokens::VerifiedToken,
    ) -> Result<(ProcessorRecord, Document), VendorProblem> {
        let processor_id = verified
            .payload
            .get("processor")
            .and_then(|v| v.as_str())
            .unwrap_or_default();
        Ok(self.processor_record(processor_id).await?)
    }

    pub async fn assessment_draft(&self, id: &str) -> AppResult<DraftView> {
        let (record, _) = self.processor_record(id).await?;
        let draft = record
            .draft
            .clone()
            .ok_or_else(|| AppError::not_found("assessment draft"))?;
        let all = self.processor_records().await?;
        let preview = self.evaluation(&record, Some(&draft.assessment), &all);
        Ok(DraftView { draft, preview })
    }

    /// The vendor's answers become the current assessment, dated today.
    pub async fn accept_assessment_draft(
        &self,
        by: &Principal,
        id: &str,
    ) -> AppResult<AssessmentOutcome> {
        by.require(Permission::ManageRegisters)?;
        let (mut record, _) = self.processor_record(id).await?;
        let draft = record
            .draft
            .take()
            .ok_or_else(|| AppError::not_found("assessment draft"))?;
        let mut assessment = draft.assessment;
        assessment.assessed_at = self.now();
        self.apply_assessment(
            by,
            record,
            assessment,
            "processor.assessment_draft_accepted",
        )
        .await
    }

    /// Throws the vendor's answers away.
    pub async fn discard_assessment_draft(&self, by: &Principal, id: &str) -> AppResult<()> {
        by.require(Permission::ManageRegisters)?;
        let (mut record, _) = self.processor_record(id).await?;
        if record.draft.take().is_none() {
            return Err(AppError::not_found("assessment draft"));
        }
        let audit = self.audit_record(
            by,
            "processor.assessment_draft_discarded",
            format!("processor:{}", record.processor.id),
            serde_json::json!({}),
        );
        self.save_processor(&record, &audit).await
    }

    /// "Send the questionnaire": a link as [`Self::questionnaire_link`] gives, mailed to the
    /// processor's contact (in the link's language, the other one below) when it has one.
    /// The link is returned either way, for the DPO to pass on by hand.
    pub async fn send_questionnaire(
        &self,
        by: &Principal,
        id: &str,
        request: QuestionnaireLinkRequest,
    ) -> AppResult<QuestionnaireSent> {
        let link = self.questionnaire_link(by, id, request.clone()).await?;
        let (record, _) = self.processor_record(id).await?;
        let language = match request.language {
            Some(language) => language,
            None => self.organisation().await?.default_language,
        };
        let mailed_to = self
            .mail_questionnaire(&record, &link, language, None)
            .await?;
        Ok(QuestionnaireSent { link, mailed_to })
    }

    /// The vendor's answers go back to them with what to correct: the draft is withdrawn
    /// (nothing is accepted), a new link opens on their answers and the comment, and it is
    /// mailed to the processor's contact.
    pub async fn return_assessment_draft(
        &self,
        by: &Principal,
        id: &str,
        comment: &str,
    ) -> AppResult<QuestionnaireSent> {
        by.require(Permission::ManageRegisters)?;
        let comment = comment.trim();
        if comment.is_empty() || comment.chars().count() > 4000 {
            return Err(DomainError::invalid(
                "comment",
                "say what to correct, in at most 4000 characters",
            )
            .into());
        }
        let (mut record, _) = self.processor_record(id).await?;
        let draft = record
            .draft
            .take()
            .ok_or_else(|| AppError::not_found("assessment draft"))?;
        let language = draft.language;
        record.returned = Some(ReturnedDraft {
            returned_at: self.now(),
            comment: comment.to_string(),
            assessment: draft.assessment,
        });
        let audit = self.audit_record(
            by,
            "processor.assessment_draft_returned",
            format!("processor:{}", record.processor.id),
            serde_json::json!({"language": language.code()}),
        );
        self.save_processor(&record, &audit).await?;
        let link = self
            .questionnaire_link(
                by,
                id,
                QuestionnaireLinkRequest {
                    language: Some(language),
                },
            )
            .await?;
        let mailed_to = self
            .mail_questionnaire(&record, &link, language, Some(comment))
            .await?;
        Ok(QuestionnaireSent { link, mailed_to })
    }

    /// Mails the questionnaire link to the processor's contact, if it has one.
    async fn mail_questionnaire(
        &self,
        record: &ProcessorRecord,
        link: &QuestionnaireLink,
        language: Language,
        comment: Option<&str>,
    ) -> AppResult<Option<String>> {
        let Some(to) = record.processor.contact_email.clone() else {
            return Ok(None);
        };
        let organisation = self.organisation().await?;
        let other = match language {
            Language::Fr => Language::En,
            Language::En => Language::Fr,
        };
        let first = questionnaire_mail(
            language,
            &organisation,
            &record.processor.name,
            link,
            comment,
        );
        let second =
            questionnaire_mail(other, &organisation, &record.processor.name, link, comment);
        self.send_mail(crate::mail::Mail {
            to: to.clone(),
            subject: first.0,
            text: format!(
                "{}\n----------------------------------------\n\n{}",
                first.1, second.1
            ),
            // A vendor's language is not known: the contact reads both, theirs first.
            language,
            html: None,
            unsubscribe_url: None,
        })
        .await?;
        Ok(Some(to))
    }

    /// Puts a vendor's draft in place as if sent through a link (the demo).
    pub(crate) async fn record_draft(&self, id: Uuid, draft: AssessmentDraft) -> AppResult<()> {
        let (mut record, _) = self.processor_record(&id.to_string()).await?;
        record.draft = Some(draft);
        let audit = self.audit_record(
            &Principal::system(),
            "processor.questionnaire_submitted",
            format!("processor:{id}"),
            serde_json::json!({"demo": true}),
        );
        self.save_processor(&record, &audit).await
    }
}

/// The questionnaire mail in one language: its subject and its text.
fn questionnaire_mail(
    language: Language,
    organisation: &registre_domain::organisation::Organisation,
    processor: &str,
    link: &QuestionnaireLink,
    comment: Option<&str>,
) -> (String, String) {
    let org = &organisation.name;
    let dpo = &organisation.dpo.email;
    let url = &link.url;
    match language {
        Language::Fr => {
            let expires =
                registre_domain::words::date(link.expires_at, organisation.zone(), Language::Fr);
            let mut text = format!(
                "Bonjour,\n\n{org} vous demande, en tant que sous-traitant ({processor}), de répondre à son questionnaire de conformité (RGPD, art. 28) : délégué à la protection des données, cartographie des données, tiers destinataires, mesures de sécurité, tests.\n"
            );
            if let Some(comment) = comment {
                text.push_str(&format!(
                    "\nVos réponses précédentes vous sont renvoyées pour correction :\n{comment}\n"
                ));
            }
            text.push_str(&format!(
                "\nRépondre au questionnaire (lien personnel, valable jusqu'au {expires}, pour un seul envoi) :\n{url}\n\nUne question ? Écrivez au délégué à la protection des données : {dpo}\n\n{org}\n"
            ));
            (
                format!("{org} : questionnaire de conformité du sous-traitant {processor}"),
                text,
            )
        }
        Language::En => {
            let expires =
                registre_domain::words::date(link.expires_at, organisation.zone(), Language::En);
            let mut text = format!(
                "Hello,\n\n{org} asks you, as its processor ({processor}), to answer its compliance questionnaire (GDPR, Art. 28): data protection officer, data mapping, third-party recipients, security measures, tests.\n"
            );
            if let Some(comment) = comment {
                text.push_str(&format!(
                    "\nYour previous answers are sent back to you for correction:\n{comment}\n"
                ));
            }
            text.push_str(&format!(
                "\nAnswer the questionnaire (personal link, valid until {expires}, for one submission):\n{url}\n\nA question? Write to the data protection officer: {dpo}\n\n{org}\n"
            ));
            (
                format!("{org}: compliance questionnaire for the processor {processor}"),
                text,
            )
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn files_must_be_what_they_claim() {
        assert_eq!(
            sniff("application/pdf", b"%PDF-1.7 ...").unwrap(),
            "application/pdf"
        );
        assert_eq!(
            sniff(
                "text/plain; charset=utf-8",
                "Certificat ISO 27001".as_bytes()
            )
            .unwrap(),
            "text/plain"
        );
        assert!(sniff("application/pdf", b"MZ\x90\x00").is_err());
        assert!(sniff("application/x-msdownload", b"MZ\x90\x00").is_err());
        assert!(sniff("text/plain", b"\x00\x01").is_err());
        assert!(sniff("image/png", b"\x89PNG\r\n\x1a\nrest").is_ok());
    }

    #[test]
    fn file_names_cannot_climb_directories() {
        assert!(file_name(Some("../../etc/passwd")).is_err());
        assert!(file_name(Some(".htaccess")).is_err());
        assert_eq!(file_name(Some(" iso27001.pdf ")).unwrap(), "iso27001.pdf");
        assert_eq!(file_name(None).unwrap(), "evidence");
    }
}
