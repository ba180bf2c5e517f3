//! The JSON error shape of PRODUCT.md, produced in one place for every API failure.
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use registre_app::AppError;
use registre_domain::DomainError;
use registre_store::StoreError;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    /// Sent as `Retry-After` (whole seconds, at least one): on 429 answers.
    pub retry_after: Option<std::time::Duration>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            retry_after: None,
        }
    }

    /// The same error, telling the client when to try again.
    pub fn retry_after(mut self, wait: std::time::Duration) -> Self {
        self.retry_after = Some(wait);
        self
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    /// 503 `not_ready`: the server is starting (or its store does not answer); try again in
    /// a second.
    pub fn not_ready(message: impl Into<String>) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, "not_ready", message)
            .retry_after(std::time::Duration::from_secs(1))
    }
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// Stable snake_case code.
    pub code: String,
    pub message: String,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code.to_string(),
                message: self.message,
            },
        };
        let mut response = (self.status, axum::Json(body)).into_response();
        if let Some(wait) = self.retry_after {
            let seconds = wait.as_secs_f64().ceil().max(1.0) as u64;
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, seconds.into());
        }
        response
    }
}

impl From<AppError> for ApiError {
    fn from(error: AppError) -> Self {
        match error {
            AppError::Domain(DomainError::Invalid { field, message }) => Self::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_field",
                format!("{field}: {message}"),
            ),
            AppError::Domain(DomainError::Rule(message)) => {
                Self::new(StatusCode::UNPROCESSABLE_ENTITY, "rule_violated", message)
            }
            AppError::Unauthorized => Self::new(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "a valid API key is required: send Authorization: Bearer <api key>",
            ),
            AppError::Forbidden(permission) => Self::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                format!("your role does not have the {permission} permission"),
            ),
            AppError::NotFound(what) => Self::not_found(format!("{what} not found")),
            AppError::Conflict(message) => Self::new(StatusCode::CONFLICT, "conflict", message),
            AppError::TooLarge(message) => {
                Self::new(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", message)
            }
            AppError::RateLimited => Self::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                "too many requests; slow down",
            )
            .retry_after(std::time::Duration::from_secs(60)),
            AppError::Store(StoreError::NotFound) => Self::not_found("not found"),
            AppError::Store(StoreError::Conflict { constraint }) => Self::new(
                StatusCode::CONFLICT,
                "conflict",
                format!("this record already exists ({constraint})"),
            ),
            AppError::Store(StoreError::Retryable(message)) => {
                tracing::warn!(%message, "temporary storage failure");
                Self::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "unavailable",
                    "storage is busy; try again",
                )
            }
            AppError::Internal(message) => {
                tracing::error!(%message, "internal error");
                Self::internal()
            }
            other => {
                // Internal details are logged, never echoed.
                tracing::error!(error = %other, "internal error");
                Self::internal()
            }
        }
    }
}

impl ApiError {
    /// 500 `internal`, saying nothing of what failed: that is in the log.
    fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "an internal error occurred; it has been logged",
        )
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mail_or_serialisation_failure_is_a_500_that_echoes_nothing_of_it() {
        let error = ApiError::from(AppError::internal("mail: relay smtp.internal:587 refused"));
        assert_eq!(error.status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(error.code, "internal");
        assert!(!error.message.contains("smtp"), "{}", error.message);
    }
}
