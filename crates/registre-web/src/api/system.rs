use crate::api::List;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Administer, Caller, Json, Query, Read};
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use registre_domain::Role;
use registre_domain::audit::{AuditEntry, ChainReport};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(healthz))
        .routes(routes!(readyz))
        .routes(routes!(list_api_keys, create_api_key))
        .routes(routes!(revoke_api_key))
        .routes(routes!(audit_log))
        .routes(routes!(verify_audit_log))
}

#[derive(Serialize, ToSchema)]
struct Health {
    status: &'static str,
    store: &'static str,
}

/// 200 when the store answers, 503 otherwise. No key needed.
#[utoipa::path(get, path = "/healthz", security(()), tag = "system",
    responses((status = 200, body = Health), (status = 503, body = crate::error::ErrorBody)))]
async fn healthz(State(state): State<AppState>) -> impl IntoResponse {
    match state.app.health().await {
        Ok(()) => (
            StatusCode::OK,
            axum::Json(Health {
                status: "ok",
                store: state.app.store().backend(),
            }),
        )
            .into_response(),
        Err(_) => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "store_unavailable",
            "the store does not answer",
        )
        .into_response(),
    }
}

#[derive(Serialize, ToSchema)]
struct Ready {
    ready: bool,
}

/// 200 `{"ready": true}` once the server takes its full load; 503 `not_ready` while it
/// starts (the store opening and applying its migrations, the demo loading, the ledger
/// walked to sign its head, the store's cache warming up) and whenever the store does not
/// answer. For load balancers and orchestrators; `/healthz` says whether it is alive. No
/// key needed.
#[utoipa::path(get, path = "/readyz", security(()), tag = "system",
    responses((status = 200, body = Ready), (status = 503, body = crate::error::ErrorBody)))]
async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    let running = state.app.starting_up();
    if !running.is_empty() {
        let what: Vec<&str> = running.iter().map(|task| task.describe()).collect();
        return ApiError::not_ready(format!("Registre is starting: {}", what.join(", ")))
            .into_response();
    }
    match state.app.health().await {
        Ok(()) => (StatusCode::OK, axum::Json(Ready { ready: true })).into_response(),
        Err(_) => ApiError::not_ready("the store does not answer").into_response(),
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct NewApiKey {
    name: String,
    role: Role,
}

#[derive(Serialize, ToSchema)]
struct ApiKeyView {
    id: uuid::Uuid,
    name: String,
    role: Role,
    prefix: String,
    created_at: chrono::DateTime<chrono::Utc>,
    revoked_at: Option<chrono::DateTime<chrono::Utc>>,
    /// Only in the answer to the creation: the key is never shown again.
    #[serde(skip_serializing_if = "Option::is_none")]
    key: Option<String>,
}

/// API keys (admin).
#[utoipa::path(get, path = "/api/v1/api-keys", tag = "access", responses((status = 200, body = List<ApiKeyView>)))]
async fn list_api_keys(
    caller: Caller<Administer>,
    State(state): State<AppState>,
) -> ApiResult<axum::Json<List<ApiKeyView>>> {
    let keys = state.app.api_keys(&caller.principal).await?;
    Ok(axum::Json(List::all(
        keys.into_iter()
            .map(|k| ApiKeyView {
                id: k.id,
                name: k.name,
                role: k.role,
                prefix: k.prefix,
                created_at: k.created_at,
                revoked_at: k.revoked_at,
                key: None,
            })
            .collect(),
    )))
}

/// Creates an API key; the key is in the answer once.
#[utoipa::path(post, path = "/api/v1/api-keys", tag = "access", request_body = NewApiKey, responses((status = 201, body = ApiKeyView)))]
async fn create_api_key(
    caller: Caller<Administer>,
    State(state): State<AppState>,
    Json(body): Json<NewApiKey>,
) -> ApiResult<(StatusCode, axum::Json<ApiKeyView>)> {
    let created = state
        .app
        .create_api_key(&caller.principal, &body.name, body.role)
        .await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(ApiKeyView {
            id: created.id,
            name: created.name,
            role: created.role,
            prefix: created.prefix,
            created_at: created.created_at,
            revoked_at: None,
            key: Some(created.key),
        }),
    ))
}

/// Revokes an API key at once.
#[utoipa::path(delete, path = "/api/v1/api-keys/{id}", tag = "access", params(("id" = uuid::Uuid, Path)), responses((status = 204)))]
async fn revoke_api_key(
    caller: Caller<Administer>,
    State(state): State<AppState>,
    Path(id): Path<uuid::Uuid>,
) -> ApiResult<StatusCode> {
    state.app.revoke_api_key(&caller.principal, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, utoipa::IntoParams)]
struct Page {
    /// Sequence number after which to start.
    cursor: Option<String>,
    limit: Option<i64>,
}

/// The audit log of administrative changes, oldest first.
#[utoipa::path(get, path = "/api/v1/audit-log", tag = "system", params(Page), responses((status = 200, body = List<AuditEntry>)))]
async fn audit_log(
    caller: Caller<Read>,
    State(state): State<AppState>,
    Query(page): Query<Page>,
) -> ApiResult<axum::Json<List<AuditEntry>>> {
    let _ = caller;
    let after = match page.cursor.as_deref() {
        Some(c) => c
            .parse::<i64>()
            .map_err(|_| ApiError::bad_request("cursor: not a cursor from a previous page"))?,
        None => 0,
    };
    let limit = page.limit.unwrap_or(100).clamp(1, 1000);
    let entries = state
        .app
        .store()
        .audit_entries(after, limit)
        .await
        .map_err(registre_app::AppError::from)?;
    let next_cursor = if entries.len() as i64 == limit {
        entries.last().map(|e| e.seq.to_string())
    } else {
        None
    };
    Ok(axum::Json(List {
        items: entries,
        next_cursor,
    }))
}

/// Checks the audit log's hash chain.
#[utoipa::path(get, path = "/api/v1/audit-log/verify", tag = "system", responses((status = 200, body = ChainReport)))]
async fn verify_audit_log(
    caller: Caller<Read>,
    State(state): State<AppState>,
) -> ApiResult<axum::Json<ChainReport>> {
    let _ = caller;
    Ok(axum::Json(
        state
            .app
            .store()
            .verify_audit_log()
            .await
            .map_err(registre_app::AppError::from)?,
    ))
}
