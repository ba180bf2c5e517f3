//! Purposes and touchpoints: edit, preview the form and its notice in both languages
//! (rendered by the one notice renderer of the public pages), publish, and see what changed
//! in the notice since its previous version.
use super::dashboard::short_version;
use super::{Done, Frame, Posted, Section, Signed, failure, problem_page, render, see_other};
use crate::i18n::{self, Messages};
use crate::public::notice::NoticeModel;
use crate::state::AppState;
use askama::Template;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use registre_app::NoticeView;
use registre_domain::Language;
use registre_domain::purpose::{Purpose, PurposeInput};
use registre_domain::touchpoint::{Touchpoint, TouchpointInput};
use registre_store::NoticeSummary;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/console/purposes", get(purposes))
        .route("/console/purposes/{key}", get(purpose).post(save_purpose))
        .route("/console/touchpoints", get(touchpoints))
        .route("/console/touchpoints/{key}", get(touchpoint))
        .route("/console/touchpoints/{key}/preview", post(preview))
        .route("/console/touchpoints/{key}/publish", post(publish))
}

// ---- purposes ----

#[derive(Template)]
#[template(path = "console/purposes.html")]
struct PurposesPage {
    frame: Frame,
    items: Vec<Purpose>,
}

async fn purposes(
    State(state): State<AppState>,
    signed: Signed,
    Query(done): Query<Done>,
) -> Response {
    let t = signed.t();
    let items = match state.app.purposes().await {
        Ok(items) => items,
        Err(error) => return failure(&signed, error),
    };
    let frame = signed
        .page(
            &state.app,
            Section::Purposes,
            t.purposes_title,
            done.done.as_deref(),
        )
        .await;
    render(StatusCode::OK, &PurposesPage { frame, items })
}

#[derive(Template)]
#[template(path = "console/purpose.html")]
struct PurposePage {
    frame: Frame,
    p: Purpose,
    /// The purpose's data categories by their labels, in the user's language.
    categories: String,
}

async fn purpose(
    State(state): State<AppState>,
    signed: Signed,
    Path(key): Path<String>,
    Query(done): Query<Done>,
) -> Response {
    let p = match state.app.purpose(&key).await {
        Ok(p) => p,
        Err(error) => return failure(&signed, error),
    };
    let frame = signed
        .page(
            &state.app,
            Section::Purposes,
            p.title.get(signed.t().language()).to_string(),
            done.done.as_deref(),
        )
        .await;
    let labels = state.app.data_categories().await.unwrap_or_default();
    let language = signed.t().language();
    let categories = p
        .data_categories
        .iter()
        .map(|key| {
            labels
                .iter()
                .find(|c| c.key == *key)
                .map(|c| c.label.get(language).to_string())
                .unwrap_or_else(|| key.replace('_', " "))
        })
        .collect::<Vec<_>>()
        .join(", ");
    render(
        StatusCode::OK,
        &PurposePage {
            frame,
            p,
            categories,
        },
    )
}

async fn save_purpose(
    State(state): State<AppState>,
    signed: Signed,
    Path(key): Path<String>,
    body: Bytes,
) -> Response {
    let form = match Posted::check(&state.app, &signed, &body) {
        Ok(form) => form,
        Err(response) => return *response,
    };
    let existing = match state.app.purpose(&key).await {
        Ok(p) => p,
        Err(error) => return failure(&signed, error),
    };
    // The purpose as stored, with what the page edits replaced.
    let mut value = serde_json::to_value(&existing).unwrap_or_default();
    value["title"] = serde_json::json!({"fr": form.get("title_fr"), "en": form.get("title_en")});
    value["description"] =
        serde_json::json!({"fr": form.get("description_fr"), "en": form.get("description_en")});
    value["retention_days"] = match form.get("retention_days").parse::<i64>() {
        Ok(days) => days.into(),
        Err(_) => {
            return problem_page(
                &signed,
                StatusCode::UNPROCESSABLE_ENTITY,
                format!("{}: ?", signed.t().retention_days),
            );
        }
    };
    let input: PurposeInput = match serde_json::from_value(value) {
        Ok(input) => input,
        Err(error) => {
            return problem_page(&signed, StatusCode::UNPROCESSABLE_ENTITY, error.to_string());
        }
    };
    match state
        .app
        .update_purpose(&signed.0.principal, &key, input)
        .await
    {
        Ok(_) => see_other(&format!("/console/purposes/{key}?done=saved")),
        Err(error) => failure(&signed, error),
    }
}

// ---- touchpoints ----

pub struct TouchpointRow {
    pub key: String,
    pub title: String,
    pub purposes: usize,
    pub fields: usize,
    pub double_opt_in: bool,
    pub version: String,
}

