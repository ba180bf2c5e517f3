//! Per-address token buckets for the public pages: no dependency, no background task, one
//! short lock per request. The API's limits (`api::limits`) count with the same buckets.
use axum::extract::{ConnectInfo, Request};
use std::collections::HashMap;
use std::hash::Hash;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How much one address may send.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublicLimits {
    /// Form posts (submissions, confirmations, withdrawals) per minute, also the burst; 0
    /// turns the limit off. A person must be able to send at least 30 forms a minute.
    pub submissions_per_minute: u32,
    /// Page views per minute, also the burst; 0 turns the limit off.
    pub pages_per_minute: u32,
    /// Take the client address from the last `X-Forwarded-For` entry (set by a reverse
    /// proxy in front of Registre) rather than from the connection.
    pub trust_forwarded_for: bool,
}

impl Default for PublicLimits {
    fn default() -> Self {
        Self {
            submissions_per_minute: 60,
            pages_per_minute: 600,
            trust_forwarded_for: false,
        }
    }
}

impl PublicLimits {
    /// The defaults, changed by `REGISTRE_FORM_RATE_LIMIT` (posts per minute per address),
    /// `REGISTRE_PAGE_RATE_LIMIT` (pages per minute per address) and
    /// `REGISTRE_TRUST_FORWARDED_FOR=1`.
    pub fn from_env() -> Self {
        let defaults = Self::default();
        Self {
            submissions_per_minute: env_number(
                "REGISTRE_FORM_RATE_LIMIT",
                defaults.submissions_per_minute,
            ),
            pages_per_minute: env_number("REGISTRE_PAGE_RATE_LIMIT", defaults.pages_per_minute),
            trust_forwarded_for: trust_forwarded_for_from_env(),
        }
    }
}

/// A limit from the environment: `name`'s value when it is a number, else `default`.
pub(crate) fn env_number(name: &str, default: u32) -> u32 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}

/// `REGISTRE_TRUST_FORWARDED_FOR=1`: a reverse proxy in front sets the client address.
pub(crate) fn trust_forwarded_for_from_env() -> bool {
    matches!(
        std::env::var("REGISTRE_TRUST_FORWARDED_FOR").as_deref(),
        Ok("1" | "true")
    )
}

/// One token bucket per key (an address, an API key): `burst` tokens, refilled at
/// `per_second`.
pub(crate) struct Buckets<K> {
    per_second: f64,
    burst: f64,
    buckets: Mutex<HashMap<K, (f64, Instant)>>,
}

/// Beyond this many keys, full buckets (keys quiet long enough) are dropped.
const MAX_TRACKED: usize = 100_000;

impl<K: Hash + Eq> Buckets<K> {
    /// `count` a minute, all of them at once if need be; `None` (no limit) for 0.
    pub(crate) fn per_minute(count: u32) -> Option<Self> {
        (count > 0).then(|| Self {
            per_second: f64::from(count) / 60.0,
            burst: f64::from(count),
            buckets: Mutex::new(HashMap::new()),
        })
    }

    /// `count` a second, with a burst of one second's worth; `None` (no limit) for 0.
    pub(crate) fn per_second(count: u32) -> Option<Self> {
        (count > 0).then(|| Self {
            per_second: f64::from(count),
            burst: f64::from(count),
            buckets: Mutex::new(HashMap::new()),
        })
    }

    /// Spends one token of `key`'s bucket, or says how long until one is there.
    pub(crate) fn take(&self, key: K, now: Instant) -> Result<(), Duration> {
        let mut buckets = self
            .buckets
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if buckets.len() >= MAX_TRACKED {
            let (per_second, burst) = (self.per_second, self.burst);
            buckets.retain(|_, (tokens, at)| {
                *tokens + now.duration_since(*at).as_secs_f64() * per_second < burst
            });
        }
        let (tokens, at) = buckets.entry(key).or_insert((self.burst, now));
        *tokens =
            (*tokens + now.duration_since(*at).as_secs_f64() * self.per_second).min(self.burst);
        *at = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - *tokens) / self.per_second))
        }
    }
}

pub(crate) struct Limiter {
    submissions: Option<Buckets<IpAddr>>,
    pages: Option<Buckets<IpAddr>>,
    trust_forwarded_for: bool,
}

impl Limiter {
    pub(crate) fn new(limits: &PublicLimits) -> Self {
        Self {
            submissions: Buckets::per_minute(limits.submissions_per_minute),
            pages: Buckets::per_minute(limits.pages_per_minute),
            trust_forwarded_for: limits.trust_forwarded_for,
        }
    }

    /// `Err(wait)` when `address` is over its budget.
    pub(crate) fn check(&self, address: IpAddr, submission: bool) -> Result<(), Duration> {
        let buckets = if submission {
            &self.submissions
        } else {
            &self.pages
        };
        match buckets {
            Some(buckets) => buckets.take(address, Instant::now()),
            None => Ok(()),
        }
    }

    /// The address a request is counted against.
    pub(crate) fn client_address(&self, request: &Request) -> IpAddr {
        client_address(request, self.trust_forwarded_for)
    }
}

/// The address a request is counted against: the connection's, or with
/// `trust_forwarded_for` the last `X-Forwarded-For` entry (the one our proxy added). IPv6
/// clients are counted by /64, the block one subscriber usually gets.
pub(crate) fn client_address(request: &Request, trust_forwarded_for: bool) -> IpAddr {
    client_address_of(request.headers(), request.extensions(), trust_forwarded_for)
}

/// [`client_address`] from a request's headers and extensions.
pub(crate) fn client_address_of(
    headers: &axum::http::HeaderMap,
    extensions: &axum::http::Extensions,
    trust_forwarded_for: bool,
) -> IpAddr {
    let forwarded = trust_forwarded_for
        .then(|| headers.get("x-forwarded-for").and_then(|v| v.to_str().ok()))
        .flatten()
        .and_then(|value| value.rsplit(',').next())
        .and_then(|last| last.trim().parse::<IpAddr>().ok());
    let address = forwarded
        .or_else(|| {
            extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|info| info.0.ip())
        })
        .unwrap_or(IpAddr::from([0, 0, 0, 0]));
    match address {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let segments = v6.segments();
                IpAddr::V6(Ipv6Addr::new(
                    segments[0],
                    segments[1],
                    segments[2],
                    segments[3],
                    0,
                    0,
                    0,
                    0,
                ))
            }
        },
        v4 => v4,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_passes_then_the_bucket_refills_with_time() {
        let buckets = Buckets::per_minute(60).unwrap();
        let address = IpAddr::from([192, 0, 2, 1]);
        let start = Instant::now();
        for _ in 0..60 {
            assert!(buckets.take(address, start).is_ok());
        }
        let wait = buckets.take(address, start).unwrap_err();
        assert!(wait <= Duration::from_secs(1));
        assert!(
            buckets
                .take(address, start + Duration::from_secs(1))
                .is_ok()
        );
        // Another address has its own budget.
        assert!(buckets.take(IpAddr::from([192, 0, 2, 2]), start).is_ok());
    }

    #[test]
    fn zero_turns_the_limit_off() {
        assert!(Buckets::<IpAddr>::per_minute(0).is_none());
        assert!(Buckets::<IpAddr>::per_second(0).is_none());
    }
}
