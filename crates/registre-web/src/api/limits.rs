//! Rate limits of the API (`/api/v1`): per client address and per API key, counted with the
//! public pages' token buckets. Over budget: 429 `rate_limited` with `Retry-After`.
//!
//! The defaults never get in the way of one integration calling the check endpoint tens of
//! thousands of times a second (the benchmarks do): the per-address limit is generous and
//! the per-key limit is off unless set.
use crate::error::ApiError;
use crate::public::limits::{Buckets, client_address, env_number, trust_forwarded_for_from_env};
use crate::state::AppState;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::net::IpAddr;
use std::time::{Duration, Instant};

/// How much the API takes from one address and from one key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiLimits {
    /// Requests per second (also the burst) from one client address; 0 turns it off.
    pub per_address_per_second: u32,
    /// Requests per second (also the burst) with one API key; 0 (the default) turns it off.
    pub per_key_per_second: u32,
    /// Count the last `X-Forwarded-For` entry as the address (behind a reverse proxy).
    pub trust_forwarded_for: bool,
}

impl Default for ApiLimits {
    fn default() -> Self {
        Self {
            per_address_per_second: 100_000,
            per_key_per_second: 0,
            trust_forwarded_for: false,
        }
    }
}

impl ApiLimits {
    /// The defaults, changed by `REGISTRE_API_RATE_LIMIT` (requests per second per address),
    /// `REGISTRE_API_KEY_RATE_LIMIT` (requests per second per key) and
    /// `REGISTRE_TRUST_FORWARDED_FOR=1`, as for the public pages.
    pub fn from_env() -> Self {
        let defaults = Self::default();
        Self {
            per_address_per_second: env_number(
                "REGISTRE_API_RATE_LIMIT",
                defaults.per_address_per_second,
            ),
            per_key_per_second: env_number(
                "REGISTRE_API_KEY_RATE_LIMIT",
                defaults.per_key_per_second,
            ),
            trust_forwarded_for: trust_forwarded_for_from_env(),
        }
    }
}

pub(crate) struct ApiLimiter {
    addresses: Option<Buckets<IpAddr>>,
    keys: Option<Buckets<String>>,
    trust_forwarded_for: bool,
}

impl ApiLimiter {
    pub(crate) fn new(limits: &ApiLimits) -> Self {
        Self {
            addresses: Buckets::per_second(limits.per_address_per_second),
            keys: Buckets::per_second(limits.per_key_per_second),
            trust_forwarded_for: limits.trust_forwarded_for,
        }
    }

    /// Counts one request of the API key `actor` (`api_key:<id>`): checked after the key is
    /// known to be valid, so made-up keys cannot fill the table (the address limit counts
    /// those).
    pub(crate) fn check_key(&self, actor: &str) -> Result<(), ApiError> {
        match &self.keys {
            Some(keys) => keys
                .take(actor.to_string(), Instant::now())
                .map_err(too_many),
            None => Ok(()),
        }
    }
}

/// The 429 of the API.
fn too_many(retry_after: Duration) -> ApiError {
    ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "rate_limited",
        "too many requests; slow down",
    )
    .retry_after(retry_after)
}

/// Counts each `/api/v1` request against its client address.
pub(crate) async fn per_address(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    if let Some(addresses) = &state.api_limits.addresses
        && request.uri().path().starts_with("/api/v1/")
    {
        let address = client_address(&request, state.api_limits.trust_forwarded_for);
        if let Err(wait) = addresses.take(address, Instant::now()) {
            return too_many(wait).into_response();
        }
    }
    next.run(request).await
}
