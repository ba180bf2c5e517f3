//! The privacy portal `/privacy`: sign-in by a link sent by email, then the person's
//! purposes with their state and history, one-click withdrawal or grant, their data as JSON,
//! and requests of any type. HTML only, no script; every POST carries a CSRF token bound to
//! the session; the session is a signed cookie (HttpOnly, SameSite=Lax, Secure over https).
use super::texts::Tr;
use crate::state::AppState;
use askama::Template;
use axum::Router;
use axum::extract::{ConnectInfo, Form, FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use registre_app::portal::PortalSession;
use registre_app::tokens::{TokenKind, TokenProblem};
use registre_app::{App, AppError};
use registre_domain::{DomainError, Language, words};
use serde::Deserialize;
use std::net::SocketAddr;

const COOKIE: &str = "registre_portal";
const CSS: &str = include_str!("../../static/portal.css");
const REQUEST_TYPES: [&str; 6] = [
    "access",
    "rectification",
    "erasure",
    "restriction",
    "portability",
    "objection",
];

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/privacy", get(home))
        .route("/privacy/", get(home))
        .route("/privacy/portal.css", get(stylesheet))
        .route("/privacy/sign-in", get(open_link).post(send_link))
        .route("/privacy/sign-in/confirm", post(confirm))
        .route("/privacy/sign-out", post(sign_out))
        .route("/privacy/consents", post(set_consent))
        .route("/privacy/requests", post(file_request))
        .route("/privacy/data", get(download_data))
        .route("/privacy/export/{token}", get(download_export))
}

// ---- page plumbing ----

struct Chrome {
    t: Tr,
    organisation: String,
    authority_name: String,
    authority_url: String,
    /// The organisation's time zone, in which the portal writes dates.
    zone: chrono_tz::Tz,
}

async fn chrome(app: &App, language: Language) -> Chrome {
    let organisation = app.organisation().await.ok();
    Chrome {
        t: Tr(language),
        organisation: organisation
            .as_ref()
            .map(|o| o.name.clone())
            .unwrap_or_default(),
        authority_name: organisation
            .as_ref()
            .map(|o| o.authority.name.clone())
            .unwrap_or_else(|| "CNIL".into()),
        authority_url: organisation
            .as_ref()
            .map(|o| o.authority.url.clone())
            .unwrap_or_else(|| "https://www.cnil.fr".into()),
        zone: organisation
            .as_ref()
            .map(|o| o.zone())
            .unwrap_or(words::DEFAULT_TIME_ZONE),
    }
}

/// The language asked (`lang`), else the browser's, else the organisation's.
async fn language(app: &App, asked: Option<&str>, headers: &HeaderMap) -> Language {
    if let Some(language) = asked.and_then(Language::parse) {
        return language;
    }
    if let Some(language) = headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .and_then(Language::from_accept_language)
    {
        return language;
    }
    app.organisation()
        .await
        .map(|o| o.default_language)
        .unwrap_or_default()
}

fn html(status: StatusCode, body: Result<String, askama::Error>) -> Response {
    let body = match body {
        Ok(body) => body,
        Err(error) => {
            tracing::error!(%error, "a portal template failed");
            return (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response();
        }
    };
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    secure_headers(headers);
    response
}

fn secure_headers(headers: &mut HeaderMap) {
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    // The sign-in link's token must not leak to other sites through Referer.
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
}

fn see_other(location: &str) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(value) = HeaderValue::from_str(location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    secure_headers(response.headers_mut());
    response
}

#[derive(Template)]
#[template(path = "portal/message.html")]
struct MessagePage {
    t: Tr,
    organisation: String,
    authority_name: String,
    authority_url: String,
    self_path: &'static str,
    heading: &'static str,
    paragraphs: Vec<&'static str>,
}

async fn message(
    app: &App,
    language: Language,
    status: StatusCode,
    heading: &str,
    paragraphs: &[&str],
) -> Response {
    let c = chrome(app, language).await;
    let page = MessagePage {
        heading: c.t.s(heading),
        paragraphs: paragraphs.iter().map(|p| c.t.s(p)).collect(),
        t: c.t,
        organisation: c.organisation,
        authority_name: c.authority_name,
        authority_url: c.authority_url,
        self_path: "/privacy",
    };
    html(status, page.render())
}

fn session_of(app: &App, headers: &HeaderMap) -> Option<PortalSession> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .filter(|(name, _)| *name == COOKIE)
        .find_map(|(_, value)| app.portal_session(value))
}

