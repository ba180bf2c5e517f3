//! Proofs of the consent ledger: verification, signed checkpoints, the published key.
use crate::api::List;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Caller, ManageRegisters, Query, Read};
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::http::header;
use axum::response::IntoResponse;
use registre_domain::proof::{Checkpoint, LedgerReport};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(verify_ledger))
        .routes(routes!(list_checkpoints, sign_checkpoint))
        .routes(routes!(ledger_key))
}

/// Checks the whole consent ledger: every event's hash and link, and every signed
/// checkpoint. `{"ok", "length", "head"}`, with `first_broken_seq` and details when broken.
#[utoipa::path(get, path = "/api/v1/ledger/verify", tag = "ledger", responses((status = 200, body = LedgerReport)))]
async fn verify_ledger(
    caller: Caller<Read>,
    State(state): State<AppState>,
) -> ApiResult<axum::Json<LedgerReport>> {
    let _ = caller;
    Ok(axum::Json(state.app.verify_ledger().await?))
}

#[derive(Deserialize, IntoParams)]
struct Page {
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
    /// At most 1000; 100 by default.
    limit: Option<i64>,
}

/// Signed checkpoints of the ledger head, newest first.
#[utoipa::path(get, path = "/api/v1/ledger/checkpoints", tag = "ledger", params(Page), responses((status = 200, body = List<Checkpoint>)))]
async fn list_checkpoints(
    caller: Caller<Read>,
    State(state): State<AppState>,
    Query(page): Query<Page>,
) -> ApiResult<axum::Json<List<Checkpoint>>> {
    let before = match page.cursor.as_deref() {
        Some(cursor) => Some(
            uuid::Uuid::parse_str(cursor)
                .map_err(|_| ApiError::bad_request("cursor: not a cursor from a previous page"))?,
        ),
        None => None,
    };
    let limit = page.limit.unwrap_or(100).clamp(1, 1000);
    let items = state
        .app
        .checkpoints(&caller.principal, before, limit)
        .await?;
    let next_cursor = if items.len() as i64 == limit {
        items.last().map(|c| c.id.to_string())
    } else {
        None
    };
    Ok(axum::Json(List { items, next_cursor }))
}

/// Signs the current head now, after checking the events since the last checkpoint.
#[utoipa::path(post, path = "/api/v1/ledger/checkpoints", tag = "ledger",
    responses((status = 201, body = Checkpoint), (status = 409, body = crate::error::ErrorBody)))]
async fn sign_checkpoint(
    caller: Caller<ManageRegisters>,
    State(state): State<AppState>,
) -> ApiResult<(StatusCode, axum::Json<Checkpoint>)> {
    Ok((
        StatusCode::CREATED,
        axum::Json(state.app.sign_checkpoint(Some(&caller.principal)).await?),
    ))
}

/// The ledger's public key as a JWK set (Ed25519): what checkpoints, exports and consent
/// receipts are verified with. No key needed.
#[utoipa::path(get, path = "/.well-known/registre/ledger-key", tag = "ledger", security(()),
    responses((status = 200, description = "A JWK set", body = Object)))]
async fn ledger_key(State(state): State<AppState>) -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, "public, max-age=300"),
        ],
        state.app.ledger_jwks().to_string(),
    )
}
