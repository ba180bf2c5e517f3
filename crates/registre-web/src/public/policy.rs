//! `GET /policy?lang=fr|en[&version=]`: the whole privacy policy, generated from the
//! registers (app `privacy_policy`), with its version and the history of its versions.
use super::hub::FormEntry;
use super::notice::{NoticePurposeModel, purpose_model};
use super::pages::{self, Problem};
use crate::i18n::Messages;
use crate::layout::{self, Chrome};
use crate::state::AppState;
use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use registre_app::AppError;
use registre_domain::LocalisedText;
use registre_domain::notice::NoticeController;
use registre_domain::processor::ProcessorRole;
use serde::Deserialize;

struct ProcessorRow {
    name: String,
    service: String,
    country: String,
    safeguard: String,
}

struct VersionRow {
    version: String,
    short: String,
    href: String,
    first_seen: String,
    current: bool,
    /// The version on this page.
    shown: bool,
}

#[derive(Template)]
#[template(path = "policy.html")]
struct PolicyPage {
    chrome: Chrome,
    t: &'static Messages,
    intro: String,
    current: bool,
    short_version: String,
    first_seen: String,
    controller: NoticeController,
    forms: Vec<FormEntry>,
    purposes: Vec<NoticePurposeModel>,
    processors: Vec<ProcessorRow>,
    history: Vec<VersionRow>,
}

#[derive(Deserialize)]
pub struct PolicyQuery {
    lang: Option<String>,
    version: Option<String>,
}

/// `sha256:` and the first 12 hex digits: enough to tell versions apart when reading.
fn short(version: &str) -> String {
    version
        .strip_prefix("sha256:")
        .unwrap_or(version)
        .chars()
        .take(12)
        .collect()
}

fn policy_href(version: &str, t: &Messages) -> String {
    format!("/policy?lang={}&version={version}", t.code())
}

pub async fn show(
    State(state): State<AppState>,
    Query(query): Query<PolicyQuery>,
    headers: HeaderMap,
) -> Response {
    let app = &state.app;
    let (organisation, t) =
        match pages::organisation_and_language(app, query.lang.as_deref(), &headers).await {
            Ok(found) => found,
            Err(response) => return response,
        };
    let policy = match app.privacy_policy(query.version.as_deref()).await {
        Ok(policy) => policy,
        Err(AppError::NotFound(_)) => return pages::problem(app, t, Problem::NotFound).await,
        Err(error) => return pages::failure(app, t, error).await,
    };
    let content = &policy.content;
    let language = t.language;
    // The forms as this version of the policy lists them.
    let mut forms: Vec<FormEntry> = content
        .touchpoints
        .iter()
        .map(|touchpoint| FormEntry {
            key: touchpoint.key.clone(),
            href: format!("/f/{}?lang={}", touchpoint.key, t.code()),
            title: touchpoint.title.get(language).to_string(),
            description: touchpoint
                .description
                .as_ref()
                .map(|d: &LocalisedText| d.get(language).to_string()),
            purposes: touchpoint
                .purposes
                .iter()
                .map(|key| {
                    content
                        .purposes
                        .iter()
                        .find(|p| &p.key == key)
                        .map(|p| p.title.get(language).to_string())
                        .unwrap_or_else(|| key.clone())
                })
                .collect(),
        })
        .collect();
    forms.sort_by(|a, b| a.title.cmp(&b.title));
    let processors = content
        .processors
        .iter()
        .filter(|p| {
            !matches!(
                p.role,
                ProcessorRole::IndependentController | ProcessorRole::JointController
            ) || !p.purposes.is_empty()
        })
        .map(|p| ProcessorRow {
            name: p.name.clone(),
            service: t.service_kind(&p.service),
            country: t.country(&p.country),
            safeguard: match (p.outside_eea, p.transfer_mechanism) {
                (false, _) => t.policy_in_eea.to_string(),
                (true, Some(safeguard)) => t.safeguard(safeguard).to_string(),
                (true, None) => t.policy_no_safeguard.to_string(),
            },
        })
        .collect();
    let history = policy
        .history
        .iter()
        .rev()
        .map(|v| VersionRow {
            short: short(&v.version),
            href: policy_href(&v.version, t),
            first_seen: t.date_time(v.first_seen_at, organisation.zone()),
            current: v.version == policy.current_version,
            shown: v.version == policy.version,
            version: v.version.clone(),
        })
        .collect();
    let mut chrome = Chrome::new(t.privacy_policy, organisation.name.clone());
    chrome.other_language_href = Some(match (&query.version, policy.current) {
        (Some(version), false) => policy_href(version, t.other()),
        _ => format!("/policy?lang={}", t.other().code()),
    });
    let page = PolicyPage {
        chrome,
        t,
        intro: t.policy_intro(&content.controller.name),
        current: policy.current,
        short_version: short(&policy.version),
        first_seen: t.date_time(policy.first_seen_at, organisation.zone()),
        controller: content.controller.clone(),
        forms,
        purposes: content
            .purposes
            .iter()
            .map(|p| purpose_model(p, &content.data_categories, t))
            .collect(),
        processors,
        history,
    };
    layout::render(StatusCode::OK, &page, "'self'")
}
