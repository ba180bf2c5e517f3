//! Pages about people: the queue of rights requests with each one's timeline and actions,
//! and the consents of one person found by email through the blind index.
use super::{Done, Frame, Posted, Section, Signed, failure, render, see_other};
use crate::state::AppState;
use askama::Template;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use registre_app::requests::Corrections;
use registre_app::{
    ConsentRequest, FulfilInput, NewRequest, RequestView, SubjectConsents, SubjectRef,
};
use registre_domain::request::RequestType;
use serde::Deserialize;
use std::collections::HashMap;
use uuid::Uuid;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/console/requests", get(requests).post(create_request))
        .route("/console/requests/{id}", get(request))
        .route("/console/requests/{id}/{action}", post(request_action))
        .route(
            "/console/consents",
            get(consents_page).post(consents_search),
        )
        .route("/console/consents/record", post(record_consent))
        .route("/console/consents/receipts/{event_id}", get(receipt))
}

// ---- requests ----

pub struct StatusFilter {
    pub value: &'static str,
    pub label: &'static str,
    pub current: bool,
}

/// A due-date filter: all, overdue, due within 7 days.
pub struct DueFilter {
    pub href: String,
    pub label: &'static str,
    pub current: bool,
}

#[derive(Template)]
#[template(path = "console/requests.html")]
struct RequestsPage {
    frame: Frame,
    items: Vec<RequestView>,
    filters: Vec<StatusFilter>,
    due_filters: Vec<DueFilter>,
    /// `&due=...` to keep when the status filter changes.
    due_query: String,
    types: Vec<(&'static str, &'static str)>,
    now: chrono::DateTime<chrono::Utc>,
}

impl RequestsPage {
    fn days_left(&self, r: &RequestView) -> String {
        self.frame
            .t
            .days_left_text((r.due_at - self.now).num_hours().div_euclid(24))
    }
}

#[derive(Deserialize, Default)]
struct RequestsQuery {
    status: Option<String>,
    /// `overdue` or `soon` (due within 7 days).
    due: Option<String>,
    done: Option<String>,
}

const STATUSES: [&str; 5] = [
    "received",
    "verified",
    "in_progress",
    "completed",
    "refused",
];

async fn requests(
    State(state): State<AppState>,
    signed: Signed,
    Query(query): Query<RequestsQuery>,
) -> Response {
    let t = signed.t();
    let status = query.status.as_deref().filter(|s| STATUSES.contains(s));
    let page = match state
        .app
        .list_requests(&signed.0.principal, status, None, Some(500))
        .await
    {
        Ok(page) => page,
        Err(error) => return failure(&signed, error),
    };
    let due = query
        .due
        .as_deref()
        .filter(|d| ["overdue", "soon"].contains(d));
    let mut items = page.items;
    match due {
        Some("overdue") => items.retain(|r| r.overdue),
        Some(_) => items.retain(|r| r.due_soon),
        None => {}
    }
    let status_query = status.map(|s| format!("status={s}&")).unwrap_or_default();
    let due_filters = [
        (None, t.all_deadlines),
        (Some("overdue"), t.overdue),
        (Some("soon"), t.due_within_week),
    ]
    .into_iter()
    .map(|(value, label)| DueFilter {
        href: match value {
            Some(value) => format!("/console/requests?{status_query}due={value}"),
            None => format!("/console/requests?{status_query}")
                .trim_end_matches(['?', '&'])
                .to_string(),
        },
        label,
        current: due == value,
    })
    .collect();
    let mut filters = vec![StatusFilter {
        value: "",
        label: t.all,
        current: status.is_none(),
    }];
    filters.extend(STATUSES.iter().map(|s| StatusFilter {
        value: s,
        label: t.request_status(s),
        current: status == Some(*s),
    }));
    let frame = signed
        .page(
            &state.app,
            Section::Requests,
            t.requests_title,
            query.done.as_deref(),
        )
        .await;
    let page = RequestsPage {
        items,
        filters,
        due_filters,
        due_query: due.map(|d| format!("due={d}")).unwrap_or_default(),
        types: RequestType::ALL
            .iter()
            .map(|ty| (ty.as_str(), t.request_type(ty.as_str())))
            .collect(),
        now: state.app.now(),
        frame,
    };
    render(StatusCode::OK, &page)
}

