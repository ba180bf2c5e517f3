//! The processor register: entries, due-diligence assessments, evidence files, the
//! sub-processor chain and the vendor questionnaire's link and draft.
use crate::api::List;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Caller, Json, ManageRegisters, Query, Read};
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use registre_app::processors::{MAX_EVIDENCE_BYTES, QuestionnaireLinkRequest};
use registre_app::{
    AssessmentOutcome, ChainNode, DraftView, EvidenceView, ProcessorView, QuestionnaireLink,
};
use registre_domain::processor::{AssessmentInput, ProcessorInput, ProcessorStatus};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouterExt};
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_processors, create_processor))
        .routes(routes!(get_processor, put_processor))
        .routes(routes!(put_assessment))
        .routes(routes!(processor_chain))
        .routes(
            routes!(list_evidence, upload_evidence)
                .layer(DefaultBodyLimit::max(MAX_EVIDENCE_BYTES + 1)),
        )
        .routes(routes!(download_evidence))
        .routes(routes!(create_questionnaire_link))
        .routes(routes!(get_assessment_draft, discard_assessment_draft))
        .routes(routes!(accept_assessment_draft))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
struct ProcessorFilter {
    /// Only entries in this status: `pending_assessment`, `compliant`, `needs_attention`, `non_compliant`.
    status: Option<ProcessorStatus>,
    /// Only entries whose review is due soon or overdue.
    review_due: Option<bool>,
}

/// Processors, sub-processors and third-party tools, by name, each with its status, risk,
/// findings and next review date.
#[utoipa::path(get, path = "/api/v1/processors", tag = "processors", params(ProcessorFilter),
    responses((status = 200, body = List<ProcessorView>)))]
async fn list_processors(
    _caller: Caller<Read>,
    State(state): State<AppState>,
    Query(filter): Query<ProcessorFilter>,
) -> ApiResult<axum::Json<List<ProcessorView>>> {
    let items = state
        .app
        .processors()
        .await?
        .into_iter()
        .filter(|p| filter.status.is_none_or(|s| s == p.status))
        .filter(|p| {
            filter
                .review_due
                .is_none_or(|due| due == (p.review_due_soon || p.review_overdue))
        })
        .collect();
    Ok(axum::Json(List::all(items)))
}

