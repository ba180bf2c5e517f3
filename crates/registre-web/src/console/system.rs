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
use registre_app::webhooks::{DeliveryView, WebhookInput, WebhookView};
use registre_audit::AuditReport;
use registre_audit::fetch::FetchPolicy;
use registre_domain::Role;
use registre_domain::audit::{AuditEntry, ChainReport};
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
}

#[derive(Template)]
#[template(path = "console/audit_log.html")]
struct AuditLogPage {
    frame: Frame,
    entries: Vec<AuditEntry>,
    older: Option<i64>,
}

const AUDIT_PAGE: i64 = 50;

async fn audit_log(
    State(state): State<AppState>,
    signed: Signed,
    Query(query): Query<AuditQuery>,
) -> Response {
    let entries = match state
        .app
        .audit_log(&signed.0.principal, query.before, AUDIT_PAGE)
        .await
    {
        Ok(entries) => entries,
        Err(error) => return failure(&signed, error),
    };
    let older = entries
        .last()
        .map(|e| e.seq - 1)
        .filter(|seq| *seq > 0 && entries.len() as i64 == AUDIT_PAGE);
    let t = signed.t();
    let frame = signed
        .page(&state.app, Section::Audit, t.audit_title, None)
        .await;
    render(
        StatusCode::OK,
        &AuditLogPage {
            frame,
            entries,
            older,
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
    events: Vec<&'static str>,
}

const EVENTS: [&str; 7] = [
    "consent.granted",
    "consent.withdrawn",
    "subject.erased",
    "subject.rectified",
    "subject.restricted",
    "request.created",
    "request.due_soon",
];

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
            events: EVENTS.to_vec(),
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
    fn role_of(&self, user: &UserRecord) -> &'static str {
        self.frame.t.role(user.role)
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