async fn create_request(State(state): State<AppState>, signed: Signed, body: Bytes) -> Response {
    let form = match Posted::check(&state.app, &signed, &body) {
        Ok(form) => form,
        Err(response) => return *response,
    };
    let details = form.get("details");
    let input = NewRequest {
        request_type: form.get("type"),
        email: form.get("email"),
        details: (!details.is_empty()).then_some(details),
        identity_verified: form.checked("identity_verified"),
        identity_verification: None,
        language: Some(form.get("language")).filter(|l| !l.is_empty()),
        received_at: None,
        marketing: None,
    };
    match state
        .app
        .create_request(&signed.0.principal, input, "api")
        .await
    {
        Ok(view) => see_other(&format!("/console/requests/{}?done=created", view.id)),
        Err(error) => failure(&signed, error),
    }
}

/// A mail the person was sent about the request.
pub struct MailRow {
    pub at: String,
    pub subject: String,
    pub body: String,
}

pub struct Step {
    pub label: &'static str,
    pub at: String,
    pub done: bool,
    pub note: Option<String>,
}

#[derive(Template)]
#[template(path = "console/request.html")]
struct RequestPage {
    frame: Frame,
    r: RequestView,
    steps: Vec<Step>,
    mails: Vec<MailRow>,
    open: bool,
    days_left: String,
    outcome: Option<String>,
}

async fn request(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
    Query(done): Query<Done>,
) -> Response {
    let t = signed.t();
    let Ok(id) = Uuid::parse_str(&id) else {
        return failure(&signed, registre_app::AppError::not_found("request"));
    };
    let r = match state.app.get_request(&signed.0.principal, id).await {
        Ok(r) => r,
        Err(error) => return failure(&signed, error),
    };
    let frame = signed
        .page(
            &state.app,
            Section::Requests,
            t.request_type(r.request_type.as_str()),
            done.done.as_deref(),
        )
        .await;
    let mut steps = vec![Step {
        label: t.step_received,
        at: frame.dt(r.received_at),
        done: true,
        note: r.details.clone(),
    }];
    if let Some(at) = r.verified_at {
        steps.push(Step {
            label: t.step_verified,
            at: frame.dt(at),
            done: true,
            note: r.identity_verification.clone(),
        });
    }
    if let Some(at) = r.extended_at {
        steps.push(Step {
            label: t.step_extended,
            at: frame.dt(at),
            done: true,
            note: r.extension_reason.clone(),
        });
    }
    if let Some(at) = r.closed_at {
        steps.push(Step {
            label: t.step_closed,
            at: frame.dt(at),
            done: true,
            note: r.refusal_reason.clone(),
        });
    }
    let open = r.closed_at.is_none() && !r.personal_data_erased;
    if open {
        steps.push(Step {
            label: t.step_due,
            at: frame.dt(r.due_at),
            done: false,
            note: None,
        });
    }
    let mails = state
        .app
        .request_mails(&signed.0.principal, id)
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|m| MailRow {
            at: frame.dt(m.at),
            subject: m.subject,
            body: m.body,
        })
        .collect();
    let now = state.app.now();
    let page = RequestPage {
        mails,
        days_left: t.days_left_text((r.due_at - now).num_hours().div_euclid(24)),
        outcome: r
            .outcome
            .as_ref()
            .map(|o| super::system::details_text(t, &o.to_string()))
            .filter(|text| !text.is_empty()),
        open,
        steps,
        r,
        frame,
    };
    render(StatusCode::OK, &page)
}

