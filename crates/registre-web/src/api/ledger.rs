//! Proofs of the consent ledger: verification, signed checkpoints, the published key.
use crate::api::List;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Caller, ManageRegisters, Query, Read};
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::http::header;
use axum::response::IntoResponse;
use registre_app::tree::{ConsistencyProof, InclusionProof};
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
        .routes(routes!(checkpoint_note))
        .routes(routes!(inclusion_proof))
        .routes(routes!(consistency_proof))
        .routes(routes!(ledger_note_key))
        .routes(routes!(witness_key))
        .routes(routes!(witness_add_checkpoint))
}

/// This server's cosigning key as a witness (a C2SP verifier key, type 0x04), for the logs
/// that ask it to cosign (`REGISTRE_WITNESSES` of theirs). No key needed.
#[utoipa::path(get, path = "/.well-known/registre/witness-key", tag = "ledger", security(()),
    responses((status = 200, description = "A cosignature verifier key", content_type = "text/plain", body = String)))]
async fn witness_key(State(state): State<AppState>) -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=300"),
        ],
        format!("{}\n", state.app.witness_key()),
    )
}

/// The C2SP witness protocol's `add-checkpoint` (c2sp.org/tlog-witness), for the logs of
/// `REGISTRE_WITNESS_LOGS`: the old size, the consistency proof, a blank line, the signed
/// checkpoint. 200 with the cosignature line; 409 with the latest cosigned size
/// (`text/x.tlog.size`); 404 for a log not witnessed; 403 unsigned; 422 inconsistent.
#[utoipa::path(post, path = "/api/v1/witness/add-checkpoint", tag = "ledger", security(()),
    request_body(content = String, content_type = "text/plain"),
    responses((status = 200, description = "Cosignature lines", content_type = "text/plain", body = String),
        (status = 400, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody),
        (status = 409, description = "The latest cosigned size", content_type = "text/x.tlog.size", body = String),
        (status = 422, body = crate::error::ErrorBody)))]
async fn witness_add_checkpoint(
    State(state): State<AppState>,
    body: String,
) -> ApiResult<axum::response::Response> {
    use registre_app::witnesses::WitnessAnswer;
    let text = |status: StatusCode, kind: &'static str, body: String| {
        (status, [(header::CONTENT_TYPE, kind)], body).into_response()
    };
    Ok(match state.app.witness_add_checkpoint(&body).await? {
        WitnessAnswer::Cosigned(lines) => text(StatusCode::OK, "text/plain; charset=utf-8", lines),
        WitnessAnswer::Conflict(size) => text(
            StatusCode::CONFLICT,
            "text/x.tlog.size",
            format!("{size}\n"),
        ),
        WitnessAnswer::UnknownLog => {
            ApiError::not_found("no witnessed log has this origin").into_response()
        }
        WitnessAnswer::NotSigned => ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "no signature by the log's key verifies this checkpoint",
        )
        .into_response(),
        WitnessAnswer::Bad(message) => {
            ApiError::new(StatusCode::BAD_REQUEST, "invalid", message).into_response()
        }
        WitnessAnswer::Inconsistent => ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "inconsistent",
            "the consistency proof does not verify",
        )
        .into_response(),
    })
}

/// The latest checkpoint of the ledger's Merkle tree (RFC 9162) as a C2SP signed note:
/// origin, tree size, base64 root hash, a blank line, the Ed25519 signature line. Checked
/// with the key of `/.well-known/registre/ledger-note-key`.
#[utoipa::path(get, path = "/api/v1/ledger/checkpoint", tag = "ledger",
    responses((status = 200, description = "A C2SP signed note", content_type = "text/plain", body = String)))]
async fn checkpoint_note(
    caller: Caller<Read>,
    State(state): State<AppState>,
) -> ApiResult<impl IntoResponse> {
    let note = state.app.checkpoint_note(&caller.principal).await?;
    Ok(([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], note))
}

#[derive(Deserialize, IntoParams)]
struct InclusionQuery {
    /// The ledger event to prove.
    event_id: uuid::Uuid,
}

/// The RFC 9162 inclusion proof of one event in the tree of the current head, with that
/// tree's signed checkpoint. Hashes are base64.
#[utoipa::path(get, path = "/api/v1/ledger/proofs/inclusion", tag = "ledger", params(InclusionQuery),
    responses((status = 200, body = InclusionProof), (status = 404, body = crate::error::ErrorBody)))]
async fn inclusion_proof(
    caller: Caller<Read>,
    State(state): State<AppState>,
    Query(query): Query<InclusionQuery>,
) -> ApiResult<axum::Json<InclusionProof>> {
    Ok(axum::Json(
        state
            .app
            .inclusion_proof(&caller.principal, query.event_id)
            .await?,
    ))
}

#[derive(Deserialize, IntoParams)]
struct ConsistencyQuery {
    /// The earlier tree size, at least 1.
    from: i64,
    /// The later tree size, at most the ledger's length.
    to: i64,
}

/// The RFC 9162 consistency proof that the tree of `from` events is a prefix of the tree
/// of `to` events: nothing before `from` was rewritten or removed. Hashes are base64.
#[utoipa::path(get, path = "/api/v1/ledger/proofs/consistency", tag = "ledger", params(ConsistencyQuery),
    responses((status = 200, body = ConsistencyProof), (status = 422, body = crate::error::ErrorBody)))]
async fn consistency_proof(
    caller: Caller<Read>,
    State(state): State<AppState>,
    Query(query): Query<ConsistencyQuery>,
) -> ApiResult<axum::Json<ConsistencyProof>> {
    Ok(axum::Json(
        state
            .app
            .consistency_proof(&caller.principal, query.from, query.to)
            .await?,
    ))
}

/// The checkpoints' verifier key in the signed-note format (`name+hash+base64 key`), as
/// note tools (Go's `sumdb/note`, C2SP witnesses) read it. No key needed.
#[utoipa::path(get, path = "/.well-known/registre/ledger-note-key", tag = "ledger", security(()),
    responses((status = 200, description = "A note verifier key", content_type = "text/plain", body = String)))]
async fn ledger_note_key(State(state): State<AppState>) -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=300"),
        ],
        format!("{}\n", state.app.ledger_note_key()),
    )
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
