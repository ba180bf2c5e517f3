//! Registre over HTTP: the JSON API (with its OpenAPI document), public pages and the
//! console. Handlers are thin: they extract, call one use case, and shape the answer.

mod api;
mod body_drain;
pub(crate) mod console;
mod error;
mod extract;
pub mod hardening;
pub mod i18n;
pub mod layout;
mod listening;
mod metrics;
mod public;
pub mod ropa_page;
mod server;
mod state;
mod vendor;

pub use api::limits::ApiLimits;
pub use error::{ApiError, ApiResult};
pub use hardening::Transport;
pub use listening::Listening;
pub use metrics::metrics_router;
pub use public::PublicLimits;
pub use ropa_page::ropa_html;
pub use server::{
    HANDSHAKE_TIMEOUT, HEADER_READ_TIMEOUT, TlsConfig, TlsError, serve_listening, serve_with,
};
pub use state::AppState;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use registre_app::App;
use std::sync::Arc;
use std::time::Duration;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::trace::TraceLayer;

/// Largest JSON body the API takes.
pub const MAX_API_BODY: usize = 1024 * 1024;

/// How the HTTP application is limited and how it is reached.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HttpOptions {
    pub public: PublicLimits,
    pub api: ApiLimits,
    pub transport: Transport,
}

impl HttpOptions {
    /// The limits from the environment ([`PublicLimits::from_env`], [`ApiLimits::from_env`]);
    /// https when the public URL is.
    pub fn from_env(public_url: &str) -> Self {
        Self {
            public: PublicLimits::from_env(),
            api: ApiLimits::from_env(),
            transport: Transport {
                https: public_url.starts_with("https://"),
            },
        }
    }
}

/// The whole HTTP application, with its options from the environment and the app's public
/// URL ([`HttpOptions::from_env`]).
pub fn router(app: App) -> Router {
    let options = HttpOptions::from_env(&app.config().public_url);
    router_with(app, options)
}

/// The whole HTTP application with explicit options.
pub fn router_with(app: App, options: HttpOptions) -> Router {
    let metrics = app.metrics().clone();
    let state = AppState {
        app,
        api_limits: Arc::new(api::limits::ApiLimiter::new(&options.api)),
        trust_forwarded_for: options.public.trust_forwarded_for,
    };
    let (api, mut openapi) = api::router().split_for_parts();
    api::document_refusals(&mut openapi);
    let api = api.layer(axum::middleware::from_fn_with_state(
        state.clone(),
        api::limits::per_address,
    ));
    let api = api.merge(public::router(state.clone(), options.public));
    let api = api.merge(vendor::router());
    let openapi_json = openapi.to_pretty_json().unwrap_or_else(|_| "{}".into());
    api.route(
        "/api/openapi.json",
        axum::routing::get(move || {
            let body = openapi_json.clone();
            async move { ([(axum::http::header::CONTENT_TYPE, "application/json")], body) }
        }),
    )
    .merge(public::portal::router())
    .merge(console::router())
    .fallback(not_found)
    .with_state(state)
    .layer(DefaultBodyLimit::max(MAX_API_BODY))
    .layer(axum::middleware::from_fn(body_drain::drain_refused_bodies))
    .layer(axum::middleware::from_fn(hardening::time_limit))
    .layer(axum::middleware::from_fn(hardening::error_shape))
    .layer(CatchPanicLayer::custom(|_| {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "an internal error occurred").into_response()
    }))
    // Outermost but for the trace: every answer passes through it, refusals and panics too.
    .layer(axum::middleware::from_fn_with_state(
        options.transport,
        hardening::security_headers,
    ))
    .layer(
        // Spans name the route, never the query string: emails must not reach the logs.
        TraceLayer::new_for_http().make_span_with(|request: &Request| {
            tracing::info_span!("http", method = %request.method(), path = %request.uri().path())
        }),
    )
    // Around everything, refusals and panics included; a layer of the router wraps each
    // route, so the route it matched is known.
    .layer(axum::middleware::from_fn_with_state(
        metrics,
        metrics::count_requests,
    ))
}

/// An unknown path: a page for a browser outside the API, the JSON error otherwise.
async fn not_found(
    axum::extract::State(state): axum::extract::State<AppState>,
    request: Request,
) -> axum::response::Response {
    let wants_html = request
        .headers()
        .get(axum::http::header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"));
    if wants_html && !request.uri().path().starts_with("/api") {
        let default = state
            .app
            .organisation()
            .await
            .map(|o| o.default_language)
            .unwrap_or_default();
        let t = layout::choose_language(None, request.headers(), default);
        return public::pages::problem(&state.app, t, public::pages::Problem::NotFound).await;
    }
    ApiError::not_found("no such route").into_response()
}

/// Starts the background work of a running server: the start-up work (the ledger walked and
/// its head signed, the store's warm-up: the server is ready once it is done), then
/// periodic ledger checkpoints; webhook deliveries, the mail of the outbox, retention, and
/// expiry of double opt-in grants nobody confirmed. `serve` calls it once; the tasks end with the runtime. On
/// PostgreSQL every server runs them: row locks share the work.
pub fn start_workers(app: App, start_up: registre_app::StartUp) -> tokio::task::JoinHandle<()> {
    tokio::spawn(app.clone().webhook_worker(Duration::from_secs(1)));
    tokio::spawn(app.clone().mail_worker(Duration::from_secs(1)));
    let signer = app.clone();
    tokio::spawn(async move {
        signer.finish_start_up(start_up).await;
        let interval = signer.config().checkpoint_interval;
        signer.checkpoint_loop(interval).await;
    });
    tokio::spawn(app.clone().retention_loop(registre_app::RETENTION_INTERVAL));
    tokio::spawn(async move {
        let mut interval = tokio::time::interval(Duration::from_secs(600));
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            interval.tick().await;
            if let Err(error) = app.expire_unconfirmed_grants().await {
                tracing::warn!(%error, "expiring unconfirmed grants failed; will retry");
            }
        }
    })
}

/// Serves `router` on an already-bound listener, over plain HTTP, until `shutdown` resolves.
pub async fn serve(
    listener: tokio::net::TcpListener,
    router: Router,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_with(listener, router, None, shutdown).await
}