#[derive(Template)]
#[template(path = "console/touchpoints.html")]
struct TouchpointsPage {
    frame: Frame,
    items: Vec<TouchpointRow>,
}

async fn touchpoints(
    State(state): State<AppState>,
    signed: Signed,
    Query(done): Query<Done>,
) -> Response {
    let t = signed.t();
    let language = t.language();
    let all = match state.app.touchpoints().await {
        Ok(all) => all,
        Err(error) => return failure(&signed, error),
    };
    let mut items = Vec::new();
    for tp in all.iter() {
        let version = state
            .app
            .current_notice(tp)
            .await
            .map(|n| short_version(&n.version))
            .unwrap_or_default();
        items.push(TouchpointRow {
            key: tp.key.to_string(),
            title: tp.title.get(language).to_string(),
            purposes: tp.purposes.len(),
            fields: tp.fields.len(),
            double_opt_in: tp.double_opt_in,
            version,
        });
    }
    let frame = signed
        .page(
            &state.app,
            Section::Touchpoints,
            t.touchpoints_title,
            done.done.as_deref(),
        )
        .await;
    render(StatusCode::OK, &TouchpointsPage { frame, items })
}

pub struct PurposeChoice {
    pub key: String,
    pub title: String,
    pub basis: String,
    pub checked: bool,
}

/// The editable part of a touchpoint, as the form holds it.
pub struct TouchpointForm {
    pub key: String,
    pub title_fr: String,
    pub title_en: String,
    pub description_fr: String,
    pub description_en: String,
    pub double_opt_in: bool,
    pub purposes: Vec<PurposeChoice>,
}

fn touchpoint_form(tp: &Touchpoint, all: &[Purpose], language: Language) -> TouchpointForm {
    TouchpointForm {
        key: tp.key.to_string(),
        title_fr: tp.title.get(Language::Fr).to_string(),
        title_en: tp.title.get(Language::En).to_string(),
        description_fr: tp
            .description
            .as_ref()
            .map(|d| d.get(Language::Fr).to_string())
            .unwrap_or_default(),
        description_en: tp
            .description
            .as_ref()
            .map(|d| d.get(Language::En).to_string())
            .unwrap_or_default(),
        double_opt_in: tp.double_opt_in,
        purposes: all
            .iter()
            .map(|p| PurposeChoice {
                key: p.key.to_string(),
                title: p.title.get(language).to_string(),
                basis: super::code(&p.legal_basis),
                checked: tp.purposes.iter().any(|k| k == p.key.as_str()),
            })
            .collect(),
    }
}

#[derive(Template)]
#[template(path = "console/touchpoint.html")]
struct TouchpointPage {
    frame: Frame,
    f: TouchpointForm,
    version: String,
    history: Vec<NoticeSummary>,
}

async fn touchpoint(
    State(state): State<AppState>,
    signed: Signed,
    Path(key): Path<String>,
    Query(done): Query<Done>,
) -> Response {
    let t = signed.t();
    let tp = match state.app.touchpoint(&key).await {
        Ok(tp) => tp,
        Err(error) => return failure(&signed, error),
    };
    let all = state.app.purposes().await.unwrap_or_default();
    let version = state
        .app
        .current_notice(&tp)
        .await
        .map(|n| n.version)
        .unwrap_or_default();
    let history = state.app.notice_history(&key).await.unwrap_or_default();
    let frame = signed
        .page(
            &state.app,
            Section::Touchpoints,
            tp.title.get(t.language()).to_string(),
            done.done.as_deref(),
        )
        .await;
    let page = TouchpointPage {
        f: touchpoint_form(&tp, &all, t.language()),
        version,
        history,
        frame,
    };
    render(StatusCode::OK, &page)
}

/// The stored touchpoint with what the form edits replaced.
fn edited(existing: &Touchpoint, form: &Posted) -> Result<TouchpointInput, String> {
    let mut value = serde_json::to_value(existing).map_err(|e| e.to_string())?;
    value["title"] = serde_json::json!({"fr": form.get("title_fr"), "en": form.get("title_en")});
    let (fr, en) = (form.get("description_fr"), form.get("description_en"));
    value["description"] = if fr.is_empty() && en.is_empty() {
        serde_json::Value::Null
    } else {
        serde_json::json!({"fr": fr, "en": en})
    };
    value["double_opt_in"] = form.checked("double_opt_in").into();
    value["purposes"] = form.all("purposes").into();
    serde_json::from_value(value).map_err(|e| e.to_string())
}

pub struct PreviewField {
    pub name: String,
    pub label: String,
    pub kind: String,
    pub required: bool,
}

pub struct PreviewConsent {
    pub key: String,
    pub title: String,
    pub description: String,
}

