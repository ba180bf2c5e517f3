//! The admin console (`/console`): the DPO's cockpit. Server-rendered pages in French or
//! English (each user's own), dates in each user's time zone, no script, under a CSP that
//! allows nothing but our stylesheet. Sessions live on the server (a signed cookie names
//! one; signing out deletes it); every form carries the session's CSRF token; roles are
//! enforced by the app's use cases, which the pages call exactly as the API does.
//!
//! One module per page family; the plumbing (session, CSRF, pages, errors) is here.
mod catalogue;
mod dashboard;
mod people;
mod registers;
mod system;
pub mod texts;

use crate::error::ApiError;
use crate::layout;
use crate::state::AppState;
use askama::Template;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, FromRequestParts, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use chrono::{DateTime, NaiveDate, Utc};
use registre_app::console::SignIn;
use registre_app::{App, AppError, ConsoleSession};
use registre_domain::Language;
use registre_domain::role::Permission;
use registre_domain::words;
use serde::Deserialize;
use texts::Texts;

/// The session cookie; its path is `/` so that the privacy hub can offer the console.
pub(crate) const COOKIE: &str = "registre_console";
/// The sign-in form's own CSRF cookie (there is no session yet).
const SIGN_IN_COOKIE: &str = "registre_console_sign_in";
const CSS: &str = include_str!("../../static/console.css");
/// Largest form a console page posts (the form auditor takes a whole page).
const MAX_FORM: usize = 2 * 1024 * 1024;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/console", get(home))
        .route("/console/", get(home))
        .route("/console/console.css", get(stylesheet))
        .route("/console/sign-in", get(sign_in_page).post(sign_in))
        .route("/console/unlock", get(unlock))
        .route("/console/sign-out", post(sign_out))
        .route(
            "/console/preferences",
            get(preferences_page).post(save_preferences),
        )
        .merge(dashboard::router())
        .merge(people::router())
        .merge(registers::router())
        .merge(catalogue::router())
        .merge(system::router())
        .layer(DefaultBodyLimit::max(MAX_FORM))
}

// ---- the frame every page shares ----

/// A navigation entry.
pub struct NavItem {
    pub href: &'static str,
    pub label: &'static str,
    pub current: bool,
}

/// What `console/layout.html` needs: every page struct has a `frame`.
pub struct Frame {
    pub t: &'static Texts,
    pub title: String,
    pub nav: Vec<NavItem>,
    pub user_email: String,
    pub role: &'static str,
    pub csrf: String,
    pub zone: chrono_tz::Tz,
    pub can_operate: bool,
    pub can_manage: bool,
    /// A line saying what the last action did.
    pub flash: Option<&'static str>,
    pub site_name: String,
}

impl Frame {
    fn language(&self) -> registre_domain::Language {
        if self.t.is_fr() {
            registre_domain::Language::Fr
        } else {
            registre_domain::Language::En
        }
    }

    /// An instant in the user's time zone, as people of their language write it
    /// (« 7 décembre 2026 à 03:26 »); the zone is named once, in the footer.
    pub fn dt(&self, at: impl std::borrow::Borrow<DateTime<Utc>>) -> String {
        words::date_and_time(*at.borrow(), self.zone, self.language())
    }

    pub fn odt(&self, at: impl std::borrow::Borrow<Option<DateTime<Utc>>>) -> String {
        at.borrow()
            .map(|at| self.dt(at))
            .unwrap_or_else(|| "—".into())
    }

    /// A calendar day: « 1er décembre 2026 », "1 December 2026".
    pub fn day(&self, date: impl std::borrow::Borrow<NaiveDate>) -> String {
        words::day(*date.borrow(), self.language())
    }

    /// The day of an instant in the user's time zone: « 7 décembre 2026 ».
    pub fn date_words(&self, at: impl std::borrow::Borrow<DateTime<Utc>>) -> String {
        words::date(*at.borrow(), self.zone, self.language())
    }

    /// The snake_case name of an enum value (`non_compliant`), for labels and CSS classes.
    pub fn code<T: serde::Serialize>(&self, value: T) -> String {
        code(&value)
    }

    /// The time zone, named once in the footer so every time is unambiguous.
    pub fn zone_name(&self) -> String {
        words::zone_name(self.zone, self.language())
    }
}

