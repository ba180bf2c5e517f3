//! The record of processing, the form auditor, the audit log, the ledger, webhooks, API
//! keys and users.
use super::{Done, Frame, Posted, Section, Signed, failure, problem_page, render, see_other};
use crate::state::AppState;
use askama::Template;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use registre_app::console::{AuditActor, AuditFilter};
use registre_app::tokens::TokenProblem;
use registre_app::users::ResetProblem;
use registre_app::webhooks::{DeliveryView, WebhookInput, WebhookView};
use registre_audit::AuditReport;
use registre_audit::fetch::FetchPolicy;
use registre_domain::Role;
use registre_domain::audit::ChainReport;
use registre_domain::proof::LedgerReport;
use registre_domain::role::Permission;
use registre_store::{ApiKeyRecord, UserRecord};
use serde::Deserialize;
use uuid::Uuid;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/console/ropa", get(ropa))
        .route("/console/ropa/print", get(ropa_print))
        .route("/console/ropa/csv", get(ropa_csv))
        .route("/console/form-audit", get(form_audit_page).post(form_audit))
        .route("/console/audit-log", get(audit_log))
        .route("/console/ledger", get(ledger))
        .route("/console/ledger/verify", post(verify_ledger))
        .route("/console/ledger/checkpoint", post(sign_checkpoint))
        .route("/console/webhooks", get(webhooks).post(create_webhook))
        .route("/console/webhooks/{id}/delete", post(delete_webhook))
        .route("/console/api-keys", get(api_keys).post(create_api_key))
        .route("/console/api-keys/{id}/revoke", post(revoke_api_key))
        .route("/console/users", get(users).post(create_user))
        .route("/console/users/{id}/role", post(change_user_role))
        .route("/console/users/{id}/disable", post(disable_user))
        .route("/console/users/{id}/enable", post(enable_user))
        .route(
            "/console/users/{id}/reset-password",
            post(reset_user_password),
        )
        .route(
            "/console/reset-password",
            get(reset_password_page).post(reset_password),
        )
}

fn read(signed: &Signed) -> Result<(), Box<Response>> {
    signed
        .0
        .principal
        .require(Permission::Read)
        .map_err(|e| Box::new(failure(signed, e)))
}

// ---- record of processing ----

pub struct ActivityRow {
    pub title: String,
    pub basis: String,
    pub retention: i64,
}

#[derive(Template)]
#[template(path = "console/ropa.html")]
struct RopaPage {
    frame: Frame,
    activities: Vec<ActivityRow>,
}

async fn ropa(State(state): State<AppState>, signed: Signed) -> Response {
    if let Err(response) = read(&signed) {
        return *response;
    }
    let t = signed.t();
    let language = t.language();
    let activities = state
        .app
        .purposes()
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|p| ActivityRow {
            title: p.title.get(language).to_string(),
            basis: super::code(&p.legal_basis),
            retention: p.retention_days,
        })
        .collect();
    let frame = signed
        .page(&state.app, Section::Ropa, t.ropa_title, None)
        .await;
    render(StatusCode::OK, &RopaPage { frame, activities })
}

/// The print-ready record (the same page as `GET /api/v1/ropa?format=html`), for a
/// signed-in user.
async fn ropa_print(State(state): State<AppState>, signed: Signed) -> Response {
    if let Err(response) = read(&signed) {
        return *response;
    }
    let record = match state.app.ropa().await {
        Ok(record) => record,
        Err(error) => return failure(&signed, error),
    };
    match crate::ropa_page::ropa_html(&record, signed.t().language()) {
        Ok(html) => {
            let mut response = html.into_response();
            let headers = response.headers_mut();
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            );
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            headers.insert(
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_str(&crate::ropa_page::CONTENT_SECURITY_POLICY)
                    .unwrap_or(HeaderValue::from_static("default-src 'none'")),
            );
            response
        }
        Err(error) => {
            tracing::error!(%error, "the record of processing could not be rendered");
            problem_page(
                &signed,
                StatusCode::INTERNAL_SERVER_ERROR,
                signed.t().error_message,
            )
        }
    }
}