/// One language's preview: the form as a visitor sees it, and its notice.
pub struct Preview {
    pub t: &'static Messages,
    pub notice: NoticeModel,
    pub level: u8,
    pub heading: &'static str,
    pub title: String,
    pub fields: Vec<PreviewField>,
    pub consents: Vec<PreviewConsent>,
}

fn preview_of(
    view: &NoticeView,
    language: Language,
    heading: &'static str,
    zone: chrono_tz::Tz,
) -> Preview {
    let t = i18n::messages(language);
    let content = &view.content;
    Preview {
        t,
        notice: NoticeModel::build(view, t, zone),
        level: 3,
        heading,
        title: content.touchpoint.title.get(language).to_string(),
        fields: content
            .touchpoint
            .fields
            .iter()
            .map(|f| PreviewField {
                name: f.name.clone(),
                label: f.label.get(language).to_string(),
                kind: super::code(&f.field_type),
                required: f.required,
            })
            .collect(),
        consents: content
            .purposes
            .iter()
            .filter(|p| p.asks_consent())
            .map(|p| PreviewConsent {
                key: p.key.clone(),
                title: p.title.get(language).to_string(),
                description: p.description.get(language).to_string(),
            })
            .collect(),
    }
}

#[derive(Template)]
#[template(path = "console/touchpoint_preview.html")]
struct PreviewPage {
    frame: Frame,
    f: TouchpointForm,
    previews: Vec<Preview>,
    version: String,
    current_version: String,
}

async fn preview(
    State(state): State<AppState>,
    signed: Signed,
    Path(key): Path<String>,
    body: Bytes,
) -> Response {
    let form = match Posted::check(&state.app, &signed, &body) {
        Ok(form) => form,
        Err(response) => return *response,
    };
    let t = signed.t();
    let existing = match state.app.touchpoint(&key).await {
        Ok(tp) => tp,
        Err(error) => return failure(&signed, error),
    };
    let input = match edited(&existing, &form) {
        Ok(input) => input,
        Err(message) => return problem_page(&signed, StatusCode::UNPROCESSABLE_ENTITY, message),
    };
    let view = match state
        .app
        .preview_touchpoint(&signed.0.principal, input.clone())
        .await
    {
        Ok(view) => view,
        Err(error) => return failure(&signed, error),
    };
    let current_version = state
        .app
        .current_notice(&existing)
        .await
        .map(|n| n.version)
        .unwrap_or_default();
    let all = state.app.purposes().await.unwrap_or_default();
    // The form keeps what was typed, so that publishing sends exactly what was previewed.
    let mut shown = existing.clone();
    shown.title = input.title.clone();
    shown.description = input.description.clone();
    shown.double_opt_in = input.double_opt_in;
    shown.purposes = input.purposes.clone();
    let frame = signed
        .page(&state.app, Section::Touchpoints, t.preview, None)
        .await;
    let page = PreviewPage {
        f: touchpoint_form(&shown, &all, t.language()),
        previews: vec![
            preview_of(&view, Language::Fr, t.french, frame.zone),
            preview_of(&view, Language::En, t.english, frame.zone),
        ],
        version: view.version,
        current_version,
        frame,
    };
    render(StatusCode::OK, &page)
}

#[derive(Template)]
#[template(path = "console/touchpoint_published.html")]
struct PublishedPage {
    frame: Frame,
    key: String,
    version: String,
    previous: String,
    changed: bool,
    changes: Vec<String>,
}

async fn publish(
    State(state): State<AppState>,
    signed: Signed,
    Path(key): Path<String>,
    body: Bytes,
) -> Response {
    let form = match Posted::check(&state.app, &signed, &body) {
        Ok(form) => form,
        Err(response) => return *response,
    };
    let t = signed.t();
    let existing = match state.app.touchpoint(&key).await {
        Ok(tp) => tp,
        Err(error) => return failure(&signed, error),
    };
    let previous = state
        .app
        .current_notice(&existing)
        .await
        .map(|n| n.version)
        .unwrap_or_default();
    let input = match edited(&existing, &form) {
        Ok(input) => input,
        Err(message) => return problem_page(&signed, StatusCode::UNPROCESSABLE_ENTITY, message),
    };
    let view = match state
        .app
        .update_touchpoint(&signed.0.principal, &key, input)
        .await
    {
        Ok(view) => view,
        Err(error) => return failure(&signed, error),
    };
    let changed = view.notice_version != previous;
    let changes = if changed && !previous.is_empty() {
        state
            .app
            .notice_changes(&previous, &view.notice_version)
            .await
            .unwrap_or_default()
    } else {
        Vec::new()
    };
    let frame = signed
        .page(&state.app, Section::Touchpoints, t.publish, None)
        .await;
    let page = PublishedPage {
        key,
        version: view.notice_version,
        previous,
        changed,
        changes,
        frame,
    };
    render(StatusCode::OK, &page)
}
