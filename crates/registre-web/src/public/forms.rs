//! `GET /f/{touchpoint}`: the form, rendered from the notice version it is served with;
//! `POST /f/{touchpoint}`: its submission; `GET /f/{touchpoint}/thanks`: what was recorded.
use super::notice::{NoticeModel, notice_href};
use super::pages::{self, Problem};
use super::{MAX_FORM_BODY, cookie, downloads, flag, mail};
use crate::i18n::{self, Messages};
use crate::layout::{self, Chrome};
use crate::state::AppState;
use askama::Template;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use registre_app::forms::{ConfirmationMail, FormPost, FormReceipt, FormRefusal};
use registre_app::tokens::TokenProblem;
use registre_app::{App, AppError, NoticeView};
use registre_domain::organisation::Organisation;
use registre_domain::purpose::LegalBasis;
use registre_domain::submission::FieldProblem;
use registre_domain::touchpoint::{FieldType, Touchpoint};
use serde::Deserialize;
use std::collections::BTreeMap;

struct FieldView {
    id: String,
    name: String,
    label: String,
    input_type: &'static str,
    textarea: bool,
    required: bool,
    autocomplete: String,
    max_length: u32,
    value: String,
    help: Option<String>,
    error: Option<String>,
    described_by: String,
}

struct ConsentView {
    id: String,
    name: String,
    title: String,
    description: String,
    checked: bool,
}

struct ErrorLink {
    field_id: String,
    message: String,
}

#[derive(Template)]
#[template(path = "form.html")]
struct FormPage {
    chrome: Chrome,
    t: &'static Messages,
    notice: NoticeModel,
    notice_href: String,
    action: String,
    title: String,
    description: Option<String>,
    token: String,
    notice_version: String,
    fields: Vec<FieldView>,
    consents: Vec<ConsentView>,
    errors: Vec<ErrorLink>,
    banner: Option<String>,
    new_tab_href: Option<String>,
}

/// What a form is rendered from, besides the values a person typed.
struct FormContext<'a> {
    app: &'a App,
    organisation: &'a Organisation,
    touchpoint: &'a Touchpoint,
    notice: &'a NoticeView,
    t: &'static Messages,
    embed: bool,
}

/// A form again, after a refusal: what the person typed and ticked, and why it was refused.
#[derive(Default)]
struct Redisplay {
    values: BTreeMap<String, String>,
    ticked: Vec<String>,
    problems: Vec<(String, FieldProblem)>,
    banner: Option<String>,
    new_tab_href: Option<String>,
}

fn form_href(key: &str, t: &Messages, embed: bool) -> String {
    format!(
        "/f/{key}?lang={}{}",
        t.code(),
        if embed { "&embed=1" } else { "" }
    )
}