fn session_cookie(app: &App, value: &str, max_age: i64) -> HeaderValue {
    let secure = if app.config().public_url.starts_with("https://") {
        "; Secure"
    } else {
        ""
    };
    HeaderValue::from_str(&format!(
        "{COOKIE}={value}; Path=/privacy; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static("registre_portal=; Path=/privacy; Max-Age=0"))
}

/// The client's IP address, for rate limiting (never logged).
struct ClientIp(String);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let ip = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip().to_string());
        Ok(Self(ip.unwrap_or_else(|| "unknown".into())))
    }
}

#[derive(Deserialize, Default)]
struct LangQuery {
    lang: Option<String>,
    /// What just happened, to say so on the page.
    done: Option<String>,
}

// ---- sign-in ----

#[derive(Template)]
#[template(path = "portal/sign_in.html")]
struct SignInPage {
    t: Tr,
    organisation: String,
    authority_name: String,
    authority_url: String,
    self_path: &'static str,
    email: String,
    error: Option<&'static str>,
}

async fn sign_in_page(
    app: &App,
    language: Language,
    status: StatusCode,
    email: String,
    error: Option<&'static str>,
) -> Response {
    let c = chrome(app, language).await;
    let page = SignInPage {
        t: c.t,
        organisation: c.organisation,
        authority_name: c.authority_name,
        authority_url: c.authority_url,
        self_path: "/privacy",
        email,
        error,
    };
    html(status, page.render())
}

async fn home(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<LangQuery>,
) -> Response {
    let app = &state.app;
    let language = language(app, query.lang.as_deref(), &headers).await;
    match session_of(app, &headers) {
        Some(session) => overview(app, &session, language, query.done.as_deref()).await,
        None => sign_in_page(app, language, StatusCode::OK, String::new(), None).await,
    }
}

async fn stylesheet() -> Response {
    let mut response = CSS.into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/css; charset=utf-8"),
    );
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=3600"),
    );
    response
}

#[derive(Deserialize)]
struct SignInForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    lang: Option<String>,
}

/// Sends the link. The page says the same whether or not the address is known.
async fn send_link(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    headers: HeaderMap,
    Form(form): Form<SignInForm>,
) -> Response {
    let app = &state.app;
    let language = language(app, form.lang.as_deref(), &headers).await;
    match app
        .request_portal_sign_in(&form.email, &client, language)
        .await
    {
        Ok(()) => {
            message(
                app,
                language,
                StatusCode::OK,
                "check_mail_title",
                &["check_mail_body", "check_mail_hint"],
            )
            .await
        }
        Err(AppError::RateLimited) => {
            message(
                app,
                language,
                StatusCode::TOO_MANY_REQUESTS,
                "too_many_title",
                &["too_many_body"],
            )
            .await
        }
        Err(AppError::Domain(DomainError::Invalid { .. })) => {
            let shown: String = form.email.chars().take(254).collect();
            sign_in_page(
                app,
                language,
                StatusCode::UNPROCESSABLE_ENTITY,
                shown,
                Some(Tr(language).s("invalid_email")),
            )
            .await
        }
        Err(error) => {
            tracing::error!(%error, "a sign-in link could not be sent");
            message(
                app,
                language,
                StatusCode::INTERNAL_SERVER_ERROR,
                "error_title",
                &["error_body"],
            )
            .await
        }
    }
}

