use crate::error::{ApiError, ApiResult, ErrorDetail};
use crate::extract::{Caller, Json, OperateSubjects, Query, Read};
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use registre_app::{ConsentReceipt, ConsentRequest, SubjectConsents};
use registre_domain::ledger::{ConsentEvent, Decision};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(record_consent))
        .routes(routes!(record_consents_bulk))
        .routes(routes!(consent_receipt))
        .routes(routes!(check_by_query, check_by_body))
        .routes(routes!(subject_consents_by_query, subject_consents_by_body))
        .routes(routes!(erase_by_query))
        .routes(routes!(erase_by_body))
}

/// Records a grant or a withdrawal in the ledger.
#[utoipa::path(post, path = "/api/v1/consents", tag = "consents", request_body = ConsentRequest,
    responses((status = 201, body = ConsentEvent), (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
async fn record_consent(
    caller: Caller<OperateSubjects>,
    State(state): State<AppState>,
    Json(body): Json<ConsentRequest>,
) -> ApiResult<(StatusCode, axum::Json<ConsentEvent>)> {
    Ok((
        StatusCode::CREATED,
        axum::Json(state.app.record_consent(&caller.principal, body).await?),
    ))
}

#[derive(Deserialize, IntoParams, ToSchema)]
#[serde(deny_unknown_fields)]
struct CheckQuery {
    email: String,
    purpose: String,
}

/// May we process this person's data for this purpose now? Prefer the POST form: emails do
/// not belong in URLs.
#[utoipa::path(get, path = "/api/v1/consents/check", tag = "consents", params(CheckQuery),
    responses((status = 200, body = Decision), (status = 404, body = crate::error::ErrorBody)))]
async fn check_by_query(
    caller: Caller<Read>,
    State(state): State<AppState>,
    Query(query): Query<CheckQuery>,
) -> ApiResult<axum::Json<Decision>> {
    Ok(axum::Json(
        state
            .app
            .check(&caller.principal, &query.email, &query.purpose)
            .await?,
    ))
}

/// The same check, with the email in the body.
#[utoipa::path(post, path = "/api/v1/consents/check", tag = "consents", request_body = CheckQuery,
    responses((status = 200, body = Decision), (status = 404, body = crate::error::ErrorBody)))]
async fn check_by_body(
    caller: Caller<Read>,
    State(state): State<AppState>,
    Json(body): Json<CheckQuery>,
) -> ApiResult<axum::Json<Decision>> {
    Ok(axum::Json(
        state
            .app
            .check(&caller.principal, &body.email, &body.purpose)
            .await?,
    ))
}

#[derive(Deserialize, IntoParams, ToSchema)]
#[serde(deny_unknown_fields)]
struct EmailQuery {
    email: String,
}

/// Current state of every purpose for one person, with history.
#[utoipa::path(get, path = "/api/v1/subjects/consents", tag = "subjects", params(EmailQuery), responses((status = 200, body = SubjectConsents)))]
async fn subject_consents_by_query(
    caller: Caller<Read>,
    State(state): State<AppState>,
    Query(query): Query<EmailQuery>,
) -> ApiResult<axum::Json<SubjectConsents>> {
    Ok(axum::Json(
        state
            .app
            .subject_consents(&caller.principal, &query.email)
            .await?,
    ))
}

/// The same, with the email in the body.
#[utoipa::path(post, path = "/api/v1/subjects/consents", tag = "subjects", request_body = EmailQuery, responses((status = 200, body = SubjectConsents)))]
async fn subject_consents_by_body(
    caller: Caller<Read>,
    State(state): State<AppState>,
    Json(body): Json<EmailQuery>,
) -> ApiResult<axum::Json<SubjectConsents>> {
    Ok(axum::Json(
        state
            .app
            .subject_consents(&caller.principal, &body.email)
            .await?,
    ))
}

/// Erases a person: their data becomes unrecoverable; the ledger still verifies. The answer
/// is the ledger marker (`action` `erase`, or `restrict` when data a legal obligation
/// requires is kept) with `complete`, `kept`, `certificate_id` and the `certificate`.
#[utoipa::path(delete, path = "/api/v1/subjects", tag = "subjects", params(EmailQuery),
    responses((status = 200, body = ErasureAnswer), (status = 404, body = crate::error::ErrorBody)))]
async fn erase_by_query(
    caller: Caller<OperateSubjects>,
    State(state): State<AppState>,
    Query(query): Query<EmailQuery>,
) -> ApiResult<axum::Json<serde_json::Value>> {
    erase(&state, &caller.principal, &query.email).await
}

/// Erasure with the email in the body.
#[utoipa::path(post, path = "/api/v1/subjects/erase", tag = "subjects", request_body = EmailQuery,
    responses((status = 200, body = ErasureAnswer), (status = 404, body = crate::error::ErrorBody)))]
async fn erase_by_body(
    caller: Caller<OperateSubjects>,
    State(state): State<AppState>,
    Json(body): Json<EmailQuery>,
) -> ApiResult<axum::Json<serde_json::Value>> {
    erase(&state, &caller.principal, &body.email).await
}