/// Renders the form with a fresh token (and a fresh cookie if the browser has none).
fn render_form(
    context: &FormContext<'_>,
    status: StatusCode,
    headers: &HeaderMap,
    again: Redisplay,
) -> Response {
    let FormContext {
        app,
        organisation,
        touchpoint,
        notice,
        t,
        embed,
    } = *context;
    let language = t.language;
    let key = touchpoint.key.as_str();
    let (secret, new_cookie) = match cookie::read(headers) {
        Some(secret) => (secret, None),
        None => {
            let secret = registre_app::forms::new_browser_secret();
            (secret.clone(), Some(secret))
        }
    };
    let content = &notice.content;
    let fields: Vec<FieldView> = content
        .touchpoint
        .fields
        .iter()
        .map(|field| {
            let id = format!("field-{}", field.name);
            let label = field.label.get(language).to_string();
            let help = field.help.as_ref().map(|h| h.get(language).to_string());
            let error = again
                .problems
                .iter()
                .find(|(name, _)| name == &field.name)
                .map(|(_, problem)| t.field_problem(&label, *problem));
            let described_by = [
                help.as_ref().map(|_| format!("{id}-help")),
                error.as_ref().map(|_| format!("{id}-error")),
            ]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
            FieldView {
                name: field.name.clone(),
                input_type: match field.field_type {
                    FieldType::Textarea => "text",
                    other => other.as_str(),
                },
                textarea: field.field_type == FieldType::Textarea,
                required: field.required,
                autocomplete: field.autocomplete_hint().to_string(),
                max_length: field.max_length.unwrap_or(200),
                value: again.values.get(&field.name).cloned().unwrap_or_default(),
                help,
                error,
                described_by,
                label,
                id,
            }
        })
        .collect();
    let errors = fields
        .iter()
        .filter_map(|f| {
            f.error.as_ref().map(|message| ErrorLink {
                field_id: f.id.clone(),
                message: message.clone(),
            })
        })
        .collect();
    let consents = content
        .purposes
        .iter()
        .filter(|p| p.legal_basis == LegalBasis::Consent)
        .map(|p| ConsentView {
            id: format!("consent-{}", p.key),
            name: format!("consent.{}", p.key),
            title: p.title.get(language).to_string(),
            description: p.description.get(language).to_string(),
            checked: again.ticked.contains(&p.key),
        })
        .collect();
    let title = content.touchpoint.title.get(language).to_string();
    let mut chrome = Chrome::new(title.clone(), organisation.name.clone());
    chrome.embed = embed;
    chrome.other_language_href = Some(form_href(key, t.other(), embed));
    chrome.privacy_policy_url = content.controller.privacy_policy_url.clone();
    let page = FormPage {
        chrome,
        t,
        notice_href: notice_href(key, &notice.version, t),
        action: format!("/f/{key}{}", if embed { "?embed=1" } else { "" }),
        description: content
            .touchpoint
            .description
            .as_ref()
            .map(|d| d.get(language).to_string()),
        token: app.form_token(key, &notice.version, &secret),
        notice_version: notice.version.clone(),
        notice: NoticeModel::build(notice, t, organisation.zone()),
        title,
        fields,
        consents,
        errors,
        banner: again.banner,
        new_tab_href: again.new_tab_href,
    };
    let mut response = layout::render(
        status,
        &page,
        &layout::frame_ancestors(&touchpoint.frame_ancestors),
    );
    if let Some(secret) = new_cookie
        && let Ok(value) = HeaderValue::from_str(&cookie::set(
            app.config().public_url.starts_with("https://"),
            &secret,
        ))
    {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

#[derive(Deserialize)]
pub struct FormQuery {
    lang: Option<String>,
    embed: Option<String>,
}

/// The organisation and touchpoint of a request, or the page that says why not.
async fn load(
    app: &App,
    key: &str,
    asked: Option<&str>,
    headers: &HeaderMap,
) -> Result<(Organisation, Touchpoint, &'static Messages), Response> {
    let organisation = match app.organisation().await {
        Ok(organisation) => organisation,
        Err(error) => {
            return Err(pages::failure(
                app,
                layout::choose_language(asked, headers, Default::default()),
                error,
            )
            .await);
        }
    };
    let t = layout::choose_language(asked, headers, organisation.default_language);
    match app.touchpoint(key).await {
        Ok(touchpoint) => Ok((organisation, touchpoint, t)),
        Err(error) => Err(pages::failure(app, t, error).await),
    }
}

/// The current notice of a touchpoint, as published (with its first publication date).
async fn current_notice(app: &App, touchpoint: &Touchpoint) -> Result<NoticeView, AppError> {
    let current = app.current_notice(touchpoint).await?;
    Ok(app
        .served_notice(touchpoint.key.as_str(), &current.version)
        .await?
        .unwrap_or(current))
}

pub async fn show(
    State(state): State<AppState>,
    Path(key): Path<String>,
    Query(query): Query<FormQuery>,
    headers: HeaderMap,
) -> Response {
    let app = &state.app;
    let (organisation, touchpoint, t) = match load(app, &key, query.lang.as_deref(), &headers).await
    {
        Ok(loaded) => loaded,
        Err(page) => return page,
    };
    let notice = match current_notice(app, &touchpoint).await {
        Ok(notice) => notice,
        Err(error) => return pages::failure(app, t, error).await,
    };
    let context = FormContext {
        app,
        organisation: &organisation,
        touchpoint: &touchpoint,
        notice: &notice,
        t,
        embed: flag(query.embed.as_deref()),
    };
    render_form(&context, StatusCode::OK, &headers, Redisplay::default())
}

/// A form body, sorted into the form's protocol fields, consent boxes and values.
#[derive(Default)]
struct Posted {
    token: String,
    notice_version: String,
    lang: Option<String>,
    honeypot: String,
    consents: Vec<String>,
    values: BTreeMap<String, String>,
    /// A field sent twice, or a box with a value no checkbox of ours sends.
    malformed: bool,
}

fn sort_body(pairs: Vec<(String, String)>) -> Posted {
    let mut posted = Posted::default();
    let mut seen = std::collections::HashSet::new();
    for (name, value) in pairs {
        if !seen.insert(name.clone()) {
            posted.malformed = true;
            continue;
        }
        match name.as_str() {
            "csrf_token" => posted.token = value,
            "notice_version" => posted.notice_version = value,
            "lang" => posted.lang = Some(value),
            "website" => posted.honeypot = value,
            _ => match name.strip_prefix("consent.") {
                Some(purpose) => {
                    if matches!(value.as_str(), "yes" | "on" | "1" | "true") {
                        posted.consents.push(purpose.to_string());
                    } else {
                        posted.malformed = true;
                    }
                }
                // Unknown names are dropped by the checks: only the notice's fields are kept.
                None => {
                    posted.values.insert(name, value);
                }
            },
        }
    }
    posted
}

pub async fn submit(
    State(state): State<AppState>,
    Path(key): Path<String>,
    Query(query): Query<FormQuery>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let app = &state.app;
    let embed = flag(query.embed.as_deref());
    let (organisation, touchpoint, accept_t) =
        match load(app, &key, query.lang.as_deref(), &headers).await {
            Ok(loaded) => loaded,
            Err(page) => return page,
        };
    let back = form_href(&key, accept_t, embed);
    let urlencoded = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.trim()
                .to_ascii_lowercase()
                .starts_with("application/x-www-form-urlencoded")
        });
    if !urlencoded {
        return pages::problem(app, accept_t, Problem::Unsupported { form_href: back }).await;
    }
    let bytes = match axum::body::to_bytes(body, MAX_FORM_BODY).await {
        Ok(bytes) => bytes,
        Err(_) => {
            return pages::problem(
                app,
                accept_t,
                Problem::TooLarge {
                    form_href: Some(back),
                },
            )
            .await;
        }
    };
    let Ok(pairs) = serde_urlencoded::from_bytes::<Vec<(String, String)>>(&bytes) else {
        return pages::problem(app, accept_t, Problem::Forged { form_href: back }).await;
    };
    let posted = sort_body(pairs);
    let t = layout::choose_language(
        posted.lang.as_deref(),
        &headers,
        organisation.default_language,
    );
    let back = form_href(&key, t, embed);
    if posted.malformed {
        return pages::problem(app, t, Problem::Forged { form_href: back }).await;
    }
    if !posted.honeypot.trim().is_empty() {
        return pages::problem(app, t, Problem::Automated { form_href: back }).await;
    }
    // The notice to show again if the form is refused: the one it was served with, when
    // that is one of this touchpoint's versions.
    let served = match app.served_notice(&key, &posted.notice_version).await {
        Ok(served) => served,
        Err(error) => return pages::failure(app, t, error).await,
    };
    let redisplay = |notice: &NoticeView, status: StatusCode, again: Redisplay| {
        let context = FormContext {
            app,
            organisation: &organisation,
            touchpoint: &touchpoint,
            notice,
            t,
            embed,
        };
        render_form(&context, status, &headers, again)
    };
    let kept = |posted: &Posted| Redisplay {
        values: posted.values.clone(),
        ticked: posted.consents.clone(),
        ..Default::default()
    };
    let Some(browser_secret) = cookie::read(&headers) else {
        let notice = match served {
            Some(notice) => notice,
            None => match current_notice(app, &touchpoint).await {
                Ok(notice) => notice,
                Err(error) => return pages::failure(app, t, error).await,
            },
        };
        let again = Redisplay {
            banner: Some(t.no_cookie.into()),
            new_tab_href: embed.then(|| form_href(&key, t, false)),
            ..kept(&posted)
        };
        return redisplay(&notice, StatusCode::FORBIDDEN, again);
    };
    let post = FormPost {
        touchpoint: key.clone(),
        notice_version: posted.notice_version.clone(),
        token: posted.token.clone(),
        browser_secret,
        values: posted.values.clone(),
        consents: posted.consents.clone(),
        language: t.language,
    };
    let write_confirmation = |notice: &NoticeView, confirmation: &ConfirmationMail| {
        mail::confirmation_mail(app, notice, confirmation)
    };
    match app.submit_form(post, &write_confirmation).await {
        Ok(submitted) => {
            let receipt = FormReceipt {
                touchpoint: submitted.touchpoint,
                granted: submitted.granted,
                pending: submitted.pending,
                confirmation_sent: submitted.confirmation_queued,
                language: t.language,
                events: submitted.events,
            };
            let location = format!(
                "/f/{key}/thanks?r={}{}",
                app.sign_receipt(&receipt),
                if embed { "&embed=1" } else { "" }
            );
            let mut response = Response::new(Body::empty());
            *response.status_mut() = StatusCode::SEE_OTHER;
            if let Ok(value) = HeaderValue::from_str(&location) {
                response.headers_mut().insert(header::LOCATION, value);
            }
            response
                .headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            response
        }
        Err(FormRefusal::Invalid(problems)) => match served {
            Some(notice) => redisplay(
                &notice,
                StatusCode::UNPROCESSABLE_ENTITY,
                Redisplay {
                    problems,
                    ..kept(&posted)
                },
            ),
            None => pages::problem(app, t, Problem::Forged { form_href: back }).await,
        },
        Err(FormRefusal::NothingChosen) => match served {
            Some(notice) => redisplay(
                &notice,
                StatusCode::UNPROCESSABLE_ENTITY,
                Redisplay {
                    banner: Some(t.nothing_chosen.into()),
                    ..kept(&posted)
                },
            ),
            None => pages::problem(app, t, Problem::Forged { form_href: back }).await,
        },
        Err(FormRefusal::Forged(_) | FormRefusal::StaleForm) => {
            pages::problem(app, t, Problem::Forged { form_href: back }).await
        }
        Err(FormRefusal::Token(problem)) => {
            let notice = match served {
                Some(notice) => notice,
                None => match current_notice(app, &touchpoint).await {
                    Ok(notice) => notice,
                    Err(error) => return pages::failure(app, t, error).await,
                },
            };
            let banner = match problem {
                TokenProblem::Expired => t.form_expired,
                TokenProblem::AlreadyUsed => t.form_used,
                TokenProblem::Invalid => t.form_invalid,
            };
            redisplay(
                &notice,
                StatusCode::FORBIDDEN,
                Redisplay {
                    banner: Some(banner.into()),
                    ..kept(&posted)
                },
            )
        }
        Err(FormRefusal::Failed(error)) => pages::failure(app, t, error).await,
    }
}

