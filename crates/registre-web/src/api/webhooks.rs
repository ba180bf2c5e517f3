//! Webhook subscriptions and their deliveries.
use crate::api::List;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Caller, Json, ManageRegisters, Query, Read};
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use registre_app::webhooks::{DeliveryView, WebhookInput, WebhookView};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_webhooks, create_webhook))
        .routes(routes!(get_webhook, delete_webhook))
        .routes(routes!(list_deliveries))
}

fn webhook_id(raw: &str) -> ApiResult<Uuid> {
    Uuid::parse_str(raw).map_err(|_| ApiError::not_found("webhook not found"))
}

/// Webhook subscriptions. Secrets are never shown.
#[utoipa::path(get, path = "/api/v1/webhooks", tag = "webhooks", responses((status = 200, body = List<WebhookView>)))]
async fn list_webhooks(
    caller: Caller<Read>,
    State(state): State<AppState>,
) -> ApiResult<axum::Json<List<WebhookView>>> {
    Ok(axum::Json(List::all(
        state.app.webhooks(&caller.principal).await?,
    )))
}

/// Subscribes a URL to event types. Deliveries are POSTed with
/// `X-Registre-Signature: sha256=<hex HMAC-SHA256(secret, body)>` and retried until a 2xx.
/// When no secret is given one is generated and shown in this answer only.
#[utoipa::path(post, path = "/api/v1/webhooks", tag = "webhooks", request_body = WebhookInput,
    responses((status = 201, body = WebhookView), (status = 422, body = crate::error::ErrorBody)))]
async fn create_webhook(
    caller: Caller<ManageRegisters>,
    State(state): State<AppState>,
    Json(body): Json<WebhookInput>,
) -> ApiResult<(StatusCode, axum::Json<WebhookView>)> {
    Ok((
        StatusCode::CREATED,
        axum::Json(state.app.create_webhook(&caller.principal, body).await?),
    ))
}

/// One subscription.
#[utoipa::path(get, path = "/api/v1/webhooks/{id}", tag = "webhooks", params(("id" = Uuid, Path)),
    responses((status = 200, body = WebhookView), (status = 404, body = crate::error::ErrorBody)))]
async fn get_webhook(
    caller: Caller<Read>,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<WebhookView>> {
    Ok(axum::Json(
        state
            .app
            .webhook(&caller.principal, webhook_id(&id)?)
            .await?,
    ))
}

/// Ends a subscription; its delivery history stays readable.
#[utoipa::path(delete, path = "/api/v1/webhooks/{id}", tag = "webhooks", params(("id" = Uuid, Path)),
    responses((status = 204), (status = 404, body = crate::error::ErrorBody)))]
async fn delete_webhook(
    caller: Caller<ManageRegisters>,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    state
        .app
        .delete_webhook(&caller.principal, webhook_id(&id)?)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, IntoParams)]
struct DeliveriesQuery {
    /// At most 1000; 100 by default.
    limit: Option<i64>,
}

/// Recent deliveries of one subscription, newest first: status (pending, delivered, dead),
/// attempts, last error.
#[utoipa::path(get, path = "/api/v1/webhooks/{id}/deliveries", tag = "webhooks", params(("id" = Uuid, Path), DeliveriesQuery),
    responses((status = 200, body = List<DeliveryView>), (status = 404, body = crate::error::ErrorBody)))]
async fn list_deliveries(
    caller: Caller<Read>,
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(query): Query<DeliveriesQuery>,
) -> ApiResult<axum::Json<List<DeliveryView>>> {
    let limit = query.limit.unwrap_or(100);
    Ok(axum::Json(List::all(
        state
            .app
            .webhook_deliveries(&caller.principal, webhook_id(&id)?, limit)
            .await?,
    )))
}
