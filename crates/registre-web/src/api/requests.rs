//! Rights requests, the subject export and the certificates of erasure.
use crate::api::List;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Caller, Json, OperateSubjects, Query, Read};
use crate::state::AppState;
use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use registre_app::{FulfilInput, NewRequest, RequestView};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_requests, create_request))
        .routes(routes!(get_request))
        .routes(routes!(verify_request))
        .routes(routes!(start_request))
        .routes(routes!(extend_request))
        .routes(routes!(refuse_request))
        .routes(routes!(fulfil_request))
        .routes(routes!(lift_restriction))
        .routes(routes!(export_by_query, export_by_body))
        .routes(routes!(erasure_certificate))
}

fn parse_id(raw: &str, what: &str) -> ApiResult<Uuid> {
    Uuid::parse_str(raw).map_err(|_| ApiError::not_found(format!("{what} not found")))
}

/// A JSON body that may be absent: an empty body (or `null`) is `T::default()`.
fn optional_body<T: DeserializeOwned + Default>(bytes: &Bytes) -> ApiResult<T> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[') {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
            "the body must be a JSON object, not an array",
        ));
    }
    serde_json::from_slice::<Option<T>>(bytes)
        .map(Option::unwrap_or_default)
        .map_err(|e| {
            if e.is_syntax() || e.is_eof() {
                ApiError::new(StatusCode::BAD_REQUEST, "malformed_json", e.to_string())
            } else {
                ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "invalid_body",
                    e.to_string(),
                )
            }
        })
}

#[derive(Deserialize, IntoParams)]
struct ListQuery {
    /// received, verified, in_progress, completed or refused.
    status: Option<String>,
    /// From a previous page's `next_cursor`.
    cursor: Option<String>,
    /// 1 to 500, default 100.
    limit: Option<i64>,
}

/// The request register by due date, with `due_soon` and `overdue` flags.
#[utoipa::path(get, path = "/api/v1/requests", tag = "requests", params(ListQuery),
    responses((status = 200, body = List<RequestView>), (status = 422, body = crate::error::ErrorBody)))]
async fn list_requests(
    caller: Caller<Read>,
    State(state): State<AppState>,
    Query(query): Query<ListQuery>,
) -> ApiResult<axum::Json<List<RequestView>>> {
    let page = state
        .app
        .list_requests(
            &caller.principal,
            query.status.as_deref(),
            query.cursor.as_deref(),
            query.limit,
        )
        .await?;
    Ok(axum::Json(List {
        items: page.items,
        next_cursor: page.next_cursor,
    }))
}

/// Files a rights request; the person is told it was received, and when the answer is due.
#[utoipa::path(post, path = "/api/v1/requests", tag = "requests", request_body = NewRequest,
    responses((status = 201, body = RequestView), (status = 422, body = crate::error::ErrorBody)))]
async fn create_request(
    caller: Caller<OperateSubjects>,
    State(state): State<AppState>,
    Json(body): Json<NewRequest>,
) -> ApiResult<(StatusCode, axum::Json<RequestView>)> {
    Ok((
        StatusCode::CREATED,
        axum::Json(
            state
                .app
                .create_request(&caller.principal, body, "api")
                .await?,
        ),
    ))
}

/// One request.
#[utoipa::path(get, path = "/api/v1/requests/{id}", tag = "requests", params(("id" = Uuid, Path)),
    responses((status = 200, body = RequestView), (status = 404, body = crate::error::ErrorBody)))]
