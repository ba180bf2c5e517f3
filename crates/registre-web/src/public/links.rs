//! The links of emails: `GET /f/confirm?token=` shows what a double opt-in link confirms
//! and a button (mail scanners open links; only the button confirms); `POST /f/confirm`
//! confirms. `GET /u?token=` and `POST /u` (RFC 8058 one-click, or the page's button)
//! withdraw, without signing in.
use super::pages;
use crate::i18n::{self, Messages};
use crate::layout::{self, Chrome};
use crate::state::AppState;
use askama::Template;
use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use registre_app::App;
use registre_app::forms::{LinkDone, LinkView};
use registre_app::tokens::TokenProblem;
use serde::Deserialize;

struct LinkForm {
    action: String,
    token: String,
    button: String,
}

#[derive(Template)]
#[template(path = "link.html")]
struct LinkPage {
    chrome: Chrome,
    t: &'static Messages,
    heading: String,
    problem: Option<String>,
    done: Option<String>,
    intro: String,
    purposes: Vec<String>,
    form: Option<LinkForm>,
    /// The receipt of each consent the link recorded.
    receipts: Vec<pages::LinkButton>,
}

#[derive(Deserialize)]
pub struct TokenQuery {
    token: Option<String>,
}

#[derive(Clone, Copy)]
enum Kind {
    Confirm,
    Unsubscribe,
}

impl Kind {
    fn heading(self, t: &Messages) -> &'static str {
        match self {
            Self::Confirm => t.confirm_heading,
            Self::Unsubscribe => t.unsubscribe_heading,
        }
    }

    fn action(self) -> &'static str {
        match self {
            Self::Confirm => "/f/confirm",
            Self::Unsubscribe => "/u",
        }
    }
}

async fn purpose_titles(app: &App, keys: &[String], t: &Messages) -> Vec<String> {
    let purposes = app.purposes().await.unwrap_or_default();
    keys.iter()
        .map(|k| {
            purposes
                .iter()
                .find(|p| p.key.as_str() == k)
                .map(|p| p.title.get(t.language).to_string())
                .unwrap_or_else(|| k.clone())
        })
        .collect()
}

async fn page(
    app: &App,
    kind: Kind,
    t: &'static Messages,
    status: StatusCode,
    fill: impl FnOnce(&mut LinkPage),
) -> Response {
    let heading = kind.heading(t);
    let mut page = LinkPage {
        chrome: Chrome::new(heading, pages::site_name(app).await),
        t,
        heading: heading.into(),
        problem: None,
        done: None,
        intro: String::new(),
        purposes: vec![],
        form: None,
        receipts: vec![],
    };
    fill(&mut page);
    layout::render(status, &page, "'self'")
}

async fn refused(app: &App, kind: Kind, headers: &HeaderMap, problem: TokenProblem) -> Response {
    let default = app
        .organisation()
        .await
        .map(|o| o.default_language)
        .unwrap_or_default();
    let t = layout::choose_language(None, headers, default);
    let (status, text) = match problem {
        TokenProblem::Invalid => (StatusCode::BAD_REQUEST, t.link_invalid),
        TokenProblem::Expired => (StatusCode::GONE, t.link_expired),
        TokenProblem::AlreadyUsed => (StatusCode::CONFLICT, t.link_used),
    };
    page(app, kind, t, status, |p| p.problem = Some(text.into())).await
}

async fn ask(
    app: &App,
    kind: Kind,
    headers: &HeaderMap,
    token: &str,
    opened: Result<LinkView, TokenProblem>,
) -> Response {
    match opened {
        Ok(view) => {
            let t = i18n::messages(view.language);
            let purposes = purpose_titles(app, &view.purposes, t).await;
            let (intro, button) = match kind {
                Kind::Confirm => (t.confirm_intro, t.confirm_button),
                Kind::Unsubscribe => (t.unsubscribe_intro, t.unsubscribe_button),
            };
            page(app, kind, t, StatusCode::OK, |p| {
                p.intro = intro.into();
                p.purposes = purposes;
                p.form = Some(LinkForm {
                    action: kind.action().into(),
                    token: token.into(),
                    button: button.into(),
                });
            })
            .await
        }
        Err(problem) => refused(app, kind, headers, problem).await,
    }
}

async fn answer(
    app: &App,
    kind: Kind,
    headers: &HeaderMap,
    result: registre_app::AppResult<Result<LinkDone, TokenProblem>>,
) -> Response {
    match result {
        Ok(Ok(done)) => {
            let t = i18n::messages(done.view.language);
            let changed = purpose_titles(app, &done.changed, t).await;
            let text = match (kind, changed.is_empty()) {
                (Kind::Confirm, false) => t.confirm_done,
                (Kind::Confirm, true) => t.confirm_nothing,
                (Kind::Unsubscribe, false) => t.unsubscribe_done,
                (Kind::Unsubscribe, true) => t.unsubscribe_nothing,
            };
            let receipts = done
                .events
                .iter()
                .zip(changed.iter())
                .map(|(event_id, title)| pages::LinkButton {
                    href: super::receipt::receipt_href(app, *event_id, t),
                    label: title.clone(),
                })
                .collect();
            page(app, kind, t, StatusCode::OK, |p| {
                p.done = Some(text.into());
                p.purposes = changed;
                p.receipts = receipts;
            })
            .await
        }
        Ok(Err(problem)) => refused(app, kind, headers, problem).await,
        Err(error) => {
            let default = app
                .organisation()
                .await
                .map(|o| o.default_language)
                .unwrap_or_default();
            pages::failure(app, layout::choose_language(None, headers, default), error).await
        }
    }
}

/// The token of a link's POST: in the query (RFC 8058 posts to the `List-Unsubscribe` URL
/// itself, with the body `List-Unsubscribe=One-Click`) or in the page's form.
async fn posted_token(query: TokenQuery, body: Body) -> String {
    if let Some(token) = query.token.filter(|t| !t.is_empty()) {
        return token;
    }
    let Ok(bytes) = axum::body::to_bytes(body, super::MAX_FORM_BODY).await else {
        return String::new();
    };
    serde_urlencoded::from_bytes::<Vec<(String, String)>>(&bytes)
        .ok()
        .and_then(|pairs| {
            pairs
                .into_iter()
                .find(|(name, _)| name == "token")
                .map(|(_, value)| value)
        })
        .unwrap_or_default()
}

pub async fn confirm_page(
    State(state): State<AppState>,
    Query(query): Query<TokenQuery>,
    headers: HeaderMap,
) -> Response {
    let token = query.token.unwrap_or_default();
    ask(
        &state.app,
        Kind::Confirm,
        &headers,
        &token,
        state.app.confirmation_link(&token),
    )
    .await
}

pub async fn confirm(
    State(state): State<AppState>,
    Query(query): Query<TokenQuery>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let token = posted_token(query, body).await;
    answer(
        &state.app,
        Kind::Confirm,
        &headers,
        state.app.confirm_consents(&token).await,
    )
    .await
}

pub async fn unsubscribe_page(
    State(state): State<AppState>,
    Query(query): Query<TokenQuery>,
    headers: HeaderMap,
) -> Response {
    let token = query.token.unwrap_or_default();
    ask(
        &state.app,
        Kind::Unsubscribe,
        &headers,
        &token,
        state.app.unsubscribe_link(&token),
    )
    .await
}

pub async fn unsubscribe(
    State(state): State<AppState>,
    Query(query): Query<TokenQuery>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let token = posted_token(query, body).await;
    answer(
        &state.app,
        Kind::Unsubscribe,
        &headers,
        state.app.unsubscribe(&token).await,
    )
    .await
}