/// Adds an entry; it is `pending_assessment` until its questionnaire is answered.
#[utoipa::path(post, path = "/api/v1/processors", tag = "processors", request_body = ProcessorInput,
    responses((status = 201, body = ProcessorView), (status = 409, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
async fn create_processor(
    caller: Caller<ManageRegisters>,
    State(state): State<AppState>,
    Json(body): Json<ProcessorInput>,
) -> ApiResult<(StatusCode, axum::Json<ProcessorView>)> {
    Ok((
        StatusCode::CREATED,
        axum::Json(state.app.create_processor(&caller.principal, body).await?),
    ))
}

/// One entry.
#[utoipa::path(get, path = "/api/v1/processors/{id}", tag = "processors", params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = ProcessorView), (status = 404, body = crate::error::ErrorBody)))]
async fn get_processor(
    _caller: Caller<Read>,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<ProcessorView>> {
    Ok(axum::Json(state.app.processor(&id).await?))
}

/// Replaces an entry; its assessments and evidence stay.
#[utoipa::path(put, path = "/api/v1/processors/{id}", tag = "processors", params(("id" = uuid::Uuid, Path)), request_body = ProcessorInput,
    responses((status = 200, body = ProcessorView), (status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
async fn put_processor(
    caller: Caller<ManageRegisters>,
    State(state): State<AppState>,
    Path(id): Path<String>,
    Json(body): Json<ProcessorInput>,
) -> ApiResult<axum::Json<ProcessorView>> {
    Ok(axum::Json(
        state
            .app
            .update_processor(&caller.principal, &id, body)
            .await?,
    ))
}

/// Records the due-diligence answers: `{"risk", "status", "findings"}` and the next review.
#[utoipa::path(put, path = "/api/v1/processors/{id}/assessment", tag = "processors", params(("id" = uuid::Uuid, Path)), request_body = AssessmentInput,
    responses((status = 200, body = AssessmentOutcome), (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
async fn put_assessment(
    caller: Caller<ManageRegisters>,
    State(state): State<AppState>,
    Path(id): Path<String>,
    Json(body): Json<AssessmentInput>,
) -> ApiResult<axum::Json<AssessmentOutcome>> {
    Ok(axum::Json(
        state
            .app
            .put_assessment(&caller.principal, &id, body)
            .await?,
    ))
}

/// The entry and its sub-processors, and theirs, as a tree to follow or draw.
#[utoipa::path(get, path = "/api/v1/processors/{id}/chain", tag = "processors", params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = ChainNode), (status = 404, body = crate::error::ErrorBody)))]
async fn processor_chain(
    _caller: Caller<Read>,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<ChainNode>> {
    Ok(axum::Json(state.app.processor_chain(&id).await?))
}

/// The entry's evidence files, without their content.
#[utoipa::path(get, path = "/api/v1/processors/{id}/evidence", tag = "processors", params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = List<EvidenceView>), (status = 404, body = crate::error::ErrorBody)))]
async fn list_evidence(
    _caller: Caller<Read>,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<List<EvidenceView>>> {
    Ok(axum::Json(List::all(state.app.evidence_files(&id).await?)))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
struct EvidenceName {
    /// The file's name, as it is shown and downloaded.
    name: Option<String>,
}

/// Uploads a file that backs an answer (the body is the file; `Content-Type` says what it
/// is: PDF, PNG, JPEG, plain text, DOCX or XLSX, checked against the content). At most
/// 5 MiB; stored encrypted. Answers name it by its `id` as `evidence: [{"file_id": ...}]`.
#[utoipa::path(post, path = "/api/v1/processors/{id}/evidence", tag = "processors", params(("id" = uuid::Uuid, Path), EvidenceName),
    request_body(content = String, content_type = "application/pdf", description = "The file's bytes"),
    responses((status = 201, body = EvidenceView), (status = 404, body = crate::error::ErrorBody),
              (status = 413, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
async fn upload_evidence(
    caller: Caller<ManageRegisters>,
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(query): Query<EvidenceName>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<(StatusCode, axum::Json<EvidenceView>)> {
    let body = body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                format!(
                    "an evidence file has at most {} MiB",
                    MAX_EVIDENCE_BYTES / 1024 / 1024
                ),
            )
        } else {
            ApiError::bad_request(rejection.body_text())
        }
    })?;
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let evidence = state
        .app
        .upload_evidence(
            &caller.principal,
            &id,
            query.name.as_deref(),
            content_type,
            &body,
        )
        .await?;
    Ok((StatusCode::CREATED, axum::Json(evidence)))
}

/// Downloads an evidence file.
#[utoipa::path(get, path = "/api/v1/processors/{id}/evidence/{file_id}", tag = "processors",
    params(("id" = uuid::Uuid, Path), ("file_id" = uuid::Uuid, Path)),
    responses((status = 200, description = "The file, with the type it was uploaded as",
        content(("application/pdf"), ("image/png"), ("image/jpeg"), ("text/plain"),
                ("application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
                ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
        (status = 404, body = crate::error::ErrorBody)))]
async fn download_evidence(
    _caller: Caller<Read>,
    State(state): State<AppState>,
    Path((id, file_id)): Path<(String, String)>,
) -> ApiResult<Response> {
    let (evidence, content) = state.app.evidence_file(&id, &file_id).await?;
    let mut response = content.into_response();
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&evidence.content_type) {
        headers.insert(header::CONTENT_TYPE, value);
    }
    let name: String = evidence
        .name
        .chars()
        .map(|c| if c == '"' || !c.is_ascii() { '_' } else { c })
        .collect();
    if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// A signed link, valid 30 days and good for one submission, for the vendor to answer the
/// questionnaire in a browser, without an account. Their answers arrive as a draft.
#[utoipa::path(post, path = "/api/v1/processors/{id}/questionnaire-link", tag = "processors", params(("id" = uuid::Uuid, Path)),
    request_body(content = Option<QuestionnaireLinkRequest>, description = "Optional: `{\"language\": \"fr\"|\"en\"}`"),
    responses((status = 201, body = QuestionnaireLink), (status = 404, body = crate::error::ErrorBody)))]
async fn create_questionnaire_link(
    caller: Caller<ManageRegisters>,
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult<(StatusCode, axum::Json<QuestionnaireLink>)> {
    // The body is optional: an empty one takes the organisation's language. One of blanks
    // only is not JSON, and refused like any other.
    let request = if body.is_empty() {
        QuestionnaireLinkRequest::default()
    } else if body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[') {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
            "the body must be a JSON object, not an array",
        ));
    } else {
        serde_json::from_slice::<Option<QuestionnaireLinkRequest>>(&body)
            .map(Option::unwrap_or_default)
            .map_err(|e| {
                ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "invalid_body",
                    format!("the body is not a link request: {e}"),
                )
            })?
    };
    Ok((
        StatusCode::CREATED,
        axum::Json(
            state
                .app
                .questionnaire_link(&caller.principal, &id, request)
                .await?,
        ),
    ))
}

/// The vendor's answers waiting for acceptance, with what the rules would make of them.
#[utoipa::path(get, path = "/api/v1/processors/{id}/assessment-draft", tag = "processors", params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = DraftView), (status = 404, body = crate::error::ErrorBody)))]
async fn get_assessment_draft(
    _caller: Caller<Read>,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<DraftView>> {
    Ok(axum::Json(state.app.assessment_draft(&id).await?))
}

/// Throws the vendor's answers away.
#[utoipa::path(delete, path = "/api/v1/processors/{id}/assessment-draft", tag = "processors", params(("id" = uuid::Uuid, Path)),
    responses((status = 204), (status = 404, body = crate::error::ErrorBody)))]
async fn discard_assessment_draft(
    caller: Caller<ManageRegisters>,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    state
        .app
        .discard_assessment_draft(&caller.principal, &id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The vendor's answers become the current assessment.
#[utoipa::path(post, path = "/api/v1/processors/{id}/assessment-draft/accept", tag = "processors", params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = AssessmentOutcome), (status = 404, body = crate::error::ErrorBody)))]
async fn accept_assessment_draft(
    caller: Caller<ManageRegisters>,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<AssessmentOutcome>> {
    Ok(axum::Json(
        state
            .app
            .accept_assessment_draft(&caller.principal, &id)
            .await?,
    ))
}
