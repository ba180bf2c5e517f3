//! The one place a notice is turned into what a person reads: from the published
//! `NoticeContent` only, in their language, for the first layer next to the form's button,
//! the full text under it, and the notice page (`GET /f/{touchpoint}/notice[?version=]`).
use super::pages::{self, Problem};
use crate::i18n::Messages;
use crate::layout::{self, Chrome};
use crate::state::AppState;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use registre_app::NoticeView;
use registre_domain::LocalisedText;
use registre_domain::notice::{NoticeController, NoticePurpose};
use serde::Deserialize;
use std::collections::BTreeMap;

pub struct NoticeField {
    pub label: String,
    pub category: String,
    pub required: bool,
}

pub struct NoticePurposeModel {
    pub title: String,
    pub description: String,
    pub asks_consent: bool,
    pub basis: &'static str,
    pub basis_short: &'static str,
    pub interest: Option<String>,
    pub categories: Vec<String>,
    pub retention: String,
    pub recipients: Vec<String>,
    pub transfers: Vec<String>,
}

/// A notice version as the templates read it (`notice_partial.html`,
/// `first_layer_partial.html`).
pub struct NoticeModel {
    pub version: String,
    pub published: String,
    pub title: String,
    pub controller: NoticeController,
    pub fields: Vec<NoticeField>,
    pub required_fields: Vec<String>,
    pub optional_fields: Vec<String>,
    pub purposes: Vec<NoticePurposeModel>,
    pub has_consent: bool,
    pub double_opt_in: bool,
}

impl NoticeModel {
    /// The notice as shown, its dates written in `zone` (the organisation's).
    pub fn build(notice: &NoticeView, t: &Messages, zone: chrono_tz::Tz) -> Self {
        let language = t.language;
        let content = &notice.content;
        let category = |key: &str| {
            content
                .data_categories
                .get(key)
                .map(|label| label.get(language).to_string())
                .unwrap_or_else(|| key.to_string())
        };
        let fields: Vec<NoticeField> = content
            .touchpoint
            .fields
            .iter()
            .map(|f| NoticeField {
                label: f.label.get(language).to_string(),
                category: category(&f.data_category),
                required: f.required,
            })
            .collect();
        let purposes: Vec<NoticePurposeModel> = content
            .purposes
            .iter()
            .map(|p| purpose_model(p, &content.data_categories, t))
            .collect();
        Self {
            version: notice.version.clone(),
            published: t.date(notice.published_at, zone),
            title: content.touchpoint.title.get(language).to_string(),
            controller: content.controller.clone(),
            required_fields: fields
                .iter()
                .filter(|f| f.required)
                .map(|f| f.label.clone())
                .collect(),
            optional_fields: fields
                .iter()
                .filter(|f| !f.required)
                .map(|f| f.label.clone())
                .collect(),
            has_consent: purposes.iter().any(|p| p.asks_consent),
            double_opt_in: content.touchpoint.double_opt_in,
            fields,
            purposes,
        }
    }
}

/// One purpose as a person reads it, in a notice or in the privacy policy
/// (`purpose_partial.html`).
pub fn purpose_model(
    p: &NoticePurpose,
    categories: &BTreeMap<String, LocalisedText>,
    t: &Messages,
) -> NoticePurposeModel {
    let language = t.language;
    let category = |key: &str| {
        categories
            .get(key)
            .map(|label| label.get(language).to_string())
            .unwrap_or_else(|| key.to_string())
    };
    NoticePurposeModel {
        title: p.title.get(language).to_string(),
        description: p.description.get(language).to_string(),
        asks_consent: p.asks_consent(),
        basis: t.legal_basis(p.legal_basis),
        basis_short: t.basis_short(p.legal_basis),
        interest: p
            .legitimate_interest
            .as_ref()
            .map(|i| i.get(language).to_string()),
        categories: p.data_categories.iter().map(|c| category(c)).collect(),
        retention: t.retention(p.retention_days),
        recipients: p.recipients.clone(),
        transfers: p
            .transfers
            .iter()
            .map(|x| {
                let whom = x
                    .recipient
                    .as_deref()
                    .map(|r| format!(" ({r})"))
                    .unwrap_or_default();
                format!(
                    "{}{whom}, {}",
                    t.country(&x.country),
                    t.safeguard(x.safeguard)
                )
            })
            .collect(),
    }
}

/// Where the full notice of a version is.
pub fn notice_href(touchpoint: &str, version: &str, t: &Messages) -> String {
    format!("/f/{touchpoint}/notice?version={version}&lang={}", t.code())
}

#[derive(Template)]
#[template(path = "notice.html")]
struct NoticePage {
    chrome: Chrome,
    t: &'static Messages,
    notice: NoticeModel,
    past: bool,
    current_href: String,
    form_href: String,
}

#[derive(Deserialize)]
pub struct NoticeQuery {
    version: Option<String>,
    lang: Option<String>,
}

pub async fn show(
    State(state): State<AppState>,
    Path(key): Path<String>,
    Query(query): Query<NoticeQuery>,
    headers: HeaderMap,
) -> Response {
    let app = &state.app;
    let organisation = match app.organisation().await {
        Ok(organisation) => organisation,
        Err(error) => {
            return pages::failure(
                app,
                layout::choose_language(query.lang.as_deref(), &headers, Default::default()),
                error,
            )
            .await;
        }
    };
    let t = layout::choose_language(
        query.lang.as_deref(),
        &headers,
        organisation.default_language,
    );
    let touchpoint = match app.touchpoint(&key).await {
        Ok(touchpoint) => touchpoint,
        Err(error) => return pages::failure(app, t, error).await,
    };
    let current = match app.current_notice(&touchpoint).await {
        Ok(current) => app
            .served_notice(&key, &current.version)
            .await
            .ok()
            .flatten()
            .unwrap_or(current),
        Err(error) => return pages::failure(app, t, error).await,
    };
    let notice = match query.version.as_deref() {
        None => current.clone(),
        Some(version) if version == current.version => current.clone(),
        Some(version) => match app.served_notice(&key, version).await {
            Ok(Some(notice)) => notice,
            Ok(None) => return pages::problem(app, t, Problem::NotFound).await,
            Err(error) => return pages::failure(app, t, error).await,
        },
    };
    let model = NoticeModel::build(&notice, t, organisation.zone());
    let mut chrome = Chrome::new(
        format!("{} — {}", t.notice_page_title, model.title),
        organisation.name.clone(),
    );
    chrome.other_language_href = Some(notice_href(&key, &notice.version, t.other()));
    chrome.privacy_policy_url = organisation.privacy_policy_url.clone();
    let page = NoticePage {
        chrome,
        t,
        past: notice.version != current.version,
        current_href: notice_href(&key, &current.version, t),
        form_href: format!("/f/{key}?lang={}", t.code()),
        notice: model,
    };
    layout::render(
        StatusCode::OK,
        &page,
        &layout::frame_ancestors(&touchpoint.frame_ancestors),
    )
}