#[derive(Deserialize)]
struct LinkQuery {
    #[serde(default)]
    token: String,
    lang: Option<String>,
}

fn link_problem_text(problem: TokenProblem) -> &'static str {
    match problem {
        TokenProblem::Invalid => "link_invalid",
        TokenProblem::Expired => "link_expired",
        TokenProblem::AlreadyUsed => "link_used",
    }
}

#[derive(Template)]
#[template(path = "portal/confirm.html")]
struct ConfirmPage {
    t: Tr,
    organisation: String,
    authority_name: String,
    authority_url: String,
    self_path: &'static str,
    token: String,
}

/// The link from the mail shows a button rather than signing in at once: mail scanners
/// that open links must not spend them.
async fn open_link(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<LinkQuery>,
) -> Response {
    let app = &state.app;
    let language = language(app, query.lang.as_deref(), &headers).await;
    if let Err(problem) = app.verify_token(TokenKind::PortalSignIn, &query.token) {
        let status = if problem == TokenProblem::Expired {
            StatusCode::GONE
        } else {
            StatusCode::BAD_REQUEST
        };
        return message(
            app,
            language,
            status,
            "link_invalid_title",
            &[link_problem_text(problem)],
        )
        .await;
    }
    let c = chrome(app, language).await;
    let page = ConfirmPage {
        t: c.t,
        organisation: c.organisation,
        authority_name: c.authority_name,
        authority_url: c.authority_url,
        self_path: "/privacy",
        token: query.token,
    };
    html(StatusCode::OK, page.render())
}

#[derive(Deserialize)]
struct ConfirmForm {
    #[serde(default)]
    token: String,
    lang: Option<String>,
}

async fn confirm(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<ConfirmForm>,
) -> Response {
    let app = &state.app;
    let language = language(app, form.lang.as_deref(), &headers).await;
    match app.complete_portal_sign_in(&form.token).await {
        Ok(Ok(session)) => {
            let mut response = see_other(&format!("/privacy?lang={}", language.code()));
            let max_age = registre_app::portal::SESSION_VALIDITY_MINUTES * 60;
            response
                .headers_mut()
                .insert(header::SET_COOKIE, session_cookie(app, &session, max_age));
            response
        }
        Ok(Err(problem)) => {
            let status = match problem {
                TokenProblem::Expired | TokenProblem::AlreadyUsed => StatusCode::GONE,
                TokenProblem::Invalid => StatusCode::BAD_REQUEST,
            };
            message(
                app,
                language,
                status,
                "link_invalid_title",
                &[link_problem_text(problem)],
            )
            .await
        }
        Err(error) => {
            tracing::error!(%error, "a sign-in could not be completed");
            message(
                app,
                language,
                StatusCode::INTERNAL_SERVER_ERROR,
                "error_title",
                &["error_body"],
            )
            .await
        }
    }
}

#[derive(Deserialize)]
struct CsrfForm {
    #[serde(default)]
    csrf: String,
    lang: Option<String>,
}

/// The session of a POST, if its CSRF token matches.
fn session_for_post(app: &App, headers: &HeaderMap, csrf: &str) -> Option<PortalSession> {
    session_of(app, headers).filter(|session| app.check_portal_csrf(session, csrf))
}

async fn sign_out(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<CsrfForm>,
) -> Response {
    let app = &state.app;
    let language = language(app, form.lang.as_deref(), &headers).await;
    if session_for_post(app, &headers, &form.csrf).is_none() {
        return message(
            app,
            language,
            StatusCode::FORBIDDEN,
            "session_over_title",
            &["session_over"],
        )
        .await;
    }
    let mut response = see_other(&format!("/privacy?lang={}", language.code()));
    response
        .headers_mut()
        .insert(header::SET_COOKIE, session_cookie(app, "", 0));
    response
}

// ---- signed in ----

struct HistoryRow {
    at: String,
    action: &'static str,
    /// Where the choice was made, in words (the form's title for a form).
    source: String,
}