async fn request_action(
    State(state): State<AppState>,
    signed: Signed,
    Path((id, action)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let form = match Posted::check(&state.app, &signed, &body) {
        Ok(form) => form,
        Err(response) => return *response,
    };
    let Ok(id) = Uuid::parse_str(&id) else {
        return failure(&signed, registre_app::AppError::not_found("request"));
    };
    let by = &signed.0.principal;
    let app = &state.app;
    let (result, done) = match action.as_str() {
        "verify" => (
            app.verify_request(by, id, Some(&form.get("method"))).await,
            "verified",
        ),
        "start" => (app.start_request(by, id).await, "started"),
        "extend" => (
            app.extend_request(by, id, &form.get("reason")).await,
            "extended",
        ),
        "refuse" => (
            app.refuse_request(by, id, &form.get("reason")).await,
            "refused",
        ),
        "fulfil" => {
            let email = form.get("new_email");
            let input = FulfilInput {
                corrections: (!email.is_empty()).then(|| Corrections {
                    email: Some(email),
                    fields: Default::default(),
                }),
                ..Default::default()
            };
            (app.fulfil_request(by, id, input).await, "fulfilled")
        }
        _ => {
            return failure(&signed, registre_app::AppError::not_found("action"));
        }
    };
    match result {
        Ok(view) => see_other(&format!("/console/requests/{}?done={done}", view.id)),
        Err(error) => failure(&signed, error),
    }
}

// ---- consents ----

pub struct PurposeOption {
    pub key: String,
    pub title: String,
}

#[derive(Template)]
#[template(path = "console/consents.html")]
struct ConsentsPage {
    frame: Frame,
    email: String,
    searched: bool,
    found: Option<SubjectConsents>,
    titles: HashMap<String, String>,
    purposes: Vec<PurposeOption>,
}

impl ConsentsPage {
    fn title(&self, key: &str) -> String {
        self.titles
            .get(key)
            .cloned()
            .unwrap_or_else(|| key.to_string())
    }

    fn known(&self) -> bool {
        self.found
            .as_ref()
            .is_some_and(|f| f.subject_id.is_some() || f.erased)
    }
}

async fn consents_view(
    state: &AppState,
    signed: &Signed,
    email: String,
    found: Option<SubjectConsents>,
    done: Option<&str>,
) -> Response {
    let t = signed.t();
    let language = t.language();
    let all = state.app.purposes().await.unwrap_or_default();
    let frame = signed
        .page(&state.app, Section::Consents, t.consents_title, done)
        .await;
    let page = ConsentsPage {
        searched: !email.is_empty(),
        email,
        found,
        titles: all
            .iter()
            .map(|p| (p.key.to_string(), p.title.get(language).to_string()))
            .collect(),
        purposes: all
            .iter()
            .filter(|p| p.legal_basis == registre_domain::purpose::LegalBasis::Consent)
            .map(|p| PurposeOption {
                key: p.key.to_string(),
                title: p.title.get(language).to_string(),
            })
            .collect(),
        frame,
    };
    render(StatusCode::OK, &page)
}

async fn consents_page(
    State(state): State<AppState>,
    signed: Signed,
    Query(done): Query<Done>,
) -> Response {
    consents_view(&state, &signed, String::new(), None, done.done.as_deref()).await
}

/// The email comes in the body, never in the URL: nothing logs it.
async fn consents_search(State(state): State<AppState>, signed: Signed, body: Bytes) -> Response {
    let form = match Posted::check(&state.app, &signed, &body) {
        Ok(form) => form,
        Err(response) => return *response,
    };
    let email = form.get("email");
    match state
        .app
        .subject_consents(&signed.0.principal, &email)
        .await
    {
        Ok(found) => consents_view(&state, &signed, email, Some(found), None).await,
        Err(error) => failure(&signed, error),
    }
}

async fn record_consent(State(state): State<AppState>, signed: Signed, body: Bytes) -> Response {
    let form = match Posted::check(&state.app, &signed, &body) {
        Ok(form) => form,
        Err(response) => return *response,
    };
    let email = form.get("email");
    let request = ConsentRequest {
        subject: SubjectRef {
            email: Some(email.clone()),
            external_id: None,
        },
        purpose: form.get("purpose"),
        action: form.get("action"),
        source: Some("api".into()),
        touchpoint: None,
        notice_version: None,
        occurred_at: None,
        provenance: Some("console".into()),
    };
    if let Err(error) = state.app.record_consent(&signed.0.principal, request).await {
        return failure(&signed, error);
    }
    match state
        .app
        .subject_consents(&signed.0.principal, &email)
        .await
    {
        Ok(found) => consents_view(&state, &signed, email, Some(found), Some("created")).await,
        Err(error) => failure(&signed, error),
    }
}

async fn receipt(
    State(state): State<AppState>,
    signed: Signed,
    Path(event_id): Path<String>,
) -> Response {
    let Ok(event_id) = Uuid::parse_str(&event_id) else {
        return failure(&signed, registre_app::AppError::not_found("consent event"));
    };
    match state
        .app
        .consent_receipt(&signed.0.principal, event_id)
        .await
    {
        Ok(receipt) => {
            let body = serde_json::to_string_pretty(&receipt).unwrap_or_default();
            let mut response = body.into_response();
            let headers = response.headers_mut();
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            if let Ok(value) =
                HeaderValue::from_str(&format!("attachment; filename=\"receipt-{event_id}.json\""))
            {
                headers.insert(header::CONTENT_DISPOSITION, value);
            }
            response
        }
        Err(error) => failure(&signed, error),
    }
}