async fn ropa_csv(State(state): State<AppState>, signed: Signed) -> Response {
    if let Err(response) = read(&signed) {
        return *response;
    }
    match state.app.ropa().await {
        Ok(record) => {
            let mut response = record.to_csv(signed.t().language()).into_response();
            let headers = response.headers_mut();
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/csv; charset=utf-8"),
            );
            headers.insert(
                header::CONTENT_DISPOSITION,
                HeaderValue::from_static("attachment; filename=\"ropa.csv\""),
            );
            response
        }
        Err(error) => failure(&signed, error),
    }
}

// ---- form audit ----

#[derive(Template)]
#[template(path = "console/form_audit.html")]
struct FormAuditPage {
    frame: Frame,
    html: String,
    url: String,
    report: Option<AuditReport>,
    error: Option<String>,
}

async fn form_audit_page(State(state): State<AppState>, signed: Signed) -> Response {
    let t = signed.t();
    let frame = signed
        .page(&state.app, Section::FormAudit, t.form_audit_title, None)
        .await;
    render(
        StatusCode::OK,
        &FormAuditPage {
            frame,
            html: String::new(),
            url: String::new(),
            report: None,
            error: None,
        },
    )
}

/// The same auditor as `POST /api/v1/audit/form`, and the same fetch that never reaches a
/// private address.
async fn form_audit(State(state): State<AppState>, signed: Signed, body: Bytes) -> Response {
    let form = match Posted::check(&state.app, &signed, &body) {
        Ok(form) => form,
        Err(response) => return *response,
    };
    if let Err(response) = read(&signed) {
        return *response;
    }
    let (html, url) = (form.get("html"), form.get("url"));
    let result = if !url.is_empty() {
        match registre_audit::fetch::fetch(&url, &FetchPolicy::default()).await {
            Ok(page) => registre_audit::audit_html_with_url(&page.html, &page.url)
                .map_err(|e| e.to_string()),
            Err(error) => Err(error.to_string()),
        }
    } else {
        registre_audit::audit_html(&html).map_err(|e| e.to_string())
    };
    let (report, error, status) = match result {
        Ok(report) => (Some(report), None, StatusCode::OK),
        Err(error) => (None, Some(error), StatusCode::UNPROCESSABLE_ENTITY),
    };
    let t = signed.t();
    let frame = signed
        .page(&state.app, Section::FormAudit, t.form_audit_title, None)
        .await;
    render(
        status,
        &FormAuditPage {
            frame,
            html,
            url,
            report,
            error,
        },
    )
}

// ---- audit log ----

#[derive(Deserialize, Default)]
struct AuditQuery {
    before: Option<i64>,
    actor: Option<String>,
    register: Option<String>,
    from: Option<String>,
    to: Option<String>,
}

/// An audit entry as people read it.
pub struct AuditRow {
    pub seq: i64,
    pub at: String,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub target_href: Option<String>,
    pub details: String,
}

#[derive(Template)]
#[template(path = "console/audit_log.html")]
struct AuditLogPage {
    frame: Frame,
    rows: Vec<AuditRow>,
    older: Option<String>,
    actors: Vec<super::Choice>,
    registers: Vec<super::Choice>,
    from: String,
    to: String,
}

const AUDIT_PAGE: i64 = 50;

/// The registers the filter offers.
const AUDIT_REGISTERS: [&str; 14] = [
    "request",
    "consent",
    "subject",
    "processor",
    "breach",
    "purpose",
    "touchpoint",
    "data_category",
    "organisation",
    "user",
    "api_key",
    "webhook",
    "ledger",
    "retention",
];

fn actor_name(t: &super::texts::Texts, actors: &[AuditActor], raw: &str) -> String {
    if let Some(actor) = actors.iter().find(|a| a.actor == raw) {
        return if actor.api_key {
            format!("{} « {} »", t.api_key_named, actor.name)
        } else {
            actor.name.clone()
        };
    }
    match raw.split(':').next().unwrap_or("") {
        "cli" => t.actor_cli.into(),
        "system" => t.actor_system.into(),
        "public" => t.actor_public.into(),
        "vendor_link" => t.actor_vendor.into(),
        "download" => t.actor_download.into(),
        _ => t.actor_unknown.into(),
    }
}

/// Where an entry's target is shown in the console, if it has a page.
fn target_href(target: &str) -> Option<String> {
    let (register, id) = target.split_once(':')?;
    let path = match register {
        "processor" => "processors",
        "breach" => "breaches",
        "request" => "requests",
        "purpose" => "purposes",
        "touchpoint" => "touchpoints",
        _ => return None,
    };
    let safe = id
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    safe.then(|| format!("/console/{path}/{id}"))
}