struct PurposeRow {
    key: String,
    title: String,
    description: String,
    state: String,
    state_label: &'static str,
    since: Option<String>,
    basis_label: &'static str,
    /// The legitimate interest, as stated, when that is the basis.
    legitimate_interest: Option<String>,
    retention: String,
    recipients: String,
    consent_based: bool,
    granted: bool,
    history: Vec<HistoryRow>,
}

/// One consent event with a link to its receipt.
struct ReceiptRow {
    at: String,
    purpose: String,
    action: &'static str,
    href: String,
}

struct RequestRow {
    kind: &'static str,
    kind_label: &'static str,
    status: &'static str,
    status_label: &'static str,
    received_at: String,
    due_at: String,
    details: Option<String>,
    mails: Vec<MailRow>,
}

/// A mail the person was sent about a request.
struct MailRow {
    at: String,
    subject: String,
    body: String,
}

#[derive(Template)]
#[template(path = "portal/overview.html")]
struct OverviewPage {
    t: Tr,
    organisation: String,
    authority_name: String,
    authority_url: String,
    self_path: &'static str,
    email: String,
    csrf: String,
    notice: Option<&'static str>,
    restricted: bool,
    objected: bool,
    /// Purposes resting on the person's consent, which they can give or withdraw here.
    consents: Vec<PurposeRow>,
    /// Purposes on another basis that apply to them.
    others: Vec<PurposeRow>,
    request_types: Vec<(&'static str, &'static str)>,
    requests: Vec<RequestRow>,
    receipts: Vec<ReceiptRow>,
}

