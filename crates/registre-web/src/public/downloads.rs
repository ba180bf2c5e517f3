//! Documents a touchpoint hands out once its form is sent (`touchpoint.download`), served
//! only through a signed link from the confirmation page.
use super::pages::{self, Problem};
use crate::layout;
use crate::state::AppState;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use registre_domain::Language;
use serde::Deserialize;

pub struct Document {
    pub key: &'static str,
    title: (&'static str, &'static str),
    file_name: (&'static str, &'static str),
    content: (&'static [u8], &'static [u8]),
}

impl Document {
    pub fn title(&self, language: Language) -> &'static str {
        match language {
            Language::Fr => self.title.0,
            Language::En => self.title.1,
        }
    }
}

const DOCUMENTS: &[Document] = &[Document {
    key: "gdpr_white_paper",
    title: (
        "Télécharger « Le RGPD en 10 questions »",
        "Download “GDPR in 10 questions”",
    ),
    file_name: ("le-rgpd-en-10-questions.txt", "gdpr-in-10-questions.txt"),
    content: (
        include_bytes!("../../downloads/gdpr-white-paper.fr.txt"),
        include_bytes!("../../downloads/gdpr-white-paper.en.txt"),
    ),
}];

pub fn find(key: &str) -> Option<&'static Document> {
    DOCUMENTS.iter().find(|d| d.key == key)
}

#[derive(Deserialize)]
pub struct DownloadQuery {
    token: Option<String>,
}

pub async fn download(
    State(state): State<AppState>,
    Query(query): Query<DownloadQuery>,
    headers: HeaderMap,
) -> Response {
    let app = &state.app;
    let opened = app.open_download(query.token.as_deref().unwrap_or(""));
    let Some((document, language)) = opened
        .ok()
        .and_then(|(key, language)| Some((find(&key)?, language)))
    else {
        let default = app
            .organisation()
            .await
            .map(|o| o.default_language)
            .unwrap_or_default();
        return pages::problem(
            app,
            layout::choose_language(None, &headers, default),
            Problem::NotFound,
        )
        .await;
    };
    let (file_name, content) = match language {
        Language::Fr => (document.file_name.0, document.content.0),
        Language::En => (document.file_name.1, document.content.1),
    };
    let disposition = HeaderValue::from_str(&format!("attachment; filename=\"{file_name}\""))
        .unwrap_or(HeaderValue::from_static("attachment"));
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; charset=utf-8"),
            ),
            (header::CONTENT_DISPOSITION, disposition),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("private, no-store"),
            ),
        ],
        content,
    )
        .into_response()
}
