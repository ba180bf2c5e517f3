use crate::api::List;
use crate::error::ApiResult;
use crate::extract::{Caller, Json, ManageRegisters, Read};
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use registre_app::{DataCategory, TouchpointView};
use registre_domain::organisation::Organisation;
use registre_domain::purpose::{Purpose, PurposeInput};
use registre_domain::touchpoint::TouchpointInput;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_organisation, put_organisation))
        .routes(routes!(list_data_categories, create_data_category))
        .routes(routes!(list_purposes, create_purpose))
        .routes(routes!(get_purpose, put_purpose))
        .routes(routes!(list_touchpoints, create_touchpoint))
        .routes(routes!(get_touchpoint, put_touchpoint))
}

/// The controller's settings.
#[utoipa::path(get, path = "/api/v1/organisation", tag = "catalogue", responses((status = 200, body = Organisation)))]
async fn get_organisation(
    _caller: Caller<Read>,
    State(state): State<AppState>,
) -> ApiResult<axum::Json<Organisation>> {
    Ok(axum::Json(state.app.organisation().await?))
}

/// Replaces the controller's settings; touchpoints' notices are republished.
#[utoipa::path(put, path = "/api/v1/organisation", tag = "catalogue", request_body = Organisation,
    responses((status = 200, body = Organisation), (status = 422, body = crate::error::ErrorBody)))]
async fn put_organisation(
    caller: Caller<ManageRegisters>,
    State(state): State<AppState>,
    Json(body): Json<Organisation>,
) -> ApiResult<axum::Json<Organisation>> {
    Ok(axum::Json(
        state.app.put_organisation(&caller.principal, body).await?,
    ))
}

/// Built-in and custom data categories.
#[utoipa::path(get, path = "/api/v1/data-categories", tag = "catalogue", responses((status = 200, body = List<DataCategory>)))]
async fn list_data_categories(
    _caller: Caller<Read>,
    State(state): State<AppState>,
) -> ApiResult<axum::Json<List<DataCategory>>> {
    Ok(axum::Json(List::all(state.app.data_categories().await?)))
}

/// Adds a data category.
#[utoipa::path(post, path = "/api/v1/data-categories", tag = "catalogue", request_body = DataCategory,
    responses((status = 201, body = DataCategory), (status = 409, body = crate::error::ErrorBody)))]
async fn create_data_category(
    caller: Caller<ManageRegisters>,
    State(state): State<AppState>,
    Json(body): Json<DataCategory>,
) -> ApiResult<(StatusCode, axum::Json<DataCategory>)> {
    Ok((
        StatusCode::CREATED,
        axum::Json(
            state
                .app
                .create_data_category(&caller.principal, body)
                .await?,
        ),
    ))
}

/// Purposes (finalités).
#[utoipa::path(get, path = "/api/v1/purposes", tag = "catalogue", responses((status = 200, body = List<Purpose>)))]
async fn list_purposes(
    _caller: Caller<Read>,
    State(state): State<AppState>,
) -> ApiResult<axum::Json<List<Purpose>>> {
    Ok(axum::Json(List::all(state.app.purposes().await?)))
}

/// Creates a purpose.
#[utoipa::path(post, path = "/api/v1/purposes", tag = "catalogue", request_body = PurposeInput,
    responses((status = 201, body = Purpose), (status = 409, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
async fn create_purpose(
    caller: Caller<ManageRegisters>,
    State(state): State<AppState>,
    Json(body): Json<PurposeInput>,
) -> ApiResult<(StatusCode, axum::Json<Purpose>)> {
    Ok((
        StatusCode::CREATED,
        axum::Json(state.app.create_purpose(&caller.principal, body).await?),
    ))
}

/// One purpose.
#[utoipa::path(get, path = "/api/v1/purposes/{key}", tag = "catalogue", params(("key" = String, Path)),
    responses((status = 200, body = Purpose), (status = 404, body = crate::error::ErrorBody)))]
async fn get_purpose(
    _caller: Caller<Read>,
    State(state): State<AppState>,
    Path(key): Path<String>,
) -> ApiResult<axum::Json<Purpose>> {
    Ok(axum::Json(state.app.purpose(&key).await?))
}

/// Replaces a purpose; the notices of the touchpoints that serve it are republished.
#[utoipa::path(put, path = "/api/v1/purposes/{key}", tag = "catalogue", params(("key" = String, Path)), request_body = PurposeInput,
    responses((status = 200, body = Purpose), (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
async fn put_purpose(
    caller: Caller<ManageRegisters>,
    State(state): State<AppState>,
    Path(key): Path<String>,
    Json(body): Json<PurposeInput>,
) -> ApiResult<axum::Json<Purpose>> {
    Ok(axum::Json(
        state
            .app
            .update_purpose(&caller.principal, &key, body)
            .await?,
    ))
}

/// Touchpoints (forms), each with its current notice version and form URL.
#[utoipa::path(get, path = "/api/v1/touchpoints", tag = "catalogue", responses((status = 200, body = List<TouchpointView>)))]
async fn list_touchpoints(
    _caller: Caller<Read>,
    State(state): State<AppState>,
) -> ApiResult<axum::Json<List<TouchpointView>>> {
    let mut items = Vec::new();
    for touchpoint in state.app.touchpoints().await? {
        items.push(state.app.touchpoint_view(touchpoint).await?);
    }
    Ok(axum::Json(List::all(items)))
}

/// Creates a touchpoint and publishes its notice.
#[utoipa::path(post, path = "/api/v1/touchpoints", tag = "catalogue", request_body = TouchpointInput,
    responses((status = 201, body = TouchpointView), (status = 409, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
async fn create_touchpoint(
    caller: Caller<ManageRegisters>,
    State(state): State<AppState>,
    Json(body): Json<TouchpointInput>,
) -> ApiResult<(StatusCode, axum::Json<TouchpointView>)> {
    Ok((
        StatusCode::CREATED,
        axum::Json(state.app.create_touchpoint(&caller.principal, body).await?),
    ))
}

/// One touchpoint.
#[utoipa::path(get, path = "/api/v1/touchpoints/{key}", tag = "catalogue", params(("key" = String, Path)),
    responses((status = 200, body = TouchpointView), (status = 404, body = crate::error::ErrorBody)))]
async fn get_touchpoint(
    _caller: Caller<Read>,
    State(state): State<AppState>,
    Path(key): Path<String>,
) -> ApiResult<axum::Json<TouchpointView>> {
    let touchpoint = state.app.touchpoint(&key).await?;
    Ok(axum::Json(state.app.touchpoint_view(touchpoint).await?))
}

/// Replaces a touchpoint; a change in what the person is told yields a new notice version.
#[utoipa::path(put, path = "/api/v1/touchpoints/{key}", tag = "catalogue", params(("key" = String, Path)), request_body = TouchpointInput,
    responses((status = 200, body = TouchpointView), (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
async fn put_touchpoint(
    caller: Caller<ManageRegisters>,
    State(state): State<AppState>,
    Path(key): Path<String>,
    Json(body): Json<TouchpointInput>,
) -> ApiResult<axum::Json<TouchpointView>> {
    Ok(axum::Json(
        state
            .app
            .update_touchpoint(&caller.principal, &key, body)
            .await?,
    ))
}
