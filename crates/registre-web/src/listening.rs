//! A server that answers from the moment its port is bound, before its application exists:
//! while the store opens and applies its migrations (and the demo loads), every request gets
//! 503 `not_ready` saying what runs, with `Retry-After` and `Connection: close`; once
//! [`Listening::serve`] is given the application's router, each new connection gets it.
//! Closing the connections answered while starting is what makes the switch whole: a
//! kept-alive client comes back on a new connection, and reaches the application.
use crate::error::ApiError;
use crate::hardening::{self, Transport};
use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use std::sync::{Arc, OnceLock, RwLock};

/// The router a listener serves: the starting one, then the application's.
#[derive(Clone)]
pub struct Listening {
    inner: Arc<Inner>,
}

struct Inner {
    /// What the server is doing, for the starting answers.
    phase: Arc<RwLock<&'static str>>,
    starting: Router,
    ready: OnceLock<Router>,
}

impl std::fmt::Debug for Listening {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Listening")
            .field("phase", &self.phase())
            .field("serving", &self.inner.ready.get().is_some())
            .finish()
    }
}

impl Listening {
    /// Answers 503 `not_ready` ("Registre is starting: `phase`") to every request, with the
    /// headers every answer gets, until [`Self::serve`].
    pub fn starting(phase: &'static str, transport: Transport) -> Self {
        let phase = Arc::new(RwLock::new(phase));
        let told = phase.clone();
        let starting = Router::new()
            .fallback(move || {
                let phase = read(&told);
                async move { not_ready(phase) }
            })
            .layer(axum::middleware::from_fn_with_state(
                transport,
                hardening::security_headers,
            ));
        Self {
            inner: Arc::new(Inner {
                phase,
                starting,
                ready: OnceLock::new(),
            }),
        }
    }

    /// Serves `router` from the start.
    pub fn ready(router: Router) -> Self {
        let listening = Self::starting("", Transport::default());
        listening.serve(router);
        listening
    }

    /// Says what the server does now, in the starting answers.
    pub fn set_phase(&self, phase: &'static str) {
        match self.inner.phase.write() {
            Ok(mut guard) => *guard = phase,
            Err(poisoned) => *poisoned.into_inner() = phase,
        }
    }

    fn phase(&self) -> &'static str {
        read(&self.inner.phase)
    }

    /// New connections get `router` from now on (once: a second router is ignored).
    pub fn serve(&self, router: Router) {
        let _ = self.inner.ready.set(router);
    }

    /// The router for a connection accepted now.
    pub(crate) fn router(&self) -> Router {
        self.inner
            .ready
            .get()
            .unwrap_or(&self.inner.starting)
            .clone()
    }
}

fn read(phase: &RwLock<&'static str>) -> &'static str {
    match phase.read() {
        Ok(guard) => *guard,
        Err(poisoned) => *poisoned.into_inner(),
    }
}

fn not_ready(phase: &'static str) -> Response {
    let mut response =
        ApiError::not_ready(format!("Registre is starting: {phase}")).into_response();
    response
        .headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}