/// Which navigation entry a page belongs to.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Dashboard,
    Requests,
    Consents,
    Processors,
    Breaches,
    Purposes,
    Touchpoints,
    Ropa,
    FormAudit,
    Audit,
    Ledger,
    Webhooks,
    ApiKeys,
    Users,
    Preferences,
}

fn nav(t: &'static Texts, session: &ConsoleSession, current: Section) -> Vec<NavItem> {
    let admin = session.principal.role.allows(Permission::Administer);
    let mut items = vec![
        (Section::Dashboard, "/console/dashboard", t.nav_dashboard),
        (Section::Requests, "/console/requests", t.nav_requests),
        (Section::Consents, "/console/consents", t.nav_consents),
        (Section::Processors, "/console/processors", t.nav_processors),
        (Section::Breaches, "/console/breaches", t.nav_breaches),
        (Section::Purposes, "/console/purposes", t.nav_purposes),
        (
            Section::Touchpoints,
            "/console/touchpoints",
            t.nav_touchpoints,
        ),
        (Section::Ropa, "/console/ropa", t.nav_ropa),
        (Section::FormAudit, "/console/form-audit", t.nav_form_audit),
        (Section::Audit, "/console/audit-log", t.nav_audit),
        (Section::Ledger, "/console/ledger", t.nav_ledger),
        (Section::Webhooks, "/console/webhooks", t.nav_webhooks),
    ];
    if admin {
        items.push((Section::ApiKeys, "/console/api-keys", t.nav_api_keys));
        items.push((Section::Users, "/console/users", t.nav_users));
    }
    items
        .into_iter()
        .map(|(section, href, label)| NavItem {
            href,
            label,
            current: section == current,
        })
        .collect()
}

/// The signed-in user behind a console page; without one, the browser goes to sign in.
pub struct Signed(pub ConsoleSession);

impl FromRequestParts<AppState> for Signed {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let Some(cookie) = cookie(&parts.headers, COOKIE) else {
            return Err(see_other("/console/sign-in"));
        };
        match state.app.console_session(&cookie).await {
            Ok(Some(mut session)) => {
                // `?lang=` shows this page in the other language, as on the public pages;
                // the user's own choice (preferences) stays as it is.
                if let Ok(Query(asked)) = Query::<LangQuery>::try_from_uri(&parts.uri)
                    && let Some(language) = asked.lang.as_deref().and_then(Language::parse)
                {
                    session.language = language;
                }
                Ok(Self(session))
            }
            Ok(None) => Err(see_other("/console/sign-in")),
            Err(error) => {
                tracing::error!(%error, "a console session could not be read");
                Err(bare_problem(StatusCode::INTERNAL_SERVER_ERROR))
            }
        }
    }
}

impl Signed {
    pub fn t(&self) -> &'static Texts {
        texts::texts(self.0.language)
    }

    pub fn frame(&self, app: &App, section: Section, title: impl Into<String>) -> Frame {
        let _ = app;
        let t = self.t();
        let role = self.0.principal.role;
        Frame {
            t,
            title: title.into(),
            nav: nav(t, &self.0, section),
            user_email: self.0.user.email.clone(),
            role: t.role(role),
            csrf: self.0.csrf.clone(),
            zone: self.0.time_zone,
            can_operate: role.allows(Permission::OperateSubjects),
            can_manage: role.allows(Permission::ManageRegisters),
            flash: None,
            site_name: String::new(),
        }
    }

    /// The frame with the organisation's name and the flash of `?done=`.
    pub async fn page(
        &self,
        app: &App,
        section: Section,
        title: impl Into<String>,
        done: Option<&str>,
    ) -> Frame {
        let mut frame = self.frame(app, section, title);
        frame.site_name = app
            .organisation()
            .await
            .map(|o| o.name)
            .unwrap_or_else(|_| "Registre".into());
        frame.flash = done.map(|key| frame.t.done(key));
        frame
    }
}

/// `?done=` after an action, for the line that says what it did.
#[derive(Deserialize, Default)]
pub struct Done {
    pub done: Option<String>,
}

/// A posted form whose CSRF token matched the session's.
pub struct Posted(pub Vec<(String, String)>);

impl Posted {
    pub fn check(app: &App, session: &Signed, body: &Bytes) -> Result<Self, Box<Response>> {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(body).unwrap_or_default();
        let token = pairs
            .iter()
            .find(|(k, _)| k == "csrf_token")
            .map(|(_, v)| v.as_str())
            .unwrap_or("");
        if app.console_csrf_ok(&session.0, token) {
            Ok(Self(pairs))
        } else {
            Err(Box::new(problem_page(
                session,
                StatusCode::FORBIDDEN,
                session.t().csrf_failed,
            )))
        }
    }

