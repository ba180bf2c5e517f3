//! The processor register (questionnaire, findings, risk, evidence, the sub-processor
//! chain drawn) and the breach register (the 72-hour clock, notifications).
use super::{Choice, Done, Frame, Posted, Section, Signed, failure, render, see_other};
use crate::state::AppState;
use askama::Template;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use registre_app::processors::{QuestionnaireLinkRequest, QuestionnaireSent};
use registre_app::{BreachView, ChainNode, EvidenceView, ProcessorView};
use registre_domain::breach::{BreachInput, NotificationInput};
use registre_domain::processor::{
    Assessment, Finding, MEASURES, Processor, ProcessorInput, TEST_KINDS, choice_label,
};
use registre_domain::role::Permission;
use std::fmt::Write;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/console/processors",
            get(processors).post(create_processor),
        )
        .route("/console/processors/{id}", get(processor))
        .route(
            "/console/processors/{id}/edit",
            get(edit_processor_page).post(edit_processor),
        )
        .route("/console/processors/{id}/return-draft", post(return_draft))
        .route(
            "/console/processors/{id}/questionnaire-link",
            post(questionnaire_link),
        )
        .route("/console/processors/{id}/accept-draft", post(accept_draft))
        .route("/console/breaches", get(breaches).post(create_breach))
        .route("/console/breaches/new", get(new_breach))
        .route("/console/breaches/{id}", get(breach))
        .route(
            "/console/breaches/{id}/edit",
            get(edit_breach_page).post(edit_breach),
        )
        .route(
            "/console/breaches/{id}/notifications",
            post(log_notification),
        )
}

/// Escapes text for HTML built in Rust (the chain tree).
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            other => out.push(other),
        }
    }
    out
}

// ---- processors ----

/// A box of a list of choices from a register (purposes, data categories, natures).
pub struct Check {
    pub value: String,
    pub label: String,
    pub checked: bool,
}

/// The processor form, empty for a new entry or filled with an entry to edit.
pub struct ProcessorForm {
    pub action: String,
    pub submit: &'static str,
    pub name: String,
    pub country: String,
    pub dpa_signed_on: String,
    pub dpa_reference: String,
    pub contact_email: String,
    pub subprocessors: String,
    pub services: Vec<Choice>,
    pub roles: Vec<Choice>,
    pub transfers: Vec<Choice>,
    pub purposes: Vec<Check>,
    pub categories: Vec<Check>,
}

/// The services offered in the form; an entry's own service, if another, is kept.
const SERVICES: [&str; 10] = [
    "emailing",
    "crm",
    "cms",
    "hosting",
    "cms_hosting",
    "helpdesk",
    "analytics",
    "payment",
    "advertising",
    "other",
];

const ROLES: [&str; 5] = [
    "processor",
    "subprocessor",
    "third_party_tool",
    "joint_controller",
    "independent_controller",
];

