//! The breach register (Art. 33, 34).
use crate::api::List;
use crate::error::ApiResult;
use crate::extract::{Caller, Json, ManageRegisters, Read};
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use registre_app::BreachView;
use registre_domain::breach::{BreachInput, NotificationInput};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_breaches, create_breach))
        .routes(routes!(get_breach, put_breach))
        .routes(routes!(log_notification))
}

/// Every breach, the most recent first, with `notify_authority_by` (awareness + 72 h), who
/// must be told, and where the deadline stands.
#[utoipa::path(get, path = "/api/v1/breaches", tag = "breaches", responses((status = 200, body = List<BreachView>)))]
async fn list_breaches(
    _caller: Caller<Read>,
    State(state): State<AppState>,
) -> ApiResult<axum::Json<List<BreachView>>> {
    Ok(axum::Json(List::all(state.app.breaches().await?)))
}

/// Records a breach. Every breach is recorded, even one unlikely to harm anyone.
#[utoipa::path(post, path = "/api/v1/breaches", tag = "breaches", request_body = BreachInput,
    responses((status = 201, body = BreachView), (status = 422, body = crate::error::ErrorBody)))]
async fn create_breach(
    caller: Caller<ManageRegisters>,
    State(state): State<AppState>,
    Json(body): Json<BreachInput>,
) -> ApiResult<(StatusCode, axum::Json<BreachView>)> {
    Ok((
        StatusCode::CREATED,
        axum::Json(state.app.create_breach(&caller.principal, body).await?),
    ))
}

/// One breach, with its pre-filled notification text and notification log.
#[utoipa::path(get, path = "/api/v1/breaches/{id}", tag = "breaches", params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = BreachView), (status = 404, body = crate::error::ErrorBody)))]
async fn get_breach(
    _caller: Caller<Read>,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<BreachView>> {
    Ok(axum::Json(state.app.breach(&id).await?))
}

/// Replaces what is known of a breach as the investigation goes (Art. 33(4)); the
/// notification log stays.
#[utoipa::path(put, path = "/api/v1/breaches/{id}", tag = "breaches", params(("id" = uuid::Uuid, Path)), request_body = BreachInput,
    responses((status = 200, body = BreachView), (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
async fn put_breach(
    caller: Caller<ManageRegisters>,
    State(state): State<AppState>,
    Path(id): Path<String>,
    Json(body): Json<BreachInput>,
) -> ApiResult<axum::Json<BreachView>> {
    Ok(axum::Json(
        state
            .app
            .update_breach(&caller.principal, &id, body)
            .await?,
    ))
}

/// Logs a notification made: to whom (`authority`, `subjects`, `processor`, `controller`,
/// `other`), when, how, and what was said. A notice to the authority after the 72 hours
/// needs `reason_for_delay`.
#[utoipa::path(post, path = "/api/v1/breaches/{id}/notifications", tag = "breaches", params(("id" = uuid::Uuid, Path)), request_body = NotificationInput,
    responses((status = 201, body = BreachView), (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
async fn log_notification(
    caller: Caller<ManageRegisters>,
    State(state): State<AppState>,
    Path(id): Path<String>,
    Json(body): Json<NotificationInput>,
) -> ApiResult<(StatusCode, axum::Json<BreachView>)> {
    Ok((
        StatusCode::CREATED,
        axum::Json(
            state
                .app
                .log_breach_notification(&caller.principal, &id, body)
                .await?,
        ),
    ))
}