    pub fn get(&self, name: &str) -> String {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim().to_string())
            .unwrap_or_default()
    }

    pub fn all(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.trim().to_string())
            .collect()
    }

    pub fn checked(&self, name: &str) -> bool {
        self.0.iter().any(|(k, v)| k == name && !v.is_empty())
    }
}

// ---- answers ----

pub fn render(status: StatusCode, page: &impl Template) -> Response {
    let mut response = layout::render(status, page, "'none'");
    secure_headers(response.headers_mut());
    response
}

fn secure_headers(headers: &mut HeaderMap) {
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
}

pub fn see_other(location: &str) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(value) = HeaderValue::from_str(location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    secure_headers(response.headers_mut());
    response
}

#[derive(Template)]
#[template(path = "console/problem.html")]
struct ProblemPage {
    frame: Frame,
    status: u16,
    heading: &'static str,
    message: String,
}

/// An error page in the user's language, with the status the API would give.
pub fn problem_page(session: &Signed, status: StatusCode, message: impl Into<String>) -> Response {
    let t = session.t();
    let heading = match status {
        StatusCode::FORBIDDEN => t.forbidden_title,
        StatusCode::NOT_FOUND => t.not_found_title,
        StatusCode::CONFLICT | StatusCode::UNPROCESSABLE_ENTITY | StatusCode::BAD_REQUEST => {
            t.invalid_title
        }
        _ => t.error_title,
    };
    let page = ProblemPage {
        frame: session.frame_for_problem(),
        status: status.as_u16(),
        heading,
        message: message.into(),
    };
    render(status, &page)
}

impl Signed {
    fn frame_for_problem(&self) -> Frame {
        let t = self.t();
        let role = self.0.principal.role;
        Frame {
            t,
            title: t.error_title.into(),
            nav: nav(t, &self.0, Section::Dashboard)
                .into_iter()
                .map(|mut item| {
                    item.current = false;
                    item
                })
                .collect(),
            user_email: self.0.user.email.clone(),
            role: t.role(role),
            csrf: self.0.csrf.clone(),
            zone: self.0.time_zone,
            can_operate: role.allows(Permission::OperateSubjects),
            can_manage: role.allows(Permission::ManageRegisters),
            flash: None,
            site_name: "Registre".into(),
        }
    }
}

/// What a use case's failure looks like to the person: the status `error.rs` gives it, and
/// a message in their language (internal details are logged, never shown).
pub fn failure(session: &Signed, error: AppError) -> Response {
    let t = session.t();
    let api = ApiError::from(error);
    let message = match api.status {
        StatusCode::FORBIDDEN => t.forbidden_message.to_string(),
        StatusCode::NOT_FOUND => t.not_found_message.to_string(),
        StatusCode::INTERNAL_SERVER_ERROR | StatusCode::SERVICE_UNAVAILABLE => {
            t.error_message.to_string()
        }
        _ => api.message,
    };
    problem_page(session, api.status, message)
}

/// The snake_case name serde gives an enum value.
pub fn code<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

fn bare_problem(status: StatusCode) -> Response {
    let mut response = (status, status.canonical_reason().unwrap_or("error")).into_response();
    secure_headers(response.headers_mut());
    response
}

fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, value)| value.to_string())
}

fn set_cookie(app: &App, name: &str, value: &str, max_age: i64) -> HeaderValue {
    let secure = if app.config().public_url.starts_with("https://") {
        "; Secure"
    } else {
        ""
    };
    HeaderValue::from_str(&format!(
        "{name}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static("registre_console=; Path=/; Max-Age=0"))
}

async fn stylesheet() -> Response {
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/css; charset=utf-8"),
            ),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=3600"),
            ),
        ],
        CSS,
    )
        .into_response()
}

// ---- sign-in, sign-out, preferences ----

async fn home(State(state): State<AppState>, headers: HeaderMap) -> Response {
    match cookie(&headers, COOKIE) {
        Some(value) if matches!(state.app.console_session(&value).await, Ok(Some(_))) => {
            see_other("/console/dashboard")
        }
        _ => see_other("/console/sign-in"),
    }
}

