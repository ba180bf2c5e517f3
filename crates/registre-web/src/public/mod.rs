//! The pages a visitor sees without signing in: touchpoint forms and their notices, the
//! confirmation and withdrawal links of emails, downloads. Server-rendered HTML that works
//! without JavaScript, under a CSP that allows no script at all; its own body limit (64 KiB)
//! and per-address rate limits, each answered with a page in the person's language.
mod downloads;
mod forms;
mod hub;
pub(crate) mod limits;
mod links;
mod mail;
pub(crate) mod notice;
pub(crate) mod pages;
mod policy;
/// The privacy portal (`/privacy`): sign-in by email link, consents, requests, downloads.
pub mod portal;
pub(crate) mod receipt;
mod texts;

pub use limits::PublicLimits;

use crate::layout;
use crate::state::AppState;
use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use std::sync::Arc;
use tower_http::set_header::SetResponseHeaderLayer;

/// Largest form body accepted; larger ones get a 413 page.
pub const MAX_FORM_BODY: usize = 64 * 1024;

const STYLESHEET: &str = include_str!("../../static/registre.css");
const FORMS_STYLESHEET: &str = include_str!("../../static/forms.css");

/// The public pages, with their own limits and headers.
pub(crate) fn router(state: AppState, limits: PublicLimits) -> Router<AppState> {
    let limiter = Arc::new(limits::Limiter::new(&limits));
    Router::new()
        .route("/", get(hub::show))
        .route("/policy", get(policy::show))
        .route("/r/{token}", get(receipt::show))
        .route("/r/{token}/receipt.json", get(receipt::download))
        .route("/f/confirm", get(links::confirm_page).post(links::confirm))
        .route("/u", get(links::unsubscribe_page).post(links::unsubscribe))
        .route("/f/{touchpoint}", get(forms::show).post(forms::submit))
        .route("/f/{touchpoint}/notice", get(notice::show))
        .route("/f/{touchpoint}/thanks", get(forms::thanks))
        .route("/f/{touchpoint}/download", get(downloads::download))
        .layer(axum::middleware::from_fn_with_state(
            (state, limiter),
            rate_limit,
        ))
        .route("/static/registre.css", get(stylesheet))
        .route("/static/forms.css", get(forms_stylesheet))
        .route("/static/brand.css", get(brand_stylesheet))
        .layer(DefaultBodyLimit::max(MAX_FORM_BODY))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        // Links carry tokens: never pass them on to another site.
        .layer(SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_str(&layout::content_security_policy("'self'"))
                .unwrap_or(HeaderValue::from_static("default-src 'none'")),
        ))
}

async fn stylesheet() -> Response {
    css(STYLESHEET, "public, max-age=3600")
}

async fn forms_stylesheet() -> Response {
    css(FORMS_STYLESHEET, "public, max-age=3600")
}

/// The organisation's colour as the public pages' `--brand`, with the text colour that keeps
/// AA contrast on it, and links in its shade readable on white. A stylesheet of its own, so
/// that the pages keep `style-src 'self'`; revalidated, as the settings may change.
async fn brand_stylesheet(State(state): State<AppState>) -> Response {
    let colour = state
        .app
        .organisation()
        .await
        .ok()
        .and_then(|o| o.brand_color)
        .and_then(|c| registre_domain::organisation::Rgb::parse(&c));
    css(brand_css(colour), "no-cache")
}

/// The sheet [`brand_stylesheet`] serves; empty without a colour (the defaults stand).
pub(crate) fn brand_css(colour: Option<registre_domain::organisation::Rgb>) -> String {
    let Some(colour) = colour else {
        return "/* No brand colour set: the defaults of registre.css apply. */\n".into();
    };
    let link = colour.readable_on_white(4.5);
    let link_dark = link.darken(0.25);
    let soft = registre_domain::organisation::Rgb(
        (u16::from(colour.0) * 12 / 100 + 255 * 88 / 100) as u8,
        (u16::from(colour.1) * 12 / 100 + 255 * 88 / 100) as u8,
        (u16::from(colour.2) * 12 / 100 + 255 * 88 / 100) as u8,
    );
    format!(
        ":root {{\n  --brand: {brand};\n  --on-brand: {on_brand};\n  --accent: {link};\n  --accent-dark: {link_dark};\n  --accent-soft: {soft};\n  --on-accent: {on_link};\n}}\n",
        brand = colour.hex(),
        on_brand = colour.text_on().hex(),
        link = link.hex(),
        link_dark = link_dark.hex(),
        soft = soft.hex(),
        on_link = link.text_on().hex(),
    )
}

