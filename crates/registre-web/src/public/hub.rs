//! `GET /`: the organisation's privacy home — its published forms and what each is for,
//! the privacy portal, the privacy policy, and the console for a signed-in console user.
use super::pages;
use crate::i18n::Messages;
use crate::layout::{self, Chrome};
use crate::state::AppState;
use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use registre_app::App;
use registre_domain::purpose::Purpose;
use registre_domain::touchpoint::Touchpoint;
use serde::Deserialize;

/// A form as the hub and the policy list it.
pub struct FormEntry {
    pub key: String,
    pub href: String,
    pub title: String,
    pub description: Option<String>,
    /// The titles of the purposes it serves.
    pub purposes: Vec<String>,
}

/// The forms, by title, each with the titles of its purposes.
pub fn form_entries(
    touchpoints: &[Touchpoint],
    purposes: &[Purpose],
    t: &Messages,
) -> Vec<FormEntry> {
    let language = t.language;
    let mut entries: Vec<FormEntry> = touchpoints
        .iter()
        .map(|touchpoint| FormEntry {
            key: touchpoint.key.as_str().to_string(),
            href: format!("/f/{}?lang={}", touchpoint.key.as_str(), t.code()),
            title: touchpoint.title.get(language).to_string(),
            description: touchpoint
                .description
                .as_ref()
                .map(|d| d.get(language).to_string()),
            purposes: touchpoint
                .purposes
                .iter()
                .map(|key| {
                    purposes
                        .iter()
                        .find(|p| p.key.as_str() == key)
                        .map(|p| p.title.get(language).to_string())
                        .unwrap_or_else(|| key.clone())
                })
                .collect(),
        })
        .collect();
    entries.sort_by(|a, b| a.title.cmp(&b.title));
    entries
}

#[derive(Template)]
#[template(path = "hub.html")]
struct HubPage {
    chrome: Chrome,
    t: &'static Messages,
    intro: String,
    forms: Vec<FormEntry>,
    console: bool,
}

#[derive(Deserialize)]
pub struct LangQuery {
    lang: Option<String>,
}

/// Whether the browser holds a live console session (the console's cookie is sent to `/`).
async fn signed_in_to_console(app: &App, headers: &HeaderMap) -> bool {
    let cookie = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == crate::console::COOKIE)
        .map(|(_, value)| value.to_string());
    match cookie {
        Some(value) => matches!(app.console_session(&value).await, Ok(Some(_))),
        None => false,
    }
}

pub async fn show(
    State(state): State<AppState>,
    Query(query): Query<LangQuery>,
    headers: HeaderMap,
) -> Response {
    let app = &state.app;
    let (organisation, t) =
        match pages::organisation_and_language(app, query.lang.as_deref(), &headers).await {
            Ok(found) => found,
            Err(response) => return response,
        };
    let (touchpoints, purposes) = match (app.touchpoints().await, app.purposes().await) {
        (Ok(touchpoints), Ok(purposes)) => (touchpoints, purposes),
        (Err(error), _) | (_, Err(error)) => return pages::failure(app, t, error).await,
    };
    let mut chrome = Chrome::new(t.hub_title, organisation.name.clone());
    chrome.other_language_href = Some(format!("/?lang={}", t.other().code()));
    let page = HubPage {
        chrome,
        t,
        intro: t.hub_intro(&organisation.name),
        forms: form_entries(&touchpoints, &purposes, t),
        console: signed_in_to_console(app, &headers).await,
    };
    layout::render(StatusCode::OK, &page, "'self'")
}