async fn get_request(
    caller: Caller<Read>,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<RequestView>> {
    Ok(axum::Json(
        state
            .app
            .get_request(&caller.principal, parse_id(&id, "request")?)
            .await?,
    ))
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
struct VerifyBody {
    /// How identity was checked.
    #[serde(default)]
    method: Option<String>,
}

/// Records that the person's identity was checked, and how: received → verified.
#[utoipa::path(post, path = "/api/v1/requests/{id}/verify", tag = "requests", params(("id" = Uuid, Path)), request_body = VerifyBody,
    responses((status = 200, body = RequestView), (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
async fn verify_request(
    caller: Caller<OperateSubjects>,
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult<axum::Json<RequestView>> {
    let id = parse_id(&id, "request")?;
    let body: VerifyBody = optional_body(&body)?;
    Ok(axum::Json(
        state
            .app
            .verify_request(&caller.principal, id, body.method.as_deref())
            .await?,
    ))
}

/// Work on the request has started: → in_progress.
#[utoipa::path(post, path = "/api/v1/requests/{id}/start", tag = "requests", params(("id" = Uuid, Path)),
    responses((status = 200, body = RequestView), (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
async fn start_request(
    caller: Caller<OperateSubjects>,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<RequestView>> {
    Ok(axum::Json(
        state
            .app
            .start_request(&caller.principal, parse_id(&id, "request")?)
            .await?,
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct ReasonBody {
    reason: String,
}

/// Extends the deadline to three months after receipt, once; the person is told the reason.
#[utoipa::path(post, path = "/api/v1/requests/{id}/extend", tag = "requests", params(("id" = Uuid, Path)), request_body = ReasonBody,
    responses((status = 200, body = RequestView), (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
async fn extend_request(
    caller: Caller<OperateSubjects>,
    State(state): State<AppState>,
    Path(id): Path<String>,
    Json(body): Json<ReasonBody>,
) -> ApiResult<axum::Json<RequestView>> {
    Ok(axum::Json(
        state
            .app
            .extend_request(&caller.principal, parse_id(&id, "request")?, &body.reason)
            .await?,
    ))
}

/// Refuses the request with a reason, told to the person with their right to complain to
/// the supervisory authority.
#[utoipa::path(post, path = "/api/v1/requests/{id}/refuse", tag = "requests", params(("id" = Uuid, Path)), request_body = ReasonBody,
    responses((status = 200, body = RequestView), (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
async fn refuse_request(
    caller: Caller<OperateSubjects>,
    State(state): State<AppState>,
    Path(id): Path<String>,
    Json(body): Json<ReasonBody>,
) -> ApiResult<axum::Json<RequestView>> {
    Ok(axum::Json(
        state
            .app
            .refuse_request(&caller.principal, parse_id(&id, "request")?, &body.reason)
            .await?,
    ))
}

/// Carries the request out and completes it: access and portability get a signed
/// `export_url`; rectification takes `corrections`; objection takes `marketing` and
/// `purposes`; erasure answers with its `certificate_id`.
#[utoipa::path(post, path = "/api/v1/requests/{id}/fulfil", tag = "requests", params(("id" = Uuid, Path)), request_body = Option<FulfilInput>,
    responses((status = 200, body = RequestView), (status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
async fn fulfil_request(
    caller: Caller<OperateSubjects>,
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult<axum::Json<RequestView>> {
    let id = parse_id(&id, "request")?;
    let input: FulfilInput = optional_body(&body)?;
    Ok(axum::Json(
        state
            .app
            .fulfil_request(&caller.principal, id, input)
            .await?,
    ))
}

/// Lifts the restriction a completed restriction request put in place.
#[utoipa::path(post, path = "/api/v1/requests/{id}/lift-restriction", tag = "requests", params(("id" = Uuid, Path)),
    responses((status = 200, body = RequestView), (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
async fn lift_restriction(
    caller: Caller<OperateSubjects>,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<RequestView>> {
    Ok(axum::Json(
        state
            .app
            .lift_restriction(&caller.principal, parse_id(&id, "request")?)
            .await?,
    ))
}

#[derive(Deserialize, IntoParams, ToSchema)]
#[serde(deny_unknown_fields)]
struct EmailQuery {
    email: String,
}

/// A JSON response streamed chunk by chunk from the export's channel.
pub(crate) fn stream_json(
    receiver: tokio::sync::mpsc::Receiver<Vec<u8>>,
    attachment: Option<&str>,
) -> Response {
    let stream = futures_util::stream::unfold(receiver, |mut receiver| async move {
        receiver
            .recv()
            .await
            .map(|chunk| (Ok::<Bytes, std::io::Error>(Bytes::from(chunk)), receiver))
    });
    let mut response = (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        Body::from_stream(stream),
    )
        .into_response();
    if let Some(name) = attachment
        && let Ok(value) =
            header::HeaderValue::from_str(&format!("attachment; filename=\"{name}\""))
    {
        response
            .headers_mut()
            .insert(header::CONTENT_DISPOSITION, value);
    }
    response
}

/// Everything held on one person (Art. 15), streamed as JSON. Prefer the POST form: emails
/// do not belong in URLs.
#[utoipa::path(get, path = "/api/v1/subjects/export", tag = "subjects", params(EmailQuery),
    responses((status = 200, description = "the export", content_type = "application/json"), (status = 422, body = crate::error::ErrorBody)))]
async fn export_by_query(
    caller: Caller<Read>,
    State(state): State<AppState>,
    Query(query): Query<EmailQuery>,
) -> ApiResult<Response> {
    Ok(stream_json(
        state
            .app
            .export_subject_stream(&caller.principal, &query.email)
            .await?,
        None,
    ))
}

/// The same export, with the email in the body.
#[utoipa::path(post, path = "/api/v1/subjects/export", tag = "subjects", request_body = EmailQuery,
    responses((status = 200, description = "the export", content_type = "application/json"), (status = 422, body = crate::error::ErrorBody)))]
async fn export_by_body(
    caller: Caller<Read>,
    State(state): State<AppState>,
    Json(body): Json<EmailQuery>,
) -> ApiResult<Response> {
    Ok(stream_json(
        state
            .app
            .export_subject_stream(&caller.principal, &body.email)
            .await?,
        None,
    ))
}

/// A certificate of erasure: what was erased and when, never who.
#[utoipa::path(get, path = "/api/v1/erasure-certificates/{id}", tag = "subjects", params(("id" = Uuid, Path)),
    responses((status = 200, body = Object), (status = 404, body = crate::error::ErrorBody)))]
async fn erasure_certificate(
    caller: Caller<Read>,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<serde_json::Value>> {
    Ok(axum::Json(
        state
            .app
            .erasure_certificate(&caller.principal, parse_id(&id, "erasure certificate")?)
            .await?,
    ))
}