async fn processor_form(
    state: &AppState,
    frame: &Frame,
    existing: Option<&Processor>,
) -> ProcessorForm {
    let t = frame.t;
    let language = t.language();
    let service = existing.map(|p| p.service.clone()).unwrap_or_default();
    let mut services: Vec<Choice> = SERVICES
        .iter()
        .map(|s| Choice {
            value: (*s).into(),
            label: t.service_label(s),
            selected: *s == service,
        })
        .collect();
    if !service.is_empty() && !SERVICES.contains(&service.as_str()) {
        services.insert(
            0,
            Choice {
                label: t.service_label(&service),
                value: service.clone(),
                selected: true,
            },
        );
    }
    let role = existing.map(|p| p.role.as_str()).unwrap_or("processor");
    let transfer = existing
        .and_then(|p| p.transfer_mechanism)
        .map(|m| super::code(&m))
        .unwrap_or_default();
    let mut transfers = vec![Choice {
        value: String::new(),
        label: t.transfer_none.into(),
        selected: transfer.is_empty(),
    }];
    transfers.extend(["adequacy", "scc", "bcr"].iter().map(|m| Choice {
        value: (*m).into(),
        label: t.safeguard(m).into(),
        selected: *m == transfer,
    }));
    let chosen_purposes = existing.map(|p| p.purposes.clone()).unwrap_or_default();
    let chosen_categories = existing
        .map(|p| p.data_categories.clone())
        .unwrap_or_default();
    let purposes = state
        .app
        .purposes()
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|p| Check {
            checked: chosen_purposes.iter().any(|k| k == p.key.as_str()),
            label: p.title.get(language).to_string(),
            value: p.key.to_string(),
        })
        .collect();
    let categories = state
        .app
        .data_categories()
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|c| Check {
            checked: chosen_categories.contains(&c.key),
            label: c.label.get(language).to_string(),
            value: c.key,
        })
        .collect();
    ProcessorForm {
        action: existing
            .map(|p| format!("/console/processors/{}/edit", p.id))
            .unwrap_or_else(|| "/console/processors".into()),
        submit: if existing.is_some() { t.save } else { t.add },
        name: existing.map(|p| p.name.clone()).unwrap_or_default(),
        country: existing.map(|p| p.country.clone()).unwrap_or_default(),
        dpa_signed_on: existing
            .and_then(|p| p.dpa_signed_on)
            .map(|d| d.format("%Y-%m-%d").to_string())
            .unwrap_or_default(),
        dpa_reference: existing
            .and_then(|p| p.dpa_reference.clone())
            .unwrap_or_default(),
        contact_email: existing
            .and_then(|p| p.contact_email.clone())
            .unwrap_or_default(),
        subprocessors: existing
            .map(|p| p.subprocessors.join(", "))
            .unwrap_or_default(),
        services,
        roles: ROLES
            .iter()
            .map(|r| Choice {
                value: (*r).into(),
                label: t.processor_role(r).into(),
                selected: *r == role,
            })
            .collect(),
        transfers,
        purposes,
        categories,
    }
}