async fn overview(
    app: &App,
    session: &PortalSession,
    language: Language,
    done: Option<&str>,
) -> Response {
    let overview = match app.portal_overview(session).await {
        Ok(overview) => overview,
        Err(error) => {
            tracing::error!(%error, "the portal overview failed");
            return message(
                app,
                language,
                StatusCode::INTERNAL_SERVER_ERROR,
                "error_title",
                &["error_body"],
            )
            .await;
        }
    };
    let c = chrome(app, language).await;
    let t = c.t;
    let zone = c.zone;
    let day = |at: chrono::DateTime<chrono::Utc>, language: Language| {
        words::date_time(at, zone, language)
    };
    let form_titles: std::collections::BTreeMap<String, String> = app
        .touchpoints()
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|tp| (tp.key.to_string(), tp.title.get(language).to_string()))
        .collect();
    let source_of = |e: &registre_domain::ledger::ConsentEvent| match e
        .touchpoint
        .as_ref()
        .and_then(|k| form_titles.get(k))
    {
        Some(title) if e.source.as_str() == "form" || e.source.as_str() == "email_link" => {
            if language == Language::Fr {
                format!("{} («\u{a0}{title}\u{a0}»)", t.source(e.source.as_str()))
            } else {
                format!("{} (“{title}”)", t.source(e.source.as_str()))
            }
        }
        _ => t.source(e.source.as_str()).to_string(),
    };
    let (consents, others): (Vec<PurposeRow>, Vec<PurposeRow>) = overview
        .purposes
        .iter()
        .map(|p| PurposeRow {
            key: p.key.clone(),
            title: if language == Language::Fr {
                p.title.fr.clone()
            } else {
                p.title.en.clone()
            },
            description: if language == Language::Fr {
                p.description.fr.clone()
            } else {
                p.description.en.clone()
            },
            state: p.state.clone(),
            state_label: t.state(&p.state),
            since: p.since.map(|at| day(at, language)),
            basis_label: t.basis(p.legal_basis.as_str()),
            legitimate_interest: p
                .legitimate_interest
                .as_ref()
                .map(|text| text.get(language).to_string()),
            retention: words::retention(p.retention_days).get(language).to_string(),
            recipients: p.recipients.join(", "),
            consent_based: p.consent_based,
            granted: p.state == "granted" || p.state == "pending",
            history: p
                .history
                .iter()
                .rev()
                .map(|e| HistoryRow {
                    at: day(e.occurred_at, language),
                    action: t.action(e.action.as_str()),
                    source: source_of(e),
                })
                .collect(),
        })
        .partition(|row| row.consent_based);
    let mut receipts: Vec<(chrono::DateTime<chrono::Utc>, ReceiptRow)> = overview
        .purposes
        .iter()
        .flat_map(|p| {
            let title = if language == Language::Fr {
                p.title.fr.clone()
            } else {
                p.title.en.clone()
            };
            p.history
                .iter()
                .filter(|e| {
                    matches!(
                        e.action.as_str(),
                        "grant" | "withdraw" | "grant_pending" | "expire"
                    )
                })
                .map(move |e| {
                    (
                        e.occurred_at,
                        ReceiptRow {
                            at: day(e.occurred_at, language),
                            purpose: title.clone(),
                            action: t.action(e.action.as_str()),
                            href: format!(
                                "/r/{}?lang={}",
                                app.receipt_token(e.event_id),
                                language.code()
                            ),
                        },
                    )
                })
        })
        .collect();
    receipts.sort_by_key(|b| std::cmp::Reverse(b.0));
    let receipts: Vec<ReceiptRow> = receipts.into_iter().map(|(_, row)| row).collect();
    let requests = overview
        .requests
        .iter()
        .rev()
        .map(|entry| {
            let r = &entry.request;
            RequestRow {
                kind: r.request_type.as_str(),
                kind_label: t.request_type(r.request_type.as_str()),
                status: r.status.as_str(),
                status_label: t.status(r.status.as_str()),
                received_at: words::date(r.received_at, zone, language),
                due_at: words::date(r.due_at, zone, language),
                details: r.details.clone().filter(|d| !d.trim().is_empty()),
                mails: entry
                    .mails
                    .iter()
                    .map(|m| MailRow {
                        at: day(m.at, language),
                        subject: m.subject.clone(),
                        body: m.body.clone(),
                    })
                    .collect(),
            }
        })
        .collect();
    let notice = match done {
        Some("request") => Some(t.s("request_filed")),
        Some("consent") => Some(t.s("consent_saved")),
        _ => None,
    };
    let page = OverviewPage {
        email: session.email.as_str().to_string(),
        csrf: app.portal_csrf(session),
        notice,
        restricted: overview.restricted,
        objected: overview.objected_to_marketing,
        consents,
        others,
        request_types: REQUEST_TYPES
            .iter()
            .map(|k| (*k, t.request_type(k)))
            .collect(),
        requests,
        receipts,
        t,
        organisation: c.organisation,
        authority_name: c.authority_name,
        authority_url: c.authority_url,
        self_path: "/privacy",
    };
    html(StatusCode::OK, page.render())
}

#[derive(Deserialize)]
struct ConsentForm {
    #[serde(default)]
    csrf: String,
    lang: Option<String>,
    #[serde(default)]
    purpose: String,
    #[serde(default)]
    action: String,
}

async fn set_consent(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<ConsentForm>,
) -> Response {
    let app = &state.app;
    let language = language(app, form.lang.as_deref(), &headers).await;
    let Some(session) = session_for_post(app, &headers, &form.csrf) else {
        return message(
            app,
            language,
            StatusCode::FORBIDDEN,
            "session_over_title",
            &["session_over"],
        )
        .await;
    };
    let grant = match form.action.as_str() {
        "grant" => true,
        "withdraw" => false,
        _ => {
            return message(
                app,
                language,
                StatusCode::UNPROCESSABLE_ENTITY,
                "error_title",
                &["error_body"],
            )
            .await;
        }
    };
    match app.portal_set_consent(&session, &form.purpose, grant).await {
        Ok(_) => see_other(&format!(
            "/privacy?lang={}&done=consent#purpose-{}",
            language.code(),
            form.purpose
        )),
        Err(AppError::NotFound(_)) => {
            message(
                app,
                language,
                StatusCode::NOT_FOUND,
                "error_title",
                &["error_body"],
            )
            .await
        }
        Err(AppError::Domain(_)) => {
            message(
                app,
                language,
                StatusCode::UNPROCESSABLE_ENTITY,
                "error_title",
                &["error_body"],
            )
            .await
        }
        Err(error) => {
            tracing::error!(%error, "a portal consent could not be recorded");
            message(
                app,
                language,
                StatusCode::INTERNAL_SERVER_ERROR,
                "error_title",
                &["error_body"],
            )
            .await
        }
    }
}

