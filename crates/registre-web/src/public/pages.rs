//! Pages that only say something: not found, too large, too many, altered, failed.
use crate::i18n::Messages;
use crate::layout::{self, Chrome};
use askama::Template;
use axum::http::StatusCode;
use axum::response::Response;
use registre_app::{App, AppError};

pub struct LinkButton {
    pub href: String,
    pub label: String,
}

#[derive(Template)]
#[template(path = "message.html")]
pub struct MessagePage {
    pub chrome: Chrome,
    pub t: &'static Messages,
    pub heading: String,
    pub paragraphs: Vec<String>,
    pub link: Option<LinkButton>,
}

/// What went wrong, in terms a visitor can act on.
pub enum Problem {
    NotFound,
    TooLarge {
        form_href: Option<String>,
    },
    RateLimited(u64),
    /// A field or box the form never had, or a notice version that is not the form's.
    Forged {
        form_href: String,
    },
    /// The honeypot was filled in.
    Automated {
        form_href: String,
    },
    Unsupported {
        form_href: String,
    },
    Internal,
}

impl Problem {
    fn status(&self) -> StatusCode {
        match self {
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::RateLimited(_) => StatusCode::TOO_MANY_REQUESTS,
            Self::Forged { .. } | Self::Automated { .. } => StatusCode::BAD_REQUEST,
            Self::Unsupported { .. } => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

/// The organisation's name for the header, or Registre's when it cannot be read.
pub async fn site_name(app: &App) -> String {
    app.organisation()
        .await
        .map(|o| o.name)
        .unwrap_or_else(|_| "Registre".into())
}

/// The page of a problem, with its status.
pub async fn problem(app: &App, t: &'static Messages, problem: Problem) -> Response {
    let back = |href: &Option<String>| {
        href.as_ref().map(|href| LinkButton {
            href: href.clone(),
            label: t.back_to_form.into(),
        })
    };
    let (heading, paragraphs, link): (&str, Vec<String>, Option<LinkButton>) = match &problem {
        Problem::NotFound => (
            t.not_found_heading,
            vec![t.not_found.into()],
            Some(LinkButton {
                href: format!("/?lang={}", t.code()),
                label: t.not_found_back.into(),
            }),
        ),
        Problem::TooLarge { form_href } => (
            t.too_large_heading,
            vec![t.too_large.into(), t.nothing_recorded.into()],
            back(form_href),
        ),
        Problem::RateLimited(seconds) => {
            (t.rate_limited_heading, vec![t.rate_limited(*seconds)], None)
        }
        Problem::Forged { form_href } => (
            t.forged_heading,
            vec![t.forged.into()],
            back(&Some(form_href.clone())),
        ),
        Problem::Automated { form_href } => (
            t.forged_heading,
            vec![t.automated.into()],
            back(&Some(form_href.clone())),
        ),
        Problem::Unsupported { form_href } => (
            t.forged_heading,
            vec![t.unsupported.into(), t.nothing_recorded.into()],
            back(&Some(form_href.clone())),
        ),
        Problem::Internal => (t.internal_heading, vec![t.internal.into()], None),
    };
    let page = MessagePage {
        chrome: Chrome::new(heading, site_name(app).await),
        t,
        heading: heading.into(),
        paragraphs,
        link,
    };
    layout::render(problem.status(), &page, "'self'")
}

/// The page for an application error that is not the visitor's doing: logged, not shown.
/// The organisation and the language of a public page (`?lang=`, else the browser's, else
/// the organisation's); the error page when the organisation cannot be read.
pub async fn organisation_and_language(
    app: &App,
    asked: Option<&str>,
    headers: &axum::http::HeaderMap,
) -> Result<
    (
        registre_domain::organisation::Organisation,
        &'static Messages,
    ),
    Response,
> {
    match app.organisation().await {
        Ok(organisation) => {
            let t = crate::layout::choose_language(asked, headers, organisation.default_language);
            Ok((organisation, t))
        }
        Err(error) => {
            let t = crate::layout::choose_language(asked, headers, Default::default());
            Err(failure(app, t, error).await)
        }
    }
}

pub async fn failure(app: &App, t: &'static Messages, error: AppError) -> Response {
    match error {
        AppError::NotFound(_) => problem(app, t, Problem::NotFound).await,
        AppError::RateLimited => problem(app, t, Problem::RateLimited(60)).await,
        other => {
            tracing::error!(error = %other, "a public page failed");
            problem(app, t, Problem::Internal).await
        }
    }
}