#[derive(Template)]
#[template(path = "console/sign_in.html")]
struct SignInPage {
    t: &'static Texts,
    site_name: String,
    csrf: String,
    email: String,
    error: Option<String>,
    other_lang: &'static str,
}

#[derive(Deserialize, Default)]
struct LangQuery {
    lang: Option<String>,
}

async fn sign_in_language(app: &App, asked: Option<&str>, headers: &HeaderMap) -> Language {
    let default = app
        .organisation()
        .await
        .map(|o| o.default_language)
        .unwrap_or_default();
    layout::choose_language(asked, headers, default).language
}

async fn render_sign_in(
    app: &App,
    language: Language,
    status: StatusCode,
    email: String,
    error: Option<String>,
) -> Response {
    let nonce = registre_crypto_token();
    let page = SignInPage {
        t: texts::texts(language),
        site_name: app
            .organisation()
            .await
            .map(|o| o.name)
            .unwrap_or_else(|_| "Registre".into()),
        csrf: app.console_sign_in_token(&nonce),
        email,
        error,
        other_lang: match language {
            Language::Fr => "en",
            Language::En => "fr",
        },
    };
    let mut response = render(status, &page);
    response.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(app, SIGN_IN_COOKIE, &nonce, 3600),
    );
    response
}

fn registre_crypto_token() -> String {
    registre_app::forms::new_browser_secret()
}

async fn sign_in_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<LangQuery>,
) -> Response {
    if let Some(value) = cookie(&headers, COOKIE)
        && matches!(state.app.console_session(&value).await, Ok(Some(_)))
    {
        return see_other("/console/dashboard");
    }
    let language = sign_in_language(&state.app, query.lang.as_deref(), &headers).await;
    render_sign_in(&state.app, language, StatusCode::OK, String::new(), None).await
}

/// The address a sign-in is counted against, as the public pages count it.
fn client_of(state: &AppState, headers: &HeaderMap, extensions: &axum::http::Extensions) -> String {
    crate::public::limits::client_address_of(headers, extensions, state.trust_forwarded_for)
        .to_string()
}

/// The response that opens a session: the cookie, and the sign-in form's cookie dropped.
fn session_opened(
    app: &registre_app::App,
    cookie: &str,
    expires_at: chrono::DateTime<chrono::Utc>,
) -> Response {
    let mut response = see_other("/console/dashboard");
    let max_age = (expires_at - app.now()).num_seconds().max(0);
    let headers = response.headers_mut();
    headers.append(header::SET_COOKIE, set_cookie(app, COOKIE, cookie, max_age));
    headers.append(header::SET_COOKIE, set_cookie(app, SIGN_IN_COOKIE, "", 0));
    response
}

#[derive(serde::Deserialize)]
struct UnlockQuery {
    token: Option<String>,
    lang: Option<String>,
}

/// A mailed unlock link: opens the session of the account it was sent for, once.
async fn unlock(
    State(state): State<AppState>,
    headers: HeaderMap,
    extensions: axum::http::Extensions,
    Query(query): Query<UnlockQuery>,
) -> Response {
    let client = client_of(&state, &headers, &extensions);
    let token = query.token.unwrap_or_default();
    match state.app.console_unlock(&token, &client).await {
        Ok(Some((cookie, session))) => session_opened(&state.app, &cookie, session.expires_at),
        Ok(None) => {
            let language = sign_in_language(&state.app, query.lang.as_deref(), &headers).await;
            render_sign_in(
                &state.app,
                language,
                StatusCode::BAD_REQUEST,
                String::new(),
                Some(texts::texts(language).unlock_invalid.into()),
            )
            .await
        }
        Err(error) => {
            tracing::error!(%error, "console unlock failed");
            let language = sign_in_language(&state.app, query.lang.as_deref(), &headers).await;
            render_sign_in(
                &state.app,
                language,
                StatusCode::INTERNAL_SERVER_ERROR,
                String::new(),
                Some(texts::texts(language).error_message.into()),
            )
            .await
        }
    }
}

