//! Prometheus metrics over HTTP: every request of the application is counted by the
//! template of the route that matched it ([`count_requests`]), and `GET /metrics` is served
//! by a router of its own ([`metrics_router`]) that `registre serve --metrics-listen` puts on
//! a listener the operator keeps private. The public listener has no `/metrics`.
use crate::error::ApiError;
use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use registre_app::{App, METRICS_CONTENT_TYPE, Metrics};
use std::time::Instant;

/// Counts the request under its route template (the router has matched it already: this
/// layer wraps each route), its method and status class, and times it until the answer's
/// headers. Unknown paths count under one fixed label, so neither a path's text nor an id
/// ever becomes a label.
pub(crate) async fn count_requests(
    State(metrics): State<Metrics>,
    request: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let route = request.extensions().get::<MatchedPath>().cloned();
    let method = request.method().clone();
    let response = next.run(request).await;
    metrics.observe_request(
        route.as_ref().map(MatchedPath::as_str),
        method.as_str(),
        response.status().as_u16(),
        started.elapsed(),
    );
    response
}

/// `GET /metrics` in Prometheus' text format, for the metrics listener only.
pub fn metrics_router(app: App) -> Router {
    Router::new()
        .route("/metrics", axum::routing::get(scrape))
        .fallback(|| async { ApiError::not_found("no such route: the metrics are at /metrics") })
        .with_state(app)
}

async fn scrape(State(app): State<App>) -> Response {
    let text = app.render_metrics().await;
    (
        [
            (header::CONTENT_TYPE, METRICS_CONTENT_TYPE),
            (header::CACHE_CONTROL, "no-store"),
        ],
        text,
    )
        .into_response()
}