/// The posted processor form as the API's body.
fn processor_input(form: &Posted) -> Result<ProcessorInput, String> {
    let subprocessors: Vec<String> = form
        .get("subprocessors")
        .split([',', '\n'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    let optional = |name: &str| Some(form.get(name)).filter(|s| !s.is_empty());
    let role = optional("role").unwrap_or_else(|| "processor".into());
    let body = serde_json::json!({
        "name": form.get("name"),
        "service": form.get("service"),
        "role": role,
        "country": form.get("country").to_uppercase(),
        "transfer_mechanism": optional("transfer_mechanism"),
        "dpa_signed_on": optional("dpa_signed_on"),
        "dpa_reference": optional("dpa_reference"),
        "contact_email": optional("contact_email"),
        "purposes": form.all("purposes"),
        "data_categories": form.all("data_categories"),
        "subprocessors": subprocessors,
    });
    serde_json::from_value(body).map_err(|e| e.to_string())
}

/// A processor as the list and page show it: its service, country and safeguard in words.
pub struct ProcessorRow {
    pub p: ProcessorView,
    pub service: String,
    pub country: String,
}

fn processor_row(frame: &Frame, p: ProcessorView) -> ProcessorRow {
    let mut country = p.processor.country.clone();
    if let Some(m) = p.processor.transfer_mechanism {
        country.push_str(" · ");
        country.push_str(frame.t.safeguard(&super::code(&m)));
    }
    ProcessorRow {
        service: frame.t.service_label(&p.processor.service),
        country,
        p,
    }
}

#[derive(Template)]
#[template(path = "console/processors.html")]
struct ProcessorsPage {
    frame: Frame,
    items: Vec<ProcessorRow>,
    form: ProcessorForm,
}

async fn processors(
    State(state): State<AppState>,
    signed: Signed,
    Query(done): Query<Done>,
) -> Response {
    let t = signed.t();
    let mut items = match state.app.processors().await {
        Ok(items) => items,
        Err(error) => return failure(&signed, error),
    };
    items.sort_by_key(|p| p.review_due_on);
    let frame = signed
        .page(
            &state.app,
            Section::Processors,
            t.processors_title,
            done.done.as_deref(),
        )
        .await;
    let form = processor_form(&state, &frame, None).await;
    let items = items
        .into_iter()
        .map(|p| processor_row(&frame, p))
        .collect();
    render(StatusCode::OK, &ProcessorsPage { frame, items, form })
}

async fn create_processor(State(state): State<AppState>, signed: Signed, body: Bytes) -> Response {
    let form = match Posted::check(&state.app, &signed, &body) {
        Ok(form) => form,
        Err(response) => return *response,
    };
    let input = match processor_input(&form) {
        Ok(input) => input,
        Err(error) => {
            return super::problem_page(&signed, StatusCode::UNPROCESSABLE_ENTITY, error);
        }
    };
    match state.app.create_processor(&signed.0.principal, input).await {
        Ok(view) => see_other(&format!(
            "/console/processors/{}?done=created",
            view.processor.id
        )),
        Err(error) => failure(&signed, error),
    }
}

#[derive(Template)]
#[template(path = "console/processor_edit.html")]
struct ProcessorEditPage {
    frame: Frame,
    p: ProcessorView,
    form: ProcessorForm,
}

async fn edit_processor_page(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
) -> Response {
    if let Err(error) = signed.0.principal.require(Permission::ManageRegisters) {
        return failure(&signed, error);
    }
    let p = match state.app.processor(&id).await {
        Ok(p) => p,
        Err(error) => return failure(&signed, error),
    };
    let frame = signed
        .page(
            &state.app,
            Section::Processors,
            format!("{} · {}", signed.t().edit, p.processor.name),
            None,
        )
        .await;
    let form = processor_form(&state, &frame, Some(&p.processor)).await;
    render(StatusCode::OK, &ProcessorEditPage { frame, p, form })
}

async fn edit_processor(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let form = match Posted::check(&state.app, &signed, &body) {
        Ok(form) => form,
        Err(response) => return *response,
    };
    let input = match processor_input(&form) {
        Ok(input) => input,
        Err(error) => {
            return super::problem_page(&signed, StatusCode::UNPROCESSABLE_ENTITY, error);
        }
    };
    match state
        .app
        .update_processor(&signed.0.principal, &id, input)
        .await
    {
        Ok(view) => see_other(&format!(
            "/console/processors/{}?done=saved",
            view.processor.id
        )),
        Err(error) => failure(&signed, error),
    }
}

pub struct Answer {
    pub question: &'static str,
    pub answer: String,
}

/// A finding in the reader's language.
pub struct FindingRow {
    pub severity: String,
    pub message: String,
}

fn finding_rows(frame: &Frame, findings: &[Finding]) -> Vec<FindingRow> {
    findings
        .iter()
        .map(|f| FindingRow {
            severity: super::code(&f.severity),
            message: if frame.t.is_fr() {
                f.message_fr.clone()
            } else {
                f.message.clone()
            },
        })
        .collect()
}

/// The vendor's answers waiting for the DPO, and what accepting them would give.
pub struct DraftPanel {
    pub submitted_at: String,
    pub answers: Vec<Answer>,
    pub status: String,
    pub risk: String,
    pub findings: Vec<FindingRow>,
}

/// What "send the questionnaire" just did.
pub struct SentPanel {
    pub url: String,
    pub expires: String,
    pub mailed_to: Option<String>,
    pub returned: bool,
}

#[derive(Template)]
#[template(path = "console/processor.html")]
struct ProcessorPage {
    frame: Frame,
    row: ProcessorRow,
    answers: Vec<Answer>,
    findings: Vec<FindingRow>,
    draft: Option<DraftPanel>,
    evidence: Vec<EvidenceView>,
    chain: String,
    purposes: String,
    categories: String,
    sent: Option<SentPanel>,
}

fn yes_no(frame: &Frame, value: bool) -> String {
    if value { frame.t.yes } else { frame.t.no }.to_string()
}

fn labels(
    options: &[(&'static str, &'static str, &'static str)],
    values: &[String],
    frame: &Frame,
) -> String {
    values
        .iter()
        .map(|v| choice_label(options, v, frame.t.language()))
        .collect::<Vec<_>>()
        .join(", ")
}

fn answers(frame: &Frame, assessment: Option<&Assessment>) -> Vec<Answer> {
    let q = crate::vendor::texts(frame.t.language());
    let Some(a) = assessment else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let join = |parts: Vec<String>| {
        parts
            .into_iter()
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(" · ")
    };
    if let Some(d) = &a.dpo {
        out.push(Answer {
            question: q.dpo_question,
            answer: join(vec![
                yes_no(frame, d.appointed),
                d.name.clone().unwrap_or_default(),
                d.email.clone().unwrap_or_default(),
            ]),
        });
    }
    if let Some(m) = &a.data_mapping {
        out.push(Answer {
            question: q.mapping_question,
            answer: join(vec![
                yes_no(frame, m.complete),
                m.last_updated_on.map(|d| frame.day(d)).unwrap_or_default(),
            ]),
        });
    }
    if let Some(tp) = &a.third_parties {
        out.push(Answer {
            question: q.third_question,
            answer: join(vec![
                yes_no(frame, tp.shares_data),
                tp.recipients.join(", "),
                tp.controls.clone().unwrap_or_default(),
            ]),
        });
    }
    if let Some(pr) = &a.protection {
        out.push(Answer {
            question: q.measures_question,
            answer: labels(&MEASURES, &pr.measures, frame),
        });
        out.push(Answer {
            question: q.incident_question,
            answer: join(vec![
                yes_no(frame, pr.incident_procedure),
                pr.breach_notification_hours
                    .map(|h| format!("{h} h"))
                    .unwrap_or_default(),
            ]),
        });
    }
    if let Some(st) = &a.security_tests {
        out.push(Answer {
            question: q.tests_question,
            answer: join(vec![
                yes_no(frame, st.performed),
                labels(&TEST_KINDS, &st.kinds, frame),
                st.last_on.map(|d| frame.day(d)).unwrap_or_default(),
            ]),
        });
    }
    out
}

/// The chain as nested lists the stylesheet draws as a tree.
fn chain_html(frame: &Frame, node: &ChainNode, out: &mut String) {
    out.push_str("<li><span class=\"node");
    if !node.registered {
        out.push_str(" node--unknown");
    }
    if node.outside_eea == Some(true) {
        out.push_str(" node--outside");
    }
    out.push_str("\">");
    match node.id {
        Some(id) => {
            let _ = write!(
                out,
                "<a href=\"/console/processors/{id}\">{}</a>",
                escape(&node.name)
            );
        }
        None => out.push_str(&escape(&node.name)),
    }
    if let Some(country) = &node.country {
        let _ = write!(out, " <span class=\"muted\">{}</span>", escape(country));
    }
    if let Some(status) = node.status {
        let code = super::code(&status);
        let _ = write!(
            out,
            " <span class=\"tag tag--{code}\">{}</span>",
            frame.t.processor_status(&code)
        );
    }
    if node.cycle {
        out.push_str(" ↺");
    }
    out.push_str("</span>");
    if !node.subprocessors.is_empty() {
        out.push_str("<ul>");
        for sub in &node.subprocessors {
            chain_html(frame, sub, out);
        }
        out.push_str("</ul>");
    }
    out.push_str("</li>");
}

async fn processor_page(
    state: &AppState,
    signed: &Signed,
    id: &str,
    done: Option<&str>,
    sent: Option<SentPanel>,
) -> Response {
    let p = match state.app.processor(id).await {
        Ok(p) => p,
        Err(error) => return failure(signed, error),
    };
    let evidence = state.app.evidence_files(id).await.unwrap_or_default();
    let frame = signed
        .page(
            &state.app,
            Section::Processors,
            p.processor.name.clone(),
            done,
        )
        .await;
    let mut chain = String::from("<ul class=\"tree\">");
    if let Ok(node) = state.app.processor_chain(id).await {
        chain_html(&frame, &node, &mut chain);
    }
    chain.push_str("</ul>");
    let draft = if p.draft_pending {
        match state.app.assessment_draft(id).await {
            Ok(view) => Some(DraftPanel {
                submitted_at: frame.dt(view.draft.submitted_at),
                answers: answers(&frame, Some(&view.draft.assessment)),
                status: super::code(&view.preview.status),
                risk: super::code(&view.preview.risk),
                findings: finding_rows(&frame, &view.preview.findings),
            }),
            Err(error) => return failure(signed, error),
        }
    } else {
        None
    };
    let language = frame.t.language();
    let purpose_titles = state.app.purposes().await.unwrap_or_default();
    let purposes = p
        .processor
        .purposes
        .iter()
        .map(|key| {
            purpose_titles
                .iter()
                .find(|x| x.key.as_str() == key)
                .map(|x| x.title.get(language).to_string())
                .unwrap_or_else(|| key.clone())
        })
        .collect::<Vec<_>>()
        .join(", ");
    let category_labels = state.app.data_categories().await.unwrap_or_default();
    let categories = p
        .processor
        .data_categories
        .iter()
        .map(|key| {
            category_labels
                .iter()
                .find(|c| &c.key == key)
                .map(|c| c.label.get(language).to_string())
                .unwrap_or_else(|| key.clone())
        })
        .collect::<Vec<_>>()
        .join(", ");
    let page = ProcessorPage {
        answers: answers(&frame, p.assessment.as_ref()),
        findings: finding_rows(&frame, &p.findings),
        draft,
        evidence,
        chain,
        purposes,
        categories,
        sent,
        row: processor_row(&frame, p),
        frame,
    };
    render(StatusCode::OK, &page)
}

async fn processor(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
    Query(done): Query<Done>,
) -> Response {
    processor_page(&state, &signed, &id, done.done.as_deref(), None).await
}

fn sent_panel(
    state: &AppState,
    signed: &Signed,
    sent: QuestionnaireSent,
    returned: bool,
) -> SentPanel {
    let frame = signed.frame(&state.app, Section::Processors, "");
    SentPanel {
        expires: frame.dt(sent.link.expires_at),
        url: sent.link.url,
        mailed_to: sent.mailed_to,
        returned,
    }
}

async fn questionnaire_link(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let form = match Posted::check(&state.app, &signed, &body) {
        Ok(form) => form,
        Err(response) => return *response,
    };
    let request = QuestionnaireLinkRequest {
        language: registre_domain::Language::parse(&form.get("language")),
    };
    match state
        .app
        .send_questionnaire(&signed.0.principal, &id, request)
        .await
    {
        Ok(sent) => {
            let panel = sent_panel(&state, &signed, sent, false);
            processor_page(&state, &signed, &id, None, Some(panel)).await
        }
        Err(error) => failure(&signed, error),
    }
}

async fn accept_draft(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    if let Err(response) = Posted::check(&state.app, &signed, &body) {
        return *response;
    }
    match state
        .app
        .accept_assessment_draft(&signed.0.principal, &id)
        .await
    {
        Ok(_) => see_other(&format!("/console/processors/{id}?done=accepted")),
        Err(error) => failure(&signed, error),
    }
}

async fn return_draft(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let form = match Posted::check(&state.app, &signed, &body) {
        Ok(form) => form,
        Err(response) => return *response,
    };
    match state
        .app
        .return_assessment_draft(&signed.0.principal, &id, &form.get("comment"))
        .await
    {
        Ok(sent) => {
            let panel = sent_panel(&state, &signed, sent, true);
            processor_page(&state, &signed, &id, None, Some(panel)).await
        }
        Err(error) => failure(&signed, error),
    }
}

// ---- breaches ----

#[derive(Template)]
#[template(path = "console/breaches.html")]
struct BreachesPage {
    frame: Frame,
    items: Vec<BreachView>,
    now: chrono::DateTime<chrono::Utc>,
}

impl BreachesPage {
    fn hours_left(&self, b: &BreachView) -> String {
        self.frame
            .t
            .hours_left_text((b.notify_authority_by - self.now).num_hours())
    }
}

async fn breaches(
    State(state): State<AppState>,
    signed: Signed,
    Query(done): Query<Done>,
) -> Response {
    let t = signed.t();
    let items = match state.app.breaches().await {
        Ok(items) => items,
        Err(error) => return failure(&signed, error),
    };
    let frame = signed
        .page(
            &state.app,
            Section::Breaches,
            t.breaches_title,
            done.done.as_deref(),
        )
        .await;
    render(
        StatusCode::OK,
        &BreachesPage {
            frame,
            items,
            now: state.app.now(),
        },
    )
}

/// The breach form, empty for a new breach or filled with one to edit.
pub struct BreachForm {
    pub action: String,
    pub heading: &'static str,
    pub submit: &'static str,
    pub aware_at: String,
    pub occurred_at: String,
    pub description: String,
    pub subjects_affected: i64,
    pub records_affected: i64,
    pub likely_consequences: String,
    pub measures: String,
    pub natures: Vec<Check>,
    pub categories: Vec<Check>,
    pub risks: Vec<Choice>,
    pub processors: Vec<Choice>,
}

#[derive(Template)]
#[template(path = "console/breach_new.html")]
struct BreachFormPage {
    frame: Frame,
    form: BreachForm,
}

/// An instant as a `datetime-local` value in the user's time zone.
fn local_value(at: chrono::DateTime<chrono::Utc>, zone: chrono_tz::Tz) -> String {
    at.with_timezone(&zone).format("%Y-%m-%dT%H:%M").to_string()
}

async fn breach_form(state: &AppState, frame: &Frame, existing: Option<&BreachView>) -> BreachForm {
    let t = frame.t;
    let language = t.language();
    let b = existing.map(|v| &v.breach);
    let chosen = b.map(|b| b.data_categories.clone()).unwrap_or_default();
    let categories = state
        .app
        .data_categories()
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|c| Check {
            checked: chosen.contains(&c.key),
            label: c.label.get(language).to_string(),
            value: c.key,
        })
        .collect();
    let natures = b.map(|b| b.nature.clone()).unwrap_or_default();
    let natures = ["confidentiality", "integrity", "availability"]
        .iter()
        .map(|n| Check {
            value: (*n).into(),
            label: t.breach_nature(n).into(),
            checked: natures.iter().any(|x| super::code(x) == *n),
        })
        .collect();
    let risk = b
        .map(|b| super::code(&b.risk))
        .unwrap_or_else(|| "risk".into());
    let risks = ["unlikely", "risk", "high"]
        .iter()
        .map(|r| Choice {
            value: (*r).into(),
            label: t.risk(r).into(),
            selected: *r == risk,
        })
        .collect();
    let processor_id = b.and_then(|b| b.processor_id);
    let mut processors = vec![Choice {
        value: String::new(),
        label: t.no_processor.into(),
        selected: processor_id.is_none(),
    }];
    processors.extend(
        state
            .app
            .processors()
            .await
            .unwrap_or_default()
            .into_iter()
            .map(|p| Choice {
                selected: Some(p.processor.id) == processor_id,
                label: p.processor.name.clone(),
                value: p.processor.name,
            }),
    );
    let zone = frame.zone;
    BreachForm {
        action: b
            .map(|b| format!("/console/breaches/{}/edit", b.id))
            .unwrap_or_else(|| "/console/breaches".into()),
        heading: if b.is_some() {
            t.edit_breach
        } else {
            t.new_breach
        },
        submit: if b.is_some() { t.save } else { t.record },
        aware_at: local_value(b.map(|b| b.aware_at).unwrap_or(state.app.now()), zone),
        occurred_at: b
            .and_then(|b| b.occurred_at)
            .map(|at| local_value(at, zone))
            .unwrap_or_default(),
        description: b.map(|b| b.description.clone()).unwrap_or_default(),
        subjects_affected: b.map(|b| b.subjects_affected).unwrap_or(0),
        records_affected: b.map(|b| b.records_affected).unwrap_or(0),
        likely_consequences: b.map(|b| b.likely_consequences.clone()).unwrap_or_default(),
        measures: b.map(|b| b.measures.clone()).unwrap_or_default(),
        natures,
        categories,
        risks,
        processors,
    }
}

async fn new_breach(State(state): State<AppState>, signed: Signed) -> Response {
    let t = signed.t();
    let frame = signed
        .page(&state.app, Section::Breaches, t.new_breach, None)
        .await;
    let form = breach_form(&state, &frame, None).await;
    render(StatusCode::OK, &BreachFormPage { frame, form })
}

async fn edit_breach_page(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
) -> Response {
    if let Err(error) = signed.0.principal.require(Permission::ManageRegisters) {
        return failure(&signed, error);
    }
    let b = match state.app.breach(&id).await {
        Ok(b) => b,
        Err(error) => return failure(&signed, error),
    };
    let t = signed.t();
    let frame = signed
        .page(&state.app, Section::Breaches, t.edit_breach, None)
        .await;
    let form = breach_form(&state, &frame, Some(&b)).await;
    render(StatusCode::OK, &BreachFormPage { frame, form })
}

/// A `datetime-local` value read in the user's time zone.
fn local_instant(raw: &str, zone: chrono_tz::Tz) -> Option<chrono::DateTime<chrono::Utc>> {
    use chrono::TimeZone;
    let naive = chrono::NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M")
        .or_else(|_| chrono::NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M:%S"))
        .ok()?;
    zone.from_local_datetime(&naive)
        .earliest()
        .map(|at| at.with_timezone(&chrono::Utc))
}

/// The posted breach form as the API's body; the error is the message to show.
fn breach_input(form: &Posted, signed: &Signed) -> Result<BreachInput, String> {
    let t = signed.t();
    let zone = signed.0.time_zone;
    let Some(aware_at) = local_instant(&form.get("aware_at"), zone) else {
        return Err(format!("{} : {}", t.aware_at, t.invalid_date));
    };
    let occurred = form.get("occurred_at");
    let occurred_at = if occurred.is_empty() {
        None
    } else {
        match local_instant(&occurred, zone) {
            Some(at) => Some(at),
            None => return Err(format!("{} : {}", t.occurred_at, t.invalid_date)),
        }
    };
    let number = |name: &str| form.get(name).parse::<i64>().unwrap_or(-1);
    let processor = Some(form.get("processor")).filter(|s| !s.is_empty());
    let body = serde_json::json!({
        "aware_at": aware_at,
        "occurred_at": occurred_at,
        "description": form.get("description"),
        "nature": form.all("nature"),
        "data_categories": form.all("data_categories"),
        "subjects_affected": number("subjects_affected"),
        "records_affected": number("records_affected"),
        "likely_consequences": form.get("likely_consequences"),
        "measures": form.get("measures"),
        "risk": form.get("risk"),
        "processor": processor,
    });
    serde_json::from_value(body).map_err(|e| e.to_string())
}

async fn create_breach(State(state): State<AppState>, signed: Signed, body: Bytes) -> Response {
    let form = match Posted::check(&state.app, &signed, &body) {
        Ok(form) => form,
        Err(response) => return *response,
    };
    let input = match breach_input(&form, &signed) {
        Ok(input) => input,
        Err(message) => {
            return super::problem_page(&signed, StatusCode::UNPROCESSABLE_ENTITY, message);
        }
    };
    match state.app.create_breach(&signed.0.principal, input).await {
        Ok(view) => see_other(&format!(
            "/console/breaches/{}?done=created",
            view.breach.id
        )),
        Err(error) => failure(&signed, error),
    }
}

async fn edit_breach(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let form = match Posted::check(&state.app, &signed, &body) {
        Ok(form) => form,
        Err(response) => return *response,
    };
    let input = match breach_input(&form, &signed) {
        Ok(input) => input,
        Err(message) => {
            return super::problem_page(&signed, StatusCode::UNPROCESSABLE_ENTITY, message);
        }
    };
    match state
        .app
        .update_breach(&signed.0.principal, &id, input)
        .await
    {
        Ok(view) => see_other(&format!("/console/breaches/{}?done=saved", view.breach.id)),
        Err(error) => failure(&signed, error),
    }
}

#[derive(Template)]
#[template(path = "console/breach.html")]
struct BreachPage {
    frame: Frame,
    b: BreachView,
    hours_left: String,
    text: String,
    categories: String,
}

async fn breach(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
    Query(done): Query<Done>,
) -> Response {
    let t = signed.t();
    let language = t.language();
    let b = match state.app.breach(&id).await {
        Ok(b) => b,
        Err(error) => return failure(&signed, error),
    };
    let labels = state.app.data_categories().await.unwrap_or_default();
    let categories = b
        .breach
        .data_categories
        .iter()
        .map(|key| {
            labels
                .iter()
                .find(|c| &c.key == key)
                .map(|c| c.label.get(language).to_string())
                .unwrap_or_else(|| key.clone())
        })
        .collect::<Vec<_>>()
        .join(", ");
    let frame = signed
        .page(
            &state.app,
            Section::Breaches,
            t.breaches_title,
            done.done.as_deref(),
        )
        .await;
    let page = BreachPage {
        hours_left: t.hours_left_text((b.notify_authority_by - state.app.now()).num_hours()),
        text: b.notification_text.get(language).to_string(),
        categories,
        b,
        frame,
    };
    render(StatusCode::OK, &page)
}

async fn log_notification(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let form = match Posted::check(&state.app, &signed, &body) {
        Ok(form) => form,
        Err(response) => return *response,
    };
    let optional = |name: &str| Some(form.get(name)).filter(|s| !s.is_empty());
    let body = serde_json::json!({
        "recipient": form.get("recipient"),
        "channel": optional("channel"),
        "reference": optional("reference"),
        "reason_for_delay": optional("reason_for_delay"),
    });
    let input: NotificationInput = match serde_json::from_value(body) {
        Ok(input) => input,
        Err(error) => {
            return super::problem_page(
                &signed,
                StatusCode::UNPROCESSABLE_ENTITY,
                error.to_string(),
            );
        }
    };
    match state
        .app
        .log_breach_notification(&signed.0.principal, &id, input)
        .await
    {
        Ok(_) => see_other(&format!("/console/breaches/{id}?done=notified")),
        Err(error) => failure(&signed, error),
    }
}
