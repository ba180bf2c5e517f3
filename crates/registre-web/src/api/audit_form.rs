//! The form auditor over HTTP: an HTML page in, GDPR findings for each of its forms out.
use crate::error::{ApiError, ApiResult};
use crate::extract::{Caller, Read};
use crate::state::AppState;
use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode, header};
use registre_audit::fetch::{FetchError, FetchPolicy};
use registre_audit::{AuditError, AuditReport};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Largest page the auditor takes (the auditor's own cap).
pub const MAX_PAGE: usize = registre_audit::MAX_INPUT_BYTES;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(audit_form))
}

#[derive(serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct AuditUrl {
    /// A public http(s) page to fetch and audit; private and loopback addresses are refused.
    url: String,
}

/// Audits every form of an HTML page (`text/html` body), or of a public page given as
/// `{"url": ...}` (`application/json`): the same JSON as `registre audit-form --format json`.
#[utoipa::path(post, path = "/api/v1/audit/form", tag = "audit",
    request_body(content((String = "text/html"), (AuditUrl = "application/json"))),
    responses((status = 200, description = "findings per form: {forms: [{index, action, findings: [{rule, level, message, element}]}], summary: {errors, warnings}}", body = Object),
        (status = 413, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
async fn audit_form(
    _caller: Caller<Read>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<axum::Json<AuditReport>> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let report = if content_type.starts_with("application/json") {
        let request: AuditUrl = serde_json::from_slice(&body).map_err(|e| {
            ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_body",
                e.to_string(),
            )
        })?;
        // The server never fetches private addresses: no SSRF through the auditor.
        let page = registre_audit::fetch::fetch(&request.url, &FetchPolicy::default())
            .await
            .map_err(fetch_error)?;
        registre_audit::audit_html_with_url(&page.html, &page.url)
    } else {
        registre_audit::audit_html(&String::from_utf8_lossy(&body))
    };
    report.map(axum::Json).map_err(audit_error)
}

fn audit_error(error: AuditError) -> ApiError {
    let status = match error {
        AuditError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
        _ => StatusCode::UNPROCESSABLE_ENTITY,
    };
    ApiError::new(status, error.code(), error.to_string())
}

fn fetch_error(error: FetchError) -> ApiError {
    let status = match error {
        FetchError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
        _ => StatusCode::UNPROCESSABLE_ENTITY,
    };
    ApiError::new(status, error.code(), error.to_string())
}