fn css(body: impl Into<String>, cache: &'static str) -> Response {
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/css; charset=utf-8"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static(cache)),
        ],
        body.into(),
    )
        .into_response()
}

/// Counts each request against its address: form posts against a tight budget, pages
/// against a generous one; over budget, a 429 page that says when to try again.
async fn rate_limit(
    State((state, limiter)): State<(AppState, Arc<limits::Limiter>)>,
    request: Request,
    next: Next,
) -> Response {
    let submission = request.method() == Method::POST;
    let address = limiter.client_address(&request);
    if let Err(retry_after) = limiter.check(address, submission) {
        let seconds = retry_after.as_secs().max(1);
        let organisation = state.app.organisation().await.ok();
        let default = organisation
            .as_ref()
            .map(|o| o.default_language)
            .unwrap_or_default();
        let asked = query_language(request.uri().query());
        let t = layout::choose_language(asked.as_deref(), request.headers(), default);
        let mut response =
            pages::problem(&state.app, t, pages::Problem::RateLimited(seconds)).await;
        if let Ok(value) = HeaderValue::from_str(&seconds.to_string()) {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        return response;
    }
    next.run(request).await
}

/// `lang` from a query string, for pages answered before their handler runs.
fn query_language(query: Option<&str>) -> Option<String> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query?).ok()?;
    pairs
        .into_iter()
        .find(|(name, _)| name == "lang")
        .map(|(_, value)| value)
}

/// Whether a query flag such as `embed=1` is set.
fn flag(value: Option<&str>) -> bool {
    matches!(value, Some("1" | "true" | "yes"))
}

/// The browser's form cookie: a random value the form tokens are bound to (double submit).
mod cookie {
    use super::HeaderMap;
    use axum::http::header;

    /// Over https the `__Host-` prefix pins the cookie to our origin, path `/`, `Secure`.
    pub const NAME: &str = "registre_form";
    pub const SECURE_NAME: &str = "__Host-registre_form";
    const MAX_AGE_SECONDS: i64 = 12 * 3600;

    pub fn read(headers: &HeaderMap) -> Option<String> {
        headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .find(|(name, value)| (*name == NAME || *name == SECURE_NAME) && well_formed(value))
            .map(|(_, value)| value.to_string())
    }

    fn well_formed(value: &str) -> bool {
        value.len() == 43
            && value
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    }

    /// The `Set-Cookie` value. Over https the cookie is `SameSite=None; Secure; Partitioned`
    /// so that a form embedded in another site's frame still gets it back (CSRF safety
    /// comes from the token bound to it, not from SameSite); over plain http browsers
    /// refuse `SameSite=None`, so it is `Lax` and embedding needs https.
    pub fn set(secure: bool, value: &str) -> String {
        if secure {
            format!(
                "{SECURE_NAME}={value}; Path=/; Max-Age={MAX_AGE_SECONDS}; HttpOnly; Secure; SameSite=None; Partitioned"
            )
        } else {
            format!("{NAME}={value}; Path=/; Max-Age={MAX_AGE_SECONDS}; HttpOnly; SameSite=Lax")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::cookie;

    #[test]
    fn over_https_the_form_cookie_follows_the_form_into_other_sites_frames() {
        let secure = cookie::set(true, "v");
        assert!(secure.starts_with("__Host-registre_form=v; Path=/;"));
        for attribute in ["HttpOnly", "Secure", "SameSite=None", "Partitioned"] {
            assert!(secure.contains(attribute), "{secure}");
        }
        let plain = cookie::set(false, "v");
        assert!(
            plain.contains("SameSite=Lax") && !plain.contains("Secure"),
            "{plain}"
        );
    }

    #[test]
    fn only_a_well_formed_cookie_is_read() {
        let mut headers = axum::http::HeaderMap::new();
        let value = "a".repeat(43);
        headers.insert(
            axum::http::header::COOKIE,
            format!("other=1; registre_form={value}")
                .parse()
                .unwrap_or_else(|_| unreachable!()),
        );
        assert_eq!(cookie::read(&headers), Some(value));
        headers.insert(
            axum::http::header::COOKIE,
            "registre_form=short"
                .parse()
                .unwrap_or_else(|_| unreachable!()),
        );
        assert_eq!(cookie::read(&headers), None);
    }
}
