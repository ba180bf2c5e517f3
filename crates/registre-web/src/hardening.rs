//! What every answer gets, whichever surface (API, console, portal, forms, static files)
//! it comes from: security headers, the contract's JSON error shape for the framework's own
//! plain-text refusals, and a time limit. Pages set their own, stricter headers where they
//! know better (a form's `frame-ancestors` comes from its touchpoint); this layer fills in
//! what they did not set, so nothing leaves without them.
use crate::error::ApiError;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::time::Duration;

/// Longest time a request may take to be answered (its body's upload included).
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// The policy of answers that set none (JSON, CSS, files): they load nothing, are framed
/// nowhere and hold no form.
const DEFAULT_POLICY: &str =
    "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/// One year: browsers then refuse plain http for the host. No `includeSubDomains`: other
/// hosts of the organisation are not ours to decide for.
const HSTS: &str = "max-age=31536000";

/// What the headers layer needs to know about how the server is reached.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Transport {
    /// Browsers reach the server over https (native TLS, or a TLS proxy in front of it):
    /// send `Strict-Transport-Security`.
    pub https: bool,
}

/// Sets the headers a response lacks.
pub(crate) async fn security_headers(
    State(transport): State<Transport>,
    request: Request,
    next: Next,
) -> Response {
    let carries_tokens = carries_tokens(request.uri().path());
    let mut response = next.run(request).await;
    complete(response.headers_mut(), carries_tokens, transport);
    response
}

/// The pages whose addresses carry tokens (sign-in, confirmation and questionnaire links)
/// or that link to other sites from a signed-in page: they send no `Referer` at all.
fn carries_tokens(path: &str) -> bool {
    ["/privacy", "/console", "/f/", "/u", "/vendor"]
        .iter()
        .any(|prefix| path.starts_with(prefix))
}

fn complete(headers: &mut HeaderMap, carries_tokens: bool, transport: Transport) {
    if !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(DEFAULT_POLICY),
        );
    }
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    // Answers carry personal data (exports, consents, requests, portal and console pages)
    // unless they say otherwise: no cache, shared or private, keeps a copy. What may be
    // cached (stylesheets, the public checkpoint) says so itself.
    if !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    if !headers.contains_key(header::REFERRER_POLICY) {
        headers.insert(
            header::REFERRER_POLICY,
            HeaderValue::from_static(if carries_tokens {
                "no-referrer"
            } else {
                "strict-origin-when-cross-origin"
            }),
        );
    }
    if !headers.contains_key(header::X_FRAME_OPTIONS) {
        // The old header for old browsers, where it can say the same as the policy: it
        // knows no list of origins, so a form that other sites may frame goes without.
        let frame_options = headers
            .get(header::CONTENT_SECURITY_POLICY)
            .and_then(|policy| policy.to_str().ok())
            .and_then(frame_ancestors)
            .and_then(|ancestors| match ancestors {
                "'none'" => Some("DENY"),
                "'self'" => Some("SAMEORIGIN"),
                _ => None,
            });
        if let Some(value) = frame_options {
            headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static(value));
        }
    }
    if transport.https {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static(HSTS),
        );
    }
}

/// The sources of a policy's `frame-ancestors` directive.
fn frame_ancestors(policy: &str) -> Option<&str> {
    policy.split(';').find_map(|directive| {
        directive
            .trim()
            .strip_prefix("frame-ancestors")
            .map(str::trim)
    })
}

/// Answers a request that takes longer than [`REQUEST_TIMEOUT`] with 408 in the JSON shape.
pub(crate) async fn time_limit(request: Request, next: Next) -> Response {
    match tokio::time::timeout(REQUEST_TIMEOUT, next.run(request)).await {
        Ok(response) => response,
        Err(_) => ApiError::new(
            StatusCode::REQUEST_TIMEOUT,
            "request_timeout",
            "the request took too long",
        )
        .into_response(),
    }
}

