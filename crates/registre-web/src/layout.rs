//! The frame every page a person reads shares (`templates/base.html`), and the one function
//! that turns a template into a response with the security headers of public pages. The
//! privacy portal and the console reuse both.
use crate::i18n::{self, Messages};
use askama::Template;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use registre_domain::Language;

/// What `base.html` needs besides the messages: every page struct has a `chrome` and a `t`.
pub struct Chrome {
    /// The page's own title; the site name follows it in `<title>`.
    pub title: String,
    /// The organisation's name, in the header.
    pub site_name: String,
    /// Without header and footer, to sit in another site's frame.
    pub embed: bool,
    /// This page in the other language, when it has one.
    pub other_language_href: Option<String>,
    pub privacy_policy_url: Option<String>,
}

impl Chrome {
    pub fn new(title: impl Into<String>, site_name: impl Into<String>) -> Self {
        Self {
            title: title.into(),
            site_name: site_name.into(),
            embed: false,
            other_language_href: None,
            privacy_policy_url: None,
        }
    }
}

/// The language a person reads: the one asked for (`?lang=`, a form's `lang` field), else
/// the browser's, else the organisation's.
pub fn choose_language(
    asked: Option<&str>,
    headers: &HeaderMap,
    default: Language,
) -> &'static Messages {
    let language = asked
        .and_then(Language::parse)
        .or_else(|| {
            headers
                .get(header::ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok())
                .and_then(Language::from_accept_language)
        })
        .unwrap_or(default);
    i18n::messages(language)
}

/// Who may frame a page: `'self'` and the origins a touchpoint lists.
pub fn frame_ancestors(origins: &[String]) -> String {
    std::iter::once("'self'")
        .chain(origins.iter().map(String::as_str))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The policy of every public page: nothing but our own stylesheet and forms posting to
/// us; no script at all, inline or not.
pub fn content_security_policy(frame_ancestors: &str) -> String {
    format!(
        "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors {frame_ancestors}"
    )
}

/// Renders `page` with `status` and the public pages' headers. Pages carry single-use
/// tokens, so none is cached.
pub fn render(status: StatusCode, page: &impl Template, frame_ancestors: &str) -> Response {
    match page.render() {
        Ok(html) => {
            let mut response = (status, html).into_response();
            let headers = response.headers_mut();
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            );
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            if let Ok(value) = HeaderValue::from_str(&content_security_policy(frame_ancestors)) {
                headers.insert(header::CONTENT_SECURITY_POLICY, value);
            }
            response
        }
        Err(error) => {
            tracing::error!(%error, "a page could not be rendered");
            (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
        }
    }
}
