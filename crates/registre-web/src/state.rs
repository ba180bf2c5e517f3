use crate::api::limits::ApiLimiter;
use registre_app::App;
use std::sync::Arc;

/// What every handler receives.
#[derive(Clone)]
pub struct AppState {
    pub app: App,
    /// The API's per-address and per-key budgets.
    pub(crate) api_limits: Arc<ApiLimiter>,
    /// Count the last `X-Forwarded-For` entry as the client's address (console sign-in).
    pub(crate) trust_forwarded_for: bool,
}