#[derive(Deserialize)]
struct RequestForm {
    #[serde(default)]
    csrf: String,
    lang: Option<String>,
    #[serde(default, rename = "type")]
    request_type: String,
    #[serde(default)]
    message: String,
}

/// A request for the signed-in person's own address: any other address in the form is
/// ignored.
async fn file_request(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<RequestForm>,
) -> Response {
    let app = &state.app;
    let language = language(app, form.lang.as_deref(), &headers).await;
    let Some(session) = session_for_post(app, &headers, &form.csrf) else {
        return message(
            app,
            language,
            StatusCode::FORBIDDEN,
            "session_over_title",
            &["session_over"],
        )
        .await;
    };
    let text = Some(form.message.as_str()).filter(|m| !m.trim().is_empty());
    match app
        .portal_file_request(&session, &form.request_type, text, language)
        .await
    {
        Ok(_) => see_other(&format!("/privacy?lang={}&done=request", language.code())),
        Err(AppError::Domain(_)) => {
            message(
                app,
                language,
                StatusCode::UNPROCESSABLE_ENTITY,
                "error_title",
                &["error_body"],
            )
            .await
        }
        Err(error) => {
            tracing::error!(%error, "a portal request could not be filed");
            message(
                app,
                language,
                StatusCode::INTERNAL_SERVER_ERROR,
                "error_title",
                &["error_body"],
            )
            .await
        }
    }
}

async fn download_data(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<LangQuery>,
) -> Response {
    let app = &state.app;
    let language = language(app, query.lang.as_deref(), &headers).await;
    let Some(session) = session_of(app, &headers) else {
        return see_other(&format!("/privacy?lang={}", language.code()));
    };
    match app.portal_export(&session).await {
        Ok(receiver) => {
            let mut response = crate::api::stream_json(receiver, Some("my-data.json"));
            secure_headers(response.headers_mut());
            response
        }
        Err(error) => {
            tracing::error!(%error, "a portal export failed");
            message(
                app,
                language,
                StatusCode::INTERNAL_SERVER_ERROR,
                "error_title",
                &["error_body"],
            )
            .await
        }
    }
}

/// The zip behind a download link sent with a completed access or portability request.
async fn download_export(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(token): Path<String>,
) -> Response {
    let app = &state.app;
    let language = language(app, None, &headers).await;
    match app.download(&token).await {
        Ok(download) => {
            let mut response = download.bytes.into_response();
            let headers = response.headers_mut();
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static(download.content_type),
            );
            if let Ok(value) =
                HeaderValue::from_str(&format!("attachment; filename=\"{}\"", download.filename))
            {
                headers.insert(header::CONTENT_DISPOSITION, value);
            }
            secure_headers(headers);
            response
        }
        Err(AppError::Domain(_)) => {
            message(
                app,
                language,
                StatusCode::FORBIDDEN,
                "link_invalid_title",
                &["link_expired"],
            )
            .await
        }
        Err(AppError::NotFound(_)) => {
            message(
                app,
                language,
                StatusCode::NOT_FOUND,
                "link_invalid_title",
                &["link_invalid"],
            )
            .await
        }
        Err(error) => {
            tracing::error!(%error, "a download failed");
            message(
                app,
                language,
                StatusCode::INTERNAL_SERVER_ERROR,
                "error_title",
                &["error_body"],
            )
            .await
        }
    }
}
