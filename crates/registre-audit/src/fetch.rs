//! Fetching a page to audit, without becoming an SSRF gadget.
//!
//! - only `http` and `https`, on every hop;
//! - the host is resolved here, every address it resolves to is checked (loopback, private,
//!   link-local, shared, multicast, documentation, IPv4-mapped and NAT64 forms...) unless
//!   [`FetchPolicy::allow_private`], and the connection is pinned to those checked addresses
//!   so a second DNS answer cannot swap in an internal one;
//! - redirects are followed by hand (at most [`MAX_REDIRECTS`]) and each target is checked
//!   the same way;
//! - one deadline for the whole fetch, a size cap enforced while reading, an HTML
//!   content type required; no proxy from the environment.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use url::{Host, Url};

/// Most redirects followed before giving up.
pub const MAX_REDIRECTS: usize = 5;

/// What a fetch may do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchPolicy {
    /// Fetch loopback, private and link-local addresses too (`--allow-private`).
    pub allow_private: bool,
    /// Deadline for the whole fetch, redirects included.
    pub timeout: Duration,
    /// Largest body accepted, in bytes.
    pub max_bytes: usize,
}

impl Default for FetchPolicy {
    fn default() -> Self {
        FetchPolicy {
            allow_private: false,
            timeout: Duration::from_secs(15),
            max_bytes: crate::MAX_INPUT_BYTES,
        }
    }
}

/// Why a page could not be fetched.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum FetchError {
    #[error("invalid URL {url}: {reason}")]
    InvalidUrl { url: String, reason: String },
    #[error("only http and https URLs can be fetched, not {scheme}:")]
    UnsupportedScheme { scheme: String },
    #[error(
        "{host} resolves to {address}, a private, loopback or link-local address; \
         use --allow-private to audit internal pages"
    )]
    PrivateAddress { host: String, address: IpAddr },
    #[error("cannot resolve {host}: {reason}")]
    Dns { host: String, reason: String },
    #[error("cannot reach {url}: {reason}")]
    Unreachable { url: String, reason: String },
    #[error("no complete answer within {seconds} s")]
    Timeout { seconds: u64 },
    #[error("the server answered HTTP {status}")]
    Status { status: u16 },
    #[error("this is not an HTML page (content type: {content_type})")]
    NotHtml { content_type: String },
    #[error("the page is larger than {limit} bytes")]
    TooLarge { limit: usize },
    #[error("more than {max} redirects")]
    TooManyRedirects { max: usize },
    #[error("invalid redirect: {reason}")]
    BadRedirect { reason: String },
}

impl FetchError {
    /// A stable snake_case code, for the API's error shape.
    pub fn code(&self) -> &'static str {
        match self {
            FetchError::InvalidUrl { .. } => "invalid_url",
            FetchError::UnsupportedScheme { .. } => "unsupported_scheme",
            FetchError::PrivateAddress { .. } => "private_address",
            FetchError::Dns { .. } => "dns_error",
            FetchError::Unreachable { .. } => "unreachable",
            FetchError::Timeout { .. } => "timeout",
            FetchError::Status { .. } => "http_status",
            FetchError::NotHtml { .. } => "not_html",
            FetchError::TooLarge { .. } => "payload_too_large",
            FetchError::TooManyRedirects { .. } => "too_many_redirects",
            FetchError::BadRedirect { .. } => "bad_redirect",
        }
    }
}

/// A fetched page: the URL it was finally read from (after redirects) and its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchedPage {
    pub url: String,
    pub html: String,
}

/// Fetches an HTML page under `policy` and returns its text.
pub async fn fetch_page(url: &str, policy: &FetchPolicy) -> Result<String, FetchError> {
    fetch(url, policy).await.map(|page| page.html)
}

/// Fetches an HTML page under `policy`; also tells the final URL (to resolve relative form
/// actions with [`crate::audit_html_with_url`]).
pub async fn fetch(url: &str, policy: &FetchPolicy) -> Result<FetchedPage, FetchError> {
    let seconds = policy.timeout.as_secs().max(1);
    match tokio::time::timeout(policy.timeout, fetch_hops(url, policy)).await {
        Ok(result) => result,
        Err(_) => Err(FetchError::Timeout { seconds }),
    }
}