struct DownloadLink {
    href: String,
    label: String,
}

#[derive(Template)]
#[template(path = "thanks.html")]
struct ThanksPage {
    chrome: Chrome,
    t: &'static Messages,
    title: String,
    granted: Vec<String>,
    pending: Vec<String>,
    confirmation_sent: bool,
    has_choices: bool,
    download: Option<DownloadLink>,
    /// The receipt of each consent event of the submission.
    receipts: Vec<DownloadLink>,
    dpo_email: String,
    back_href: String,
}

#[derive(Deserialize)]
pub struct ThanksQuery {
    r: Option<String>,
    embed: Option<String>,
}

pub async fn thanks(
    State(state): State<AppState>,
    Path(key): Path<String>,
    Query(query): Query<ThanksQuery>,
    headers: HeaderMap,
) -> Response {
    let app = &state.app;
    let embed = flag(query.embed.as_deref());
    let (organisation, touchpoint, accept_t) = match load(app, &key, None, &headers).await {
        Ok(loaded) => loaded,
        Err(page) => return page,
    };
    let receipt = match app.open_receipt(query.r.as_deref().unwrap_or("")) {
        Ok(receipt) if receipt.touchpoint == key => receipt,
        _ => return pages::problem(app, accept_t, Problem::NotFound).await,
    };
    let t = i18n::messages(receipt.language);
    let purposes = match app.purposes().await {
        Ok(purposes) => purposes,
        Err(error) => return pages::failure(app, t, error).await,
    };
    let title_of = |keys: &[String]| -> Vec<String> {
        keys.iter()
            .map(|k| {
                purposes
                    .iter()
                    .find(|p| p.key.as_str() == k)
                    .map(|p| p.title.get(t.language).to_string())
                    .unwrap_or_else(|| k.clone())
            })
            .collect()
    };
    let has_choices = touchpoint.purposes.iter().any(|k| {
        purposes
            .iter()
            .any(|p| p.key.as_str() == k && p.legal_basis == LegalBasis::Consent)
    });
    let download = touchpoint
        .download
        .as_deref()
        .and_then(downloads::find)
        .map(|document| DownloadLink {
            href: format!(
                "/f/{key}/download?token={}",
                app.sign_download(document.key, t.language)
            ),
            label: document.title(t.language).to_string(),
        });
    let chosen: Vec<String> = receipt
        .granted
        .iter()
        .chain(receipt.pending.iter())
        .cloned()
        .collect();
    let receipts = receipt_links(app, &receipt, &title_of(&chosen), t);
    let title = touchpoint.title.get(t.language).to_string();
    let mut chrome = Chrome::new(
        format!("{} — {title}", t.thanks_heading),
        organisation.name.clone(),
    );
    chrome.embed = embed;
    chrome.privacy_policy_url = organisation.privacy_policy_url.clone();
    let page = ThanksPage {
        chrome,
        t,
        title,
        granted: title_of(&receipt.granted),
        pending: title_of(&receipt.pending),
        confirmation_sent: receipt.confirmation_sent,
        has_choices,
        download,
        receipts,
        dpo_email: organisation.dpo.email.clone(),
        back_href: form_href(&key, t, embed),
    };
    layout::render(
        StatusCode::OK,
        &page,
        &layout::frame_ancestors(&touchpoint.frame_ancestors),
    )
}

/// A link to the receipt of each consent event of a submission, named by its purpose:
/// the events are recorded in the order of the boxes (`granted`, or `pending`).
fn receipt_links(
    app: &App,
    receipt: &FormReceipt,
    titles: &[String],
    t: &'static Messages,
) -> Vec<DownloadLink> {
    receipt
        .events
        .iter()
        .enumerate()
        .map(|(i, event_id)| DownloadLink {
            href: super::receipt::receipt_href(app, *event_id, t),
            label: titles
                .get(i)
                .cloned()
                .unwrap_or_else(|| t.receipt_link.to_string()),
        })
        .collect()
}
