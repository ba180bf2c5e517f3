//! Extractors whose rejections speak the API's JSON error shape.
use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use registre_app::Principal;
use registre_domain::role::Permission;
use std::marker::PhantomData;

/// JSON body: malformed JSON is a 400, well-formed JSON of the wrong shape a 422, too large
/// a 413. Every body the API documents is an object: a top-level array, which serde would
/// read as a struct's fields in order (`[]` as all defaults), is a 422 unless `ARRAYS`
/// (the bulk import, whose body may be a bare array of items).
pub struct Json<T, const ARRAYS: bool = false>(pub T);

impl<T, S, const ARRAYS: bool> FromRequest<S> for Json<T, ARRAYS>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !json_content_type(req.headers()) {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "send the body as JSON with Content-Type: application/json",
            ));
        }
        let bytes = match axum::body::Bytes::from_request(req, state).await {
            Ok(bytes) => bytes,
            Err(rejection) => {
                return Err(json_rejection(JsonRejection::BytesRejection(rejection)));
            }
        };
        if !ARRAYS && bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[') {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_body",
                "the body must be a JSON object, not an array",
            ));
        }
        match axum::Json::<T>::from_bytes(&bytes) {
            Ok(axum::Json(value)) => Ok(Self(value)),
            Err(rejection) => Err(json_rejection(rejection)),
        }
    }
}

/// `application/json`, or a `+json` type, as axum's own `Json` takes.
fn json_content_type(headers: &axum::http::HeaderMap) -> bool {
    let Some(value) = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let essence = value
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

fn json_rejection(rejection: JsonRejection) -> ApiError {
    match rejection {
        JsonRejection::JsonDataError(e) => ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
            e.body_text(),
        ),
        JsonRejection::JsonSyntaxError(e) => {
            ApiError::new(StatusCode::BAD_REQUEST, "malformed_json", e.body_text())
        }
        JsonRejection::MissingJsonContentType(_) => ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send the body as JSON with Content-Type: application/json",
        ),
        JsonRejection::BytesRejection(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                "the request body is too large",
            )
        }
        other => ApiError::bad_request(other.body_text()),
    }
}

pub struct Query<T>(pub T);

impl<T, S> FromRequestParts<S> for Query<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(value)) => Ok(Self(value)),
            Err(QueryRejection::FailedToDeserializeQueryString(e)) => {
                Err(ApiError::bad_request(e.body_text()))
            }
            Err(other) => Err(ApiError::bad_request(other.body_text())),
        }
    }
}

/// What a route needs, as a type: `Caller<ManageRegisters>` in a handler's arguments is the
/// route's declaration of its permission, checked before the handler runs.
pub trait Need {
    const PERMISSION: Permission;
}

pub struct Read;
pub struct OperateSubjects;
pub struct ManageRegisters;
pub struct Administer;

impl Need for Read {
    const PERMISSION: Permission = Permission::Read;
}
impl Need for OperateSubjects {
    const PERMISSION: Permission = Permission::OperateSubjects;
}
impl Need for ManageRegisters {
    const PERMISSION: Permission = Permission::ManageRegisters;
}
impl Need for Administer {
    const PERMISSION: Permission = Permission::Administer;
}

/// An authenticated API caller holding the permission `N`.
pub struct Caller<N: Need> {
    pub principal: Principal,
    _need: PhantomData<N>,
}

impl<N: Need + Send + Sync> FromRequestParts<AppState> for Caller<N> {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let header = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok());
        let token = header
            .and_then(|h| {
                h.strip_prefix("Bearer ")
                    .or_else(|| h.strip_prefix("bearer "))
            })
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or(registre_app::AppError::Unauthorized)?;
        let principal = state.app.authenticate_api_key(token).await?;
        state.api_limits.check_key(&principal.actor)?;
        principal.require(N::PERMISSION)?;
        Ok(Self {
            principal,
            _need: PhantomData,
        })
    }
}