fn parse_http_url(raw: &str) -> Result<Url, FetchError> {
    let url = Url::parse(raw.trim()).map_err(|e| FetchError::InvalidUrl {
        url: raw.to_string(),
        reason: e.to_string(),
    })?;
    check_scheme(&url)?;
    Ok(url)
}

fn check_scheme(url: &Url) -> Result<(), FetchError> {
    match url.scheme() {
        "http" | "https" => Ok(()),
        other => Err(FetchError::UnsupportedScheme {
            scheme: other.to_string(),
        }),
    }
}

async fn fetch_hops(raw: &str, policy: &FetchPolicy) -> Result<FetchedPage, FetchError> {
    let mut current = parse_http_url(raw)?;
    for _ in 0..=MAX_REDIRECTS {
        let response = send(&current, policy).await?;
        let status = response.status();
        if status.is_redirection() {
            let location = response
                .headers()
                .get(reqwest::header::LOCATION)
                .and_then(|v| v.to_str().ok())
                .ok_or_else(|| FetchError::BadRedirect {
                    reason: format!("HTTP {} without a Location header", status.as_u16()),
                })?;
            let next = current
                .join(location)
                .map_err(|e| FetchError::BadRedirect {
                    reason: format!("{location}: {e}"),
                })?;
            check_scheme(&next)?;
            current = next;
            continue;
        }
        if !status.is_success() {
            return Err(FetchError::Status {
                status: status.as_u16(),
            });
        }
        let content_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let mime = content_type
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        if mime != "text/html" && mime != "application/xhtml+xml" {
            return Err(FetchError::NotHtml {
                content_type: if content_type.is_empty() {
                    "none".into()
                } else {
                    content_type
                },
            });
        }
        let body = read_capped(response, policy.max_bytes, &current).await?;
        return Ok(FetchedPage {
            url: current.to_string(),
            html: decode(&body, &content_type),
        });
    }
    Err(FetchError::TooManyRedirects { max: MAX_REDIRECTS })
}