/// The answer of an erasure: the ledger marker's fields when the person had a ledger
/// history (someone never seen has none: only the certificate), then what was done.
/// Documents what [`erase`] builds.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
struct ErasureAnswer {
    seq: Option<i64>,
    event_id: Option<uuid::Uuid>,
    recorded_at: Option<chrono::DateTime<chrono::Utc>>,
    occurred_at: Option<chrono::DateTime<chrono::Utc>>,
    subject_id: Option<uuid::Uuid>,
    purpose: Option<String>,
    /// `erase`, or `restrict` when data a legal obligation requires is kept.
    action: Option<registre_domain::ledger::ConsentAction>,
    source: Option<registre_domain::ledger::ConsentSource>,
    touchpoint: Option<String>,
    notice_version: Option<String>,
    provenance: Option<String>,
    prev_hash: Option<String>,
    hash: Option<String>,
    /// Everything erased (`false` when some data is kept for a legal obligation).
    complete: bool,
    /// What is kept, and why.
    kept: Vec<serde_json::Value>,
    certificate_id: uuid::Uuid,
    /// The certificate of erasure, as kept.
    #[schema(value_type = Object)]
    certificate: serde_json::Value,
}

async fn erase(
    state: &AppState,
    by: &registre_app::Principal,
    email: &str,
) -> ApiResult<axum::Json<serde_json::Value>> {
    let email = registre_domain::Email::parse(email).map_err(registre_app::AppError::from)?;
    let outcome = state.app.erase_person(by, &email, None).await?;
    let mut answer = match &outcome.event {
        Some(event) => serde_json::to_value(event).unwrap_or_default(),
        None => serde_json::json!({}),
    };
    if let Some(object) = answer.as_object_mut() {
        object.insert("complete".into(), outcome.complete.into());
        object.insert(
            "kept".into(),
            serde_json::to_value(&outcome.kept).unwrap_or_default(),
        );
        object.insert(
            "certificate_id".into(),
            outcome.certificate_id.to_string().into(),
        );
        object.insert("certificate".into(), outcome.certificate.clone());
    }
    Ok(axum::Json(answer))
}

/// A bulk request: a bare array of consents (each with its own `provenance`), or an object
/// whose `provenance` applies to every item that has none. Items are parsed one by one, so
/// that a malformed item fails alone.
#[derive(Deserialize)]
#[serde(untagged)]
enum BulkBody {
    Items(Vec<serde_json::Value>),
    Wrapped {
        provenance: Option<String>,
        items: Vec<serde_json::Value>,
    },
}

/// The documented shape of a bulk request (a bare array of items is accepted too).
#[derive(ToSchema)]
#[allow(dead_code)]
struct BulkRequest {
    /// Where these consents come from (a file, a system); never personal data.
    provenance: Option<String>,
    items: Vec<ConsentRequest>,
}

/// The answer for one item of a bulk request: `event` when recorded, `error` otherwise.
#[derive(Serialize, ToSchema)]
struct BulkItem {
    index: usize,
    /// The status the item would have had alone: 201, or the error's.
    status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    event: Option<ConsentEvent>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<ErrorDetail>,
}

#[derive(Serialize, ToSchema)]
struct BulkAnswer {
    accepted: usize,
    rejected: usize,
    items: Vec<BulkItem>,
    next_cursor: Option<String>,
}

/// Records many grants and withdrawals at once (at most 1000), for imports and
/// synchronisations: each item is validated and answered on its own. Items default to source
/// `import`; each needs a provenance (its own, or the request's).
#[utoipa::path(post, path = "/api/v1/consents/bulk", tag = "consents", request_body = BulkRequest,
    responses((status = 200, body = BulkAnswer), (status = 422, body = crate::error::ErrorBody)))]
async fn record_consents_bulk(
    caller: Caller<OperateSubjects>,
    State(state): State<AppState>,
    Json(body): Json<BulkBody, true>,
) -> ApiResult<axum::Json<BulkAnswer>> {
    let (provenance, items) = match body {
        BulkBody::Items(items) => (None, items),
        BulkBody::Wrapped { provenance, items } => (provenance, items),
    };
    let results = state
        .app
        .record_consents_bulk(&caller.principal, provenance.as_deref(), items)
        .await?;
    let items: Vec<BulkItem> = results
        .into_iter()
        .enumerate()
        .map(|(index, result)| match result {
            Ok(event) => BulkItem {
                index,
                status: StatusCode::CREATED.as_u16(),
                event: Some(event),
                error: None,
            },
            Err(error) => {
                let error = ApiError::from(error);
                BulkItem {
                    index,
                    status: error.status.as_u16(),
                    event: None,
                    error: Some(ErrorDetail {
                        code: error.code.to_string(),
                        message: error.message,
                    }),
                }
            }
        })
        .collect();
    let accepted = items.iter().filter(|i| i.event.is_some()).count();
    Ok(axum::Json(BulkAnswer {
        accepted,
        rejected: items.len() - accepted,
        items,
        next_cursor: None,
    }))
}

/// The signed consent receipt of one ledger event (Kantara Consent Receipt v1.1 fields),
/// with its compact JWS (EdDSA), verifiable with `/.well-known/registre/ledger-key`.
#[utoipa::path(get, path = "/api/v1/consents/{event_id}/receipt", tag = "consents", params(("event_id" = uuid::Uuid, Path)),
    responses((status = 200, body = ConsentReceipt), (status = 404, body = crate::error::ErrorBody)))]
async fn consent_receipt(
    caller: Caller<Read>,
    State(state): State<AppState>,
    Path(event_id): Path<String>,
) -> ApiResult<axum::Json<ConsentReceipt>> {
    let event_id = uuid::Uuid::parse_str(&event_id)
        .map_err(|_| ApiError::not_found("consent event not found"))?;
    Ok(axum::Json(
        state
            .app
            .consent_receipt(&caller.principal, event_id)
            .await?,
    ))
}
