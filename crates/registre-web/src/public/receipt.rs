//! The person's receipt: `GET /r/{token}` shows one consent event in words, in the person's
//! language (`?lang=`, else the browser's, else the organisation's), and
//! `GET /r/{token}/receipt.json` downloads the same receipt signed (Kantara fields + JWS,
//! as `GET /api/v1/consents/{event_id}/receipt`). The token is the app's HMAC-signed event
//! id: it names nobody and cannot be guessed.
use super::notice::notice_href;
use super::pages::{self, Problem};
use super::texts::Tr;
use crate::i18n::Messages;
use crate::layout::{self, Chrome};
use crate::state::AppState;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use registre_app::{App, AppError, PersonReceipt};
use registre_domain::Language;
use serde::Deserialize;
use uuid::Uuid;

/// Where the receipt of `event_id` is, in `t`'s language.
pub fn receipt_href(app: &App, event_id: Uuid, t: &Messages) -> String {
    format!("/r/{}?lang={}", app.receipt_token(event_id), t.code())
}

#[derive(Template)]
#[template(path = "receipt.html")]
struct ReceiptPage {
    chrome: Chrome,
    t: &'static Messages,
    action: String,
    purpose_title: String,
    purpose_description: String,
    basis: &'static str,
    retention: String,
    recipients: Vec<String>,
    when: String,
    how: String,
    notice_href: Option<String>,
    reference: String,
    json_href: String,
    dpo_email: String,
}

#[derive(Deserialize)]
pub struct ReceiptQuery {
    lang: Option<String>,
}

async fn language_of(app: &App, asked: Option<&str>, headers: &HeaderMap) -> &'static Messages {
    let default = app
        .organisation()
        .await
        .map(|o| o.default_language)
        .unwrap_or_default();
    layout::choose_language(asked, headers, default)
}

/// The receipt a person's link names, in the language asked; the localised 404 or error
/// page otherwise.
async fn person_receipt(
    app: &App,
    token: &str,
    asked: Option<&str>,
    headers: &HeaderMap,
) -> Result<(PersonReceipt, &'static Messages), Response> {
    let t = language_of(app, asked, headers).await;
    match app.receipt_for_person(token, Some(t.language)).await {
        Ok(found) => Ok((found, t)),
        Err(AppError::NotFound(_)) => Err(pages::problem(app, t, Problem::NotFound).await),
        Err(error) => Err(pages::failure(app, t, error).await),
    }
}

pub async fn show(
    State(state): State<AppState>,
    Path(token): Path<String>,
    Query(query): Query<ReceiptQuery>,
    headers: HeaderMap,
) -> Response {
    let app = &state.app;
    let (found, t) = match person_receipt(app, &token, query.lang.as_deref(), &headers).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let organisation = match app.organisation().await {
        Ok(organisation) => organisation,
        Err(error) => return pages::failure(app, t, error).await,
    };
    let event = &found.event;
    let purpose = &found.purpose;
    let language = t.language;
    let how = match &found.touchpoint_title {
        Some(title) => match language {
            Language::Fr => format!("{} «\u{a0}{title}\u{a0}»", t.consent_source(event.source)),
            Language::En => format!("{} “{title}”", t.consent_source(event.source)),
        },
        None => t.consent_source(event.source).to_string(),
    };
    let notice = match (&event.touchpoint, &event.notice_version) {
        (Some(touchpoint), Some(version)) => Some(notice_href(touchpoint, version, t)),
        _ => None,
    };
    let mut chrome = Chrome::new(t.receipt_title, organisation.name.clone());
    chrome.other_language_href = Some(format!("/r/{token}?lang={}", t.other().code()));
    let page = ReceiptPage {
        chrome,
        t,
        action: Tr(language).action(event.action.as_str()).to_string(),
        purpose_title: purpose.title.get(language).to_string(),
        purpose_description: purpose.description.get(language).to_string(),
        basis: t.legal_basis(purpose.legal_basis),
        retention: t.retention(purpose.retention_days),
        recipients: purpose.recipients.clone(),
        when: t.date_time(event.occurred_at, organisation.zone()),
        how,
        notice_href: notice,
        reference: event.event_id.to_string(),
        json_href: format!("/r/{token}/receipt.json?lang={}", t.code()),
        dpo_email: organisation.dpo.email.clone(),
    };
    layout::render(StatusCode::OK, &page, "'self'")
}

pub async fn download(
    State(state): State<AppState>,
    Path(token): Path<String>,
    Query(query): Query<ReceiptQuery>,
    headers: HeaderMap,
) -> Response {
    let app = &state.app;
    let (found, t) = match person_receipt(app, &token, query.lang.as_deref(), &headers).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let signed = match app.signed_receipt(&found).await {
        Ok(signed) => signed,
        Err(error) => return pages::failure(app, t, error).await,
    };
    let body = match serde_json::to_vec_pretty(&signed) {
        Ok(body) => body,
        Err(_) => return pages::problem(app, t, Problem::Internal).await,
    };
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if let Ok(value) = HeaderValue::from_str(&format!(
        "attachment; filename=\"consent-receipt-{}.json\"",
        found.event.event_id
    )) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}