/// Resolves the URL's host, checks every address, and sends a GET pinned to those addresses.
async fn send(url: &Url, policy: &FetchPolicy) -> Result<reqwest::Response, FetchError> {
    let host = url.host().ok_or_else(|| FetchError::InvalidUrl {
        url: url.to_string(),
        reason: "no host".into(),
    })?;
    let port = url.port_or_known_default().unwrap_or(80);
    let host_name = url.host_str().unwrap_or("").to_string();
    let addrs: Vec<SocketAddr> = match host {
        Host::Ipv4(ip) => vec![SocketAddr::new(IpAddr::V4(ip), port)],
        Host::Ipv6(ip) => vec![SocketAddr::new(IpAddr::V6(ip), port)],
        Host::Domain(domain) => tokio::net::lookup_host((domain, port))
            .await
            .map_err(|e| FetchError::Dns {
                host: domain.to_string(),
                reason: e.to_string(),
            })?
            .collect(),
    };
    if addrs.is_empty() {
        return Err(FetchError::Dns {
            host: host_name,
            reason: "no address".into(),
        });
    }
    if !policy.allow_private
        && let Some(bad) = addrs.iter().find(|a| !is_public(a.ip()))
    {
        return Err(FetchError::PrivateAddress {
            host: host_name,
            address: bad.ip(),
        });
    }
    let mut builder = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .connect_timeout(policy.timeout)
        .timeout(policy.timeout)
        .user_agent(concat!("registre-audit/", env!("CARGO_PKG_VERSION")));
    if let Host::Domain(domain) = host {
        builder = builder.resolve_to_addrs(domain, &addrs);
    }
    let client = builder.build().map_err(|e| FetchError::Unreachable {
        url: url.to_string(),
        reason: e.to_string(),
    })?;
    client
        .get(url.clone())
        .header(
            reqwest::header::ACCEPT,
            "text/html,application/xhtml+xml;q=0.9,*/*;q=0.1",
        )
        .send()
        .await
        .map_err(|e| {
            if e.is_timeout() {
                FetchError::Timeout {
                    seconds: policy.timeout.as_secs().max(1),
                }
            } else {
                FetchError::Unreachable {
                    url: url.to_string(),
                    reason: error_chain(&e),
                }
            }
        })
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

async fn read_capped(
    mut response: reqwest::Response,
    max: usize,
    url: &Url,
) -> Result<Vec<u8>, FetchError> {
    if response
        .content_length()
        .is_some_and(|len| len > max as u64)
    {
        return Err(FetchError::TooLarge { limit: max });
    }
    let mut body = Vec::new();
    loop {
        let chunk = response
            .chunk()
            .await
            .map_err(|e| FetchError::Unreachable {
                url: url.to_string(),
                reason: error_chain(&e),
            })?;
        let Some(chunk) = chunk else { break };
        if body.len() + chunk.len() > max {
            return Err(FetchError::TooLarge { limit: max });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// Decodes the body: UTF-8 unless the content type says Latin-1 / Windows-1252.
fn decode(body: &[u8], content_type: &str) -> String {
    let ct = content_type.to_ascii_lowercase();
    let latin1 = [
        "iso-8859-1",
        "latin1",
        "latin-1",
        "windows-1252",
        "cp1252",
        "iso-8859-15",
    ]
    .iter()
    .any(|c| ct.contains(&format!("charset={c}")) || ct.contains(&format!("charset=\"{c}\"")));
    if latin1 {
        body.iter().map(|&b| char::from(b)).collect()
    } else {
        String::from_utf8_lossy(body).into_owned()
    }
}

/// Is this an address on the public internet (not loopback, private, link-local...)?
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_broadcast()
        || ip.is_documentation()
        || ip.is_multicast()
        || a == 0 // "this network"
        || (a == 100 && (64..128).contains(&b)) // shared address space (CGNAT)
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 198 && (b == 18 || b == 19)) // benchmarking
        || a >= 240) // reserved
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let s = ip.segments();
    if ip.is_unspecified() || ip.is_loopback() || ip.is_multicast() {
        return false;
    }
    // IPv4-mapped ::ffff:a.b.c.d and IPv4-compatible ::a.b.c.d
    if s[0..5] == [0, 0, 0, 0, 0] && (s[5] == 0xffff || s[5] == 0) {
        return is_public_v4(Ipv4Addr::new(
            (s[6] >> 8) as u8,
            s[6] as u8,
            (s[7] >> 8) as u8,
            s[7] as u8,
        ));
    }
    // NAT64 64:ff9b::a.b.c.d
    if s[0] == 0x64 && s[1] == 0xff9b {
        return is_public_v4(Ipv4Addr::new(
            (s[6] >> 8) as u8,
            s[6] as u8,
            (s[7] >> 8) as u8,
            s[7] as u8,
        ));
    }
    // 6to4 2002:a.b.c.d::
    if s[0] == 0x2002 {
        return is_public_v4(Ipv4Addr::new(
            (s[1] >> 8) as u8,
            s[1] as u8,
            (s[2] >> 8) as u8,
            s[2] as u8,
        ));
    }
    !((s[0] & 0xfe00) == 0xfc00 // unique local fc00::/7
        || (s[0] & 0xffc0) == 0xfe80 // link-local fe80::/10
        || (s[0] & 0xffc0) == 0xfec0 // site-local fec0::/10
        || (s[0] == 0x2001 && s[1] == 0x0db8) // documentation
        || (s[0] == 0x0100 && s[1..4] == [0, 0, 0])) // discard-only 100::/64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_and_special_addresses_are_not_public() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "224.0.0.1",
            "255.255.255.255",
            "::1",
            "::",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "64:ff9b::a00:1",
            "2002:c0a8:0101::1",
            "2001:db8::1",
        ] {
            let ip: IpAddr = ip.parse().unwrap();
            assert!(!is_public(ip), "{ip} should not be public");
        }
        for ip in [
            "93.184.216.34",
            "1.1.1.1",
            "2606:4700:4700::1111",
            "::ffff:1.1.1.1",
        ] {
            let ip: IpAddr = ip.parse().unwrap();
            assert!(is_public(ip), "{ip} should be public");
        }
    }

    #[test]
    fn latin1_pages_are_decoded() {
        assert_eq!(
            decode(&[0x63, 0x61, 0x66, 0xe9], "text/html; charset=ISO-8859-1"),
            "café"
        );
        assert_eq!(decode("café".as_bytes(), "text/html"), "café");
    }
}
