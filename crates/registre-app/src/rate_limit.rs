//! Fixed-window counters kept in memory: enough to stop one address or one client from
//! flooding a mailbox through the privacy portal. Times come from the app's clock.
use chrono::{DateTime, Duration, Utc};
use std::collections::HashMap;
use std::sync::Mutex;

/// Most keys remembered; beyond, expired windows are dropped, then everything.
const MAX_KEYS: usize = 100_000;

#[derive(Debug, Default)]
pub(crate) struct RateLimiter {
    windows: Mutex<HashMap<String, (DateTime<Utc>, u32)>>,
}

impl RateLimiter {
    /// Counts one event for `key`; `false` when more than `limit` happened within `window`.
    pub(crate) fn allow(
        &self,
        key: &str,
        limit: u32,
        window: Duration,
        now: DateTime<Utc>,
    ) -> bool {
        let Ok(mut windows) = self.windows.lock() else {
            return false;
        };
        if windows.len() >= MAX_KEYS {
            windows.retain(|_, (start, _)| now - *start < Duration::hours(1));
            if windows.len() >= MAX_KEYS {
                windows.clear();
            }
        }
        let entry = windows.entry(key.to_string()).or_insert((now, 0));
        if now - entry.0 >= window {
            *entry = (now, 0);
        }
        entry.1 = entry.1.saturating_add(1);
        entry.1 <= limit
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_limited_within_its_window_and_free_again_after() {
        let limiter = RateLimiter::default();
        let now = Utc::now();
        let minutes = Duration::minutes(15);
        assert!((0..3).all(|_| limiter.allow("a", 3, minutes, now)));
        assert!(!limiter.allow("a", 3, minutes, now));
        assert!(
            limiter.allow("b", 3, minutes, now),
            "keys are counted apart"
        );
        assert!(limiter.allow("a", 3, minutes, now + Duration::minutes(16)));
    }
}
