//! The processor register (questionnaire, findings, risk, evidence, the sub-processor
//! chain drawn) and the breach register (the 72-hour clock, notifications).
use super::{Done, Frame, Posted, Section, Signed, failure, render, see_other};
use crate::state::AppState;
use askama::Template;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use registre_app::processors::QuestionnaireLinkRequest;
use registre_app::{BreachView, ChainNode, EvidenceView, ProcessorView};
use registre_domain::breach::{BreachInput, NotificationInput};
use registre_domain::processor::{MEASURES, TEST_KINDS, choice_label};
use std::fmt::Write;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/console/processors",
            get(processors).post(create_processor),
        )
        .route("/console/processors/{id}", get(processor))
        .route(
            "/console/processors/{id}/questionnaire-link",
            post(questionnaire_link),
        )
        .route("/console/processors/{id}/accept-draft", post(accept_draft))
        .route("/console/breaches", get(breaches).post(create_breach))
        .route("/console/breaches/new", get(new_breach))
        .route("/console/breaches/{id}", get(breach))
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

#[derive(Template)]
#[template(path = "console/processors.html")]
struct ProcessorsPage {
    frame: Frame,
    items: Vec<ProcessorView>,
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
    render(StatusCode::OK, &ProcessorsPage { frame, items })
}

async fn create_processor(State(state): State<AppState>, signed: Signed, body: Bytes) -> Response {
    let form = match Posted::check(&state.app, &signed, &body) {
        Ok(form) => form,
        Err(response) => return *response,
    };
    let lines = |name: &str| -> Vec<String> {
        form.get(name)
            .split([',', '\n'])
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect()
    };
    let dpa = form.get("dpa_signed_on");
    let body = serde_json::json!({
        "name": form.get("name"),
        "service": form.get("service"),
        "role": "processor",
        "country": form.get("country").to_uppercase(),
        "transfer_mechanism": Some(form.get("transfer_mechanism")).filter(|s| !s.is_empty()),
        "dpa_signed_on": Some(dpa).filter(|s| !s.is_empty()),
        "purposes": form.all("purposes"),
        "data_categories": form.all("data_categories"),
        "subprocessors": lines("subprocessors"),
    });
    let input = match serde_json::from_value(body) {
        Ok(input) => input,
        Err(error) => {
            return super::problem_page(
                &signed,
                StatusCode::UNPROCESSABLE_ENTITY,
                error.to_string(),
            );
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

pub struct Answer {
    pub question: &'static str,
    pub answer: String,
}

#[derive(Template)]
#[template(path = "console/processor.html")]
struct ProcessorPage {
    frame: Frame,
    p: ProcessorView,
    answers: Vec<Answer>,
    evidence: Vec<EvidenceView>,
    chain: String,
    link: Option<(String, String)>,
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

fn answers(frame: &Frame, p: &ProcessorView) -> Vec<Answer> {
    let q = crate::vendor::texts(frame.t.language());
    let Some(a) = &p.assessment else {
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
    link: Option<(String, String)>,
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
    let page = ProcessorPage {
        answers: answers(&frame, &p),
        evidence,
        chain,
        link,
        p,
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
        .questionnaire_link(&signed.0.principal, &id, request)
        .await
    {
        Ok(link) => {
            let frame = signed.frame(&state.app, Section::Processors, "");
            let expires = frame.dt(link.expires_at);
            processor_page(&state, &signed, &id, None, Some((link.url, expires))).await
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

pub struct CategoryChoice {
    pub key: String,
    pub label: String,
}

#[derive(Template)]
#[template(path = "console/breach_new.html")]
struct NewBreachPage {
    frame: Frame,
    categories: Vec<CategoryChoice>,
    now_local: String,
}

async fn new_breach(State(state): State<AppState>, signed: Signed) -> Response {
    let t = signed.t();
    let language = t.language();
    let categories = state
        .app
        .data_categories()
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|c| CategoryChoice {
            label: c.label.get(language).to_string(),
            key: c.key,
        })
        .collect();
    let frame = signed
        .page(&state.app, Section::Breaches, t.new_breach, None)
        .await;
    let now_local = state
        .app
        .now()
        .with_timezone(&frame.zone)
        .format("%Y-%m-%dT%H:%M")
        .to_string();
    render(
        StatusCode::OK,
        &NewBreachPage {
            frame,
            categories,
            now_local,
        },
    )
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

async fn create_breach(State(state): State<AppState>, signed: Signed, body: Bytes) -> Response {
    let form = match Posted::check(&state.app, &signed, &body) {
        Ok(form) => form,
        Err(response) => return *response,
    };
    let t = signed.t();
    let Some(aware_at) = local_instant(&form.get("aware_at"), signed.0.time_zone) else {
        return super::problem_page(
            &signed,
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("{}: ?", t.aware_at),
        );
    };
    let number = |name: &str| form.get(name).parse::<i64>().unwrap_or(-1);
    let body = serde_json::json!({
        "aware_at": aware_at,
        "description": form.get("description"),
        "data_categories": form.all("data_categories"),
        "subjects_affected": number("subjects_affected"),
        "records_affected": number("records_affected"),
        "likely_consequences": form.get("likely_consequences"),
        "measures": form.get("measures"),
        "risk": form.get("risk"),
    });
    let input: BreachInput = match serde_json::from_value(body) {
        Ok(input) => input,
        Err(error) => {
            return super::problem_page(
                &signed,
                StatusCode::UNPROCESSABLE_ENTITY,
                error.to_string(),
            );
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
