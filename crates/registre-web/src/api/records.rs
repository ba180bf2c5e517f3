//! Derived records: the record of processing activities (Art. 30) and the retention report.
use crate::error::{ApiError, ApiResult};
use crate::extract::{Caller, Query, Read};
use crate::state::AppState;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use registre_domain::Language;
use registre_domain::retention::RetentionReport;
use registre_domain::ropa::Ropa;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(ropa))
        .routes(routes!(retention_report))
}

#[derive(Clone, Copy, Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
enum RopaFormat {
    #[default]
    Json,
    Csv,
    Html,
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
struct RopaQuery {
    /// `json` (default), `csv` or `html` (print-ready).
    #[param(inline)]
    format: Option<RopaFormat>,
    /// Language of the CSV and HTML forms; the organisation's by default.
    lang: Option<Language>,
}

/// The record of processing activities (Art. 30(1)), derived from the registers: one
/// activity per purpose, with the controller and DPO, legal basis, categories of data and
/// people, recipients and their countries, transfers and safeguards, retention, security
/// measures and the date of generation.
#[utoipa::path(get, path = "/api/v1/ropa", tag = "records", params(RopaQuery),
    responses((status = 200, description = "The record (`json`), one row per activity (`csv`) or a print-ready page (`html`)",
               content((Ropa = "application/json"), (String = "text/csv"), (String = "text/html")))))]
async fn ropa(
    _caller: Caller<Read>,
    State(state): State<AppState>,
    Query(query): Query<RopaQuery>,
) -> ApiResult<Response> {
    let record = state.app.ropa().await?;
    let language = match query.lang {
        Some(language) => language,
        None => state.app.organisation().await?.default_language,
    };
    let format = query.format.unwrap_or_default();
    let (content_type, body) = match format {
        RopaFormat::Json => return Ok(axum::Json(record).into_response()),
        RopaFormat::Csv => ("text/csv; charset=utf-8", record.to_csv(language)),
        RopaFormat::Html => {
            let html = crate::ropa_page::ropa_html(&record, language).map_err(|error| {
                tracing::error!(%error, "the record of processing could not be rendered");
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "an internal error occurred; it has been logged",
                )
            })?;
            ("text/html; charset=utf-8", html)
        }
    };
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if matches!(format, RopaFormat::Csv) {
        headers.insert(
            header::CONTENT_DISPOSITION,
            HeaderValue::from_static("attachment; filename=\"ropa.csv\""),
        );
    }
    if matches!(format, RopaFormat::Html) {
        // The page carries its own print styles and nothing else.
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_str(&crate::ropa_page::CONTENT_SECURITY_POLICY)
                .unwrap_or(HeaderValue::from_static("default-src 'none'")),
        );
    }
    Ok(response)
}

/// What applying the retention periods would do now, without doing it: people and
/// submissions past their purposes' retention, counted per purpose, and the marketing
/// consents the CNIL says to renew (three years without contact). Counts only.
#[utoipa::path(get, path = "/api/v1/retention/report", tag = "records", responses((status = 200, body = RetentionReport)))]
async fn retention_report(
    caller: Caller<Read>,
    State(state): State<AppState>,
) -> ApiResult<axum::Json<RetentionReport>> {
    Ok(axum::Json(
        state.app.retention_report(&caller.principal).await?,
    ))
}