/// The framework refuses some requests by itself (a body over a limit read as text, a
/// wrong method, a malformed path) with plain text; those become the contract's
/// `{"error": {"code", "message"}}`. Pages (HTML) and JSON pass untouched.
pub(crate) async fn error_shape(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let plain = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_none_or(|value| value.as_bytes().starts_with(b"text/plain"));
    if !plain {
        return response;
    }
    let (parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, 1024)
        .await
        .map(|bytes| String::from_utf8_lossy(&bytes).trim().to_string())
        .unwrap_or_default();
    let (code, generic) = code_of(status);
    let message = if text.is_empty() {
        generic.into()
    } else {
        text
    };
    let mut shaped = ApiError::new(status, code, message).into_response();
    // Keep what the refusal said besides its body (`Allow` on a 405, `Retry-After`).
    let mut headers = parts.headers;
    headers.remove(header::CONTENT_LENGTH);
    for (name, value) in shaped.headers() {
        headers.insert(name.clone(), value.clone());
    }
    *shaped.headers_mut() = headers;
    shaped
}

/// The stable code and a message for a status the framework answered by itself.
fn code_of(status: StatusCode) -> (&'static str, &'static str) {
    match status {
        StatusCode::BAD_REQUEST => ("bad_request", "the request is malformed"),
        StatusCode::UNAUTHORIZED => ("unauthorized", "authentication is required"),
        StatusCode::FORBIDDEN => ("forbidden", "this is not allowed"),
        StatusCode::NOT_FOUND => ("not_found", "no such route"),
        StatusCode::METHOD_NOT_ALLOWED => (
            "method_not_allowed",
            "this method is not allowed on this path",
        ),
        StatusCode::REQUEST_TIMEOUT => ("request_timeout", "the request took too long"),
        StatusCode::CONFLICT => ("conflict", "conflict"),
        StatusCode::PAYLOAD_TOO_LARGE => ("payload_too_large", "the request body is too large"),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => (
            "unsupported_media_type",
            "this content type is not accepted here",
        ),
        StatusCode::UNPROCESSABLE_ENTITY => ("invalid_body", "the request cannot be processed"),
        StatusCode::TOO_MANY_REQUESTS => ("rate_limited", "too many requests; slow down"),
        status if status.is_server_error() => ("internal", "an internal error occurred"),
        _ => ("bad_request", "the request was refused"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn completed(policy: Option<&'static str>, carries_tokens: bool, https: bool) -> HeaderMap {
        let mut headers = HeaderMap::new();
        if let Some(policy) = policy {
            headers.insert(
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(policy),
            );
        }
        complete(&mut headers, carries_tokens, Transport { https });
        headers
    }

    fn get(headers: &HeaderMap, name: header::HeaderName) -> Option<&str> {
        headers.get(name).and_then(|v| v.to_str().ok())
    }

    #[test]
    fn an_answer_without_headers_gets_the_strict_defaults() {
        let headers = completed(None, false, false);
        assert_eq!(
            get(&headers, header::CONTENT_SECURITY_POLICY),
            Some(DEFAULT_POLICY)
        );
        assert_eq!(get(&headers, header::X_FRAME_OPTIONS), Some("DENY"));
        assert_eq!(
            get(&headers, header::REFERRER_POLICY),
            Some("strict-origin-when-cross-origin")
        );
        assert_eq!(
            get(&headers, header::X_CONTENT_TYPE_OPTIONS),
            Some("nosniff")
        );
        assert_eq!(get(&headers, header::STRICT_TRANSPORT_SECURITY), None);
    }

    #[test]
    fn a_form_other_sites_may_frame_keeps_its_policy_and_gets_no_frame_options() {
        let policy = "default-src 'none'; frame-ancestors 'self' https://www.exemple.fr";
        let headers = completed(Some(policy), true, true);
        assert_eq!(get(&headers, header::CONTENT_SECURITY_POLICY), Some(policy));
        assert_eq!(get(&headers, header::X_FRAME_OPTIONS), None);
        assert_eq!(get(&headers, header::REFERRER_POLICY), Some("no-referrer"));
        assert_eq!(get(&headers, header::STRICT_TRANSPORT_SECURITY), Some(HSTS));
        let own = completed(
            Some("default-src 'none'; frame-ancestors 'self'"),
            true,
            false,
        );
        assert_eq!(get(&own, header::X_FRAME_OPTIONS), Some("SAMEORIGIN"));
    }

    #[test]
    fn links_with_tokens_are_told_apart_from_the_api() {
        assert!(carries_tokens("/privacy/sign-in"));
        assert!(carries_tokens("/f/contact"));
        assert!(carries_tokens("/console/requests"));
        assert!(!carries_tokens("/api/v1/purposes"));
        assert!(!carries_tokens("/healthz"));
    }
}