/// A JSON value as words.
fn detail_value(t: &super::texts::Texts, key: &str, value: &serde_json::Value) -> String {
    use serde_json::Value;
    match value {
        Value::Null => "—".into(),
        Value::Bool(b) => if *b { t.yes } else { t.no }.into(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => match key {
            "risk" | "severity" => t.risk(s).into(),
            "status" => {
                let label = t.processor_status(s);
                if label == "—" {
                    t.request_status(s).into()
                } else {
                    label.into()
                }
            }
            "role" => match Role::parse(s) {
                Some(role) => t.role(role).into(),
                None => t.processor_role(s).into(),
            },
            "language" => match s.as_str() {
                "fr" => "français".into(),
                "en" => "English".into(),
                other => other.into(),
            },
            "service" => t.service_label(s),
            "type" | "request_type" => t.request_type(s).into(),
            // A notice version or a hash: its first characters name it, as Git does.
            _ if s.starts_with("sha256:") && s.chars().count() > 19 => {
                format!("{}…", s.chars().take(19).collect::<String>())
            }
            _ => s.replace('_', " "),
        },
        Value::Array(items) => items
            .iter()
            .map(|v| detail_value(t, key, v))
            .collect::<Vec<_>>()
            .join(", "),
        Value::Object(map) => map
            .iter()
            .map(|(k, v)| format!("{} : {}", k.replace('_', " "), detail_value(t, k, v)))
            .collect::<Vec<_>>()
            .join(" ; "),
    }
}

pub(super) fn details_text(t: &super::texts::Texts, raw: &str) -> String {
    match serde_json::from_str::<serde_json::Value>(raw) {
        Ok(serde_json::Value::Object(map)) if map.is_empty() => String::new(),
        Ok(value) => detail_value(t, "", &value),
        Err(_) => String::new(),
    }
}

/// A `YYYY-MM-DD` day's first instant in the user's time zone.
fn day_start(raw: &str, zone: chrono_tz::Tz) -> Option<chrono::DateTime<chrono::Utc>> {
    use chrono::TimeZone;
    let day = chrono::NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d").ok()?;
    zone.from_local_datetime(&day.and_hms_opt(0, 0, 0)?)
        .earliest()
        .map(|at| at.with_timezone(&chrono::Utc))
}

async fn audit_log(
    State(state): State<AppState>,
    signed: Signed,
    Query(query): Query<AuditQuery>,
) -> Response {
    let t = signed.t();
    let zone = signed.0.time_zone;
    let nonempty = |v: &Option<String>| v.clone().filter(|s| !s.trim().is_empty());
    let from = nonempty(&query.from).unwrap_or_default();
    let to = nonempty(&query.to).unwrap_or_default();
    let filter = AuditFilter {
        actor: nonempty(&query.actor),
        register: nonempty(&query.register),
        from: day_start(&from, zone),
        until: day_start(&to, zone).map(|at| at + chrono::Duration::days(1)),
    };
    let search = match state
        .app
        .search_audit_log(&signed.0.principal, &filter, query.before, AUDIT_PAGE)
        .await
    {
        Ok(search) => search,
        Err(error) => return failure(&signed, error),
    };
    let actors = state
        .app
        .audit_actors(&signed.0.principal)
        .await
        .unwrap_or_default();
    let frame = signed
        .page(&state.app, Section::Audit, t.audit_title, None)
        .await;
    let rows = search
        .entries
        .iter()
        .map(|e| AuditRow {
            seq: e.seq,
            at: frame.dt(e.at),
            actor: actor_name(t, &actors, &e.actor),
            action: t.audit_action(&e.action),
            target: t
                .register_label(e.target.split(':').next().unwrap_or(""))
                .to_string(),
            target_href: target_href(&e.target),
            details: details_text(t, &e.details),
        })
        .collect();
    let older = search.older.map(|before| {
        let mut query = vec![("before".to_string(), before.to_string())];
        for (name, value) in [
            ("actor", filter.actor.clone()),
            ("register", filter.register.clone()),
            ("from", Some(from.clone()).filter(|s| !s.is_empty())),
            ("to", Some(to.clone()).filter(|s| !s.is_empty())),
        ] {
            if let Some(value) = value {
                query.push((name.to_string(), value));
            }
        }
        serde_urlencoded::to_string(&query).unwrap_or_default()
    });
    let mut actor_choices = vec![super::Choice {
        value: String::new(),
        label: t.all_actors.into(),
        selected: filter.actor.is_none(),
    }];
    actor_choices.extend(actors.iter().map(|a| super::Choice {
        selected: filter.actor.as_deref() == Some(a.actor.as_str()),
        label: actor_name(t, &actors, &a.actor),
        value: a.actor.clone(),
    }));
    let mut registers = vec![super::Choice {
        value: String::new(),
        label: t.all_registers.into(),
        selected: filter.register.is_none(),
    }];
    registers.extend(AUDIT_REGISTERS.iter().map(|r| super::Choice {
        value: (*r).into(),
        label: t.register_label(r).into(),
        selected: filter.register.as_deref() == Some(*r),
    }));
    render(
        StatusCode::OK,
        &AuditLogPage {
            frame,
            rows,
            older,
            actors: actor_choices,
            registers,
            from,
            to,
        },
    )
}

// ---- ledger ----

#[derive(Template)]
#[template(path = "console/ledger.html")]
struct LedgerPage {
    frame: Frame,
    length: i64,
    head: String,
    last_checkpoint: Option<registre_domain::proof::Checkpoint>,
    report: Option<LedgerReport>,
    audit: Option<ChainReport>,
}

async fn ledger_page(
    state: &AppState,
    signed: &Signed,
    report: Option<LedgerReport>,
    audit: Option<ChainReport>,
    done: Option<&str>,
) -> Response {
    if let Err(response) = read(signed) {
        return *response;
    }
    let (length, head) = match state.app.store().ledger_head().await {
        Ok(head) => head,
        Err(error) => return failure(signed, error.into()),
    };
    let last_checkpoint = state
        .app
        .checkpoints(&signed.0.principal, None, 1)
        .await
        .ok()
        .and_then(|mut list| list.pop());
    let t = signed.t();
    let frame = signed
        .page(&state.app, Section::Ledger, t.ledger_title, done)
        .await;
    render(
        StatusCode::OK,
        &LedgerPage {
            frame,
            length,
            head,
            last_checkpoint,
            report,
            audit,
        },
    )
}

async fn ledger(
    State(state): State<AppState>,
    signed: Signed,
    Query(done): Query<Done>,
) -> Response {
    ledger_page(&state, &signed, None, None, done.done.as_deref()).await
}

async fn verify_ledger(State(state): State<AppState>, signed: Signed, body: Bytes) -> Response {
    if let Err(response) = Posted::check(&state.app, &signed, &body) {
        return *response;
    }
    if let Err(response) = read(&signed) {
        return *response;
    }
    let report = match state.app.verify_ledger().await {
        Ok(report) => report,
        Err(error) => return failure(&signed, error),
    };
    let audit = state.app.store().verify_audit_log().await.ok();
    ledger_page(&state, &signed, Some(report), audit, None).await
}

async fn sign_checkpoint(State(state): State<AppState>, signed: Signed, body: Bytes) -> Response {
    if let Err(response) = Posted::check(&state.app, &signed, &body) {
        return *response;
    }
    match state.app.sign_checkpoint(Some(&signed.0.principal)).await {
        Ok(_) => see_other("/console/ledger?done=checkpoint"),
        Err(error) => failure(&signed, error),
    }
}

// ---- webhooks ----

pub struct WebhookModel {
    pub hook: WebhookView,
    pub deliveries: Vec<DeliveryView>,
    pub failures: usize,
}

#[derive(Template)]
#[template(path = "console/webhooks.html")]
struct WebhooksPage {
    frame: Frame,
    hooks: Vec<WebhookModel>,
    secret: Option<String>,
    events: Vec<(&'static str, bool)>,
}

/// Every topic, ticked in the form unless only a witness wants it.
fn event_choices() -> Vec<(&'static str, bool)> {
    registre_app::webhooks::WEBHOOK_TOPICS
        .iter()
        .map(|topic| {
            (
                *topic,
                *topic != registre_app::checkpoints::CHECKPOINT_TOPIC,
            )
        })
        .collect()
}

async fn webhooks_page(
    state: &AppState,
    signed: &Signed,
    secret: Option<String>,
    done: Option<&str>,
) -> Response {
    let list = match state.app.webhooks(&signed.0.principal).await {
        Ok(list) => list,
        Err(error) => return failure(signed, error),
    };
    let mut hooks = Vec::new();
    for hook in list {
        let deliveries = state
            .app
            .webhook_deliveries(&signed.0.principal, hook.id, 10)
            .await
            .unwrap_or_default();
        let failures = deliveries
            .iter()
            .filter(|d| d.last_error.is_some() && d.delivered_at.is_none())
            .count();
        hooks.push(WebhookModel {
            hook,
            deliveries,
            failures,
        });
    }
    let t = signed.t();
    let frame = signed
        .page(&state.app, Section::Webhooks, t.webhooks_title, done)
        .await;
    render(
        StatusCode::OK,
        &WebhooksPage {
            frame,
            hooks,
            secret,
            events: event_choices(),
        },
    )
}

async fn webhooks(
    State(state): State<AppState>,
    signed: Signed,
    Query(done): Query<Done>,
) -> Response {
    webhooks_page(&state, &signed, None, done.done.as_deref()).await
}

async fn create_webhook(State(state): State<AppState>, signed: Signed, body: Bytes) -> Response {
    let form = match Posted::check(&state.app, &signed, &body) {
        Ok(form) => form,
        Err(response) => return *response,
    };
    let description = form.get("description");
    let input = WebhookInput {
        url: form.get("url"),
        events: form.all("events"),
        secret: None,
        description: (!description.is_empty()).then_some(description),
        active: Some(true),
    };
    match state.app.create_webhook(&signed.0.principal, input).await {
        Ok(view) => webhooks_page(&state, &signed, view.secret, Some("created")).await,
        Err(error) => failure(&signed, error),
    }
}

async fn delete_webhook(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    if let Err(response) = Posted::check(&state.app, &signed, &body) {
        return *response;
    }
    let Ok(id) = Uuid::parse_str(&id) else {
        return failure(&signed, registre_app::AppError::not_found("webhook"));
    };
    match state.app.delete_webhook(&signed.0.principal, id).await {
        Ok(()) => see_other("/console/webhooks?done=deleted"),
        Err(error) => failure(&signed, error),
    }
}

// ---- API keys and users ----

const ROLES: [Role; 4] = [Role::Admin, Role::Dpo, Role::Agent, Role::Auditor];

#[derive(Template)]
#[template(path = "console/api_keys.html")]
struct ApiKeysPage {
    frame: Frame,
    keys: Vec<ApiKeyRecord>,
    created: Option<String>,
    roles: Vec<(&'static str, &'static str)>,
}

async fn api_keys_page(
    state: &AppState,
    signed: &Signed,
    created: Option<String>,
    done: Option<&str>,
) -> Response {
    let keys = match state.app.api_keys(&signed.0.principal).await {
        Ok(keys) => keys,
        Err(error) => return failure(signed, error),
    };
    let t = signed.t();
    let frame = signed
        .page(&state.app, Section::ApiKeys, t.api_keys_title, done)
        .await;
    render(
        StatusCode::OK,
        &ApiKeysPage {
            frame,
            keys,
            created,
            roles: ROLES.iter().map(|r| (r.as_str(), t.role(*r))).collect(),
        },
    )
}

async fn api_keys(
    State(state): State<AppState>,
    signed: Signed,
    Query(done): Query<Done>,
) -> Response {
    api_keys_page(&state, &signed, None, done.done.as_deref()).await
}

async fn create_api_key(State(state): State<AppState>, signed: Signed, body: Bytes) -> Response {
    let form = match Posted::check(&state.app, &signed, &body) {
        Ok(form) => form,
        Err(response) => return *response,
    };
    let Some(role) = Role::parse(&form.get("role")) else {
        return problem_page(&signed, StatusCode::UNPROCESSABLE_ENTITY, "role: ?");
    };
    match state
        .app
        .create_api_key(&signed.0.principal, &form.get("name"), role)
        .await
    {
        Ok(created) => api_keys_page(&state, &signed, Some(created.key), Some("created")).await,
        Err(error) => failure(&signed, error),
    }
}

async fn revoke_api_key(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    if let Err(response) = Posted::check(&state.app, &signed, &body) {
        return *response;
    }
    let Ok(id) = Uuid::parse_str(&id) else {
        return failure(&signed, registre_app::AppError::not_found("api key"));
    };
    match state.app.revoke_api_key(&signed.0.principal, id).await {
        Ok(()) => see_other("/console/api-keys?done=revoked"),
        Err(error) => failure(&signed, error),
    }
}

#[derive(Template)]
#[template(path = "console/users.html")]
struct UsersPage {
    frame: Frame,
    users: Vec<UserRecord>,
    roles: Vec<(&'static str, &'static str)>,
}

impl UsersPage {
    fn language_of(&self, user: &UserRecord) -> &'static str {
        match user.language.as_str() {
            "en" => "English",
            _ => "Français",
        }
    }
}

async fn users(
    State(state): State<AppState>,
    signed: Signed,
    Query(done): Query<Done>,
) -> Response {
    let users = match state.app.users(&signed.0.principal).await {
        Ok(users) => users,
        Err(error) => return failure(&signed, error),
    };
    let t = signed.t();
    let frame = signed
        .page(
            &state.app,
            Section::Users,
            t.users_title,
            done.done.as_deref(),
        )
        .await;
    render(
        StatusCode::OK,
        &UsersPage {
            frame,
            users,
            roles: ROLES.iter().map(|r| (r.as_str(), t.role(*r))).collect(),
        },
    )
}

async fn create_user(State(state): State<AppState>, signed: Signed, body: Bytes) -> Response {
    let form = match Posted::check(&state.app, &signed, &body) {
        Ok(form) => form,
        Err(response) => return *response,
    };
    let Some(role) = Role::parse(&form.get("role")) else {
        return problem_page(&signed, StatusCode::UNPROCESSABLE_ENTITY, "role: ?");
    };
    let password = form.get("password");
    match state
        .app
        .create_user(
            &signed.0.principal,
            &form.get("email"),
            role,
            (!password.is_empty()).then_some(password.as_str()),
        )
        .await
    {
        Ok(_) => see_other("/console/users?done=created"),
        Err(error) => failure(&signed, error),
    }
}

/// A refusal from the user use cases, in the reader's language: the last administrator
/// cannot go.
fn user_failure(signed: &Signed, error: registre_app::AppError) -> Response {
    match error {
        registre_app::AppError::Conflict(_) => {
            problem_page(signed, StatusCode::CONFLICT, signed.t().last_admin)
        }
        other => failure(signed, other),
    }
}

fn user_id(signed: &Signed, raw: &str) -> Result<Uuid, Box<Response>> {
    Uuid::parse_str(raw).map_err(|_| {
        Box::new(problem_page(
            signed,
            StatusCode::NOT_FOUND,
            signed.t().not_found_message,
        ))
    })
}

async fn change_user_role(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let form = match Posted::check(&state.app, &signed, &body) {
        Ok(form) => form,
        Err(response) => return *response,
    };
    let id = match user_id(&signed, &id) {
        Ok(id) => id,
        Err(response) => return *response,
    };
    let Some(role) = Role::parse(&form.get("role")) else {
        return problem_page(
            &signed,
            StatusCode::UNPROCESSABLE_ENTITY,
            signed.t().choose_role,
        );
    };
    match state.app.set_user_role(&signed.0.principal, id, role).await {
        Ok(()) => see_other("/console/users?done=role_changed"),
        Err(error) => user_failure(&signed, error),
    }
}

async fn set_disabled(
    state: &AppState,
    signed: &Signed,
    id: &str,
    body: &Bytes,
    disabled: bool,
) -> Response {
    if let Err(response) = Posted::check(&state.app, signed, body) {
        return *response;
    }
    let id = match user_id(signed, id) {
        Ok(id) => id,
        Err(response) => return *response,
    };
    match state
        .app
        .set_user_disabled(&signed.0.principal, id, disabled)
        .await
    {
        Ok(()) if disabled && id == signed.0.user.id => see_other("/console/sign-in"),
        Ok(()) if disabled => see_other("/console/users?done=disabled"),
        Ok(()) => see_other("/console/users?done=enabled"),
        Err(error) => user_failure(signed, error),
    }
}

async fn disable_user(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    set_disabled(&state, &signed, &id, &body, true).await
}

async fn enable_user(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    set_disabled(&state, &signed, &id, &body, false).await
}

async fn reset_user_password(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    if let Err(response) = Posted::check(&state.app, &signed, &body) {
        return *response;
    }
    let id = match user_id(&signed, &id) {
        Ok(id) => id,
        Err(response) => return *response,
    };
    match state.app.send_password_reset(&signed.0.principal, id).await {
        Ok(()) => see_other("/console/users?done=reset_sent"),
        Err(error) => user_failure(&signed, error),
    }
}

// ---- choosing a new password through a mailed link (no session) ----

#[derive(Template)]
#[template(path = "console/reset_password.html")]
struct ResetPasswordPage {
    t: &'static super::texts::Texts,
    site_name: String,
    token: String,
    email: Option<String>,
    error: Option<&'static str>,
    done: bool,
}

#[derive(Deserialize, Default)]
struct ResetQuery {
    token: Option<String>,
}

fn reset_problem_text(t: &'static super::texts::Texts, problem: &ResetProblem) -> &'static str {
    match problem {
        ResetProblem::Link(TokenProblem::Expired) => t.reset_expired,
        ResetProblem::Link(TokenProblem::AlreadyUsed) => t.reset_used,
        ResetProblem::Link(TokenProblem::Invalid) => t.reset_invalid,
        ResetProblem::Invalid(_) => t.password_hint,
        ResetProblem::Other(_) => t.error_message,
    }
}

async fn render_reset(
    state: &AppState,
    token: &str,
    error: Option<(StatusCode, &'static str)>,
    done: bool,
) -> Response {
    let site_name = state
        .app
        .organisation()
        .await
        .map(|o| o.name)
        .unwrap_or_else(|_| "Registre".into());
    let default = state
        .app
        .organisation()
        .await
        .map(|o| o.default_language)
        .unwrap_or_default();
    let (email, language, problem) = match state.app.password_reset_for(token).await {
        Ok(who) => (Some(who.email), who.language, None),
        Err(problem) => (None, default, Some(problem)),
    };
    let t = super::texts::texts(language);
    let (status, error) = match (error, &problem) {
        (Some((status, message)), _) => (status, Some(message)),
        (None, Some(_)) if done => (StatusCode::OK, None),
        (None, Some(problem)) => {
            if let ResetProblem::Other(error) = problem {
                tracing::error!(%error, "a password reset link could not be read");
            }
            (
                StatusCode::BAD_REQUEST,
                Some(reset_problem_text(t, problem)),
            )
        }
        (None, None) => (StatusCode::OK, None),
    };
    let page = ResetPasswordPage {
        t,
        site_name,
        token: token.to_string(),
        email: if done { None } else { email },
        error,
        done,
    };
    let mut response = render(status, &page);
    response.headers_mut().insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}

async fn reset_password_page(
    State(state): State<AppState>,
    Query(query): Query<ResetQuery>,
) -> Response {
    render_reset(&state, &query.token.unwrap_or_default(), None, false).await
}

async fn reset_password(State(state): State<AppState>, body: Bytes) -> Response {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    let field = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let token = field("token");
    let language = match state.app.password_reset_for(&token).await {
        Ok(who) => who.language,
        Err(_) => registre_domain::Language::default(),
    };
    let t = super::texts::texts(language);
    if field("password") != field("confirm") {
        return render_reset(
            &state,
            &token,
            Some((StatusCode::UNPROCESSABLE_ENTITY, t.passwords_differ)),
            false,
        )
        .await;
    }
    match state.app.reset_password(&token, &field("password")).await {
        Ok(()) => render_reset(&state, &token, None, true).await,
        Err(ResetProblem::Invalid(_)) => {
            render_reset(
                &state,
                &token,
                Some((StatusCode::UNPROCESSABLE_ENTITY, t.password_hint)),
                false,
            )
            .await
        }
        Err(problem) => {
            if let ResetProblem::Other(error) = &problem {
                tracing::error!(%error, "a password could not be reset");
            }
            let status = match problem {
                ResetProblem::Other(_) => StatusCode::INTERNAL_SERVER_ERROR,
                _ => StatusCode::BAD_REQUEST,
            };
            render_reset(
                &state,
                &token,
                Some((status, reset_problem_text(t, &problem))),
                false,
            )
            .await
        }
    }
}