async fn sign_in(
    State(state): State<AppState>,
    headers: HeaderMap,
    extensions: axum::http::Extensions,
    body: Bytes,
) -> Response {
    let client = client_of(&state, &headers, &extensions);
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    let field = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let language = sign_in_language(&state.app, Some(&field("lang")), &headers).await;
    let t = texts::texts(language);
    let email = field("email").trim().to_string();
    let nonce = cookie(&headers, SIGN_IN_COOKIE).unwrap_or_default();
    if nonce.is_empty()
        || !state
            .app
            .console_sign_in_token_ok(&nonce, &field("csrf_token"))
    {
        return render_sign_in(
            &state.app,
            language,
            StatusCode::FORBIDDEN,
            email,
            Some(t.sign_in_expired.into()),
        )
        .await;
    }
    match state
        .app
        .console_sign_in(&email, &field("password"), &client)
        .await
    {
        Ok(SignIn::Done { cookie, session }) => {
            session_opened(&state.app, &cookie, session.expires_at)
        }
        Ok(SignIn::UnlockMailed) => {
            render_sign_in(
                &state.app,
                language,
                StatusCode::ACCEPTED,
                email,
                Some(t.unlock_mailed.into()),
            )
            .await
        }
        Ok(SignIn::Refused) => {
            render_sign_in(
                &state.app,
                language,
                StatusCode::UNAUTHORIZED,
                email,
                Some(t.sign_in_refused.into()),
            )
            .await
        }
        Ok(SignIn::Locked { until }) => {
            let minutes = ((until - state.app.now()).num_seconds() + 59) / 60;
            render_sign_in(
                &state.app,
                language,
                StatusCode::TOO_MANY_REQUESTS,
                email,
                Some(t.locked(minutes.max(1))),
            )
            .await
        }
        Err(error) => {
            tracing::error!(%error, "console sign-in failed");
            render_sign_in(
                &state.app,
                language,
                StatusCode::INTERNAL_SERVER_ERROR,
                email,
                Some(t.error_message.into()),
            )
            .await
        }
    }
}

async fn sign_out(State(state): State<AppState>, signed: Signed, body: Bytes) -> Response {
    if let Err(response) = Posted::check(&state.app, &signed, &body) {
        return *response;
    }
    if let Err(error) = state.app.console_sign_out(&signed.0).await {
        return failure(&signed, error);
    }
    let mut response = see_other("/console/sign-in");
    response
        .headers_mut()
        .append(header::SET_COOKIE, set_cookie(&state.app, COOKIE, "", 0));
    response
}

/// A choice in a `<select>`.
pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

/// The time zones offered; any IANA name is accepted.
const ZONES: [&str; 12] = [
    "Europe/Paris",
    "Europe/London",
    "Europe/Brussels",
    "Europe/Berlin",
    "Europe/Lisbon",
    "America/Montreal",
    "America/New_York",
    "Indian/Reunion",
    "America/Martinique",
    "Pacific/Noumea",
    "Africa/Dakar",
    "UTC",
];

#[derive(Template)]
#[template(path = "console/preferences.html")]
struct PreferencesPage {
    frame: Frame,
    languages: Vec<Choice>,
    zones: Vec<Choice>,
}

async fn preferences_page(
    State(state): State<AppState>,
    signed: Signed,
    Query(done): Query<Done>,
) -> Response {
    let t = signed.t();
    let frame = signed
        .page(
            &state.app,
            Section::Preferences,
            t.preferences_title,
            done.done.as_deref(),
        )
        .await;
    let current_zone = signed.0.time_zone.name();
    let mut zones: Vec<Choice> = ZONES
        .iter()
        .map(|z| Choice {
            value: (*z).into(),
            label: (*z).into(),
            selected: *z == current_zone,
        })
        .collect();
    if !ZONES.contains(&current_zone) {
        zones.insert(
            0,
            Choice {
                value: current_zone.into(),
                label: current_zone.into(),
                selected: true,
            },
        );
    }
    let page = PreferencesPage {
        languages: [("fr", "Français"), ("en", "English")]
            .into_iter()
            .map(|(code, label)| Choice {
                value: code.into(),
                label: label.into(),
                selected: code == signed.0.language.code(),
            })
            .collect(),
        zones,
        frame,
    };
    render(StatusCode::OK, &page)
}

async fn save_preferences(State(state): State<AppState>, signed: Signed, body: Bytes) -> Response {
    let form = match Posted::check(&state.app, &signed, &body) {
        Ok(form) => form,
        Err(response) => return *response,
    };
    match state
        .app
        .set_console_preferences(&signed.0, &form.get("language"), &form.get("time_zone"))
        .await
    {
        Ok(()) => see_other("/console/preferences?done=preferences"),
        Err(error) => failure(&signed, error),
    }
}
